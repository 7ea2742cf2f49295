//! `ilot import FILE` (and `ilot import csv FILE`, the older spelling): the exports patients
//! have — LibreView, Dexcom Clarity, CareLink, Nightscout — and Ilot's simple CSV, the format
//! read from the file. Gather (the file's bytes; the entries already stored over its period) →
//! decide (pure, `ilot-import`: rows become entries or rejections; what another source already
//! holds is left out) → apply (store, in transactions of `CHUNK` entries).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::TimeDelta;
use clap::Args;
use ilot_domain::{Entry, GlucoseUnit, ReadingType};
use ilot_import::{Counts, DateOrder, Options, Rejected, Row, overlap};
use serde::Serialize;

use crate::context::Ctx;
use crate::timearg;

/// Entries per transaction: a kill mid-import keeps whole chunks, a re-run adds the rest.
pub const CHUNK: usize = 5_000;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export: LibreView, Dexcom Clarity, CareLink, Nightscout (entries.csv or JSON), or a
    /// CSV with `time` and `glucose` (or `gl`) columns. `ilot import csv FILE` is the same.
    #[arg(value_name = "FILE", num_args = 1..=2, required = true)]
    pub paths: Vec<PathBuf>,
    /// Unit of a simple CSV's glucose column (the vendor exports say theirs)
    #[arg(long)]
    pub unit: Option<GlucoseUnit>,
    /// Zone of times written without offset (default: the patient's profile)
    #[arg(long)]
    pub tz: Option<String>,
    /// dmy or mdy, when the file's dates cannot tell (no day above 12)
    #[arg(long = "date-order")]
    pub date_order: Option<String>,
    /// Subject to import when a simple CSV has an `id` column with several subjects
    #[arg(long)]
    pub subject: Option<String>,
    /// What a simple CSV's glucose column measures
    #[arg(long = "type", default_value = "interstitial")]
    pub reading_type: ReadingType,
    /// Show what the file holds (format, device, period, counts) and store nothing
    #[arg(long)]
    pub preview: bool,
    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

impl ImportArgs {
    fn file(&self) -> Result<&PathBuf> {
        match &self.paths[..] {
            [file] if file.as_os_str() == "csv" => {
                bail!("give the file to import: ilot import FILE")
            }
            [file] => Ok(file),
            [word, file] if word.as_os_str() == "csv" => Ok(file),
            [word, _] => bail!(
                "unexpected {:?}: use `ilot import FILE` (the format is read from the file)",
                word.display().to_string()
            ),
            _ => bail!("give one file to import"),
        }
    }
}

#[derive(Debug, Serialize)]
struct Outcome<'a> {
    file: String,
    format: &'static str,
    device: Option<&'a str>,
    serial: Option<&'a str>,
    from: Option<String>,
    to: Option<String>,
    /// What the file holds (entries read from it).
    counts: Counts,
    added: usize,
    /// Rows of this file already stored by an earlier import of it.
    duplicates: usize,
    /// Rows another source (Bluetooth, another export) already holds.
    already_present: usize,
    conflicts: Vec<Rejected>,
    rejected: &'a [Rejected],
    skipped: &'a std::collections::BTreeMap<String, usize>,
    /// Simple CSV: rows of other subjects left aside.
    other_subject_rows: usize,
    preview: bool,
}

pub fn run(ctx: &mut Ctx, args: &ImportArgs) -> Result<()> {
    let path = args.file()?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot open {}", path.display()))?;
    let tz = match &args.tz {
        Some(name) => timearg::parse_tz(name)?,
        None => ctx.tz,
    };
    let mut opts = Options::new(tz, ctx.now);
    opts.unit = args.unit;
    opts.subject = args.subject.clone();
    opts.reading_type = args.reading_type;
    opts.date_order = args
        .date_order
        .as_deref()
        .map(str::parse::<DateOrder>)
        .transpose()?;
    opts.fallback_origin = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "csv".into());
    let mut import = ilot_import::parse(&bytes, &opts)
        .with_context(|| format!("cannot import {}", path.display()))?;
    let rows = std::mem::take(&mut import.rows);
    let (counts, period) = (Counts::of(&rows), ilot_import::period(&rows));

    let mut outcome = Outcome {
        file: path.display().to_string(),
        format: import.format.name(),
        device: import.device.as_deref(),
        serial: import.serial.as_deref(),
        from: None,
        to: None,
        counts,
        added: 0,
        duplicates: 0,
        already_present: 0,
        conflicts: Vec::new(),
        rejected: &import.rejected,
        skipped: &import.skipped,
        other_subject_rows: import
            .skipped
            .get("rows of other subjects")
            .copied()
            .unwrap_or(0),
        preview: args.preview,
    };
    if let Some((from, to)) = period {
        outcome.from = Some(from.to_rfc3339());
        outcome.to = Some(to.to_rfc3339());
    }
    if !args.preview {
        apply(ctx, rows, &mut outcome)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print_outcome(&outcome, import.format.counts_items());
    }
    Ok(())
}

