//! What every command needs: the open store, the patient's time zone and `now`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ilot_domain::GlucoseUnit;
use ilot_store::{KeyMode, Store};

#[derive(Debug)]
pub struct Ctx {
    pub store: Store,
    pub db_path: PathBuf,
    pub now: DateTime<Utc>,
    /// The patient's zone (profile), Europe/Paris until a profile says otherwise.
    pub tz: Tz,
    /// The patient's display unit (profile), g/L by default as in France.
    pub unit: GlucoseUnit,
}

impl Ctx {
    pub fn open(db: Option<PathBuf>, mode: KeyMode) -> Result<Self> {
        let db_path = match db {
            Some(p) => p,
            None => default_db()?,
        };
        let store = ilot_store::open_with_key(&db_path, mode)
            .with_context(|| format!("cannot open {}", db_path.display()))?;
        let profile = store.profile_or_default()?;
        Ok(Self {
            store,
            db_path,
            now: Utc::now(),
            tz: profile.tz,
            unit: profile.preferred_unit,
        })
    }

    pub fn db(&self) -> &Path {
        &self.db_path
    }

    pub fn preferred_unit(&self) -> GlucoseUnit {
        self.unit
    }
}

/// `$XDG_DATA_HOME/ilot/ilot.db` (or the platform's data folder).
fn default_db() -> Result<PathBuf> {
    let dir =
        dirs::data_dir().context("no data folder on this system: give --db PATH or ILOT_DB")?;
    Ok(dir.join("ilot").join("ilot.db"))
}
