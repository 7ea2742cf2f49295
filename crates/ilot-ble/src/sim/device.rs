//! The simulated peripheral: a GATT table, an RACP that answers like a device, and a queue of
//! notifications released one per connection interval. A CGM can also measure live
//! (`live`: a reading every interval on the runtime clock, with scripted outages).

mod live;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::{Instant, sleep_until};
use uuid::Uuid;

pub use live::LiveScript;

use super::{CgmRecord, MeterRecord, Quirk, SimClock};
use crate::error::{BleError, Result};
use crate::gatt::{
    CarbohydrateId, CgmFeature, CgmFeatures, CgmMeasurement, CgmSessionStartTime, CgmStatus,
    CgmStatusFlags, CurrentTime, DateTime as GattDateTime, DstOffset, Filter, GlucoseConcentration,
    GlucoseFeatures, GlucoseMeasurement, GlucoseUnitCode, MeasurementContext, RacpOpCode,
    RacpRequest, RacpResponse, RacpResponseCode, SFloat, SampleLocation, SampleType, Selection,
    ids,
};
use crate::link::{CharInfo, LinkEvent, Peripheral};

/// What the simulated device did, for tests and benches to count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    pub connections: u32,
    /// Measurement records notified (GLS 0x2A18 or CGM 0x2AA7), duplicates included, live
    /// readings excluded.
    pub records_sent: u32,
    /// Live CGM readings notified outside any RACP report, duplicates and malformed included.
    pub live_sent: u32,
    /// Every notification and indication.
    pub frames_sent: u32,
    pub racp_writes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Other,
    Record,
    Live,
}

#[derive(Debug, Clone)]
enum Queued {
    Frame(Uuid, Vec<u8>, Sent),
    Drop,
}

/// One stored record, ready to send: its RACP number (sequence or time offset) and frames.
#[derive(Debug, Clone)]
struct Stored {
    number: u16,
    frames: Vec<(Uuid, Vec<u8>)>,
}

/// A simulated meter or CGM.
#[derive(Debug)]
pub struct SimDevice {
    address: String,
    interval: Duration,
    quirks: Vec<Quirk>,
    clock: SimClock,
    host_now: DateTime<Utc>,
    records: Vec<Stored>,
    reads: HashMap<Uuid, Vec<u8>>,
    chars: Vec<CharInfo>,
    measurement: Uuid,
    connected: bool,
    subscribed: HashSet<Uuid>,
    queue: VecDeque<Queued>,
    next_due: Option<Instant>,
    dropped: bool,
    /// The link dropped outside a report (a live outage); the next event says so.
    pending_drop: bool,
    live: Option<live::LiveSim>,
    stats: SimStats,
}

fn ch(uuid: Uuid, read: bool, notify: bool, indicate: bool) -> CharInfo {
    CharInfo {
        uuid,
        read,
        notify,
        indicate,
    }
}

fn dis(reads: &mut HashMap<Uuid, Vec<u8>>, manufacturer: &str, model: &str, serial: &str) {
    reads.insert(ids::MANUFACTURER_NAME, manufacturer.as_bytes().to_vec());
    reads.insert(ids::MODEL_NUMBER, model.as_bytes().to_vec());
    reads.insert(ids::SERIAL_NUMBER, serial.as_bytes().to_vec());
}

