//! `ilot report`: the consensus metrics (Battelino 2019) and the AGP of a window, as a table,
//! JSON or the one-page PDF (`--pdf FILE`, laid out by `ilot-report`). Every number comes from
//! `ilot-rules` through `ilot_report::compute`, so the JSON and the PDF hold the same results.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use ilot_domain::{Glucose, GlucoseUnit};
use ilot_report::Lang;
use ilot_rules::Level;
use ilot_rules::agp::{Agp, agp};
use ilot_rules::metrics::{Metrics, Window};
use serde::Serialize;

use crate::context::Ctx;
use crate::timearg;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Start of the window (default: 14 days before its end)
    #[arg(long)]
    pub from: Option<String>,
    /// End of the window, exclusive (default: just after the last reading)
    #[arg(long)]
    pub to: Option<String>,
    /// The whole recording
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub all: bool,
    #[arg(long, conflicts_with = "pdf")]
    pub json: bool,
    /// Write the one-page AGP report (PDF) to FILE
    #[arg(long, value_name = "FILE")]
    pub pdf: Option<PathBuf>,
    /// Language of the PDF: fr or en
    #[arg(long, default_value = "fr", value_parser = parse_lang, requires = "pdf")]
    pub lang: Lang,
}

fn parse_lang(s: &str) -> std::result::Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("unknown language {s:?}: use fr or en"))
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    #[serde(flatten)]
    metrics: &'a Metrics,
    agp: &'a Agp,
}

pub fn run(ctx: &Ctx, args: &ReportArgs) -> Result<()> {
    let points = ctx.store.glucose_points(None, None)?;
    let window = window(ctx, args, &points)?;
    let ranges = ilot_rules::assumed::ranges(ctx.store.prescription()?.as_ref());
    let profile = ctx.store.profile_or_default()?;
    let computed = ilot_report::compute(&ilot_report::Input {
        patient: ilot_report::Patient {
            pseudonym: profile.pseudonym,
            identity: profile.ins,
        },
        points: &points,
        window,
        tz: ctx.tz,
        ranges,
        unit: ctx.unit,
        generated_at: ctx.now,
    });
    let m = &computed.metrics;
    if let Some(file) = &args.pdf {
        let bytes = ilot_report::pdf(&computed, args.lang)?;
        write_file(file, &bytes)?;
        println!("{}", file.display());
    } else if args.json {
        // The app's 15-minute bins; the text chart below shows hours.
        let report = Report {
            from: window.from,
            to: window.to,
            metrics: m,
            agp: &computed.agp,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_metrics(ctx, window, m);
        print_agp(ctx.unit, &agp(&points, window, ctx.tz, 60));
    }
    Ok(())
}

/// Writes the whole file or nothing: a temporary file beside it, synced, then renamed.
fn write_file(file: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = file
        .file_name()
        .with_context(|| format!("{} is not a file name", file.display()))?;
    let tmp = dir.join(format!(".{}.part", name.to_string_lossy()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!("cannot write {}: {e}", file.display())
    })
}

fn window(ctx: &Ctx, args: &ReportArgs, points: &[ilot_rules::GlucosePoint]) -> Result<Window> {
    let after_last = points.last().map(|p| p.at + TimeDelta::seconds(1));
    if args.all {
        let (Some(first), Some(to)) = (points.first(), after_last) else {
            bail!("no glucose reading stored yet")
        };
        return Ok(Window::new(first.at, to));
    }
    let parse = |t: &Option<String>| -> Result<Option<DateTime<Utc>>> {
        t.as_deref()
            .map(|t| timearg::parse_at(t, ctx.tz, ctx.now).map(|t| t.to_utc()))
            .transpose()
    };
    let to = parse(&args.to)?.or(after_last).unwrap_or(ctx.now);
    let from = parse(&args.from)?.unwrap_or(to - TimeDelta::days(14));
    if from >= to {
        bail!("the window is empty: --from must be before --to");
    }
    Ok(Window::new(from, to))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.1} %"))
}

fn glucose(unit: GlucoseUnit, mg_dl: Option<f64>) -> String {
    match mg_dl.map(Glucose::from_mg_dl) {
        Some(Ok(g)) if unit != GlucoseUnit::MgPerDl => {
            format!("{} {unit} ({:.0} mg/dL)", g.format(unit, false), g.mg_dl())
        }
        Some(Ok(g)) => format!("{:.0} mg/dL", g.mg_dl()),
        Some(Err(_)) => format!("{:.0} mg/dL", mg_dl.unwrap_or_default()),
        None => "—".into(),
    }
}

