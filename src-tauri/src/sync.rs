//! The app's side of transmission: enrolment with the care team's code, and the sync loop that
//! runs `ilot_sync::sync_once` on start, every few minutes, after a failure on
//! `ilot_sync::Backoff`'s schedule, when the network comes back (the UI tells), and on demand.
//!
//! One sync at a time (`busy`), always on its own thread and its own store connection, so a slow
//! or absent network never holds the connection the screens read from. Nothing here decides what
//! was delivered or whether consent allows sending: the engine does.

use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use ilot_store::{KeyMode, Store};
use ilot_sync::{Backoff, HttpTransport, Limits, SyncError, SyncState, Transport};
use ilot_wire::ServerUrl;
use serde::Serialize;

use crate::error::{Error, Result};

/// Time between two syncs when all goes well.
pub const INTERVAL: TimeDelta = TimeDelta::minutes(5);
/// How long one request may take before the network counts as absent.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Retries after a failure: 15 s, 30 s, 1 min… up to the normal interval, each with full jitter.
pub const RETRY: Backoff = Backoff {
    base: Duration::from_secs(15),
    max: Duration::from_secs(300),
    attempts: u32::MAX,
};
/// The retry is never sooner than this (full jitter can draw zero).
const MIN_RETRY: TimeDelta = TimeDelta::seconds(5);

/// Builds the transport to a server, trusting the extra root certificate (PEM) saved at
/// enrolment if any (HTTP in the app, the same in tests against a real server).
pub type TransportFor =
    dyn Fn(&ServerUrl, Option<&str>) -> ilot_sync::Result<Box<dyn Transport>> + Send + Sync;

pub fn http(server: &ServerUrl, root_pem: Option<&str>) -> ilot_sync::Result<Box<dyn Transport>> {
    Ok(Box::new(match root_pem {
        Some(pem) => {
            HttpTransport::with_root_pem_and_timeout(server.clone(), pem.as_bytes(), TIMEOUT)?
        }
        None => HttpTransport::with_timeout(server.clone(), TIMEOUT)?,
    }))
}

/// Why the last sync did not go through, in words the UI can translate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Problem {
    /// The server could not be reached (or answered garbage): tried again on the backoff.
    Offline,
    /// The server refused: `code` is its stable error code (e.g. `unknown_device`).
    Refused { code: String },
    /// The local sync state or store failed.
    Local { message: String },
}

/// What the loop knows besides the store: when it last succeeded, when it tries next.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    pub running: bool,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub last_try_at: Option<DateTime<Utc>>,
    pub next_try_at: Option<DateTime<Utc>>,
    /// Failures in a row (the backoff's attempt number).
    pub failures: u32,
    pub problem: Option<Problem>,
    /// Messages and appointments received by the last session.
    pub received: usize,
}

/// The sync loop's shared parts; one per app.
pub struct Runner {
    status: Mutex<Status>,
    /// Held for the whole of a session or an enrolment.
    busy: Mutex<Option<Store>>,
    wake: (Mutex<bool>, Condvar),
    db_path: PathBuf,
    key_mode: KeyMode,
    transport_for: Box<TransportFor>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Runner {
    pub fn new(db_path: PathBuf, key_mode: KeyMode, transport_for: Box<TransportFor>) -> Self {
        Self {
            status: Mutex::new(Status::default()),
            busy: Mutex::new(None),
            wake: (Mutex::new(false), Condvar::new()),
            db_path,
            key_mode,
            transport_for,
        }
    }

    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_status(&self, change: impl FnOnce(&mut Status)) {
        change(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// The sync's own connection to the patient's store, opened on first use. Holding the
    /// guard is holding the "one sync at a time" lock.
    fn connection(&self) -> Result<MutexGuard<'_, Option<Store>>> {
        let mut guard = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            // The device secret goes where the database key went (keyring, or its file).
            *guard = Some(ilot_store::open_with_key(&self.db_path, self.key_mode)?);
        }
        Ok(guard)
    }

    /// Runs `f` (deleting the local data) with the sync stopped: waits for a session under way
    /// to end, closes the sync connection, and holds the "one sync at a time" lock until `f`
    /// returns, so no session can open the old files in between; the next use reopens. The
    /// status starts afresh.
    pub fn while_stopped<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        *busy = None;
        let out = f();
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = Status::default();
        drop(busy);
        out
    }

    /// Wakes the loop: it syncs now rather than at `next_try_at`.
    pub fn wake(&self) {
        let (lock, cv) = &self.wake;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }

