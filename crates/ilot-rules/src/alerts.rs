//! Alerts (SPEC §2–3): what the device — and, for "no data", the server — raises from the
//! readings, the patient's alert policy and `now`, each with its severity and an advice key for
//! the UI's i18n catalogue.
//!
//! Findings are data: [`evaluate`] returns every alert the data supports, with a deterministic
//! [`Alert::key`] so that re-evaluating the same data yields the same keys and the store or the
//! server keeps one alert per episode. This module decides nothing about delivery (notifications,
//! triage) and never reads a clock. Every threshold comes from [`AlertPolicy`]; none is written
//! here.
//!
//! Decisions (product rules where the SPEC is silent):
//! - Hypo: one alert per hypo episode below level 1, where a capillary reading is judged against
//!   the capillary threshold and a CGM reading against the CGM one (gestational: 60 vs 63). The
//!   episode rules are [`crate::episodes`]'. The kind is the most serious the nadir reached:
//!   [`AlertKind::SevereHypo`] below `severe_mg_dl` (default: level 2, so by default every level-2
//!   nadir is severe), else [`AlertKind::HypoL2`] below `hypo_l2_mg_dl`, else
//!   [`AlertKind::HypoL1`]. The key does not name the level, so an episode that deepens keeps its
//!   key and the stored alert is escalated, not duplicated.
//! - A patient's report that someone had to help (level 3) is its own severe alert, keyed by the
//!   report's time. Reports without help raise nothing (the patient already knows) and, like
//!   reports in general, are not counted as episodes.
//! - Hyper: one alert per episode above `hyper_mg_dl`, with a ketone check in the advice when the
//!   policy suggests it (type 1).
//! - Out of target (info): one alert per episode of readings outside the prescription's range —
//!   or, with gestational targets, above the maximum for the reading's meal context (fasting,
//!   1 h and 2 h after a meal; other contexts use the range's high bound) or below the range's
//!   low bound. An out-of-target episode that shares a reading with a hypo or hyper alert is
//!   dropped: the more serious alert already speaks for those readings (no storm).
//! - Repeated hypos: hypo episodes (any level) whose start lies in the trailing
//!   `repeated_hypos_days` × 24 h. One alert per cluster: raised by the episode that brings the
//!   count to `repeated_hypos_count`, ended when the count falls below it again; the next alert
//!   needs a new cluster. Its readings are each episode's nadir.
//! - TBR over target (CGM readings only): at each local day end, the share of CGM readings below
//!   `tbr_threshold_mg_dl` over the 14 local days ending there; raised when strictly above
//!   `tbr_max_percent` and the window holds at least 24 h of readings at the prescribed interval
//!   (a sensor's first hours must not raise a 14-day verdict). One alert per run of days.
//! - No data: `now − last_data_at ≥ no_data_hours`; see [`no_data`]. Raised by the server (the
//!   device cannot report its own silence), keyed by `last_data_at`.
//! - Missed insulin: for each prescribed basal time on each local day, a basal (or mixed) dose
//!   logged within ± `missed_insulin_grace_hours` of the due time; otherwise an info alert once
//!   the grace has passed, keyed by the local date and time.
//! - Day-based rules (TBR, missed insulin) look at local days from `days_from` (and not before
//!   the prescription's start, nor after its end): the caller says from when its data is complete
//!   and the current basal schedule applies. Episode-based rules use all the data given.

mod days;
mod marked;
mod repeated;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{AlertPolicy, Prescription};
use serde::Serialize;

use crate::input::{Data, EntryRef, GlucosePoint, HypoReport, Level};
use marked::{Run, Side, runs};

/// What an alert is about; each kind has one severity and one raiser (SPEC §3 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    HypoL1,
    HypoL2,
    SevereHypo,
    Hyper,
    OutOfTarget,
    RepeatedHypos,
    TbrOverTarget,
    NoData,
    MissedInsulin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Urgent,
}

/// Who raises the alert (SPEC §3 table): the patient's device, the operator server, or both with
/// the same code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RaisedBy {
    Device,
    Server,
    Both,
}

impl AlertKind {
    pub fn severity(self) -> Severity {
        match self {
            Self::HypoL2 | Self::SevereHypo => Severity::Urgent,
            Self::HypoL1
            | Self::Hyper
            | Self::RepeatedHypos
            | Self::TbrOverTarget
            | Self::NoData => Severity::Warning,
            Self::OutOfTarget | Self::MissedInsulin => Severity::Info,
        }
    }

    pub fn raised_by(self) -> RaisedBy {
        match self {
            Self::RepeatedHypos | Self::TbrOverTarget => RaisedBy::Both,
            Self::NoData => RaisedBy::Server,
            _ => RaisedBy::Device,
        }
    }
}

