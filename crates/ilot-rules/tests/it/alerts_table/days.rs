//! Day-based and silence alerts from SPEC §2–3: TBR over 14 days, no data transmitted, missed
//! basal insulin (with Paris DST days).

use chrono::{NaiveTime, TimeDelta};
use chrono_tz::Europe::Paris;
use ilot_domain::{BasalSchedule, InsulinKind, Monitoring, Prescription};
use ilot_rules::alerts::{AlertKind, RaisedBy, Severity, advice, no_data};
use rstest::rstest;

use super::{Diary, d, gestational, kinds, paris, t1_cgm, t2_capillary};

/// 288 five-minute CGM readings a day at 120, of which `lows` isolated readings (never 15
/// minutes in a row, so no hypo episode) at `low`.
fn cgm_days(diary: &mut Diary, first: &str, days: u64, lows: usize, low: f64) {
    for k in 0..days {
        let day = d(first) + chrono::Days::new(k);
        let values: Vec<f64> = (0..288)
            .map(|i| {
                if i % 20 == 10 && i / 20 < lows {
                    low
                } else {
                    120.0
                }
            })
            .collect();
        diary.cgm(&format!("{day} 00:00"), 5, &values);
    }
}

// TBR over target: type 1 < 70 over 4 % of 14 days; gestational < 63 over 4 %. 12 lows in 288
// readings a day is 4.17 %, 11 is 3.82 %. Days 1–14 low, days 15–28 without lows: the first
// 14-day window with the data a report needs (CGM active ≥ 70 %) ends with day 10 (10 of its 14
// days, 71 %), at the start of 11 March; the 14-day share first drops to 12 × 13 / 4032 = 3.87 %
// at the end of day 15.
#[rstest]
#[case(t1_cgm(), 12, 65.0, true)]
#[case(t1_cgm(), 11, 65.0, false)]
#[case(t1_cgm(), 12, 70.0, false)]
#[case(gestational(Monitoring::Cgm), 12, 62.0, true)]
#[case(gestational(Monitoring::Cgm), 12, 63.0, false)]
fn tbr_over_target(
    #[case] p: Prescription,
    #[case] lows: usize,
    #[case] low: f64,
    #[case] alert: bool,
) {
    let mut diary = Diary::default();
    cgm_days(&mut diary, "2026-03-01", 14, lows, low);
    cgm_days(&mut diary, "2026-03-15", 14, 0, low);
    let alerts = diary.eval(&p, "2026-03-29 12:00");
    if alert {
        assert_eq!(kinds(&alerts), [AlertKind::TbrOverTarget], "{alerts:#?}");
        let a = &alerts[0];
        assert_eq!(a.started_at, paris("2026-03-11 00:00"));
        assert_eq!(a.ended_at, Some(paris("2026-03-16 00:00")));
        assert_eq!(a.percent, Some(100.0 * 12.0 / 288.0));
        assert_eq!(
            (a.severity, a.raised_by),
            (Severity::Warning, RaisedBy::Both)
        );
    } else {
        assert!(alerts.is_empty(), "{alerts:#?}");
    }
}

// The TBR alert needs what the report needs (SPEC §3): 14 days with CGM active ≥ 70 %. A day of
// data at 10 % below 70 is not a 14-day verdict; 10 of 14 days (71 %) is enough, 9 (64 %) not.
// The sensor's own interval counts: 15-minute readings for 10 days are 71 % too.
#[rstest]
#[case::one_day(5, 1, false)]
#[case::nine_days(5, 9, false)]
#[case::ten_days(5, 10, true)]
#[case::ten_days_15_minute_sensor(15, 10, true)]
#[case::nine_days_1_minute_sensor(1, 9, false)]
fn tbr_needs_the_data_a_report_needs(#[case] every: i64, #[case] days: u64, #[case] alert: bool) {
    let mut diary = Diary::default();
    let per_day = usize::try_from(1440 / every).unwrap();
    for k in 0..days {
        let day = d("2026-03-05") + chrono::Days::new(k);
        // 10 % of each day below 70, never 15 minutes in a row for a hypo episode: one reading
        // in ten.
        let values: Vec<f64> = (0..per_day)
            .map(|i| if i % 10 == 0 { 65.0 } else { 120.0 })
            .collect();
        diary.cgm(&format!("{day} 00:00"), every, &values);
    }
    let mut p = t1_cgm();
    p.start = d("2026-03-01");
    let alerts = diary.eval(&p, "2026-03-19 00:00");
    let tbr: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::TbrOverTarget)
        .collect();
    assert_eq!(tbr.len(), usize::from(alert), "{alerts:#?}");
    if let Some(a) = tbr.first() {
        // Raised at the end of the first day whose 14-day window is 70 % covered: days 5–14.
        assert_eq!(a.started_at, paris("2026-03-15 00:00"));
    }
}

