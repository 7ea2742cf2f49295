//! PostgreSQL bodies of the failed-attempt counters and the audit records (migration V3), kept
//! apart from `postgres.rs`; the `Storage` impl delegates here. Same answers as the SQLite
//! backend (`tests/it/conformance_limits.rs`).
//!
//! Two nodes counting the same key at once: `INSERT … ON CONFLICT DO UPDATE` locks the row
//! until the transaction ends, so the second one counts from the first one's result. Keys are
//! taken in one order (by hash) so that two transactions never wait for each other in a circle.

use chrono::{DateTime, Utc};
use postgres::Row;

use super::PostgresStorage;
use super::rows::{patient_id, ts};
use crate::error::Result;
use crate::ratelimit::{RateKey, wait_seconds};
use crate::storage::{AuditEvent, AuditRow};

/// The columns [`audit_row`] reads, in order.
pub(super) const AUDIT_COLUMNS: &str =
    "a.id, a.operator_id, a.action, a.patient_id, a.at, a.client, a.detail";

pub(super) fn audit_row(r: &Row) -> Result<AuditRow> {
    let p: Option<&[u8]> = r.get(3);
    let detail: Option<String> = r.get(6);
    Ok(AuditRow {
        id: r.get(0),
        operator_id: r.get(1),
        action: r.get(2),
        patient_id: p.map(patient_id).transpose()?,
        at: r.get(4),
        client: r.get(5),
        detail: detail.map(|d| serde_json::from_str(&d)).transpose()?,
    })
}

impl PostgresStorage {
    pub(super) fn lim_count_attempt(
        &self,
        keys: &[RateKey],
        now: DateTime<Utc>,
    ) -> Result<Option<u64>> {
        let now = now.timestamp_millis();
        let mut c = self.client()?;
        c.execute("DELETE FROM rate_limits WHERE expires_ms <= $1", &[&now])?;
        let mut keys = keys.to_vec();
        keys.sort_by_key(|k| k.hash);
        let mut tx = c.transaction()?;
        let stmt = tx.prepare(
            "INSERT INTO rate_limits AS r (key, hits, expires_ms)
             VALUES ($1, 1, $2::BIGINT + $3::BIGINT)
             ON CONFLICT (key) DO UPDATE SET
               hits = CASE WHEN r.expires_ms <= $2 THEN 1 ELSE r.hits + 1 END,
               expires_ms = CASE WHEN r.expires_ms <= $2 THEN $2 + $3 ELSE r.expires_ms END
             RETURNING hits, expires_ms",
        )?;
        let mut wait = None;
        for k in &keys {
            let row = tx.query_one(&stmt, &[&k.hash.as_slice(), &now, &k.window_ms()])?;
            let (hits, expires): (i64, i64) = (row.get(0), row.get(1));
            if hits > i64::from(k.limit.attempts) {
                let w = wait_seconds(expires, now);
                wait = Some(wait.map_or(w, |o: u64| o.max(w)));
            }
        }
        if wait.is_some() {
            // Nothing is counted for a refused attempt.
            tx.rollback()?;
        } else {
            tx.commit()?;
        }
        Ok(wait)
    }

    pub(super) fn lim_forgive_attempt(&self, keys: &[RateKey], now: DateTime<Utc>) -> Result<()> {
        let mut keys = keys.to_vec();
        keys.sort_by_key(|k| k.hash);
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        for k in &keys {
            tx.execute(
                "UPDATE rate_limits SET hits = hits - 1
                 WHERE key = $1 AND hits > 0 AND expires_ms > $2",
                &[&k.hash.as_slice(), &now.timestamp_millis()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(super) fn lim_rate_windows(&self) -> Result<u64> {
        let n: i64 = self
            .client()?
            .query_one("SELECT COUNT(*) FROM rate_limits", &[])?
            .get(0);
        Ok(n as u64)
    }

    /// The record and its links to the patients a list showed (V13), in one transaction; the
    /// links in one statement (an array of ids), whatever their number.
    pub(super) fn lim_record_audit(&self, e: &AuditEvent) -> Result<()> {
        let p = e.patient_id.map(|p| p.as_bytes().to_vec());
        let detail = e.detail.as_ref().map(|d| d.to_string());
        let mut client = self.client()?;
        if e.shown.is_empty() {
            // One statement: no transaction round trips for the common record.
            client.execute(
                "INSERT INTO audit (operator_id, action, patient_id, at, client, detail)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&e.operator_id, &e.action, &p, &ts(e.at), &e.client, &detail],
            )?;
            return Ok(());
        }
        let mut tx = client.transaction()?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO audit (operator_id, action, patient_id, at, client, detail)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[&e.operator_id, &e.action, &p, &ts(e.at), &e.client, &detail],
            )?
            .get(0);
        let shown: Vec<&[u8]> = e.shown.iter().map(|p| p.as_bytes().as_slice()).collect();
        // A patient shown twice (several billing rows) is one link.
        tx.execute(
            "INSERT INTO audit_patients (audit_id, patient_id)
             SELECT DISTINCT $1::BIGINT, p FROM unnest($2::BYTEA[]) AS p
             ON CONFLICT DO NOTHING",
            &[&id, &shown],
        )?;
        tx.commit()?;
        Ok(())
    }
}
