//! `GET /v1/operator/triage`: the team's patients placed from their daily summaries, filtered,
//! sorted, one page; the observance of the page's rows only (it needs the period's entries).

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{Monitoring, Prescription};
use ilot_rules::metrics::summary::{Summary, SummaryMetrics, of_summary};
use ilot_rules::metrics::{Ranges, Window};
use ilot_rules::observance::local_midnight;
use ilot_wire::{PatientId, PrescriptionUpdate};
use serde::Deserialize;

use super::{
    Category, ItemContext, LastReview, PeriodSummary, Signals, THRESHOLDS, TriageItem, TriagePage,
    category, cursor_of, key_of, parse_cursor,
};
use crate::error::Result;
use crate::http::AppState;
use crate::operator::{Session, bad};
use crate::storage::{AlertRow, GlucoseDay, PatientRow, ReviewRow};
use crate::summary::day_of;

#[derive(Debug, Deserialize)]
pub struct TriageQuery {
    /// 1, 7, 14 (default) or 30.
    pub days: Option<u32>,
    /// Rows per page: 1–200, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Only patients without a review mark in the last 7 days.
    pub not_reviewed: Option<bool>,
    /// Only "my patients": those the caller marked reviewed in the last 90 days.
    pub mine: Option<bool>,
    /// Only the patients whose telesurveillance ended ("clôturés"), hidden otherwise.
    pub closed: Option<bool>,
}

/// "Not reviewed this week": no review mark in the last 7 days (rolling, whatever the weekday).
pub const REVIEW_WEEK: TimeDelta = TimeDelta::days(7);
/// "My patients": the caller marked them reviewed within this many days (and did not undo it).
pub const MINE_DAYS: i64 = 90;

/// The period of `days` complete local days before today in `tz`, and the 14 days before it:
/// `(first day, today, first day of the previous period)`.
pub fn windows(tz: Tz, now: DateTime<Utc>, days: u32) -> (NaiveDate, NaiveDate, NaiveDate) {
    let today = day_of(tz, now);
    let first = today
        .checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(today);
    let prev = first
        .checked_sub_days(Days::new(u64::from(THRESHOLDS.tir_drop_previous_days)))
        .unwrap_or(first);
    (first, today, prev)
}

/// The metrics of the local days `[from, to)` from the patient's summaries (sorted by day).
pub fn window_metrics(
    rows: &[GlucoseDay],
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
    ranges: &Ranges,
) -> (SummaryMetrics, Summary) {
    let mut s = Summary::default();
    for r in rows.iter().filter(|r| r.day >= from && r.day < to) {
        s.then(&r.summary);
    }
    let w = Window::new(local_midnight(tz, from), local_midnight(tz, to));
    (of_summary(&s, w, ranges), s)
}

