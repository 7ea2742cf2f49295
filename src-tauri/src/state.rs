//! The app's state: the patient's encrypted store in the OS app-data folder.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ilot_store::{KeyMode, Store};

use crate::error::{Error, Result};

#[derive(Debug)]
pub struct AppState {
    pub store: Mutex<Store>,
    pub db_path: PathBuf,
}

impl AppState {
    /// Opens (or creates) `ilot.db` in `dir`; `ILOT_DB` overrides the path (demo and tests).
    pub fn open(dir: &Path) -> Result<Self> {
        let db_path = std::env::var_os("ILOT_DB").map_or_else(|| dir.join("ilot.db"), PathBuf::from);
        if let Some(parent) = db_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::DataDir(format!("{}: {e}", parent.display())))?;
        }
        let mode = std::env::var("ILOT_KEYSTORE").ok().and_then(|m| m.parse().ok()).unwrap_or(KeyMode::Auto);
        let (key, _location) = ilot_store::resolve_key(&db_path, mode)?;
        let store = Store::open(&db_path, &key)?;
        Ok(Self { store: Mutex::new(store), db_path })
    }
}
