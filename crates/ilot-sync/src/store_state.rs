//! The sync state kept in the store itself (`ilot_store::sync_state`), so that the identity,
//! the batch in flight and the cursor are as durable as the entries and encrypted with them.

use ilot_store::{SavedBatch, Store};
use ilot_wire::{AlertAck, Appointment, Message};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, SyncError};
use crate::state::{Consent, Identity, InFlight, SyncState};

const IDENTITY: &str = "identity";
const CURSOR: &str = "pull_cursor";
const CONSENT: &str = "consent";
const PRESCRIPTION_VERSION: &str = "prescription_version";
const SERVER_ROOT: &str = "server_root_pem";

/// The extra root certificate (PEM) this device trusts for its server, saved at enrolment
/// beside the identity (`ilot enroll --ca FILE`); `None` when the system's roots suffice.
pub fn server_root_pem(store: &Store) -> Result<Option<String>> {
    Ok(store.sync_value(SERVER_ROOT)?)
}

pub fn set_server_root_pem(store: &mut Store, pem: &str) -> Result<()> {
    Ok(store.set_sync_value(SERVER_ROOT, pem)?)
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| SyncError::State(e.to_string()))
}

fn parse<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| SyncError::State(e.to_string()))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ConsentDoc {
    granted: bool,
    at: chrono::DateTime<chrono::Utc>,
    notice_version: u32,
    told_server: bool,
}

impl SyncState for Store {
    fn identity(&self) -> Result<Option<Identity>> {
        self.sync_value(IDENTITY)?
            .map(|t| Identity::from_json(&t))
            .transpose()
    }
    fn set_identity(&mut self, id: &Identity) -> Result<()> {
        Ok(self.set_sync_value(IDENTITY, &id.to_json())?)
    }
    fn next_batch_seq(&self) -> Result<u64> {
        Ok(Store::next_batch_seq(self)?)
    }
    fn in_flight(&self) -> Result<Option<InFlight>> {
        Ok(self.batch_in_flight()?.map(|b| InFlight {
            seq: b.seq,
            sealed: b.sealed,
            outbox_seqs: b.outbox_seqs,
            consent: b.consent,
        }))
    }
    fn begin_batch(&mut self, b: &InFlight) -> Result<()> {
        Ok(Store::begin_batch(
            self,
            &SavedBatch {
                seq: b.seq,
                sealed: b.sealed.clone(),
                outbox_seqs: b.outbox_seqs.clone(),
                consent: b.consent,
            },
        )?)
    }
    fn finish_batch(&mut self, seq: u64) -> Result<()> {
        Ok(Store::finish_batch(self, seq)?)
    }
    fn pull_cursor(&self) -> Result<u64> {
        Ok(self
            .sync_value(CURSOR)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
    fn set_pull_cursor(&mut self, cursor: u64) -> Result<()> {
        Ok(self.set_sync_value(CURSOR, &cursor.to_string())?)
    }
    fn consent(&self) -> Result<Option<Consent>> {
        self.sync_value(CONSENT)?
            .map(|t| {
                let d: ConsentDoc = parse(&t)?;
                Ok(Consent {
                    granted: d.granted,
                    at: d.at,
                    notice_version: d.notice_version,
                    told_server: d.told_server,
                })
            })
            .transpose()
    }
    fn set_consent(&mut self, c: &Consent) -> Result<()> {
        let d = ConsentDoc {
            granted: c.granted,
            at: c.at,
            notice_version: c.notice_version,
            told_server: c.told_server,
        };
        Ok(self.set_sync_value(CONSENT, &json(&d)?)?)
    }
    fn prescription_version(&self) -> Result<u32> {
        Ok(self
            .sync_value(PRESCRIPTION_VERSION)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
    fn set_prescription_version(&mut self, v: u32) -> Result<()> {
        Ok(self.set_sync_value(PRESCRIPTION_VERSION, &v.to_string())?)
    }
    fn save_messages(&mut self, m: &[Message]) -> Result<()> {
        for m in m {
            self.put_care_item("message", &format!("{:020}", m.id), 0, &json(m)?)?;
        }
        Ok(())
    }
    fn messages(&self) -> Result<Vec<Message>> {
        self.care_items("message")?
            .iter()
            .map(|t| parse(t))
            .collect()
    }
    fn save_appointments(&mut self, a: &[Appointment]) -> Result<()> {
        for a in a {
            self.put_care_item(
                "appointment",
                &format!("{:020}", a.id),
                i64::from(a.version),
                &json(a)?,
            )?;
        }
        Ok(())
    }
    fn appointments(&self) -> Result<Vec<Appointment>> {
        self.care_items("appointment")?
            .iter()
            .map(|t| parse(t))
            .collect()
    }
    fn save_alert_acks(&mut self, a: &[AlertAck]) -> Result<()> {
        for a in a {
            self.put_care_item("alert_ack", &a.alert_key, 0, &json(a)?)?;
        }
        Ok(())
    }
    fn alert_acks(&self) -> Result<Vec<AlertAck>> {
        self.care_items("alert_ack")?
            .iter()
            .map(|t| parse(t))
            .collect()
    }
}
