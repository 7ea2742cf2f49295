//! Observance and billing (SPEC §2): sliding 30-day periods counted date to date from the start of
//! telesurveillance in the patient's local dates, the share of the prescribed data each period
//! received, whether each period is billable, the first-month accompaniment, the 1- and 2-month
//! checkpoints and the billing series.
//!
//! A pure function of the prescription, the profile, the data and `now`: it reads no clock and
//! decides nothing about money beyond "billable or not" — amounts and invoices live elsewhere.
//!
//! Decisions the SPEC leaves open, taken here (product rules):
//! - Received data: every glucose reading, whatever its kind, plus insulin entries — except for
//!   a flash prescription, whose glucose data is its **scans** (SPEC §2: 4 scans a day, not the
//!   sensor's stored history). For flash, neither the sensor's history nor capillary readings
//!   count as scans: the arrêté's minimum for a flash sensor is scanning it, and a history
//!   imported from the reader (96 readings a day) would otherwise hide a patient who never
//!   scans. For capillary and CGM prescriptions the monitoring fixes how many readings are
//!   expected, not which ones count: a capillary patient who also wears a sensor transmits more
//!   glucose data, not less, and a CGM patient's few finger pricks cannot move a ratio built on
//!   hundreds of readings a day.
//! - Expected glucose data: capillary and flash from the prescription (readings or scans a day);
//!   CGM = 70 % of the period's sensor time in readings of the sensor's own interval, detected
//!   from the period's readings (median spacing, at most 15 minutes; see
//!   [`crate::sampling`]): 201.6 a day for a 5-minute sensor, 67.2 for a 15-minute history,
//!   1,008 for a 1-minute sensor. Counting is binary searches, and the interval the median of
//!   2,048 spacings taken evenly across the period.
//! - Any entry at all (glucose of any kind — a flash sensor's history too —, insulin, hypo
//!   report, other diary entry) makes a period "not interrupted". Education sessions do not: they are recorded by the nurse, not transmitted by
//!   the patient's device.
//! - The ratio is the total received over the total expected, capped at 1; the raw counts are kept
//!   beside it so nothing is hidden. When nothing is expected (no time elapsed yet), the ratio is 1.
//! - Exactly 50 % is sufficient; the comparison allows for float rounding of the expected count
//!   (e.g. 30 × 201.6 CGM readings), never for a missing reading.
//! - A period cut short by the prescription's end covers only the prescribed days, and its
//!   expectation is scaled to them; it is billable like any other period.
//! - The period during which the patient died is due in full: billable whatever its data, unless
//!   the previous period already makes it not billable; no period follows. Its ratio is shown
//!   over the days up to the death.

pub mod billing;
mod calendar;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{Monitoring, PatientProfile, Prescription};
use serde::Serialize;

use crate::input::Data;
use crate::sampling::{cgm_interval_sampled, reading_duration};

/// Spacings observance samples to detect a period's CGM interval (see
/// [`cgm_interval_sampled`]).
const INTERVAL_SAMPLE: usize = 2048;
use calendar::{bounds, count_between};
pub use calendar::{local_instant, local_midnight};

/// Length of a billing period in local days (SPEC §2).
pub const PERIOD_DAYS: u64 = 30;
/// Below this share of the expected data a period is insufficient (SPEC §2).
pub const SUFFICIENT_RATIO: f64 = 0.5;
/// A series bills at most this many periods at once (SPEC §2).
pub const MAX_SERIES: usize = 6;

/// Relative slack when comparing a ratio with 50 %, for float rounding of the expected count.
const RATIO_EPSILON: f64 = 1e-9;

/// The data status of one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeriodStatus {
    /// The period has not ended yet; its ratio is over the time elapsed so far.
    InProgress,
    /// At least 50 % of the expected data.
    Complete,
    /// Some data, but below 50 %: the next period is not billable.
    Insufficient,
    /// No data at all: this period and the next are not billable.
    Interrupted,
    /// The patient died during this period: it is due in full and is the last one.
    Deceased,
}

/// Why a period is not billable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotBillable {
    /// Not over yet: it may become billable.
    InProgress,
    /// No data in the period.
    Interrupted,
    /// The previous period had less than 50 % of the expected data.
    PreviousInsufficient,
    /// The previous period had no data.
    PreviousInterrupted,
}

/// One 30-day period, numbered from 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    pub number: u32,
    /// Day 1 of the period, a local date.
    pub first_day: NaiveDate,
    /// Last local day covered: day 30, or the prescription's last day.
    pub last_day: NaiveDate,
    /// Local midnight beginning `first_day`, in UTC.
    pub starts_at: DateTime<Utc>,
    /// Local midnight ending `last_day`, in UTC (exclusive).
    pub ends_at: DateTime<Utc>,
    /// Days the expectation covers: the whole period, or the fraction elapsed so far (in
    /// progress), or the days up to the death.
    pub days: f64,
    pub expected: f64,
    /// Glucose readings of any kind.
    pub glucose: u64,
    /// Flash prescriptions: the scans among `glucose`, the only glucose readings `received`
    /// counts; `None` for other prescriptions (every glucose reading counts).
    pub scans: Option<u64>,
    pub insulin: u64,
    /// Hypo reports and other diary entries: proof of contact, not counted in `received`.
    pub other: u64,
    /// `glucose` (flash: `scans`) `+ insulin`; may exceed `expected`.
    pub received: u64,
    /// `received / expected`, capped at 1.
    pub ratio: f64,
    pub status: PeriodStatus,
    pub billable: bool,
    pub not_billable: Option<NotBillable>,
}

