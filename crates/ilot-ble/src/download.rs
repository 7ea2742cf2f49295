//! Downloading a meter or CGM into the store, over any [`Peripheral`] (btleplug or the sim).
//!
//! Gather → decide → apply, per attempt: connect, discover, identify the device (Device
//! Information → `manufacturer:model:serial`), read its clock once, enable notifications *and*
//! indications, then ask the RACP for the records after the store's cursor (sequence number for
//! a meter, time offset in the current session for a CGM). Records are turned into entries by
//! the pure `records` module and stored by batches, each in one transaction.
//!
//! Safety of the cursor (the highest record number stored for the device): a batch is committed
//! only while records arrive in ascending order, and a measurement waiting for its announced
//! context record is never committed early. A device that sends newest first is committed only
//! once its transfer completes. So after a drop, everything at or below the cursor is stored,
//! and the next attempt (automatic, up to `max_attempts`) resumes from cursor + 1: nothing lost,
//! nothing doubled. Records below what was asked for (a meter that re-sends its whole history)
//! and repeated notifications are counted as redundant and dropped before they reach the store.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{DeviceId, SourceKind};
use uuid::Uuid;

use crate::clock::{ClockModel, DEFAULT_SKEW_THRESHOLD};
use crate::control::{Failure, Finished, Op, Procedure, Step};
use crate::error::{BleError, Result};
use crate::gatt::{
    CgmFeature, CgmSessionStartTime, CgmStatus, CurrentTime, DateTime as GattDateTime, DeviceInfo,
    GlucoseMeasurement, MeasurementContext, RacpResponse, RecordIssue, decode_cgm_measurements,
    device_id, ids,
};
use crate::link::{CharInfo, LinkEvent, Peripheral};
use crate::records::{Placing, RecordEntries};
use crate::sink::RecordSink;

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
struct Session {
    device: DeviceId,
    kind: SourceKind,
    model: ClockModel,
    cgm: Option<CgmSession>,
}

#[derive(Debug, Clone)]
struct CgmSession {
    start: std::result::Result<NaiveDateTime, RecordIssue>,
    base_minutes: u32,
    e2e: Option<bool>,
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
    let cursor = sink.last_record_number(s.kind, &s.device)?;
    let base = s.cgm.as_ref().map_or(0, |c| c.base_minutes);
    let from = cursor
        .and_then(|c| (c + 1).checked_sub(base))
        .and_then(|n| u16::try_from(n).ok());
    if report.attempts == 1 {
        report.requested_from = cursor.map(|c| c + 1);
    }
    let mut t = Transfer {
        placing: Placing {
            device: &s.device,
            kind: s.kind,
            model: s.model,
            tz: opts.tz,
            now: opts.now,
        },
        cgm: s.cgm.as_ref(),
        from,
        seen: HashSet::new(),
        ready: Vec::new(),
        awaiting: None,
        last_number: None,
        descending: false,
        batch: opts.batch_size.max(2),
    };
    t.run(p, sink, opts, report).await
}

struct Transfer<'a> {
    placing: Placing<'a>,
    cgm: Option<&'a CgmSession>,
    /// RACP number asked from (sequence, or CGM time offset); lower ones are redundant.
    from: Option<u16>,
    seen: HashSet<u16>,
    ready: Vec<RecordEntries>,
    awaiting: Option<GlucoseMeasurement>,
    last_number: Option<u32>,
    descending: bool,
    batch: usize,
}

