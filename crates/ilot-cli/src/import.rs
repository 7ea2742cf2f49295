//! `ilot import csv`: glucose recordings exported as CSV (research files, LibreView/Clarity
//! exports reduced to time + glucose). Gather (read every row) → decide (pure: rows become
//! entries or rejections) → apply (store, in transactions of `CHUNK` rows).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use clap::Args;
use ilot_domain::{
    DeviceId, Entry, EntryKind, GlucoseLevel, GlucoseReading, GlucoseUnit, MealContext,
    ReadingType, Source,
};
use serde::Serialize;

use crate::context::Ctx;
use crate::timearg;

/// Rows per transaction: a kill mid-import keeps whole chunks, a re-run adds the rest.
const CHUNK: usize = 5_000;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// CSV file with a header row: `time`, `glucose` (or `gl`), optional `id`
    pub file: PathBuf,
    /// Unit of the glucose column
    #[arg(long)]
    pub unit: GlucoseUnit,
    /// Zone of times written without offset (default: the system's zone)
    #[arg(long)]
    pub tz: Option<String>,
    /// Subject to import when the file has an `id` column with several subjects
    #[arg(long)]
    pub subject: Option<String>,
    /// Kind of readings in the file
    #[arg(long = "type", default_value = "interstitial")]
    pub reading_type: ReadingType,
    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub origin: String,
    pub entries: Vec<(u64, Entry)>,
    pub rejected: Vec<Rejected>,
    pub other_subjects: usize,
}

#[derive(Debug, Serialize)]
struct Outcome<'a> {
    file: String,
    origin: &'a str,
    added: usize,
    duplicates: usize,
    conflicts: Vec<Rejected>,
    rejected: &'a [Rejected],
    other_subject_rows: usize,
}

pub struct Options {
    pub unit: GlucoseUnit,
    pub tz: Tz,
    pub subject: Option<String>,
    pub reading_type: ReadingType,
    /// Origin used when the file has no `id` column (the file's name).
    pub fallback_origin: String,
}

pub fn run(ctx: &mut Ctx, args: &ImportArgs) -> Result<()> {
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let tz = match &args.tz {
        Some(name) => timearg::parse_tz(name)?,
        None => timearg::system_tz(),
    };
    let stem = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "csv".into());
    let opts = Options {
        unit: args.unit,
        tz,
        subject: args.subject.clone(),
        reading_type: args.reading_type,
        fallback_origin: stem,
    };
    let parsed = parse(file, &opts, ctx.now)
        .with_context(|| format!("cannot import {}", args.file.display()))?;

    let (mut added, mut duplicates, mut conflicts) = (0, 0, Vec::new());
    for chunk in parsed.entries.chunks(CHUNK) {
        let entries: Vec<Entry> = chunk.iter().map(|(_, e)| e.clone()).collect();
        let report = ctx.store.add_batch(&entries, ctx.now)?;
        added += report.added;
        duplicates += report.duplicates;
        for (index, existing) in report.conflicts {
            conflicts.push(Rejected {
                line: chunk[index].0,
                reason: format!("a different reading from the same source at the same time is already stored (entry #{existing}); the stored one is kept"),
            });
        }
    }
    let outcome = Outcome {
        file: args.file.display().to_string(),
        origin: &parsed.origin,
        added,
        duplicates,
        conflicts,
        rejected: &parsed.rejected,
        other_subject_rows: parsed.other_subjects,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print_outcome(&outcome);
    }
    Ok(())
}

fn print_outcome(o: &Outcome) {
    println!(
        "{}: {} readings imported, {} already present (origin {})",
        o.file, o.added, o.duplicates, o.origin
    );
    if o.other_subject_rows > 0 {
        println!("{} rows of other subjects left aside", o.other_subject_rows);
    }
    for (title, rows) in [
        ("rows not imported", o.rejected),
        ("conflicting rows", &o.conflicts[..]),
    ] {
        if rows.is_empty() {
            continue;
        }
        println!("{} {title}:", rows.len());
        for r in rows.iter().take(50) {
            println!("  line {}: {}", r.line, r.reason);
        }
        if rows.len() > 50 {
            println!(
                "  … and {} more (use --json for the full list)",
                rows.len() - 50
            );
        }
    }
}

/// Reads the whole file and decides, row by row, what becomes an entry. Pure but for the reader.
pub fn parse(reader: impl Read, opts: &Options, now: DateTime<Utc>) -> Result<Parsed> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = csv.headers().context("the file has no header row")?.clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let Some(time_col) = find(&["time", "timestamp"]) else {
        bail!(
            "no `time` column in the header ({}); the file needs `time` and `glucose` (or `gl`)",
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    };
    let Some(gl_col) = find(&["glucose", "gl"]) else {
        bail!(
            "no `glucose` (or `gl`) column in the header ({})",
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    };
    let id_col = find(&["id", "subject"]);

    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for record in csv.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                let field = |i: usize| r.get(i).unwrap_or("").to_string();
                rows.push((line, id_col.map(field), field(time_col), field(gl_col)));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                rejected.push(Rejected {
                    line,
                    reason: format!("unreadable CSV row: {e}"),
                });
            }
        }
    }

    let subject = match (&opts.subject, id_col) {
        (Some(s), Some(_)) => {
            if !rows.iter().any(|(_, id, _, _)| id.as_deref() == Some(s)) {
                bail!(
                    "subject {s:?} is not in the file; subjects: {}",
                    list_subjects(&rows)
                );
            }
            Some(s.clone())
        }
        (Some(s), None) => bail!("--subject {s} given but the file has no `id` column"),
        (None, Some(_)) => {
            let ids: BTreeSet<_> = rows
                .iter()
                .filter_map(|(_, id, _, _)| id.as_deref())
                .collect();
            if ids.len() > 1 {
                bail!(
                    "the file holds {} subjects ({}); choose one with --subject",
                    ids.len(),
                    list_subjects(&rows)
                );
            }
            ids.into_iter().next().map(str::to_string)
        }
        (None, None) => None,
    };
    let origin = format!(
        "import:{}",
        subject
            .clone()
            .unwrap_or_else(|| opts.fallback_origin.clone())
    );
    let device = DeviceId::new(origin.clone())?;

    let mut parsed = Parsed {
        origin,
        rejected,
        ..Parsed::default()
    };
    for (line, id, time, value) in rows {
        if subject.is_some() && id != subject {
            parsed.other_subjects += 1;
            continue;
        }
        match row_entry(&time, &value, opts, &device, now) {
            Ok(entry) => parsed.entries.push((line, entry)),
            Err(reason) => parsed.rejected.push(Rejected { line, reason }),
        }
    }
    parsed.rejected.sort_by_key(|r| r.line);
    Ok(parsed)
}

