//! What the sync engine must remember across crashes, in the same encrypted database as the
//! entries: named values (identity, cursor, consent…), the sealed batch in flight with the
//! outbox items it carries, and what the care team sent (messages, appointments, alert
//! acknowledgements) as JSON documents. The meaning of the values is `ilot-sync`'s; this
//! module only keeps them durably, each write one transaction.

use rusqlite::{OptionalExtension, params};

use crate::Store;
use crate::error::{Result, StoreError};

/// Migration V2 (appended; V1 is never edited).
pub(crate) const V2_SYNC_STATE: &str = r#"
CREATE TABLE sync_values (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sync_in_flight (
    seq INTEGER PRIMARY KEY,
    sealed BLOB NOT NULL,
    outbox_seqs TEXT NOT NULL,
    consent INTEGER
);
CREATE TABLE care_items (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
"#;

/// A sealed batch saved before sending, resent byte for byte until acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedBatch {
    pub seq: u64,
    pub sealed: Vec<u8>,
    pub outbox_seqs: Vec<i64>,
    /// The consent decision it carries, if any.
    pub consent: Option<bool>,
}

const NEXT_SEQ: &str = "next_batch_seq";

impl Store {
    pub fn sync_value(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM sync_values WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_sync_value(&mut self, key: &str, value: &str) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO sync_values (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn delete_sync_value(&mut self, key: &str) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute("DELETE FROM sync_values WHERE key = ?1", [key])?;
        tx.commit()?;
        Ok(())
    }

    /// Sets the values `set`, removes the values `remove` and forgets every batch in flight, in
    /// one transaction: how a new identity replaces the old one (its sealed batch cannot be
    /// sent under the new identity; its outbox items are still unsent and go in a new batch).
    pub fn replace_sync_values(&mut self, set: &[(&str, &str)], remove: &[&str]) -> Result<()> {
        let tx = self.write_tx()?;
        for (key, value) in set {
            tx.execute(
                "INSERT INTO sync_values (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
        }
        for key in remove {
            tx.execute("DELETE FROM sync_values WHERE key = ?1", [key])?;
        }
        tx.execute("DELETE FROM sync_in_flight", [])?;
        tx.commit()?;
        Ok(())
    }

    /// The number the next new batch gets (1 at first).
    pub fn next_batch_seq(&self) -> Result<u64> {
        Ok(self
            .sync_value(NEXT_SEQ)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(1))
    }

    pub fn batch_in_flight(&self) -> Result<Option<SavedBatch>> {
        let raw: Option<(i64, Vec<u8>, String, Option<bool>)> = self
            .conn
            .prepare_cached(
                "SELECT seq, sealed, outbox_seqs, consent FROM sync_in_flight ORDER BY seq LIMIT 1",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        raw.map(|(seq, sealed, seqs, consent)| {
            Ok(SavedBatch {
                seq: seq as u64,
                sealed,
                outbox_seqs: serde_json::from_str(&seqs)
                    .map_err(|e| StoreError::Codec(format!("batch in flight: {e}")))?,
                consent,
            })
        })
        .transpose()
    }

    /// Saves the batch and moves the next batch number past it, in one transaction.
    pub fn begin_batch(&mut self, b: &SavedBatch) -> Result<()> {
        let seqs =
            serde_json::to_string(&b.outbox_seqs).map_err(|e| StoreError::Codec(e.to_string()))?;
        let seq =
            i64::try_from(b.seq).map_err(|_| StoreError::Codec("batch number too large".into()))?;
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO sync_in_flight (seq, sealed, outbox_seqs, consent) VALUES (?1, ?2, ?3, ?4)",
            params![seq, b.sealed, seqs, b.consent],
        )?;
        tx.execute(
            "INSERT INTO sync_values (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![NEXT_SEQ, (b.seq + 1).to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn finish_batch(&mut self, seq: u64) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute("DELETE FROM sync_in_flight WHERE seq = ?1", [seq as i64])?;
        tx.commit()?;
        Ok(())
    }

    /// Keeps the document with the highest version per (kind, id).
    pub fn put_care_item(&mut self, kind: &str, id: &str, version: i64, json: &str) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO care_items (kind, id, version, json) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, json = excluded.json
             WHERE excluded.version > care_items.version",
            params![kind, id, version, json],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The documents of one kind, in id order as text.
    pub fn care_items(&self, kind: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT json FROM care_items WHERE kind = ?1 ORDER BY rowid")?;
        let rows = stmt
            .query_map([kind], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_in_flight_survives_reopening_and_moves_the_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let key = crate::DbKey::generate();
        let b = SavedBatch {
            seq: 7,
            sealed: vec![1, 2, 3],
            outbox_seqs: vec![4, 5],
            consent: Some(true),
        };
        {
            let mut s = Store::open(&path, &key).unwrap();
            assert_eq!(s.next_batch_seq().unwrap(), 1);
            s.begin_batch(&b).unwrap();
        }
        let mut s = Store::open(&path, &key).unwrap();
        assert_eq!(s.batch_in_flight().unwrap(), Some(b));
        assert_eq!(s.next_batch_seq().unwrap(), 8);
        s.finish_batch(7).unwrap();
        assert_eq!(s.batch_in_flight().unwrap(), None);
        assert_eq!(s.next_batch_seq().unwrap(), 8);
    }

    #[test]
    fn care_items_keep_the_highest_version() {
        let mut s = Store::open_in_memory().unwrap();
        s.put_care_item("appointment", "1", 2, "v2").unwrap();
        s.put_care_item("appointment", "1", 1, "v1").unwrap();
        s.put_care_item("message", "1", 0, "m").unwrap();
        assert_eq!(s.care_items("appointment").unwrap(), ["v2"]);
        s.put_care_item("appointment", "1", 3, "v3").unwrap();
        assert_eq!(s.care_items("appointment").unwrap(), ["v3"]);
        s.set_sync_value("cursor", "9").unwrap();
        assert_eq!(s.sync_value("cursor").unwrap().as_deref(), Some("9"));
    }
}
