//! The outbox: every change to entries, the profile and the prescription, in commit order, for the
//! sync engine. Rows are appended in the transaction of the change itself (by the write path or
//! by triggers), so a committed change always has its outbox row; this module only reads them and
//! records sending.

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::error::{Result, StoreError};
use crate::{EntryId, Store, ms, utc_from_ms};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxTarget {
    Entry(EntryId),
    Profile,
    Prescription,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxOp {
    Insert,
    Update,
    Delete,
}

/// One change waiting to be sent. The content is the `version` of the target (for an entry:
/// [`Store::history`] holds every version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: i64,
    pub target: OutboxTarget,
    pub version: u32,
    pub op: OutboxOp,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// The oldest `limit` changes not yet sent, in the order they were made.
    pub fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxItem>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, entity, entity_id, version, op, created_ms FROM outbox
             WHERE seq >= ?1 AND sent_ms IS NULL ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map([outbox_floor(&self.conn)?, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, u8>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, u8>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, entity, entity_id, version, op, created_ms) = row?;
            let target = match entity {
                1 => OutboxTarget::Entry(entity_id),
                2 => OutboxTarget::Profile,
                3 => OutboxTarget::Prescription,
                e => return Err(StoreError::Codec(format!("unknown outbox entity {e}"))),
            };
            let op = match op {
                1 => OutboxOp::Insert,
                2 => OutboxOp::Update,
                3 => OutboxOp::Delete,
                o => return Err(StoreError::Codec(format!("unknown outbox op {o}"))),
            };
            Ok(OutboxItem {
                seq,
                target,
                version,
                op,
                created_at: utc_from_ms(created_ms)?,
            })
        })
        .collect()
    }

    /// Records that the changes `seqs` reached the server. Marking a change twice keeps its first
    /// time; unknown sequence numbers are ignored (the server acknowledges what it received).
    pub fn mark_sent(&mut self, seqs: &[i64], now: DateTime<Utc>) -> Result<()> {
        let tx = self.write_tx()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET sent_ms = ?2 WHERE seq = ?1 AND sent_ms IS NULL",
            )?;
            for seq in seqs {
                stmt.execute(params![seq, ms(now)])?;
            }
        }
        // Raise the floor past the rows now sent; it only ever scans what was just marked.
        let floor = outbox_floor(&tx)?;
        let next: i64 = tx
            .prepare_cached(
                "SELECT coalesce(
                    (SELECT seq FROM outbox WHERE seq >= ?1 AND sent_ms IS NULL ORDER BY seq LIMIT 1),
                    (SELECT coalesce(max(seq), 0) + 1 FROM outbox))",
            )?
            .query_row([floor], |r| r.get(0))?;
        if next != floor {
            tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'outbox_floor'")?
                .execute([next.to_string()])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Number of changes not yet sent.
    pub fn outbox_len(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM outbox WHERE seq >= ?1 AND sent_ms IS NULL")?
            .query_row([outbox_floor(&self.conn)?], |r| r.get(0))?;
        u64::try_from(n).map_err(|_| StoreError::Codec(format!("negative count {n}")))
    }
}

pub(crate) fn count(conn: &rusqlite::Connection, sql: &str) -> Result<u64> {
    let n: i64 = conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?;
    u64::try_from(n).map_err(|_| StoreError::Codec(format!("negative count {n}")))
}

/// Every outbox row below this sequence number was sent (see `schema.rs`).
fn outbox_floor(conn: &rusqlite::Connection) -> Result<i64> {
    let text: String = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'outbox_floor'")?
        .query_row([], |r| r.get(0))?;
    text.parse()
        .map_err(|_| StoreError::Codec(format!("invalid outbox floor {text:?}")))
}
