//! The production backend: PostgreSQL through the blocking `postgres` client and an `r2d2`
//! pool, so that several stateless API nodes can share one database. Each method is one
//! transaction; what must not race between nodes is serialised by the database itself: a
//! batch locks its device's row (sequence numbers), entries are deduplicated by their primary
//! key (`ON CONFLICT DO NOTHING`), a code is redeemed by one conditional `UPDATE`, and writers
//! of a patient's feed lock the patient's row so that cursors commit in order.
//!
//! The answers are the SQLite backend's, to the millisecond (`tests/it/conformance.rs`).

mod atrest;
mod connect;
mod consent;
mod identity;
mod ingest;
mod limits;
mod patient;
mod psc;
mod record;
mod reenrol;
mod reopen;
mod revocation;
mod rows;
mod security;
mod tls;
mod triage;

use chrono::{DateTime, Utc};
use ilot_domain::{Entry, Prescription};
use ilot_rules::alerts::Alert;
use ilot_wire::{
    Appointment, CareRole, CareTeamMember, DeviceId, Message, PatientId, PrescriptionUpdate,
    ServerSecret,
};

pub(crate) use connect::message as postgres_message;
pub use connect::redact_url;

use super::{
    AlertRow, AuditRow, CodeRefusal, DeviceRow, FeedItem, IngestBatch, IngestOutcome, NewPatient,
    Operator, PatientRow, ServerEntry, Storage, StoredAck, TotpSecret,
};
use crate::atrest::{Sealed, ServerKey, open_server_secret};
use crate::error::{Result, ServerError};
use rows::*;

pub struct PostgresStorage {
    // Always Some until drop.
    pool: Option<connect::Pool>,
    key: ServerKey,
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        // Closing a blocking client runs a small runtime of its own, which tokio forbids on its
        // worker threads, where the last `AppState` is often dropped at shutdown: close the
        // connections on a plain thread.
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage")
            .field(
                "connections",
                &self.pool.as_ref().map(|p| p.state().connections),
            )
            .finish()
    }
}

impl PostgresStorage {
    /// Connects (`postgres://user[:password]@host[:port]/db[?sslmode=…&sslrootcert=…]`, TLS
    /// as `tls.rs` decides), applies missing migrations, checks the server key and opens the
    /// pool. Errors name the URL without its password.
    pub fn open(url: &str, key: &ServerKey) -> Result<Self> {
        Ok(Self {
            pool: Some(connect::open(url, key)?),
            key: key.clone(),
        })
    }

    fn client(&self) -> Result<r2d2::PooledConnection<connect::Manager>> {
        let pool = self
            .pool
            .as_ref()
            .ok_or_else(|| ServerError::Storage("the database pool is closed".into()))?;
        Ok(pool.get()?)
    }
}

fn b(id: &impl AsRef<[u8]>) -> &[u8] {
    id.as_ref()
}

impl Storage for PostgresStorage {
    fn server_secret(&self, fresh: ServerSecret) -> Result<ServerSecret> {
        let sealed = self
            .key
            .seal(Sealed::ServerSecret, fresh.to_bytes().as_slice())?;
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        tx.execute(
            "INSERT INTO server_key (id, secret) VALUES (1, $1) ON CONFLICT DO NOTHING",
            &[&sealed],
        )?;
        let row = tx.query_one("SELECT secret FROM server_key WHERE id = 1", &[])?;
        let bytes: &[u8] = row.get(0);
        let secret = open_server_secret(&self.key, bytes)?;
        tx.commit()?;
        Ok(secret)
    }

    fn create_operator(
        &self,
        username: &str,
        name: &str,
        role: CareRole,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut c = self.client()?;
        let row = c.query_opt(
            "INSERT INTO operators (username, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (username) DO NOTHING RETURNING id",
            &[&username, &name, &role_name(role), &password_hash, &ts(now)],
        )?;
        match row {
            Some(r) => Ok(r.get(0)),
            None => Err(ServerError::refused(
                ilot_wire::api::ErrorCode::BadRequest,
                format!("an operator named {username:?} already exists; choose another user name"),
            )),
        }
    }

    fn operator_by_username(&self, username: &str) -> Result<Option<Operator>> {
        let mut c = self.client()?;
        let row = c.query_opt(
            &format!(
                "SELECT {OPERATOR_COLUMNS} FROM operators o
                 WHERE o.username = $1 AND o.disabled_at IS NULL"
            ),
            &[&username],
        )?;
        row.as_ref().map(operator_row).transpose()
    }

