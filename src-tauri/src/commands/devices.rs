//! Glucose devices over Bluetooth (ilot-ble): scan, pair, download into the store with progress
//! events, and the last download per device with its clock warning. The simulated meter
//! (`sim:meter`, ilot-ble's simulator speaking the real GLS bytes) is offered in demo mode and
//! with `ILOT_SIM=1` (end-to-end tests), so the whole path runs without a radio.
//!
//! Downloads run on a blocking thread (ilot-ble's own runtime) and lock the store only for each
//! batch, so the home screen keeps answering meanwhile.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ilot_ble::sim::{self, SimClock, SimDevice};
use ilot_ble::{BleError, Options, RecordSink, Report};
use ilot_domain::{DeviceId, Entry, SourceKind};
use ilot_store::BatchReport;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};

use crate::error::{Error, Result};
use crate::settings::{KnownDevice, LastDownload};
use crate::state::{self, AppState};

pub const SIM_METER: &str = "sim:meter";
/// Records kept by the simulated meter, like a real meter's memory.
const SIM_CAPACITY: usize = 500;
/// Event carrying a download's progress to the UI.
pub const PROGRESS_EVENT: &str = "device-download-progress";
/// Sent after a background download stored new entries (payload: the device).
pub const DOWNLOADED_EVENT: &str = "device-downloaded";
/// How often the background task asks each paired device for new records (a meter wakes its
/// radio for a while after a measurement; a CGM is always there).
pub const AUTO_DOWNLOAD_EVERY: Duration = Duration::from_secs(10 * 60);
/// One download at a time: "Télécharger" waits for a background one to finish; the background
/// task skips its turn while one runs.
static DOWNLOADING: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[derive(Debug, Serialize)]
pub struct DevicesView {
    pub devices: Vec<KnownDevice>,
    /// The simulated meter is offered (demo mode or `ILOT_SIM=1`).
    pub simulators: bool,
}

fn simulators(state: &AppState) -> bool {
    state.demo || std::env::var("ILOT_SIM").is_ok_and(|v| v == "1")
}

#[tauri::command]
pub fn devices(state: State<'_, AppState>) -> Result<DevicesView> {
    state.require_unlocked()?;
    let mut devices = state.settings().devices.clone();
    let sims = simulators(&state);
    // Demo mode shows the simulated meter already paired, so a newcomer downloads in one tap;
    // with ILOT_SIM=1 alone it is found by a scan and paired like a real meter.
    if state.demo && !devices.iter().any(|d| d.address == SIM_METER) {
        devices.insert(0, sim_device(Utc::now()));
    }
    Ok(DevicesView {
        devices,
        simulators: sims,
    })
}

fn no_simulator() -> Error {
    Error::input(
        "no-simulator",
        "the simulated meter is only offered in demo mode",
    )
}

fn sim_device(now: DateTime<Utc>) -> KnownDevice {
    KnownDevice {
        address: SIM_METER.into(),
        id: None,
        name: None,
        kind: "meter".into(),
        paired_at: now,
        last: None,
    }
}

#[derive(Debug, Serialize)]
pub struct Found {
    pub address: String,
    pub name: Option<String>,
    pub kind: &'static str,
    pub rssi: Option<i16>,
}

/// Looks for glucose meters and CGMs nearby for `seconds` (1–30). With the simulators on, the
/// simulated meter answers first; a radio that cannot scan then is logged, not shown.
#[tauri::command]
pub async fn scan_devices(app: AppHandle, seconds: u64) -> Result<Vec<Found>> {
    let sims = {
        let state = app.state::<AppState>();
        state.require_unlocked()?;
        simulators(&state)
    };
    let secs = seconds.clamp(1, 30);
    blocking(move || {
        let radio = ilot_ble::block_on(ilot_ble::link::btleplug::scan(Duration::from_secs(secs)))
            .map_err(Error::from)
            .and_then(|r| r.map_err(Error::from));
        let mut found: Vec<Found> = Vec::new();
        if sims {
            found.push(Found {
                address: SIM_METER.into(),
                name: None,
                kind: "meter",
                rssi: None,
            });
        }
        match radio {
            Ok(list) => found.extend(list.into_iter().map(|f| Found {
                address: f.address,
                name: f.name,
                kind: f.kind,
                rssi: f.rssi,
            })),
            Err(e) if sims => {
                tracing::warn!("bluetooth scan: {e} (only the simulated meter is offered)")
            }
            Err(e) => return Err(e),
        }
        Ok(found)
    })
    .await
}