/// Stores what is new: rows another source already holds are left out, the rest goes to the
/// store in chunks (whose dedup key finds this file's own earlier import).
fn apply(ctx: &mut Ctx, rows: Vec<Row>, outcome: &mut Outcome) -> Result<()> {
    let Some((from, to)) = ilot_import::period(&rows) else {
        return Ok(());
    };
    let margin = TimeDelta::minutes(1);
    let stored: Vec<Entry> = ctx
        .store
        .entries(
            Some(from.to_utc() - margin),
            Some(to.to_utc() + margin),
            None,
            false,
        )?
        .into_iter()
        .map(|s| s.entry)
        .collect();
    let present = overlap::already_stored(&rows, &stored);
    let total = rows.len();
    let (lines, entries): (Vec<u64>, Vec<Entry>) = rows
        .into_iter()
        .zip(present)
        .filter(|(_, p)| !p)
        .map(|(r, _)| (r.line, r.entry))
        .unzip();
    outcome.already_present = total - entries.len();
    for (chunk, lines) in entries.chunks(CHUNK).zip(lines.chunks(CHUNK)) {
        let report = ctx.store.add_batch(chunk, ctx.now)?;
        outcome.added += report.added;
        outcome.duplicates += report.duplicates;
        for (index, existing) in report.conflicts {
            outcome.conflicts.push(Rejected {
                line: lines[index],
                reason: format!(
                    "a different {} from the same source at the same time is already stored \
                     (entry #{existing}); the stored one is kept",
                    chunk[index].kind.name()
                ),
                code: "conflict",
                params: serde_json::json!({ "kind": chunk[index].kind.name(), "entry": existing }),
            });
        }
    }
    Ok(())
}

fn print_outcome(o: &Outcome, items: bool) {
    println!(
        "{}: {} export{}{}",
        o.file,
        o.format,
        o.device.map(|d| format!(", {d}")).unwrap_or_default(),
        o.serial.map(|s| format!(" ({s})")).unwrap_or_default()
    );
    if let (Some(from), Some(to)) = (&o.from, &o.to) {
        println!("period {from} → {to}");
    }
    let c = &o.counts;
    println!(
        "in the file: {} glucose ({} scans), {} insulin, {} carbs, {} notes, {} other",
        c.glucose, c.scans, c.insulin, c.carbs, c.notes, c.other
    );
    if o.preview {
        println!("preview only: nothing stored");
    } else {
        println!(
            "{} entries imported, {} already imported from this file, {} already present from another source",
            o.added, o.duplicates, o.already_present
        );
    }
    if !o.skipped.is_empty() {
        let list: Vec<String> = o.skipped.iter().map(|(k, n)| format!("{n} {k}")).collect();
        println!("rows without data, left aside: {}", list.join(", "));
    }
    let unit = if items { "item" } else { "line" };
    for (title, rows) in [
        ("rows not imported", o.rejected),
        ("conflicting rows", &o.conflicts[..]),
    ] {
        if rows.is_empty() {
            continue;
        }
        println!("{} {title}:", rows.len());
        for r in rows.iter().take(50) {
            println!("  {unit} {}: {}", r.line, r.reason);
        }
        if rows.len() > 50 {
            println!(
                "  … and {} more (use --json for the full list)",
                rows.len() - 50
            );
        }
    }
}
