//! Flash sensors: scans (read on demand) are distinct from the sensor's stored history. A flash
//! prescription's observance counts scans only (SPEC §2: 4 scans a day); the metrics count the
//! history and leave out a scan it already covers; a scan below a threshold is a point reading,
//! like a capillary one, judged against the interstitial (CGM) threshold.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use ilot_domain::{DiabetesType, MealContext, Monitoring, PatientProfile, Prescription};
use ilot_rules::alerts::{AlertKind, evaluate};
use ilot_rules::metrics::{Ranges, Window, metrics};
use ilot_rules::observance::{PeriodStatus, observance};
use ilot_rules::{Data, GlucosePoint, Level};

/// Type 1 on a flash sensor from 2026-01-10: 4 scans expected a day. The insulin expectation is
/// set aside (0 a day) so that each case measures the glucose count alone.
fn flash() -> Prescription {
    let mut p = Prescription::new(
        DiabetesType::Type1,
        Monitoring::Flash,
        4,
        NaiveDate::from_ymd_opt(2026, 1, 10).unwrap(),
    );
    p.expected_insulin_per_day = 0;
    p
}

#[derive(Clone, Copy, PartialEq)]
enum What {
    History,
    Scan,
    Capillary,
}

fn point(id: usize, at: DateTime<Utc>, mg_dl: f64, what: What) -> GlucosePoint {
    GlucosePoint {
        id: id as u64,
        at,
        level: Level::MgDl(mg_dl),
        cgm: what == What::History,
        scan: what == What::Scan,
        context: MealContext::Other,
    }
}

/// `per_day` readings of one kind evenly spread over each local day of `days` days from
/// 2026-01-10 (96 a day is a 15-minute history).
fn readings(days: u64, per_day: u32, what: What) -> Vec<GlucosePoint> {
    let first = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
    let step = 1440 / per_day;
    let mut out = Vec::new();
    for k in 0..days {
        let day = first + Days::new(k);
        let midnight = Paris
            .from_local_datetime(&day.and_time(NaiveTime::MIN))
            .unwrap()
            .to_utc();
        for r in 0..per_day {
            let at = midnight + TimeDelta::minutes(i64::from(step * r + 7));
            out.push(point(out.len(), at, 120.0, what));
        }
    }
    out
}

fn period_one(glucose: &[GlucosePoint]) -> ilot_rules::observance::Period {
    let data = Data {
        glucose,
        ..Default::default()
    };
    let now = "2026-03-01T12:00:00Z".parse().unwrap();
    observance(&flash(), &PatientProfile::new("p"), &data, now)
        .periods
        .remove(0)
}

#[test]
fn a_full_sensor_history_without_scans_is_insufficient() {
    let p = period_one(&readings(30, 96, What::History));
    assert_eq!(p.glucose, 30 * 96);
    assert_eq!(p.scans, Some(0));
    assert_eq!((p.received, p.expected), (0, 120.0));
    assert_eq!(
        p.status,
        PeriodStatus::Insufficient,
        "data arrived (not interrupted), but no scans"
    );
}

#[test]
fn four_scans_a_day_without_history_are_sufficient() {
    let p = period_one(&readings(30, 4, What::Scan));
    assert_eq!((p.scans, p.received, p.ratio), (Some(120), 120, 1.0));
    assert_eq!(p.status, PeriodStatus::Complete);
    // Two a day are exactly half: still sufficient; one a day is not.
    assert_eq!(
        period_one(&readings(30, 2, What::Scan)).status,
        PeriodStatus::Complete
    );
    assert_eq!(
        period_one(&readings(30, 1, What::Scan)).status,
        PeriodStatus::Insufficient
    );
}

#[test]
fn capillary_readings_are_not_scans_for_a_flash_prescription() {
    let mut glucose = readings(30, 96, What::History);
    glucose.extend(readings(30, 4, What::Capillary));
    glucose.sort_by_key(|g| g.at);
    let p = period_one(&glucose);
    assert_eq!((p.glucose, p.scans, p.received), (30 * 100, Some(0), 0));
    assert_eq!(p.status, PeriodStatus::Insufficient);
}

