//! Observance per 30-day period and the monthly billing table (SPEC §2).
//!
//! Whether a period is billable, and why not, is `ilot_rules::observance::billing`'s verdict
//! over the stored entries (the same rules crate the device runs); this module gathers the
//! input, picks the periods due in a month and adds what the rules leave out on purpose: the
//! forfaits' codes and amounts, and the CSV a billing clerk opens in a spreadsheet
//! ([`export`]).
//!
//! - `GET /v1/operator/patients/{id}/periods`: one patient's periods (physicians and nurses of
//!   the patient's team; audited `read-periods`).
//! - `GET /v1/operator/billing?month=YYYY-MM` and `GET /v1/operator/billing.csv?month=…`: the
//!   periods of the team's patients whose last day falls in that month (the month they become
//!   due), physicians only (billing is the physician operator's act, and the table lists every
//!   patient of the team); audited `read-billing` / `export-billing` with the patients listed.
//!   The month defaults to the current one in Europe/Paris.

pub mod export;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use ilot_domain::PatientProfile;
use ilot_rules::observance::billing::{Billing, BillingPeriod, Consent, Reason, Series};
use ilot_rules::observance::{Accompaniment, PeriodStatus};
use ilot_wire::api::ErrorCode;
use ilot_wire::{CareRole, ConsentDecision, PatientId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::operator::{Session, bad, read_patient};
use crate::storage::{ConsentEvent, PatientRow, Storage};

/// A billing forfait (SPEC §2): monthly, per patient, billed together or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Forfait {
    pub kind: &'static str,
    /// The act code, where SPEC names one.
    pub code: Option<&'static str>,
    pub amount_cents: u32,
}

/// The operator forfait: code TVB (level 2), 28 €.
pub const OPERATOR_FORFAIT: Forfait = Forfait {
    kind: "operator",
    code: Some("TVB"),
    amount_cents: 2800,
};

/// The technical forfait for diabetes: 50 € (its LPP code is the technical provider's, not
/// named by SPEC).
pub const TECHNICAL_FORFAIT: Forfait = Forfait {
    kind: "technical",
    code: None,
    amount_cents: 5000,
};

/// What the rules know of the consent, from the patient's consent history in time order: given
/// and not withdrawn or refused since (`Granted`); withdrawn or refused after the last consent
/// given (`WithdrawnAt` the first such decision: nothing is billable from then); never given.
pub fn consent_of(history: &[ConsentEvent]) -> Consent {
    let Some(last_given) = history
        .iter()
        .rposition(|e| e.decision == ConsentDecision::Given)
    else {
        return Consent::Never;
    };
    match history.get(last_given + 1) {
        None => Consent::Granted,
        Some(stop) => Consent::WithdrawnAt(stop.at),
    }
}

/// The billing verdict of every period of `row`'s prescription at `now`, `None` without a
/// prescription. Reads the entries from the prescription's start.
pub fn patient_billing(
    st: &dyn Storage,
    row: &PatientRow,
    now: DateTime<Utc>,
) -> Result<Option<Billing>> {
    let Some(p) = st.prescription(row.id)? else {
        return Ok(None);
    };
    // A closed record's prescription ends on its last day of monitoring.
    let p = crate::record::in_force(p.prescription, &st.record_status(row.id)?);
    // A day before the start's UTC midnight covers the start's local midnight in any zone.
    let from = p
        .start
        .and_hms_opt(0, 0, 0)
        .map_or(now, |d| d.and_utc() - TimeDelta::days(1));
    let entries = st.entries(row.id, from, now + TimeDelta::days(1), false)?;
    let loaded = ilot_rules::Loaded::from_entries(
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u64, &e.entry)),
    );
    let data = loaded.data();
    let mut profile = PatientProfile::new(row.pseudonym.clone());
    profile.tz = row.tz;
    profile.ins = crate::identity::exported_ins(st, row.id)?;
    let o = ilot_rules::observance::observance(&p, &profile, &data, now);
    let mut b = ilot_rules::observance::billing::billing(
        &o,
        &p,
        &profile,
        &data,
        consent_of(&st.consent_history(row.id)?),
        now,
    );
    // A telesurveillance ended then reopened (`record::reopen`): the time in between was not
    // monitored, and no period holding any of it is billable.
    let gaps: Vec<_> = st
        .monitoring_gaps(row.id)?
        .iter()
        .map(|g| (g.from, g.until))
        .collect();
    if !gaps.is_empty() {
        ilot_rules::observance::billing::not_monitored(&mut b, &gaps);
    }
    Ok(Some(b))
}

