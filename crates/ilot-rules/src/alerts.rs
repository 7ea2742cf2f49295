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
//!   episode rules are [`crate::episodes`]'. The kind is the most serious level the episode
//!   *reached as an episode of its own*: [`AlertKind::SevereHypo`] when an episode below
//!   `severe_mg_dl` (default: level 2, so by default every level-2 episode is severe) shares a
//!   reading with it, else [`AlertKind::HypoL2`] when an episode below `hypo_l2_mg_dl` does, else
//!   [`AlertKind::HypoL1`]. With CGM a level therefore needs its own 15 minutes below its
//!   threshold (the consensus defines level 2 as an episode, not a reading): one reading at 50 in
//!   a CGM low whose next readings are back at 60 is level 1 (its nadir is still shown). A
//!   capillary reading is a measurement: one below 54 is level 2. The key does not name the
//!   level, so an episode that deepens keeps its key and the stored alert is escalated, not
//!   duplicated.
//! - Reported hypos (SPEC §3): a glucose reported with the hypo counts like a capillary reading
//!   at that time (it can open, deepen or close an episode). A report is part of an episode when
//!   its glucose is one of the episode's readings or it was made from 30 minutes before the
//!   episode to 30 minutes after its end. A report that someone had to help (level 3) makes the
//!   episode it is part of severe; outside every episode it is its own severe alert, keyed by the
//!   report's time. Every report counts towards "repeated hypos", once: a report that is part of
//!   an episode is that episode's event.
//! - Hyper: one alert per episode above `hyper_mg_dl`, with a ketone check in the advice when the
//!   policy suggests it (type 1).
//! - Out of target (info): one alert per episode of readings outside the prescription's range —
//!   or, with gestational targets, above the maximum for the reading's meal context (fasting,
//!   1 h and 2 h after a meal; other contexts use the range's high bound) or below the range's
//!   low bound. An out-of-target episode all of whose readings belong to hypo or hyper episodes
//!   is dropped: the more serious alert already speaks for those readings (no storm). One that
//!   lasts beyond them (two hours at 200 around twenty minutes at 260) is raised too, as info:
//!   the hyper alert does not say that the patient spent two hours out of target.
//! - Repeated hypos: hypo events (episodes of any level, reports) whose start lies in the trailing
//!   `repeated_hypos_days` × 24 h. One alert per cluster: raised by the episode that brings the
//!   count to `repeated_hypos_count`, ended when the count falls below it again; the next alert
//!   needs a new cluster. Its readings are each episode's nadir.
//! - TBR over target (CGM readings only): at each local day end, the share of CGM readings below
//!   `tbr_threshold_mg_dl` over the 14 local days ending there; raised when strictly above
//!   `tbr_max_percent` and the window holds the data a consensus report needs (SPEC §3: 14 days
//!   with CGM active at least 70 % of the time, readings × the sensor's detected interval), so
//!   the alert never says what the report would call insufficient data. One alert per run of
//!   days.
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

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{AlertPolicy, Prescription};
use serde::Serialize;

use crate::episodes::CGM_MAX_GAP;
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
    // A reported hypo's glucose counts like a capillary reading at that time (SPEC §3).
    let glucose = with_reported_values(data.glucose, data.hypo_reports);
    let hypos = runs(&glucose, Side::Low, |p| {
        p.level.below(hypo_threshold(policy, p))
    });
    let hypers = runs(&glucose, Side::High, |p| p.level.above(policy.hyper_mg_dl));
    let levels = Levels {
        level2: members(&runs(&glucose, Side::Low, |p| {
            p.level.below(policy.hypo_l2_mg_dl)
        })),
        severe: members(&runs(&glucose, Side::Low, |p| {
            p.level.below(policy.severe_mg_dl)
        })),
    };
    let reports = data.hypo_reports;

    let mut alerts: Vec<Alert> = Vec::new();
    alerts.extend(
        hypos
            .iter()
            .map(|r| hypo_alert(policy, r, &levels, reports)),
    );
    alerts.extend(severe_reports(policy, reports, &hypos));
    alerts.extend(hypers.iter().map(|r| hyper_alert(policy, r)));
    alerts.extend(out_of_target(policy, &glucose, &hypos, &hypers));
    alerts.extend(repeated::repeated_hypos(
        policy,
        &hypo_events(&hypos, reports),
        now,
    ));
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

