//! Where downloaded records land: the store, behind a small trait so the download logic can be
//! measured without SQLite and tested against the real store alike.

use chrono::{DateTime, Utc};
use ilot_domain::{DeviceId, Entry, SourceKind};
use ilot_store::{BatchReport, Store};

use crate::error::Result;

/// The two store operations a download needs.
pub trait RecordSink {
    /// The highest record number stored for this device (any entry kind, notes included), the
    /// cursor an incremental download starts after.
    fn last_record_number(&self, kind: SourceKind, device: &DeviceId) -> Result<Option<u32>>;

    /// Stores a batch in one transaction: all of it or none.
    fn add_batch(&mut self, entries: &[Entry], now: DateTime<Utc>) -> Result<BatchReport>;
}

impl RecordSink for Store {
    fn last_record_number(&self, kind: SourceKind, device: &DeviceId) -> Result<Option<u32>> {
        // One SQL query on the store's keys (deleted records count: they must not come back),
        // not a pass over the entries: the app asks at every download and background poll.
        Ok(Store::last_record_number(self, kind, device)?)
    }

    fn add_batch(&mut self, entries: &[Entry], now: DateTime<Utc>) -> Result<BatchReport> {
        Ok(Store::add_batch(self, entries, now)?)
    }
}

/// A sink that keeps entries in memory and reports every one as added (benches, previews).
#[derive(Debug, Default)]
pub struct MemorySink {
    pub entries: Vec<Entry>,
}

impl RecordSink for MemorySink {
    fn last_record_number(&self, kind: SourceKind, device: &DeviceId) -> Result<Option<u32>> {
        Ok(self
            .entries
            .iter()
            .filter(|e| e.source.kind == kind && e.source.device.as_ref() == Some(device))
            .filter_map(|e| e.source.record_number)
            .max())
    }

    fn add_batch(&mut self, entries: &[Entry], _now: DateTime<Utc>) -> Result<BatchReport> {
        let start = self.entries.len() as i64;
        self.entries.extend_from_slice(entries);
        Ok(BatchReport {
            added: entries.len(),
            duplicates: 0,
            conflicts: Vec::new(),
            ids: (0..entries.len() as i64)
                .map(|i| Some(start + i + 1))
                .collect(),
        })
    }
}
