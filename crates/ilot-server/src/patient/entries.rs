//! `GET /v1/operator/patients/{id}/entries`: the raw entries (latest version of each, deleted
//! ones included, as the device sent them), newest first, in cursor pages: a year of 1-minute
//! CGM is 500,000 entries and is never one JSON document. `from`/`to` bound the times read
//! (`[from, to)`); the cursor is the logbook's (time, device, entry id).

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::logbook::{cursor_of, parse_cursor, position};
use crate::error::Result;
use crate::http::AppState;
use crate::operator::{Session, bad, read_patient};
use crate::storage::ServerEntry;

/// Entries per page: at most this many, `DEFAULT_LIMIT` unless asked.
pub const MAX_LIMIT: u32 = 5_000;
pub const DEFAULT_LIMIT: u32 = 1_000;

#[derive(Debug, Deserialize)]
pub struct EntriesQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct EntriesPage {
    /// Entries in this page.
    pub count: usize,
    pub entries: Vec<ServerEntry>,
    /// `null` when nothing older is left in `[from, to)`. A page may hold fewer than `limit`
    /// entries (entries at or after `to` are skipped in bounded steps); only `null` ends.
    pub next_cursor: Option<String>,
}

/// Rows skipped at or after `to` per request, at most (the page then ends early with a cursor).
const MAX_SKIPPED: usize = 50_000;

pub async fn entries(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    q: std::result::Result<Query<EntriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EntriesPage>> {
    let q = super::query(q)?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad(format!(
            "limit must be between 1 and {MAX_LIMIT}, not {limit}"
        )));
    }
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from >= to
    {
        return Err(bad(format!("from ({from}) must be before to ({to})")));
    }
    let mut at = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let page = read_patient(&state, op, &id, "read-entries", move |s, row| {
        let st = s.storage();
        let mut entries = Vec::new();
        let mut skipped = 0;
        loop {
            let want = limit - entries.len() as u32;
            let rows = st.entries_before(row.id, at, want)?;
            let exhausted = rows.len() < want as usize;
            for e in rows {
                if q.from.is_some_and(|from| e.entry.at_utc() < from) {
                    return Ok((entries, true, at));
                }
                at = Some(position(&e));
                if q.to.is_some_and(|to| e.entry.at_utc() >= to) {
                    skipped += 1;
                } else {
                    entries.push(e);
                }
            }
            if exhausted {
                return Ok((entries, true, at));
            }
            if entries.len() == limit as usize || skipped >= MAX_SKIPPED {
                return Ok((entries, false, at));
            }
        }
    })
    .await?;
    let (entries, end, last) = page;
    Ok(Json(EntriesPage {
        count: entries.len(),
        // The last row read (kept or skipped): the next page starts strictly before it.
        next_cursor: if end {
            None
        } else {
            last.as_ref().map(cursor_of)
        },
        entries,
    }))
}