fn print_metrics(ctx: &Ctx, w: Window, m: &Metrics) {
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&ctx.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    println!(
        "Glucose report, {} → {} ({:.1} days, {} readings)",
        local(w.from),
        local(w.to),
        m.window_days,
        m.n_readings
    );
    if !m.sufficient {
        println!(
            "INSUFFICIENT DATA for a consensus report: {}",
            m.insufficient_reasons.join("; ")
        );
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(["metric", "value", "consensus target"]);
    let rows: [(&str, String, &str); 12] = [
        ("time in range 70–180", pct(m.tir_percent), "> 70 %"),
        ("below 54 (level 2)", pct(m.below_54_percent), "< 1 %"),
        ("54–69 (level 1)", pct(m.between_54_69_percent), "< 4 %"),
        ("below 70", pct(m.below_70_percent), "< 4 %"),
        (
            "181–250 (level 1)",
            pct(m.between_181_250_percent),
            "< 25 %",
        ),
        ("above 250 (level 2)", pct(m.above_250_percent), "< 5 %"),
        ("mean glucose", glucose(ctx.unit, m.mean_mg_dl), ""),
        (
            "SD",
            m.sd_mg_dl.map_or("—".into(), |v| format!("{v:.1} mg/dL")),
            "",
        ),
        ("CV", pct(m.cv_percent), "≤ 36 %"),
        ("GMI", pct(m.gmi_percent), ""),
        ("CGM active time", pct(m.active_percent), "≥ 70 %"),
        (
            "hypo episodes (<70 / <54)",
            format!("{} / {}", m.hypo_level1_episodes, m.hypo_level2_episodes),
            "",
        ),
    ];
    for (name, value, target) in rows {
        t.add_row([name, &value, target]);
    }
    if let Some(p) = &m.pregnancy {
        t.add_row(["pregnancy: 63–140", &pct(p.tir_63_140_percent), "> 70 %"]);
        t.add_row(["pregnancy: below 63", &pct(p.below_63_percent), "< 4 %"]);
        t.add_row(["pregnancy: above 140", &pct(p.above_140_percent), "< 25 %"]);
    }
    if m.n_lo + m.n_hi > 0 {
        t.add_row([
            "LO / HI readings",
            &format!("{} / {}", m.n_lo, m.n_hi),
            "counted in the ranges, not in the mean",
        ]);
    }
    println!("{t}");
}

/// AGP in text, one row per bin (hourly bins): 5–95 % as `░`, 25–75 % as `▒`, the median as `█`, target 70–180 marked `|`.
fn print_agp(unit: GlucoseUnit, agp: &Agp) {
    const LO: f64 = 40.0;
    const HI: f64 = 320.0;
    const WIDTH: usize = 56;
    let col =
        |mg: f64| (((mg.clamp(LO, HI) - LO) / (HI - LO)) * (WIDTH - 1) as f64).round() as usize;
    let value = |l: Level| match l {
        Level::MgDl(v) => v,
        Level::Lo => LO,
        Level::Hi => HI,
    };
    println!(
        "AGP by hour (5–95 % ░, 25–75 % ▒, median █, target 70–180 mg/dL |; scale {LO}–{HI} mg/dL)"
    );
    for bin in &agp.bins {
        let hour = bin.start_minute / 60;
        let Some(p) = bin.percentiles else {
            println!("{hour:02}h  (no data)");
            continue;
        };
        let mut row = vec![' '; WIDTH];
        for c in [col(70.0), col(180.0)] {
            row[c] = '|';
        }
        for (a, b, ch) in [(p.p5, p.p95, '░'), (p.p25, p.p75, '▒')] {
            for cell in row.iter_mut().take(col(value(b)) + 1).skip(col(value(a))) {
                *cell = ch;
            }
        }
        row[col(value(p.p50))] = '█';
        let median = match p.p50 {
            Level::MgDl(v) => Glucose::from_mg_dl(v)
                .map(|g| g.format(unit, false))
                .unwrap_or_else(|_| format!("{v:.0}")),
            Level::Lo => "LO".into(),
            Level::Hi => "HI".into(),
        };
        println!(
            "{hour:02}h {} {median} {unit}",
            row.into_iter().collect::<String>()
        );
    }
}
