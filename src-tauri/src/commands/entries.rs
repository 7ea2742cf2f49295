//! Adding, correcting and deleting diary entries, and reading them back for the logbook. A
//! correction or deletion never overwrites: the store keeps every version, which the UI shows
//! ("corrigé le …").

use chrono::{DateTime, Days, NaiveDate, Utc};
use ilot_domain::{Entry, Source};
use ilot_store::AddOutcome;
use serde::Serialize;
use tauri::State;

use crate::error::{Error, Result};
use crate::input::{self, EntryInput};
use crate::state::{self, AppState};
use crate::views::{self, EntryView};

#[derive(Debug, Serialize)]
pub struct Saved {
    pub id: i64,
    pub version: u32,
}

/// Adds an entry at `at` (local wall time `YYYY-MM-DDTHH:MM` in the patient's zone) or now.
/// Every saved change wakes the sync loop: the care team gets it at once when a network is
/// there (offline, the attempt fails fast and the entry waits in the outbox as always).
#[tauri::command]
pub fn add_entry(
    state: State<'_, AppState>,
    entry: EntryInput,
    at: Option<String>,
) -> Result<Saved> {
    let saved = add_entry_at(&state, entry, at.as_deref(), Utc::now())?;
    state.sync.wake();
    Ok(saved)
}