/// `GET /v1/operator/patients/{id}/periods`.
#[derive(Debug, Serialize)]
pub struct PatientPeriods {
    pub patient_id: PatientId,
    pub pseudonym: String,
    pub as_of: DateTime<Utc>,
    /// False when the server holds no prescription for the patient (then no period).
    pub prescribed: bool,
    pub periods: Vec<BillingPeriod>,
    pub series: Vec<Series>,
    pub accompaniment: Option<Accompaniment>,
}

pub async fn periods(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<PatientPeriods>> {
    let v = read_patient(&state, op, &id, "read-periods", |s, row| {
        let now = s.now();
        let b = patient_billing(s.storage(), &row, now)?;
        Ok(PatientPeriods {
            patient_id: row.id,
            pseudonym: row.pseudonym,
            as_of: now,
            prescribed: b.is_some(),
            accompaniment: b.as_ref().map(|b| b.accompaniment),
            series: b.as_ref().map(|b| b.series.clone()).unwrap_or_default(),
            periods: b.map(|b| b.periods).unwrap_or_default(),
        })
    })
    .await?;
    Ok(Json(v))
}

/// One row of the monthly table: a period due in the month.
#[derive(Debug, Clone, Serialize)]
pub struct BillingRow {
    pub patient_id: PatientId,
    pub pseudonym: String,
    pub ins: Option<String>,
    pub number: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub prescribed: bool,
    pub expected: f64,
    pub received: u64,
    pub ratio: Option<f64>,
    pub status: Option<PeriodStatus>,
    pub billable: bool,
    pub reasons: Vec<Reason>,
    pub series: Option<Series>,
    /// What is billed for this period: both forfaits, or 0 and 0.
    pub operator_cents: u32,
    pub technical_cents: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub periods: usize,
    pub billable: usize,
    pub operator_cents: u64,
    pub technical_cents: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthTable {
    /// `YYYY-MM`.
    pub month: String,
    pub as_of: DateTime<Utc>,
    pub forfaits: [Forfait; 2],
    pub rows: Vec<BillingRow>,
    pub totals: Totals,
}

#[derive(Debug, Deserialize)]
pub struct MonthQuery {
    /// `YYYY-MM`; the current month in Europe/Paris by default.
    pub month: Option<String>,
}

/// The first day of the month `YYYY-MM` (years 2000–2100).
pub fn parse_month(s: &str) -> Result<NaiveDate> {
    let wrong = || {
        bad(format!(
            "month must be YYYY-MM between 2000-01 and 2100-12, not {s:?}"
        ))
    };
    let (y, m) = s.split_once('-').ok_or_else(wrong)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(wrong());
    }
    let (y, m): (i32, u32) = (
        y.parse().map_err(|_| wrong())?,
        m.parse().map_err(|_| wrong())?,
    );
    if !(2000..=2100).contains(&y) {
        return Err(wrong());
    }
    NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(wrong)
}

/// The rows of the periods of `billing` whose last day is in `month` (its first day).
/// `ins`: the qualified INS only (`identity::exported_ins`).
pub fn rows_of(
    row: &PatientRow,
    ins: Option<&str>,
    billing: &Billing,
    month: NaiveDate,
) -> Vec<BillingRow> {
    billing
        .periods
        .iter()
        .filter(|p| p.last_day.year() == month.year() && p.last_day.month() == month.month())
        .map(|p| BillingRow {
            patient_id: row.id,
            pseudonym: row.pseudonym.clone(),
            ins: ins.map(str::to_string),
            number: p.number,
            first_day: p.first_day,
            last_day: p.last_day,
            prescribed: p.prescribed,
            expected: p.expected,
            received: p.received,
            ratio: p.ratio,
            status: p.status,
            billable: p.billable,
            reasons: p.reasons.clone(),
            series: p
                .series
                .and_then(|n| billing.series.iter().find(|s| s.number == n).cloned()),
            operator_cents: if p.billable {
                OPERATOR_FORFAIT.amount_cents
            } else {
                0
            },
            technical_cents: if p.billable {
                TECHNICAL_FORFAIT.amount_cents
            } else {
                0
            },
        })
        .collect()
}

fn physician_only(op: &Session) -> Result<()> {
    if op.role != CareRole::Physician {
        return Err(ServerError::refused(
            ErrorCode::Forbidden,
            "billing is for the team's physicians",
        ));
    }
    Ok(())
}

fn month_of(
    q: std::result::Result<Query<MonthQuery>, axum::extract::rejection::QueryRejection>,
    now: DateTime<Utc>,
) -> Result<NaiveDate> {
    let Query(q) = q.map_err(|e| bad(format!("the query is not what this endpoint takes: {e}")))?;
    match q.month {
        Some(m) => parse_month(&m),
        None => {
            let today = now.with_timezone(&chrono_tz::Europe::Paris).date_naive();
            Ok(today.with_day(1).unwrap_or(today))
        }
    }
}

/// The team's table for `month`, written to the audit log as `action`.
fn table(s: &AppState, op: &Session, month: NaiveDate, action: &str) -> Result<MonthTable> {
    let st = s.storage();
    let now = s.now();
    let mine: std::collections::HashSet<PatientId> =
        st.team_patients(op.team)?.into_iter().collect();
    let mut rows = Vec::new();
    // A restricted record is left out of the table (closed ones keep their periods).
    let statuses = crate::record::statuses(s)?;
    let listed = |id: &PatientId| statuses.get(id).is_none_or(|r| !r.is_restricted());
    for p in st
        .patients()?
        .into_iter()
        .filter(|p| mine.contains(&p.id) && listed(&p.id))
    {
        if let Some(b) = patient_billing(st, &p, now)? {
            let ins = crate::identity::exported_ins(st, p.id)?;
            rows.extend(rows_of(&p, ins.as_deref(), &b, month));
        }
    }
    rows.sort_by(|a, b| {
        (
            &a.pseudonym,
            a.patient_id.to_string(),
            a.number,
            a.first_day,
        )
            .cmp(&(
                &b.pseudonym,
                b.patient_id.to_string(),
                b.number,
                b.first_day,
            ))
    });
    let month = format!("{:04}-{:02}", month.year(), month.month());
    // Each patient of the table sees this read in their access log (rows come by patient).
    let mut shown: Vec<PatientId> = rows.iter().map(|r| r.patient_id).collect();
    shown.dedup();
    st.record_audit(
        &op.event(action, now)
            .detail(json!({ "month": month }))
            .shows(shown),
    )?;
    let billable = rows.iter().filter(|r| r.billable).count();
    let totals = Totals {
        periods: rows.len(),
        billable,
        operator_cents: rows.iter().map(|r| u64::from(r.operator_cents)).sum(),
        technical_cents: rows.iter().map(|r| u64::from(r.technical_cents)).sum(),
    };
    Ok(MonthTable {
        month,
        as_of: now,
        forfaits: [OPERATOR_FORFAIT, TECHNICAL_FORFAIT],
        rows,
        totals,
    })
}

/// `GET /v1/operator/billing`.
pub async fn month(
    State(state): State<AppState>,
    op: Session,
    q: std::result::Result<Query<MonthQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MonthTable>> {
    physician_only(&op)?;
    let month = month_of(q, state.now())?;
    let t = state
        .blocking(move |s| table(s, &op, month, "read-billing"))
        .await?;
    Ok(Json(t))
}

/// `GET /v1/operator/billing.csv`.
pub async fn month_csv(
    State(state): State<AppState>,
    op: Session,
    q: std::result::Result<Query<MonthQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    physician_only(&op)?;
    let month = month_of(q, state.now())?;
    let t = state
        .blocking(move |s| table(s, &op, month, "export-billing"))
        .await?;
    let body = export::csv(&t)?;
    let name = format!("attachment; filename=\"ilot-facturation-{}.csv\"", t.month);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

/// The query parameters of the billing routes, for `/openapi.json`.
pub fn query_parameters(path: &str) -> Option<Value> {
    matches!(path, "/v1/operator/billing" | "/v1/operator/billing.csv").then(|| {
        json!([
            { "name": "month", "in": "query", "required": false,
              "schema": { "type": "string", "pattern": "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$" } }
        ])
    })
}

fn reasons_schema() -> Value {
    json!({ "type": "array", "items": { "enum": [
        "no-prescription", "no-consent", "not-monitored", "in-progress", "interrupted",
        "previous-insufficient", "previous-interrupted", "no-accompaniment"
    ] } })
}

fn status_schema() -> Value {
    json!({ "enum": ["in-progress", "complete", "insufficient", "interrupted", "deceased", null] })
}

fn series_schema() -> Value {
    json!({
        "type": "object", "additionalProperties": false,
        "required": ["number", "first_period", "last_period", "from", "to"],
        "properties": {
            "number": { "type": "integer", "minimum": 1 },
            "first_period": { "type": "integer", "minimum": 1 },
            "last_period": { "type": "integer", "minimum": 1 },
            "from": { "type": "string", "format": "date" },
            "to": { "type": "string", "format": "date" }
        }
    })
}

/// The schemas of [`PatientPeriods`] and [`MonthTable`], for `/openapi.json`.
pub fn schemas() -> (Value, Value) {
    let ratio = json!({ "type": ["number", "null"], "minimum": 0, "maximum": 1 });
    let period = json!({
        "type": "object", "additionalProperties": false,
        "required": ["number", "first_day", "last_day", "starts_at", "ends_at", "prescribed",
                     "expected", "received", "ratio", "status", "billable", "reasons", "series"],
        "properties": {
            "number": { "type": "integer", "minimum": 1 },
            "first_day": { "type": "string", "format": "date" },
            "last_day": { "type": "string", "format": "date" },
            "starts_at": { "type": "string", "format": "date-time" },
            "ends_at": { "type": "string", "format": "date-time" },
            "prescribed": { "type": "boolean" },
            "expected": { "type": "number", "minimum": 0 },
            "received": { "type": "integer", "minimum": 0 },
            "ratio": ratio,
            "status": status_schema(),
            "billable": { "type": "boolean" },
            "reasons": reasons_schema(),
            "series": { "type": ["integer", "null"], "minimum": 1 }
        }
    });
    let periods = json!({
        "type": "object", "additionalProperties": false,
        "required": ["patient_id", "pseudonym", "as_of", "prescribed", "periods", "series", "accompaniment"],
        "properties": {
            "patient_id": { "$ref": "#/components/schemas/PatientId" },
            "pseudonym": { "type": "string" },
            "as_of": { "type": "string", "format": "date-time" },
            "prescribed": { "type": "boolean" },
            "periods": { "type": "array", "items": period },
            "series": { "type": "array", "items": series_schema() },
            "accompaniment": {
                "type": ["object", "null"], "required": ["status"],
                "properties": { "status": { "enum": ["done", "due", "missed"] } }
            }
        }
    });
    let forfait = json!({
        "type": "object", "additionalProperties": false,
        "required": ["kind", "code", "amount_cents"],
        "properties": {
            "kind": { "enum": ["operator", "technical"] },
            "code": { "type": ["string", "null"] },
            "amount_cents": { "type": "integer", "minimum": 0 }
        }
    });
    let cents = json!({ "type": "integer", "minimum": 0 });
    let row = json!({
        "type": "object", "additionalProperties": false,
        "required": ["patient_id", "pseudonym", "ins", "number", "first_day", "last_day",
                     "prescribed", "expected", "received", "ratio", "status", "billable",
                     "reasons", "series", "operator_cents", "technical_cents"],
        "properties": {
            "patient_id": { "$ref": "#/components/schemas/PatientId" },
            "pseudonym": { "type": "string" },
            "ins": { "type": ["string", "null"] },
            "number": { "type": "integer", "minimum": 1 },
            "first_day": { "type": "string", "format": "date" },
            "last_day": { "type": "string", "format": "date" },
            "prescribed": { "type": "boolean" },
            "expected": { "type": "number", "minimum": 0 },
            "received": { "type": "integer", "minimum": 0 },
            "ratio": ratio,
            "status": status_schema(),
            "billable": { "type": "boolean" },
            "reasons": reasons_schema(),
            "series": { "oneOf": [series_schema(), { "type": "null" }] },
            "operator_cents": cents,
            "technical_cents": cents
        }
    });
    let table = json!({
        "type": "object", "additionalProperties": false,
        "required": ["month", "as_of", "forfaits", "rows", "totals"],
        "properties": {
            "month": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$" },
            "as_of": { "type": "string", "format": "date-time" },
            "forfaits": { "type": "array", "items": forfait, "minItems": 2, "maxItems": 2 },
            "rows": { "type": "array", "items": row },
            "totals": {
                "type": "object", "additionalProperties": false,
                "required": ["periods", "billable", "operator_cents", "technical_cents"],
                "properties": {
                    "periods": cents, "billable": cents,
                    "operator_cents": cents, "technical_cents": cents
                }
            }
        }
    });
    (periods, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_parsed_strictly() {
        assert_eq!(
            parse_month("2026-03").unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        for bad in [
            "2026-3",
            "2026-13",
            "2026-00",
            "1999-12",
            "2101-01",
            "26-03",
            "2026/03",
            "",
            "2026-03-01",
        ] {
            assert!(parse_month(bad).is_err(), "{bad}");
        }
    }
}