fn row_entry(
    time: &str,
    value: &str,
    opts: &Options,
    device: &DeviceId,
    now: DateTime<Utc>,
) -> Result<Entry, String> {
    if time.is_empty() || time.eq_ignore_ascii_case("na") {
        return Err(format!("no time ({:?})", time));
    }
    let at = match chrono::DateTime::parse_from_rfc3339(time) {
        Ok(at) => at,
        Err(_) => {
            let naive = [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(time, f).ok())
            .ok_or_else(|| format!("cannot read the time {time:?} (ISO 8601 expected)"))?;
            timearg::local(naive, opts.tz).map_err(|e| e.to_string())?
        }
    };
    if value.is_empty() || value.eq_ignore_ascii_case("na") {
        return Err(format!("no glucose value ({value:?})"));
    }
    let level = GlucoseLevel::parse(value, opts.unit).map_err(|e| e.to_string())?;
    let reading = GlucoseReading::new(level, opts.reading_type, MealContext::Other);
    Entry::new(
        at,
        Source::import(device.clone()),
        EntryKind::Glucose(reading),
        now,
    )
    .map_err(|e| e.to_string())
}

fn list_subjects(rows: &[(u64, Option<String>, String, String)]) -> String {
    let ids: BTreeSet<_> = rows
        .iter()
        .filter_map(|(_, id, _, _)| id.as_deref())
        .collect();
    let mut shown: Vec<&str> = ids.iter().take(5).copied().collect();
    if ids.len() > 5 {
        shown.push("…");
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(subject: Option<&str>) -> Options {
        Options {
            unit: GlucoseUnit::MgPerDl,
            tz: chrono_tz::Europe::Paris,
            subject: subject.map(str::to_string),
            reading_type: ReadingType::Interstitial,
            fallback_origin: "file".into(),
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-22T00:00:00Z".parse().unwrap()
    }

    const FILE: &str = "\"id\",\"time\",\"gl\"\n\"a\",2014-10-01 19:14:00,185.4\n\"a\",NA,180\n\"a\",2014-10-01 19:24:00,abc\n\"b\",2014-10-01 19:14:00,90\n\"a\",2014-10-01 19:29:00,4000\n\"a\",2099-01-01 00:00:00,100\n\"a\",2014-03-30 02:30:00,100\n\"a\",2014-10-01 19:34:00,LO\n";

    #[test]
    fn several_subjects_need_a_choice() {
        let e = parse(FILE.as_bytes(), &opts(None), now())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "the file holds 2 subjects (a, b); choose one with --subject"
        );
    }

    #[test]
    fn bad_rows_are_listed_with_line_and_reason_and_the_rest_kept() {
        let p = parse(FILE.as_bytes(), &opts(Some("a")), now()).unwrap();
        assert_eq!(p.origin, "import:a");
        assert_eq!(p.other_subjects, 1);
        let lines: Vec<u64> = p.entries.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![2, 9]);
        let rejected: Vec<(u64, &str)> = p
            .rejected
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect();
        assert_eq!(rejected[0], (3, "no time (\"NA\")"));
        assert!(
            rejected[1].1.contains("glucose must be a number"),
            "{rejected:?}"
        );
        assert!(
            rejected[2].1.contains("outside the plausible range"),
            "{rejected:?}"
        );
        assert!(rejected[3].1.contains("in the future"), "{rejected:?}");
        assert!(rejected[4].1.contains("does not exist"), "{rejected:?}");
        assert_eq!(
            rejected.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![3, 4, 6, 7, 8]
        );
    }

    #[test]
    fn times_without_offset_are_local_in_the_given_zone() {
        let p = parse(FILE.as_bytes(), &opts(Some("a")), now()).unwrap();
        assert_eq!(p.entries[0].1.at.to_rfc3339(), "2014-10-01T19:14:00+02:00");
    }

    #[test]
    fn missing_columns_are_named() {
        let e = parse("when,gl\n".as_bytes(), &opts(None), now())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("no `time` column"), "{e}");
        let e = parse("time,value\n".as_bytes(), &opts(None), now())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("no `glucose`"), "{e}");
    }

    #[test]
    fn unknown_subject_lists_the_known_ones() {
        let e = parse(FILE.as_bytes(), &opts(Some("z")), now())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "subject \"z\" is not in the file; subjects: a, b");
    }
}
