//! Data portability (SPEC §2): every current entry (deleted ones left out), oldest first, as CSV
//! for a spreadsheet, as the patient's full HL7 FHIR R4 export (a `collection`) or as the ANS
//! "Mesures de santé" feed (one `transaction` bundle per observation, NDJSON: one bundle a line).
//! The FHIR mapping is `ilot_domain::fhir`. Used by `ilot export` and the app.
//!
//! A file is written beside its target and renamed into place once complete: a failed export
//! (a disk full, a value that cannot be written exactly) leaves no partial file and no earlier
//! file damaged.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::fhir::{self, Exported, Gmi};
use ilot_domain::{EntryKind, GlucoseLevel};

use crate::{Result, Store, StoreError, StoredEntry};

/// Which FHIR shape to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FhirShape {
    /// The patient's full export: one `collection` bundle (JSON).
    Collection,
    /// The ANS feed: one `transaction` bundle per observation, one per line (NDJSON).
    Feed,
}

/// Writes `target` through `<target>.part`, renamed into place only when `write` succeeded.
fn atomically(
    target: &Path,
    write: impl FnOnce(std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let part = PathBuf::from(format!("{}.part", target.display()));
    let io = |source| StoreError::Io {
        path: target.to_path_buf(),
        source,
    };
    let done = std::fs::File::create(&part)
        .and_then(write)
        .and_then(|()| std::fs::rename(&part, target));
    if let Err(e) = done {
        let _ = std::fs::remove_file(&part);
        return Err(io(e));
    }
    Ok(())
}

/// The CSV export; returns the number of rows.
pub fn write_csv(store: &Store, target: &Path) -> Result<usize> {
    let entries = store.entries(None, None, None, false)?;
    let mut n = 0;
    atomically(target, |f| csv_rows(&entries, f).map(|rows| n = rows))?;
    Ok(n)
}

/// The GMI of the last 14 days of readings when they make a consensus report (≥ 14 days, ≥ 70 %
/// CGM active); none otherwise (a GMI of a few days would mislead).
fn gmi(store: &Store) -> Result<Option<Gmi>> {
    let points = store.glucose_points(None, None)?;
    let Some(last) = points.iter().rev().find(|p| p.cgm) else {
        return Ok(None);
    };
    let to = last.at + TimeDelta::seconds(1);
    let window = ilot_rules::metrics::Window::new(to - TimeDelta::days(14), to);
    let ranges = ilot_rules::assumed::ranges(store.prescription()?.as_ref());
    let m = ilot_rules::metrics::metrics(&points, window, &ranges);
    Ok(match m.gmi_percent {
        Some(percent) if m.sufficient => Some(Gmi {
            percent,
            start: window.from.fixed_offset(),
            end: window.to.fixed_offset(),
            days: 14,
        }),
        _ => None,
    })
}

/// The FHIR export in `shape`; returns the number of entries exported (for the feed: of bundles).
pub fn write_fhir(
    store: &Store,
    target: &Path,
    now: DateTime<Utc>,
    shape: FhirShape,
) -> Result<usize> {
    let entries = store.entries(None, None, None, false)?;
    let pseudonym = store.profile_or_default()?.pseudonym;
    let gmi = gmi(store)?;
    let exported = entries.iter().map(|s| Exported {
        id: s.id,
        version: s.version,
        entry: &s.entry,
    });
    match shape {
        FhirShape::Collection => {
            let bundle = fhir::collection(&pseudonym, exported, gmi.as_ref(), now)?;
            atomically(target, |f| {
                let mut w = std::io::BufWriter::new(f);
                serde_json::to_writer_pretty(&mut w, &bundle)?;
                w.flush()
            })?;
            Ok(entries.len())
        }
        FhirShape::Feed => {
            let bundles = fhir::feed(&pseudonym, exported, gmi.as_ref(), now)?;
            atomically(target, |f| {
                let mut w = std::io::BufWriter::new(f);
                for b in &bundles {
                    serde_json::to_writer(&mut w, b)?;
                    w.write_all(b"\n")?;
                }
                w.flush()
            })?;
            Ok(bundles.len())
        }
    }
}

/// The CSV columns.
pub const HEADER: [&str; 14] = [
    "id",
    "version",
    "time",
    "kind",
    "value",
    "unit",
    "glucose_mg_dl",
    "context",
    "source",
    "device",
    "record_number",
    "corrected_at",
    "reason",
    "detail_json",
];

fn csv_rows(entries: &[StoredEntry], file: std::fs::File) -> std::io::Result<usize> {
    let io = |e: String| std::io::Error::other(e);
    let mut w = csv::Writer::from_writer(file);
    w.write_record(HEADER).map_err(|e| io(e.to_string()))?;
    for s in entries {
        let e = &s.entry;
        let (value, unit, mg_dl, context) = match &e.kind {
            EntryKind::Glucose(g) => match g.level {
                GlucoseLevel::Value(v) => (
                    v.value().to_string(),
                    v.unit().symbol().to_string(),
                    v.mg_dl().to_string(),
                    g.context.name().to_string(),
                ),
                GlucoseLevel::Lo => (
                    "LO".into(),
                    String::new(),
                    String::new(),
                    g.context.name().into(),
                ),
                GlucoseLevel::Hi => (
                    "HI".into(),
                    String::new(),
                    String::new(),
                    g.context.name().into(),
                ),
            },
            EntryKind::Insulin(d) => (
                d.units().to_string(),
                "U".into(),
                String::new(),
                d.kind.name().into(),
            ),
            EntryKind::Carbs(c) => (
                c.grams().to_string(),
                "g".into(),
                String::new(),
                String::new(),
            ),
            EntryKind::Ketones(k) => (
                k.value().to_string(),
                match k.source {
                    ilot_domain::KetoneSource::Blood => "mmol/L".into(),
                    ilot_domain::KetoneSource::Urine => "crosses".into(),
                },
                String::new(),
                k.source.name().into(),
            ),
            EntryKind::Weight(x) => (
                x.kg().to_string(),
                "kg".into(),
                String::new(),
                String::new(),
            ),
            EntryKind::Hba1c(x) => (
                x.percent().to_string(),
                "%".into(),
                String::new(),
                String::new(),
            ),
            EntryKind::Activity(a) => (
                a.minutes().to_string(),
                "min".into(),
                String::new(),
                a.intensity.name().into(),
            ),
            EntryKind::Hypo(_) | EntryKind::Note(_) | EntryKind::Education(_) => {
                (String::new(), String::new(), String::new(), String::new())
            }
        };
        let source = match e.source.kind {
            ilot_domain::SourceKind::Manual => "manual",
            ilot_domain::SourceKind::Meter => "meter",
            ilot_domain::SourceKind::Cgm => "cgm",
            ilot_domain::SourceKind::Import => "import",
        };
        let detail = serde_json::to_string(&e.kind).map_err(|x| io(x.to_string()))?;
        w.write_record([
            s.id.to_string(),
            s.version.to_string(),
            e.at.to_rfc3339(),
            e.kind.name().to_string(),
            value,
            unit,
            mg_dl,
            context,
            source.to_string(),
            e.source
                .device
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            e.source
                .record_number
                .map(|n| n.to_string())
                .unwrap_or_default(),
            if s.version > 1 {
                s.recorded_at.to_rfc3339()
            } else {
                String::new()
            },
            s.reason.clone().unwrap_or_default(),
            detail,
        ])
        .map_err(|x| io(x.to_string()))?;
    }
    w.flush().map_err(|x| io(x.to_string()))?;
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use ilot_domain::{Entry, Glucose, GlucoseReading, GlucoseUnit, MealContext, Note, Source};

    #[test]
    fn every_entry_is_a_row_with_its_value_as_given() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let at = now.fixed_offset();
        let g = Glucose::parse("1,26", GlucoseUnit::GramsPerLitre).unwrap();
        let kinds = [
            EntryKind::Glucose(GlucoseReading::capillary(g, MealContext::Fasting)),
            EntryKind::Note(Note::new("repas, de \"fête\"").unwrap()),
        ];
        for k in kinds {
            store
                .add(&Entry::new(at, Source::manual(), k, now).unwrap(), now)
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        assert_eq!(write_csv(&store, &path).unwrap(), 2);
        let mut r = csv::Reader::from_path(&path).unwrap();
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            HEADER.to_vec()
        );
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        assert_eq!(&rows[0][3], "glucose");
        assert_eq!(
            (&rows[0][4], &rows[0][5], &rows[0][6]),
            ("1.26", "g/L", "126")
        );
        assert_eq!(&rows[0][7], "fasting");
        assert!(rows[1][13].contains("de \\\"fête\\\""), "{}", &rows[1][13]);

        // The same store as a FHIR bundle: the patient, then both entries; the glucose in
        // mg/dL with the value as given kept beside it.
        let path = dir.path().join("x.fhir.json");
        assert_eq!(
            write_fhir(&store, &path, now, FhirShape::Collection).unwrap(),
            2
        );
        let b: serde_json::Value =
            serde_json::from_reader(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(b["resourceType"], "Bundle");
        let items = b["entry"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1]["resource"]["valueQuantity"]["value"], 126);
        assert_eq!(items[1]["resource"]["valueQuantity"]["unit"], "mg/dL");
        assert_eq!(
            items[1]["resource"]["extension"][1]["extension"][2]["valueQuantity"]["value"],
            1.26
        );
        assert_eq!(items[2]["resource"]["valueString"], "repas, de \"fête\"");

        // The feed: only the glucose has an ANS profile, one transaction bundle on one line.
        let path = dir.path().join("x.ndjson");
        assert_eq!(write_fhir(&store, &path, now, FhirShape::Feed).unwrap(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1);
        let b: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(b["type"], "transaction");
    }

    #[test]
    fn a_failed_export_changes_nothing_and_leaves_no_partial_file() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        // 17 significant digits in mmol/L: its mg/dL has 21, which no JSON number carries.
        let g = Glucose::new(5.123_456_789_012_345, GlucoseUnit::MmolPerLitre).unwrap();
        let k = EntryKind::Glucose(GlucoseReading::capillary(g, MealContext::Other));
        store
            .add(
                &Entry::new(now.fixed_offset(), Source::manual(), k, now).unwrap(),
                now,
            )
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("earlier.fhir.json");
        std::fs::write(&path, "the earlier export").unwrap();
        let err = write_fhir(&store, &path, now, FhirShape::Collection).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        assert!(err.to_string().contains("exactly"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "the earlier export"
        );
        // A folder that does not exist: a clear error naming the file, nothing written.
        let missing = dir.path().join("no such folder").join("x.csv");
        let err = write_csv(&store, &missing).unwrap_err();
        assert!(err.to_string().contains("no such folder"), "{err}");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the earlier export: no .part left");
    }

    #[test]
    fn fourteen_days_of_cgm_export_their_gmi_and_a_few_days_do_not() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let device = ilot_domain::DeviceId::new("cgm:1").unwrap();
        let start = now - TimeDelta::days(15);
        let cgm = |i: u32| {
            let g = Glucose::new(100.0 + f64::from(i % 60), GlucoseUnit::MgPerDl).unwrap();
            Entry::new(
                (start + TimeDelta::minutes(5 * i64::from(i))).fixed_offset(),
                Source::device(ilot_domain::SourceKind::Cgm, device.clone(), i + 1),
                EntryKind::Glucose(GlucoseReading::cgm(g)),
                now,
            )
            .unwrap()
        };
        // 3 days: no GMI (the consensus asks for 14).
        let first: Vec<Entry> = (0..3 * 288).map(cgm).collect();
        store.add_batch(&first, now).unwrap();
        assert_eq!(gmi(&store).unwrap(), None);
        // 14 days and a half, every 5 minutes: the GMI of the last 14 days, in both shapes.
        let rest: Vec<Entry> = (3 * 288..(14 * 288 + 144)).map(cgm).collect();
        store.add_batch(&rest, now).unwrap();
        let g = gmi(&store).unwrap().expect("a GMI");
        assert_eq!(g.days, 14);
        // GMI = 3.31 + 0.02392 × mean; the mean of 100..159 repeated is 129.5 mg/dL.
        assert!(
            (g.percent - (3.31 + 0.02392 * 129.5)).abs() < 0.01,
            "{}",
            g.percent
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.fhir.json");
        write_fhir(&store, &path, now, FhirShape::Collection).unwrap();
        let b: serde_json::Value =
            serde_json::from_reader(std::fs::File::open(&path).unwrap()).unwrap();
        let last = b["entry"].as_array().unwrap().last().unwrap()["resource"].clone();
        assert_eq!(last["code"]["coding"][0]["code"], "MED-972");
        assert_eq!(last["valueQuantity"]["code"], "%");
    }
}
