//! Downloading a meter or CGM into the store, over any [`Peripheral`] (btleplug or the sim).
//!
//! Gather → decide → apply, per attempt: connect, discover, identify the device (Device
//! Information → `manufacturer:model:serial`), read its clock once, enable notifications *and*
//! indications, then ask the RACP for the records after the store's cursor (sequence number for
//! a meter, its 16-bit wrap handled as [`crate::seq`] documents; time offset in the current
//! session for a CGM). Records are turned into entries by the pure `records` module and stored
//! by batches, each in one transaction. The CGM live mode (`crate::live`) reuses the same
//! transfer for its backfills.
//!
//! Safety of the cursor (the highest record number stored for the device): a batch is committed
//! only while records arrive in ascending order, and a measurement waiting for its announced
//! context record is never committed early. A device that sends newest first is committed only
//! once its transfer completes. So after a drop, everything at or below the cursor is stored,
//! and the next attempt (automatic, up to `max_attempts`) resumes from cursor + 1: nothing lost,
//! nothing doubled. Records below what was asked for (a meter that re-sends its whole history)
//! and repeated notifications are counted as redundant and dropped before they reach the store.

mod transfer;

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{DeviceId, SourceKind};
use uuid::Uuid;

use crate::clock::{ClockModel, DEFAULT_SKEW_THRESHOLD};
use crate::control::Op;
use crate::error::{BleError, Result};
use crate::gatt::{
    CgmFeature, CgmSessionStartTime, CgmStatus, CurrentTime, DateTime as GattDateTime, DeviceInfo,
    RecordIssue, device_id, ids,
};
use crate::link::{CharInfo, Peripheral};
use crate::seq::SeqWindow;
use crate::sink::RecordSink;

pub(crate) use transfer::{Numbering, Transfer, cgm_from, numbering, place_cgm, store};

/// How a download behaves. `now` and `tz` are the host's; everything else has a default.
#[derive(Debug, Clone)]
pub struct Options {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    /// How long to wait for the next notification or indication before asking the device to
    /// abort (and as long again before giving up).
    pub response_timeout: Duration,
    /// Device clocks within this of the host are trusted (product rule).
    pub skew_threshold: TimeDelta,
    /// Records per store transaction (at least 2, see the module doc).
    pub batch_size: usize,
    /// Connections tried when the link drops mid-transfer.
    pub max_attempts: u32,
}

impl Options {
    pub fn new(now: DateTime<Utc>, tz: Tz) -> Self {
        Self {
            now,
            tz,
            response_timeout: Duration::from_secs(10),
            skew_threshold: DEFAULT_SKEW_THRESHOLD,
            batch_size: 50,
            max_attempts: 3,
        }
    }
}

/// What a download did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub device: Option<DeviceId>,
    pub kind: Option<SourceKind>,
    /// Connections made (1 without a drop).
    pub attempts: u32,
    /// The first record number asked for (cursor + 1), `None` for "all records".
    pub requested_from: Option<u32>,
    /// Distinct new records received.
    pub records: u32,
    /// Records received again (below what was asked, or repeated notifications), not stored.
    pub redundant: u32,
    pub readings_stored: u32,
    pub entries_added: usize,
    pub entries_duplicate: usize,
    /// Entries whose key was already stored with another content (kept as they were).
    pub conflicts: usize,
    /// Records that gave no reading, with the reason (each also has a note in the diary).
    pub rejected: Vec<(u32, String)>,
    /// Readings whose time was corrected for the device clock.
    pub corrected: u32,
    /// How far the device clock was off, when it was.
    pub clock_skew: Option<TimeDelta>,
    /// Frames that could not be decoded, with the reason.
    pub malformed: Vec<String>,
}

/// Who the device is and how its times read; learnt on the first connection.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) device: DeviceId,
    pub(crate) kind: SourceKind,
    pub(crate) model: ClockModel,
    pub(crate) cgm: Option<CgmSession>,
}

#[derive(Debug, Clone)]
pub(crate) struct CgmSession {
    pub(crate) start: std::result::Result<NaiveDateTime, RecordIssue>,
    /// Record number of time offset 0: the session start (wall time) in minutes since 1970.
    pub(crate) base_minutes: u32,
    pub(crate) e2e: Option<bool>,
}

impl Session {
    pub(crate) fn base(&self) -> u32 {
        self.cgm.as_ref().map_or(0, |c| c.base_minutes)
    }
}

