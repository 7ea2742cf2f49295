//! The triage list, the console's first screen (`GET /v1/operator/triage`): every patient of the
//! operator's care team, each placed in the first category that matches, most urgent first —
//! open urgent alert → no data → time below 54 > 1 % → time below 70 > 4 % → time in range
//! dropped by more than 15 points against the 14 days before → time in range < 70 % → CGM worn
//! < 70 % → capillary readings below the prescription → meeting targets.
//!
//! The metrics are `ilot-rules`' over the stored glucose points (the points the device judges
//! too); only the placing in a category is decided here, by [`category`] (pure). Pages follow
//! a cursor over the order (category, pseudonym, patient id).
//!
//! Today the metrics are computed from the entries on each request (the last `days + 14`
//! days per patient). The plan for large teams: per-patient daily summaries (readings per
//! range, sums for mean and SD, CGM timestamps count) written at ingest in the same
//! transaction, so a request reads `days + 14` small rows per patient.

use std::collections::HashMap;

use crate::operator::Session;
use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::Monitoring;
use ilot_rules::metrics::{Metrics, Ranges, Window};
use ilot_wire::PatientId;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::http::AppState;
use crate::operator::bad;
use crate::storage::PatientRow;

/// The limits of the categories, shown on the console's screen as they are used here.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Thresholds {
    /// Time below 54 mg/dL above this share (%) → `very-low`.
    pub below_54_percent: f64,
    /// Time below 70 mg/dL above this share (%) → `low`.
    pub below_70_percent: f64,
    /// Time in range lower by more than this many points than the 14 days before → `tir-drop`.
    pub tir_drop_points: f64,
    /// Days before the period the drop is measured against.
    pub tir_drop_previous_days: u32,
    /// Time in range below this share (%) → `low-tir`.
    pub tir_percent: f64,
    /// CGM active time below this share (%) → `cgm-wear` (CGM prescriptions).
    pub cgm_active_percent: f64,
}

pub const THRESHOLDS: Thresholds = Thresholds {
    below_54_percent: 1.0,
    below_70_percent: 4.0,
    tir_drop_points: 15.0,
    tir_drop_previous_days: 14,
    tir_percent: 70.0,
    cgm_active_percent: 70.0,
};

/// Most urgent first; the order of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// An open (unacknowledged) urgent alert: severe hypo, reported severe hypo.
    UrgentAlert,
    /// The server's open "no data" alert, or no glucose reading at all in the period.
    NoData,
    VeryLow,
    Low,
    TirDrop,
    LowTir,
    CgmWear,
    CapillaryReadings,
    OnTarget,
}

impl Category {
    fn rank(self) -> u8 {
        self as u8
    }
}

/// What [`category`] decides from.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    pub urgent_alert: bool,
    pub no_data_alert: bool,
    pub metrics: &'a Metrics,
    /// Time in range of the 14 days before the period, when they hold readings.
    pub previous_tir: Option<f64>,
    pub monitoring: Monitoring,
    /// Capillary readings a day over the period (capillary prescriptions).
    pub capillary_per_day: f64,
    pub expected_per_day: f64,
}

/// The first category that matches, in the order of [`Category`].
pub fn category(s: &Signals<'_>, t: &Thresholds) -> Category {
    let m = s.metrics;
    if s.urgent_alert {
        return Category::UrgentAlert;
    }
    if s.no_data_alert || m.n_readings == 0 {
        return Category::NoData;
    }
    let over = |v: Option<f64>, limit: f64| v.is_some_and(|v| v > limit);
    let under = |v: Option<f64>, limit: f64| v.is_some_and(|v| v < limit);
    if over(m.below_54_percent, t.below_54_percent) {
        return Category::VeryLow;
    }
    if over(m.below_70_percent, t.below_70_percent) {
        return Category::Low;
    }
    if let (Some(now), Some(before)) = (m.tir_percent, s.previous_tir)
        && before - now > t.tir_drop_points
    {
        return Category::TirDrop;
    }
    if under(m.tir_percent, t.tir_percent) {
        return Category::LowTir;
    }
    if s.monitoring == Monitoring::Cgm && m.active_percent.is_none_or(|a| a < t.cgm_active_percent)
    {
        return Category::CgmWear;
    }
    if s.monitoring == Monitoring::Capillary && s.capillary_per_day < s.expected_per_day {
        return Category::CapillaryReadings;
    }
    Category::OnTarget
}

