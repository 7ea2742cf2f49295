//! Charts and observance: the consensus metrics and AGP over a window, one day's readings, the
//! 30-day observance periods, and the prescription's thresholds (read-only for the patient).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{EntryKind, Prescription};
use ilot_rules::metrics::{self, Metrics, Window};
use ilot_rules::observance::{self, Observance};
use serde::Serialize;
use tauri::State;

use crate::error::{Error, Result};
use crate::gather;
use crate::state::{self, AppState};
use crate::views::Reading;

#[derive(Debug, Serialize)]
pub struct Target {
    pub low_mg_dl: f64,
    pub high_mg_dl: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub days: u32,
    pub tz: Tz,
    pub metrics: Metrics,
    pub agp: Vec<ilot_rules::chart::AgpPoint>,
    pub target: Target,
}

/// Metrics and AGP over the `days` (1–365) up to now.
#[tauri::command]
pub fn report(state: State<'_, AppState>, days: u32) -> Result<Report> {
    report_at(&state, days, Utc::now())
}

pub fn report_at(state: &AppState, days: u32, now: DateTime<Utc>) -> Result<Report> {
    let days = days.clamp(1, 365);
    let store = state.store()?;
    let (tz, _) = state::tz_and_unit(&store)?;
    let (prescription, _) = gather::prescription_or_default(&store, tz, now)?;
    let window = Window::new(now - TimeDelta::days(i64::from(days)), now);
    let points = store.glucose_points(Some(window.from), Some(window.to))?;
    let ranges = ilot_rules::assumed::ranges(Some(&prescription));
    let m = metrics::metrics(&points, window, &ranges);
    let agp = ilot_rules::agp::agp(&points, window, tz, ilot_rules::assumed::AGP_BIN_MINUTES);
    let agp = ilot_rules::chart::agp_points(agp);
    Ok(Report {
        from: window.from,
        to: window.to,
        days,
        tz,
        metrics: m,
        agp,
        target: Target {
            low_mg_dl: prescription.policy.target.low_mg_dl,
            high_mg_dl: prescription.policy.target.high_mg_dl,
        },
    })
}

#[derive(Debug, Serialize)]
pub struct DayPoint {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub reading: Reading,
    pub cgm: bool,
}

