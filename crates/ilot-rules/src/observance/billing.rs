//! What a care team may bill per 30-day period (SPEC §2): the data rule of [`super::observance`]
//! (interrupted, previous period insufficient or interrupted, in progress) plus the conditions
//! the data alone cannot tell — the prescription in force, the patient's consent and the
//! first-month accompaniment — and the billing series (at most 6 consecutive billable periods).
//!
//! A pure function of the observance, the prescription, the data, what is known of the consent
//! and `now`. Decisions (product rules, see ARCHITECTURE.md):
//! - Every reason a period is not billable is listed, in this order: no prescription, no consent,
//!   the data rule's reason, no accompaniment. Billable = no reason.
//! - **No accompaniment:** therapeutic accompaniment is mandatory in the first month, so period 1
//!   is not billable once it has ended without an education session ([`Accompaniment::Missed`]).
//! - **No consent:** never consented → every period; withdrawn at `t` → every period that begins
//!   at or after `t` (the period during which it was withdrawn was monitored and is judged on its
//!   data, as a period cut short by the prescription's end).
//! - **No prescription:** after the prescription's last day the 30-day periods go on (same
//!   cadence); those holding any entry are listed, not billable, so the team sees data arriving
//!   without a prescription. Nothing is expected of them: no ratio.
//! - Series are made again over the final verdict: a period not billable for any reason breaks a
//!   series.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

use super::calendar::count_between;
use super::{
    Accompaniment, MAX_SERIES, NotBillable, Observance, PERIOD_DAYS, PeriodStatus, local_midnight,
};
use crate::input::Data;
use ilot_domain::{PatientProfile, Prescription};

/// Why a period is not billable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// After the prescription's last day.
    NoPrescription,
    /// The patient had not consented to transmission (or had withdrawn it).
    NoConsent,
    /// The telesurveillance was ended during part of it, then reopened: the time in between was
    /// not monitored ([`not_monitored`]).
    NotMonitored,
    /// Not over yet: it may become billable.
    InProgress,
    /// No data in the period.
    Interrupted,
    /// The previous period had less than 50 % of the expected data.
    PreviousInsufficient,
    /// The previous period had no data.
    PreviousInterrupted,
    /// Period 1 ended without a therapeutic-education session.
    NoAccompaniment,
}

impl From<NotBillable> for Reason {
    fn from(n: NotBillable) -> Self {
        match n {
            NotBillable::InProgress => Self::InProgress,
            NotBillable::Interrupted => Self::Interrupted,
            NotBillable::PreviousInsufficient => Self::PreviousInsufficient,
            NotBillable::PreviousInterrupted => Self::PreviousInterrupted,
        }
    }
}

/// What the server (or the device) knows of the consent to transmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Never given.
    Never,
    /// Given, and not withdrawn since.
    Granted,
    /// Withdrawn at this instant.
    WithdrawnAt(DateTime<Utc>),
}

/// One 30-day period as billing sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BillingPeriod {
    pub number: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Whether a prescription covers the period.
    pub prescribed: bool,
    /// What the prescription expects (0 without one).
    pub expected: f64,
    /// Glucose readings and insulin entries.
    pub received: u64,
    /// `received / expected`, capped at 1; `None` without a prescription.
    pub ratio: Option<f64>,
    /// The data status; `None` without a prescription.
    pub status: Option<PeriodStatus>,
    pub billable: bool,
    /// Every reason it is not billable, in the order of [`Reason`]; empty when billable.
    pub reasons: Vec<Reason>,
    /// The billing series it belongs to (1-based index into [`Billing::series`]).
    pub series: Option<u32>,
}

/// Consecutive billable periods billed together (at most [`MAX_SERIES`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub number: u32,
    pub first_period: u32,
    pub last_period: u32,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Billing {
    pub periods: Vec<BillingPeriod>,
    pub series: Vec<Series>,
    pub accompaniment: Accompaniment,
}

