//! The embedded backend: one SQLite file (plain SQLite through the workspace's rusqlite, created
//! `0600`; the secrets in it are sealed with the server key, see `crate::atrest`), one
//! connection behind a mutex, WAL. Enough for a practice or a test deployment; several API
//! nodes need the PostgreSQL backend.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use ilot_domain::{Entry, Prescription};
use ilot_rules::alerts::Alert;
use ilot_wire::{
    Appointment, CareRole, CareTeamMember, DeviceId, Message, PatientId, PrescriptionUpdate,
    ServerSecret,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    AlertRow, AuditRow, CodeRefusal, DeviceRow, FeedItem, IngestBatch, IngestOutcome, NewPatient,
    Operator, PatientRow, ServerEntry, Storage, StoredAck, TotpSecret,
};
use crate::atrest::{Sealed, ServerKey, open_server_secret};
use crate::error::{Result, ServerError};

mod atrest;
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
mod triage;

use rows::*;

/// Migrations in order; never edit a shipped one, append.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("v2_security.sql"),
    include_str!("v3_login.sql"),
    include_str!("v4_revocation.sql"),
    include_str!("v5_at_rest.sql"),
    include_str!("v6_triage.sql"),
    include_str!("v7_patient_page.sql"),
    include_str!("v8_identity.sql"),
    include_str!("v9_psc.sql"),
    include_str!("v10_retention.sql"),
    include_str!("v11_consent.sql"),
    include_str!("v12_reopen.sql"),
    include_str!("v13_list_reads.sql"),
];

#[derive(Debug)]
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    key: ServerKey,
}

impl SqliteStorage {
    /// Opens (or creates, `0600`) the database at `path`; a key that is not the database's is
    /// refused before anything is read or written.
    pub fn open(path: &Path, key: &ServerKey) -> Result<Self> {
        atrest::prepare_file(path)?;
        let conn = Connection::open(path)?;
        Self::init(conn, key)
    }

    pub fn open_in_memory(key: &ServerKey) -> Result<Self> {
        Self::init(Connection::open_in_memory()?, key)
    }

    fn init(mut conn: Connection, key: &ServerKey) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // Deleted and overwritten content is zeroed, so a secret sealed in place (V5) or a
        // used enrolment code leaves no clear copy in free space.
        conn.pragma_update(None, "secure_delete", true)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let tx = conn.transaction()?;
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(m)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            if i + 1 == 6 {
                // The daily summaries of the entries stored before them.
                triage::rebuild_all(&tx)?;
            }
        }
        let sealed = atrest::check_or_seal(&tx, key)?;
        tx.commit()?;
        if sealed {
            // The WAL still holds the pages with the clear values: copy the sealed ones into
            // the database and empty it.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(Self {
            conn: Mutex::new(conn),
            key: key.clone(),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolled back).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The patient (as stored) of an unused, unexpired enrolment code, read in `tx`; or why the
/// code cannot be used. `code` is the code's keyed hash.
pub(super) fn code_patient(
    tx: &rusqlite::Transaction<'_>,
    code: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<String, CodeRefusal>> {
    let row: Option<(String, i64, Option<i64>)> = tx
        .query_row(
            "SELECT patient_id, expires_ms, used_ms FROM enrolment_codes WHERE code = ?1",
            [code],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        None => Err(CodeRefusal::Unknown),
        Some((_, _, Some(_))) => Err(CodeRefusal::Used),
        Some((_, expires, None)) if ms(now) >= expires => Err(CodeRefusal::Expired),
        Some((patient, _, None)) => Ok(patient),
    })
}

/// Spends the code and registers the device for `patient` (as stored), marking the patient
/// enrolled, in `tx`: what enrolment and re-enrolment in place both write.
pub(super) fn register_device(
    tx: &rusqlite::Transaction<'_>,
    code: &str,
    device: &DeviceRow,
    patient: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE enrolment_codes SET used_ms = ?1 WHERE code = ?2",
        params![ms(now), code],
    )?;
    tx.execute(
        "INSERT INTO devices (id, patient_id, public_key, label, enrolled_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![device.id.to_string(), patient, device.public_key.to_string(), device.label, ms(now)],
    )?;
    tx.execute(
        "UPDATE patients SET enrolled_ms = ?1 WHERE id = ?2",
        params![ms(now), patient],
    )?;
    Ok(())
}

impl Storage for SqliteStorage {
    fn server_secret(&self, fresh: ServerSecret) -> Result<ServerSecret> {
        let conn = self.conn();
        let sealed = self
            .key
            .seal(Sealed::ServerSecret, fresh.to_bytes().as_slice())?;
        conn.execute(
            "INSERT OR IGNORE INTO server_key (id, secret) VALUES (1, ?1)",
            [sealed],
        )?;
        let bytes: Vec<u8> = conn.query_row("SELECT secret FROM server_key", [], |r| r.get(0))?;
        open_server_secret(&self.key, &bytes)
    }