/// Pairs with the device at `address` (the system may ask for the meter's PIN) and remembers it.
#[tauri::command]
pub async fn pair_device(
    app: AppHandle,
    address: String,
    name: Option<String>,
    kind: String,
) -> Result<KnownDevice> {
    let sims = {
        let state = app.state::<AppState>();
        state.require_unlocked()?;
        simulators(&state)
    };
    blocking(move || {
        let info = if address == SIM_METER {
            if !sims {
                return Err(no_simulator());
            }
            // The same identity read as a real meter, over the simulator's GATT.
            let now = Utc::now();
            let mut dev = SimDevice::meter(&[], SimClock::Local(chrono_tz::UTC), now, &[]);
            ilot_ble::block_on(ilot_ble::link::identify(&mut dev))??
        } else {
            ilot_ble::block_on(ilot_ble::link::btleplug::pair(
                &address,
                Duration::from_secs(10),
            ))??
        };
        let id = ilot_ble::gatt::device_id(&info).ok().map(String::from);
        let device = KnownDevice {
            address: address.clone(),
            id,
            name,
            kind,
            paired_at: Utc::now(),
            last: None,
        };
        let state = app.state::<AppState>();
        let out = device.clone();
        state.update_settings(move |s| {
            s.devices.retain(|d| d.address != device.address);
            s.devices.push(device);
        })?;
        Ok(out)
    })
    .await
}

#[tauri::command]
pub fn forget_device(state: State<'_, AppState>, address: String) -> Result<()> {
    state.require_unlocked()?;
    state.update_settings(|s| s.devices.retain(|d| d.address != address))
}

#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub address: String,
    /// Entries stored so far in this download.
    pub stored: usize,
    /// Records expected, when the device says (the simulator does).
    pub total: Option<usize>,
}

/// Downloads every new record of the device at `address` (or `sim:meter`) into the store.
#[tauri::command]
pub async fn download_device(app: AppHandle, address: String) -> Result<KnownDevice> {
    app.state::<AppState>().require_unlocked()?;
    blocking(move || {
        let state = app.state::<AppState>();
        let _one = DOWNLOADING.lock().unwrap_or_else(|p| p.into_inner());
        let device = run_download(&app, &state, &address)?;
        state.sync.wake();
        Ok(device)
    })
    .await
}

