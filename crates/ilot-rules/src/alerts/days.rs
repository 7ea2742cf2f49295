//! Day-based alerts: TBR over target at each local day end, and missed basal insulin for each
//! prescribed time of each local day. Local days come from the patient's time zone; no clock is
//! read.

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{InsulinKind, Prescription};

use super::{Alert, AlertKind, advice, key};
use crate::input::{GlucosePoint, InsulinPoint};
use crate::metrics::MIN_ACTIVE_PERCENT;
use crate::observance::{local_instant, local_midnight};
use crate::sampling::{cgm_interval, reading_duration};

/// Days in the TBR window (SPEC §3: over 14 days).
pub const TBR_DAYS: u64 = 14;

/// Local days from `from` whose end has passed by `now`, up to the prescription's last day.
fn ended_days(
    prescription: &Prescription,
    tz: Tz,
    from: NaiveDate,
    now: DateTime<Utc>,
) -> impl Iterator<Item = (NaiveDate, DateTime<Utc>)> {
    from.iter_days()
        .take_while(move |d| *d <= prescription.end)
        .map(move |d| (d, local_midnight(tz, d + Days::new(1))))
        .take_while(move |(_, end)| *end <= now)
}

pub fn tbr_over_target(
    prescription: &Prescription,
    tz: Tz,
    glucose: &[GlucosePoint],
    from: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<Alert> {
    let policy = &prescription.policy;
    // Prefix counts of CGM readings and of those below the threshold: one pass, then every
    // 14-day window is two binary searches.
    let mut cgm = Vec::with_capacity(glucose.len() + 1);
    let mut low = Vec::with_capacity(glucose.len() + 1);
    let (mut c, mut l) = (0u64, 0u64);
    cgm.push(0);
    low.push(0);
    for p in glucose {
        if p.cgm {
            c += 1;
            if p.level.below(policy.tbr_threshold_mg_dl) {
                l += 1;
            }
        }
        cgm.push(c);
        low.push(l);
    }
    // The report's sufficiency (SPEC §3): CGM active ≥ 70 % of the 14 days, each reading
    // standing for the sensor's detected interval.
    let reading_ms = reading_duration(cgm_interval(glucose)).num_milliseconds() as f64;

    let mut out = Vec::new();
    let mut open: Option<Alert> = None;
    for (day, day_end) in ended_days(prescription, tz, from, now) {
        let first = day.checked_sub_days(Days::new(TBR_DAYS - 1)).unwrap_or(day);
        let window_start = local_midnight(tz, first);
        let lo = glucose.partition_point(|p| p.at < window_start);
        let hi = lo + glucose[lo..].partition_point(|p| p.at < day_end);
        let (total, below) = (cgm[hi] - cgm[lo], low[hi] - low[lo]);
        let percent = 100.0 * below as f64 / total.max(1) as f64;
        let window_ms = (day_end - window_start).num_milliseconds() as f64;
        let active = 100.0 * total as f64 * reading_ms / window_ms.max(1.0);
        let holds = active >= MIN_ACTIVE_PERCENT && percent > policy.tbr_max_percent;
        match (&mut open, holds) {
            (Some(alert), true) => {
                alert.percent = Some(alert.percent.map_or(percent, |p| p.max(percent)));
            }
            (None, true) => {
                open = Some(Alert {
                    percent: Some(percent),
                    ..Alert::new(
                        AlertKind::TbrOverTarget,
                        key("tbr", day_end),
                        day_end,
                        policy,
                        advice::TBR,
                    )
                });
            }
            (Some(_), false) => {
                if let Some(mut alert) = open.take() {
                    alert.ended_at = Some(day_end);
                    out.push(alert);
                }
            }
            (None, false) => {}
        }
    }
    out.extend(open);
    out
}

/// A basal (or premixed, which contains basal) dose logged within ± grace of each prescribed
/// time; otherwise an alert once the grace has passed. Times skipped or repeated by DST follow
/// [`local_instant`]. Two prescribed times closer than twice the grace can share one dose.
pub fn missed_insulin(
    prescription: &Prescription,
    tz: Tz,
    insulin: &[InsulinPoint],
    from: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<Alert> {
    let policy = &prescription.policy;
    let grace = TimeDelta::hours(i64::from(policy.missed_insulin_grace_hours));
    let basal: Vec<DateTime<Utc>> = insulin
        .iter()
        .filter(|i| matches!(i.kind, InsulinKind::Basal | InsulinKind::Mixed))
        .map(|i| i.at)
        .collect();
    let mut out = Vec::new();
    let days = from
        .iter_days()
        .take_while(|d| *d <= prescription.end && local_midnight(tz, *d) <= now);
    for day in days {
        for dose in &prescription.basal {
            let due = local_instant(tz, day.and_time(dose.time));
            let deadline = due + grace;
            if deadline > now {
                continue;
            }
            let lo = basal.partition_point(|t| *t < due - grace);
            let logged = basal.get(lo).is_some_and(|t| *t <= deadline);
            if !logged {
                out.push(Alert {
                    ended_at: Some(deadline),
                    ..Alert::new(
                        AlertKind::MissedInsulin,
                        format!("missed-insulin@{day}T{}", dose.time.format("%H:%M")),
                        due,
                        policy,
                        advice::INSULIN_MISSED,
                    )
                });
            }
        }
    }
    out
}