impl SimDevice {
    /// A GLS meter holding `history`, whose clock is `clock`, at host time `host_now`.
    pub fn meter(
        history: &[MeterRecord],
        clock: SimClock,
        host_now: DateTime<Utc>,
        quirks: &[Quirk],
    ) -> Self {
        let records = history
            .iter()
            .map(|r| {
                let mut base = GattDateTime::from_naive(clock.wall(r.at));
                if quirks.contains(&Quirk::Month13(r.sequence)) {
                    base.month = 13;
                }
                let ctx = (r.meal.is_some() || r.carbs_g.is_some()).then(|| MeasurementContext {
                    sequence: r.sequence,
                    extended_flags: None,
                    carbohydrate: r.carbs_g.map(|g| {
                        (
                            CarbohydrateId::Lunch,
                            SFloat::Value {
                                mantissa: g,
                                exponent: -3,
                            },
                        )
                    }),
                    meal: r.meal,
                    tester_health: None,
                    exercise: None,
                    medication: None,
                    hba1c: None,
                    free_flags: 0,
                });
                let m = GlucoseMeasurement {
                    sequence: r.sequence,
                    base_time: base,
                    time_offset_min: Some(0),
                    concentration: Some(GlucoseConcentration {
                        value: r.value,
                        unit: GlucoseUnitCode::KgPerLitre,
                        sample_type: SampleType::CapillaryPlasma,
                        location: SampleLocation::Finger,
                    }),
                    status: r.status,
                    context_follows: ctx.is_some(),
                    free_flags: 0,
                };
                let mut frames = vec![(ids::GLUCOSE_MEASUREMENT, m.encode())];
                if let Some(c) = ctx {
                    frames.push((ids::GLUCOSE_MEASUREMENT_CONTEXT, c.encode()));
                }
                Stored {
                    number: r.sequence,
                    frames,
                }
            })
            .collect();
        let mut reads = HashMap::new();
        dis(&mut reads, "Ilot Sim", "Meter GLS", "SIM-METER-0001");
        reads.insert(ids::GLUCOSE_FEATURE, GlucoseFeatures(0x07FF).encode());
        let chars = vec![
            ch(ids::GLUCOSE_MEASUREMENT, false, true, false),
            ch(ids::GLUCOSE_MEASUREMENT_CONTEXT, false, true, false),
            ch(ids::GLUCOSE_FEATURE, true, false, false),
            ch(ids::RACP, false, false, true),
            ch(ids::CURRENT_TIME, true, true, false),
            ch(ids::MANUFACTURER_NAME, true, false, false),
            ch(ids::MODEL_NUMBER, true, false, false),
            ch(ids::SERIAL_NUMBER, true, false, false),
        ];
        Self::new(
            "SIM:METER",
            records,
            reads,
            chars,
            ids::GLUCOSE_MEASUREMENT,
            clock,
            host_now,
            quirks,
        )
    }

