//! Placing device records in time: the device's clock against the host's, pure (the host time
//! is a parameter).
//!
//! A meter's clock is a free-running wall clock with no zone. Ilot reads it once per download
//! and compares it with the host:
//!
//! - it agrees with the patient's local time (within `threshold`, 5 min by default — meters
//!   drift by minutes): record times are local wall times in the patient's zone, DST included.
//!   A wall time that DST makes ambiguous (the repeated hour in autumn) is placed at its first
//!   occurrence and flagged; one that DST makes impossible (the skipped hour in spring) is
//!   placed with the offset before the change and flagged;
//! - it does not: the clock is modelled as UTC + C, with C the measured difference rounded to
//!   the minute (the read itself is only good to a few seconds, and a stable C makes a later
//!   re-download of the same record identical). Each record's true instant is its wall time − C,
//!   shown in the patient's zone. This is exact for a clock set hours off (CareSens) and for a
//!   meter that ignores DST: its records from before and after the change both land right, and
//!   only those whose shown time changed are flagged as corrected;
//! - the device gives no clock: like the first case, without a check.
//!
//! A placed time in the future (beyond `ilot_domain::MAX_FUTURE_SKEW`) or before 2000 is
//! implausible: the record gets no reading, only a note.

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use ilot_domain::MAX_FUTURE_SKEW;

use crate::gatt::RecordIssue;

/// Default tolerance between the device and host clocks (product rule, configurable).
pub const DEFAULT_SKEW_THRESHOLD: TimeDelta = TimeDelta::minutes(5);

/// How record wall times are turned into instants for this download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockModel {
    /// Wall times are the patient's local time.
    LocalWall { checked: bool },
    /// Wall time = UTC + `device_minus_utc`. `nominal` is the offset the device declared (a CGM
    /// session's zone + DST): only a departure from it is a correction. Without it, a record is
    /// corrected when its shown local time differs from the device's wall time.
    Offset {
        device_minus_utc: TimeDelta,
        nominal: Option<TimeDelta>,
        skew: TimeDelta,
    },
}

impl ClockModel {
    /// Chooses the model from one reading of the device clock (`None`: the device has none).
    pub fn measure(
        device_now: Option<NaiveDateTime>,
        host_now: DateTime<Utc>,
        tz: Tz,
        threshold: TimeDelta,
    ) -> Self {
        let Some(device_now) = device_now else {
            return Self::LocalWall { checked: false };
        };
        let local_now = host_now.with_timezone(&tz).naive_local();
        let skew_vs_local = device_now - local_now;
        if skew_vs_local.abs() <= threshold {
            return Self::LocalWall { checked: true };
        }
        Self::Offset {
            device_minus_utc: round_to_minute(device_now - host_now.naive_utc()),
            nominal: None,
            skew: skew_vs_local,
        }
    }

    /// A clock whose offset from UTC is known exactly (a CGM session start time with its time
    /// zone and DST offset), checked against the host: `device_now_utc` is what the device
    /// believes UTC is now.
    pub fn known_offset(
        device_now_utc: NaiveDateTime,
        utc_offset: TimeDelta,
        host_now: DateTime<Utc>,
        threshold: TimeDelta,
    ) -> Self {
        let error = device_now_utc - host_now.naive_utc();
        let device_minus_utc = if error.abs() <= threshold {
            utc_offset
        } else {
            utc_offset + round_to_minute(error)
        };
        Self::Offset {
            device_minus_utc,
            nominal: Some(utc_offset),
            skew: error,
        }
    }

    /// How far the device clock is from the truth (`None`: trusted as local time).
    pub fn skew(&self) -> Option<TimeDelta> {
        match self {
            Self::Offset { skew, .. } => Some(*skew),
            Self::LocalWall { .. } => None,
        }
    }
}

fn round_to_minute(d: TimeDelta) -> TimeDelta {
    let s = d.num_seconds();
    TimeDelta::minutes((s as f64 / 60.0).round() as i64)
}

/// Why a placed time deserves a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFlag {
    /// The time shown differs from what the device said by this much.
    Corrected { by: TimeDelta },
    /// The wall time occurs twice (end of DST); the first occurrence was taken.
    Ambiguous,
    /// The wall time does not exist (start of DST); the offset before the change was taken.
    Nonexistent,
}

impl TimeFlag {
    pub fn describe(&self, device_wall: NaiveDateTime) -> String {
        let said = device_wall.format("%Y-%m-%d %H:%M:%S");
        match self {
            Self::Corrected { by } => format!(
                "time corrected by {} (the device clock was off; it said {said})",
                signed_duration(*by)
            ),
            Self::Ambiguous => format!(
                "the device time {said} occurs twice at the end of daylight saving time; the first was taken"
            ),
            Self::Nonexistent => format!(
                "the device time {said} does not exist (start of daylight saving time); read with the winter offset"
            ),
        }
    }
}

/// `+2 h 03 min`, `−45 min`, to the nearest minute.
pub fn signed_duration(d: TimeDelta) -> String {
    let sign = if d < TimeDelta::zero() { "−" } else { "+" };
    let m = ((d.num_milliseconds() as f64 / 60_000.0).round() as i64).abs();
    match (m / 60, m % 60) {
        (0, m) => format!("{sign}{m} min"),
        (h, 0) => format!("{sign}{h} h"),
        (h, m) => format!("{sign}{h} h {m:02} min"),
    }
}

/// Where a record lands in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub at: DateTime<FixedOffset>,
    pub flag: Option<TimeFlag>,
}

/// Places one record wall time (module doc).
pub fn place(
    model: ClockModel,
    wall: NaiveDateTime,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Placement, RecordIssue> {
    let (at, flag) = match model {
        ClockModel::LocalWall { .. } => match tz.from_local_datetime(&wall) {
            LocalResult::Single(t) => (t.fixed_offset(), None),
            LocalResult::Ambiguous(first, _) => (first.fixed_offset(), Some(TimeFlag::Ambiguous)),
            LocalResult::None => {
                let before = tz
                    .from_local_datetime(&(wall - TimeDelta::hours(3)))
                    .earliest()
                    .map_or(0, |t| t.offset().fix().local_minus_utc());
                let utc = wall - TimeDelta::seconds(i64::from(before));
                (
                    Utc.from_utc_datetime(&utc)
                        .with_timezone(&tz)
                        .fixed_offset(),
                    Some(TimeFlag::Nonexistent),
                )
            }
        },
        ClockModel::Offset {
            device_minus_utc,
            nominal,
            ..
        } => {
            let utc = Utc.from_utc_datetime(&(wall - device_minus_utc));
            let at = utc.with_timezone(&tz).fixed_offset();
            let by = match nominal {
                Some(n) => n - device_minus_utc,
                None => at.naive_local() - wall,
            };
            (
                at,
                (by != TimeDelta::zero()).then_some(TimeFlag::Corrected { by }),
            )
        }
    };
    let utc = at.with_timezone(&Utc);
    if utc > now + MAX_FUTURE_SKEW {
        return Err(RecordIssue::ImplausibleTime(format!(
            "{} is after the phone's time {}",
            at.to_rfc3339(),
            now.with_timezone(&tz).fixed_offset().to_rfc3339()
        )));
    }
    let floor = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d));
    if floor.is_some_and(|f| utc < f) {
        return Err(RecordIssue::ImplausibleTime(format!(
            "{} is before the year 2000",
            at.to_rfc3339()
        )));
    }
    Ok(Placement { at, flag })
}

#[cfg(test)]
mod tests;