/// `GET /v1/operator/triage`: the team's patients by category, one page.
pub async fn triage(
    State(state): State<AppState>,
    // Who asks comes first (extractors run in order): nothing about the parameters is told to
    // an unknown caller.
    op: Session,
    q: std::result::Result<Query<TriageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<TriagePage>> {
    // Our JSON error rather than axum's plain-text one for a malformed query.
    let Query(q) = q.map_err(|e| bad(format!("the query is not what this endpoint takes: {e}")))?;
    let days = q.days.unwrap_or(14);
    if ![1, 7, 14, 30].contains(&days) {
        return Err(bad(format!("days must be 1, 7, 14 or 30, not {days}")));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad(format!("limit must be between 1 and 200, not {limit}")));
    }
    let only = q
        .category
        .as_deref()
        .map(|c| {
            Category::parse(c).ok_or_else(|| {
                bad(format!(
                    "category {c:?} is not one of urgent-alert, no-data, very-low, low, tir-drop, low-tir, cgm-wear, capillary-readings, on-target"
                ))
            })
        })
        .transpose()?;
    let after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let (not_reviewed, mine) = (q.not_reviewed.unwrap_or(false), q.mine.unwrap_or(false));
    let closed = q.closed.unwrap_or(false);
    let page = state
        .blocking(move |s| {
            let now = s.now();
            let (mut items, context) = team_items(s, op.team, op.op.id, days, closed, now)?;
            items.retain(|i| {
                only.is_none_or(|c| i.category == c)
                    && (!not_reviewed
                        || i.last_review
                            .as_ref()
                            .is_none_or(|r| r.at < now - REVIEW_WEEK))
            });
            if mine {
                let since = now - TimeDelta::days(MINE_DAYS);
                let my: HashSet<PatientId> = s
                    .storage()
                    .team_reviews(op.team, since)?
                    .into_iter()
                    .filter(|r| r.operator_id == op.op.id)
                    .map(|r| r.patient_id)
                    .collect();
                items.retain(|i| my.contains(&i.patient_id));
            }
            items.sort_by_key(key_of);
            let total = items.len();
            let start = after.map_or(0, |k| items.partition_point(|i| key_of(i) <= k));
            let rest = &items[start..];
            let n = rest.len().min(limit as usize);
            let next_cursor = (rest.len() > n).then(|| cursor_of(&rest[n - 1]));
            let mut page = rest[..n].to_vec();
            for i in &mut page {
                if let Some(c) = context.get(&i.patient_id) {
                    i.period = period(s, i.patient_id, *c, now)?;
                }
            }
            // The page's patients (their name, category and indicators were shown) each see
            // this read in their access log; the others were only counted in `total`.
            let shown = page.iter().map(|i| i.patient_id).collect();
            s.storage()
                .record_audit(&op.event("triage", now).shows(shown))?;
            Ok(TriagePage {
                as_of: now,
                days,
                thresholds: THRESHOLDS,
                total,
                items: page,
                next_cursor,
            })
        })
        .await?;
    Ok(Json(page))
}

type Items = (Vec<TriageItem>, HashMap<PatientId, ItemContext>);

/// The team's patients in monitoring (or, with `closed`, those whose monitoring ended); a
/// restricted record is never listed.
fn team_items(
    s: &AppState,
    team: i64,
    me: i64,
    days: u32,
    closed: bool,
    now: DateTime<Utc>,
) -> Result<Items> {
    let st = s.storage();
    let statuses = crate::record::statuses(s)?;
    let mine: HashSet<PatientId> = st
        .team_patients(team)?
        .into_iter()
        .filter(|id| {
            let r = statuses.get(id).cloned().unwrap_or_default();
            !r.is_restricted() && r.is_closed() == closed
        })
        .collect();
    let mut alerts: HashMap<PatientId, Vec<AlertRow>> = HashMap::new();
    // Sorted worst first by the storage.
    for a in st.alerts(None, true)? {
        if mine.contains(&a.patient_id) {
            alerts.entry(a.patient_id).or_default().push(a);
        }
    }
    // Every local day that may be in a period starts after this (time zones are within ±14
    // hours of UTC; one more day of margin).
    let since = now - TimeDelta::days(i64::from(days + THRESHOLDS.tir_drop_previous_days) + 2);
    let mut rows: HashMap<PatientId, Vec<GlucoseDay>> = HashMap::new();
    for r in st.glucose_days(team, since)? {
        rows.entry(r.patient_id).or_default().push(r);
    }
    let mut reviews: HashMap<PatientId, ReviewRow> = HashMap::new();
    // Newest first: the first seen is the last review.
    for r in st.team_reviews(team, now - TimeDelta::days(MINE_DAYS))? {
        reviews.entry(r.patient_id).or_insert(r);
    }
    let mut rx: HashMap<PatientId, PrescriptionUpdate> =
        st.team_prescriptions(team)?.into_iter().collect();
    // Only a qualified INS is shown as the patient's INS (identitovigilance), never the text
    // typed when the record was created.
    let mut qualified = crate::identity::exported_ins_all(st)?;
    let mut out = Vec::with_capacity(mine.len());
    let mut context = HashMap::with_capacity(mine.len());
    for mut p in st.patients()?.into_iter().filter(|p| mine.contains(&p.id)) {
        p.ins = qualified.remove(&p.id);
        let open = alerts.remove(&p.id).unwrap_or_default();
        let days_rows = rows.remove(&p.id).unwrap_or_default();
        let review = reviews.remove(&p.id).map(|r| LastReview {
            mine: r.operator_id == me,
            by: r.by,
            at: r.at,
        });
        let rx = rx.remove(&p.id);
        context.insert(
            p.id,
            ItemContext {
                tz: p.tz,
                rx_version: rx.as_ref().map(|u| u.version),
            },
        );
        let rx = rx.map(|u| u.prescription);
        let closed_on = statuses
            .get(&p.id)
            .and_then(|r| r.closure.as_ref())
            .map(|c| c.last_day);
        let mut it = item(p, rx.as_ref(), &open, &days_rows, review, days, now);
        it.closed_on = closed_on;
        out.push(it);
    }
    Ok((out, context))
}

