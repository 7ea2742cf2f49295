//! What every front end (the command line, the app, the sync loop) does the same way before the
//! rules run: open the store with its key, read the patient's profile, load the rules' input.
//! Written once here so the app and the command line cannot drift apart.

use std::path::Path;

use chrono::{DateTime, Utc};
use ilot_domain::PatientProfile;
use ilot_rules::Loaded;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::keys::{KeyMode, resolve_key};

/// Opens (or creates) the database at `path` with its key from `mode` (OS keyring, else a `0600`
/// key file), creating its folder if needed; the device secret is then kept where the key is.
pub fn open_with_key(path: &Path, mode: KeyMode) -> Result<Store> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let (key, location) = resolve_key(path, mode)?;
    tracing::debug!(?location, "database key");
    let mut store = Store::open(path, &key)?;
    store.set_secret_mode(mode);
    Ok(store)
}

/// Pseudonym of the profile a device uses before the care team's enrolment names the patient.
pub const LOCAL_PSEUDONYM: &str = "local";

impl Store {
    /// The patient's profile, or the French defaults (Europe/Paris, g/L, pseudonym
    /// [`LOCAL_PSEUDONYM`]) before one is recorded.
    pub fn profile_or_default(&self) -> Result<PatientProfile> {
        Ok(self
            .profile()?
            .unwrap_or_else(|| PatientProfile::new(LOCAL_PSEUDONYM)))
    }

    /// Everything the rules read in `[from, to)` (`None` leaves a side open), each list by time.
    pub fn rules_data(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Loaded> {
        Ok(Loaded {
            glucose: self.glucose_points(from, to)?,
            insulin: self.insulin_points(from, to)?,
            hypo: self.hypo_reports(from, to)?,
            other: self.other_entry_times(from, to)?,
            education: self.education_session_times(from, to)?,
        })
    }
}