    fn create_session(
        &self,
        token_hash: &[u8; 32],
        operator_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        // Ended sessions are forgotten as new ones begin.
        tx.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&ts(now)])?;
        tx.execute(
            "INSERT INTO sessions (token_hash, operator_id, expires_at, last_seen_at) VALUES ($1, $2, $3, $4)",
            &[&token_hash.as_slice(), &operator_id, &ts(expires_at), &ts(now)],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn session(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<Option<Operator>> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        // One statement: the row lock makes a concurrent logout or disable win or wait.
        let row = tx.query_opt(
            &format!(
                "UPDATE sessions s SET last_seen_at = $2 FROM operators o
                 WHERE s.token_hash = $1 AND o.id = s.operator_id AND s.expires_at > $2
                   AND s.last_seen_at > $3 AND o.disabled_at IS NULL
                 RETURNING {OPERATOR_COLUMNS}"
            ),
            &[&token_hash.as_slice(), &ts(now), &ts(idle_since)],
        )?;
        if row.is_none() {
            // Idle, expired or its operator disabled: ended for good.
            tx.execute(
                "DELETE FROM sessions WHERE token_hash = $1",
                &[&token_hash.as_slice()],
            )?;
        }
        tx.commit()?;
        row.as_ref().map(operator_row).transpose()
    }

    fn create_patient(
        &self,
        p: &NewPatient,
        id: PatientId,
        by: &CareTeamMember,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        tx.execute(
            "INSERT INTO patients (id, pseudonym, ins, tz, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[
                &b(id.as_bytes()),
                &p.pseudonym,
                &p.ins,
                &p.tz.name(),
                &ts(now),
            ],
        )?;
        insert_prescription(&mut tx, id, &p.prescription, by, now)?;
        tx.commit()?;
        Ok(())
    }

    fn patient(&self, id: PatientId) -> Result<Option<PatientRow>> {
        let row = self.client()?.query_opt(
            &format!("{PATIENT_SELECT} WHERE id = $1"),
            &[&b(id.as_bytes())],
        )?;
        row.as_ref().map(patient_row).transpose()
    }

    fn patients(&self) -> Result<Vec<PatientRow>> {
        let rows = self
            .client()?
            .query(&format!("{PATIENT_SELECT} ORDER BY created_at, id"), &[])?;
        rows.iter().map(patient_row).collect()
    }

    fn add_enrolment_code(
        &self,
        code: &str,
        patient: PatientId,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.client()?.execute(
            "INSERT INTO enrolment_codes (code, patient_id, expires_at) VALUES ($1, $2, $3)",
            &[
                &self.key.code_hash(code),
                &b(patient.as_bytes()),
                &ts(expires_at),
            ],
        )?;
        Ok(())
    }

    fn redeem_code(
        &self,
        code: &str,
        device: &DeviceRow,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<PatientId, CodeRefusal>> {
        // Codes are stored as their keyed hash only (`crate::atrest`).
        let code = &self.key.code_hash(code);
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        let now = ts(now);
        // One conditional UPDATE: of two nodes redeeming the same code, exactly one gets a row.
        let taken = tx.query_opt(
            "UPDATE enrolment_codes SET used_at = $2 WHERE code = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING patient_id",
            &[&code, &now],
        )?;
        let Some(taken) = taken else {
            let why = tx.query_opt(
                "SELECT used_at IS NOT NULL FROM enrolment_codes WHERE code = $1",
                &[&code],
            )?;
            return Ok(Err(match why.map(|r| r.get::<_, bool>(0)) {
                None => CodeRefusal::Unknown,
                Some(true) => CodeRefusal::Used,
                Some(false) => CodeRefusal::Expired,
            }));
        };
        let patient = patient_id(taken.get(0))?;
        tx.execute(
            "INSERT INTO devices (id, patient_id, public_key, label, enrolled_at) VALUES ($1, $2, $3, $4, $5)",
            &[
                &b(device.id.as_bytes()),
                &b(patient.as_bytes()),
                &device.public_key.to_string(),
                &device.label,
                &now,
            ],
        )?;
        tx.execute(
            "UPDATE patients SET enrolled_at = $1 WHERE id = $2",
            &[&now, &b(patient.as_bytes())],
        )?;
        tx.commit()?;
        Ok(Ok(patient))
    }

    fn device(&self, id: DeviceId) -> Result<Option<DeviceRow>> {
        let row = self.client()?.query_opt(
            "SELECT id, patient_id, public_key, label, enrolled_at, last_batch_seq FROM devices
             WHERE id = $1 AND revoked_at IS NULL",
            &[&b(id.as_bytes())],
        )?;
        row.map(|r| {
            let key: String = r.get(2);
            let last: Option<i64> = r.get(5);
            Ok(DeviceRow {
                id: device_id(r.get(0))?,
                patient_id: patient_id(r.get(1))?,
                public_key: key.parse().map_err(|e| bad("device key", e))?,
                label: r.get(3),
                enrolled_at: r.get(4),
                last_batch_seq: last.map(|s| s as u64),
            })
        })
        .transpose()
    }

    fn ingest(&self, batch: &IngestBatch<'_>) -> Result<IngestOutcome> {
        ingest::ingest(&mut *self.client()?, batch)
    }

    fn batch_ack(&self, device: DeviceId, seq: u64) -> Result<Option<StoredAck>> {
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        let ack = ack_of(&mut tx, device.as_bytes(), seq)?;
        tx.commit()?;
        Ok(ack)
    }

    fn entries(
        &self,
        patient: PatientId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        include_deleted: bool,
    ) -> Result<Vec<ServerEntry>> {
        let rows = self.client()?.query(
            "SELECT e.device_id, e.entry_id, e.version, e.deleted, e.recorded_at, e.received_at, e.entry FROM entries e
             WHERE e.patient_id = $1 AND e.at >= $2 AND e.at < $3
               AND e.version = (SELECT MAX(x.version) FROM entries x
                                WHERE x.patient_id = e.patient_id AND x.device_id = e.device_id AND x.entry_id = e.entry_id)
             ORDER BY e.at, e.device_id, e.entry_id",
            &[&b(patient.as_bytes()), &bound(from), &bound(to)],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let deleted: bool = r.get(3);
            if deleted && !include_deleted {
                continue;
            }
            let version: i64 = r.get(2);
            let json: &str = r.get(6);
            let entry: Entry = serde_json::from_str(json)?;
            out.push(ServerEntry {
                device_id: device_id(r.get(0))?,
                entry_id: r.get(1),
                version: u32::try_from(version).map_err(|e| bad("entry version", e))?,
                deleted,
                recorded_at: r.get(4),
                received_at: r.get(5),
                entry,
            });
        }
        Ok(out)
    }

    fn count_entry_versions(&self, patient: PatientId) -> Result<u64> {
        let n: i64 = self
            .client()?
            .query_one(
                "SELECT COUNT(*) FROM entries WHERE patient_id = $1",
                &[&b(patient.as_bytes())],
            )?
            .get(0);
        Ok(n as u64)
    }

    fn prescription(&self, patient: PatientId) -> Result<Option<PrescriptionUpdate>> {
        let row = self.client()?.query_opt(
            "SELECT body FROM prescriptions WHERE patient_id = $1 ORDER BY version DESC LIMIT 1",
            &[&b(patient.as_bytes())],
        )?;
        row.map(|r| serde_json::from_str(r.get::<_, &str>(0)).map_err(ServerError::from))
            .transpose()
    }

    fn set_prescription(
        &self,
        patient: PatientId,
        p: &Prescription,
        by: &CareTeamMember,
        now: DateTime<Utc>,
    ) -> Result<PrescriptionUpdate> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        let u = insert_prescription(&mut tx, patient, p, by, now)?;
        tx.commit()?;
        Ok(u)
    }

    fn add_message(
        &self,
        patient: PatientId,
        from: &CareTeamMember,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Message> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        // The feed cursor doubles as the message id: unique and growing.
        lock_patient(&mut tx, patient)?;
        let cursor = next_cursor(&mut tx)?;
        let m = Message {
            id: cursor as u64,
            from: from.clone(),
            text: text.to_string(),
            sent_at: now,
        };
        push_feed(
            &mut tx,
            patient,
            Some(cursor),
            &FeedItem::Message(m.clone()),
            now,
        )?;
        tx.commit()?;
        Ok(m)
    }

    fn add_appointment(&self, patient: PatientId, a: &Appointment) -> Result<Appointment> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        push_feed(
            &mut tx,
            patient,
            None,
            &FeedItem::Appointment(a.clone()),
            a.starts_at,
        )?;
        tx.commit()?;
        Ok(a.clone())
    }

    fn feed(&self, patient: PatientId, since: u64, limit: u32) -> Result<Vec<(u64, FeedItem)>> {
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        let rows = self.client()?.query(
            "SELECT cursor, item FROM feed WHERE patient_id = $1 AND cursor > $2 ORDER BY cursor LIMIT $3",
            &[&b(patient.as_bytes()), &since, &i64::from(limit)],
        )?;
        rows.iter()
            .map(|r| {
                let c: i64 = r.get(0);
                Ok((c as u64, serde_json::from_str(r.get::<_, &str>(1))?))
            })
            .collect()
    }

    fn upsert_alerts(
        &self,
        patient: PatientId,
        alerts: &[Alert],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let _ = now;
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        let stmt = tx.prepare(
            "INSERT INTO alerts (patient_id, key, kind, severity, severity_rank, started_at, ended_at, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (patient_id, key) DO UPDATE SET ended_at = excluded.ended_at, detail = excluded.detail
             RETURNING (xmax = 0)",
        )?;
        let mut new = 0;
        for a in alerts {
            let kind = serde_json::to_value(a.kind)?;
            let severity = serde_json::to_value(a.severity)?;
            // xmax is 0 on a row this statement inserted, not on one it updated.
            let inserted: bool = tx
                .query_one(
                    &stmt,
                    &[
                        &b(patient.as_bytes()),
                        &a.key,
                        &kind.as_str().unwrap_or_default(),
                        &severity.as_str().unwrap_or_default(),
                        &i16::from(a.severity as u8),
                        &ts(a.started_at),
                        &a.ended_at.map(ts),
                        &serde_json::to_string(a)?,
                    ],
                )?
                .get(0);
            if inserted {
                new += 1;
            }
        }
        tx.commit()?;
        Ok(new)
    }

    fn alerts(&self, patient: Option<PatientId>, open_only: bool) -> Result<Vec<AlertRow>> {
        let mut sql = format!("{ALERT_SELECT} WHERE ($1::bytea IS NULL OR patient_id = $1)");
        if open_only {
            sql.push_str(" AND ack_at IS NULL");
        }
        sql.push_str(" ORDER BY severity_rank DESC, started_at DESC, id");
        let p = patient.map(|p| p.as_bytes().to_vec());
        let rows = self.client()?.query(&sql, &[&p])?;
        rows.iter().map(alert_row).collect()
    }

    fn alert(&self, id: i64) -> Result<Option<AlertRow>> {
        let row = self
            .client()?
            .query_opt(&format!("{ALERT_SELECT} WHERE id = $1"), &[&id])?;
        row.as_ref().map(alert_row).transpose()
    }

    fn acknowledge_alert(
        &self,
        id: i64,
        by: &CareTeamMember,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<AlertRow>> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        let row = tx.query_opt(&format!("{ALERT_SELECT} WHERE id = $1 FOR UPDATE"), &[&id])?;
        let Some(row) = row else { return Ok(None) };
        let row = alert_row(&row)?;
        tx.execute(
            "UPDATE alerts SET ack_at = $1, ack_by = $2, note = $3 WHERE id = $4",
            &[&ts(now), &by.name, &note, &id],
        )?;
        let ack = ilot_wire::AlertAck {
            alert_key: row.key.clone(),
            acknowledged_at: now,
            by: by.clone(),
            note: note.map(str::to_string),
        };
        push_feed(&mut tx, row.patient_id, None, &FeedItem::AlertAck(ack), now)?;
        tx.commit()?;
        Ok(Some(AlertRow {
            acknowledged_at: Some(now),
            acknowledged_by: Some(by.name.clone()),
            note: note.map(str::to_string),
            ..row
        }))
    }

    fn audit_log(&self, limit: u32) -> Result<Vec<AuditRow>> {
        let rows = self.client()?.query(
            &format!(
                "SELECT {} FROM audit a ORDER BY a.id DESC LIMIT $1",
                limits::AUDIT_COLUMNS
            ),
            &[&i64::from(limit)],
        )?;
        rows.iter().map(limits::audit_row).collect()
    }

    super::security_delegates!();
    super::limits_delegates!();
    super::revocation_delegates!();
    super::triage_delegates!();
    super::patient_delegates!();
    super::identity_delegates!();
    super::psc_delegates!();
    super::record_delegates!();
    super::consent_delegates!();
}
