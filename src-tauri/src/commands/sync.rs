//! Enrolment, the sync line and "sync now", the background sync loop, and what the care team
//! sent (messages, appointments). Network work always runs off the UI's thread.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use ilot_store::Store;
use ilot_sync::SyncState;
use ilot_wire::{AppointmentKind, AppointmentMode, CareRole};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::sync::{Enrolled, INTERVAL, Problem, Status};

/// Event sent after every sync session (payload: [`SyncView`]).
pub const SYNC_EVENT: &str = "sync-status";

/// The permanent sync line: what waits, when it last went, when it goes next, and why not.
#[derive(Debug, Clone, Serialize)]
pub struct SyncView {
    /// `no-consent`, `consent-withdrawn`, `team-withdrawn`, `not-enrolled`, `syncing`,
    /// `offline`, `refused`, `idle`.
    pub state: &'static str,
    pub pending: u64,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub next_try_at: Option<DateTime<Utc>>,
    /// The server's error code when it refused (`unknown_device`…).
    pub refused: Option<String>,
    /// Messages and appointments the last session brought.
    pub received: usize,
}

impl SyncView {
    pub fn gather(store: &Store, status: &Status) -> Result<Self> {
        let consent = store.consent()?;
        let enrolled = store.identity()?.is_some();
        let state = match (consent, &status.problem) {
            (None, _) => "no-consent",
            // A withdrawal the care team recorded, which the device followed after a sync.
            (Some(c), _) if !c.granted && c.channel == ilot_wire::ConsentChannel::Consultation => {
                "team-withdrawn"
            }
            (Some(c), _) if !c.granted => "consent-withdrawn",
            _ if !enrolled => "not-enrolled",
            _ if status.running => "syncing",
            (_, Some(Problem::Offline)) => "offline",
            (_, Some(_)) => "refused",
            (_, None) => "idle",
        };
        let refused = match &status.problem {
            Some(Problem::Refused { code }) => Some(code.clone()),
            Some(Problem::Local { .. }) => Some("local".into()),
            _ => None,
        };
        Ok(Self {
            state,
            pending: store.outbox_len()?,
            last_sent_at: status.last_ok_at,
            next_try_at: enrolled.then_some(status.next_try_at).flatten(),
            refused,
            received: status.received,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub name: String,
    pub role: CareRole,
}

impl From<ilot_wire::CareTeamMember> for Member {
    fn from(m: ilot_wire::CareTeamMember) -> Self {
        Self {
            name: m.name,
            role: m.role,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: u64,
    pub from: Member,
    pub text: String,
    pub sent_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppointmentView {
    pub id: u64,
    pub kind: AppointmentKind,
    pub starts_at: DateTime<Utc>,
    pub duration_min: u32,
    pub mode: AppointmentMode,
    pub with: Option<Member>,
    pub topic: Option<String>,
    pub cancelled: bool,
    /// Not over yet.
    pub upcoming: bool,
}

/// Messages newest first; appointments to come soonest first, then past ones latest first.
#[derive(Debug, Clone, Serialize)]
pub struct Inbox {
    pub messages: Vec<MessageView>,
    pub appointments: Vec<AppointmentView>,
    pub unread: usize,
}

impl Inbox {
    pub fn gather(store: &Store, read: &BTreeSet<u64>, now: DateTime<Utc>) -> Result<Self> {
        let mut messages: Vec<MessageView> = store
            .messages()?
            .into_iter()
            .map(|m| MessageView {
                read: read.contains(&m.id),
                id: m.id,
                from: m.from.into(),
                text: m.text,
                sent_at: m.sent_at,
            })
            .collect();
        messages.sort_by(|a, b| b.sent_at.cmp(&a.sent_at).then(b.id.cmp(&a.id)));
        let mut appointments: Vec<AppointmentView> = store
            .appointments()?
            .into_iter()
            .map(|a| AppointmentView {
                upcoming: a.starts_at + chrono::TimeDelta::minutes(i64::from(a.duration_min)) > now,
                id: a.id,
                kind: a.kind,
                starts_at: a.starts_at,
                duration_min: a.duration_min,
                mode: a.mode,
                with: a.with.map(Member::from),
                topic: a.topic,
                cancelled: a.cancelled,
            })
            .collect();
        appointments.sort_by(|a, b| match (a.upcoming, b.upcoming) {
            (true, true) => a.starts_at.cmp(&b.starts_at),
            (false, false) => b.starts_at.cmp(&a.starts_at),
            (up, _) => {
                if up {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                }
            }
        });
        let unread = messages.iter().filter(|m| !m.read).count();
        Ok(Self {
            messages,
            appointments,
            unread,
        })
    }
}

#[tauri::command]
pub fn inbox(state: State<'_, AppState>) -> Result<Inbox> {
    let store = state.store()?;
    let read = state.settings().read_messages.clone();
    Inbox::gather(&store, &read, Utc::now())
}

/// The patient opened these messages.
#[tauri::command]
pub fn messages_read(state: State<'_, AppState>, ids: Vec<u64>) -> Result<()> {
    state.require_unlocked()?;
    state.update_settings(|s| s.read_messages.extend(ids))
}

#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> Result<SyncView> {
    SyncView::gather(&*state.store()?, &state.sync.status())
}

/// Enrols the device with the care team's code (and server address) or invite link; the sync
/// loop then starts at once.
#[tauri::command]
pub async fn enrol(app: AppHandle, code: String, server: Option<String>) -> Result<Enrolled> {
    blocking(move || {
        let state = app.state::<AppState>();
        let done = enrol_unlocked(&state, &code, server.as_deref(), Utc::now())?;
        emit(&app);
        Ok(done)
    })
    .await
}

/// Enrols only when the PIN lock is open: enrolling decides where the patient's data goes.
pub fn enrol_unlocked(
    state: &AppState,
    code: &str,
    server: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Enrolled> {
    state.require_unlocked()?;
    state.sync.enrol(code, server, Some(device_label()), now)
}

/// "Synchroniser maintenant": one session now (after the one running, if any).
#[tauri::command]
pub async fn sync_now(app: AppHandle) -> Result<SyncView> {
    blocking(move || {
        let state = app.state::<AppState>();
        let status = state.sync.sync_now(Utc::now())?;
        let view = SyncView::gather(&*state.store_unchecked()?, &status)?;
        let _ = app.emit(SYNC_EVENT, &view);
        Ok(view)
    })
    .await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io(format!("background task: {e}")))?
}

fn emit(app: &AppHandle) {
    let state = app.state::<AppState>();
    let view = state
        .store_unchecked()
        .and_then(|s| SyncView::gather(&s, &state.sync.status()));
    if let Ok(v) = view {
        let _ = app.emit(SYNC_EVENT, &v);
    }
}

/// Shown to the care team beside the device ("Ilot on linux"); no hardware identifier.
fn device_label() -> String {
    format!(
        "Ilot {} ({})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    )
}

/// The background loop: a session on start, then whenever the last one said (the interval, or
/// the backoff after a failure), or sooner when woken (enrolment, consent, the UI seeing the
/// network come back). Runs on its own thread for the app's lifetime.
pub fn spawn_loop(app: AppHandle) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("ilot-sync".into())
        .spawn(move || {
            loop {
                let state = app.state::<AppState>();
                let due = state.sync.next_due(Utc::now());
                state.sync.wait_until(due);
                if let Err(e) = state.sync.sync_now(Utc::now()) {
                    tracing::warn!("sync loop: {e}");
                    state.sync.defer(Utc::now() + INTERVAL);
                }
                emit(&app);
            }
        })
        .map(drop)
}
