//! The patient's rights as the app shows them: the consent (this device's decision, the
//! history the server holds, the information text's version) and *Qui a consulté mes données*,
//! the care team's acts on the patient's data as the pull brought them (last 12 months).

use chrono::{DateTime, TimeDelta, Utc};
use ilot_sync::SyncState;
use ilot_wire::{AccessEntry, ConsentRecord};
use serde::Serialize;
use tauri::State;

use super::setup::ConsentView;
use crate::error::Result;
use crate::settings::CONSENT_TEXT_VERSION;
use crate::state::AppState;

/// How far back the access log is shown (the server sends no more either).
const ACCESS_LOG_DAYS: i64 = 365;

#[derive(Debug, Serialize)]
pub struct RightsView {
    /// This device's decision.
    pub consent: Option<ConsentView>,
    /// The consent history the server holds (oldest first), as of the last sync.
    pub history: Vec<ConsentRecord>,
    /// The version of the information text this app shows.
    pub notice_version: u32,
    /// Newest first, last 12 months.
    pub access_log: Vec<AccessEntry>,
}

impl RightsView {
    pub fn gather(store: &ilot_store::Store, now: DateTime<Utc>) -> Result<Self> {
        let since = now - TimeDelta::days(ACCESS_LOG_DAYS);
        let mut access_log: Vec<AccessEntry> = store
            .access_log()?
            .into_iter()
            .filter(|a| a.at >= since)
            .collect();
        access_log.reverse();
        Ok(Self {
            consent: ConsentView::read(store)?,
            history: store.server_consent()?,
            notice_version: CONSENT_TEXT_VERSION,
            access_log,
        })
    }
}

#[tauri::command]
pub fn rights(state: State<'_, AppState>) -> Result<RightsView> {
    let store = state.store()?;
    RightsView::gather(&store, Utc::now())
}
