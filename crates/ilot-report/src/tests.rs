use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use ilot_domain::{GlucoseUnit, MealContext};
use ilot_rules::{GlucosePoint, Level};

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn point(id: u64, at: DateTime<Utc>, mg: f64, cgm: bool, context: MealContext) -> GlucosePoint {
    GlucosePoint {
        id,
        at,
        level: Level::MgDl(mg),
        cgm,
        scan: false,
        context,
    }
}

fn input<'a>(points: &'a [GlucosePoint], from: &str, to: &str) -> Input<'a> {
    Input {
        patient: Patient {
            pseudonym: "PAT-001".into(),
            identity: None,
        },
        points,
        window: Window::new(at(from), at(to)),
        tz: Paris,
        ranges: Ranges::consensus(),
        unit: GlucoseUnit::MgPerDl,
        generated_at: at("2026-03-15T09:00:00Z"),
    }
}

/// Two weeks of 5-minute sensor readings, a sine around 140 mg/dL with one low a day.
fn cgm_fortnight() -> Vec<GlucosePoint> {
    let start = at("2026-03-01T00:00:00+01:00");
    (0..14 * 288)
        .map(|i| {
            let t = start + TimeDelta::minutes(5 * i);
            let phase = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
            let mg = if (i % 288) < 4 {
                60.0
            } else {
                140.0 + 60.0 * phase.sin()
            };
            point(i as u64, t, mg, true, MealContext::Other)
        })
        .collect()
}

#[test]
fn the_report_holds_the_rules_results_for_its_window() {
    let points = cgm_fortnight();
    let inp = input(
        &points,
        "2026-03-01T00:00:00+01:00",
        "2026-03-15T00:00:00+01:00",
    );
    let r = compute(&inp);
    assert_eq!(r.layout, Layout::Cgm);
    let expected = ilot_rules::metrics::metrics(&points, inp.window, &inp.ranges);
    assert_eq!(r.metrics, expected);
    assert_eq!(r.metrics.n_readings, 14 * 288);
    assert_eq!(r.days.len(), DAYS_SHOWN);
    assert_eq!(r.days[0].date.to_string(), "2026-03-01");
    assert_eq!(r.days[13].date.to_string(), "2026-03-14");
    assert!(r.days.iter().all(|d| d.readings.len() == 288));
    // One 20-minute low every day: 14 episodes, as the metrics count them.
    assert_eq!(r.hypos.len(), 14);
    assert_eq!(r.metrics.hypo_level1_episodes, 14);
    assert_eq!(
        r.logbook.count(),
        0,
        "sensor readings stay out of the logbook"
    );
}

#[test]
fn a_window_longer_than_two_weeks_shows_its_last_fourteen_days_and_empty_ones() {
    let points = cgm_fortnight();
    let r = compute(&input(
        &points,
        "2026-02-20T00:00:00+01:00",
        "2026-03-20T00:00:00+01:00",
    ));
    let dates: Vec<String> = r.days.iter().map(|d| d.date.to_string()).collect();
    assert_eq!(dates.first().unwrap(), "2026-03-06");
    assert_eq!(dates.last().unwrap(), "2026-03-19");
    assert_eq!(dates.len(), 14);
    assert!(r.days[9].readings.is_empty(), "2026-03-15 has no reading");
}

#[test]
fn fingersticks_only_make_a_logbook_by_meal_context() {
    let day = |d: u32, h: u32| {
        Paris
            .with_ymd_and_hms(2026, 3, d, h, 0, 0)
            .unwrap()
            .to_utc()
    };
    let points = vec![
        point(1, day(2, 7), 95.0, false, MealContext::Fasting),
        point(2, day(2, 10), 182.0, false, MealContext::AfterMeal2h),
        point(3, day(2, 12), 65.0, false, MealContext::BeforeMeal),
        point(4, day(3, 7), 101.0, false, MealContext::Fasting),
        // Outside the window: neither counted nor shown.
        point(5, day(9, 7), 300.0, false, MealContext::Fasting),
    ];
    let r = compute(&input(
        &points,
        "2026-03-01T00:00:00+01:00",
        "2026-03-05T00:00:00+01:00",
    ));
    assert_eq!(r.layout, Layout::Capillary);
    assert_eq!(r.metrics.n_readings, 4);
    assert_eq!(r.logbook.days.len(), 4);
    assert_eq!(r.logbook.count(), 4);
    let d2 = &r.logbook.days[1];
    assert_eq!(d2.date.to_string(), "2026-03-02");
    assert_eq!(
        d2.cells[0],
        vec![(
            chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
            Level::MgDl(95.0)
        )]
    );
    assert_eq!(d2.cells[1].len(), 1, "before meal");
    assert_eq!(d2.cells[3].len(), 1, "2 h after a meal");
    assert_eq!(r.hypos.len(), 1, "the 65 mg/dL fingerstick");
}

#[test]
fn both_layouts_and_languages_give_a_one_page_pdf() {
    let cgm = cgm_fortnight();
    let finger = [point(
        1,
        at("2026-03-02T07:00:00+01:00"),
        95.0,
        false,
        MealContext::Fasting,
    )];
    for (points, from, to) in [
        (
            &cgm[..],
            "2026-03-01T00:00:00+01:00",
            "2026-03-15T00:00:00+01:00",
        ),
        (
            &finger[..],
            "2026-03-01T00:00:00+01:00",
            "2026-03-15T00:00:00+01:00",
        ),
        (
            &[][..],
            "2026-03-01T00:00:00+01:00",
            "2026-03-15T00:00:00+01:00",
        ),
    ] {
        let r = compute(&input(points, from, to));
        for lang in [Lang::Fr, Lang::En] {
            let bytes = pdf(&r, lang).unwrap();
            assert!(bytes.starts_with(b"%PDF-"), "{lang:?}");
            assert!(bytes.len() > 10_000, "{lang:?}: fonts embedded");
        }
    }
}
