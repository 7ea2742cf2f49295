//! SQLite bodies of the Pro Santé Connect methods (migration V9): login flows under way, taken
//! once, and the RPPS linked to each operator; the `Storage` impl delegates here.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::SqliteStorage;
use super::rows::{ms, role_of, utc};
use crate::error::Result;
use crate::storage::{Operator, PscFlow, rpps_taken};

impl SqliteStorage {
    pub(super) fn psc_store_flow(
        &self,
        state_hash: &[u8; 32],
        flow: &PscFlow,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM psc_flows WHERE expires_ms <= ?1", [ms(now)])?;
        tx.execute(
            "INSERT INTO psc_flows (state_hash, nonce, pkce_verifier, created_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                state_hash.as_slice(),
                flow.nonce,
                flow.pkce_verifier,
                ms(now),
                ms(flow.expires_at)
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
        let row: Option<(String, String, i64)> = self
            .conn()
            .query_row(
                "DELETE FROM psc_flows WHERE state_hash = ?1
                 RETURNING nonce, pkce_verifier, expires_ms",
                [state_hash.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row
            .map(|(nonce, pkce_verifier, exp)| PscFlow {
                nonce,
                pkce_verifier,
                expires_at: utc(exp),
            })
            .filter(|f| f.expires_at > now))
    }

    pub(super) fn psc_link_rpps(
        &self,
        operator_id: i64,
        rpps: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let linked: Option<i64> = tx
            .query_row(
                "SELECT operator_id FROM operator_rpps WHERE rpps = ?1",
                [rpps],
                |r| r.get(0),
            )
            .optional()?;
        if linked.is_some() {
            return Err(rpps_taken(true));
        }
        let has: Option<String> = tx
            .query_row(
                "SELECT rpps FROM operator_rpps WHERE operator_id = ?1",
                [operator_id],
                |r| r.get(0),
            )
            .optional()?;
        if has.is_some() {
            return Err(rpps_taken(false));
        }
        tx.execute(
            "INSERT INTO operator_rpps (rpps, operator_id, linked_ms) VALUES (?1, ?2, ?3)",
            params![rpps, operator_id, ms(now)],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn psc_unlink_rpps(&self, operator_id: i64) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "DELETE FROM operator_rpps WHERE operator_id = ?1 RETURNING rpps",
                [operator_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub(super) fn psc_operator_by_rpps(&self, rpps: &str) -> Result<Option<Operator>> {
        let raw: Option<(i64, String, String, String, String)> = self
            .conn()
            .query_row(
                "SELECT o.id, o.username, o.name, o.role, o.password_hash
                 FROM operator_rpps l JOIN operators o ON o.id = l.operator_id
                 WHERE l.rpps = ?1 AND o.disabled_ms IS NULL",
                [rpps],
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

    pub(super) fn psc_rpps_of(&self, operator_id: i64) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT rpps FROM operator_rpps WHERE operator_id = ?1",
                [operator_id],
                |r| r.get(0),
            )
            .optional()?)
    }
}
