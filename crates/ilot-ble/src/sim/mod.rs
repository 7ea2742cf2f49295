//! A simulated glucose meter (GLS) and CGM (CGMS) behind [`crate::link::Peripheral`], speaking
//! the real bytes with realistic timing: one notification or indication per connection interval
//! (7.5 ms by default, the shortest BLE allows), on tokio's clock so tests and benches can run it
//! in paused (virtual) time.
//!
//! Field quirks seen in peer trackers can be switched on ([`Quirk`]): a meter that re-sends its
//! whole history whatever the filter (Contour), one that disconnects mid-transfer (Accu-Chek when
//! a strip is inserted), a clock hours off or a month of 13 (CareSens), records sent newest first,
//! every notification sent twice, no support for the "≥" filter.
//!
//! A simulated CGM can also measure live ([`LiveScript`]): a reading every interval, notified
//! while connected and kept in memory for the RACP, with scripted outages, missed and malformed
//! notifications.
//!
//! This is test and demo equipment: it reads no clock (the host `now` is given) and keeps no
//! state outside the value.

mod device;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

pub use device::{LiveScript, SimDevice, SimStats};

use crate::gatt::{GlucoseStatus, Meal, SFloat};

/// Shortest BLE connection interval, the default pace of the simulator.
pub const DEFAULT_INTERVAL: Duration = Duration::from_micros(7500);

/// A misbehaviour of a real device, switchable in the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quirk {
    /// Ignores the "≥ N" filter and sends every stored record (Contour Next One).
    ResendsAll,
    /// Drops the link after this many records of the first transfer (Accu-Chek, strip inserted).
    DropsAfter(u32),
    /// Month 13 in the base time of this sequence number (CareSens).
    Month13(u16),
    /// Sends records newest first.
    Reversed,
    /// Sends every notification twice.
    Duplicates,
    /// Answers "operator not supported" to "≥ N" (must be asked for all records).
    NoFilter,
    /// Supports "≥ N" but answers "operator not supported" to "within range" (optional in
    /// GLS and CGMS, and missing from many devices).
    NoRange,
}

impl FromStr for Quirk {
    type Err = String;

    /// `contour`, `accu-chek` (drop after 5), `caresens-month13` (on the newest record is not
    /// known here: sequence 2), `reversed`, `duplicates`, `no-filter`, `no-range`; clock offsets are a
    /// [`SimClock`], not a quirk.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "contour" | "resends-all" => Ok(Self::ResendsAll),
            "accu-chek" | "accuchek" | "drop" => Ok(Self::DropsAfter(5)),
            "caresens-month13" | "month13" => Ok(Self::Month13(2)),
            "reversed" => Ok(Self::Reversed),
            "duplicates" => Ok(Self::Duplicates),
            "no-filter" => Ok(Self::NoFilter),
            "no-range" => Ok(Self::NoRange),
            other => Err(format!(
                "unknown quirk {other:?}; expected contour, accu-chek, caresens-month13, caresens-clock, reversed, duplicates, no-filter or no-range"
            )),
        }
    }
}

/// How the simulated device keeps time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimClock {
    /// A right clock that follows the zone's DST.
    Local(chrono_tz::Tz),
    /// A free-running clock: wall time = UTC + this (a clock hours off, or one set once and
    /// never moved for DST).
    Offset(TimeDelta),
}

impl SimClock {
    pub fn wall(&self, t: DateTime<Utc>) -> chrono::NaiveDateTime {
        match self {
            Self::Local(tz) => t.with_timezone(tz).naive_local(),
            Self::Offset(d) => t.naive_utc() + *d,
        }
    }
}

/// One stored meter record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeterRecord {
    pub sequence: u16,
    pub at: DateTime<Utc>,
    /// Sent in kg/L (mantissa = mg/dL, exponent −5), as most meters do.
    pub value: SFloat,
    pub status: Option<GlucoseStatus>,
    pub meal: Option<Meal>,
    /// Carbohydrates in grams, sent in kg (exponent −3).
    pub carbs_g: Option<i16>,
}

