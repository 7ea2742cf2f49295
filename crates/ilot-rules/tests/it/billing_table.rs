//! Billing per 30-day period (SPEC §2): each reason a period is not billable shown by a case —
//! interrupted, previous period insufficient or interrupted, in progress, no accompaniment in
//! the first month, no consent, not monitored, no prescription — and the series of at most 6 periods made
//! over the final verdict.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use ilot_domain::{
    DiabetesType, InsulinKind, MealContext, Monitoring, PatientProfile, Prescription,
};
use ilot_rules::observance::billing::{Billing, Consent, Reason, billing, not_monitored};
use ilot_rules::observance::{PeriodStatus, observance};
use ilot_rules::{Data, GlucosePoint, InsulinPoint, Level};
use rstest::rstest;

use Reason::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn paris(s: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    Paris.from_local_datetime(&naive).single().unwrap().to_utc()
}

/// Type 2 on one injection a day, capillary, from 10 Jan 2026: 2 readings + 1 insulin a day.
/// Period 1 is 10 Jan – 8 Feb, period 2 9 Feb – 10 Mar, period 3 11 Mar – 9 Apr…
fn t2() -> Prescription {
    Prescription::new(
        DiabetesType::Type2Insulin,
        Monitoring::Capillary,
        1,
        d("2026-01-10"),
    )
}

#[derive(Default)]
struct Diary {
    glucose: Vec<GlucosePoint>,
    insulin: Vec<InsulinPoint>,
    sessions: Vec<DateTime<Utc>>,
}

impl Diary {
    fn reading(&mut self, at: DateTime<Utc>, cgm: bool) {
        self.glucose.push(GlucosePoint {
            id: self.glucose.len() as u64 + 1,
            at,
            level: Level::MgDl(120.0),
            cgm,
            scan: false,
            context: MealContext::Other,
        });
    }

    /// `readings` capillary readings and `injections` insulin entries on each local day.
    fn days(&mut self, from: &str, days: u64, readings: u32, injections: u32) -> &mut Self {
        for k in 0..days {
            let day = d(from) + Days::new(k);
            for r in 0..readings {
                let at = day.and_time(NaiveTime::from_hms_opt(7 + r, 0, 0).unwrap());
                self.reading(Paris.from_local_datetime(&at).unwrap().to_utc(), false);
            }
            for _ in 0..injections {
                let at = day.and_time(NaiveTime::from_hms_opt(21, 0, 0).unwrap());
                self.insulin.push(InsulinPoint {
                    id: 1_000_000 + self.insulin.len() as u64,
                    at: Paris.from_local_datetime(&at).unwrap().to_utc(),
                    kind: InsulinKind::Basal,
                    units: 12.0,
                });
            }
        }
        self
    }

    fn session(&mut self, at: &str) -> &mut Self {
        self.sessions.push(paris(at));
        self
    }

    fn bill(&mut self, p: &Prescription, consent: Consent, now: &str) -> Billing {
        self.glucose.sort_by_key(|g| g.at);
        self.insulin.sort_by_key(|i| i.at);
        self.sessions.sort();
        let data = Data {
            glucose: &self.glucose,
            insulin: &self.insulin,
            hypo_reports: &[],
            education_sessions: &self.sessions,
            other_entries: &[],
        };
        let profile = PatientProfile::new("p-1");
        let now = paris(now);
        let o = observance(p, &profile, &data, now);
        billing(&o, p, &profile, &data, consent, now)
    }
}

fn reasons(b: &Billing) -> Vec<Vec<Reason>> {
    b.periods.iter().map(|p| p.reasons.clone()).collect()
}

/// A full diary from 10 Jan for `days` days with a session on 12 Jan.
fn full(days: u64) -> Diary {
    let mut diary = Diary::default();
    diary
        .days("2026-01-10", days, 2, 1)
        .session("2026-01-12 10:00");
    diary
}