/// Billing of one prescription at `now`: `observance` must be
/// `observance(prescription, profile, data, now)`.
pub fn billing(
    observance: &Observance,
    prescription: &Prescription,
    profile: &PatientProfile,
    data: &Data,
    consent: Consent,
    now: DateTime<Utc>,
) -> Billing {
    let missed = observance.accompaniment == Accompaniment::Missed;
    let mut periods: Vec<BillingPeriod> = observance
        .periods
        .iter()
        .map(|p| {
            let mut reasons: Vec<Reason> = p.not_billable.map(Reason::from).into_iter().collect();
            if p.number == 1 && missed {
                reasons.push(Reason::NoAccompaniment);
            }
            BillingPeriod {
                number: p.number,
                first_day: p.first_day,
                last_day: p.last_day,
                starts_at: p.starts_at,
                ends_at: p.ends_at,
                prescribed: true,
                expected: p.expected,
                received: p.received,
                ratio: Some(p.ratio),
                status: Some(p.status),
                billable: false,
                reasons,
                series: None,
            }
        })
        .collect();
    let died = profile.death.is_some_and(|d| d <= prescription.end);
    if !died {
        periods.extend(unprescribed(prescription, profile, data, now));
    }
    for p in &mut periods {
        let refused = match consent {
            Consent::Never => true,
            Consent::Granted => false,
            Consent::WithdrawnAt(t) => p.starts_at >= t,
        };
        if refused {
            p.reasons.push(Reason::NoConsent);
        }
        p.reasons.sort_unstable();
        p.reasons.dedup();
        p.billable = p.reasons.is_empty();
    }
    let series = series(&mut periods);
    Billing {
        periods,
        series,
        accompaniment: observance.accompaniment,
    }
}

/// Marks every period that holds any of the unmonitored times `gaps` (`[from, until)`: a
/// telesurveillance ended, then reopened) as not billable ([`Reason::NotMonitored`]) and makes
/// the series again. The 30-day cadence does not move: periods keep the dates counted from the
/// start of telesurveillance, and a period the team did not monitor throughout is not billed.
pub fn not_monitored(b: &mut Billing, gaps: &[(DateTime<Utc>, DateTime<Utc>)]) {
    for p in &mut b.periods {
        if gaps
            .iter()
            .any(|&(from, until)| from < until && from < p.ends_at && until > p.starts_at)
        {
            p.reasons.push(Reason::NotMonitored);
            p.reasons.sort_unstable();
            p.reasons.dedup();
            p.billable = false;
        }
        p.series = None;
    }
    b.series = series(&mut b.periods);
}

/// The periods after the prescription's last day that hold any entry: the rest of the period
/// the end cut short, then 30-day periods on the same cadence, up to `now`.
fn unprescribed(
    prescription: &Prescription,
    profile: &PatientProfile,
    data: &Data,
    now: DateTime<Utc>,
) -> Vec<BillingPeriod> {
    let tz = profile.tz;
    let mut out = Vec::new();
    let Some(mut first_day) = prescription.end.checked_add_days(Days::new(1)) else {
        return out;
    };
    // Numbered on the cadence of the prescription's periods: the rest of a period the end cut
    // short keeps that period's number.
    let index = |day: NaiveDate| (day - prescription.start).num_days().max(0) as u64 / PERIOD_DAYS;
    let cadence_end =
        |day: NaiveDate| prescription.start + Days::new((index(day) + 1) * PERIOD_DAYS - 1);
    loop {
        let starts_at = local_midnight(tz, first_day);
        if starts_at >= now {
            break;
        }
        let last_day = cadence_end(first_day);
        let ends_at = local_midnight(tz, last_day + Days::new(1));
        let to = ends_at.min(now);
        let received = count_between(data.glucose, |p| p.at, starts_at, to)
            + count_between(data.insulin, |p| p.at, starts_at, to);
        let other = count_between(data.hypo_reports, |r| r.at, starts_at, to)
            + count_between(data.other_entries, |t| *t, starts_at, to);
        if received + other > 0 {
            out.push(BillingPeriod {
                number: index(first_day) as u32 + 1,
                first_day,
                last_day,
                starts_at,
                ends_at,
                prescribed: false,
                expected: 0.0,
                received: received as u64,
                ratio: None,
                status: None,
                billable: false,
                reasons: vec![Reason::NoPrescription],
                series: None,
            });
        }
        first_day = last_day + Days::new(1);
    }
    out
}

fn series(periods: &mut [BillingPeriod]) -> Vec<Series> {
    let mut out = Vec::new();
    for run in periods
        .split_mut(|p| !p.billable)
        .filter(|run| !run.is_empty())
    {
        for chunk in run.chunks_mut(MAX_SERIES) {
            let number = out.len() as u32 + 1;
            let s = Series {
                number,
                first_period: chunk[0].number,
                last_period: chunk[chunk.len() - 1].number,
                from: chunk[0].first_day,
                to: chunk[chunk.len() - 1].last_day,
            };
            for p in chunk.iter_mut() {
                p.series = Some(number);
            }
            out.push(s);
        }
    }
    out
}
