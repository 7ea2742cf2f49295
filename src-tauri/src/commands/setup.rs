//! Onboarding, the PIN lock, consent, preferences and deleting the local data.

use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::GlucoseUnit;
use ilot_store::UnlockAttempts;
use ilot_sync::SyncState;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tauri::State;

use crate::error::{Error, Result};
use crate::pin;
use crate::settings::CONSENT_TEXT_VERSION;
use crate::state::{self, AppState};

/// Wrong PINs in a row before the lock makes the patient wait.
const MAX_TRIES: u32 = 5;
/// The first wait, after [`MAX_TRIES`] wrong PINs; each further wrong PIN doubles it, up to
/// [`MAX_WAIT_S`]: 1, 2, 4… minutes, at most an hour (a 4-digit PIN then takes years to guess).
const FIRST_WAIT_S: i64 = 60;
const MAX_WAIT_S: i64 = 3600;

/// Serialises unlock attempts, so that two at once cannot both pass on one count. The count
/// and the wait live in the encrypted store (`ilot_store::UnlockAttempts`): restarting the app
/// resets neither.
#[derive(Debug, Default)]
pub struct Attempts(Mutex<()>);

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub language: String,
    pub text_scale: u16,
    pub onboarded: bool,
    /// The decision the sync engine obeys (the store's sync state).
    pub consent: Option<ConsentView>,
    /// The server this device is enrolled with, if it is.
    pub enrolled: Option<String>,
    pub pin_set: bool,
    pub locked: bool,
    pub demo: bool,
    /// Display unit and zone from the profile (readable while locked: they are not health data).
    pub unit: GlucoseUnit,
    pub tz: Tz,
    pub database: String,
    pub version: &'static str,
}

/// The patient's decision about transmission, as the sync engine recorded it.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentView {
    pub granted: bool,
    /// When it was given or withdrawn.
    pub at: DateTime<Utc>,
    pub notice_version: u32,
    /// The server was told (a withdrawal is told once, then nothing leaves).
    pub told_server: bool,
    /// `app` (the patient, here) or `consultation` (recorded by the care team and followed
    /// after a sync).
    pub channel: ilot_wire::ConsentChannel,
    /// Who of the care team collected it (channel consultation), from the history the server
    /// holds.
    pub collected_by: Option<super::sync::Member>,
}