impl Transfer<'_> {
    async fn run<P: Peripheral, S: RecordSink>(
        &mut self,
        p: &mut P,
        sink: &mut S,
        opts: &Options,
        report: &mut Report,
    ) -> Result<()> {
        let op = self.from.map_or(Op::ReportAll, Op::ReportFrom);
        let (mut proc, bytes) = Procedure::start(op);
        p.write(ids::RACP, &bytes).await?;
        let mut fell_back = false;
        loop {
            let event = match tokio::time::timeout(opts.response_timeout, p.next_event()).await {
                Ok(e) => e,
                Err(_) => match proc.on_timeout() {
                    Step::Write(b) => {
                        p.write(ids::RACP, &b).await?;
                        continue;
                    }
                    Step::Failed(_) => {
                        self.commit(sink, opts, report, false)?;
                        return Err(BleError::Timeout {
                            secs: opts.response_timeout.as_secs() * 2,
                            during: "the record transfer",
                        });
                    }
                    _ => continue,
                },
            };
            let (uuid, value) = match event {
                LinkEvent::Disconnected => {
                    proc.on_disconnect();
                    self.commit(sink, opts, report, false)?;
                    return Err(BleError::Disconnected(format!(
                        "after {} record(s) of this transfer",
                        proc.records()
                    )));
                }
                LinkEvent::Value {
                    characteristic,
                    value,
                } => (characteristic, value),
            };
            if uuid == ids::RACP {
                let step = match RacpResponse::decode(&value) {
                    Ok(resp) => proc.on_response(resp),
                    Err(e) => Step::Failed(Failure::Unexpected(e.to_string())),
                };
                match step {
                    Step::Continue | Step::Write(_) => {}
                    Step::Finished(
                        Finished::Reported { .. } | Finished::Aborted { .. } | Finished::Count(_),
                    ) => {
                        return self.commit(sink, opts, report, true);
                    }
                    Step::Failed(f)
                        if f.filter_unsupported() && self.from.is_some() && !fell_back =>
                    {
                        // The device cannot filter: ask for everything, keep filtering here.
                        fell_back = true;
                        let (np, b) = Procedure::start(Op::ReportAll);
                        proc = np;
                        p.write(ids::RACP, &b).await?;
                    }
                    Step::Failed(f) => {
                        self.commit(sink, opts, report, false)?;
                        return Err(failure(f));
                    }
                }
            } else if uuid == ids::GLUCOSE_MEASUREMENT {
                proc.on_record();
                match GlucoseMeasurement::decode(&value) {
                    Ok(m) => self.on_meter(m, sink, opts, report)?,
                    Err(e) => report.malformed.push(e.to_string()),
                }
            } else if uuid == ids::GLUCOSE_MEASUREMENT_CONTEXT {
                match MeasurementContext::decode(&value) {
                    Ok(c) => self.on_context(c),
                    Err(e) => report.malformed.push(e.to_string()),
                }
            } else if uuid == ids::CGM_MEASUREMENT {
                match decode_cgm_measurements(&value, self.cgm.and_then(|c| c.e2e)) {
                    Ok(recs) => {
                        for m in recs {
                            proc.on_record();
                            if self.fresh(m.time_offset_min, report) {
                                let c = self.cgm.map(|c| (c.start.clone(), c.base_minutes));
                                let (start, base) =
                                    c.unwrap_or((Err(RecordIssue::NoConcentration), 0));
                                let r = self.placing.cgm(&m, start, base);
                                self.finalize(r);
                            }
                        }
                        self.maybe_commit(sink, opts, report)?;
                    }
                    Err(e) => report.malformed.push(e.to_string()),
                }
            }
        }
    }

    /// Drops redundant records: below what was asked, or already received in this transfer.
    fn fresh(&mut self, number: u16, report: &mut Report) -> bool {
        if self.from.is_some_and(|f| number < f) || !self.seen.insert(number) {
            report.redundant += 1;
            return false;
        }
        report.records += 1;
        true
    }

    fn on_meter<S: RecordSink>(
        &mut self,
        m: GlucoseMeasurement,
        sink: &mut S,
        opts: &Options,
        report: &mut Report,
    ) -> Result<()> {
        if !self.fresh(m.sequence, report) {
            return Ok(());
        }
        // A context announced by the previous record that never came: store that record alone.
        if let Some(prev) = self.awaiting.take() {
            let r = self.placing.meter(&prev, None);
            self.finalize(r);
        }
        if m.context_follows {
            self.awaiting = Some(m);
        } else {
            let r = self.placing.meter(&m, None);
            self.finalize(r);
        }
        self.maybe_commit(sink, opts, report)
    }

    fn on_context(&mut self, c: MeasurementContext) {
        if let Some(m) = self.awaiting.take_if(|m| m.sequence == c.sequence) {
            let r = self.placing.meter(&m, Some(&c));
            self.finalize(r);
        }
    }

    fn finalize(&mut self, r: RecordEntries) {
        if self.last_number.is_some_and(|l| r.number < l) {
            self.descending = true;
        }
        self.last_number = Some(r.number);
        self.ready.push(r);
    }

    fn maybe_commit<S: RecordSink>(
        &mut self,
        sink: &mut S,
        opts: &Options,
        report: &mut Report,
    ) -> Result<()> {
        if !self.descending && self.ready.len() >= self.batch {
            self.commit(sink, opts, report, false)?;
        }
        Ok(())
    }

    /// Stores what is safe: everything when the transfer completed, else the ready records
    /// unless they came newest first (module doc).
    fn commit<S: RecordSink>(
        &mut self,
        sink: &mut S,
        opts: &Options,
        report: &mut Report,
        complete: bool,
    ) -> Result<()> {
        if complete {
            if let Some(m) = self.awaiting.take() {
                let r = self.placing.meter(&m, None);
                self.finalize(r);
            }
        } else if self.descending {
            return Ok(());
        }
        if self.ready.is_empty() {
            return Ok(());
        }
        let mut records = std::mem::take(&mut self.ready);
        records.sort_by_key(|r| r.number);
        let entries: Vec<_> = records
            .iter()
            .flat_map(|r| r.entries.iter().cloned())
            .collect();
        let stored = sink.add_batch(&entries, opts.now)?;
        report.entries_added += stored.added;
        report.entries_duplicate += stored.duplicates;
        report.conflicts += stored.conflicts.len();
        for r in records {
            if r.issue.is_none() && matches!(r.flag, Some(crate::clock::TimeFlag::Corrected { .. }))
            {
                report.corrected += 1;
            }
            match r.issue {
                Some(i) => report.rejected.push((r.number, i.to_string())),
                None => report.readings_stored += 1,
            }
        }
        Ok(())
    }
}

fn failure(f: Failure) -> BleError {
    match f {
        Failure::Refused { request, code } => BleError::ControlPoint {
            request: if request == crate::gatt::RacpOpCode::AbortOperation {
                "abort"
            } else {
                "the record request"
            },
            code: code.name(),
            advice: "the device does not support this request; nothing was changed on it",
        },
        Failure::Timeout { .. } => BleError::Timeout {
            secs: 0,
            during: "the record transfer",
        },
        Failure::Disconnected { records } => {
            BleError::Disconnected(format!("after {records} record(s)"))
        }
        Failure::Unexpected(s) => BleError::Protocol(s),
    }
}