/// Therapeutic accompaniment is mandatory during the first month (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Accompaniment {
    /// At least one education session in period 1.
    Done { first_session: DateTime<Utc> },
    /// Period 1 is not over and has no session yet.
    Due { by: NaiveDate },
    /// Period 1 ended without a session.
    Missed,
}

/// Observance checked at 1 and 2 months (SPEC §2): the ratio of period 1 or 2 once it is over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Checkpoint {
    pub month: u32,
    /// `None` until the period is over.
    pub ratio: Option<f64>,
    pub sufficient: Option<bool>,
}

/// Consecutive billable periods billed together (at most [`MAX_SERIES`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BillingSeries {
    pub first_period: u32,
    pub last_period: u32,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observance {
    pub periods: Vec<Period>,
    pub accompaniment: Accompaniment,
    pub checkpoints: [Checkpoint; 2],
    pub series: Vec<BillingSeries>,
}

/// Observance of one prescription at `now`. Periods run from `prescription.start` up to the
/// earliest of `now`, the prescription's last day and the patient's death; every slice of `data`
/// must be sorted by time. Cost: a few local-midnight conversions and binary searches per period,
/// whatever the number of readings.
pub fn observance(
    prescription: &Prescription,
    profile: &PatientProfile,
    data: &Data,
    now: DateTime<Utc>,
) -> Observance {
    let tz = profile.tz;
    let death = profile
        .death
        .filter(|d| (prescription.start..=prescription.end).contains(d));
    let mut periods: Vec<Period> = Vec::new();
    for k in 0u32.. {
        let Some(first_day) = prescription
            .start
            .checked_add_days(Days::new(u64::from(k) * PERIOD_DAYS))
        else {
            break;
        };
        if first_day > prescription.end || death.is_some_and(|d| first_day > d) {
            break;
        }
        let starts_at = local_midnight(tz, first_day);
        if starts_at >= now {
            break;
        }
        let previous = periods.last().map(|p| p.status);
        periods.push(period(
            prescription,
            tz,
            data,
            now,
            k + 1,
            first_day,
            death,
            previous,
        ));
    }
    let accompaniment = accompaniment(prescription, tz, data, periods.first());
    let checkpoints = [1, 2].map(|month| {
        let settled = periods
            .get(month as usize - 1)
            .filter(|p| p.status != PeriodStatus::InProgress);
        Checkpoint {
            month,
            ratio: settled.map(|p| p.ratio),
            sufficient: settled.map(|p| sufficient(p.ratio)),
        }
    });
    let series = series(&periods);
    Observance {
        periods,
        accompaniment,
        checkpoints,
        series,
    }
}

#[allow(clippy::too_many_arguments)]
fn period(
    prescription: &Prescription,
    tz: Tz,
    data: &Data,
    now: DateTime<Utc>,
    number: u32,
    first_day: NaiveDate,
    death: Option<NaiveDate>,
    previous: Option<PeriodStatus>,
) -> Period {
    let nominal_last = first_day + Days::new(PERIOD_DAYS - 1);
    let last_day = nominal_last.min(prescription.end);
    let starts_at = local_midnight(tz, first_day);
    let ends_at = local_midnight(tz, last_day + Days::new(1));
    let died_on = death.filter(|d| *d <= last_day);
    let data_end = died_on.map_or(ends_at, |d| local_midnight(tz, d + Days::new(1)));
    let counted_until = data_end.min(now);
    let days = elapsed_days(tz, first_day, counted_until);

    let (lo, hi) = bounds(data.glucose, |p| p.at, starts_at, counted_until);
    let glucose = hi - lo;
    let insulin = count_between(data.insulin, |p| p.at, starts_at, counted_until);
    let other = count_between(data.hypo_reports, |r| r.at, starts_at, counted_until)
        + count_between(data.other_entries, |t| *t, starts_at, counted_until);
    let scans = (prescription.monitoring == Monitoring::Flash)
        .then(|| data.glucose[lo..hi].iter().filter(|p| p.scan).count());
    let received = scans.unwrap_or(glucose) + insulin;
    let glucose_per_day = expected_glucose_per_day(prescription, data, lo, hi);
    let expected = days * (glucose_per_day + f64::from(prescription.expected_insulin_per_day));
    let ratio = if expected > 0.0 {
        (received as f64 / expected).min(1.0)
    } else {
        1.0
    };

    let status = if died_on.is_some() {
        PeriodStatus::Deceased
    } else if ends_at > now {
        PeriodStatus::InProgress
    } else if glucose + insulin + other == 0 {
        PeriodStatus::Interrupted
    } else if !sufficient(ratio) {
        PeriodStatus::Insufficient
    } else {
        PeriodStatus::Complete
    };
    let not_billable = match (status, previous) {
        (PeriodStatus::InProgress, _) => Some(NotBillable::InProgress),
        (PeriodStatus::Interrupted, _) => Some(NotBillable::Interrupted),
        (_, Some(PeriodStatus::Insufficient)) => Some(NotBillable::PreviousInsufficient),
        (_, Some(PeriodStatus::Interrupted)) => Some(NotBillable::PreviousInterrupted),
        _ => None,
    };
    Period {
        number,
        first_day,
        last_day,
        starts_at,
        ends_at,
        days,
        expected,
        glucose: glucose as u64,
        scans: scans.map(|n| n as u64),
        insulin: insulin as u64,
        other: other as u64,
        received: received as u64,
        ratio,
        status,
        billable: not_billable.is_none(),
        not_billable,
    }
}