/// One stored CGM record, `offset_min` after the session start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CgmRecord {
    pub offset_min: u16,
    pub mg_dl: SFloat,
    pub trend: Option<SFloat>,
}

/// A plausible glucose for record `i`: a daily wave between 72 and 236 mg/dL, integer mg/dL.
fn wave(i: u32) -> i16 {
    const PATTERN: [i16; 12] = [96, 142, 188, 236, 171, 118, 72, 104, 153, 210, 131, 88];
    PATTERN[(i % 12) as usize]
}

/// `n` meter records from sequence 1, one every `step` from `first`, every third with a meal
/// context and every sixth with carbohydrates.
pub fn meter_history(n: u16, first: DateTime<Utc>, step: TimeDelta) -> Vec<MeterRecord> {
    meter_history_from(1, u32::from(n), first, step)
}

/// Like [`meter_history`] from sequence `first_seq`, wrapping from 65535 to 0 like a meter's
/// 16-bit counter; the meal and carbohydrate pattern follows the sequence number.
pub fn meter_history_from(
    first_seq: u16,
    n: u32,
    first: DateTime<Utc>,
    step: TimeDelta,
) -> Vec<MeterRecord> {
    (0..n)
        .map(|j| {
            let seq = first_seq.wrapping_add(j as u16);
            let i = u32::from(seq);
            MeterRecord {
                sequence: seq,
                at: first + step * j as i32,
                value: SFloat::Value {
                    mantissa: wave(i),
                    exponent: -5,
                },
                status: None,
                meal: (i % 3 == 0).then_some(if i % 2 == 0 {
                    Meal::Preprandial
                } else {
                    Meal::Fasting
                }),
                carbs_g: (i % 6 == 0).then_some(45),
            }
        })
        .collect()
}

/// Epoch of the demo devices: their histories are functions of the host time only, so that two
/// runs of `ilot ble download sim:meter` see the same records plus the new ones.
pub fn demo_epoch() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T07:00:00Z")
        .map_or(DateTime::UNIX_EPOCH, |t| t.with_timezone(&Utc))
}

/// The demo meter: a reading every 8 hours since [`demo_epoch`], up to `now`, keeping the last
/// `capacity` records like a real meter's memory.
pub fn demo_meter_history(now: DateTime<Utc>, capacity: usize) -> Vec<MeterRecord> {
    let step = TimeDelta::hours(8);
    let n = ((now - demo_epoch()).num_seconds() / step.num_seconds() + 1)
        .clamp(0, i64::from(u16::MAX)) as u16;
    let all = meter_history(n, demo_epoch(), step);
    let skip = all.len().saturating_sub(capacity);
    all.into_iter().skip(skip).collect()
}

/// CGM records every 5 minutes from offset 0 up to `minutes`.
pub fn cgm_history(minutes: u16) -> Vec<CgmRecord> {
    (0..=minutes / 5)
        .map(|k| CgmRecord {
            offset_min: k * 5,
            mg_dl: SFloat::Value {
                mantissa: wave(u32::from(k)),
                exponent: 0,
            },
            trend: Some(SFloat::Value {
                mantissa: 5,
                exponent: -1,
            }),
        })
        .collect()
}

/// The demo CGM session: 14-day sessions back to back since [`demo_epoch`]; the current one
/// with a record every 5 minutes up to `now`.
pub fn demo_cgm_session(now: DateTime<Utc>) -> (DateTime<Utc>, Vec<CgmRecord>) {
    let session = TimeDelta::days(14);
    let k = ((now - demo_epoch()).num_seconds() / session.num_seconds()).max(0);
    let start = demo_epoch() + session * k as i32;
    let minutes = (now - start).num_minutes().clamp(0, i64::from(u16::MAX)) as u16;
    (
        start,
        if now < start {
            Vec::new()
        } else {
            cgm_history(minutes)
        },
    )
}
