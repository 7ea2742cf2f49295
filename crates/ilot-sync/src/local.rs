//! The device side the engine reads and writes: the store's outbox and settings
//! ([`Outbox`]) and the sync state ([`crate::SyncState`]). [`Local`] pairs a store with any
//! state implementation.

use chrono::{DateTime, Utc};
use ilot_domain::Prescription;
use ilot_store::{EntryId, OutboxItem, Store, StoredEntry};

use crate::error::Result;
use crate::state::{Consent, Identity, InFlight, SyncState};

pub trait Outbox {
    fn pending(&self, limit: usize) -> Result<Vec<OutboxItem>>;
    /// Version `version` of entry `id`.
    fn entry_version(&self, id: EntryId, version: u32) -> Result<Option<StoredEntry>>;
    fn mark_sent(&mut self, seqs: &[i64], now: DateTime<Utc>) -> Result<()>;
    fn apply_prescription(&mut self, p: &Prescription, now: DateTime<Utc>) -> Result<()>;
}

impl Outbox for Store {
    fn pending(&self, limit: usize) -> Result<Vec<OutboxItem>> {
        Ok(self.outbox_pending(limit)?)
    }
    fn entry_version(&self, id: EntryId, version: u32) -> Result<Option<StoredEntry>> {
        match self.get(id)? {
            Some(e) if e.version == version => Ok(Some(e)),
            Some(_) => Ok(self.history(id)?.into_iter().find(|e| e.version == version)),
            None => Ok(None),
        }
    }
    fn mark_sent(&mut self, seqs: &[i64], now: DateTime<Utc>) -> Result<()> {
        Ok(Store::mark_sent(self, seqs, now)?)
    }
    fn apply_prescription(&mut self, p: &Prescription, now: DateTime<Utc>) -> Result<()> {
        self.set_prescription(p, now)?;
        Ok(())
    }
}

/// A store and a separate sync state.
#[derive(Debug)]
pub struct Local<S> {
    pub store: Store,
    pub state: S,
}

impl<S> Outbox for Local<S> {
    fn pending(&self, limit: usize) -> Result<Vec<OutboxItem>> {
        self.store.pending(limit)
    }
    fn entry_version(&self, id: EntryId, version: u32) -> Result<Option<StoredEntry>> {
        self.store.entry_version(id, version)
    }
    fn mark_sent(&mut self, seqs: &[i64], now: DateTime<Utc>) -> Result<()> {
        Outbox::mark_sent(&mut self.store, seqs, now)
    }
    fn apply_prescription(&mut self, p: &Prescription, now: DateTime<Utc>) -> Result<()> {
        self.store.apply_prescription(p, now)
    }
}

impl<S: SyncState> SyncState for Local<S> {
    fn identity(&self) -> Result<Option<Identity>> {
        self.state.identity()
    }
    fn set_identity(&mut self, id: &Identity) -> Result<()> {
        self.state.set_identity(id)
    }
    fn refused_device(&self) -> Result<Option<ilot_wire::DeviceId>> {
        self.state.refused_device()
    }
    fn set_refused_device(&mut self, device: Option<ilot_wire::DeviceId>) -> Result<()> {
        self.state.set_refused_device(device)
    }
    fn next_batch_seq(&self) -> Result<u64> {
        self.state.next_batch_seq()
    }
    fn in_flight(&self) -> Result<Option<InFlight>> {
        self.state.in_flight()
    }
    fn begin_batch(&mut self, batch: &InFlight) -> Result<()> {
        self.state.begin_batch(batch)
    }
    fn finish_batch(&mut self, seq: u64) -> Result<()> {
        self.state.finish_batch(seq)
    }
    fn pull_cursor(&self) -> Result<u64> {
        self.state.pull_cursor()
    }
    fn set_pull_cursor(&mut self, cursor: u64) -> Result<()> {
        self.state.set_pull_cursor(cursor)
    }
    fn consent(&self) -> Result<Option<Consent>> {
        self.state.consent()
    }
    fn set_consent(&mut self, c: &Consent) -> Result<()> {
        self.state.set_consent(c)
    }
    fn withdrawn_periods(&self) -> Result<Vec<crate::WithdrawnPeriod>> {
        self.state.withdrawn_periods()
    }
    fn set_withdrawn_periods(&mut self, p: &[crate::WithdrawnPeriod]) -> Result<()> {
        self.state.set_withdrawn_periods(p)
    }
    fn prescription_version(&self) -> Result<u32> {
        self.state.prescription_version()
    }
    fn set_prescription_version(&mut self, v: u32) -> Result<()> {
        self.state.set_prescription_version(v)
    }
    fn save_messages(&mut self, m: &[ilot_wire::Message]) -> Result<()> {
        self.state.save_messages(m)
    }
    fn messages(&self) -> Result<Vec<ilot_wire::Message>> {
        self.state.messages()
    }
    fn save_appointments(&mut self, a: &[ilot_wire::Appointment]) -> Result<()> {
        self.state.save_appointments(a)
    }
    fn appointments(&self) -> Result<Vec<ilot_wire::Appointment>> {
        self.state.appointments()
    }
    fn save_alert_acks(&mut self, a: &[ilot_wire::AlertAck]) -> Result<()> {
        self.state.save_alert_acks(a)
    }
    fn alert_acks(&self) -> Result<Vec<ilot_wire::AlertAck>> {
        self.state.alert_acks()
    }
    fn rights_cursor(&self) -> Result<ilot_wire::RightsCursor> {
        self.state.rights_cursor()
    }
    fn save_rights(&mut self, r: &ilot_wire::Rights) -> Result<()> {
        self.state.save_rights(r)
    }
    fn server_consent(&self) -> Result<Vec<ilot_wire::ConsentRecord>> {
        self.state.server_consent()
    }
    fn access_log(&self) -> Result<Vec<ilot_wire::AccessEntry>> {
        self.state.access_log()
    }
}
