//! Ilot's simple CSV: a header with `time` (or `timestamp`), `glucose` (or `gl`) and optionally
//! `id` (research files with several subjects). The unit is given by the caller. Times are ISO
//! 8601, with an offset or local to the patient's zone. The origin is `import:<subject>` (or the
//! file's name), as before the vendor formats existed, so that re-importing an older file still
//! adds nothing.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use ilot_domain::{DeviceId, EntryKind, GlucoseLevel, GlucoseReading, MealContext};

use crate::clock::When;
use crate::fields::{Columns, Draft, Gathered, reader};
use crate::why::{Made, Why};
use crate::{Format, Import, ImportError, Options, Result, err};

pub(crate) fn parse(text: &str, opts: &Options) -> Result<Import> {
    let lines = crate::fields::Lines::new(text);
    let mut csv = reader(text, b',');
    let mut records = csv.records();
    let headers = match records.next() {
        Some(Ok(h)) => h,
        _ => return err("the file has no header row"),
    };
    let c = Columns::new(headers.iter());
    let list = || headers.iter().map(str::trim).collect::<Vec<_>>().join(", ");
    let Some(time_col) = c.find(|h| h == "time" || h == "timestamp") else {
        return err(format!(
            "no `time` column in the header ({}); the file needs `time` and `glucose` (or `gl`), \
             or is an export this version does not know",
            list()
        ));
    };
    let Some(gl_col) = c.find(|h| h == "glucose" || h == "gl") else {
        return err(format!(
            "no `glucose` (or `gl`) column in the header ({})",
            list()
        ));
    };
    let Some(unit) = opts.unit else {
        return err("this simple CSV does not say its unit: give --unit (mg/dL, mmol/L or g/L)");
    };
    let id_col = c.find(|h| h == "id" || h == "subject");

    let mut g = Gathered::new(Format::SimpleCsv);
    let mut rows = Vec::new();
    for r in records {
        match r {
            Ok(r) => {
                let f = |i: usize| r.get(i).unwrap_or("").trim().to_string();
                rows.push((lines.of(&r), id_col.map(f), f(time_col), f(gl_col)));
            }
            Err(e) => g.reject(lines.at(e.position()), Why::csv_row(&e)),
        }
    }
    let ids: BTreeSet<&str> = rows.iter().filter_map(|r| r.1.as_deref()).collect();
    let shown = || {
        let mut s: Vec<&str> = ids.iter().take(5).copied().collect();
        if ids.len() > 5 {
            s.push("…");
        }
        s.join(", ")
    };
    let subject = match (&opts.subject, id_col) {
        (Some(s), Some(_)) if !ids.contains(s.as_str()) => {
            return err(format!(
                "subject {s:?} is not in the file; subjects: {}",
                shown()
            ));
        }
        (Some(s), Some(_)) => Some(s.clone()),
        (Some(s), None) => {
            return err(format!(
                "--subject {s} given but the file has no `id` column"
            ));
        }
        (None, Some(_)) if ids.len() > 1 => {
            return err(format!(
                "the file holds {} subjects ({}); choose one with --subject",
                ids.len(),
                shown()
            ));
        }
        (None, Some(_)) => ids.iter().next().map(|s| s.to_string()),
        (None, None) => None,
    };
    let name = subject
        .clone()
        .unwrap_or_else(|| opts.fallback_origin.clone());
    let origin = DeviceId::new(format!("import:{name}")).map_err(|e| ImportError(e.to_string()))?;
    g.serial = Some(name);

    for (line, id, time, value) in rows {
        if subject.is_some() && id != subject {
            g.skip("rows of other subjects");
            continue;
        }
        let when = match read_time(&time) {
            Ok(w) => w,
            Err(reason) => {
                g.reject(line, reason);
                continue;
            }
        };
        if value.is_empty() || value.eq_ignore_ascii_case("na") {
            g.reject(
                line,
                Why::no_value("glucose", format!("no glucose value ({value:?})")),
            );
            continue;
        }
        match GlucoseLevel::parse(&value, unit) {
            Ok(level) => g.drafts.push(Draft {
                line,
                record: "glucose",
                origin: origin.clone(),
                when,
                kind: EntryKind::Glucose(GlucoseReading::new(
                    level,
                    opts.reading_type,
                    MealContext::Other,
                )),
            }),
            Err(e) => g.reject(line, e.into()),
        }
    }
    Ok(g.finish(opts))
}

fn read_time(time: &str) -> Made<When> {
    if time.is_empty() || time.eq_ignore_ascii_case("na") {
        return Err(Why::new(
            "time-unreadable",
            serde_json::json!({ "value": time }),
            format!("no time ({time:?})"),
        ));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(time) {
        return Ok(When::Instant(at.with_timezone(&Utc)));
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(time, f).ok())
    .map(When::Local)
    .ok_or_else(|| Why::time(time, " (ISO 8601 expected)"))
}
