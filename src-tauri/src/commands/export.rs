//! Data portability (SPEC §2): every entry as CSV, or as an HL7 FHIR R4 bundle (the mapping is
//! `ilot_domain::fhir`), to a file the patient picked or to the downloads folder.

use std::path::{Path, PathBuf};

use chrono::Utc;
use ilot_domain::{EntryKind, GlucoseLevel};
use ilot_store::Store;
use tauri::{AppHandle, Manager, State};

use crate::error::{Error, Result};
use crate::state::AppState;

const HEADER: [&str; 14] = [
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

/// Writes the CSV to `path`, or to `ilot-export-<date>.csv` in the downloads folder; returns
/// where it went.
#[tauri::command]
pub fn export_csv(
    app: AppHandle,
    state: State<'_, AppState>,
    path: Option<String>,
) -> Result<String> {
    let target = target(&app, path, "csv")?;
    let store = state.store()?;
    let n = write_csv(&store, &target)?;
    tracing::info!(entries = n, path = %target.display(), "exported");
    Ok(target.display().to_string())
}

/// Writes the FHIR R4 bundle (JSON) to `path`, or to `ilot-export-<date>.fhir.json` in the
/// downloads folder; returns where it went.
#[tauri::command]
pub fn export_fhir(
    app: AppHandle,
    state: State<'_, AppState>,
    path: Option<String>,
) -> Result<String> {
    let target = target(&app, path, "fhir.json")?;
    let store = state.store()?;
    let n = write_fhir(&store, &target, Utc::now())?;
    tracing::info!(entries = n, path = %target.display(), "exported as FHIR");
    Ok(target.display().to_string())
}

/// The path the patient picked, or `ilot-export-<date>.<ext>` in the downloads folder.
fn target(app: &AppHandle, path: Option<String>, ext: &str) -> Result<PathBuf> {
    if let Some(p) = path.filter(|p| !p.trim().is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|e| Error::Io(format!("no downloads folder: {e}")))?;
    Ok(dir.join(format!(
        "ilot-export-{}.{ext}",
        Utc::now().format("%Y-%m-%d")
    )))
}

/// Every current entry (deleted ones left out), oldest first, as one FHIR bundle. Returns the
/// number of entries.
pub fn write_fhir(store: &Store, target: &Path, now: chrono::DateTime<Utc>) -> Result<usize> {
    let io = |e: String| Error::Io(format!("{}: {e}", target.display()));
    let entries = store.entries(None, None, None, false)?;
    let pseudonym = store.profile_or_default()?.pseudonym;
    let bundle = ilot_domain::fhir::bundle(
        &pseudonym,
        entries.iter().map(|s| ilot_domain::fhir::Exported {
            id: s.id,
            version: s.version,
            entry: &s.entry,
        }),
        now,
    );
    let file = std::fs::File::create(target).map_err(|e| io(e.to_string()))?;
    let mut w = std::io::BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, &bundle).map_err(|e| io(e.to_string()))?;
    std::io::Write::flush(&mut w).map_err(|e| io(e.to_string()))?;
    Ok(entries.len())
}

/// Every current entry (deleted ones left out), oldest first. Returns the number of rows.
pub fn write_csv(store: &Store, target: &Path) -> Result<usize> {
    let io = |e: String| Error::Io(format!("{}: {e}", target.display()));
    let mut w = csv::Writer::from_path(target).map_err(|e| io(e.to_string()))?;
    w.write_record(HEADER).map_err(|e| io(e.to_string()))?;
    let entries = store.entries(None, None, None, false)?;
    for s in &entries {
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

        // The same store as a FHIR bundle: the patient, then both entries, values as given.
        let path = dir.path().join("x.fhir.json");
        assert_eq!(write_fhir(&store, &path, now).unwrap(), 2);
        let b: serde_json::Value =
            serde_json::from_reader(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(b["resourceType"], "Bundle");
        let items = b["entry"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1]["resource"]["valueQuantity"]["value"], 1.26);
        assert_eq!(items[1]["resource"]["valueQuantity"]["unit"], "g/L");
        assert_eq!(items[2]["resource"]["valueString"], "repas, de \"fête\"");
    }
}