fn item(
    p: PatientRow,
    rx: Option<&Prescription>,
    open: &[AlertRow],
    rows: &[GlucoseDay],
    last_review: Option<LastReview>,
    days: u32,
    now: DateTime<Utc>,
) -> TriageItem {
    let ranges = ilot_rules::assumed::ranges(rx);
    let (first, today, prev) = windows(p.tz, now, days);
    let (metrics, cur) = window_metrics(rows, p.tz, first, today, &ranges);
    let (previous, _) = window_metrics(rows, p.tz, prev, first, &ranges);
    let capillary_per_day = cur.capillary as f64 / f64::from(days);
    let monitoring = rx.map_or(Monitoring::Cgm, |r| r.monitoring);
    let expected = rx.map_or(0.0, |r| r.expected_readings_per_day);
    let signals = Signals {
        urgent_alert: open.iter().any(|a| a.severity_rank == 2),
        no_data_alert: open.iter().any(|a| a.kind == "no-data"),
        metrics: &metrics,
        previous_tir: previous.tir_percent,
        monitoring,
        capillary_per_day,
        expected_per_day: expected,
    };
    let category = category(&signals, &THRESHOLDS);
    TriageItem {
        patient_id: p.id,
        transmitting: p.consent_granted != Some(false),
        pseudonym: p.pseudonym,
        ins: p.ins,
        category,
        last_data_at: p.last_data_at,
        monitoring,
        open_alerts: open.len(),
        worst_alert: open.first().map(|a| a.kind.clone()),
        window_from: local_midnight(p.tz, first),
        window_to: local_midnight(p.tz, today),
        previous_tir_percent: previous.tir_percent,
        metrics,
        capillary_per_day,
        expected_readings_per_day: expected,
        period: None,
        last_review,
        closed_on: None,
    }
}

/// This 30-day observance period of the patient as of the end of yesterday (local), by
/// `ilot-rules` over the stored entries; kept in `triage_observance` until the day changes, the
/// prescription changes or a batch brings an entry of an earlier day (the ingest forgets it).
fn period(
    s: &AppState,
    patient: PatientId,
    c: ItemContext,
    now: DateTime<Utc>,
) -> Result<Option<serde_json::Value>> {
    let Some(version) = c.rx_version else {
        return Ok(None);
    };
    let st = s.storage();
    let today = day_of(c.tz, now);
    if let Some((day, v, json)) = st.observance_cache(patient)?
        && day == today
        && v == version
    {
        return Ok(serde_json::from_str(&json)?);
    }
    let value = crate::rules::observance(st, patient, local_midnight(c.tz, today))?
        .and_then(|o| o.periods.last().cloned())
        .map(|c| PeriodSummary {
            number: c.number,
            first_day: c.first_day,
            last_day: c.last_day,
            expected: c.expected,
            received: c.received,
            ratio: c.ratio,
            status: c.status,
            billable: c.billable,
            not_billable: c.not_billable,
        })
        .map(serde_json::to_value)
        .transpose()?;
    st.set_observance_cache(patient, today, version, &serde_json::to_string(&value)?)?;
    Ok(value)
}