// No data transmitted: 48 h (CGM, gestational), 72 h (capillary); raised by the server.
#[rstest]
#[case(t1_cgm(), 47 * 60 + 59, false)]
#[case(t1_cgm(), 48 * 60, true)]
#[case(t2_capillary(), 71 * 60 + 59, false)]
#[case(t2_capillary(), 72 * 60, true)]
#[case(gestational(Monitoring::Capillary), 48 * 60, true)]
fn no_data_transmitted(#[case] p: Prescription, #[case] minutes: i64, #[case] alert: bool) {
    let last = paris("2026-03-10 08:00");
    let now = last + TimeDelta::minutes(minutes);
    let found = no_data(&p.policy, Some(last), now);
    assert_eq!(found.is_some(), alert);
    if let Some(a) = &found {
        assert_eq!(
            (a.kind, a.severity, a.raised_by),
            (AlertKind::NoData, Severity::Warning, RaisedBy::Server)
        );
        let hours = i64::from(p.policy.no_data_hours);
        assert_eq!(a.started_at, last + TimeDelta::hours(hours));
        assert_eq!(a.key, "no-data@2026-03-10T07:00:00Z");
    }
    let now_local = now
        .with_timezone(&Paris)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let all = Diary::default().eval_full(&p, Some(last), d("2026-03-10"), &now_local);
    assert_eq!(all, found.into_iter().collect::<Vec<_>>());
}

// Missed insulin: basal due at 08:00 local, grace 3 h either side. 29 March and 25 October 2026
// are Paris DST days: the window still sits at 05:00–11:00 local time.
#[rstest]
#[case("2026-03-10", "08:00", Some("10:59"), false)]
#[case("2026-03-10", "08:00", Some("11:00"), false)]
#[case("2026-03-10", "08:00", Some("11:01"), true)]
#[case("2026-03-10", "08:00", Some("05:00"), false)]
#[case("2026-03-10", "08:00", Some("04:59"), true)]
#[case("2026-03-10", "08:00", None, true)]
#[case("2026-03-29", "08:00", Some("10:59"), false)]
#[case("2026-03-29", "08:00", Some("11:01"), true)]
#[case("2026-10-25", "08:00", Some("10:59"), false)]
#[case("2026-10-25", "08:00", Some("11:01"), true)]
// 02:30 does not exist on 29 March: due at 03:30 (the clock jumped), deadline 06:30.
#[case("2026-03-29", "02:30", Some("06:30"), false)]
#[case("2026-03-29", "02:31", Some("06:32"), true)]
fn missed_basal_insulin(
    #[case] day: &str,
    #[case] due: &str,
    #[case] logged: Option<&str>,
    #[case] alert: bool,
) {
    let mut p = t2_capillary();
    p.start = d(day);
    let time: NaiveTime = format!("{due}:00").parse().unwrap();
    p.basal = vec![BasalSchedule { time, units: 14.0 }];
    let mut diary = Diary::default();
    // A bolus never stands in for the basal.
    diary.dose(&format!("{day} 08:00"), InsulinKind::Bolus);
    if let Some(at) = logged {
        diary.dose(&format!("{day} {at}"), InsulinKind::Basal);
    }
    let alerts = diary.eval_full(&p, None, d(day), &format!("{day} 23:00"));
    assert_eq!(alerts.len(), usize::from(alert), "{alerts:#?}");
    if let Some(a) = alerts.first() {
        assert_eq!(
            (a.kind, a.severity),
            (AlertKind::MissedInsulin, Severity::Info)
        );
        assert_eq!(a.key, format!("missed-insulin@{day}T{due}"));
        assert_eq!(a.advice, advice::INSULIN_MISSED);
    }
}

// Not before the grace has passed, and not for days before `days_from`.
#[rstest]
#[case("2026-03-10 10:59", "2026-03-01", 9)]
#[case("2026-03-10 11:00", "2026-03-01", 10)]
#[case("2026-03-10 11:00", "2026-03-08", 3)]
fn missed_insulin_waits_for_the_grace(
    #[case] now: &str,
    #[case] days_from: &str,
    #[case] expected: usize,
) {
    let mut p = t2_capillary();
    p.basal = vec![BasalSchedule {
        time: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        units: 14.0,
    }];
    let alerts = Diary::default().eval_full(&p, None, d(days_from), now);
    assert_eq!(alerts.len(), expected);
    assert!(
        alerts
            .windows(2)
            .all(|w| w[0].started_at <= w[1].started_at)
    );
}