impl ConsentView {
    /// The decision the sync engine obeys, with who collected it when the care team did.
    pub fn read(store: &ilot_store::Store) -> Result<Option<Self>> {
        let Some(c) = store.consent()? else {
            return Ok(None);
        };
        let collected_by = match c.record {
            Some(id) => store
                .server_consent()?
                .into_iter()
                .find(|r| r.id == id)
                .and_then(|r| r.collected_by)
                .map(Into::into),
            None => None,
        };
        Ok(Some(Self {
            granted: c.granted,
            at: c.at,
            notice_version: c.notice_version,
            told_server: c.told_server,
            channel: c.channel,
            collected_by,
        }))
    }
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo> {
    let store = state.store_unchecked()?;
    let (tz, unit) = state::tz_and_unit(&store)?;
    let consent = ConsentView::read(&store)?;
    let enrolled = store.identity()?.map(|i| i.server.to_string());
    drop(store);
    let s = state.settings();
    Ok(AppInfo {
        language: s.language.clone(),
        text_scale: s.text_scale,
        onboarded: s.onboarded,
        consent,
        enrolled,
        pin_set: s.pin_hash.is_some(),
        locked: !state.is_unlocked(),
        demo: state.demo,
        unit,
        tz,
        database: state.db_path.display().to_string(),
        version: env!("CARGO_PKG_VERSION"),
    })
}

fn check_language(language: &str) -> Result<()> {
    if matches!(language, "fr" | "en") {
        Ok(())
    } else {
        Err(Error::input_with(
            "unknown-language",
            format!("unknown language {language:?}: fr or en"),
            json!({ "got": language }),
        ))
    }
}

#[tauri::command]
pub fn set_language(state: State<'_, AppState>, language: String) -> Result<()> {
    check_language(&language)?;
    state.update_settings(|s| s.language = language)
}

/// Text size in percent of the default, 100 to 200 (UX: scalable to 200 %).
#[tauri::command]
pub fn set_text_scale(state: State<'_, AppState>, percent: u16) -> Result<()> {
    if !(100..=200).contains(&percent) {
        return Err(Error::input_with(
            "text-scale",
            "the text size is 100 % to 200 %",
            json!({ "min": 100, "max": 200 }),
        ));
    }
    state.update_settings(|s| s.text_scale = percent)
}

/// The display unit lives in the patient profile (the operator sees it too).
#[tauri::command]
pub fn set_unit(state: State<'_, AppState>, unit: GlucoseUnit) -> Result<()> {
    let mut store = state.store()?;
    let mut p = store.profile_or_default()?;
    if p.preferred_unit != unit {
        p.preferred_unit = unit;
        store.set_profile(&p, Utc::now())?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct Onboarding {
    pub language: String,
    pub unit: GlucoseUnit,
    /// The patient agreed to transmission to the care team.
    pub consent: bool,
    pub pin: String,
}

/// Records the onboarding choices at once: language, unit, consent (with its time), PIN hash.
#[tauri::command]
pub fn finish_onboarding(state: State<'_, AppState>, choices: Onboarding) -> Result<()> {
    onboard(&state, choices, Utc::now())
}

/// Onboarding happens once: a locked app, or one already onboarded, is refused, so it cannot
/// be used to replace the PIN without knowing it (change_pin asks for the old one).
pub fn onboard(state: &AppState, choices: Onboarding, now: DateTime<Utc>) -> Result<()> {
    state.require_unlocked()?;
    {
        let s = state.settings();
        if s.onboarded || s.pin_hash.is_some() {
            return Err(Error::input(
                "already-onboarded",
                "onboarding is already done; change the PIN in the settings",
            ));
        }
    }
    check_language(&choices.language)?;
    let hash = pin::hash(&choices.pin)?;
    {
        let mut store = state.store_unchecked()?;
        let mut p = store.profile_or_default()?;
        if p.preferred_unit != choices.unit || store.profile()?.is_none() {
            p.preferred_unit = choices.unit;
            store.set_profile(&p, now)?;
        }
        // Only a "yes" is recorded: a "no" at onboarding leaves no decision, which the engine
        // already treats as "send nothing", and keeps "withdrawn" for a consent taken back.
        if choices.consent && !store.consent()?.is_some_and(|c| c.granted) {
            ilot_sync::set_consent(&mut *store, true, CONSENT_TEXT_VERSION, now)?;
        }
    }
    state.sync.wake();
    state.update_settings(|s| {
        s.language = choices.language;
        s.pin_hash = Some(hash);
        s.onboarded = true;
    })?;
    state.set_unlocked(true);
    Ok(())
}

#[derive(Debug, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Unlock {
    Open,
    Wrong { tries_left: u32 },
    Wait { seconds: u64 },
}

#[tauri::command]
pub fn unlock(
    state: State<'_, AppState>,
    attempts: State<'_, Attempts>,
    pin: String,
) -> Result<Unlock> {
    try_unlock(&state, &attempts, &pin, Utc::now())
}

/// Checks `pin` at `now`. The attempt is counted in the store before the PIN is checked, so
/// that stopping the app during the check does not spare a wrong guess; a right PIN clears it.
pub fn try_unlock(
    state: &AppState,
    attempts: &Attempts,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<Unlock> {
    let _one_at_a_time = attempts.0.lock().unwrap_or_else(|p| p.into_inner());
    let Some(hash) = state.settings().pin_hash.clone() else {
        state.set_unlocked(true);
        return Ok(Unlock::Open);
    };
    let mut store = state.store_unchecked()?;
    let before = store.unlock_attempts()?;
    if let Some(until) = before.wait_until {
        // A clock set back never makes the wait longer than the longest one.
        let until = until.min(now + TimeDelta::seconds(MAX_WAIT_S));
        if now < until {
            let left = (until - now).num_milliseconds();
            return Ok(Unlock::Wait {
                seconds: u64::try_from((left + 999) / 1000).unwrap_or(1).max(1),
            });
        }
    }
    let failures = before.failures.saturating_add(1);
    let wait = (failures >= MAX_TRIES).then(|| wait_after(failures));
    store.set_unlock_attempts(UnlockAttempts {
        failures,
        wait_until: wait.map(|w| now + w),
    })?;
    if pin::verify(pin, &hash) {
        store.set_unlock_attempts(UnlockAttempts::default())?;
        drop(store);
        state.set_unlocked(true);
        return Ok(Unlock::Open);
    }
    Ok(match wait {
        Some(w) => Unlock::Wait {
            seconds: u64::try_from(w.num_seconds()).unwrap_or(1),
        },
        None => Unlock::Wrong {
            tries_left: MAX_TRIES - failures,
        },
    })
}

/// The wait after the `failures`-th wrong PIN in a row (from the [`MAX_TRIES`]-th on).
fn wait_after(failures: u32) -> TimeDelta {
    let doublings = failures.saturating_sub(MAX_TRIES).min(16);
    TimeDelta::seconds((FIRST_WAIT_S << doublings).min(MAX_WAIT_S))
}

#[tauri::command]
pub fn lock(state: State<'_, AppState>) -> Result<()> {
    if state.settings().pin_hash.is_some() {
        state.set_unlocked(false);
    }
    Ok(())
}

#[tauri::command]
pub fn change_pin(state: State<'_, AppState>, old: String, new: String) -> Result<()> {
    state.require_unlocked()?;
    let current = state.settings().pin_hash.clone();
    if let Some(h) = current
        && !pin::verify(&old, &h)
    {
        return Err(Error::input("pin-wrong", "the current PIN is not right"));
    }
    let hash = pin::hash(&new)?;
    state.update_settings(|s| s.pin_hash = Some(hash))
}

/// Gives (again) consent to transmission, recorded with its time in the store's sync state.
#[tauri::command]
pub fn give_consent(state: State<'_, AppState>) -> Result<ConsentView> {
    set_consent(&state, true, Utc::now())
}

/// Withdraws consent: from now on nothing leaves the device; the next sync tells the care team
/// once (SPEC §2) and sends nothing else.
#[tauri::command]
pub fn withdraw_consent(state: State<'_, AppState>) -> Result<ConsentView> {
    set_consent(&state, false, Utc::now())
}

pub fn set_consent(state: &AppState, granted: bool, now: DateTime<Utc>) -> Result<ConsentView> {
    let mut store = state.store()?;
    let current = store.consent()?;
    if current.is_none_or(|c| c.granted != granted) {
        ilot_sync::set_consent(&mut *store, granted, CONSENT_TEXT_VERSION, now)?;
    }
    let c = ConsentView::read(&store)?.expect("recorded above or before");
    drop(store);
    state.sync.wake();
    Ok(c)
}

/// Deletes every local entry, the profile, the prescription and the settings; the app starts
/// again at onboarding. `confirm` must be `true` (the UI asks twice).
#[tauri::command]
pub fn delete_local_data(state: State<'_, AppState>, confirm: bool) -> Result<()> {
    if !confirm {
        return Err(Error::input(
            "confirm",
            "confirm the deletion: it cannot be undone",
        ));
    }
    state.require_unlocked()?;
    state.reset()
}