#[test]
fn complete_periods_with_accompaniment_and_consent_are_billable_in_one_series() {
    let b = full(61).bill(&t2(), Consent::Granted, "2026-03-11 12:00");
    assert_eq!(reasons(&b), [vec![], vec![], vec![InProgress]]);
    assert_eq!(
        b.periods.iter().map(|p| p.billable).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(b.series.len(), 1);
    let s = &b.series[0];
    assert_eq!((s.first_period, s.last_period), (1, 2));
    assert_eq!((s.from, s.to), (d("2026-01-10"), d("2026-03-10")));
    assert_eq!(b.periods[1].series, Some(1));
    assert_eq!(b.periods[2].series, None);
}

// Zero data in period 2 (9 Feb – 10 Mar): period 2 and period 3 are not billable.
#[test]
fn interrupted_and_the_period_after() {
    let mut diary = full(30);
    diary.days("2026-03-11", 60, 2, 1);
    let b = diary.bill(&t2(), Consent::Granted, "2026-05-10 12:00");
    assert_eq!(
        reasons(&b)[..4],
        [vec![], vec![Interrupted], vec![PreviousInterrupted], vec![]]
    );
    // The not-billable periods split the series.
    assert_eq!(
        b.series
            .iter()
            .map(|s| (s.first_period, s.last_period))
            .collect::<Vec<_>>(),
        [(1, 1), (4, 4)]
    );
}

// 44 of 90 expected in period 1 (< 50 %): period 2 is not billable; 45 (exactly 50 %) is fine.
#[rstest]
#[case::below_half(44, vec![PreviousInsufficient])]
#[case::exactly_half(45, vec![])]
fn previous_insufficient(#[case] n: usize, #[case] period2: Vec<Reason>) {
    let mut diary = Diary::default();
    diary
        .days("2026-01-10", 30, 2, 1)
        .session("2026-01-12 10:00");
    // Keep `n` of period 1's 90 entries (readings first, then insulin).
    let keep_glucose = n.min(60);
    diary.glucose.truncate(keep_glucose);
    diary.insulin.truncate(n - keep_glucose);
    diary.days("2026-02-09", 30, 2, 1);
    let b = diary.bill(&t2(), Consent::Granted, "2026-03-11 12:00");
    assert_eq!(b.periods[0].received as usize, n);
    assert_eq!(reasons(&b)[0], Vec::<Reason>::new());
    assert_eq!(reasons(&b)[1], period2);
}

// Accompaniment is mandatory in the first month: without a session in period 1 it is not
// billable, the next ones are; a session after period 1 does not make up for it.
#[rstest]
#[case::none(None)]
#[case::too_late(Some("2026-02-09 09:00"))]
fn no_accompaniment_in_the_first_month(#[case] session: Option<&str>) {
    let mut diary = Diary::default();
    diary.days("2026-01-10", 61, 2, 1);
    if let Some(s) = session {
        diary.session(s);
    }
    let b = diary.bill(&t2(), Consent::Granted, "2026-03-11 12:00");
    assert_eq!(reasons(&b)[..2], [vec![NoAccompaniment], vec![]]);
    assert_eq!(b.series[0].first_period, 2);
    // While period 1 runs, accompaniment is still due: only "in progress".
    let b = diary.bill(&t2(), Consent::Granted, "2026-01-20 12:00");
    assert_eq!(reasons(&b), [vec![InProgress]]);
}

// Every reason is listed: period 1 with no data and no session is both.
#[test]
fn every_reason_is_listed_in_order() {
    let mut diary = Diary::default();
    diary.days("2026-02-09", 30, 2, 1);
    let b = diary.bill(&t2(), Consent::Never, "2026-03-11 12:00");
    assert_eq!(
        reasons(&b)[..2],
        [
            vec![NoConsent, Interrupted, NoAccompaniment],
            vec![NoConsent, PreviousInterrupted]
        ]
    );
    assert!(b.series.is_empty());
}

// Withdrawn on 20 Feb (in period 2): period 2 was monitored and is judged on its data; every
// period that begins after the withdrawal is not billable.
#[test]
fn no_consent_after_a_withdrawal() {
    let mut diary = full(60);
    let b = diary.bill(
        &t2(),
        Consent::WithdrawnAt(paris("2026-02-20 10:00")),
        "2026-04-15 12:00",
    );
    assert_eq!(
        reasons(&b),
        [
            vec![],
            vec![],
            vec![NoConsent, Interrupted],
            vec![NoConsent, InProgress]
        ]
    );
    // A withdrawal exactly at a period's first midnight makes that period not billable.
    let b = diary.bill(
        &t2(),
        Consent::WithdrawnAt(paris("2026-02-09 00:00")),
        "2026-03-11 12:00",
    );
    assert_eq!(reasons(&b)[1], [NoConsent]);
}

// Ended on 20 Feb (period 2) and reopened on 15 Mar (period 3): the 30-day cadence does not
// move, the two periods holding any of the unmonitored time are not billable, the data rule goes
// on as usual, and the series break there. An empty gap (reopened before the last day ended)
// changes nothing.
#[test]
fn the_periods_holding_an_unmonitored_time_are_not_billable() {
    let mut diary = full(120);
    let mut b = diary.bill(&t2(), Consent::Granted, "2026-05-20 12:00");
    assert!(
        b.periods[..4].iter().all(|p| p.billable),
        "{:?}",
        reasons(&b)
    );
    let empty = paris("2026-02-21 00:00");
    not_monitored(&mut b, &[(empty, empty)]);
    assert!(b.periods[..4].iter().all(|p| p.billable));
    not_monitored(
        &mut b,
        &[(paris("2026-02-21 00:00"), paris("2026-03-15 09:30"))],
    );
    assert_eq!(
        reasons(&b),
        [
            vec![],
            vec![NotMonitored],
            vec![NotMonitored],
            vec![],
            vec![InProgress]
        ]
    );
    assert_eq!(
        b.series
            .iter()
            .map(|s| (s.first_period, s.last_period))
            .collect::<Vec<_>>(),
        [(1, 1), (4, 4)]
    );
    assert_eq!(
        b.periods.iter().map(|p| p.series).collect::<Vec<_>>(),
        [Some(1), None, None, Some(2), None]
    );
    // A gap that ends exactly at a period's first midnight leaves that period billable.
    let mut b = diary.bill(&t2(), Consent::Granted, "2026-05-20 12:00");
    not_monitored(
        &mut b,
        &[(paris("2026-02-21 00:00"), paris("2026-03-11 00:00"))],
    );
    assert_eq!(reasons(&b)[1..3], [vec![NotMonitored], vec![]]);
}

// After the prescription's last day, periods holding data are listed, not billable, with no
// ratio; the rest of a period the end cut short keeps that period's number; a period without
// any data is not listed.
#[test]
fn no_prescription_after_its_end() {
    let mut p = t2();
    p.end = d("2026-02-20"); // day 12 of period 2
    let mut diary = full(60);
    diary.days("2026-04-20", 3, 2, 0); // in period 4 (10 Apr – 9 May); period 3 holds nothing
    let b = diary.bill(&p, Consent::Granted, "2026-05-20 12:00");
    let shown: Vec<_> = b
        .periods
        .iter()
        .map(|p| {
            (
                p.number,
                p.first_day,
                p.last_day,
                p.prescribed,
                p.reasons.clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (1, d("2026-01-10"), d("2026-02-08"), true, vec![]),
            (2, d("2026-02-09"), d("2026-02-20"), true, vec![]),
            (
                2,
                d("2026-02-21"),
                d("2026-03-10"),
                false,
                vec![NoPrescription]
            ),
            (
                4,
                d("2026-04-10"),
                d("2026-05-09"),
                false,
                vec![NoPrescription]
            ),
        ]
    );
    assert_eq!(b.periods[2].received, 18 * 3);
    assert_eq!((b.periods[2].ratio, b.periods[2].status), (None, None));
    assert_eq!(b.periods[3].received, 6);
}

// A 15-minute CGM history worn all the time is sufficient (70 % of sensor time in 15-minute
// readings), so the period is billable and the next one is too.
#[test]
fn a_fifteen_minute_cgm_at_full_wear_is_sufficient() {
    let p = Prescription::new(DiabetesType::Type1, Monitoring::Cgm, 4, d("2026-01-10"));
    let mut diary = Diary::default();
    let start = paris("2026-01-10 00:00");
    for k in 0..60 * 96 {
        diary.reading(start + chrono::Duration::minutes(15 * k), true);
    }
    diary
        .days("2026-01-10", 60, 0, 4)
        .session("2026-01-12 10:00");
    let b = diary.bill(&p, Consent::Granted, "2026-03-11 12:00");
    assert_eq!(b.periods[0].status, Some(PeriodStatus::Complete));
    assert!(b.periods[0].ratio.unwrap() >= 0.5, "{:?}", b.periods[0]);
    assert_eq!(reasons(&b)[..2], [vec![], vec![]]);
    // Worn 10 days of period 1 only (960 of 2,136 expected): period 2 follows an insufficient one.
    let mut sparse = Diary::default();
    for k in 0..10 * 96 {
        sparse.reading(start + chrono::Duration::minutes(15 * k), true);
    }
    let period2 = paris("2026-02-09 00:00");
    for k in 0..30 * 96 {
        sparse.reading(period2 + chrono::Duration::minutes(15 * k), true);
    }
    sparse.session("2026-01-12 10:00");
    let b = sparse.bill(&p, Consent::Granted, "2026-03-11 12:00");
    assert_eq!(b.periods[0].status, Some(PeriodStatus::Insufficient));
    assert_eq!(reasons(&b)[..2], [vec![], vec![PreviousInsufficient]]);
}

// Eight billable periods in a row: a series of 6, then one of 2.
#[test]
fn series_hold_at_most_six_periods() {
    let b = full(240).bill(&t2(), Consent::Granted, "2026-09-07 12:00");
    let billable: Vec<u32> = b
        .periods
        .iter()
        .filter(|p| p.billable)
        .map(|p| p.number)
        .collect();
    assert_eq!(billable, (1..=8).collect::<Vec<_>>());
    assert_eq!(
        b.series
            .iter()
            .map(|s| (s.number, s.first_period, s.last_period))
            .collect::<Vec<_>>(),
        [(1, 1, 6), (2, 7, 8)]
    );
    assert_eq!(b.periods[6].series, Some(2));
}