    fn create_operator(
        &self,
        username: &str,
        name: &str,
        role: CareRole,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let conn = self.conn();
        let n = conn.execute(
            "INSERT OR IGNORE INTO operators (username, name, role, password_hash, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![username, name, role_name(role), password_hash, ms(now)],
        )?;
        if n == 0 {
            return Err(ServerError::refused(
                ilot_wire::api::ErrorCode::BadRequest,
                format!("an operator named {username:?} already exists; choose another user name"),
            ));
        }
        Ok(conn.last_insert_rowid())
    }

    fn operator_by_username(&self, username: &str) -> Result<Option<Operator>> {
        let conn = self.conn();
        let raw: Option<(i64, String, String, String, String)> = conn
            .query_row(
                "SELECT id, username, name, role, password_hash FROM operators
                 WHERE username = ?1 AND disabled_ms IS NULL",
                [username],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        raw.map(|(id, username, name, role, password_hash)| {
            Ok(Operator {
                id,
                username,
                name,
                role: role_of(&role)?,
                password_hash,
            })
        })
        .transpose()
    }

    fn create_session(
        &self,
        token_hash: &[u8; 32],
        operator_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.rev_create_session(token_hash, operator_id, now, expires_at)
    }

    fn session(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<Option<Operator>> {
        self.rev_session(token_hash, now, idle_since)
    }

    fn create_patient(
        &self,
        p: &NewPatient,
        id: PatientId,
        by: &CareTeamMember,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO patients (id, pseudonym, ins, tz, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id.to_string(), p.pseudonym, p.ins, p.tz.name(), ms(now)],
        )?;
        insert_prescription(&tx, id, &p.prescription, by, now)?;
        tx.commit()?;
        Ok(())
    }

    fn patient(&self, id: PatientId) -> Result<Option<PatientRow>> {
        let conn = self.conn();
        let raw = conn
            .query_row(
                &format!("{PATIENT_SELECT} WHERE id = ?1"),
                [id.to_string()],
                read_patient,
            )
            .optional()?;
        raw.map(patient_row).transpose()
    }

    fn patients(&self) -> Result<Vec<PatientRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{PATIENT_SELECT} ORDER BY created_ms, id"))?;
        let raws = stmt
            .query_map([], read_patient)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(patient_row).collect()
    }

    fn add_enrolment_code(
        &self,
        code: &str,
        patient: PatientId,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO enrolment_codes (code, patient_id, expires_ms) VALUES (?1, ?2, ?3)",
            params![
                self.key.code_hash(code),
                patient.to_string(),
                ms(expires_at)
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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let patient = match code_patient(&tx, code, now)? {
            Ok(p) => p,
            Err(why) => return Ok(Err(why)),
        };
        register_device(&tx, code, device, &patient, now)?;
        tx.commit()?;
        Ok(Ok(patient.parse().map_err(|e| bad("patient id", e))?))
    }

    fn device(&self, id: DeviceId) -> Result<Option<DeviceRow>> {
        let conn = self.conn();
        let raw = conn
            .query_row(
                "SELECT id, patient_id, public_key, label, enrolled_ms, last_batch_seq FROM devices
                 WHERE id = ?1 AND revoked_ms IS NULL",
                [id.to_string()],
                device_row,
            )
            .optional()?;
        raw.map(|(id, patient, key, label, enrolled, last)| {
            Ok(DeviceRow {
                id: id.parse().map_err(|e| bad("device id", e))?,
                patient_id: patient.parse().map_err(|e| bad("patient id", e))?,
                public_key: key.parse().map_err(|e| bad("device key", e))?,
                label,
                enrolled_at: utc(enrolled),
                last_batch_seq: last.map(|s| s as u64),
            })
        })
        .transpose()
    }

    fn ingest(&self, b: &IngestBatch<'_>) -> Result<IngestOutcome> {
        self.ingest_batch(b)
    }

    fn batch_ack(&self, device: DeviceId, seq: u64) -> Result<Option<StoredAck>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        ack_of(&tx, &device.to_string(), seq)
    }

