//! The app's own preferences, kept in `<database>.settings.json` beside the encrypted store,
//! readable by its owner only (`0600`): language, text size, onboarding, the PIN's salted hash
//! (never the PIN), which care-team messages were read. Consent is not here: it lives in the
//! store's sync state (`ilot_sync::set_consent`), the one record the sync engine obeys. Which
//! alerts the patient marked "done" or was notified of are not here either: their keys carry
//! the episode's start and would date every hypo, so they live in the encrypted store
//! (`ilot_store::AlertMark`), as do the failed PIN attempts. Older files' consent and alert keys
//! are moved there on start.
//!
//! Nothing medical lives here: glucose values, the profile (display unit, time zone) and the
//! prescription are in the store. The file is written whole to a temporary file and renamed, so
//! a crash leaves the old or the new version, never half of one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `fr` or `en`.
    pub language: String,
    /// Text size as a percentage of the default (100–200).
    pub text_scale: u16,
    pub onboarded: bool,
    /// Consent as older versions kept it; moved to the store on load, never written again.
    #[serde(rename = "consent", skip_serializing)]
    pub legacy_consent: Option<Consent>,
    /// Argon2id PHC string of the PIN.
    pub pin_hash: Option<String>,
    /// Alerts marked "done" as older versions kept them; moved to the store on load.
    #[serde(rename = "acknowledged", skip_serializing)]
    pub legacy_acknowledged: BTreeSet<String>,
    /// Alerts notified as older versions kept them; moved to the store on load.
    #[serde(rename = "notified", skip_serializing)]
    pub legacy_notified: BTreeSet<String>,
    /// Paired (or simulated) glucose devices and their last download.
    pub devices: Vec<KnownDevice>,
    /// Ids of the care team's messages the patient has seen.
    pub read_messages: BTreeSet<u64>,
}

/// A glucose meter or CGM the patient paired, and what its last download did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownDevice {
    /// Bluetooth address, or `sim:meter` for the simulated meter.
    pub address: String,
    /// `manufacturer:model:serial` once known (the key its records are stored under).
    pub id: Option<String>,
    pub name: Option<String>,
    /// `meter` or `cgm`.
    pub kind: String,
    pub paired_at: DateTime<Utc>,
    pub last: Option<LastDownload>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastDownload {
    pub at: DateTime<Utc>,
    /// New records received.
    pub records: u32,
    pub readings_stored: u32,
    pub entries_added: usize,
    pub conflicts: usize,
    /// Records that gave no reading (each also has a note in the diary).
    pub rejected: usize,
    /// Readings whose time was corrected for the device clock.
    pub corrected: u32,
    /// How far the device clock was off, in minutes (positive: ahead), when it was.
    pub clock_skew_min: Option<i64>,
    pub attempts: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            language: "fr".into(),
            text_scale: 100,
            onboarded: false,
            legacy_consent: None,
            pin_hash: None,
            legacy_acknowledged: BTreeSet::new(),
            legacy_notified: BTreeSet::new(),
            devices: Vec::new(),
            read_messages: BTreeSet::new(),
        }
    }
}

/// The patient's consent as older versions of the app kept it in this file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    pub given_at: DateTime<Utc>,
    /// Set when withdrawn: from then on nothing may leave the device.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Version of the information text the patient read.
    pub text_version: u32,
}

impl Consent {
    /// The same decision as the sync engine records it (not yet told to the server).
    pub fn to_sync(&self) -> ilot_sync::Consent {
        ilot_sync::Consent {
            granted: self.withdrawn_at.is_none(),
            at: self.withdrawn_at.unwrap_or(self.given_at),
            notice_version: self.text_version,
            told_server: false,
            channel: ilot_wire::ConsentChannel::App,
            record: None,
        }
    }
}

/// Version of the information text (`consent.notice-*` in the catalogue, onboarding and
/// Settings); bump it when the text changes. Version 2 says that consent covers the act of
/// telesurveillance and the processing of its data. The server offers the same number
/// (`ilot_server::consent::NOTICE_VERSION`).
pub const CONSENT_TEXT_VERSION: u32 = 2;

/// Where the settings of the database at `db_path` live.
pub fn path_for(db_path: &Path) -> PathBuf {
    let mut name = db_path
        .file_stem()
        .map(|s| s.to_os_string())
        .unwrap_or_else(|| "ilot".into());
    name.push(".settings.json");
    db_path.with_file_name(name)
}

impl Settings {
    /// Reads the settings, or the defaults when the file does not exist yet. A damaged file is an
    /// error rather than silently reset: it holds the PIN hash and the consent.
    pub fn load(path: &Path) -> Result<Self> {
        protect(path)?;
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                Error::Io(format!(
                    "the settings file {} is damaged ({e}); move it away to start again",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::Io(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes the whole file: a new temporary file created `0600` (it holds the PIN hash), then
    /// renamed over the old one.
    pub fn save(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let io = |e: std::io::Error| Error::Io(format!("{}: {e}", path.display()));
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::Io(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        match std::fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io)
    }
}

/// Takes group and other rights away from a settings file an older version wrote.
fn protect(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Io(format!("{}: {e}", path.display()))),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_sit_beside_the_database() {
        assert_eq!(
            path_for(Path::new("/d/ilot.db")),
            PathBuf::from("/d/ilot.settings.json")
        );
    }

    #[test]
    fn missing_file_gives_french_defaults_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.settings.json");
        let mut s = Settings::load(&p).unwrap();
        assert_eq!(
            (s.language.as_str(), s.text_scale, s.onboarded),
            ("fr", 100, false)
        );
        s.language = "en".into();
        s.read_messages.insert(3);
        s.save(&p).unwrap();
        assert_eq!(Settings::load(&p).unwrap(), s);
    }

    #[test]
    fn a_damaged_file_is_not_reset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.settings.json");
        std::fs::write(&p, "{not json").unwrap();
        let e = Settings::load(&p).unwrap_err().to_string();
        assert!(e.contains("damaged"), "{e}");
    }
}
