//! The PostgreSQL side of the triage (migration V6): daily glucose summaries rewritten inside
//! the ingest's transaction (which holds the patient's row lock, so two nodes ingesting for
//! the same patient rewrite its days one after the other), read back for a team, and the
//! review marks.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use ilot_domain::Entry;
use ilot_wire::PatientId;
use r2d2_postgres::postgres::{GenericClient, Row};

use super::PostgresStorage;
use super::rows::{bad, patient_id, ts};
use crate::error::Result;
use crate::storage::{GlucoseDay, ReviewRow};
use crate::summary;

/// Recomputes the patient's rows of `days` from the stored entries, inside the caller's
/// transaction: the latest version of each glucose entry of the day, deleted ones left out.
pub(super) fn refresh_days(
    tx: &mut impl GenericClient,
    patient: &[u8],
    tz: Tz,
    days: &BTreeSet<NaiveDate>,
) -> Result<()> {
    let insert = format!(
        "INSERT INTO glucose_days (patient_id, day, starts_at, {}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        summary::COLUMNS
    );
    for d in days {
        let (from, to) = summary::bounds(tz, *d);
        let rows = tx.query(
            "SELECT e.entry FROM entries e
             WHERE e.patient_id = $1 AND e.kind = 'glucose' AND e.at >= $2 AND e.at < $3
               AND NOT e.deleted
               AND e.version = (SELECT MAX(x.version) FROM entries x
                                WHERE x.patient_id = e.patient_id AND x.device_id = e.device_id AND x.entry_id = e.entry_id)
             ORDER BY e.at",
            &[&patient, &ts(from), &ts(to)],
        )?;
        let entries = rows
            .iter()
            .map(|r| Ok(serde_json::from_str::<Entry>(r.get::<_, &str>(0))?))
            .collect::<Result<Vec<_>>>()?;
        tx.execute(
            "DELETE FROM glucose_days WHERE patient_id = $1 AND day = $2",
            &[&patient, d],
        )?;
        if entries.is_empty() {
            continue;
        }
        let s = summary::summary_of(&entries);
        let i = summary::ints(&s);
        let sp = summary::spacings_text(&s);
        tx.execute(
            insert.as_str(),
            &[
                &patient,
                d,
                &ts(from),
                &i[0],
                &i[1],
                &i[2],
                &i[3],
                &i[4],
                &i[5],
                &i[6],
                &i[7],
                &i[8],
                &i[9],
                &i[10],
                &i[11],
                &i[12],
                &i[13],
                &s.mean,
                &s.m2,
                &s.cgm_first_us,
                &s.cgm_last_us,
                &sp,
            ],
        )?;
    }
    Ok(())
}

