//! The home screen: the last glucose with its word and arrow, the alerts to act on now, the
//! prescribed basal doses as one-tap suggestions, and the sync line.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{GlucoseUnit, MealContext};
use serde::Serialize;
use tauri::State;

use super::sync::{AppointmentView, Inbox, MessageView, SyncView};
use crate::error::Result;
use crate::gather::{self, Trend, Zone};
use crate::state::{self, AppState};
use crate::views::{AlertView, Reading};
use ilot_store::AlertMark;

#[derive(Debug, Serialize)]
pub struct LastGlucose {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub reading: Reading,
    pub cgm: bool,
    pub context: MealContext,
    pub zone: Zone,
    pub trend: Option<Trend>,
}

#[derive(Debug, Serialize)]
pub struct BasalSuggestion {
    /// Local time the dose is due, `HH:MM`.
    pub time: String,
    pub units: f64,
}

#[derive(Debug, Serialize)]
pub struct Home {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub unit: GlucoseUnit,
    pub last: Option<LastGlucose>,
    pub alerts: Vec<AlertView>,
    /// What is due now by the clock (re-check after a low, readings of the day), not yet done.
    pub reminders: Vec<ilot_rules::reminders::Reminder>,
    pub basal: Vec<BasalSuggestion>,
    /// No prescription recorded yet: the thresholds are SPEC defaults.
    pub prescription_default: bool,
    pub entries: u64,
    pub sync: SyncView,
    /// Care-team messages not read yet, and the newest of them (shown on home).
    pub unread: usize,
    pub latest_unread: Option<MessageView>,
    pub next_appointment: Option<AppointmentView>,
    pub demo: bool,
}

#[tauri::command]
pub fn home(state: State<'_, AppState>) -> Result<Home> {
    home_at(&state, Utc::now())
}

pub fn home_at(state: &AppState, now: DateTime<Utc>) -> Result<Home> {
    state.require_unlocked()?;
    let reminders = crate::reminders::due(state, now)?;
    let store = state.store()?;
    let (tz, unit) = state::tz_and_unit(&store)?;
    let (prescription, default) = gather::prescription_or_default(&store, tz, now)?;
    let from = now - TimeDelta::days(gather::ALERT_LOOKBACK_DAYS);
    let loaded = store.rules_data(Some(from), Some(now + ilot_domain::MAX_FUTURE_SKEW))?;
    let ack = store.alert_marks(AlertMark::Done)?;
    let notified = store.alert_marks(AlertMark::Notified)?;
    let alerts = gather::active_alerts(&store, &prescription, tz, now, &loaded, &ack)?
        .into_iter()
        .map(|a| {
            let seen = notified.contains(&a.key);
            AlertView::new(a, seen)
        })
        .collect();

    let older;
    let points = if loaded.glucose.is_empty() {
        // Nothing for two weeks: still show the last reading, however old.
        older = store.glucose_points(None, None)?;
        &older
    } else {
        &loaded.glucose
    };
    let last = points.last().map(|p| LastGlucose {
        id: p.id as i64,
        at: p.at,
        reading: p.level.into(),
        cgm: p.cgm,
        context: p.context,
        zone: gather::zone(&prescription.policy, p.level, p.cgm || p.scan, p.context),
        trend: gather::trend(points),
    });
    let sync = SyncView::gather(&store, &state.sync.status())?;
    let read = state.settings().read_messages.clone();
    let inbox = Inbox::gather(&store, &read, now)?;
    Ok(Home {
        now,
        tz,
        unit,
        last,
        alerts,
        reminders,
        basal: prescription
            .basal
            .iter()
            .map(|b| BasalSuggestion {
                time: b.time.format("%H:%M").to_string(),
                units: b.units,
            })
            .collect(),
        prescription_default: default,
        entries: store.count_entries()?,
        sync,
        unread: inbox.unread,
        latest_unread: inbox.messages.into_iter().find(|m| !m.read),
        next_appointment: inbox
            .appointments
            .into_iter()
            .find(|a| a.upcoming && !a.cancelled),
        demo: state.demo,
    })
}

/// The patient marked an alert "done": it leaves the home screen (it stays in the history the
/// rules recompute, and a new episode is a new alert).
#[tauri::command]
pub fn alert_done(state: State<'_, AppState>, key: String) -> Result<()> {
    state.require_unlocked()?;
    state.mark_alerts(AlertMark::Done, [key.as_str()])
}

/// The UI showed these urgent alerts as desktop notifications: never notify them again.
#[tauri::command]
pub fn alerts_notified(state: State<'_, AppState>, keys: Vec<String>) -> Result<()> {
    state.mark_alerts(AlertMark::Notified, keys.iter().map(String::as_str))
}
