//! The patient page of the console: what the care team reads about one patient of its team.
//! Every route here goes through `operator::read_patient` (the care-team check, then an audit
//! record naming the patient, then the data), and every clinical number comes from
//! `ilot-rules` over the stored points, the same points and functions the device uses: the
//! AGP (`ilot_rules::agp::agp`), the consensus metrics (`ilot_rules::metrics::metrics`) with
//! the ranges of the prescription (`ilot_rules::assumed::ranges`).
//!
//! - [`summary`]: AGP and metrics over `days`, and the metrics of the `days` before;
//! - [`days`]: daily curves with the insulin, carbs, hypo reports and activity of each day,
//!   a few days a page going back in time;
//! - `logbook`: every entry but sensor readings, newest first, values as the patient entered
//!   them, with the earlier versions of corrected ones (cursor pages);
//! - `thread`: what the care team sent (messages, appointments, prescription versions, alert
//!   acknowledgements), and who read the patient's data (physicians only).

mod entries;
mod logbook;
mod thread;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{EntryKind, Monitoring};
use ilot_rules::metrics::{Metrics, Window};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::Result;
use crate::http::AppState;
use crate::operator::{Session, bad, read_patient};

pub use entries::entries;
pub use logbook::logbook;
pub use thread::{audit, feed};

/// A glucose and an AGP bin as the charts draw them, the same as the patient app's.
pub use ilot_rules::chart::{AgpPoint, Reading};

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Target {
    pub low_mg_dl: f64,
    pub high_mg_dl: f64,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub as_of: DateTime<Utc>,
    pub days: u32,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub tz: Tz,
    pub monitoring: Option<Monitoring>,
    pub pregnancy: bool,
    pub target: Target,
    pub agp: Vec<AgpPoint>,
    pub metrics: Metrics,
    /// The same metrics over the `days` before `from`, for the change.
    pub previous: Metrics,
}

#[derive(Debug, Deserialize)]
pub struct SummaryQuery {
    pub days: Option<u32>,
}

/// The periods the summary takes (the consensus report is 14 days).
pub const SUMMARY_DAYS: [u32; 4] = [7, 14, 30, 90];