/// Writes the rows of every patient's days from the entries stored before V6.
pub(super) fn rebuild_all(tx: &mut impl GenericClient) -> Result<()> {
    let patients = tx.query("SELECT id, tz FROM patients", &[])?;
    for p in patients {
        let id: &[u8] = p.get(0);
        let tz: Tz = p
            .get::<_, &str>(1)
            .parse()
            .map_err(|e| bad("patient time zone", e))?;
        let times: Vec<DateTime<Utc>> = tx
            .query(
                "SELECT at FROM entries WHERE patient_id = $1 AND kind = 'glucose'",
                &[&id],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        refresh_days(tx, id, tz, &summary::days_of(tz, times))?;
    }
    Ok(())
}

const REVIEW_SELECT: &str = "SELECT r.id, r.patient_id, r.operator_id, o.name, r.at FROM reviews r JOIN operators o ON o.id = r.operator_id";

fn review_of(r: &Row) -> Result<ReviewRow> {
    Ok(ReviewRow {
        id: r.get(0),
        patient_id: patient_id(r.get(1))?,
        operator_id: r.get(2),
        by: r.get(3),
        at: r.get(4),
    })
}

impl PostgresStorage {
    pub(super) fn tri_glucose_days(
        &self,
        team: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<GlucoseDay>> {
        let cols = summary::COLUMNS
            .split(", ")
            .map(|c| format!("g.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = self.client()?.query(
            &format!(
                "SELECT g.patient_id, g.day, {cols} FROM patients p JOIN glucose_days g ON g.patient_id = p.id AND g.day >= $3
                 WHERE p.team_id = $1 AND g.starts_at >= $2 ORDER BY g.patient_id, g.day"
            ),
            &[
                &team,
                &ts(since),
                &since.date_naive().pred_opt().unwrap_or(since.date_naive()),
            ],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut ints = [0i64; 14];
            for (k, v) in ints.iter_mut().enumerate() {
                *v = r.get(2 + k);
            }
            out.push(GlucoseDay {
                patient_id: patient_id(r.get(0))?,
                day: r.get(1),
                summary: summary::from_columns(
                    ints,
                    r.get(16),
                    r.get(17),
                    r.get(18),
                    r.get(19),
                    r.get(20),
                )?,
            });
        }
        Ok(out)
    }

    pub(super) fn tri_add_review(
        &self,
        patient: PatientId,
        operator_id: i64,
        now: DateTime<Utc>,
    ) -> Result<ReviewRow> {
        let mut c = self.client()?;
        let id: i64 = c
            .query_one(
                "INSERT INTO reviews (patient_id, operator_id, at) VALUES ($1, $2, $3) RETURNING id",
                &[&patient.as_bytes().as_slice(), &operator_id, &ts(now)],
            )?
            .get(0);
        let r = c.query_one(&format!("{REVIEW_SELECT} WHERE r.id = $1"), &[&id])?;
        review_of(&r)
    }

    pub(super) fn tri_undo_review(
        &self,
        patient: PatientId,
        operator_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<ReviewRow>> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        let Some(r) = tx.query_opt(
            &format!(
                "{REVIEW_SELECT} WHERE r.patient_id = $1 AND r.operator_id = $2 AND r.undone_at IS NULL
                 ORDER BY r.at DESC, r.id DESC LIMIT 1 FOR UPDATE OF r"
            ),
            &[&patient.as_bytes().as_slice(), &operator_id],
        )?
        else {
            return Ok(None);
        };
        let row = review_of(&r)?;
        tx.execute(
            "UPDATE reviews SET undone_at = $1 WHERE id = $2",
            &[&ts(now), &row.id],
        )?;
        tx.commit()?;
        Ok(Some(row))
    }

    pub(super) fn tri_team_reviews(
        &self,
        team: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<ReviewRow>> {
        let rows = self.client()?.query(
            &format!(
                "{REVIEW_SELECT} JOIN patients p ON p.id = r.patient_id
                 WHERE p.team_id = $1 AND r.undone_at IS NULL AND r.at >= $2 ORDER BY r.at DESC, r.id DESC"
            ),
            &[&team, &ts(since)],
        )?;
        rows.iter().map(review_of).collect()
    }

    pub(super) fn tri_team_prescriptions(
        &self,
        team: i64,
    ) -> Result<Vec<(PatientId, ilot_wire::PrescriptionUpdate)>> {
        let rows = self.client()?.query(
            "SELECT DISTINCT ON (r.patient_id) r.patient_id, r.body FROM patients p
             JOIN prescriptions r ON r.patient_id = p.id
             WHERE p.team_id = $1 ORDER BY r.patient_id, r.version DESC",
            &[&team],
        )?;
        rows.iter()
            .map(|r| {
                Ok((
                    patient_id(r.get(0))?,
                    serde_json::from_str(r.get::<_, &str>(1))?,
                ))
            })
            .collect()
    }

    pub(super) fn tri_observance_cache(
        &self,
        patient: PatientId,
    ) -> Result<Option<(NaiveDate, u32, String)>> {
        let row = self.client()?.query_opt(
            "SELECT day, rx_version, period FROM triage_observance WHERE patient_id = $1",
            &[&patient.as_bytes().as_slice()],
        )?;
        row.map(|r| {
            let v: i64 = r.get(1);
            Ok((
                r.get(0),
                u32::try_from(v).map_err(|e| bad("cache version", e))?,
                r.get(2),
            ))
        })
        .transpose()
    }

    pub(super) fn tri_set_observance_cache(
        &self,
        patient: PatientId,
        day: NaiveDate,
        rx_version: u32,
        json: &str,
    ) -> Result<()> {
        self.client()?.execute(
            "INSERT INTO triage_observance (patient_id, day, rx_version, period) VALUES ($1, $2, $3, $4)
             ON CONFLICT (patient_id) DO UPDATE SET day = excluded.day, rx_version = excluded.rx_version, period = excluded.period",
            &[&patient.as_bytes().as_slice(), &day, &i64::from(rx_version), &json],
        )?;
        Ok(())
    }
}