/// i18n keys of the advice shown with alerts; the UI catalogue must translate every one.
pub mod advice {
    /// 15 g of fast sugar (3 sugar cubes or 150 mL of fruit juice), re-check after 15 minutes,
    /// repeat while still low (SPEC §3).
    pub const HYPO_RESUGAR: &str = "advice.hypo.resugar";
    /// Glucagon, and call 15 (SAMU).
    pub const HYPO_SEVERE: &str = "advice.hypo.severe";
    /// Several hypos in a few days: talk to the care team about the treatment.
    pub const HYPO_REPEATED: &str = "advice.hypo.repeated";
    /// Drink water, check again; correct as the care team taught.
    pub const HYPER: &str = "advice.hyper";
    /// As [`HYPER`], and check ketones (type 1).
    pub const HYPER_KETONES: &str = "advice.hyper.ketones";
    pub const OUT_OF_TARGET: &str = "advice.out-of-target";
    /// Too much time low over 14 days: the care team will review the treatment.
    pub const TBR: &str = "advice.tbr";
    /// Nothing received: open the app, check the network and the meter; not an emergency service.
    pub const NO_DATA: &str = "advice.no-data";
    /// A basal dose was not logged: log it if taken; otherwise follow the plan, never double up.
    pub const INSULIN_MISSED: &str = "advice.insulin.missed";

    pub const ALL: &[&str] = &[
        HYPO_RESUGAR,
        HYPO_SEVERE,
        HYPO_REPEATED,
        HYPER,
        HYPER_KETONES,
        OUT_OF_TARGET,
        TBR,
        NO_DATA,
        INSULIN_MISSED,
    ];
}

/// One alert. `key` is deterministic: the same data gives the same key, so storing by key keeps
/// one alert per episode (or cluster, run of days, silence, due dose).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub severity: Severity,
    pub raised_by: RaisedBy,
    pub key: String,
    pub started_at: DateTime<Utc>,
    /// `None` while it lasts (episode still open, cluster or run still holding, silence ongoing).
    /// A reported hypo ends when reported; a missed dose when its grace window closed.
    pub ended_at: Option<DateTime<Utc>>,
    /// The entries behind it (episode readings, report, nadirs of a cluster); empty for TBR,
    /// no data and missed insulin.
    pub readings: Vec<EntryRef>,
    /// Nadir or peak of a glucose episode.
    pub extreme: Option<Level>,
    /// TBR: the highest 14-day percentage during the run.
    pub percent: Option<f64>,
    /// Repeated hypos: the most episodes in one window during the cluster.
    pub count: Option<u32>,
    /// Version of the policy that produced it.
    pub policy_version: u32,
    pub advice: &'static str,
}

impl Alert {
    fn new(
        kind: AlertKind,
        key: String,
        started_at: DateTime<Utc>,
        policy: &AlertPolicy,
        advice: &'static str,
    ) -> Self {
        Self {
            kind,
            severity: kind.severity(),
            raised_by: kind.raised_by(),
            key,
            started_at,
            ended_at: None,
            readings: Vec::new(),
            extreme: None,
            percent: None,
            count: None,
            policy_version: policy.version,
            advice,
        }
    }
}

/// Key of an alert: a family name and an instant, stable across re-evaluations.
fn key(family: &str, at: DateTime<Utc>) -> String {
    format!("{family}@{}", at.format("%Y-%m-%dT%H:%M:%SZ"))
}

