//! PostgreSQL bodies of the Pro Santé Connect methods (migration V9): login flows under way,
//! taken once, and the RPPS linked to each operator; the `Storage` impl delegates here. Same
//! answers as the SQLite backend (`tests/it/psc_storage.rs`).

use chrono::{DateTime, Utc};

use super::PostgresStorage;
use super::rows::{OPERATOR_COLUMNS, operator_row, ts};
use crate::error::Result;
use crate::storage::{Operator, PscFlow, rpps_taken};

impl PostgresStorage {
    pub(super) fn psc_store_flow(
        &self,
        state_hash: &[u8; 32],
        flow: &PscFlow,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        tx.execute("DELETE FROM psc_flows WHERE expires_at <= $1", &[&ts(now)])?;
        tx.execute(
            "INSERT INTO psc_flows (state_hash, nonce, pkce_verifier, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &state_hash.as_slice(),
                &flow.nonce,
                &flow.pkce_verifier,
                &ts(now),
                &ts(flow.expires_at),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn psc_take_flow(
        &self,
        state_hash: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Option<PscFlow>> {
        let row = self.client()?.query_opt(
            "DELETE FROM psc_flows WHERE state_hash = $1
             RETURNING nonce, pkce_verifier, expires_at",
            &[&state_hash.as_slice()],
        )?;
        Ok(row
            .map(|r| PscFlow {
                nonce: r.get(0),
                pkce_verifier: r.get(1),
                expires_at: r.get(2),
            })
            .filter(|f| f.expires_at > now))
    }

    pub(super) fn psc_link_rpps(
        &self,
        operator_id: i64,
        rpps: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        // Two administrators linking at once: the second waits, then sees the first's row.
        tx.execute("LOCK TABLE operator_rpps IN SHARE ROW EXCLUSIVE MODE", &[])?;
        if tx
            .query_opt("SELECT 1 FROM operator_rpps WHERE rpps = $1", &[&rpps])?
            .is_some()
        {
            return Err(rpps_taken(true));
        }
        if tx
            .query_opt(
                "SELECT 1 FROM operator_rpps WHERE operator_id = $1",
                &[&operator_id],
            )?
            .is_some()
        {
            return Err(rpps_taken(false));
        }
        tx.execute(
            "INSERT INTO operator_rpps (rpps, operator_id, linked_at) VALUES ($1, $2, $3)",
            &[&rpps, &operator_id, &ts(now)],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn psc_unlink_rpps(&self, operator_id: i64) -> Result<Option<String>> {
        Ok(self
            .client()?
            .query_opt(
                "DELETE FROM operator_rpps WHERE operator_id = $1 RETURNING rpps",
                &[&operator_id],
            )?
            .map(|r| r.get(0)))
    }

    pub(super) fn psc_operator_by_rpps(&self, rpps: &str) -> Result<Option<Operator>> {
        let row = self.client()?.query_opt(
            &format!(
                "SELECT {OPERATOR_COLUMNS} FROM operator_rpps l
                 JOIN operators o ON o.id = l.operator_id
                 WHERE l.rpps = $1 AND o.disabled_at IS NULL"
            ),
            &[&rpps],
        )?;
        row.as_ref().map(operator_row).transpose()
    }

    pub(super) fn psc_rpps_of(&self, operator_id: i64) -> Result<Option<String>> {
        Ok(self
            .client()?
            .query_opt(
                "SELECT rpps FROM operator_rpps WHERE operator_id = $1",
                &[&operator_id],
            )?
            .map(|r| r.get(0)))
    }
}