#[derive(Debug, Deserialize)]
pub struct TriageQuery {
    /// 1, 7, 14 (default) or 30.
    pub days: Option<u32>,
    /// Rows per page: 1–200, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The current 30-day observance period, for the list.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodSummary {
    pub number: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub expected: f64,
    pub received: u64,
    pub ratio: f64,
    pub status: ilot_rules::observance::PeriodStatus,
    pub billable: bool,
    pub not_billable: Option<ilot_rules::observance::NotBillable>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TriageItem {
    pub patient_id: PatientId,
    pub pseudonym: String,
    pub ins: Option<String>,
    pub category: Category,
    pub last_data_at: Option<DateTime<Utc>>,
    /// False once the patient withdrew consent: nothing more will arrive.
    pub transmitting: bool,
    pub monitoring: Monitoring,
    pub open_alerts: usize,
    /// Kind of the worst open alert.
    pub worst_alert: Option<String>,
    /// `ilot-rules` metrics of the period.
    pub metrics: Metrics,
    pub previous_tir_percent: Option<f64>,
    pub capillary_per_day: f64,
    pub expected_readings_per_day: f64,
    pub period: Option<PeriodSummary>,
}

#[derive(Debug, Serialize)]
pub struct TriagePage {
    /// The server's time the metrics were computed at; the period is `[as_of − days, as_of)`.
    pub as_of: DateTime<Utc>,
    pub days: u32,
    pub thresholds: Thresholds,
    /// Patients of the team (all pages).
    pub total: usize,
    pub items: Vec<TriageItem>,
    pub next_cursor: Option<String>,
}

fn cursor_of(i: &TriageItem) -> String {
    hex::encode(format!(
        "{}\u{1f}{}\u{1f}{}",
        i.category.rank(),
        i.pseudonym,
        i.patient_id
    ))
}

fn key_of(i: &TriageItem) -> (u8, String, String) {
    (
        i.category.rank(),
        i.pseudonym.clone(),
        i.patient_id.to_string(),
    )
}

fn parse_cursor(c: &str) -> Result<(u8, String, String)> {
    let wrong = || bad("this cursor is not one the triage list gave; start from the first page");
    let raw = String::from_utf8(hex::decode(c).map_err(|_| wrong())?).map_err(|_| wrong())?;
    let mut parts = raw.split('\u{1f}');
    let (Some(r), Some(p), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(wrong());
    };
    Ok((
        r.parse().map_err(|_| wrong())?,
        p.to_string(),
        id.to_string(),
    ))
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
    let after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let page = state
        .blocking(move |s| {
            let now = s.now();
            op.audit(s, "triage", None)?;
            let mut items = team_items(s, op.team, days, now)?;
            items.sort_by_key(key_of);
            let total = items.len();
            let start = after.map_or(0, |k| items.partition_point(|i| key_of(i) <= k));
            let rest = &items[start..];
            let n = rest.len().min(limit as usize);
            let next_cursor = (rest.len() > n).then(|| cursor_of(&rest[n - 1]));
            Ok(TriagePage {
                as_of: now,
                days,
                thresholds: THRESHOLDS,
                total,
                items: rest[..n].to_vec(),
                next_cursor,
            })
        })
        .await?;
    Ok(Json(page))
}

fn team_items(s: &AppState, team: i64, days: u32, now: DateTime<Utc>) -> Result<Vec<TriageItem>> {
    let st = s.storage();
    let mine: std::collections::HashSet<PatientId> = st.team_patients(team)?.into_iter().collect();
    let mut alerts: HashMap<PatientId, Vec<crate::storage::AlertRow>> = HashMap::new();
    // Sorted worst first by the storage.
    for a in st.alerts(None, true)? {
        if mine.contains(&a.patient_id) {
            alerts.entry(a.patient_id).or_default().push(a);
        }
    }
    let mut out = Vec::with_capacity(mine.len());
    for p in st.patients()?.into_iter().filter(|p| mine.contains(&p.id)) {
        let open = alerts.remove(&p.id).unwrap_or_default();
        out.push(item(s, p, &open, days, now)?);
    }
    Ok(out)
}

fn item(
    s: &AppState,
    p: PatientRow,
    open: &[crate::storage::AlertRow],
    days: u32,
    now: DateTime<Utc>,
) -> Result<TriageItem> {
    let st = s.storage();
    let rx = st.prescription(p.id)?.map(|u| u.prescription);
    let from = now - TimeDelta::days(i64::from(days));
    let prev_from = from - TimeDelta::days(i64::from(THRESHOLDS.tir_drop_previous_days));
    let entries = st.entries(p.id, prev_from, now, false)?;
    let data = ilot_rules::Loaded::from_entries(
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u64, &e.entry)),
    );
    let ranges = if rx.as_ref().is_some_and(|r| r.pregnancy) {
        Ranges::pregnancy()
    } else {
        Ranges::consensus()
    };
    let metrics = ilot_rules::metrics::metrics(&data.glucose, Window::new(from, now), &ranges);
    let previous =
        ilot_rules::metrics::metrics(&data.glucose, Window::new(prev_from, from), &ranges);
    let capillary = data
        .glucose
        .iter()
        .filter(|g| !g.cgm && g.at >= from)
        .count();
    let capillary_per_day = capillary as f64 / f64::from(days);
    let monitoring = rx.as_ref().map_or(Monitoring::Cgm, |r| r.monitoring);
    let expected = rx.as_ref().map_or(0.0, |r| r.expected_readings_per_day);
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
    let period = crate::rules::observance(st, p.id, now)?
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
        });
    Ok(TriageItem {
        patient_id: p.id,
        transmitting: p.consent_granted != Some(false),
        pseudonym: p.pseudonym,
        ins: p.ins,
        category,
        last_data_at: p.last_data_at,
        monitoring,
        open_alerts: open.len(),
        worst_alert: open.first().map(|a| a.kind.clone()),
        previous_tir_percent: previous.tir_percent,
        metrics,
        capillary_per_day,
        expected_readings_per_day: expected,
        period,
    })
}