    /// Sleeps until `deadline` or a wake-up, whichever first.
    pub fn wait_until(&self, deadline: DateTime<Utc>) {
        let (lock, cv) = &self.wake;
        let mut woken = lock.lock().unwrap_or_else(|p| p.into_inner());
        while !*woken {
            let left = (deadline - Utc::now()).to_std().unwrap_or_default();
            if left.is_zero() {
                break;
            }
            woken = cv
                .wait_timeout(woken, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *woken = false;
    }

    /// Puts the next session off until `at` (after a failure outside a session).
    pub fn defer(&self, at: DateTime<Utc>) {
        self.set_status(|s| s.next_try_at = Some(at));
    }

    /// When the loop should run next: now at first, then as the last session decided.
    pub fn next_due(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.status().next_try_at.unwrap_or(now)
    }

    /// Enrols this device with a code (and server) or an `ilot://enrol` link.
    pub fn enrol(
        &self,
        code_or_link: &str,
        server: Option<&str>,
        label: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Enrolled> {
        let text = code_or_link.trim();
        if text.is_empty() {
            return Err(Error::input("enrol-empty", "type the enrolment code"));
        }
        let is_link = text.starts_with(ilot_wire::EnrolmentInvite::PREFIX);
        let server = server.map(str::trim).filter(|s| !s.is_empty());
        if !is_link && server.is_none() {
            return Err(Error::input(
                "enrol-server-missing",
                "a typed code needs the server address given with it",
            ));
        }
        let mut guard = self.connection()?;
        let store = guard.as_mut().expect("connection() opened the store");
        // A device already enrolled is refused by the engine (`already-enrolled`), unless the
        // server refused it as revoked: then it is enrolled again in place, for the same
        // patient, keeping its outbox.
        let resp = ilot_sync::enrol(
            store,
            text,
            server,
            |s| (self.transport_for)(s, None),
            label,
            &mut rand::rng(),
            now,
        )?;
        let server = store
            .identity()?
            .map(|i| i.server.to_string())
            .unwrap_or_default();
        drop(guard);
        self.set_status(|s| {
            s.next_try_at = None;
            s.problem = None;
            s.failures = 0;
        });
        self.wake();
        Ok(Enrolled {
            pseudonym: resp.pseudonym,
            server,
            prescription: resp.prescription.is_some(),
            again: resp.replaced.is_some(),
        })
    }

    /// One sync session, unless the device is not enrolled or consent was never recorded
    /// (then nothing is tried). Waits for a session already running, then runs its own: what
    /// was written meanwhile goes too.
    pub fn sync_now(&self, now: DateTime<Utc>) -> Result<Status> {
        let mut guard = self.connection()?;
        let store = guard.as_mut().expect("connection() opened the store");
        if store.identity()?.is_none() || store.consent()?.is_none() {
            self.set_status(|s| s.next_try_at = Some(now + INTERVAL));
            return Ok(self.status());
        }
        let id = store.identity()?.expect("checked above");
        self.set_status(|s| {
            s.running = true;
            s.last_try_at = Some(now);
        });
        let root = ilot_sync::server_root_pem(store)?;
        let outcome = (self.transport_for)(&id.server, root.as_deref()).and_then(|t| {
            ilot_sync::sync_once(store, t.as_ref(), Limits::default(), &mut rand::rng(), now)
        });
        drop(guard);
        self.set_status(|s| {
            s.running = false;
            match outcome {
                Ok(report) => {
                    s.last_ok_at = Some(now);
                    s.failures = 0;
                    s.problem = None;
                    s.next_try_at = Some(now + INTERVAL);
                    s.received = report.messages + report.appointments;
                }
                Err(e) => {
                    tracing::info!("sync did not go through: {e}");
                    s.failures = s.failures.saturating_add(1);
                    s.received = 0;
                    let wait = if e.is_transient() {
                        let d = RETRY.delay(s.failures - 1, &mut rand::rng());
                        TimeDelta::from_std(d).unwrap_or(INTERVAL).max(MIN_RETRY)
                    } else {
                        INTERVAL
                    };
                    s.next_try_at = Some(now + wait);
                    s.problem = Some(problem(&e));
                }
            }
        });
        Ok(self.status())
    }
}

fn problem(e: &SyncError) -> Problem {
    match e {
        SyncError::Refused { code, .. } if !code.is_transient() => Problem::Refused {
            code: serde_json::to_value(code)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        },
        SyncError::Store(e) => Problem::Local {
            message: e.to_string(),
        },
        SyncError::State(m) => Problem::Local { message: m.clone() },
        _ => Problem::Offline,
    }
}

/// What the UI shows after enrolling.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolled {
    pub pseudonym: String,
    pub server: String,
    /// The care team's prescription came with the enrolment (thresholds now theirs).
    pub prescription: bool,
    /// Enrolled again in place of a revoked identity (what waited goes now).
    pub again: bool,
}