/// Starts the background downloads: a minute after start, then every [`AUTO_DOWNLOAD_EVERY`],
/// each paired device is asked for its new records through the same code as "Télécharger".
/// A device out of reach is normal (logged, not shown); nothing runs while the app is locked.
/// `ILOT_DEVICE_POLL_SECS` sets both delays (the end-to-end tests use a few seconds).
pub fn spawn_auto_download(app: AppHandle) -> std::io::Result<()> {
    let every = std::env::var("ILOT_DEVICE_POLL_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(Duration::from_secs);
    let first = every.unwrap_or(Duration::from_secs(60));
    let every = every.unwrap_or(AUTO_DOWNLOAD_EVERY);
    std::thread::Builder::new()
        .name("ilot-devices".into())
        .spawn(move || {
            std::thread::sleep(first);
            loop {
                auto_download(&app);
                std::thread::sleep(every);
            }
        })
        .map(drop)
}

fn auto_download(app: &AppHandle) {
    let state = app.state::<AppState>();
    if !state.is_unlocked() {
        return;
    }
    let Ok(_one) = DOWNLOADING.try_lock() else {
        return;
    };
    let devices = state.settings().devices.clone();
    let mut added = false;
    for d in devices {
        if d.address == SIM_METER && !simulators(&state) {
            continue;
        }
        match run_download(app, &state, &d.address) {
            Ok(k) => {
                if k.last.as_ref().is_some_and(|l| l.entries_added > 0) {
                    added = true;
                    let _ = app.emit(DOWNLOADED_EVENT, &k);
                }
            }
            Err(e) => tracing::info!("background download from {}: {e}", d.address),
        }
    }
    if added {
        state.sync.wake();
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io(format!("the device task stopped: {e}")))?
}

fn run_download(app: &AppHandle, state: &AppState, address: &str) -> Result<KnownDevice> {
    let now = Utc::now();
    let tz = state::tz_and_unit(&*state.store()?)?.0;
    let opts = Options::new(now, tz);
    let report = if address == SIM_METER {
        if !simulators(state) {
            return Err(no_simulator());
        }
        let history = sim::demo_meter_history(now, SIM_CAPACITY);
        let seqs: Vec<u32> = history.iter().map(|r| u32::from(r.sequence)).collect();
        let mut dev = SimDevice::meter(&history, SimClock::Local(tz), now, &[]);
        let mut sink = ProgressSink::new(app, state, address);
        sink.total_after = Some(Box::new(move |cursor| {
            seqs.iter()
                .filter(|s| cursor.is_none_or(|c| **s > c))
                .count()
        }));
        ilot_ble::block_on(ilot_ble::download(&mut dev, &mut sink, &opts))??
    } else {
        use ilot_ble::link::btleplug::BtPeripheral;
        let mut sink = ProgressSink::new(app, state, address);
        ilot_ble::block_on(async {
            let mut dev = BtPeripheral::find(address, Duration::from_secs(10)).await?;
            ilot_ble::download(&mut dev, &mut sink, &opts).await
        })??
    };
    remember(state, address, &report, now)
}

fn remember(
    state: &AppState,
    address: &str,
    r: &Report,
    now: DateTime<Utc>,
) -> Result<KnownDevice> {
    let last = LastDownload {
        at: now,
        records: r.records,
        readings_stored: r.readings_stored,
        entries_added: r.entries_added,
        conflicts: r.conflicts,
        rejected: r.rejected.len(),
        corrected: r.corrected,
        clock_skew_min: r
            .clock_skew
            .map(|d| (d.num_milliseconds() as f64 / 60_000.0).round() as i64),
        attempts: r.attempts,
    };
    let kind = match r.kind {
        Some(SourceKind::Cgm) => "cgm",
        _ => "meter",
    };
    state.update_settings(|s| {
        let i = match s.devices.iter().position(|d| d.address == address) {
            Some(i) => i,
            None => {
                let mut d = sim_device(now);
                d.address = address.to_string();
                s.devices.push(d);
                s.devices.len() - 1
            }
        };
        let d = &mut s.devices[i];
        d.id = r.device.as_ref().map(DeviceId::to_string).or(d.id.take());
        d.kind = kind.into();
        d.last = Some(last);
        d.clone()
    })
}

/// The store seen by a download: locked per call, with a progress event after each batch.
struct ProgressSink<'a> {
    app: &'a AppHandle,
    state: &'a AppState,
    address: &'a str,
    stored: usize,
    total: Option<usize>,
    /// How many records to expect once the store's cursor for the device is known.
    total_after: Option<Box<dyn Fn(Option<u32>) -> usize + Send>>,
}

impl<'a> ProgressSink<'a> {
    fn new(app: &'a AppHandle, state: &'a AppState, address: &'a str) -> Self {
        Self {
            app,
            state,
            address,
            stored: 0,
            total: None,
            total_after: None,
        }
    }

    fn emit(&self) {
        // A UI that is not listening loses nothing: the final report is returned anyway.
        let _ = self.app.emit(
            PROGRESS_EVENT,
            Progress {
                address: self.address.to_string(),
                stored: self.stored,
                total: self.total,
            },
        );
    }
}

fn lock_error(e: Error) -> BleError {
    BleError::Link(e.to_string())
}

impl RecordSink for ProgressSink<'_> {
    fn last_record_number(
        &self,
        kind: SourceKind,
        device: &DeviceId,
    ) -> ilot_ble::Result<Option<u32>> {
        let store = self.state.store_unchecked().map_err(lock_error)?;
        RecordSink::last_record_number(&*store, kind, device)
    }

    fn add_batch(
        &mut self,
        entries: &[Entry],
        now: DateTime<Utc>,
    ) -> ilot_ble::Result<BatchReport> {
        if self.total.is_none()
            && let Some(f) = &self.total_after
            && let Some(first) = entries.first()
            && let Some(device) = &first.source.device
        {
            let cursor = {
                let store = self.state.store_unchecked().map_err(lock_error)?;
                RecordSink::last_record_number(&*store, first.source.kind, device)?
            };
            self.total = Some(f(cursor));
        }
        let report = {
            let mut store = self.state.store_unchecked().map_err(lock_error)?;
            RecordSink::add_batch(&mut *store, entries, now)?
        };
        self.stored += entries.len();
        self.emit();
        Ok(report)
    }
}
