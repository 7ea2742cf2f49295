use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Europe::Paris;
use ilot_domain::{DiabetesType, MealContext, Monitoring, Prescription};

use super::*;
use crate::input::{GlucosePoint, Level};

/// Paris local time on 2026-03-10 (UTC+1).
fn at(hm: &str) -> DateTime<Utc> {
    let t = chrono::NaiveTime::parse_from_str(hm, "%H:%M").unwrap();
    NaiveDate::from_ymd_opt(2026, 3, 10)
        .unwrap()
        .and_time(t)
        .and_local_timezone(Paris)
        .unwrap()
        .with_timezone(&Utc)
}

fn capillary(per_day: f64) -> Prescription {
    let mut p = Prescription::new(
        DiabetesType::Type2Insulin,
        Monitoring::Capillary,
        4,
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
    );
    p.expected_readings_per_day = per_day;
    p
}

fn reading(hm: &str, mg_dl: f64, cgm: bool) -> GlucosePoint {
    GlucosePoint {
        id: 1,
        at: at(hm),
        level: Level::MgDl(mg_dl),
        cgm,
        scan: false,
        context: MealContext::Other,
    }
}

#[test]
fn a_low_fingerstick_asks_for_a_recheck_after_15_minutes_until_it_lapses() {
    let p = capillary(4.0);
    let g = [
        reading("08:00", 120.0, false),
        reading("10:00", 62.0, false),
    ];
    assert!(
        due(&p, Paris, &g, at("10:14")).is_empty(),
        "not before 15 min"
    );
    let r = due(&p, Paris, &g, at("10:15"));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].due_at, at("10:15"));
    assert_eq!(
        r[0].kind,
        ReminderKind::Recheck {
            reading_at: at("10:00")
        }
    );
    assert_eq!(r[0].key, format!("recheck:{}", at("10:00").timestamp()));
    // Same key when evaluated again: shown once by the caller.
    assert_eq!(due(&p, Paris, &g, at("11:00"))[0].key, r[0].key);
    assert!(
        due(&p, Paris, &g, at("12:00")).is_empty(),
        "lapses after 2 h"
    );
}

#[test]
fn a_new_reading_ends_the_recheck_and_a_lo_counts_as_low() {
    let p = capillary(4.0);
    let rechecked = [reading("10:00", 62.0, false), reading("10:16", 95.0, false)];
    assert!(due(&p, Paris, &rechecked, at("10:30")).is_empty());
    let lo = [GlucosePoint {
        level: Level::Lo,
        ..reading("10:00", 0.0, false)
    }];
    assert_eq!(due(&p, Paris, &lo, at("10:20")).len(), 1);
}

#[test]
fn the_threshold_is_the_policy_s_capillary_level_1_and_cgm_needs_no_reminder() {
    let p = capillary(4.0);
    let l1 = p.policy.hypo_l1_mg_dl;
    assert!(
        due(&p, Paris, &[reading("10:00", l1, false)], at("10:20")).is_empty(),
        "at the threshold is not low"
    );
    assert_eq!(
        due(&p, Paris, &[reading("10:00", l1 - 1.0, false)], at("10:20")).len(),
        1
    );
    assert!(
        due(&p, Paris, &[reading("10:00", 50.0, true)], at("10:20")).is_empty(),
        "the sensor re-checks"
    );
}

#[test]
fn a_day_short_of_readings_is_pointed_out_at_20_00() {
    let p = capillary(2.5);
    let g = [
        reading("07:30", 110.0, false),
        reading("12:30", 150.0, false),
    ];
    assert!(due(&p, Paris, &g, at("19:59")).is_empty());
    let r = due(&p, Paris, &g, at("20:00"));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].kind, ReminderKind::ReadingsToday { done: 2, asked: 3 });
    assert_eq!(r[0].key, "readings:2026-03-10");
    // A reading from yesterday evening does not count for today.
    let mut with_yesterday = vec![GlucosePoint {
        at: at("07:30") - TimeDelta::hours(12),
        ..g[0]
    }];
    with_yesterday.extend_from_slice(&g);
    assert_eq!(
        due(&p, Paris, &with_yesterday, at("21:00"))[0].kind,
        ReminderKind::ReadingsToday { done: 2, asked: 3 }
    );
    let third = [g[0], g[1], reading("20:30", 130.0, false)];
    assert!(
        due(&p, Paris, &third, at("21:00")).is_empty(),
        "enough readings"
    );
}

