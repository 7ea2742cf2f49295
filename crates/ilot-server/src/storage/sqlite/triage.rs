//! The SQLite side of the triage (migration V6): daily glucose summaries rewritten inside the
//! ingest's transaction, read back for a team, and the review marks.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use ilot_domain::Entry;
use ilot_wire::PatientId;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStorage;
use super::rows::*;
use crate::error::Result;
use crate::storage::{GlucoseDay, ReviewRow};
use crate::summary;

/// Recomputes the patient's rows of `days` from the stored entries (inside the caller's
/// transaction): the latest version of each glucose entry of the day, deleted ones left out.
pub(super) fn refresh_days(
    tx: &Connection,
    patient: &str,
    tz: Tz,
    days: &BTreeSet<NaiveDate>,
) -> Result<()> {
    let mut select = tx.prepare_cached(
        "SELECT e.json FROM entries e
         WHERE e.patient_id = ?1 AND e.kind = 'glucose' AND e.at_ms >= ?2 AND e.at_ms < ?3
           AND e.deleted = 0
           AND e.version = (SELECT MAX(version) FROM entries x WHERE x.device_id = e.device_id AND x.entry_id = e.entry_id)
         ORDER BY e.at_ms",
    )?;
    let mut delete =
        tx.prepare_cached("DELETE FROM glucose_days WHERE patient_id = ?1 AND day = ?2")?;
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO glucose_days (patient_id, day, starts_ms, {}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
        summary::COLUMNS
    ))?;
    for d in days {
        let (from, to) = summary::bounds(tz, *d);
        let entries = select
            .query_map(params![patient, ms(from), ms(to)], |r| {
                r.get::<_, String>(0)
            })?
            .map(|j| Ok(serde_json::from_str::<Entry>(&j?)?))
            .collect::<Result<Vec<_>>>()?;
        delete.execute(params![patient, d.to_string()])?;
        if entries.is_empty() {
            continue;
        }
        let s = summary::summary_of(&entries);
        let i = summary::ints(&s);
        insert.execute(params![
            patient,
            d.to_string(),
            ms(from),
            i[0],
            i[1],
            i[2],
            i[3],
            i[4],
            i[5],
            i[6],
            i[7],
            i[8],
            i[9],
            i[10],
            i[11],
            i[12],
            i[13],
            s.mean,
            s.m2,
            s.cgm_first_us,
            s.cgm_last_us,
            summary::spacings_text(&s),
        ])?;
    }
    Ok(())
}