pub fn add_entry_at(
    state: &AppState,
    input: EntryInput,
    at: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Saved> {
    let mut store = state.store()?;
    let (tz, _) = state::tz_and_unit(&store)?;
    let at = match at {
        Some(t) => input::local_time(t, tz)?,
        None => input::now_in(tz, now),
    };
    let entry = Entry::new(at, Source::manual(), input.into_kind()?, now)?;
    let id = match store.add(&entry, now)? {
        AddOutcome::Added(id) | AddOutcome::Duplicate(id) => id,
        // Manual entries carry no dedup key, so a conflict cannot happen; say so if it ever does.
        AddOutcome::Conflict { existing } => {
            return Err(Error::input(
                "conflict",
                format!("entry {existing} already holds a different value for this record"),
            ));
        }
    };
    Ok(Saved { id, version: 1 })
}

/// Replaces the content (and, if given, the time) of entry `id`; the previous version is kept.
#[tauri::command]
pub fn correct_entry(
    state: State<'_, AppState>,
    id: i64,
    entry: EntryInput,
    at: Option<String>,
    reason: Option<String>,
) -> Result<Saved> {
    let now = Utc::now();
    let mut store = state.store()?;
    let (tz, _) = state::tz_and_unit(&store)?;
    let current = store.get(id)?.ok_or(ilot_store::StoreError::NotFound(id))?;
    let at = match at.as_deref() {
        Some(t) => input::local_time(t, tz)?,
        None => current.entry.at,
    };
    let new = Entry::new(at, current.entry.source.clone(), entry.into_kind()?, now)?;
    let reason = reason.filter(|r| !r.trim().is_empty());
    let version = store.correct(id, &new, reason.as_deref(), now)?;
    drop(store);
    state.sync.wake();
    Ok(Saved { id, version })
}

#[tauri::command]
pub fn delete_entry(state: State<'_, AppState>, id: i64, reason: Option<String>) -> Result<Saved> {
    let reason = reason.filter(|r| !r.trim().is_empty());
    let version = state.store()?.delete(id, reason.as_deref(), Utc::now())?;
    state.sync.wake();
    Ok(Saved { id, version })
}

#[tauri::command]
pub fn entry(state: State<'_, AppState>, id: i64) -> Result<EntryView> {
    let store = state.store()?;
    let e = store.get(id)?.ok_or(ilot_store::StoreError::NotFound(id))?;
    Ok(e.into())
}

/// Every version of entry `id`, oldest first.
#[tauri::command]
pub fn entry_history(state: State<'_, AppState>, id: i64) -> Result<Vec<EntryView>> {
    Ok(state
        .store()?
        .history(id)?
        .into_iter()
        .map(EntryView::from)
        .collect())
}

/// A day's sensor readings, summarised (the logbook lists finger pricks and events one by one).
#[derive(Debug, Serialize)]
pub struct SensorSummary {
    pub readings: usize,
    pub min_mg_dl: Option<f64>,
    pub max_mg_dl: Option<f64>,
    pub mean_mg_dl: Option<f64>,
    pub lo: usize,
    pub hi: usize,
}

#[derive(Debug, Serialize)]
pub struct LogbookDay {
    /// Local date, `YYYY-MM-DD`.
    pub date: NaiveDate,
    pub entries: Vec<EntryView>,
    pub sensor: Option<SensorSummary>,
}

#[derive(Debug, Serialize)]
pub struct Logbook {
    pub days: Vec<LogbookDay>,
    /// The day before the first one returned, to ask for the next page; `None` at the oldest.
    pub earlier: Option<NaiveDate>,
}

/// `days` local days ending with `until` (default today), newest first, days without entries
/// left out; `kind` filters by entry kind (`glucose`, `insulin`, …).
#[tauri::command]
pub fn logbook(
    state: State<'_, AppState>,
    until: Option<NaiveDate>,
    days: u32,
    kind: Option<String>,
) -> Result<Logbook> {
    let store = state.store()?;
    let (tz, _) = state::tz_and_unit(&store)?;
    let now = Utc::now();
    let last_day = until.unwrap_or_else(|| now.with_timezone(&tz).date_naive());
    let span = u64::from(days.clamp(1, 92));
    let first_day = last_day
        .checked_sub_days(Days::new(span - 1))
        .unwrap_or(last_day);
    let from = ilot_rules::observance::local_midnight(tz, first_day);
    let to = ilot_rules::observance::local_midnight(tz, last_day.succ_opt().unwrap_or(last_day));
    let kind = kind.filter(|k| !k.is_empty() && k != "all");
    let stored = store.entries(Some(from), Some(to), kind.as_deref(), false)?;

    let mut out: Vec<LogbookDay> = Vec::new();
    let mut sensor: Vec<(NaiveDate, Option<f64>, &'static str)> = Vec::new();
    for s in stored {
        let date = s.entry.at.with_timezone(&tz).date_naive();
        if views::is_sensor_reading(&s) {
            let v = EntryView::from(s);
            if let Some(g) = v.glucose {
                sensor.push((date, g.mg_dl, g.level));
            }
            continue;
        }
        day_mut(&mut out, date).entries.push(s.into());
    }
    for (date, mg_dl, level) in sensor {
        let day = day_mut(&mut out, date);
        let sum = day.sensor.get_or_insert(SensorSummary {
            readings: 0,
            min_mg_dl: None,
            max_mg_dl: None,
            mean_mg_dl: None,
            lo: 0,
            hi: 0,
        });
        sum.readings += 1;
        match (mg_dl, level) {
            (Some(v), _) => {
                sum.min_mg_dl = Some(sum.min_mg_dl.map_or(v, |m| m.min(v)));
                sum.max_mg_dl = Some(sum.max_mg_dl.map_or(v, |m| m.max(v)));
                // Running sum for now; divided below.
                sum.mean_mg_dl = Some(sum.mean_mg_dl.unwrap_or(0.0) + v);
            }
            (None, "lo") => sum.lo += 1,
            (None, _) => sum.hi += 1,
        }
    }
    for d in &mut out {
        d.entries.reverse();
        if let Some(s) = &mut d.sensor {
            let numeric = (s.readings - s.lo - s.hi) as f64;
            s.mean_mg_dl = s.mean_mg_dl.map(|total| total / numeric);
        }
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.date));
    // Anything older? The store has no "first entry" query yet (asked for), so this reads the
    // times before the page: a few milliseconds for a year of CGM.
    let older = store.rules_data(None, Some(from))?;
    let any_older = !(older.glucose.is_empty()
        && older.insulin.is_empty()
        && older.hypo.is_empty()
        && older.other.is_empty()
        && older.education.is_empty());
    Ok(Logbook {
        days: out,
        earlier: any_older.then(|| first_day.pred_opt().unwrap_or(first_day)),
    })
}

fn day_mut(days: &mut Vec<LogbookDay>, date: NaiveDate) -> &mut LogbookDay {
    let i = match days.iter().position(|d| d.date == date) {
        Some(i) => i,
        None => {
            days.push(LogbookDay {
                date,
                entries: Vec::new(),
                sensor: None,
            });
            days.len() - 1
        }
    };
    &mut days[i]
}