#[derive(Debug, Serialize)]
pub struct DayEvent {
    pub at: DateTime<Utc>,
    /// `insulin`, `carbs`, `hypo`, `activity`.
    pub kind: &'static str,
    /// Units of insulin, grams of carbohydrates, minutes of activity.
    pub amount: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct DayView {
    pub date: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub tz: Tz,
    pub glucose: Vec<DayPoint>,
    pub events: Vec<DayEvent>,
    pub target: Target,
}

/// One local day's readings and events (default: today).
#[tauri::command]
pub fn day(state: State<'_, AppState>, date: Option<NaiveDate>) -> Result<DayView> {
    let now = Utc::now();
    let store = state.store()?;
    let (tz, _) = state::tz_and_unit(&store)?;
    let (prescription, _) = gather::prescription_or_default(&store, tz, now)?;
    let date = date.unwrap_or_else(|| now.with_timezone(&tz).date_naive());
    let from = observance::local_midnight(tz, date);
    let next = date
        .succ_opt()
        .ok_or_else(|| Error::input("bad-date", "no day after this one"))?;
    let to = observance::local_midnight(tz, next);
    let glucose = store
        .glucose_points(Some(from), Some(to))?
        .into_iter()
        .map(|p| DayPoint {
            at: p.at,
            reading: p.level.into(),
            cgm: p.cgm,
        })
        .collect();
    let mut events = Vec::new();
    for kind in ["insulin", "carbs", "hypo", "activity"] {
        for s in store.entries(Some(from), Some(to), Some(kind), false)? {
            let amount = match &s.entry.kind {
                EntryKind::Insulin(d) => Some(d.units()),
                EntryKind::Carbs(c) => Some(c.grams()),
                EntryKind::Activity(a) => Some(f64::from(a.minutes())),
                _ => None,
            };
            events.push(DayEvent {
                at: s.entry.at_utc(),
                kind: s.entry.kind.name(),
                amount,
            });
        }
    }
    events.sort_by_key(|e| e.at);
    Ok(DayView {
        date,
        from,
        to,
        tz,
        glucose,
        events,
        target: Target {
            low_mg_dl: prescription.policy.target.low_mg_dl,
            high_mg_dl: prescription.policy.target.high_mg_dl,
        },
    })
}

#[derive(Debug, Serialize)]
pub struct PrescriptionView {
    /// `None` until the care team's prescription is recorded; the thresholds are then defaults.
    pub prescription: Option<Prescription>,
    /// The thresholds in force (the prescription's, or the defaults).
    pub policy: ilot_domain::AlertPolicy,
}

#[tauri::command]
pub fn prescription(state: State<'_, AppState>) -> Result<PrescriptionView> {
    let now = Utc::now();
    let store = state.store()?;
    let (tz, _) = state::tz_and_unit(&store)?;
    let (p, default) = gather::prescription_or_default(&store, tz, now)?;
    Ok(PrescriptionView {
        policy: p.policy.clone(),
        prescription: (!default).then_some(p),
    })
}

#[derive(Debug, Serialize)]
pub struct ObservanceView {
    pub prescription: Option<Prescription>,
    /// `None` without a prescription: periods count from its start.
    pub observance: Option<Observance>,
    pub tz: Tz,
}

#[tauri::command]
pub fn observance_view(state: State<'_, AppState>) -> Result<ObservanceView> {
    let now = Utc::now();
    let store = state.store()?;
    let profile = store.profile_or_default()?;
    let Some(p) = store.prescription()? else {
        return Ok(ObservanceView {
            prescription: None,
            observance: None,
            tz: profile.tz,
        });
    };
    let loaded = store.rules_data(None, Some(now + ilot_domain::MAX_FUTURE_SKEW))?;
    let obs = observance::observance(&p, &profile, &loaded.data(), now);
    Ok(ObservanceView {
        prescription: Some(p),
        observance: Some(obs),
        tz: profile.tz,
    })
}

/// Every reading of a span as columns, for the trend chart (90 days of CGM is ~26,000 points;
/// columns keep the message small and feed uPlot directly).
#[derive(Debug, Serialize)]
pub struct Series {
    /// Seconds since the Unix epoch.
    pub t: Vec<i64>,
    /// mg/dL; `None` for LO/HI (counted below, never given a number).
    pub mg_dl: Vec<Option<f64>>,
    pub lo: usize,
    pub hi: usize,
    pub target: Target,
}

#[tauri::command]
pub fn series(state: State<'_, AppState>, days: u32) -> Result<Series> {
    let now = Utc::now();
    let store = state.store()?;
    let (tz, _) = state::tz_and_unit(&store)?;
    let (prescription, _) = gather::prescription_or_default(&store, tz, now)?;
    let from = now - TimeDelta::days(i64::from(days.clamp(1, 365)));
    let points = store.glucose_points(Some(from), None)?;
    let mut s = Series {
        t: Vec::with_capacity(points.len()),
        mg_dl: Vec::with_capacity(points.len()),
        lo: 0,
        hi: 0,
        target: Target {
            low_mg_dl: prescription.policy.target.low_mg_dl,
            high_mg_dl: prescription.policy.target.high_mg_dl,
        },
    };
    for p in points {
        s.t.push(p.at.timestamp());
        s.mg_dl.push(p.level.mg_dl());
        match p.level {
            ilot_rules::Level::Lo => s.lo += 1,
            ilot_rules::Level::Hi => s.hi += 1,
            ilot_rules::Level::MgDl(_) => {}
        }
    }
    Ok(s)
}