#[test]
fn no_readings_reminder_with_a_sensor_or_outside_the_prescription() {
    let mut cgm = capillary(4.0);
    cgm.monitoring = Monitoring::Cgm;
    assert!(due(&cgm, Paris, &[], at("21:00")).is_empty());
    let mut later = capillary(4.0);
    later.start = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
    assert!(due(&later, Paris, &[], at("21:00")).is_empty());
    let r = due(&capillary(4.0), Paris, &[], at("21:00"));
    assert_eq!(r[0].kind, ReminderKind::ReadingsToday { done: 0, asked: 4 });
}

#[test]
fn both_reminders_come_earliest_first() {
    let p = capillary(4.0);
    let g = [reading("20:30", 60.0, false)];
    let r = due(&p, Paris, &g, at("20:50"));
    let keys: Vec<&str> = r.iter().map(|r| r.key.split(':').next().unwrap()).collect();
    assert_eq!(keys, ["readings", "recheck"]);
}

#[test]
fn a_low_scan_asks_for_a_recheck_on_the_interstitial_threshold() {
    // Gestational on a flash sensor: level 1 is < 63 for a scan, < 60 for a finger prick.
    let mut p = capillary(4.0);
    p.monitoring = Monitoring::Flash;
    p.policy =
        ilot_domain::AlertPolicy::defaults(DiabetesType::GestationalInsulin, Monitoring::Flash);
    let mut scan = reading("10:00", 62.0, false);
    scan.scan = true;
    let r = due(&p, Paris, &[scan], at("10:15"));
    assert_eq!(
        r.iter().map(|r| &r.kind).collect::<Vec<_>>(),
        [&ReminderKind::Recheck {
            reading_at: at("10:00")
        }]
    );
    assert!(due(&p, Paris, &[reading("10:00", 62.0, false)], at("10:15")).is_empty());
}

fn flash() -> Prescription {
    Prescription::new(
        DiabetesType::Type1,
        Monitoring::Flash,
        4,
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
    )
}

fn scan(hm: &str, mg_dl: f64) -> GlucosePoint {
    GlucosePoint {
        scan: true,
        cgm: false,
        ..reading(hm, mg_dl, false)
    }
}

#[test]
fn a_flash_day_short_of_scans_is_pointed_out_at_20_00_counting_scans_not_history() {
    let p = flash();
    assert_eq!(p.expected_readings_per_day, 4.0, "SPEC: 4 scans a day");
    // The sensor's history every 15 minutes all day, and two scans.
    let mut g: Vec<GlucosePoint> = (0..80)
        .map(|i| GlucosePoint {
            at: at("00:00") + TimeDelta::minutes(15 * i),
            ..reading("00:00", 120.0, true)
        })
        .collect();
    g.push(scan("08:02", 130.0));
    g.push(scan("12:31", 150.0));
    g.sort_by_key(|p| p.at);
    assert!(due(&p, Paris, &g, at("19:59")).is_empty());
    let r = due(&p, Paris, &g, at("20:00"));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].kind, ReminderKind::ScansToday { done: 2, asked: 4 });
    assert_eq!(r[0].key, "scans:2026-03-10");
    g.push(scan("18:00", 140.0));
    g.push(scan("19:45", 135.0));
    g.sort_by_key(|p| p.at);
    assert!(due(&p, Paris, &g, at("21:00")).is_empty(), "4 scans");
}

#[test]
fn no_scans_reminder_with_a_cgm_or_before_the_prescription() {
    let mut cgm = flash();
    cgm.monitoring = Monitoring::Cgm;
    assert!(due(&cgm, Paris, &[], at("21:00")).is_empty());
    let mut later = flash();
    later.start = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
    assert!(due(&later, Paris, &[], at("21:00")).is_empty());
    assert_eq!(
        due(&flash(), Paris, &[], at("21:00"))[0].kind,
        ReminderKind::ScansToday { done: 0, asked: 4 }
    );
}
