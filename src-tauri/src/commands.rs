//! Typed commands the UI calls (see `ui/src/lib/ipc.ts`, their one typed mirror).

use chrono::Utc;
use ilot_domain::{Entry, EntryKind, GlucoseLevel, GlucoseReading, GlucoseUnit, MealContext, ReadingType, Source};
use serde::Serialize;
use tauri::State;

use crate::error::{Error, Result};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct LastGlucose {
    pub id: i64,
    pub at: chrono::DateTime<Utc>,
    /// mg/dL, or null for LO/HI.
    pub mg_dl: Option<f64>,
    pub level: &'static str,
    pub cgm: bool,
}

#[derive(Debug, Serialize)]
pub struct Home {
    pub last: Option<LastGlucose>,
    pub entries: u64,
    pub waiting_to_send: u64,
}

#[tauri::command]
pub fn home(state: State<'_, AppState>) -> Result<Home> {
    let store = state.store.lock().map_err(|_| Error::Input("the store is busy".into()))?;
    let points = store.glucose_points(None, None)?;
    let last = points.last().map(|p| LastGlucose {
        id: p.id as i64,
        at: p.at,
        mg_dl: p.level.mg_dl(),
        level: match p.level {
            ilot_rules::Level::MgDl(_) => "value",
            ilot_rules::Level::Lo => "lo",
            ilot_rules::Level::Hi => "hi",
        },
        cgm: p.cgm,
    });
    Ok(Home { last, entries: store.count_entries()?, waiting_to_send: store.outbox_len()? })
}

#[tauri::command]
pub fn add_glucose(state: State<'_, AppState>, value: String, unit: String, context: Option<String>) -> Result<i64> {
    let unit: GlucoseUnit = unit.parse()?;
    let level = GlucoseLevel::parse(&value, unit)?;
    let now = Utc::now();
    let context = match context {
        Some(c) => c.parse()?,
        None => MealContext::suggest(now.time()),
    };
    let kind = EntryKind::Glucose(GlucoseReading::new(level, ReadingType::Capillary, context));
    let entry = Entry::new(now.fixed_offset(), Source::manual(), kind, now)?;
    let mut store = state.store.lock().map_err(|_| Error::Input("the store is busy".into()))?;
    match store.add(&entry, now)? {
        ilot_store::AddOutcome::Added(id) | ilot_store::AddOutcome::Duplicate(id) => Ok(id),
        ilot_store::AddOutcome::Conflict { existing } => Ok(existing),
    }
}
