//! A patient's identity versions in PostgreSQL (migration V8); the answers are the SQLite
//! backend's.

use chrono::{DateTime, Utc};
use ilot_wire::PatientId;

use super::super::identity::{IdentityVersion, NewIdentityVersion, status_name};
use super::PostgresStorage;
use super::rows::*;
use crate::error::Result;

impl PostgresStorage {
    pub(super) fn ident_versions(&self, patient: PatientId) -> Result<Vec<IdentityVersion>> {
        let rows = self.client()?.query(
            "SELECT v.version, v.identity, v.change, v.reason, v.operator_id, o.name, v.at
             FROM identity_versions v LEFT JOIN operators o ON o.id = v.operator_id
             WHERE v.patient_id = $1 ORDER BY v.version",
            &[&patient.as_bytes().as_slice()],
        )?;
        rows.iter()
            .map(|r| {
                let version: i32 = r.get(0);
                let json: &str = r.get(1);
                let at: DateTime<Utc> = r.get(6);
                Ok(IdentityVersion {
                    version: version as u32,
                    identity: serde_json::from_str(json)?,
                    change: r.get(2),
                    reason: r.get(3),
                    operator_id: r.get(4),
                    operator_name: r.get(5),
                    at,
                })
            })
            .collect()
    }

    pub(super) fn ident_qualified(&self) -> Result<Vec<(PatientId, ilot_domain::ins::Identity)>> {
        let rows = self.client()?.query(
            "SELECT v.patient_id, v.identity FROM identity_versions v
             WHERE v.status = 'qualifiee'
               AND v.version = (SELECT MAX(x.version) FROM identity_versions x
                                WHERE x.patient_id = v.patient_id)",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                let json: &str = r.get(1);
                Ok((patient_id(r.get(0))?, serde_json::from_str(json)?))
            })
            .collect()
    }

    pub(super) fn ident_add(&self, v: &NewIdentityVersion<'_>) -> Result<Option<IdentityVersion>> {
        let json = serde_json::to_string(v.identity)?;
        let after = i32::try_from(v.after).unwrap_or(i32::MAX - 1);
        let n = self.client()?.execute(
            "INSERT INTO identity_versions
                 (patient_id, version, identity, status, change, reason, operator_id, at)
             SELECT $1, $2 + 1, $3, $4, $5, $6, $7, $8
             WHERE (SELECT COALESCE(MAX(version), 0) FROM identity_versions WHERE patient_id = $1) = $2
             ON CONFLICT DO NOTHING",
            &[
                &v.patient.as_bytes().as_slice(),
                &after,
                &json,
                &status_name(v.identity.status),
                &v.change,
                &v.reason,
                &v.operator_id,
                &ts(v.at),
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
