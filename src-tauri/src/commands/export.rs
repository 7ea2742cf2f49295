//! Data portability (SPEC §2): every entry as CSV, or as the patient's full HL7 FHIR R4 export
//! (`ilot_store::export`, mapping in `ilot_domain::fhir`), to a file the patient picked or to the
//! downloads folder.

use std::path::PathBuf;

use chrono::Utc;
use ilot_store::export::{FhirShape, write_csv, write_fhir};
use tauri::{AppHandle, Manager, State};

use crate::error::{Error, Result};
use crate::state::AppState;

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
    let n = write_fhir(&store, &target, Utc::now(), FhirShape::Collection)?;
    tracing::info!(entries = n, path = %target.display(), "exported as FHIR");
    Ok(target.display().to_string())
}

/// Writes the ANS "Mesures de santé" feed (one FHIR `transaction` bundle per measurement, one per
/// line) to `path`, or to `ilot-export-<date>.fhir.ndjson` in the downloads folder; returns where
/// it went.
#[tauri::command]
pub fn export_fhir_feed(
    app: AppHandle,
    state: State<'_, AppState>,
    path: Option<String>,
) -> Result<String> {
    let target = target(&app, path, "fhir.ndjson")?;
    let store = state.store()?;
    let n = write_fhir(&store, &target, Utc::now(), FhirShape::Feed)?;
    tracing::info!(bundles = n, path = %target.display(), "exported as the ANS FHIR feed");
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
