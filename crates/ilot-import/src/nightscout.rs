//! Nightscout: `entries.csv` (no header: `"<ISO UTC dateString>",<epoch ms>,<sgv mg/dL>,
//! "<direction>",<device>`, comma or tab), and the JSON arrays of `/api/v1/entries` (`sgv`
//! sensor readings, `mbg` meter readings; `cal` calibrations are skipped) and
//! `/api/v1/treatments` (`insulin` → bolus, correction for a `Correction Bolus`; `carbs`;
//! `glucose` of a `BG Check`, finger or sensor; notes). Times are instants (UTC). Temporary
//! basals and targets are not diary entries and are counted as skipped.

use chrono::{DateTime, TimeZone, Utc};
use ilot_domain::{
    Carbs, EntryKind, GlucoseLevel, GlucoseReading, GlucoseUnit, InsulinDelivery, InsulinDose,
    InsulinKind, MealContext, Note, ReadingType,
};
use serde_json::Value;

use crate::clock::When;
use crate::fields::{Draft, Gathered, field, number};
use crate::why::{Made, Why};
use crate::{Format, Import, Options, Result, err, origin};

pub(crate) fn looks_like_entries_csv(first_line: &str) -> bool {
    let sep = if first_line.contains('\t') { '\t' } else { ',' };
    let mut parts = first_line.split(sep).map(|p| p.trim().trim_matches('"'));
    let (Some(date), Some(ms)) = (parts.next(), parts.next()) else {
        return false;
    };
    DateTime::parse_from_rfc3339(date).is_ok() && ms.parse::<i64>().is_ok()
}

pub(crate) fn parse_csv(text: &str, opts: &Options) -> Result<Import> {
    let lines = crate::fields::Lines::new(text);
    let first = text.lines().next().unwrap_or("");
    let sep = if first.contains('\t') { b'\t' } else { b',' };
    let mut g = Gathered::new(Format::NightscoutCsv);
    for r in crate::fields::reader(text, sep).records() {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                g.reject(lines.at(e.position()), Why::csv_row(&e));
                continue;
            }
        };
        let line = lines.of(&r);
        if r.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let at = field(&r, Some(1))
            .and_then(|ms| ms.parse::<i64>().ok())
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .or_else(|| {
                field(&r, Some(0))
                    .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                    .map(|d| d.with_timezone(&Utc))
            });
        let Some(at) = at else {
            g.reject(line, Why::time(r.get(0).unwrap_or(""), ""));
            continue;
        };
        let Some(sgv) = field(&r, Some(2)) else {
            g.reject(line, Why::no_value("glucose", "no glucose value"));
            continue;
        };
        let device = field(&r, Some(4)).unwrap_or("");
        push(
            &mut g,
            line,
            device,
            "sgv",
            at,
            sgv_kind(sgv, ReadingType::Interstitial),
        );
    }
    Ok(g.finish(opts))
}

fn push(
    g: &mut Gathered,
    line: u64,
    device: &str,
    record: &'static str,
    at: DateTime<Utc>,
    kind: Made<EntryKind>,
) {
    match kind.and_then(|k| {
        origin("nightscout", device, record)
            .map(|o| (k, o))
            .map_err(|e| {
                Why::new(
                    "source-invalid",
                    serde_json::json!({ "serial": device }),
                    e.to_string(),
                )
            })
    }) {
        Ok((kind, origin)) => g.drafts.push(Draft {
            line,
            record,
            origin,
            when: When::Instant(at),
            kind,
        }),
        Err(reason) => g.reject(line, reason),
    }
}

fn sgv_kind(v: &str, t: ReadingType) -> Made<EntryKind> {
    let level = GlucoseLevel::parse(v, GlucoseUnit::MgPerDl).map_err(Why::from)?;
    Ok(EntryKind::Glucose(GlucoseReading::new(
        level,
        t,
        MealContext::Other,
    )))
}

pub(crate) fn parse_json(text: &str, opts: &Options) -> Result<Import> {
    let value: Value =
        serde_json::from_str(text).or_else(|e| err(format!("not valid JSON: {e}")))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(_) => vec![value],
        _ => return err("the JSON holds no Nightscout entries or treatments (an array expected)"),
    };
    let treatments = items.iter().any(|i| i.get("eventType").is_some());
    let mut g = Gathered::new(if treatments {
        Format::NightscoutTreatments
    } else {
        Format::NightscoutEntries
    });
    // A pump (looping systems, SMBs, temporary basals) delivers in 0.05 U steps; pens in 0.1 U.
    let pump = items.iter().any(|i| {
        i.get("bolus").is_some() || matches!(str_of(i, "eventType"), Some("SMB" | "Temp Basal"))
    });
    for (n, item) in items.iter().enumerate() {
        let line = n as u64 + 1;
        if treatments {
            treatment(&mut g, line, item, pump);
        } else {
            entry(&mut g, line, item);
        }
    }
    Ok(g.finish(opts))
}

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The domain's name of the value a Nightscout key holds (for the refusal's words).
fn what_of(key: &str) -> &'static str {
    match key {
        "insulin" => "insulin dose",
        "carbs" => "carbohydrates",
        _ => "glucose",
    }
}

