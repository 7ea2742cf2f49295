//! What the care team sent the patient, read back from the patient's feed (the very items the
//! device pulls, in the order it applies them): messages, appointments (each version),
//! prescription versions and alert acknowledgements; and, for physicians, who read the
//! patient's data and when (the audit log).

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use ilot_wire::CareRole;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::operator::{Session, bad, read_patient};
use crate::storage::FeedItem;

/// The kinds of feed items, as `kind` names them.
pub const FEED_KINDS: [&str; 4] = ["message", "appointment", "prescription", "alert-ack"];

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    pub kind: Option<String>,
    /// `next_cursor` of the previous page: items after it.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct FeedEntry {
    /// The item's place in the feed: the device has it once it pulled past this number.
    pub cursor: u64,
    /// `{"message": …}`, `{"appointment": …}`, `{"prescription": …}` or `{"alert_ack": …}`.
    pub item: FeedItem,
    /// Whether a device of the patient already pulled this item (the receipt the data holds:
    /// the server does not know when the patient opens the app).
    pub delivered: bool,
}

#[derive(Debug, Serialize)]
pub struct FeedPage {
    pub items: Vec<FeedEntry>,
    /// `null` at the end; oldest first, as the device applies them.
    pub next_cursor: Option<String>,
}

fn limit_of(l: Option<u32>) -> Result<u32> {
    let limit = l.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad(format!("limit must be between 1 and 200, not {limit}")));
    }
    Ok(limit)
}

fn number_cursor(c: Option<&str>, what: &str) -> Result<Option<u64>> {
    c.map(|c| {
        c.parse::<u64>().map_err(|_| {
            bad(format!(
                "this cursor is not one the {what} gave; start from the first page"
            ))
        })
    })
    .transpose()
}

fn kind_of(i: &FeedItem) -> &'static str {
    match i {
        FeedItem::Message(_) => "message",
        FeedItem::Appointment(_) => "appointment",
        FeedItem::Prescription(_) => "prescription",
        FeedItem::AlertAck(_) => "alert-ack",
    }
}

/// Feed rows read per step, and steps per request.
const STEP: u32 = 500;
const STEPS: usize = 8;

/// `GET /v1/operator/patients/{id}/feed?kind=…`: one kind of item the care team sent, oldest
/// first, with whether the device has it.
pub async fn feed(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    q: std::result::Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<FeedPage>> {
    let q = super::query(q)?;
    let kind = q.kind.ok_or_else(|| {
        bad("say which kind of item: kind=message, appointment, prescription or alert-ack")
    })?;
    let Some(kind) = FEED_KINDS.iter().copied().find(|k| *k == kind) else {
        return Err(bad(format!(
            "kind must be message, appointment, prescription or alert-ack, not {kind:?}"
        )));
    };
    let limit = limit_of(q.limit)?;
    let mut since = number_cursor(q.cursor.as_deref(), "feed")?.unwrap_or(0);
    let page = read_patient(&state, op, &id, "read-feed", move |s, row| {
        let pulled = s.storage().pulled_cursor(row.id)?;
        let mut items = Vec::new();
        let mut end = false;
        'steps: for _ in 0..STEPS {
            let rows = s.storage().feed(row.id, since, STEP)?;
            end = rows.len() < STEP as usize;
            for (cursor, item) in rows {
                since = cursor;
                if kind_of(&item) != kind {
                    continue;
                }
                items.push(FeedEntry {
                    cursor,
                    item,
                    delivered: pulled.is_some_and(|p| p >= cursor),
                });
                if items.len() == limit as usize {
                    end = false;
                    break 'steps;
                }
            }
            if end {
                break;
            }
        }
        Ok(FeedPage {
            items,
            next_cursor: (!end).then(|| since.to_string()),
        })
    })
    .await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct AccessRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub operator_id: Option<i64>,
    /// The operator's name as the team knows it (`null` for a device's act).
    pub operator: Option<String>,
    pub client: Option<String>,
    pub detail: Option<Value>,
}

#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub items: Vec<AccessRow>,
    pub next_cursor: Option<String>,
}

/// `GET /v1/operator/patients/{id}/audit` (physicians): who read or changed this patient's
/// data, and when, newest first. The reading itself is recorded first, so it is the first row.
pub async fn audit(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    q: std::result::Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>> {
    if op.role != CareRole::Physician {
        return Err(ServerError::refused(
            ilot_wire::api::ErrorCode::Forbidden,
            "only a physician can read who accessed a patient's data",
        ));
    }
    let q = super::query(q)?;
    let limit = limit_of(q.limit)?;
    let before = number_cursor(q.cursor.as_deref(), "audit log")?
        .map(|c| i64::try_from(c).unwrap_or(i64::MAX));
    let page = read_patient(&state, op, &id, "read-patient-audit", move |s, row| {
        let rows = s.storage().patient_audit(row.id, before, limit + 1)?;
        let more = rows.len() > limit as usize;
        let items: Vec<AccessRow> = rows
            .into_iter()
            .take(limit as usize)
            .map(|(a, name)| AccessRow {
                // A list read's detail names every patient the list showed: not this page's.
                detail: a.detail.filter(|_| a.patient_id == Some(row.id)),
                id: a.id,
                at: a.at,
                action: a.action,
                operator_id: a.operator_id,
                operator: name,
                client: a.client,
            })
            .collect();
        let next_cursor = more
            .then(|| items.last().map(|r| r.id.to_string()))
            .flatten();
        Ok(AuditPage { items, next_cursor })
    })
    .await?;
    Ok(Json(page))
}
