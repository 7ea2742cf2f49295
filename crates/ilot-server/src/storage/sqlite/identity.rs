//! A patient's identity versions in SQLite (migration V8).

use ilot_wire::PatientId;
use rusqlite::params;

use super::super::identity::{IdentityVersion, NewIdentityVersion, status_name};
use super::SqliteStorage;
use super::rows::*;
use crate::error::Result;

type Raw = (
    u32,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    i64,
);

impl SqliteStorage {
    pub(super) fn ident_versions(&self, patient: PatientId) -> Result<Vec<IdentityVersion>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT v.version, v.identity, v.change, v.reason, v.operator_id, o.name, v.at_ms
             FROM identity_versions v LEFT JOIN operators o ON o.id = v.operator_id
             WHERE v.patient_id = ?1 ORDER BY v.version",
        )?;
        let rows: Vec<Raw> = stmt
            .query_map(params![patient.to_string()], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(
                |(version, json, change, reason, operator_id, operator_name, at)| {
                    Ok(IdentityVersion {
                        version,
                        identity: serde_json::from_str(&json)?,
                        change,
                        reason,
                        operator_id,
                        operator_name,
                        at: utc(at),
                    })
                },
            )
            .collect()
    }

    pub(super) fn ident_qualified(&self) -> Result<Vec<(PatientId, ilot_domain::ins::Identity)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT v.patient_id, v.identity FROM identity_versions v
             WHERE v.status = 'qualifiee'
               AND v.version = (SELECT MAX(x.version) FROM identity_versions x
                                WHERE x.patient_id = v.patient_id)",
        )?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, json)| {
                let id: PatientId = id.parse().map_err(|e| bad("patient id", e))?;
                Ok((id, serde_json::from_str(&json)?))
            })
            .collect()
    }

    pub(super) fn ident_add(&self, v: &NewIdentityVersion<'_>) -> Result<Option<IdentityVersion>> {
        let json = serde_json::to_string(v.identity)?;
        let n = self.conn().execute(
            "INSERT INTO identity_versions
                 (patient_id, version, identity, status, change, reason, operator_id, at_ms)
             SELECT ?1, ?2 + 1, ?3, ?4, ?5, ?6, ?7, ?8
             WHERE (SELECT COALESCE(MAX(version), 0) FROM identity_versions WHERE patient_id = ?1) = ?2
             ON CONFLICT DO NOTHING",
            params![
                v.patient.to_string(),
                v.after,
                json,
                status_name(v.identity.status),
                v.change,
                v.reason,
                v.operator_id,
                ms(v.at)
            ],
        )?;
        if n == 0 {
            return Ok(None);
        }
        Ok(self
            .ident_versions(v.patient)?
            .into_iter()
            .find(|x| x.version == v.after + 1))
    }
}