fn num_of(v: &Value, key: &'static str) -> Option<Made<f64>> {
    let what = what_of(key);
    match v.get(key)? {
        Value::Null => None,
        // Nightscout writes 0 for "none" (a meal bolus without carbs).
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::Number(n) => n.as_f64().map(Ok),
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(number(what, s)),
        other => Some(Err(ilot_domain::DomainError::NotANumber {
            what,
            got: other.to_string(),
        }
        .into())),
    }
}

fn time_of(v: &Value, keys: &[&str]) -> Option<DateTime<Utc>> {
    for key in keys {
        match v.get(*key) {
            Some(Value::Number(n)) => {
                if let Some(at) = n
                    .as_i64()
                    .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
                {
                    return Some(at);
                }
            }
            Some(Value::String(s)) => {
                if let Ok(at) = DateTime::parse_from_rfc3339(s) {
                    return Some(at.with_timezone(&Utc));
                }
            }
            _ => {}
        }
    }
    None
}

fn entry(g: &mut Gathered, line: u64, item: &Value) {
    let device = str_of(item, "device").unwrap_or("");
    let Some(at) = time_of(item, &["date", "dateString", "sysTime"]) else {
        g.reject(line, Why::time("", " (entry without a readable date)"));
        return;
    };
    let (record, key, t) = match str_of(item, "type") {
        Some("sgv") | None => ("sgv", "sgv", ReadingType::Interstitial),
        Some("mbg") => ("mbg", "mbg", ReadingType::Capillary),
        Some(other) => {
            g.skip(&format!("{other} entries (not a reading)"));
            return;
        }
    };
    let kind = match num_of(item, key) {
        Some(Ok(v)) => sgv_kind(&v.to_string(), t),
        Some(Err(e)) => Err(e),
        None => Err(Why::no_value(
            "glucose",
            format!("{record} entry without a {key} value"),
        )),
    };
    push(g, line, device, record, at, kind);
}

fn treatment(g: &mut Gathered, line: u64, item: &Value, pump: bool) {
    let event = str_of(item, "eventType").unwrap_or("");
    let device = str_of(item, "enteredBy").unwrap_or("");
    let Some(at) = time_of(item, &["created_at", "timestamp", "date"]) else {
        g.reject(
            line,
            Why::time("", " (treatment without a readable created_at)"),
        );
        return;
    };
    let mut found = false;
    if let Some(units) = num_of(item, "insulin") {
        found = true;
        let kind = if event.contains("Correction") {
            InsulinKind::Correction
        } else {
            InsulinKind::Bolus
        };
        let delivery = if pump {
            InsulinDelivery::Pump
        } else {
            InsulinDelivery::Pen
        };
        let made = units.and_then(|u| {
            InsulinDose::new(u, kind, delivery)
                .map(EntryKind::Insulin)
                .map_err(Why::from)
        });
        push(g, line, device, "insulin", at, made);
    }
    if let Some(grams) = num_of(item, "carbs") {
        found = true;
        let made = grams.and_then(|n| {
            Carbs::new(n, str_of(item, "foodType").map(str::to_string))
                .map(EntryKind::Carbs)
                .map_err(Why::from)
        });
        push(g, line, device, "carbs", at, made);
    }
    if let Some(value) = num_of(item, "glucose") {
        found = true;
        let unit = match str_of(item, "units") {
            Some(u) if u.to_lowercase().starts_with("mmol") => GlucoseUnit::MmolPerLitre,
            _ => GlucoseUnit::MgPerDl,
        };
        let t = match str_of(item, "glucoseType") {
            Some("Sensor") => ReadingType::Interstitial,
            _ => ReadingType::Capillary,
        };
        let made = value.and_then(|v| {
            GlucoseLevel::parse(&v.to_string(), unit)
                .map(|l| EntryKind::Glucose(GlucoseReading::new(l, t, MealContext::Other)))
                .map_err(Why::from)
        });
        push(g, line, device, "bg-check", at, made);
    }
    let notes = str_of(item, "notes");
    let noted = matches!(
        event,
        "Note"
            | "Announcement"
            | "Question"
            | "Site Change"
            | "Sensor Start"
            | "Sensor Change"
            | "Insulin Change"
            | "Pump Battery Change"
            | "Exercise"
    );
    if notes.is_some() || noted {
        found = true;
        let text = match (noted, notes) {
            (true, Some(n)) => format!("{event}: {n}"),
            (true, None) => event.to_string(),
            (false, Some(n)) => n.to_string(),
            (false, None) => String::new(),
        };
        let made = Note::new(text).map(EntryKind::Note).map_err(Why::from);
        push(g, line, device, "note", at, made);
    }
    if !found {
        let why = if event.is_empty() {
            "treatment without data"
        } else {
            event
        };
        g.skip(&format!("{why} (not a diary entry)"));
    }
}