/// Every alert the data supports at `now`, sorted by start (then key). `data`'s slices must be
/// sorted by time; `tz` gives the local days; `last_data_at` is the latest data the caller knows
/// of (see [`no_data`]); `days_from` is the first local day the day-based rules look at.
pub fn evaluate(
    prescription: &Prescription,
    tz: Tz,
    data: &Data,
    last_data_at: Option<DateTime<Utc>>,
    days_from: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<Alert> {
    let policy = &prescription.policy;
    let hypos = runs(data.glucose, Side::Low, |p| {
        p.level.below(hypo_threshold(policy, p))
    });
    let hypers = runs(data.glucose, Side::High, |p| {
        p.level.above(policy.hyper_mg_dl)
    });

    let mut alerts: Vec<Alert> = Vec::new();
    alerts.extend(hypos.iter().map(|r| hypo_alert(policy, r)));
    alerts.extend(severe_reports(policy, data.hypo_reports));
    alerts.extend(hypers.iter().map(|r| hyper_alert(policy, r)));
    alerts.extend(out_of_target(policy, data.glucose, &hypos, &hypers));
    alerts.extend(repeated::repeated_hypos(policy, &hypos, now));
    let from = days_from.max(prescription.start);
    alerts.extend(days::tbr_over_target(
        prescription,
        tz,
        data.glucose,
        from,
        now,
    ));
    alerts.extend(days::missed_insulin(
        prescription,
        tz,
        data.insulin,
        from,
        now,
    ));
    alerts.extend(no_data(policy, last_data_at, now));
    alerts.sort_by(|a, b| (a.started_at, &a.key).cmp(&(b.started_at, &b.key)));
    alerts
}

/// The "no data transmitted" alert (SPEC §2: cannot be disabled), for the server, which runs the
/// same code as the device. Raised once `now − last_data_at ≥ no_data_hours`; it starts when the
/// silence reached that length and lasts until data arrives (a new `last_data_at`, a new key).
/// `None` for `last_data_at` raises nothing: pass the enrolment time when nothing ever came.
pub fn no_data(
    policy: &AlertPolicy,
    last_data_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Alert> {
    let last = last_data_at?;
    // Even a policy that skipped validation keeps the alert: 0 hours would mean "always".
    let after = TimeDelta::hours(i64::from(policy.no_data_hours.max(1)));
    let due = last + after;
    (now >= due).then(|| {
        Alert::new(
            AlertKind::NoData,
            key("no-data", last),
            due,
            policy,
            advice::NO_DATA,
        )
    })
}

fn hypo_threshold(policy: &AlertPolicy, p: &GlucosePoint) -> f64 {
    if p.cgm {
        policy.hypo_l1_cgm_mg_dl
    } else {
        policy.hypo_l1_mg_dl
    }
}

fn hypo_alert(policy: &AlertPolicy, run: &Run) -> Alert {
    let (kind, advice) = if run.extreme.below(policy.severe_mg_dl) {
        (AlertKind::SevereHypo, advice::HYPO_SEVERE)
    } else if run.extreme.below(policy.hypo_l2_mg_dl) {
        (AlertKind::HypoL2, advice::HYPO_RESUGAR)
    } else {
        (AlertKind::HypoL1, advice::HYPO_RESUGAR)
    };
    episode_alert(kind, key("hypo", run.start), policy, advice, run)
}

fn hyper_alert(policy: &AlertPolicy, run: &Run) -> Alert {
    let advice = if policy.suggest_ketones {
        advice::HYPER_KETONES
    } else {
        advice::HYPER
    };
    episode_alert(
        AlertKind::Hyper,
        key("hyper", run.start),
        policy,
        advice,
        run,
    )
}

fn episode_alert(
    kind: AlertKind,
    key: String,
    policy: &AlertPolicy,
    advice: &'static str,
    run: &Run,
) -> Alert {
    Alert {
        ended_at: run.end,
        readings: run.readings.clone(),
        extreme: Some(run.extreme),
        ..Alert::new(kind, key, run.start, policy, advice)
    }
}

fn severe_reports<'a>(
    policy: &'a AlertPolicy,
    reports: &'a [HypoReport],
) -> impl Iterator<Item = Alert> + 'a {
    reports.iter().filter(|r| r.needed_help).map(|r| Alert {
        ended_at: Some(r.at),
        readings: vec![r.id],
        ..Alert::new(
            AlertKind::SevereHypo,
            key("hypo-report", r.at),
            r.at,
            policy,
            advice::HYPO_SEVERE,
        )
    })
}

/// Upper bound of the target for one reading: by meal context with gestational targets.
fn target_high(policy: &AlertPolicy, p: &GlucosePoint) -> f64 {
    use ilot_domain::MealContext;
    match (policy.gestational, p.context) {
        (Some(g), MealContext::Fasting) => g.fasting_max_mg_dl,
        (Some(g), MealContext::AfterMeal1h) => g.after_1h_max_mg_dl,
        (Some(g), MealContext::AfterMeal2h) => g.after_2h_max_mg_dl,
        _ => policy.target.high_mg_dl,
    }
}

fn out_of_target(
    policy: &AlertPolicy,
    points: &[GlucosePoint],
    hypos: &[Run],
    hypers: &[Run],
) -> Vec<Alert> {
    let covered: std::collections::HashSet<EntryRef> = hypos
        .iter()
        .chain(hypers)
        .flat_map(|r| r.readings.iter().copied())
        .collect();
    let low = runs(points, Side::Low, |p| {
        p.level.below(policy.target.low_mg_dl)
    });
    let high = runs(points, Side::High, |p| {
        p.level.above(target_high(policy, p))
    });
    low.iter()
        .map(|r| (r, "out-of-target-low"))
        .chain(high.iter().map(|r| (r, "out-of-target-high")))
        .filter(|(r, _)| !r.readings.iter().any(|id| covered.contains(id)))
        .map(|(r, family)| {
            episode_alert(
                AlertKind::OutOfTarget,
                key(family, r.start),
                policy,
                advice::OUT_OF_TARGET,
                r,
            )
        })
        .collect()
}