/// Downloads every record newer than the store's cursor (module doc). On success the device is
/// disconnected; on an error what was complete is stored and the error says what happened.
pub async fn download<P: Peripheral, S: RecordSink>(
    p: &mut P,
    sink: &mut S,
    opts: &Options,
) -> Result<Report> {
    let mut report = Report::default();
    let mut session = None;
    let mut last = String::new();
    for attempt in 1..=opts.max_attempts.max(1) {
        report.attempts = attempt;
        match attempt_once(p, sink, opts, &mut session, &mut report).await {
            Ok(()) => {
                let _ = p.disconnect().await;
                return Ok(report);
            }
            Err(BleError::Disconnected(why)) => {
                tracing::info!(attempt, %why, "link dropped; resuming from the stored cursor");
                last = why;
            }
            Err(e) => {
                let _ = p.disconnect().await;
                return Err(e);
            }
        }
    }
    Err(BleError::GaveUp {
        attempts: report.attempts,
        last,
    })
}

fn has(chars: &[CharInfo], uuid: Uuid) -> bool {
    chars.iter().any(|c| c.uuid == uuid)
}

async fn read_opt<P: Peripheral>(
    p: &mut P,
    chars: &[CharInfo],
    uuid: Uuid,
) -> Result<Option<Vec<u8>>> {
    if has(chars, uuid) {
        p.read(uuid).await.map(Some)
    } else {
        Ok(None)
    }
}

async fn identify<P: Peripheral>(
    p: &mut P,
    chars: &[CharInfo],
    opts: &Options,
    report: &mut Report,
) -> Result<Session> {
    let kind = if has(chars, ids::GLUCOSE_MEASUREMENT) {
        SourceKind::Meter
    } else if has(chars, ids::CGM_MEASUREMENT) {
        SourceKind::Cgm
    } else {
        return Err(BleError::MissingCharacteristic {
            what: "a Glucose Measurement or CGM Measurement characteristic",
            uuid: "0x2A18 / 0x2AA7".into(),
        });
    };
    let mut info = DeviceInfo::default();
    for (uuid, slot, frame) in [
        (
            ids::MANUFACTURER_NAME,
            &mut info.manufacturer,
            "Manufacturer Name (0x2A29)",
        ),
        (ids::MODEL_NUMBER, &mut info.model, "Model Number (0x2A24)"),
        (
            ids::SERIAL_NUMBER,
            &mut info.serial,
            "Serial Number (0x2A25)",
        ),
    ] {
        if let Some(bytes) = read_opt(p, chars, uuid).await? {
            *slot = Some(DeviceInfo::decode_string(frame, &bytes)?);
        }
    }
    let device = match device_id(&info) {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(%e, "no stable device id; using the Bluetooth address");
            DeviceId::new(format!("ble:{}", p.address()))?
        }
    };
    let (model, cgm) = match kind {
        SourceKind::Cgm => cgm_clock(p, chars, opts).await?,
        _ => {
            let device_now = if let Some(b) = read_opt(p, chars, ids::CURRENT_TIME).await? {
                Some(CurrentTime::decode(&b)?.date_time)
            } else if let Some(b) = read_opt(p, chars, ids::DATE_TIME).await? {
                Some(GattDateTime::decode(&b)?)
            } else {
                None
            };
            let wall = device_now.and_then(|t| match t.naive() {
                Ok(w) => Some(w),
                Err(e) => {
                    report.malformed.push(format!(
                        "the device clock reads an invalid time ({e}); record times are not checked"
                    ));
                    None
                }
            });
            (
                ClockModel::measure(wall, opts.now, opts.tz, opts.skew_threshold),
                None,
            )
        }
    };
    report.clock_skew = model.skew().filter(|s| s.abs() > opts.skew_threshold);
    Ok(Session {
        device,
        kind,
        model,
        cgm,
    })
}

