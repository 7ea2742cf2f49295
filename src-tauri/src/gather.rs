//! Gather → decide for the screens: loads what the rules read from the store
//! (`Store::rules_data`, as the command line does) and asks `ilot-rules` what it means. The two small
//! display judgements below (which word goes with the last reading, which way the CGM arrow
//! points) are presentation of one reading, not alerts; they would move to `ilot-rules` if the
//! operator console needs the same words.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{AlertPolicy, MealContext, Prescription};
pub use ilot_rules::Loaded;
use ilot_rules::alerts::{self, Alert};
use ilot_rules::{GlucosePoint, Level};
use ilot_store::Store;
use serde::Serialize;

use crate::error::Result;

/// The recorded prescription, or — before the care team's prescription arrives — the one the
/// rules assume (`ilot_rules::assumed`, the same as the command line's and said on screen:
/// `home.default-thresholds`). `bool`: it is assumed.
pub fn prescription_or_default(
    store: &Store,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(Prescription, bool)> {
    let today = now.with_timezone(&tz).date_naive();
    let f = ilot_rules::assumed::prescription_or_default(store.prescription()?, today);
    Ok((f.prescription, f.assumed))
}

/// How far back the home screen's alerts look: the longest rule window (TBR, 14 days) and a day.
pub const ALERT_LOOKBACK_DAYS: i64 = 15;
/// A closed alert stays on the home screen this long, until marked done.
pub const RECENT_HOURS: i64 = 12;

/// Alerts the patient should see now: open ones and those closed in the last
/// [`RECENT_HOURS`], not yet marked done, most serious first. `loaded` holds the last
/// [`ALERT_LOOKBACK_DAYS`]. Day rules look at today and yesterday only (older missed doses are
/// history, not something to do now).
pub fn active_alerts(
    store: &Store,
    prescription: &Prescription,
    tz: Tz,
    now: DateTime<Utc>,
    loaded: &Loaded,
    acknowledged: &std::collections::BTreeSet<String>,
) -> Result<Vec<Alert>> {
    let days_from: NaiveDate = (now - TimeDelta::days(1)).with_timezone(&tz).date_naive();
    let last = store.last_entry_at()?;
    let mut all = alerts::evaluate(prescription, tz, &loaded.data(), last, days_from, now);
    let recent = now - TimeDelta::hours(RECENT_HOURS);
    all.retain(|a| {
        !acknowledged.contains(&a.key)
            && (a.ended_at.is_none() || a.started_at >= recent || a.ended_at >= Some(recent))
    });
    all.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.started_at.cmp(&a.started_at))
    });
    Ok(all)
}

/// The word shown beside the last reading (and its colour in the UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Zone {
    VeryLow,
    Low,
    InRange,
    High,
    VeryHigh,
}

/// Where one reading stands against the patient's policy: below hypo level 2 is very low, below
/// hypo level 1 (capillary, or CGM for interstitial glucose: a sensor's history or a flash
/// scan) or the target's low bound is low, above the hyper threshold is very high, above the
/// target's high bound (with gestational targets: the one of the reading's meal context) is high.
pub fn zone(policy: &AlertPolicy, level: Level, interstitial: bool, context: MealContext) -> Zone {
    let l1 = if interstitial {
        policy.hypo_l1_cgm_mg_dl
    } else {
        policy.hypo_l1_mg_dl
    };
    let high = match (policy.gestational, context) {
        (Some(g), MealContext::Fasting) => g.fasting_max_mg_dl,
        (Some(g), MealContext::AfterMeal1h) => g.after_1h_max_mg_dl,
        (Some(g), MealContext::AfterMeal2h) => g.after_2h_max_mg_dl,
        _ => policy.target.high_mg_dl,
    };
    if level.below(policy.hypo_l2_mg_dl) {
        Zone::VeryLow
    } else if level.below(l1) || level.below(policy.target.low_mg_dl) {
        Zone::Low
    } else if level.above(policy.hyper_mg_dl) {
        Zone::VeryHigh
    } else if level.above(high) {
        Zone::High
    } else {
        Zone::InRange
    }
}

/// The CGM trend arrow, in the rate bands CGM makers use (mg/dL per minute: under 1 stable,
/// 1–2 slowly, 2–3 rising/falling, over 3 fast).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    pub direction: Direction,
    pub mg_dl_per_min: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    FallingFast,
    Falling,
    FallingSlowly,
    Stable,
    RisingSlowly,
    Rising,
    RisingFast,
}

/// The trend over the CGM readings of the 15 minutes up to the last one (least-squares slope), or
/// `None` when the last reading is not CGM, or there are fewer than 3 numeric readings spanning at
/// least 10 minutes (an arrow from two points would swing with sensor noise).
pub fn trend(points: &[GlucosePoint]) -> Option<Trend> {
    let last = points.last().filter(|p| p.cgm)?;
    let since = last.at - TimeDelta::minutes(15);
    let xy: Vec<(f64, f64)> = points
        .iter()
        .rev()
        .take_while(|p| p.at >= since)
        .filter(|p| p.cgm)
        .filter_map(|p| {
            let v = p.level.mg_dl()?;
            Some(((p.at - last.at).num_seconds() as f64 / 60.0, v))
        })
        .collect();
    let span = xy.iter().map(|p| p.0).fold(0.0_f64, f64::min).abs();
    if xy.len() < 3 || span < 10.0 {
        return None;
    }
    let n = xy.len() as f64;
    let mx = xy.iter().map(|p| p.0).sum::<f64>() / n;
    let my = xy.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let rate = sxy / sxx;
    let direction = match rate {
        r if r > 3.0 => Direction::RisingFast,
        r if r > 2.0 => Direction::Rising,
        r if r >= 1.0 => Direction::RisingSlowly,
        r if r < -3.0 => Direction::FallingFast,
        r if r < -2.0 => Direction::Falling,
        r if r <= -1.0 => Direction::FallingSlowly,
        _ => Direction::Stable,
    };
    Some(Trend {
        direction,
        mg_dl_per_min: rate,
    })
}

#[cfg(test)]
mod tests;