/// The query parameters of `GET /v1/operator/triage`, for `/openapi.json`.
pub fn query_parameters(path: &str) -> Option<serde_json::Value> {
    (path == "/v1/operator/triage").then(|| {
        serde_json::json!([
            { "name": "days", "in": "query", "required": false,
              "schema": { "type": "integer", "enum": [1, 7, 14, 30], "default": 14 } },
            { "name": "limit", "in": "query", "required": false,
              "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } },
            { "name": "cursor", "in": "query", "required": false,
              "schema": { "type": "string", "pattern": "^[0-9a-f]+$" } }
        ])
    })
}

/// The JSON Schema of [`TriagePage`], for `/openapi.json`.
pub fn schema() -> serde_json::Value {
    let pct = serde_json::json!({ "type": ["number", "null"] });
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["as_of", "days", "thresholds", "total", "items", "next_cursor"],
        "properties": {
            "as_of": { "type": "string", "format": "date-time" },
            "days": { "enum": [1, 7, 14, 30] },
            "thresholds": {
                "type": "object",
                "required": ["below_54_percent", "below_70_percent", "tir_drop_points",
                             "tir_drop_previous_days", "tir_percent", "cgm_active_percent"],
                "properties": {
                    "below_54_percent": { "type": "number" },
                    "below_70_percent": { "type": "number" },
                    "tir_drop_points": { "type": "number" },
                    "tir_drop_previous_days": { "type": "integer" },
                    "tir_percent": { "type": "number" },
                    "cgm_active_percent": { "type": "number" }
                }
            },
            "total": { "type": "integer", "minimum": 0 },
            "next_cursor": { "type": ["string", "null"] },
            "items": { "type": "array", "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["patient_id", "pseudonym", "ins", "category", "last_data_at",
                             "transmitting", "monitoring", "open_alerts", "worst_alert", "metrics",
                             "previous_tir_percent", "capillary_per_day",
                             "expected_readings_per_day", "period"],
                "properties": {
                    "patient_id": { "$ref": "#/components/schemas/PatientId" },
                    "pseudonym": { "type": "string" },
                    "ins": { "type": ["string", "null"] },
                    "category": { "enum": ["urgent-alert", "no-data", "very-low", "low", "tir-drop",
                                           "low-tir", "cgm-wear", "capillary-readings", "on-target"] },
                    "last_data_at": { "type": ["string", "null"], "format": "date-time" },
                    "transmitting": { "type": "boolean" },
                    "monitoring": { "enum": ["capillary", "flash", "cgm"] },
                    "open_alerts": { "type": "integer", "minimum": 0 },
                    "worst_alert": { "type": ["string", "null"] },
                    "metrics": {
                        "type": "object",
                        "required": ["n_readings", "tir_percent", "below_54_percent", "below_70_percent",
                                     "gmi_percent", "cv_percent", "active_percent"],
                        "properties": {
                            "n_readings": { "type": "integer", "minimum": 0 },
                            "tir_percent": pct, "below_54_percent": pct, "below_70_percent": pct,
                            "gmi_percent": pct, "cv_percent": pct, "active_percent": pct
                        }
                    },
                    "previous_tir_percent": pct,
                    "capillary_per_day": { "type": "number", "minimum": 0 },
                    "expected_readings_per_day": { "type": "number", "minimum": 0 },
                    "period": { "type": ["object", "null"] }
                }
            }}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(tir: f64, b54: f64, b70: f64, active: Option<f64>) -> Metrics {
        let mut m = ilot_rules::metrics::metrics(
            &[],
            Window::new(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH),
            &Ranges::consensus(),
        );
        m.n_readings = 100;
        m.tir_percent = Some(tir);
        m.below_54_percent = Some(b54);
        m.below_70_percent = Some(b70);
        m.active_percent = active;
        m
    }

    fn sig(m: &Metrics) -> Signals<'_> {
        Signals {
            urgent_alert: false,
            no_data_alert: false,
            metrics: m,
            previous_tir: None,
            monitoring: Monitoring::Cgm,
            capillary_per_day: 0.0,
            expected_per_day: 0.0,
        }
    }

    #[test]
    fn each_patient_goes_to_the_first_category_that_matches() {
        let t = THRESHOLDS;
        let good = m(80.0, 0.0, 1.0, Some(95.0));
        assert_eq!(category(&sig(&good), &t), Category::OnTarget);
        // An urgent alert wins over everything, even "no data".
        let mut empty = good.clone();
        empty.n_readings = 0;
        let s = Signals {
            urgent_alert: true,
            ..sig(&empty)
        };
        assert_eq!(category(&s, &t), Category::UrgentAlert);
        assert_eq!(category(&sig(&empty), &t), Category::NoData);
        let s = Signals {
            no_data_alert: true,
            ..sig(&good)
        };
        assert_eq!(category(&s, &t), Category::NoData);
        // Thresholds are strict: exactly 1 % below 54 and 4 % below 70 are within target.
        assert_eq!(
            category(&sig(&m(80.0, 1.0, 4.0, Some(95.0))), &t),
            Category::OnTarget
        );
        assert_eq!(
            category(&sig(&m(40.0, 1.01, 9.0, Some(95.0))), &t),
            Category::VeryLow
        );
        assert_eq!(
            category(&sig(&m(40.0, 0.5, 4.01, Some(95.0))), &t),
            Category::Low
        );
        // A drop of more than 15 points comes before a TIR under 70 %.
        let low = m(60.0, 0.0, 1.0, Some(95.0));
        let s = Signals {
            previous_tir: Some(75.01),
            ..sig(&low)
        };
        assert_eq!(category(&s, &t), Category::TirDrop);
        let s = Signals {
            previous_tir: Some(75.0),
            ..sig(&low)
        };
        assert_eq!(category(&s, &t), Category::LowTir);
        assert_eq!(
            category(&sig(&m(70.0, 0.0, 1.0, Some(69.9))), &t),
            Category::CgmWear
        );
        assert_eq!(
            category(&sig(&m(70.0, 0.0, 1.0, None)), &t),
            Category::CgmWear
        );
        let cap = m(70.0, 0.0, 1.0, None);
        let s = Signals {
            monitoring: Monitoring::Capillary,
            capillary_per_day: 3.5,
            expected_per_day: 4.0,
            ..sig(&cap)
        };
        assert_eq!(category(&s, &t), Category::CapillaryReadings);
        let s = Signals {
            capillary_per_day: 4.0,
            ..s
        };
        assert_eq!(category(&s, &t), Category::OnTarget);
    }

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        assert_eq!(
            parse_cursor(&hex::encode("3\u{1f}P-01\u{1f}ab")).unwrap(),
            (3, "P-01".to_string(), "ab".to_string())
        );
        assert!(parse_cursor("zz").is_err());
        assert!(parse_cursor(&hex::encode("3\u{1f}P")).is_err());
    }
}
