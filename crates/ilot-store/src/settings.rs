//! The patient profile, the prescription and the installation's identity. Profile and
//! prescription keep every version (a new row per change, the highest is current); the schema
//! appends each to the outbox.

use chrono::{DateTime, Utc};
use ilot_domain::{PatientProfile, Prescription};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, StoreError};
use crate::{Store, ms};

impl Store {
    /// The current patient profile, if one was set.
    pub fn profile(&self) -> Result<Option<PatientProfile>> {
        self.latest("profile")
    }

    /// Records a new version of the patient profile.
    pub fn set_profile(&mut self, p: &PatientProfile, now: DateTime<Utc>) -> Result<()> {
        self.append("profile", p, now).map(|_| ())
    }

    /// The current prescription, if one was set.
    pub fn prescription(&self) -> Result<Option<Prescription>> {
        self.latest("prescription")
    }

    /// Validates and records a new version of the prescription; returns its version number.
    pub fn set_prescription(&mut self, p: &Prescription, now: DateTime<Utc>) -> Result<u32> {
        p.validate()?;
        self.append("prescription", p, now)
    }

    /// A random id made when the database was created (32 hexadecimal digits).
    pub fn installation_id(&self) -> Result<String> {
        self.conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'installation_id'")?
            .query_row([], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::Codec("the installation id is missing".into()))
    }

    /// `table` is one of two fixed names, never user input.
    fn latest<T: DeserializeOwned>(&self, table: &str) -> Result<Option<T>> {
        let sql = format!("SELECT json FROM {table} ORDER BY version DESC LIMIT 1");
        let json: Option<String> = self
            .conn
            .prepare_cached(&sql)?
            .query_row([], |r| r.get(0))
            .optional()?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| StoreError::Codec(format!("{table}: {e}")))
        })
        .transpose()
    }

    fn append<T: Serialize>(&mut self, table: &str, value: &T, now: DateTime<Utc>) -> Result<u32> {
        let json =
            serde_json::to_string(value).map_err(|e| StoreError::Codec(format!("{table}: {e}")))?;
        let tx = self.write_tx()?;
        tx.prepare_cached(&format!(
            "INSERT INTO {table} (json, recorded_ms) VALUES (?1, ?2)"
        ))?
        .execute(params![json, ms(now)])?;
        let version = u32::try_from(tx.last_insert_rowid())
            .map_err(|_| StoreError::Codec(format!("{table} version out of range")))?;
        tx.commit()?;
        Ok(version)
    }
}