/// The level-1 threshold for interstitial glucose (a sensor's history or a flash scan) or for a
/// capillary/lab reading; the episode rule is another matter (a scan is a point reading).
fn hypo_threshold(policy: &AlertPolicy, p: &GlucosePoint) -> f64 {
    if p.cgm || p.scan {
        policy.hypo_l1_cgm_mg_dl
    } else {
        policy.hypo_l1_mg_dl
    }
}

/// Readings of the level-2 and severe episodes: a hypo episode takes a level only when an
/// episode below that level's threshold shares a reading with it, so a CGM episode is level 2
/// only after its own 15 minutes below 54 (a capillary reading below 54 is level 2 by itself).
struct Levels {
    level2: HashSet<EntryRef>,
    severe: HashSet<EntryRef>,
}

fn members(runs: &[Run]) -> HashSet<EntryRef> {
    runs.iter()
        .flat_map(|r| r.readings.iter().copied())
        .collect()
}

/// The glucose readings with each reported hypo's value as a capillary reading, sorted by time;
/// borrowed when no report carries a value.
fn with_reported_values<'a>(
    glucose: &'a [GlucosePoint],
    reports: &[HypoReport],
) -> Cow<'a, [GlucosePoint]> {
    let extra: Vec<GlucosePoint> = reports.iter().filter_map(HypoReport::as_point).collect();
    if extra.is_empty() {
        return Cow::Borrowed(glucose);
    }
    let mut all = Vec::with_capacity(glucose.len() + extra.len());
    all.extend_from_slice(glucose);
    all.extend(extra);
    // Stable: at equal times the stored reading comes first.
    all.sort_by_key(|p| p.at);
    Cow::Owned(all)
}

/// Whether a report is part of a hypo episode: its glucose is one of the episode's readings, or
/// it was made from [`CGM_MAX_GAP`] before the episode to [`CGM_MAX_GAP`] after its end (or
/// last low reading), as a patient logs a hypo while or just after treating it.
fn reported_in(run: &Run, report: &HypoReport) -> bool {
    let until = run.end.map_or(run.last_at, |e| e.max(run.last_at));
    run.readings.contains(&report.id)
        || (run.start - CGM_MAX_GAP <= report.at && report.at <= until + CGM_MAX_GAP)
}

fn hypo_alert(policy: &AlertPolicy, run: &Run, levels: &Levels, reports: &[HypoReport]) -> Alert {
    let reached = |set: &HashSet<EntryRef>| run.readings.iter().any(|id| set.contains(id));
    let helped = reports.iter().any(|r| r.needed_help && reported_in(run, r));
    let (kind, advice) = if helped || reached(&levels.severe) {
        (AlertKind::SevereHypo, advice::HYPO_SEVERE)
    } else if reached(&levels.level2) {
        (AlertKind::HypoL2, advice::HYPO_RESUGAR)
    } else {
        (AlertKind::HypoL1, advice::HYPO_RESUGAR)
    };
    episode_alert(kind, key("hypo", run.start), policy, advice, run)
}

/// Every hypo event for "repeated hypos": each episode (at its start, named by its nadir) and
/// each report that is not part of an episode (SPEC §3: a report counts, with or without a value).
fn hypo_events(hypos: &[Run], reports: &[HypoReport]) -> Vec<(DateTime<Utc>, EntryRef)> {
    hypos
        .iter()
        .map(|r| (r.start, r.extreme_id))
        .chain(
            reports
                .iter()
                .filter(|rep| !hypos.iter().any(|run| reported_in(run, rep)))
                .map(|rep| (rep.at, rep.id)),
        )
        .collect()
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

/// A report that someone had to help (level 3) outside every hypo episode is its own severe
/// alert; inside one, it makes that episode's alert severe instead (one alert per event).
fn severe_reports<'a>(
    policy: &'a AlertPolicy,
    reports: &'a [HypoReport],
    hypos: &'a [Run],
) -> impl Iterator<Item = Alert> + 'a {
    reports
        .iter()
        .filter(|r| r.needed_help && !hypos.iter().any(|run| reported_in(run, r)))
        .map(|r| Alert {
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
    let covered: HashSet<EntryRef> = hypos
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
        .filter(|(r, _)| !r.readings.iter().all(|id| covered.contains(id)))
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