/// Writes the rows of every patient's days from the entries stored before V6.
pub(super) fn rebuild_all(tx: &Connection) -> Result<()> {
    let patients = tx
        .prepare("SELECT id, tz FROM patients")?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (id, tz) in patients {
        let tz: Tz = tz.parse().map_err(|e| bad("patient time zone", e))?;
        let times = tx
            .prepare("SELECT at_ms FROM entries WHERE patient_id = ?1 AND kind = 'glucose'")?
            .query_map([&id], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let days = summary::days_of(tz, times.into_iter().map(utc));
        refresh_days(tx, &id, tz, &days)?;
    }
    Ok(())
}

const REVIEW_SELECT: &str = "SELECT r.id, r.patient_id, r.operator_id, o.name, r.at_ms FROM reviews r JOIN operators o ON o.id = r.operator_id";

fn review_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, i64, String, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn review_of(raw: (i64, String, i64, String, i64)) -> Result<ReviewRow> {
    Ok(ReviewRow {
        id: raw.0,
        patient_id: raw.1.parse().map_err(|e| bad("patient id", e))?,
        operator_id: raw.2,
        by: raw.3,
        at: utc(raw.4),
    })
}

impl SqliteStorage {
    pub(super) fn tri_glucose_days(
        &self,
        team: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<GlucoseDay>> {
        let conn = self.conn();
        // The day bound (the UTC date before `since`'s, which no local day of `since` precedes)
        // makes each patient's rows a range of the primary key.
        let day = since
            .date_naive()
            .pred_opt()
            .unwrap_or(since.date_naive())
            .to_string();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT g.patient_id, g.day, {} FROM patients p JOIN glucose_days g ON g.patient_id = p.id AND g.day >= ?3
             WHERE p.team_id = ?1 AND g.starts_ms >= ?2 ORDER BY g.patient_id, g.day",
            summary::COLUMNS
                .split(", ")
                .map(|c| format!("g.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let mut rows = stmt.query(params![team, ms(since), day])?;
        let mut out = Vec::new();
        let mut last: Option<(String, PatientId)> = None;
        while let Some(r) = rows.next()? {
            let pid: String = r.get(0)?;
            let patient_id = match &last {
                Some((s, id)) if *s == pid => *id,
                _ => {
                    let id: PatientId = pid.parse().map_err(|e| bad("patient id", e))?;
                    last = Some((pid, id));
                    id
                }
            };
            let day: String = r.get(1)?;
            let mut ints = [0i64; 14];
            for (k, v) in ints.iter_mut().enumerate() {
                *v = r.get(2 + k)?;
            }
            let spacings: String = r.get(20)?;
            out.push(GlucoseDay {
                patient_id,
                day: day.parse().map_err(|e| bad("summary day", e))?,
                summary: summary::from_columns(
                    ints,
                    r.get(16)?,
                    r.get(17)?,
                    r.get(18)?,
                    r.get(19)?,
                    &spacings,
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
        let conn = self.conn();
        conn.execute(
            "INSERT INTO reviews (patient_id, operator_id, at_ms) VALUES (?1, ?2, ?3)",
            params![patient.to_string(), operator_id, ms(now)],
        )?;
        let id = conn.last_insert_rowid();
        let raw = conn.query_row(
            &format!("{REVIEW_SELECT} WHERE r.id = ?1"),
            [id],
            review_row,
        )?;
        review_of(raw)
    }

    pub(super) fn tri_undo_review(
        &self,
        patient: PatientId,
        operator_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<ReviewRow>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let raw = tx
            .query_row(
                &format!("{REVIEW_SELECT} WHERE r.patient_id = ?1 AND r.operator_id = ?2 AND r.undone_ms IS NULL ORDER BY r.at_ms DESC, r.id DESC LIMIT 1"),
                params![patient.to_string(), operator_id],
                review_row,
            )
            .optional()?;
        let Some(raw) = raw else { return Ok(None) };
        tx.execute(
            "UPDATE reviews SET undone_ms = ?1 WHERE id = ?2",
            params![ms(now), raw.0],
        )?;
        tx.commit()?;
        review_of(raw).map(Some)
    }

    pub(super) fn tri_team_reviews(
        &self,
        team: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<ReviewRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{REVIEW_SELECT} JOIN patients p ON p.id = r.patient_id
             WHERE p.team_id = ?1 AND r.undone_ms IS NULL AND r.at_ms >= ?2 ORDER BY r.at_ms DESC, r.id DESC"
        ))?;
        let raws = stmt
            .query_map(params![team, ms(since)], review_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(review_of).collect()
    }

    pub(super) fn tri_team_prescriptions(
        &self,
        team: i64,
    ) -> Result<Vec<(PatientId, ilot_wire::PrescriptionUpdate)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT r.patient_id, r.json FROM patients p JOIN prescriptions r ON r.patient_id = p.id
             WHERE p.team_id = ?1
               AND r.version = (SELECT MAX(version) FROM prescriptions x WHERE x.patient_id = p.id)",
        )?;
        let rows = stmt
            .query_map([team], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, json)| {
                Ok((
                    id.parse().map_err(|e| bad("patient id", e))?,
                    serde_json::from_str(&json)?,
                ))
            })
            .collect()
    }

    pub(super) fn tri_observance_cache(
        &self,
        patient: PatientId,
    ) -> Result<Option<(NaiveDate, u32, String)>> {
        let conn = self.conn();
        let raw: Option<(String, u32, String)> = conn
            .query_row(
                "SELECT day, rx_version, period FROM triage_observance WHERE patient_id = ?1",
                [patient.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        raw.map(|(d, v, j)| Ok((d.parse().map_err(|e| bad("cache day", e))?, v, j)))
            .transpose()
    }

    pub(super) fn tri_set_observance_cache(
        &self,
        patient: PatientId,
        day: NaiveDate,
        rx_version: u32,
        json: &str,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO triage_observance (patient_id, day, rx_version, period) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (patient_id) DO UPDATE SET day = excluded.day, rx_version = excluded.rx_version, period = excluded.period",
            params![patient.to_string(), day.to_string(), rx_version, json],
        )?;
        Ok(())
    }
}
