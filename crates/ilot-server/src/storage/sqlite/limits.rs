//! SQLite bodies of the failed-attempt counters and the audit records (migration V3), kept
//! apart from `sqlite.rs`; the `Storage` impl delegates here.

use chrono::{DateTime, Utc};
use rusqlite::{TransactionBehavior, params};

use super::SqliteStorage;
use super::rows::{bad, ms, utc};
use crate::error::Result;
use crate::ratelimit::{RateKey, wait_seconds};
use crate::storage::{AuditEvent, AuditRow};

/// The columns [`audit_row`] reads, in order.
pub(super) const AUDIT_COLUMNS: &str =
    "a.id, a.operator_id, a.action, a.patient_id, a.at_ms, a.client, a.detail";

type RawAudit = (
    i64,
    Option<i64>,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
);

pub(super) fn read_audit(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawAudit> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

pub(super) fn audit_row(
    (id, operator_id, action, p, at, client, detail): RawAudit,
) -> Result<AuditRow> {
    Ok(AuditRow {
        id,
        operator_id,
        action,
        patient_id: p
            .map(|p| p.parse())
            .transpose()
            .map_err(|e| bad("patient id", e))?,
        at: utc(at),
        client,
        detail: detail
            .map(|d| serde_json::from_str(&d))
            .transpose()
            .map_err(|e| bad("audit detail", e))?,
    })
}

impl SqliteStorage {
    pub(super) fn lim_count_attempt(
        &self,
        keys: &[RateKey],
        now: DateTime<Utc>,
    ) -> Result<Option<u64>> {
        let now = ms(now);
        let mut conn = self.conn();
        conn.execute("DELETE FROM rate_limits WHERE expires_ms <= ?1", [now])?;
        // IMMEDIATE: another process on the same file waits here rather than counting from
        // the same old value.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut wait = None;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO rate_limits (key, hits, expires_ms) VALUES (?1, 1, ?2 + ?3)
                 ON CONFLICT (key) DO UPDATE SET
                   hits = CASE WHEN expires_ms <= ?2 THEN 1 ELSE hits + 1 END,
                   expires_ms = CASE WHEN expires_ms <= ?2 THEN ?2 + ?3 ELSE expires_ms END
                 RETURNING hits, expires_ms",
            )?;
            for k in keys {
                let (hits, expires): (i64, i64) = stmt
                    .query_row(params![k.hash.as_slice(), now, k.window_ms()], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?;
                if hits > i64::from(k.limit.attempts) {
                    let w = wait_seconds(expires, now);
                    wait = Some(wait.map_or(w, |o: u64| o.max(w)));
                }
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
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for k in keys {
            tx.execute(
                "UPDATE rate_limits SET hits = hits - 1
                 WHERE key = ?1 AND hits > 0 AND expires_ms > ?2",
                params![k.hash.as_slice(), ms(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(super) fn lim_rate_windows(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM rate_limits", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// The record and its links to the patients a list showed (V13), in one transaction.
    pub(super) fn lim_record_audit(&self, e: &AuditEvent) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO audit (operator_id, action, patient_id, at_ms, client, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                e.operator_id,
                e.action,
                e.patient_id.map(|p| p.to_string()),
                ms(e.at),
                e.client,
                e.detail.as_ref().map(|d| d.to_string()),
            ],
        )?;
        if !e.shown.is_empty() {
            let id = tx.last_insert_rowid();
            // A patient shown twice (several billing rows) is one link.
            let mut link = tx.prepare_cached(
                "INSERT OR IGNORE INTO audit_patients (audit_id, patient_id) VALUES (?1, ?2)",
            )?;
            for p in &e.shown {
                link.execute(params![id, p.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
