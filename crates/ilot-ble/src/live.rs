//! CGM live mode, over any [`Peripheral`]: stay connected, store each reading the sensor
//! notifies while its session runs, and backfill from the sensor's memory whatever the link
//! missed, so that the store ends with every record exactly once.
//!
//! Per connection: identify the sensor (first time only), enable the notifications and the RACP
//! indications, then backfill "time offset ≥ cursor + 1" (the history on the first connection,
//! what was measured while the link was down after a reconnect). Then each live CGM Measurement
//! is stored at once, one transaction per reading, under the same (device, record number) key
//! as a download:
//!
//! - a record number at or below the last stored one is a duplicate notification: counted, not
//!   stored;
//! - one more than `interval_min` after the last stored one means readings were missed (an
//!   unsent or malformed notification): the reading is held, the RACP is asked for "within
//!   [last + 1, reading − 1]" — exactly the missing records — and the held reading is stored
//!   with them when the report completes. Storing it first would move the cursor past records
//!   not yet in the store (the invariant of `download`);
//! - a frame that does not decode, or whose E2E-CRC does not match, is reported in
//!   [`LiveReport::bad_frames`] and not stored; the session goes on, and the next good reading
//!   reveals the gap, which the backfill fills with the sensor's intact copy.
//!
//! A drop is followed by reconnection attempts every `reconnect_delay` until the deadline.
//! Time is the runtime's clock: the host time of a reading is `now` given at the start plus the
//! time elapsed since, so tests run in paused (virtual) time. Nothing here decides clinical
//! alerts; this only stores what the sensor measured.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::SourceKind;
use tokio::time::Instant;

use crate::control::Op;
use crate::download::{
    self, Numbering, Options, Report, Session, Transfer, cgm_from, place_cgm, store,
};
use crate::error::{BleError, Result};
use crate::gatt::{decode_cgm_measurements, ids};
use crate::link::{LinkEvent, Peripheral};
use crate::records::{Placing, RecordEntries};
use crate::sink::RecordSink;

/// How a live session behaves.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// `now` is the host time when [`live`] starts; timeouts and batch size for the backfills.
    pub download: Options,
    /// How long to stay (runtime clock).
    pub run_for: Duration,
    /// The sensor's measurement interval in minutes: a reading further than this after the
    /// last stored one reveals a gap.
    pub interval_min: u32,
    /// Wait between reconnection attempts after a drop.
    pub reconnect_delay: Duration,
    /// Consecutive failed connections before giving up.
    pub max_reconnects: u32,
}

impl LiveOptions {
    pub fn new(now: DateTime<Utc>, tz: Tz, run_for: Duration) -> Self {
        Self {
            download: Options::new(now, tz),
            run_for,
            interval_min: 5,
            reconnect_delay: Duration::from_secs(10),
            max_reconnects: 360,
        }
    }
}

/// Why a backfill ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillReason {
    /// On (re)connection: everything after the cursor.
    Connected,
    /// A live reading came more than one interval after the last stored one.
    Gap,
}

/// One RACP backfill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    pub reason: BackfillReason,
    /// First record number asked for (`None`: all records of the session).
    pub from: Option<u32>,
    /// Last record number asked for (`None`: up to the newest).
    pub to: Option<u32>,
    /// Distinct records it delivered.
    pub records: u32,
}

/// What a live session did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveReport {
    pub connections: u32,
    /// Live readings stored (a reading held during a gap backfill included).
    pub live_stored: u32,
    /// Live notifications of a record already stored.
    pub live_duplicates: u32,
    pub backfills: Vec<Backfill>,
    /// Live frames not stored, each with the reason and its bytes.
    pub bad_frames: Vec<String>,
    /// The backfills and live readings together: records, redundant, stored, rejected, clock.
    pub totals: Report,
}

/// Stays connected to a CGM for `opts.run_for`, storing live readings and backfilling gaps
/// (module doc). Returns when the time is up; an error when the device is not a CGM, the store
/// fails, or no connection succeeded `max_reconnects` times in a row.
pub async fn live<P: Peripheral, S: RecordSink>(
    p: &mut P,
    sink: &mut S,
    opts: &LiveOptions,
) -> Result<LiveReport> {
    let clock = Clock {
        t0: Instant::now(),
        now0: opts.download.now,
    };
    let deadline = clock.t0 + opts.run_for;
    let mut report = LiveReport::default();
    let mut session = None;
    let mut failures = 0u32;
    while Instant::now() < deadline {
        let dl = clock.options(&opts.download);
        let s = match download::prepare(p, &dl, &mut session, &mut report.totals).await {
            Ok(s) => s,
            Err(e) if retryable(&e) => {
                failures += 1;
                if failures > opts.max_reconnects {
                    return Err(BleError::GaveUp {
                        attempts: failures,
                        last: e.to_string(),
                    });
                }
                sleep_within(opts.reconnect_delay, deadline).await;
                continue;
            }
            Err(e) => {
                let _ = p.disconnect().await;
                return Err(e);
            }
        };
        failures = 0;
        report.connections += 1;
        if s.kind != SourceKind::Cgm {
            let _ = p.disconnect().await;
            return Err(BleError::NotCgm);
        }
        match connected(p, sink, opts, &s, clock, deadline, &mut report).await {
            Ok(()) => break,
            Err(e @ (BleError::Disconnected(_) | BleError::Timeout { .. })) => {
                tracing::info!(%e, "live link lost; reconnecting");
                let _ = p.disconnect().await;
                sleep_within(opts.reconnect_delay, deadline).await;
            }
            Err(e) => {
                let _ = p.disconnect().await;
                return Err(e);
            }
        }
    }
    let _ = p.disconnect().await;
    Ok(report)
}