    /// A CGM whose session started at `start` (its Session Start Time written with the zone and
    /// DST offset of `clock` when it is [`SimClock::Local`], unknown otherwise), E2E-CRC on.
    pub fn cgm(
        history: &[CgmRecord],
        start: DateTime<Utc>,
        clock: SimClock,
        host_now: DateTime<Utc>,
        quirks: &[Quirk],
    ) -> Self {
        let records = history.iter().map(cgm_stored).collect();
        let (time_zone, dst) = match clock {
            SimClock::Local(tz) => {
                use chrono::Offset;
                let local = start.with_timezone(&tz);
                let total = local.offset().fix().local_minus_utc() / 60;
                let dst = chrono_tz::OffsetComponents::dst_offset(local.offset()).num_minutes();
                let code = match dst {
                    0 => DstOffset::Standard,
                    30 => DstOffset::HalfHour,
                    60 => DstOffset::Daylight,
                    _ => DstOffset::DoubleDaylight,
                };
                (((i64::from(total) - dst) / 15) as i8, code)
            }
            SimClock::Offset(_) => (-128, DstOffset::Unknown),
        };
        let sst = CgmSessionStartTime {
            start: GattDateTime::from_naive(clock.wall(start)),
            time_zone,
            dst,
            crc: None,
        };
        let elapsed = (host_now - start)
            .num_minutes()
            .clamp(0, i64::from(u16::MAX)) as u16;
        let status = CgmStatus {
            time_offset_min: elapsed,
            status: CgmStatusFlags(0),
            crc: None,
        };
        let feature = CgmFeature {
            features: CgmFeatures(
                CgmFeatures::E2E_CRC | CgmFeatures::TREND | CgmFeatures::LOW_BATTERY,
            ),
            sample_type: SampleType::InterstitialFluid,
            location: SampleLocation::Reserved(5),
            crc: None,
        };
        let mut reads = HashMap::new();
        dis(&mut reads, "Ilot Sim", "CGM", "SIM-CGM-0001");
        reads.insert(ids::CGM_FEATURE, feature.encode());
        reads.insert(ids::CGM_STATUS, status.encode(true));
        reads.insert(ids::CGM_SESSION_START_TIME, sst.encode(true));
        let chars = vec![
            ch(ids::CGM_MEASUREMENT, false, true, false),
            ch(ids::CGM_FEATURE, true, false, false),
            ch(ids::CGM_STATUS, true, false, false),
            ch(ids::CGM_SESSION_START_TIME, true, false, false),
            ch(ids::CGM_SESSION_RUN_TIME, true, false, false),
            ch(ids::CGM_SOCP, false, false, true),
            ch(ids::RACP, false, false, true),
            ch(ids::MANUFACTURER_NAME, true, false, false),
            ch(ids::MODEL_NUMBER, true, false, false),
            ch(ids::SERIAL_NUMBER, true, false, false),
        ];
        Self::new(
            "SIM:CGM",
            records,
            reads,
            chars,
            ids::CGM_MEASUREMENT,
            clock,
            host_now,
            quirks,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        address: &str,
        records: Vec<Stored>,
        reads: HashMap<Uuid, Vec<u8>>,
        chars: Vec<CharInfo>,
        measurement: Uuid,
        clock: SimClock,
        host_now: DateTime<Utc>,
        quirks: &[Quirk],
    ) -> Self {
        Self {
            address: address.into(),
            interval: super::DEFAULT_INTERVAL,
            quirks: quirks.to_vec(),
            clock,
            host_now,
            records,
            reads,
            chars,
            measurement,
            connected: false,
            subscribed: HashSet::new(),
            queue: VecDeque::new(),
            next_due: None,
            dropped: false,
            pending_drop: false,
            live: None,
            stats: SimStats::default(),
        }
    }

    /// Sets the connection interval (one notification per interval).
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    pub fn stats(&self) -> SimStats {
        self.stats
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Moves the host time (the device clock follows) and adds records measured since.
    pub fn advance(&mut self, host_now: DateTime<Utc>, new_meter: &[MeterRecord]) {
        let fresh = Self::meter(new_meter, self.clock, host_now, &self.quirks);
        self.records.extend(fresh.records);
        self.host_now = host_now;
    }

    fn push(&mut self, item: Queued) {
        if self.queue.is_empty() {
            self.next_due = Some(Instant::now() + self.interval);
        }
        self.queue.push_back(item);
    }

    fn respond(&mut self, resp: RacpResponse) {
        self.push(Queued::Frame(ids::RACP, resp.encode(), Sent::Other));
    }

    /// The numeric bounds a selection asks for (a real device compares numbers, not circularly).
    fn bounds(sel: Selection) -> (u16, u16) {
        match sel {
            Selection::AtLeast(Filter::Number(n)) => (n, u16::MAX),
            Selection::AtMost(Filter::Number(n)) => (0, n),
            Selection::Range(Filter::Number(a), Filter::Number(b)) => (a, b),
            _ => (0, u16::MAX),
        }
    }

    fn report(&mut self, sel: Selection) {
        let (lo, hi) = if self.quirks.contains(&Quirk::ResendsAll) {
            (0, u16::MAX)
        } else {
            Self::bounds(sel)
        };
        let mut chosen: Vec<Stored> = self
            .records
            .iter()
            .filter(|r| (lo..=hi).contains(&r.number))
            .cloned()
            .collect();
        if chosen.is_empty() {
            return self.respond(RacpResponse::Code {
                request: RacpOpCode::ReportStoredRecords,
                code: RacpResponseCode::NoRecordsFound,
            });
        }
        if self.quirks.contains(&Quirk::Reversed) {
            chosen.reverse();
        }
        let drop_after = self.quirks.iter().find_map(|q| match q {
            Quirk::DropsAfter(n) if !self.dropped => Some(*n),
            _ => None,
        });
        let twice = self.quirks.contains(&Quirk::Duplicates);
        for (i, rec) in chosen.into_iter().enumerate() {
            if drop_after == Some(i as u32) {
                self.dropped = true;
                self.push(Queued::Drop);
                return;
            }
            for (uuid, bytes) in rec.frames {
                let sent = if uuid == self.measurement {
                    Sent::Record
                } else {
                    Sent::Other
                };
                if twice {
                    self.push(Queued::Frame(uuid, bytes.clone(), sent));
                }
                self.push(Queued::Frame(uuid, bytes, sent));
            }
        }
        self.respond(RacpResponse::Code {
            request: RacpOpCode::ReportStoredRecords,
            code: RacpResponseCode::Success,
        });
    }

    fn racp(&mut self, value: &[u8]) {
        let req = match RacpRequest::decode(value) {
            Ok(r) => r,
            Err(_) => {
                let op = RacpOpCode::from_code(value.first().copied().unwrap_or(0));
                return self.respond(RacpResponse::Code {
                    request: op,
                    code: RacpResponseCode::InvalidOperator,
                });
            }
        };
        let unsupported = |code| RacpResponse::Code {
            request: req.op_code(),
            code,
        };
        match req {
            RacpRequest::Report(sel) | RacpRequest::ReportNumber(sel)
                if !matches!(sel, Selection::All) && self.quirks.contains(&Quirk::NoFilter) =>
            {
                self.respond(unsupported(RacpResponseCode::OperatorNotSupported));
            }
            RacpRequest::Report(sel) | RacpRequest::ReportNumber(sel)
                if matches!(sel, Selection::Range(..)) && self.quirks.contains(&Quirk::NoRange) =>
            {
                self.respond(unsupported(RacpResponseCode::OperatorNotSupported));
            }
            RacpRequest::Report(sel) => self.report(sel),
            RacpRequest::ReportNumber(sel) => {
                let (lo, hi) = Self::bounds(sel);
                let n = self
                    .records
                    .iter()
                    .filter(|r| (lo..=hi).contains(&r.number))
                    .count();
                self.respond(RacpResponse::NumberOfRecords(
                    n.min(usize::from(u16::MAX)) as u16
                ));
            }
            RacpRequest::Abort => {
                self.queue.clear();
                self.respond(RacpResponse::Code {
                    request: RacpOpCode::AbortOperation,
                    code: RacpResponseCode::Success,
                });
            }
            RacpRequest::Delete(_) => {
                self.respond(unsupported(RacpResponseCode::OpCodeNotSupported))
            }
        }
    }

    fn device_now(&self) -> chrono::NaiveDateTime {
        self.clock.wall(self.host_now)
    }
}

impl Peripheral for SimDevice {
    fn address(&self) -> String {
        self.address.clone()
    }

    async fn connect(&mut self) -> Result<()> {
        self.catch_up();
        if !self.reachable() {
            return Err(BleError::NotFound(self.address.clone()));
        }
        self.connected = true;
        self.pending_drop = false;
        self.subscribed.clear();
        self.queue.clear();
        self.stats.connections += 1;
        Ok(())
    }

    async fn discover(&mut self) -> Result<Vec<CharInfo>> {
        self.check()?;
        Ok(self.chars.clone())
    }

    async fn subscribe(&mut self, characteristic: Uuid) -> Result<()> {
        self.check()?;
        let c = self
            .chars
            .iter()
            .find(|c| c.uuid == characteristic)
            .ok_or_else(|| {
                BleError::Link(format!(
                    "no characteristic {characteristic} on the simulator"
                ))
            })?;
        if !(c.notify || c.indicate) {
            return Err(BleError::Link(format!("{characteristic} cannot notify")));
        }
        self.subscribed.insert(characteristic);
        Ok(())
    }

    async fn read(&mut self, characteristic: Uuid) -> Result<Vec<u8>> {
        self.check()?;
        if characteristic == ids::CURRENT_TIME {
            let t = CurrentTime {
                date_time: GattDateTime::from_naive(self.device_now()),
                day_of_week: 0,
                fractions256: 0,
                adjust_reason: 0,
            };
            return Ok(t.encode());
        }
        self.reads.get(&characteristic).cloned().ok_or_else(|| {
            BleError::Link(format!("{characteristic} is not readable on the simulator"))
        })
    }

    async fn write(&mut self, characteristic: Uuid, value: &[u8]) -> Result<()> {
        self.check()?;
        if characteristic != ids::RACP {
            return Err(BleError::Refused(format!(
                "write to {characteristic} not supported by the simulator"
            )));
        }
        // A real GLS/CGMS server refuses an RACP write unless the collector enabled the RACP
        // indications and the record notifications first (ATT error 0xFD).
        if !self.subscribed.contains(&ids::RACP) || !self.subscribed.contains(&self.measurement) {
            return Err(BleError::Refused(
                "ATT error 0xFD: client characteristic configuration descriptor improperly configured".into(),
            ));
        }
        self.stats.racp_writes += 1;
        self.racp(value);
        Ok(())
    }

    async fn next_event(&mut self) -> LinkEvent {
        let due = loop {
            self.catch_up();
            if std::mem::take(&mut self.pending_drop) {
                return LinkEvent::Disconnected;
            }
            let frame = self
                .next_due
                .filter(|_| self.connected && !self.queue.is_empty());
            let tick = self.next_live_due();
            let wake = match (frame, tick) {
                (Some(f), Some(t)) => f.min(t),
                (Some(f), None) => f,
                (None, Some(t)) => t,
                (None, None) => return std::future::pending().await,
            };
            // Sleeping before changing anything keeps this cancel-safe under the caller's
            // timeout; a live reading due first is measured on the next turn.
            sleep_until(wake).await;
            if frame == Some(wake) && tick.is_none_or(|t| t > wake) {
                break wake;
            }
        };
        self.next_due = Some(due + self.interval);
        match self.queue.pop_front() {
            Some(Queued::Frame(uuid, bytes, sent)) => {
                self.stats.frames_sent += 1;
                match sent {
                    Sent::Record => self.stats.records_sent += 1,
                    Sent::Live => self.stats.live_sent += 1,
                    Sent::Other => {}
                }
                LinkEvent::Value {
                    characteristic: uuid,
                    value: bytes,
                }
            }
            Some(Queued::Drop) | None => {
                self.connected = false;
                self.queue.clear();
                LinkEvent::Disconnected
            }
        }
    }

    async fn disconnect(&mut self) -> Result<()> {
        self.connected = false;
        self.queue.clear();
        Ok(())
    }
}

impl SimDevice {
    fn check(&mut self) -> Result<()> {
        self.catch_up();
        if self.connected {
            Ok(())
        } else {
            Err(BleError::Disconnected(
                "the simulated device is not connected".into(),
            ))
        }
    }
}

fn cgm_stored(r: &CgmRecord) -> Stored {
    let m = CgmMeasurement {
        glucose: r.mg_dl,
        time_offset_min: r.offset_min,
        status_octet: None,
        cal_temp_octet: None,
        warning_octet: None,
        trend: r.trend,
        quality: None,
        crc: None,
        free_flags: 0,
    };
    Stored {
        number: r.offset_min,
        frames: vec![(ids::CGM_MEASUREMENT, m.encode(true))],
    }
}