/// Glucose data expected a day: the prescription's readings a day (capillary 2–4, flash 4 scans);
/// for a CGM, 70 % of the day's sensor time in readings of the sensor's own interval, detected
/// from the period's CGM readings `data.glucose[lo..hi]` (else from all the data given, else
/// the prescription's `cgm_interval_min`), so a 15-minute history is not held to a 5-minute
/// sensor's count.
fn expected_glucose_per_day(prescription: &Prescription, data: &Data, lo: usize, hi: usize) -> f64 {
    if prescription.monitoring != Monitoring::Cgm {
        return prescription.expected_readings_per_day;
    }
    let detected = [&data.glucose[lo..hi], data.glucose]
        .into_iter()
        .map(|points| reading_duration(cgm_interval_sampled(points, INTERVAL_SAMPLE)))
        .find(|d| *d > TimeDelta::zero());
    let interval_min = detected.map_or(f64::from(prescription.cgm_interval_min.max(1)), |d| {
        d.num_milliseconds() as f64 / 60_000.0
    });
    CGM_SENSOR_SHARE * 1440.0 / interval_min
}

/// Share of sensor time a CGM's data must cover a day (SPEC §2, product rule: the consensus'
/// 70 % CGM active time).
pub const CGM_SENSOR_SHARE: f64 = 0.7;

/// Whether a ratio meets the 50 % minimum; exactly 50 % does.
pub fn sufficient(ratio: f64) -> bool {
    ratio >= SUFFICIENT_RATIO - RATIO_EPSILON
}

/// Local days from the start of `first_day` to `until`: whole days plus the elapsed share of the
/// current local day (a 23- or 25-hour DST day still counts as one day).
fn elapsed_days(tz: Tz, first_day: NaiveDate, until: DateTime<Utc>) -> f64 {
    let day = until.with_timezone(&tz).date_naive();
    let day_start = local_midnight(tz, day);
    let (day, day_start) = if day_start > until {
        // An ambiguous midnight's second occurrence: still the previous day.
        let prev = day.pred_opt().unwrap_or(day);
        (prev, local_midnight(tz, prev))
    } else {
        (day, day_start)
    };
    let next = local_midnight(tz, day + Days::new(1));
    let whole = (day - first_day).num_days() as f64;
    let length = (next - day_start).num_milliseconds() as f64;
    let part = if length > 0.0 {
        (until - day_start).num_milliseconds() as f64 / length
    } else {
        0.0
    };
    (whole + part).max(0.0)
}

fn accompaniment(
    prescription: &Prescription,
    tz: Tz,
    data: &Data,
    first: Option<&Period>,
) -> Accompaniment {
    let (from, to, by) = match first {
        Some(p) => (p.starts_at, p.ends_at, p.last_day),
        None => {
            let by = prescription.start + Days::new(PERIOD_DAYS - 1);
            (
                local_midnight(tz, prescription.start),
                local_midnight(tz, by + Days::new(1)),
                by,
            )
        }
    };
    let (lo, hi) = bounds(data.education_sessions, |t| *t, from, to);
    if lo < hi {
        return Accompaniment::Done {
            first_session: data.education_sessions[lo],
        };
    }
    match first.map(|p| p.status) {
        None | Some(PeriodStatus::InProgress) => Accompaniment::Due { by },
        Some(_) => Accompaniment::Missed,
    }
}

fn series(periods: &[Period]) -> Vec<BillingSeries> {
    let mut out = Vec::new();
    for run in periods.split(|p| !p.billable).filter(|run| !run.is_empty()) {
        for chunk in run.chunks(MAX_SERIES) {
            let (first, last) = (&chunk[0], &chunk[chunk.len() - 1]);
            out.push(BillingSeries {
                first_period: first.number,
                last_period: last.number,
                from: first.first_day,
                to: last.last_day,
            });
        }
    }
    out
}
