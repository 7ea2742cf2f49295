//! The logbook: every entry but sensor (interstitial) readings — capillary readings with their
//! meal context, insulin, carbohydrates, hypo reports, ketones, notes… — newest first, each as
//! the patient entered it (value and unit as given), with the earlier versions of a corrected
//! or deleted entry. Pages follow a cursor over (time, device, entry id), so a year of 1-minute
//! CGM (500,000 entries) is walked a page at a time, never sent as one document.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, FixedOffset, Utc};
use ilot_domain::{Entry, EntryKind, ReadingType};
use ilot_wire::DeviceId;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::http::AppState;
use crate::operator::{Session, bad, read_patient};
use crate::storage::{EntryCursor, ServerEntry};

#[derive(Debug, Deserialize)]
pub struct LogbookQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Entries per page: 1–200, default 50.
    pub limit: Option<u32>,
}

/// An earlier version of an entry.
#[derive(Debug, Serialize)]
pub struct Version {
    pub version: u32,
    pub deleted: bool,
    /// When the device recorded this version (the correction's time).
    pub recorded_at: DateTime<Utc>,
    pub entry: Entry,
}

#[derive(Debug, Serialize)]
pub struct LogbookItem {
    pub device_id: DeviceId,
    pub entry_id: i64,
    pub version: u32,
    /// A deletion is the last version of an entry; it stays visible with its history.
    pub deleted: bool,
    /// The entry's time with the offset the patient recorded it in.
    pub at: DateTime<FixedOffset>,
    pub kind: &'static str,
    pub recorded_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The domain entry as entered: values in the patient's unit, meal context, source.
    pub entry: Entry,
    /// Earlier versions, oldest first (empty for an entry never corrected).
    pub history: Vec<Version>,
}

#[derive(Debug, Serialize)]
pub struct LogbookPage {
    pub items: Vec<LogbookItem>,
    /// `null` at the end. A page may hold fewer than `limit` entries (a stretch of sensor
    /// readings is skipped in bounded steps); only `null` means there is nothing older.
    pub next_cursor: Option<String>,
}

/// Rows read from the storage per step, and steps per request: a request never reads more than
/// `STEP * STEPS` rows, however many sensor readings lie between two logbook entries.
const STEP: u32 = 1_000;
const STEPS: usize = 8;

pub(super) fn cursor_of(c: &EntryCursor) -> String {
    hex::encode(format!(
        "{}.{}.{}",
        c.at.timestamp_millis(),
        c.device_id,
        c.entry_id
    ))
}

pub(super) fn parse_cursor(s: &str) -> Result<EntryCursor> {
    let wrong = || bad("this cursor is not one this list gave; start from the first page");
    let raw = String::from_utf8(hex::decode(s).map_err(|_| wrong())?).map_err(|_| wrong())?;
    let mut parts = raw.split('.');
    let (Some(at), Some(device), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(wrong());
    };
    Ok(EntryCursor {
        at: at
            .parse()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(wrong)?,
        device_id: device.parse().map_err(|_| wrong())?,
        entry_id: id.parse().map_err(|_| wrong())?,
    })
}

pub(super) fn position(e: &ServerEntry) -> EntryCursor {
    EntryCursor {
        at: e.entry.at_utc(),
        device_id: e.device_id,
        entry_id: e.entry_id,
    }
}

/// Sensor readings belong to the curves, not the logbook.
fn in_logbook(e: &Entry) -> bool {
    !matches!(&e.kind, EntryKind::Glucose(g) if g.reading_type == ReadingType::Interstitial)
}

/// `GET /v1/operator/patients/{id}/logbook`.
pub async fn logbook(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    q: std::result::Result<Query<LogbookQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<LogbookPage>> {
    let q = super::query(q)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad(format!("limit must be between 1 and 200, not {limit}")));
    }
    let mut at = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let page = read_patient(&state, op, &id, "read-logbook", move |s, row| {
        let st = s.storage();
        let mut items = Vec::new();
        let mut end = false;
        'steps: for _ in 0..STEPS {
            let rows = st.entries_before(row.id, at, STEP)?;
            end = rows.len() < STEP as usize;
            for e in rows {
                at = Some(position(&e));
                if !in_logbook(&e.entry) {
                    continue;
                }
                let history = if e.version > 1 {
                    st.entry_versions(row.id, e.device_id, e.entry_id)?
                        .into_iter()
                        .filter(|v| v.version < e.version)
                        .map(|v| Version {
                            version: v.version,
                            deleted: v.deleted,
                            recorded_at: v.recorded_at,
                            entry: v.entry,
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                items.push(LogbookItem {
                    device_id: e.device_id,
                    entry_id: e.entry_id,
                    version: e.version,
                    deleted: e.deleted,
                    at: e.entry.at,
                    kind: e.entry.kind.name(),
                    recorded_at: e.recorded_at,
                    received_at: e.received_at,
                    entry: e.entry,
                    history,
                });
                if items.len() == limit as usize {
                    // The rest of this step is read again by the next page, from this entry.
                    end = false;
                    break 'steps;
                }
            }
            if end {
                break;
            }
        }
        Ok(LogbookPage {
            items,
            next_cursor: if end {
                None
            } else {
                at.as_ref().map(cursor_of)
            },
        })
    })
    .await?;
    Ok(Json(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_a_foreign_one_is_refused() {
        let c = EntryCursor {
            at: DateTime::from_timestamp_millis(1_772_438_400_123).unwrap(),
            device_id: DeviceId::from_bytes([0xab; 16]),
            entry_id: -5,
        };
        assert_eq!(parse_cursor(&cursor_of(&c)).unwrap(), c);
        for bad in ["zz", "", &hex::encode("1.2"), &hex::encode("x.y.z")] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }
}