/// The host clock of the session: `now` at the start plus the runtime time elapsed.
#[derive(Debug, Clone, Copy)]
struct Clock {
    t0: Instant,
    now0: DateTime<Utc>,
}

impl Clock {
    fn now(&self) -> DateTime<Utc> {
        self.now0 + TimeDelta::from_std(self.t0.elapsed()).unwrap_or(TimeDelta::MAX)
    }

    fn options(&self, o: &Options) -> Options {
        let mut o = o.clone();
        o.now = self.now();
        o
    }
}

fn retryable(e: &BleError) -> bool {
    matches!(
        e,
        BleError::Disconnected(_)
            | BleError::NotFound(_)
            | BleError::Timeout { .. }
            | BleError::Link(_)
    )
}

async fn sleep_within(d: Duration, deadline: Instant) {
    tokio::time::sleep_until((Instant::now() + d).min(deadline)).await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One connection: backfill after the cursor, then live readings until the deadline.
async fn connected<P: Peripheral, S: RecordSink>(
    p: &mut P,
    sink: &mut S,
    opts: &LiveOptions,
    s: &Session,
    clock: Clock,
    deadline: Instant,
    report: &mut LiveReport,
) -> Result<()> {
    let cursor = sink.last_record_number(s.kind, &s.device)?;
    backfill(p, sink, opts, s, clock, report, cursor, None).await?;
    let mut last = sink.last_record_number(s.kind, &s.device)?;
    let e2e = s.cgm.as_ref().and_then(|c| c.e2e);
    loop {
        let event = match tokio::time::timeout_at(deadline, p.next_event()).await {
            Ok(e) => e,
            Err(_) => return Ok(()),
        };
        let value = match event {
            LinkEvent::Disconnected => {
                return Err(BleError::Disconnected("during live readings".into()));
            }
            LinkEvent::Value {
                characteristic,
                value,
            } if characteristic == ids::CGM_MEASUREMENT => value,
            // A late RACP indication or another characteristic: not a reading.
            LinkEvent::Value { .. } => continue,
        };
        let records = match decode_cgm_measurements(&value, e2e) {
            Ok(r) => r,
            Err(e) => {
                report
                    .bad_frames
                    .push(format!("{e} (frame {})", hex(&value)));
                continue;
            }
        };
        for m in records {
            if let Some(c) = m.crc.filter(|c| !c.ok()) {
                report.bad_frames.push(format!(
                    "CGM Measurement (0x2AA7) at +{} min: E2E-CRC mismatch (carried {:#06x}, computed {:#06x}); not stored, the sensor's copy is fetched with the gap (frame {})",
                    m.time_offset_min,
                    c.carried,
                    c.computed,
                    hex(&value)
                ));
                continue;
            }
            let dl = clock.options(&opts.download);
            let placing = Placing {
                device: &s.device,
                kind: s.kind,
                model: s.model,
                tz: dl.tz,
                now: dl.now,
            };
            let r = place_cgm(&placing, s, &m);
            match last {
                Some(l) if r.number <= l => {
                    report.live_duplicates += 1;
                    continue;
                }
                Some(l) if r.number - l > opts.interval_min => {
                    let upto = r.number - 1;
                    backfill(p, sink, opts, s, clock, report, Some(l), Some((upto, r))).await?;
                    report.live_stored += 1;
                }
                _ => {
                    store(sink, &dl, &mut report.totals, std::slice::from_ref(&r))?;
                    report.live_stored += 1;
                }
            }
            last = sink.last_record_number(s.kind, &s.device)?;
        }
    }
}

/// Asks the sensor for the records after `after`, up to the held reading when there is one
/// (stored with them once the report completes).
#[allow(clippy::too_many_arguments)]
async fn backfill<P: Peripheral, S: RecordSink>(
    p: &mut P,
    sink: &mut S,
    opts: &LiveOptions,
    s: &Session,
    clock: Clock,
    report: &mut LiveReport,
    after: Option<u32>,
    held: Option<(u32, RecordEntries)>,
) -> Result<()> {
    let dl = clock.options(&opts.download);
    let base = s.base();
    let from = cgm_from(after, base);
    let upto = held.as_ref().map(|(u, _)| *u);
    let to_offset = upto
        .and_then(|u| u.checked_sub(base))
        .and_then(|u| u16::try_from(u).ok());
    let op = match (from, to_offset) {
        (Some(a), Some(b)) => Op::ReportRange(a, b),
        (Some(a), None) => Op::ReportFrom(a),
        (None, _) => Op::ReportAll,
    };
    let before = report.totals.records;
    let mut t = Transfer::new(s, &dl, Numbering::Cgm { from });
    if let Some((_, r)) = held {
        t.seed(r);
    }
    let result = t.run(p, sink, &dl, &mut report.totals, op).await;
    report.backfills.push(Backfill {
        reason: if upto.is_some() {
            BackfillReason::Gap
        } else {
            BackfillReason::Connected
        },
        from: after.map(|a| a + 1),
        to: upto,
        records: report.totals.records - before,
    });
    result
}