    fn entries(
        &self,
        patient: PatientId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        include_deleted: bool,
    ) -> Result<Vec<ServerEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT e.device_id, e.entry_id, e.version, e.deleted, e.recorded_ms, e.received_ms, e.json FROM entries e
             WHERE e.patient_id = ?1 AND e.at_ms >= ?2 AND e.at_ms < ?3
               AND e.version = (SELECT MAX(version) FROM entries x WHERE x.device_id = e.device_id AND x.entry_id = e.entry_id)
             ORDER BY e.at_ms, e.device_id, e.entry_id",
        )?;
        let rows = stmt
            .query_map(params![patient.to_string(), ms(from), ms(to)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (device, id, version, deleted, recorded, received, json) in rows {
            if deleted && !include_deleted {
                continue;
            }
            let entry: Entry = serde_json::from_str(&json)?;
            out.push(ServerEntry {
                device_id: device.parse().map_err(|e| bad("device id", e))?,
                entry_id: id,
                version,
                deleted,
                recorded_at: utc(recorded),
                received_at: utc(received),
                entry,
            });
        }
        Ok(out)
    }

    fn count_entry_versions(&self, patient: PatientId) -> Result<u64> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM entries WHERE patient_id = ?1",
            [patient.to_string()],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    fn prescription(&self, patient: PatientId) -> Result<Option<PrescriptionUpdate>> {
        let conn = self.conn();
        let json: Option<String> = conn
            .query_row(
                "SELECT json FROM prescriptions WHERE patient_id = ?1 ORDER BY version DESC LIMIT 1",
                [patient.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(ServerError::from))
            .transpose()
    }

    fn set_prescription(
        &self,
        patient: PatientId,
        p: &Prescription,
        by: &CareTeamMember,
        now: DateTime<Utc>,
    ) -> Result<PrescriptionUpdate> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let u = insert_prescription(&tx, patient, p, by, now)?;
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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // The feed row id doubles as the message id: unique and growing.
        let id: i64 = tx.query_row("SELECT COALESCE(MAX(cursor), 0) + 1 FROM feed", [], |r| {
            r.get(0)
        })?;
        let m = Message {
            id: id as u64,
            from: from.clone(),
            text: text.to_string(),
            sent_at: now,
        };
        push_feed(&tx, patient, &FeedItem::Message(m.clone()), now)?;
        tx.commit()?;
        Ok(m)
    }

    fn add_appointment(&self, patient: PatientId, a: &Appointment) -> Result<Appointment> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        push_feed(&tx, patient, &FeedItem::Appointment(a.clone()), a.starts_at)?;
        tx.commit()?;
        Ok(a.clone())
    }

    fn feed(&self, patient: PatientId, since: u64, limit: u32) -> Result<Vec<(u64, FeedItem)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT cursor, item FROM feed WHERE patient_id = ?1 AND cursor > ?2 ORDER BY cursor LIMIT ?3",
        )?;
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![patient.to_string(), since, limit], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(c, j)| Ok((c as u64, serde_json::from_str(&j)?)))
            .collect()
    }

    fn upsert_alerts(
        &self,
        patient: PatientId,
        alerts: &[Alert],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let _ = now;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut new = 0;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO alerts (patient_id, key, kind, severity, severity_rank, started_ms, ended_ms, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (patient_id, key) DO UPDATE SET ended_ms = excluded.ended_ms, detail = excluded.detail",
            )?;
            let mut exists =
                tx.prepare_cached("SELECT 1 FROM alerts WHERE patient_id = ?1 AND key = ?2")?;
            for a in alerts {
                let known = exists.exists(params![patient.to_string(), a.key])?;
                let kind = serde_json::to_value(a.kind)?;
                let severity = serde_json::to_value(a.severity)?;
                ins.execute(params![
                    patient.to_string(),
                    a.key,
                    kind.as_str().unwrap_or_default(),
                    severity.as_str().unwrap_or_default(),
                    a.severity as u8,
                    ms(a.started_at),
                    a.ended_at.map(ms),
                    serde_json::to_string(a)?,
                ])?;
                if !known {
                    new += 1;
                }
            }
        }
        tx.commit()?;
        Ok(new)
    }

    fn alerts(&self, patient: Option<PatientId>, open_only: bool) -> Result<Vec<AlertRow>> {
        let conn = self.conn();
        let mut sql = format!("{ALERT_SELECT} WHERE (?1 IS NULL OR patient_id = ?1)");
        if open_only {
            sql.push_str(" AND ack_ms IS NULL");
        }
        sql.push_str(" ORDER BY severity_rank DESC, started_ms DESC, id");
        let mut stmt = conn.prepare_cached(&sql)?;
        let raws = stmt
            .query_map([patient.map(|p| p.to_string())], read_alert)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(alert_row).collect()
    }

    fn alert(&self, id: i64) -> Result<Option<AlertRow>> {
        let conn = self.conn();
        let raw = conn
            .query_row(&format!("{ALERT_SELECT} WHERE id = ?1"), [id], read_alert)
            .optional()?;
        raw.map(alert_row).transpose()
    }

    fn acknowledge_alert(
        &self,
        id: i64,
        by: &CareTeamMember,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<AlertRow>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let raw = tx
            .query_row(&format!("{ALERT_SELECT} WHERE id = ?1"), [id], read_alert)
            .optional()?;
        let Some(raw) = raw else { return Ok(None) };
        let row = alert_row(raw)?;
        tx.execute(
            "UPDATE alerts SET ack_ms = ?1, ack_by = ?2, note = ?3 WHERE id = ?4",
            params![ms(now), by.name, note, id],
        )?;
        let ack = ilot_wire::AlertAck {
            alert_key: row.key.clone(),
            acknowledged_at: now,
            by: by.clone(),
            note: note.map(str::to_string),
        };
        push_feed(&tx, row.patient_id, &FeedItem::AlertAck(ack), now)?;
        tx.commit()?;
        Ok(Some(AlertRow {
            acknowledged_at: Some(now),
            acknowledged_by: Some(by.name.clone()),
            note: note.map(str::to_string),
            ..row
        }))
    }

    fn audit_log(&self, limit: u32) -> Result<Vec<AuditRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM audit a ORDER BY a.id DESC LIMIT ?1",
            limits::AUDIT_COLUMNS
        ))?;
        let rows = stmt
            .query_map([limit], limits::read_audit)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(limits::audit_row).collect()
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
