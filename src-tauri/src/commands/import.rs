//! Ajouter → Importer un fichier: the exports patients have (LibreView, Dexcom Clarity, CareLink,
//! Nightscout, simple CSV), read by `ilot-import`. `import_preview` reads the file and says what
//! it holds and what of it is new, writing nothing; `import_commit` reads it again and stores
//! what is new, in transactions of 5,000 entries (as `ilot import`).

use std::collections::BTreeMap;

use chrono::{TimeDelta, Utc};
use ilot_domain::Entry;
use ilot_import::{Counts, Import, Options, Rejected, overlap};
use ilot_store::Store;
use serde::Serialize;
use tauri::State;

use crate::error::{Error, Result};
use crate::state::{AppState, tz_and_unit};

const CHUNK: usize = 5_000;
/// Rejected rows listed in the preview (their total is always given).
const LISTED: usize = 20;

#[derive(Debug, Serialize)]
pub struct ImportPreview {
    pub path: String,
    pub format: &'static str,
    pub device: Option<String>,
    pub serial: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub counts: Counts,
    /// Entries not yet stored (what an import would add at most).
    pub new: usize,
    /// Entries another source or an earlier import already holds.
    pub already_present: usize,
    pub rejected_total: usize,
    pub rejected: Vec<Rejected>,
    pub skipped: BTreeMap<String, usize>,
    /// Rejected rows are numbered by item (JSON) rather than by line.
    pub items: bool,
}

#[derive(Debug, Serialize)]
pub struct ImportOutcome {
    pub added: usize,
    pub already_present: usize,
    pub conflicts: usize,
    pub rejected: usize,
}

fn read(store: &Store, path: &str) -> Result<Import> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::input_with(
            "import-unreadable",
            format!("cannot read {path}: {e}"),
            serde_json::json!({ "path": path }),
        )
    })?;
    let (tz, _) = tz_and_unit(store)?;
    ilot_import::parse(&bytes, &Options::new(tz, Utc::now())).map_err(|e| {
        Error::input_with(
            "import-refused",
            e.to_string(),
            serde_json::json!({ "reason": e.to_string() }),
        )
    })
}

/// Which rows are new: held neither by another source nor by an earlier import of the same
/// origin (`overlap::held`).
fn new_rows<'i>(store: &Store, import: &'i Import) -> Result<Vec<&'i Entry>> {
    let Some((from, to)) = import.period() else {
        return Ok(Vec::new());
    };
    let margin = TimeDelta::minutes(1);
    let stored: Vec<Entry> = store
        .entries(
            Some(from.to_utc() - margin),
            Some(to.to_utc() + margin),
            None,
            false,
        )?
        .into_iter()
        .map(|s| s.entry)
        .collect();
    let present = overlap::held(&import.rows, &stored);
    Ok(import
        .rows
        .iter()
        .zip(present)
        .filter(|(_, p)| !p)
        .map(|(r, _)| &r.entry)
        .collect())
}

#[tauri::command]
pub fn import_preview(state: State<'_, AppState>, path: String) -> Result<ImportPreview> {
    let store = state.store()?;
    preview(&store, &path)
}

pub fn preview(store: &Store, path: &str) -> Result<ImportPreview> {
    let import = read(store, path)?;
    let new = new_rows(store, &import)?.len();
    let period = import.period();
    Ok(ImportPreview {
        path: path.to_string(),
        format: import.format.name(),
        device: import.device.clone(),
        serial: import.serial.clone(),
        from: period.map(|p| p.0.to_rfc3339()),
        to: period.map(|p| p.1.to_rfc3339()),
        counts: import.counts(),
        new,
        already_present: import.rows.len() - new,
        rejected_total: import.rejected.len(),
        rejected: import.rejected.iter().take(LISTED).cloned().collect(),
        skipped: import.skipped.clone(),
        items: import.format.counts_items(),
    })
}

#[tauri::command]
pub fn import_commit(state: State<'_, AppState>, path: String) -> Result<ImportOutcome> {
    let mut store = state.store()?;
    commit(&mut store, &path)
}

pub fn commit(store: &mut Store, path: &str) -> Result<ImportOutcome> {
    let import = read(store, path)?;
    let new = new_rows(store, &import)?;
    let mut outcome = ImportOutcome {
        added: 0,
        already_present: import.rows.len() - new.len(),
        conflicts: 0,
        rejected: import.rejected.len(),
    };
    for chunk in new.chunks(CHUNK) {
        let entries: Vec<Entry> = chunk.iter().map(|e| (*e).clone()).collect();
        let report = store.add_batch(&entries, Utc::now())?;
        outcome.added += report.added;
        outcome.already_present += report.duplicates;
        outcome.conflicts += report.conflicts.len();
    }
    tracing::info!(
        path,
        added = outcome.added,
        rejected = outcome.rejected,
        "file imported"
    );
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(name: &str) -> String {
        format!(
            "{}/../shared/data/exports/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    #[test]
    fn the_preview_writes_nothing_and_the_commit_adds_what_it_announced() {
        let mut store = Store::open_in_memory().unwrap();
        let path = export("libreview-en-mmol-daymonth.csv");
        let p = preview(&store, &path).unwrap();
        assert_eq!(p.format, "libreview");
        assert_eq!(p.device.as_deref(), Some("FreeStyle LibreLink"));
        assert_eq!(
            (p.counts.glucose, p.counts.scans, p.counts.notes),
            (260, 60, 7)
        );
        // 267 entries in the file, one scan row repeated.
        assert_eq!((p.new, p.already_present), (266, 1));
        assert_eq!(
            store.count_entries().unwrap(),
            0,
            "a preview writes nothing"
        );

        let done = commit(&mut store, &path).unwrap();
        assert_eq!((done.added, done.conflicts, done.rejected), (266, 0, 0));
        assert_eq!(store.count_entries().unwrap(), 266);
        let again = preview(&store, &path).unwrap();
        assert_eq!((again.new, again.already_present), (0, 267));
        assert_eq!(commit(&mut store, &path).unwrap().added, 0);
    }

    #[test]
    fn a_file_that_is_not_an_export_is_refused_with_its_reason() {
        let store = Store::open_in_memory().unwrap();
        let e = preview(
            &store,
            &format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR")),
        )
        .unwrap_err();
        assert!(e.to_string().contains("no `time` column"), "{e}");
        let e = preview(&store, "/nonexistent.csv").unwrap_err();
        assert!(
            e.to_string().contains("cannot read /nonexistent.csv"),
            "{e}"
        );
    }
}