#[test]
fn a_capillary_prescription_still_counts_every_glucose_reading() {
    let mut p = flash();
    p.monitoring = Monitoring::Capillary;
    let glucose = readings(30, 4, What::Scan);
    let data = Data {
        glucose: &glucose,
        ..Default::default()
    };
    let now = "2026-03-01T12:00:00Z".parse().unwrap();
    let o = observance(&p, &PatientProfile::new("p"), &data, now);
    assert_eq!((o.periods[0].scans, o.periods[0].received), (None, 120));
}

/// One day of 15-minute history at 120 mg/dL with a two-hour gap (10:00–12:00 UTC), plus a scan
/// at 60 mg/dL `at_minute` after midnight UTC.
fn day_with_scan(at_minute: i64) -> Vec<GlucosePoint> {
    let t0: DateTime<Utc> = "2026-01-10T00:00:00Z".parse().unwrap();
    let mut pts: Vec<GlucosePoint> = (0..96)
        .map(|k| k * 15)
        .filter(|m| !(600..720).contains(m))
        .map(|m| point(m as usize, t0 + TimeDelta::minutes(m), 120.0, What::History))
        .collect();
    pts.push(point(
        9999,
        t0 + TimeDelta::minutes(at_minute),
        60.0,
        What::Scan,
    ));
    pts.sort_by_key(|p| p.at);
    pts
}

#[test]
fn a_scan_the_history_covers_is_not_counted_twice_in_the_metrics() {
    let window = Window::new(
        "2026-01-10T00:00:00Z".parse().unwrap(),
        "2026-01-11T00:00:00Z".parse().unwrap(),
    );
    // 07:07, between history readings at 07:00 and 07:15: the history stands for that moment.
    let covered = metrics(&day_with_scan(7 * 60 + 7), window, &Ranges::consensus());
    assert_eq!(covered.n_readings, 88);
    assert_eq!(covered.below_70_percent, Some(0.0));
    assert_eq!(covered.mean_mg_dl, Some(120.0));
    // Still a measurement the patient saw: it makes a hypo episode.
    assert_eq!(covered.hypo_level1_episodes, 1);
    // 11:00, in the history's two-hour gap: the scan is the only reading there, and counts.
    let in_gap = metrics(&day_with_scan(11 * 60), window, &Ranges::consensus());
    assert_eq!(in_gap.n_readings, 89);
    assert_eq!(in_gap.below_70_percent, Some(100.0 / 89.0));
    // The AGP leaves the covered scan out of its bins the same way.
    let agp = |pts: &[GlucosePoint]| {
        ilot_rules::agp::agp(pts, window, chrono_tz::UTC, 60)
            .bins
            .iter()
            .map(|b| b.n)
            .sum::<usize>()
    };
    assert_eq!(agp(&day_with_scan(7 * 60 + 7)), 88);
    assert_eq!(agp(&day_with_scan(11 * 60)), 89);
}

#[test]
fn a_low_scan_is_a_point_reading_judged_on_the_interstitial_threshold() {
    // Gestational: level 1 is < 63 for interstitial glucose and < 60 for capillary.
    let mut p = flash();
    p.diabetes_type = DiabetesType::GestationalInsulin;
    p.policy =
        ilot_domain::AlertPolicy::defaults(DiabetesType::GestationalInsulin, Monitoring::Flash);
    assert_eq!(
        (p.policy.hypo_l1_cgm_mg_dl, p.policy.hypo_l1_mg_dl),
        (63.0, 60.0)
    );
    let now: DateTime<Utc> = "2026-01-10T12:00:00Z".parse().unwrap();
    let hypos = |what: What| {
        let pts = [
            point(1, now - TimeDelta::minutes(60), 120.0, what),
            point(2, now - TimeDelta::minutes(30), 62.0, what),
            point(3, now - TimeDelta::minutes(5), 120.0, what),
        ];
        let data = Data {
            glucose: &pts,
            ..Default::default()
        };
        evaluate(&p, Paris, &data, None, p.start, now)
            .into_iter()
            .filter(|a| a.kind == AlertKind::HypoL1)
            .map(|a| a.readings)
            .collect::<Vec<_>>()
    };
    // One scan at 62 is an episode by itself (a measurement, no 15 minutes needed)…
    assert_eq!(hypos(What::Scan), [vec![2]]);
    // …where a finger prick at 62 is above the capillary threshold.
    assert!(hypos(What::Capillary).is_empty());
}