async fn cgm_clock<P: Peripheral>(
    p: &mut P,
    chars: &[CharInfo],
    opts: &Options,
) -> Result<(ClockModel, Option<CgmSession>)> {
    let e2e = match read_opt(p, chars, ids::CGM_FEATURE).await? {
        Some(b) => Some(CgmFeature::decode(&b)?.e2e()),
        None => None,
    };
    let sst_bytes = read_opt(p, chars, ids::CGM_SESSION_START_TIME)
        .await?
        .ok_or(BleError::MissingCharacteristic {
            what: "CGM Session Start Time",
            uuid: "0x2AAA".into(),
        })?;
    let sst = CgmSessionStartTime::decode(&sst_bytes)?;
    let status = match read_opt(p, chars, ids::CGM_STATUS).await? {
        Some(b) => Some(CgmStatus::decode(&b)?),
        None => None,
    };
    let start = sst.start.naive().map_err(RecordIssue::InvalidTime);
    let base_minutes = start.as_ref().map_or(0, |s| {
        (s.and_utc().timestamp() / 60).clamp(0, i64::from(u32::MAX)) as u32
    });
    let elapsed = status.map(|s| TimeDelta::minutes(i64::from(s.time_offset_min)));
    let model = match (&start, sst.utc_offset_min(), elapsed) {
        (Ok(s), Some(off), Some(el)) => ClockModel::known_offset(
            *s - TimeDelta::minutes(off) + el,
            TimeDelta::minutes(off),
            opts.now,
            opts.skew_threshold,
        ),
        (Ok(s), None, Some(el)) => {
            ClockModel::measure(Some(*s + el), opts.now, opts.tz, opts.skew_threshold)
        }
        _ => ClockModel::measure(None, opts.now, opts.tz, opts.skew_threshold),
    };
    Ok((
        model,
        Some(CgmSession {
            start,
            base_minutes,
            e2e,
        }),
    ))
}

async fn attempt_once<P: Peripheral, S: RecordSink>(
    p: &mut P,
    sink: &mut S,
    opts: &Options,
    session: &mut Option<Session>,
    report: &mut Report,
) -> Result<()> {
    let s = prepare(p, opts, session, report).await?;
    let cursor = sink.last_record_number(s.kind, &s.device)?;
    if report.attempts == 1 {
        report.requested_from = cursor.map(|c| c + 1);
    }
    match numbering(s.kind, cursor, s.base()) {
        Numbering::Meter(window) => meter_transfers(p, sink, opts, &s, window, report).await,
        n @ Numbering::Cgm { from } => {
            let mut t = Transfer::new(&s, opts, n);
            t.run(
                p,
                sink,
                opts,
                report,
                from.map_or(Op::ReportAll, Op::ReportFrom),
            )
            .await
        }
    }
}

/// "≥ s + 1", then the part of the window past 65535 when the meter may have wrapped
/// (`crate::seq`).
async fn meter_transfers<P: Peripheral, S: RecordSink>(
    p: &mut P,
    sink: &mut S,
    opts: &Options,
    s: &Session,
    window: SeqWindow,
    report: &mut Report,
) -> Result<()> {
    let mut max = None;
    if let Some(op) = window.first_op() {
        let mut t = Transfer::new(s, opts, Numbering::Meter(window));
        t.run(p, sink, opts, report, op).await?;
        if t.fell_back || t.outside {
            // The device sent everything it holds: the window already saw the wrapped part.
            return Ok(());
        }
        max = t.max_raw;
    }
    if let Some((a, b)) = window.wrap_range(max) {
        let mut t = Transfer::new(s, opts, Numbering::Meter(window));
        t.run(p, sink, opts, report, Op::ReportRange(a, b)).await?;
    }
    Ok(())
}

/// Connects, discovers, identifies the device on the first connection, and enables the record
/// notifications and the RACP indications. Returns the session.
pub(crate) async fn prepare<P: Peripheral>(
    p: &mut P,
    opts: &Options,
    session: &mut Option<Session>,
    report: &mut Report,
) -> Result<Session> {
    p.connect().await?;
    let chars = p.discover().await?;
    if !has(&chars, ids::RACP) {
        return Err(BleError::MissingCharacteristic {
            what: "a Record Access Control Point",
            uuid: "0x2A52".into(),
        });
    }
    let s = match session {
        Some(s) => s.clone(),
        None => {
            let s = identify(p, &chars, opts, report).await?;
            *session = Some(s.clone());
            s
        }
    };
    report.device = Some(s.device.clone());
    report.kind = Some(s.kind);
    let measurement = if s.kind == SourceKind::Cgm {
        ids::CGM_MEASUREMENT
    } else {
        ids::GLUCOSE_MEASUREMENT
    };
    // Notifications and indications first: many meters refuse an RACP write otherwise.
    p.subscribe(measurement).await?;
    if has(&chars, ids::GLUCOSE_MEASUREMENT_CONTEXT) && s.kind == SourceKind::Meter {
        p.subscribe(ids::GLUCOSE_MEASUREMENT_CONTEXT).await?;
    }
    p.subscribe(ids::RACP).await?;
    Ok(s)
}
