//! The sync state kept in the store itself (`ilot_store::sync_state`), so that the identity,
//! the batch in flight and the cursor are as durable as the entries and encrypted with them.
//! The device secret is not in the database: it is kept in the OS keyring like the database key
//! (`ilot_store::put_secret`, the store's secret mode; a `0600` file only where no keyring can be
//! reached, with a warning), so a copy of the database alone cannot speak for the device. An
//! in-memory store keeps it in memory with the rest.

use ilot_store::{SavedBatch, Store};
use ilot_wire::{
    AccessEntry, AlertAck, Appointment, ConsentRecord, DeviceSecret, Message, Rights, RightsCursor,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, SyncError};
use crate::state::{Consent, Identity, InFlight, SyncState};

const IDENTITY: &str = "identity";
/// The names the device secret is kept under beside the database (`ilot.db.device.key` as a
/// file). A new identity's secret goes under the name the current identity does not use, and
/// the identity names its own (`"secret"`, absent = the first): a crash between saving the new
/// secret and the identity leaves the old identity whole, with its old secret, so a refused
/// re-enrolment can be tried again (its proof needs the old secret).
const DEVICE_SECRETS: [&str; 2] = ["device", "device-b"];
const REFUSED: &str = "refused_device";
const CURSOR: &str = "pull_cursor";
const CONSENT: &str = "consent";
const PRESCRIPTION_VERSION: &str = "prescription_version";
const SERVER_ROOT: &str = "server_root_pem";
const RIGHTS_CURSOR: &str = "rights_cursor";
/// The consent history the server holds, as one document (replaced whole).
const SERVER_CONSENT: &str = "server_consent";
/// The periods of withdrawn consent (`crate::WithdrawnPeriod`), as one document.
const WITHDRAWN: &str = "withdrawn_periods";

/// Forgets this device's secret for the database at `db_path` (keyring entry and fallback file),
/// when the local data is deleted: a new enrolment makes a new one, and nothing of the old one
/// stays behind.
pub fn forget_device_secret(db_path: &std::path::Path, mode: ilot_store::KeyMode) -> Result<()> {
    for name in DEVICE_SECRETS {
        ilot_store::delete_secret(db_path, name, mode)?;
    }
    Ok(())
}

/// The name the saved identity's secret is kept under.
fn secret_name(identity_json: &str) -> &'static str {
    let named = serde_json::from_str::<serde_json::Value>(identity_json)
        .ok()
        .and_then(|v| v["secret"].as_str().map(String::from));
    match named.as_deref() {
        Some(n) if n == DEVICE_SECRETS[1] => DEVICE_SECRETS[1],
        _ => DEVICE_SECRETS[0],
    }
}

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
    /// Absent in documents written before the app followed the team's decisions: the app.
    #[serde(default = "app_channel")]
    channel: ilot_wire::ConsentChannel,
    #[serde(default)]
    record: Option<u64>,
}

fn app_channel() -> ilot_wire::ConsentChannel {
    ilot_wire::ConsentChannel::App
}

impl SyncState for Store {
    fn identity(&self) -> Result<Option<Identity>> {
        let Some(text) = self.sync_value(IDENTITY)? else {
            return Ok(None);
        };
        let Some(path) = self.path() else {
            return Identity::from_json(&text).map(Some);
        };
        Identity::from_json_or(&text, || {
            match ilot_store::get_secret(path, secret_name(&text), self.secret_mode())? {
                Some((bytes, _)) => Ok(DeviceSecret::from_bytes(bytes)),
                None => Err(SyncError::State(
                    "the device secret is not in the system keyring nor beside the database; enrol this device again with a new code".into(),
                )),
            }
        })
        .map(Some)
    }
    fn set_identity(&mut self, id: &Identity) -> Result<()> {
        let Some(path) = self.path().map(std::path::Path::to_path_buf) else {
            return Ok(self.replace_sync_values(&[(IDENTITY, &id.to_json())], &[REFUSED])?);
        };
        let current = self.sync_value(IDENTITY)?.map(|t| secret_name(&t));
        let name = match current {
            Some(n) if n == DEVICE_SECRETS[0] => DEVICE_SECRETS[1],
            _ => DEVICE_SECRETS[0],
        };
        // The secret first, under the name the current identity does not use: a crash before
        // the identity is saved leaves the current identity and its secret as they were.
        let location = ilot_store::put_secret(
            &path,
            name,
            self.secret_mode(),
            &id.device_secret.to_bytes(),
        )?;
        tracing::info!(%location, "device secret saved");
        let mut public: serde_json::Value = parse(&id.to_public_json())?;
        public["secret"] = serde_json::Value::from(name);
        self.replace_sync_values(&[(IDENTITY, &public.to_string())], &[REFUSED])?;
        // Nothing of the replaced identity stays behind; failing to forget it loses nothing.
        if let Some(old) = current.filter(|&o| o != name)
            && let Err(e) = ilot_store::delete_secret(&path, old, self.secret_mode())
        {
            tracing::warn!("the replaced device secret could not be forgotten: {e}");
        }
        Ok(())
    }
    fn refused_device(&self) -> Result<Option<ilot_wire::DeviceId>> {
        self.sync_value(REFUSED)?
            .map(|t| {
                t.parse()
                    .map_err(|e: ilot_wire::WireError| SyncError::State(e.to_string()))
            })
            .transpose()
    }
    fn set_refused_device(&mut self, device: Option<ilot_wire::DeviceId>) -> Result<()> {
        match device {
            Some(d) => Ok(self.set_sync_value(REFUSED, &d.to_string())?),
            None => Ok(self.delete_sync_value(REFUSED)?),
        }
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
                    channel: d.channel,
                    record: d.record,
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
            channel: c.channel,
            record: c.record,
        };
        Ok(self.set_sync_value(CONSENT, &json(&d)?)?)
    }
    fn withdrawn_periods(&self) -> Result<Vec<crate::WithdrawnPeriod>> {
        Ok(match self.sync_value(WITHDRAWN)? {
            Some(t) => parse(&t)?,
            None => Vec::new(),
        })
    }
    fn set_withdrawn_periods(&mut self, p: &[crate::WithdrawnPeriod]) -> Result<()> {
        Ok(self.set_sync_value(WITHDRAWN, &json(&p)?)?)
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
    fn rights_cursor(&self) -> Result<RightsCursor> {
        Ok(match self.sync_value(RIGHTS_CURSOR)? {
            Some(t) => parse(&t)?,
            None => RightsCursor::default(),
        })
    }
    fn save_rights(&mut self, r: &Rights) -> Result<()> {
        // Each write is idempotent and the cursor moves last: a crash between them only makes
        // the next pull bring the same records again.
        if !r.consent.is_empty() {
            self.set_sync_value(SERVER_CONSENT, &json(&r.consent)?)?;
        }
        for a in &r.access_log {
            self.put_care_item("access", &format!("{:020}", a.id), 0, &json(a)?)?;
        }
        let c = crate::state::advance(self.rights_cursor()?, r);
        self.set_sync_value(RIGHTS_CURSOR, &json(&c)?)?;
        Ok(())
    }
    fn server_consent(&self) -> Result<Vec<ConsentRecord>> {
        Ok(match self.sync_value(SERVER_CONSENT)? {
            Some(t) => parse(&t)?,
            None => Vec::new(),
        })
    }
    fn access_log(&self) -> Result<Vec<AccessEntry>> {
        let mut log: Vec<AccessEntry> = self
            .care_items("access")?
            .iter()
            .map(|t| parse(t))
            .collect::<Result<_>>()?;
        log.sort_by_key(|a| a.id);
        Ok(log)
    }
}
