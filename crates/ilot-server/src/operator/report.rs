//! `GET /v1/operator/patients/{id}/report.pdf`: the patient's one-page AGP report for the
//! console's patient page, laid out by `ilot-report` from the same `ilot-rules` results as the
//! app and `ilot report --pdf`. Scoped and audited like every read of a patient
//! (`read-report`); a patient of another team answers 404 as a missing one.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ilot_report::Lang;
use ilot_wire::api::ErrorCode;

use super::{Session, read_patient};
use crate::error::{Result, ServerError};
use crate::http::AppState;

/// Longest window the report may cover, in days (the consensus report is 14).
pub const MAX_DAYS: u32 = 90;

/// The query, read by hand so that a bad value gets the API's JSON error (axum's `Query`
/// rejection would answer in plain text).
fn options(q: &HashMap<String, String>) -> Result<(u32, Lang)> {
    let days = match q.get("days") {
        None => 14,
        Some(d) => d
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or_else(|| {
                ServerError::refused(
                    ErrorCode::BadRequest,
                    format!("days must be a whole number from 1 to {MAX_DAYS}"),
                )
            })?,
    };
    let lang = match q.get("lang") {
        None => Lang::Fr,
        Some(l) => Lang::parse(l)
            .ok_or_else(|| ServerError::refused(ErrorCode::BadRequest, "lang must be fr or en"))?,
    };
    Ok((days, lang))
}

pub async fn report_pdf(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let (days, lang) = options(&q)?;
    let (patient, bytes) = read_patient(&state, op, &id, "read-report", move |s, row| {
        let id = row.id;
        Ok((
            id,
            crate::rules::report_pdf(s.storage(), &row, days, lang, s.now())?,
        ))
    })
    .await?;
    // The file name holds the patient's id (hex), never the pseudonym a header could not carry.
    let disposition = format!("attachment; filename=\"ilot-agp-{patient}.pdf\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// The query parameters, for `/openapi.json`.
pub fn query_parameters() -> serde_json::Value {
    serde_json::json!([
        { "name": "days", "in": "query", "required": false,
          "schema": { "type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": 14 } },
        { "name": "lang", "in": "query", "required": false,
          "schema": { "type": "string", "enum": ["fr", "en"], "default": "fr" } }
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_query_is_checked_with_a_message() {
        assert_eq!(options(&q(&[])).unwrap(), (14, Lang::Fr));
        assert_eq!(
            options(&q(&[("days", "30"), ("lang", "en")])).unwrap(),
            (30, Lang::En)
        );
        for bad in [("days", "0"), ("days", "91"), ("days", "x"), ("lang", "de")] {
            let e = options(&q(&[bad])).unwrap_err();
            assert_eq!(e.code(), ErrorCode::BadRequest, "{bad:?}");
        }
    }
}