/// Our JSON error for a malformed query, rather than axum's plain text.
pub(crate) fn query<T>(
    q: std::result::Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T> {
    q.map(|Query(q)| q)
        .map_err(|e| bad(format!("the query is not what this endpoint takes: {e}")))
}

/// The thresholds and ranges the device judges with: the prescription's, or the assumed ones.
fn target_of(p: Option<&ilot_domain::Prescription>) -> Target {
    let policy = p.map_or_else(
        || ilot_domain::AlertPolicy::defaults(ilot_domain::DiabetesType::Type1, Monitoring::Cgm),
        |p| p.policy.clone(),
    );
    Target {
        low_mg_dl: policy.target.low_mg_dl,
        high_mg_dl: policy.target.high_mg_dl,
    }
}

/// `GET /v1/operator/patients/{id}/summary`: AGP and consensus metrics over `days` (7, 14, 30,
/// 90; default 14) and the metrics of the `days` before.
pub async fn summary(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    q: std::result::Result<Query<SummaryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Summary>> {
    let q = query(q)?;
    let days = q.days.unwrap_or(14);
    if !SUMMARY_DAYS.contains(&days) {
        return Err(bad(format!("days must be 7, 14, 30 or 90, not {days}")));
    }
    let v = read_patient(&state, op, &id, "read-summary", move |s, row| {
        let now = s.now();
        let span = TimeDelta::days(i64::from(days));
        let (from, before) = (now - span, now - span - span);
        let rx = s.storage().prescription(row.id)?.map(|u| u.prescription);
        let ranges = ilot_rules::assumed::ranges(rx.as_ref());
        let entries = s.storage().entries(row.id, before, now, false)?;
        let data = ilot_rules::Loaded::from_entries(
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| (i as u64, &e.entry)),
        );
        let split = data.glucose.partition_point(|p| p.at < from);
        let (older, current) = data.glucose.split_at(split);
        let window = Window::new(from, now);
        let agp = ilot_rules::agp::agp(
            current,
            window,
            row.tz,
            ilot_rules::assumed::AGP_BIN_MINUTES,
        );
        let agp = ilot_rules::chart::agp_points(agp);
        Ok(Summary {
            as_of: now,
            days,
            from,
            to: now,
            tz: row.tz,
            monitoring: rx.as_ref().map(|p| p.monitoring),
            pregnancy: rx.as_ref().is_some_and(|p| p.pregnancy),
            target: target_of(rx.as_ref()),
            agp,
            metrics: ilot_rules::metrics::metrics(current, window, &ranges),
            previous: ilot_rules::metrics::metrics(older, Window::new(before, from), &ranges),
        })
    })
    .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
pub struct DaysQuery {
    /// The last local day of the page (default: today in the patient's zone).
    pub until: Option<NaiveDate>,
    /// Days in the page: 1–14, default 7.
    pub days: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct DayPoint {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub reading: Reading,
    pub cgm: bool,
}

#[derive(Debug, Serialize)]
pub struct DayEvent {
    pub at: DateTime<Utc>,
    /// `insulin`, `carbs`, `hypo`, `activity`.
    pub kind: &'static str,
    /// Units of insulin, grams of carbohydrates, minutes of activity.
    pub amount: Option<f64>,
    /// Insulin: basal, bolus, correction, mixed; hypo: `needed-help` when the patient needed
    /// someone's help.
    pub detail: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DayView {
    pub date: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub glucose: Vec<DayPoint>,
    pub events: Vec<DayEvent>,
}

/// The largest page of [`days`]: 14 days of 1-minute CGM are ~20,000 points.
pub const MAX_DAYS_PAGE: u32 = 14;

/// `GET /v1/operator/patients/{id}/days`: the daily curves of the local days up to `until`,
/// newest first, with each day's treatments underneath; `earlier` is the `until` of the next
/// page, `null` when nothing is stored before this page.
pub async fn days(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    q: std::result::Result<Query<DaysQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>> {
    let q = query(q)?;
    let n = q.days.unwrap_or(7);
    if !(1..=MAX_DAYS_PAGE).contains(&n) {
        return Err(bad(format!(
            "days must be between 1 and {MAX_DAYS_PAGE}, not {n}"
        )));
    }
    let v = read_patient(&state, op, &id, "read-days", move |s, row| {
        let tz = row.tz;
        let until = q
            .until
            .unwrap_or_else(|| s.now().with_timezone(&tz).date_naive());
        if !(1900..=2200).contains(&chrono::Datelike::year(&until)) {
            return Err(bad(
                "the days asked must lie between 1900-01-01 and 2200-12-31",
            ));
        }
        let first = until - TimeDelta::days(i64::from(n) - 1);
        let (lo, hi) = (
            NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN),
            NaiveDate::from_ymd_opt(2200, 12, 31).unwrap_or(NaiveDate::MAX),
        );
        if until > hi || first < lo {
            return Err(bad(
                "the days asked must lie between 1900-01-01 and 2200-12-31",
            ));
        }
        let midnight = ilot_rules::observance::local_midnight;
        let next = until
            .succ_opt()
            .ok_or_else(|| bad("no day after this one"))?;
        let (from, to) = (midnight(tz, first), midnight(tz, next));
        let entries = s.storage().entries(row.id, from, to, false)?;
        let rx = s.storage().prescription(row.id)?.map(|u| u.prescription);
        let mut out: Vec<DayView> = Vec::with_capacity(n as usize);
        let mut date = until;
        while date >= first {
            let (f, t) = (
                midnight(tz, date),
                midnight(tz, date.succ_opt().unwrap_or(date)),
            );
            out.push(DayView {
                date,
                from: f,
                to: t,
                glucose: Vec::new(),
                events: Vec::new(),
            });
            date = date.pred_opt().unwrap_or(NaiveDate::MIN);
            if date == NaiveDate::MIN {
                break;
            }
        }
        let data = ilot_rules::Loaded::from_entries(
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| (i as u64, &e.entry)),
        );
        let day_of = |at: DateTime<Utc>| out.iter().position(|d| d.from <= at && at < d.to);
        let mut placed: Vec<(usize, DayPoint)> = Vec::with_capacity(data.glucose.len());
        for p in &data.glucose {
            if let Some(i) = day_of(p.at) {
                placed.push((
                    i,
                    DayPoint {
                        at: p.at,
                        reading: p.level.into(),
                        cgm: p.cgm,
                    },
                ));
            }
        }
        let mut events: Vec<(usize, DayEvent)> = Vec::new();
        for e in &entries {
            let at = e.entry.at_utc();
            let (amount, detail) = match &e.entry.kind {
                EntryKind::Insulin(d) => (Some(d.units()), Some(d.kind.to_string())),
                EntryKind::Carbs(c) => (Some(c.grams()), None),
                EntryKind::Hypo(h) => (None, h.needed_help.then(|| "needed-help".to_string())),
                EntryKind::Activity(a) => (Some(f64::from(a.minutes())), None),
                _ => continue,
            };
            if let Some(i) = day_of(at) {
                events.push((
                    i,
                    DayEvent {
                        at,
                        kind: e.entry.kind.name(),
                        amount,
                        detail,
                    },
                ));
            }
        }
        for (i, p) in placed {
            out[i].glucose.push(p);
        }
        for (i, e) in events {
            out[i].events.push(e);
        }
        let earlier = s
            .storage()
            .entries_before(
                row.id,
                Some(crate::storage::EntryCursor {
                    at: from,
                    device_id: ilot_wire::DeviceId::from_bytes([0; 16]),
                    entry_id: i64::MIN,
                }),
                1,
            )?
            .first()
            .map(|_| first.pred_opt().unwrap_or(first));
        Ok(json!({
            "tz": tz,
            "target": target_of(rx.as_ref()),
            "days": out,
            "earlier": earlier,
        }))
    })
    .await?;
    Ok(Json(v))
}

/// Query parameters of the patient page's routes, for `/openapi.json`.
pub fn query_parameters(path: &str) -> Option<Vec<Value>> {
    let cursor = |pattern: &str| {
        json!({ "name": "cursor", "in": "query", "required": false,
                "schema": { "type": "string", "pattern": pattern } })
    };
    let limit = json!({ "name": "limit", "in": "query", "required": false,
                        "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } });
    Some(match path.rsplit('/').next()? {
        "summary" => vec![json!({ "name": "days", "in": "query", "required": false,
                                  "schema": { "type": "integer", "enum": SUMMARY_DAYS, "default": 14 } })],
        "days" => vec![
            json!({ "name": "until", "in": "query", "required": false,
                    "schema": { "type": "string", "format": "date" } }),
            json!({ "name": "days", "in": "query", "required": false,
                    "schema": { "type": "integer", "minimum": 1, "maximum": MAX_DAYS_PAGE, "default": 7 } }),
        ],
        "logbook" => vec![cursor("^[0-9a-f]+$"), limit],
        "entries" => vec![
            json!({ "name": "from", "in": "query", "required": false,
                    "schema": { "type": "string", "format": "date-time" } }),
            json!({ "name": "to", "in": "query", "required": false,
                    "schema": { "type": "string", "format": "date-time" } }),
            cursor("^[0-9a-f]+$"),
            json!({ "name": "limit", "in": "query", "required": false,
                    "schema": { "type": "integer", "minimum": 1, "maximum": entries::MAX_LIMIT,
                                "default": entries::DEFAULT_LIMIT } }),
        ],
        "feed" => vec![
            json!({ "name": "kind", "in": "query", "required": true,
                    "schema": { "type": "string", "enum": thread::FEED_KINDS } }),
            cursor("^[0-9]+$"),
            limit,
        ],
        "audit" if path.starts_with("/v1/operator/patients/") => {
            vec![cursor("^[0-9]+$"), limit]
        }
        _ => return None,
    })
}

/// Response schemas of the patient page's routes, for `/openapi.json` (objects with their
/// required members; the types are the Rust ones above).
pub mod schema {
    use serde_json::{Value, json};

    fn reading() -> Value {
        json!({ "type": ["object", "null"], "required": ["mg_dl", "level"],
                "properties": { "mg_dl": { "type": ["number", "null"] },
                                "level": { "enum": ["value", "lo", "hi"] } } })
    }

    fn target() -> Value {
        json!({ "type": "object", "required": ["low_mg_dl", "high_mg_dl"],
                "properties": { "low_mg_dl": { "type": "number" }, "high_mg_dl": { "type": "number" } } })
    }

    fn page(item: Value) -> Value {
        json!({ "type": "object", "required": ["items", "next_cursor"],
                "properties": { "items": { "type": "array", "items": item },
                                "next_cursor": { "type": ["string", "null"] } } })
    }

    pub fn summary() -> Value {
        let metrics = json!({ "type": "object", "required": ["n_readings", "tir_percent", "gmi_percent", "cv_percent"] });
        json!({
            "type": "object",
            "required": ["as_of", "days", "from", "to", "tz", "target", "agp", "metrics", "previous"],
            "properties": {
                "as_of": { "type": "string", "format": "date-time" },
                "days": { "type": "integer" },
                "from": { "type": "string", "format": "date-time" },
                "to": { "type": "string", "format": "date-time" },
                "tz": { "type": "string" },
                "monitoring": { "type": ["string", "null"] },
                "pregnancy": { "type": "boolean" },
                "target": target(),
                "agp": { "type": "array", "items": {
                    "type": "object", "required": ["minute", "n", "p5", "p25", "p50", "p75", "p95"],
                    "properties": { "minute": { "type": "integer" }, "n": { "type": "integer" },
                                    "p5": reading(), "p25": reading(), "p50": reading(),
                                    "p75": reading(), "p95": reading() } } },
                "metrics": metrics,
                "previous": metrics
            }
        })
    }

    pub fn days() -> Value {
        json!({
            "type": "object", "required": ["tz", "target", "days", "earlier"],
            "properties": {
                "tz": { "type": "string" },
                "target": target(),
                "earlier": { "type": ["string", "null"], "format": "date" },
                "days": { "type": "array", "items": {
                    "type": "object", "required": ["date", "from", "to", "glucose", "events"],
                    "properties": {
                        "date": { "type": "string", "format": "date" },
                        "glucose": { "type": "array", "items": { "type": "object", "required": ["at", "mg_dl", "level", "cgm"] } },
                        "events": { "type": "array", "items": { "type": "object", "required": ["at", "kind", "amount", "detail"] } }
                    } } }
            }
        })
    }

    pub fn logbook() -> Value {
        page(json!({
            "type": "object",
            "required": ["device_id", "entry_id", "version", "deleted", "at", "kind", "recorded_at", "received_at", "entry", "history"],
            "properties": {
                "device_id": { "$ref": "#/components/schemas/DeviceId" },
                "entry_id": { "type": "integer" },
                "version": { "type": "integer", "minimum": 1 },
                "deleted": { "type": "boolean" },
                "kind": { "type": "string" },
                "entry": { "type": "object" },
                "history": { "type": "array", "items": { "type": "object", "required": ["version", "deleted", "recorded_at", "entry"] } }
            }
        }))
    }

    pub fn feed() -> Value {
        page(json!({
            "type": "object", "required": ["cursor", "item", "delivered"],
            "properties": { "cursor": { "type": "integer", "minimum": 1 }, "item": { "type": "object" },
                            "delivered": { "type": "boolean" } }
        }))
    }

    pub fn audit() -> Value {
        page(json!({
            "type": "object", "required": ["id", "at", "action", "operator_id", "operator", "client", "detail"],
            "properties": { "id": { "type": "integer" }, "at": { "type": "string", "format": "date-time" },
                            "action": { "type": "string" }, "operator": { "type": ["string", "null"] } }
        }))
    }
}
