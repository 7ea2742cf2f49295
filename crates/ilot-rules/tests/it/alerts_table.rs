//! Alert tables from SPEC §3 (default policy table, one alert per episode) and §2 (no data,
//! severe hypo): every kind, both default policies (type 1 / type 2 and gestational), episode
//! dedup, storm prevention, policy edits, DST days.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use ilot_domain::{DiabetesType, InsulinKind, MealContext, Monitoring, Prescription};
use ilot_rules::alerts::{Alert, AlertKind, RaisedBy, Severity, advice, evaluate};
use ilot_rules::{Data, GlucosePoint, HypoReport, InsulinPoint, Level};
use rstest::rstest;

mod days;
mod reported;
mod sensors;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A local Paris time ("2026-03-10 08:00") as UTC.
fn paris(s: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    Paris
        .from_local_datetime(&naive)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn t1_cgm() -> Prescription {
    Prescription::new(DiabetesType::Type1, Monitoring::Cgm, 4, d("2026-03-01"))
}

fn t1_capillary() -> Prescription {
    Prescription::new(
        DiabetesType::Type1,
        Monitoring::Capillary,
        4,
        d("2026-03-01"),
    )
}

fn t2_capillary() -> Prescription {
    Prescription::new(
        DiabetesType::Type2Insulin,
        Monitoring::Capillary,
        1,
        d("2026-03-01"),
    )
}

fn gestational(monitoring: Monitoring) -> Prescription {
    Prescription::new(
        DiabetesType::GestationalInsulin,
        monitoring,
        1,
        d("2026-03-01"),
    )
}

#[derive(Default)]
struct Diary {
    glucose: Vec<GlucosePoint>,
    insulin: Vec<InsulinPoint>,
    reports: Vec<HypoReport>,
    next_id: u64,
}

impl Diary {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn point(&mut self, at: DateTime<Utc>, level: Level, cgm: bool, context: MealContext) {
        let id = self.id();
        self.glucose.push(GlucosePoint {
            id,
            at,
            level,
            cgm,
            scan: false,
            context,
        });
    }

    fn cap(&mut self, at: &str, mg: f64) -> &mut Self {
        self.point(paris(at), Level::MgDl(mg), false, MealContext::Other);
        self
    }

    fn cap_in(&mut self, at: &str, mg: f64, context: MealContext) -> &mut Self {
        self.point(paris(at), Level::MgDl(mg), false, context);
        self
    }

    /// CGM readings every `every` minutes from `from`, one per value.
    fn cgm(&mut self, from: &str, every: i64, values: &[f64]) -> &mut Self {
        let start = paris(from);
        for (k, v) in values.iter().enumerate() {
            let at = start + TimeDelta::minutes(every * k as i64);
            self.point(at, Level::MgDl(*v), true, MealContext::Other);
        }
        self
    }

    fn dose(&mut self, at: &str, kind: InsulinKind) -> &mut Self {
        let id = self.id();
        self.insulin.push(InsulinPoint {
            id,
            at: paris(at),
            kind,
            units: 14.0,
        });
        self
    }

    fn report(&mut self, at: &str, needed_help: bool) -> &mut Self {
        self.report_with(at, needed_help, None)
    }

    /// A reported hypo with the glucose the patient measured.
    fn report_with(&mut self, at: &str, needed_help: bool, glucose: Option<Level>) -> &mut Self {
        let id = self.id();
        self.reports.push(HypoReport {
            id,
            at: paris(at),
            needed_help,
            glucose,
        });
        self
    }

    fn eval(&mut self, p: &Prescription, now: &str) -> Vec<Alert> {
        self.eval_full(p, None, p.start, now)
    }

    fn eval_full(
        &mut self,
        p: &Prescription,
        last_data_at: Option<DateTime<Utc>>,
        days_from: NaiveDate,
        now: &str,
    ) -> Vec<Alert> {
        self.glucose.sort_by_key(|g| g.at);
        self.insulin.sort_by_key(|i| i.at);
        self.reports.sort_by_key(|r| r.at);
        let data = Data {
            glucose: &self.glucose,
            insulin: &self.insulin,
            hypo_reports: &self.reports,
            ..Data::default()
        };
        evaluate(p, Paris, &data, last_data_at, days_from, paris(now))
    }
}

fn kinds(alerts: &[Alert]) -> Vec<AlertKind> {
    alerts.iter().map(|a| a.kind).collect()
}

fn repeat(v: f64, n: usize) -> Vec<f64> {
    vec![v; n]
}

// Type 1 / type 2: level 1 < 70, level 2 < 54, severe = physician threshold (default: level 2).
// One capillary reading, re-checked in range 15 minutes later.
#[rstest]
#[case(Level::MgDl(70.0), 54.0, None)]
#[case(Level::MgDl(69.0), 54.0, Some(AlertKind::HypoL1))]
#[case(Level::MgDl(54.0), 54.0, Some(AlertKind::HypoL1))]
#[case(Level::MgDl(53.0), 54.0, Some(AlertKind::SevereHypo))]
#[case(Level::Lo, 54.0, Some(AlertKind::SevereHypo))]
#[case(Level::MgDl(53.0), 40.0, Some(AlertKind::HypoL2))]
#[case(Level::MgDl(40.0), 40.0, Some(AlertKind::HypoL2))]
#[case(Level::MgDl(39.0), 40.0, Some(AlertKind::SevereHypo))]
fn hypo_levels_type1(
    #[case] level: Level,
    #[case] severe: f64,
    #[case] expected: Option<AlertKind>,
) {
    let mut p = t1_capillary();
    p.policy.severe_mg_dl = severe;
    let mut diary = Diary::default();
    diary.point(
        paris("2026-03-10 08:00"),
        level,
        false,
        MealContext::Fasting,
    );
    diary.cap("2026-03-10 08:15", 110.0);
    let alerts = diary.eval(&p, "2026-03-10 12:00");
    assert_eq!(kinds(&alerts), expected.into_iter().collect::<Vec<_>>());
    if let Some(a) = alerts.first() {
        let (severity, advice) = match a.kind {
            AlertKind::HypoL1 => (Severity::Warning, advice::HYPO_RESUGAR),
            AlertKind::HypoL2 => (Severity::Urgent, advice::HYPO_RESUGAR),
            _ => (Severity::Urgent, advice::HYPO_SEVERE),
        };
        assert_eq!(
            (a.severity, a.advice, a.raised_by),
            (severity, advice, RaisedBy::Device)
        );
        assert_eq!(a.extreme, Some(level));
        assert_eq!(a.started_at, paris("2026-03-10 08:00"));
        assert_eq!(a.ended_at, Some(paris("2026-03-10 08:15")));
        assert_eq!(a.readings, [1]);
    }
}

// Gestational: level 1 < 60 capillary, < 63 CGM; out of target below 70 otherwise (info).
#[rstest]
#[case(false, 59.0, vec![AlertKind::HypoL1])]
#[case(false, 60.0, vec![AlertKind::OutOfTarget])]
#[case(false, 62.0, vec![AlertKind::OutOfTarget])]
#[case(true, 62.0, vec![AlertKind::HypoL1])]
#[case(true, 63.0, vec![AlertKind::OutOfTarget])]
#[case(true, 53.0, vec![AlertKind::SevereHypo])]
fn gestational_hypo_thresholds_differ_by_reading_kind(
    #[case] cgm: bool,
    #[case] mg: f64,
    #[case] expected: Vec<AlertKind>,
) {
    let p = gestational(if cgm {
        Monitoring::Cgm
    } else {
        Monitoring::Capillary
    });
    let mut diary = Diary::default();
    if cgm {
        // 20 minutes low (0, 5, 10, 15, 20), then back in range for 20 minutes.
        diary.cgm(
            "2026-03-10 03:00",
            5,
            &[repeat(mg, 5), repeat(100.0, 5)].concat(),
        );
    } else {
        diary
            .cap("2026-03-10 03:00", mg)
            .cap("2026-03-10 03:15", 100.0);
    }
    let alerts = diary.eval(&p, "2026-03-10 12:00");
    assert_eq!(kinds(&alerts), expected);
}

// One alert per episode: a two-hour CGM low is one alert; a low shorter than 15 minutes is none.
// Each reading stands for its sampling interval (SPEC §3).
#[rstest]
#[case(5, 24, 1)] // 2 hours at 5-minute readings
#[case(5, 3, 1)] // 3 readings × 5 minutes: 15 minutes
#[case(5, 2, 0)] // 10 minutes
#[case(1, 15, 1)] // 15 readings × 1 minute
#[case(1, 14, 0)] // 14 minutes low
#[case(15, 1, 1)] // one 15-minute reading
fn a_cgm_hypo_is_one_alert_from_15_minutes(
    #[case] every: i64,
    #[case] low_readings: usize,
    #[case] alerts_expected: usize,
) {
    let values = [
        repeat(120.0, 6),
        repeat(60.0, low_readings),
        repeat(120.0, (40 / every as usize).max(3)),
    ]
    .concat();
    let mut diary = Diary::default();
    diary.cgm("2026-03-10 02:00", every, &values);
    let alerts = diary.eval(&t1_cgm(), "2026-03-10 12:00");
    assert_eq!(alerts.len(), alerts_expected, "{alerts:#?}");
    if let Some(a) = alerts.first() {
        assert_eq!(a.kind, AlertKind::HypoL1);
        assert_eq!(a.readings.len(), low_readings);
        assert_eq!(
            a.started_at,
            paris("2026-03-10 02:00") + TimeDelta::minutes(6 * every)
        );
    }
}

// Back in range for 10 minutes only: still the same episode. For 15 minutes (3 readings of 5
// minutes): a new episode.
#[rstest]
#[case(1, 1)]
#[case(2, 1)]
#[case(3, 2)]
fn a_new_alert_needs_a_new_episode(#[case] in_range_readings: usize, #[case] expected: usize) {
    let values = [
        repeat(60.0, 6),
        repeat(90.0, in_range_readings),
        repeat(60.0, 6),
        repeat(90.0, 8),
    ]
    .concat();
    let mut diary = Diary::default();
    diary.cgm("2026-03-10 02:00", 5, &values);
    let alerts = diary.eval(&t1_cgm(), "2026-03-10 12:00");
    assert_eq!(kinds(&alerts), vec![AlertKind::HypoL1; expected]);
}

// Re-evaluating an episode that deepens keeps its key: the stored alert is escalated.
#[test]
fn an_episode_keeps_its_key_while_it_deepens() {
    let mut diary = Diary::default();
    diary.cgm("2026-03-10 02:00", 5, &[65.0, 64.0, 62.0, 60.0, 58.0]);
    let early = diary.eval(&t1_cgm(), "2026-03-10 02:21");
    diary.cgm("2026-03-10 02:25", 5, &[52.0, 50.0, 53.0, 55.0]);
    let later = diary.eval(&t1_cgm(), "2026-03-10 02:41");
    assert_eq!(kinds(&early), [AlertKind::HypoL1]);
    assert_eq!(kinds(&later), [AlertKind::SevereHypo]);
    assert_eq!(early[0].key, later[0].key);
    assert_eq!((early[0].ended_at, later[0].ended_at), (None, None));
    assert_eq!(later[0].extreme, Some(Level::MgDl(50.0)));
    assert_eq!(diary.eval(&t1_cgm(), "2026-03-10 02:41"), later);
}

// Level 3: the patient reports that someone had to help — severe, whatever the readings.
#[rstest]
#[case(true, 1)]
#[case(false, 0)]
fn a_reported_hypo_with_help_is_severe(#[case] needed_help: bool, #[case] expected: usize) {
    let mut diary = Diary::default();
    diary.report("2026-03-10 04:00", needed_help);
    let alerts = diary.eval(&t2_capillary(), "2026-03-10 12:00");
    assert_eq!(alerts.len(), expected);
    if let Some(a) = alerts.first() {
        assert_eq!(
            (a.kind, a.severity),
            (AlertKind::SevereHypo, Severity::Urgent)
        );
        assert_eq!(
            (a.advice, a.readings.as_slice()),
            (advice::HYPO_SEVERE, &[1][..])
        );
        assert_eq!(a.started_at, paris("2026-03-10 04:00"));
    }
}

// Hyper: > 250 (type 1: suggest a ketone check), > 250 type 2 without ketones, gestational > 200.
#[rstest]
#[case(t1_capillary(), 251.0, Some(advice::HYPER_KETONES))]
#[case(t1_capillary(), 250.0, None)]
#[case(t2_capillary(), 251.0, Some(advice::HYPER))]
#[case(gestational(Monitoring::Capillary), 201.0, Some(advice::HYPER))]
#[case(gestational(Monitoring::Capillary), 200.0, None)]
fn hyper_thresholds(#[case] p: Prescription, #[case] mg: f64, #[case] advice: Option<&str>) {
    let mut diary = Diary::default();
    diary
        .cap("2026-03-10 16:00", mg)
        .cap("2026-03-10 16:30", 150.0);
    let alerts = diary.eval(&p, "2026-03-10 20:00");
    // Out of target either way; a hyper alert covers the reading, so only one alert remains.
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    match advice {
        Some(text) => {
            assert_eq!(
                (a.kind, a.severity, a.advice),
                (AlertKind::Hyper, Severity::Warning, text)
            );
        }
        None => assert_eq!(
            (a.kind, a.severity),
            (AlertKind::OutOfTarget, Severity::Info)
        ),
    }
}

// The physician edits the hyper threshold 250 → 300 (policy version 2): the same 280 mg/dL hour
// is now out of target only, and the alert says which policy produced it.
#[rstest]
#[case(250.0, 1, AlertKind::Hyper)]
#[case(300.0, 2, AlertKind::OutOfTarget)]
fn a_policy_edit_changes_the_outcome(
    #[case] hyper: f64,
    #[case] version: u32,
    #[case] kind: AlertKind,
) {
    let mut p = t1_cgm();
    p.policy.hyper_mg_dl = hyper;
    p.policy.version = version;
    let mut diary = Diary::default();
    diary.cgm(
        "2026-03-10 13:00",
        5,
        &[repeat(280.0, 12), repeat(150.0, 6)].concat(),
    );
    let alerts = diary.eval(&p, "2026-03-10 20:00");
    assert_eq!(kinds(&alerts), [kind]);
    assert_eq!(alerts[0].policy_version, version);
}

// Out of target: type 1 range 70–180 inclusive; gestational by meal context (fasting > 95,
// 1 h after > 140, 2 h after > 120), the range for other contexts.
#[rstest]
#[case(false, MealContext::Other, 180.0, false)]
#[case(false, MealContext::Other, 181.0, true)]
#[case(false, MealContext::Fasting, 100.0, false)]
#[case(true, MealContext::Fasting, 95.0, false)]
#[case(true, MealContext::Fasting, 96.0, true)]
#[case(true, MealContext::AfterMeal1h, 140.0, false)]
#[case(true, MealContext::AfterMeal1h, 141.0, true)]
#[case(true, MealContext::AfterMeal2h, 120.0, false)]
#[case(true, MealContext::AfterMeal2h, 121.0, true)]
#[case(true, MealContext::Other, 150.0, false)]
#[case(true, MealContext::Bedtime, 181.0, true)]
#[case(true, MealContext::BeforeMeal, 69.0, true)]
fn out_of_target_readings(
    #[case] is_gestational: bool,
    #[case] context: MealContext,
    #[case] mg: f64,
    #[case] alert: bool,
) {
    let p = if is_gestational {
        gestational(Monitoring::Capillary)
    } else {
        t1_capillary()
    };
    let mut diary = Diary::default();
    diary
        .cap_in("2026-03-10 09:00", mg, context)
        .cap("2026-03-10 09:30", 90.0);
    let alerts = diary.eval(&p, "2026-03-10 20:00");
    let expected: Vec<AlertKind> = alert
        .then_some(AlertKind::OutOfTarget)
        .into_iter()
        .collect();
    assert_eq!(kinds(&alerts), expected);
    if let Some(a) = alerts.first() {
        assert_eq!(
            (a.severity, a.extreme),
            (Severity::Info, Some(Level::MgDl(mg)))
        );
    }
}

// No storm: two hours at 200 is one out-of-target alert, not one per reading; a low whose every
// reading is in the hypo episode is the hypo alert only. But an out-of-target episode that lasts
// beyond the hyper episode inside it is raised too (info): two hours at 200 then 20 minutes at
// 260 are two hours out of target *and* a hyper, not only the hyper.
#[rstest]
#[case::hour_out_of_target_around_an_hour_high(vec![repeat(200.0, 12), repeat(280.0, 12), repeat(200.0, 12)], vec![AlertKind::OutOfTarget, AlertKind::Hyper])]
#[case::two_hours_at_200_then_20_minutes_at_260(vec![repeat(200.0, 24), repeat(260.0, 4)], vec![AlertKind::OutOfTarget, AlertKind::Hyper])]
#[case::only_out_of_target(vec![repeat(200.0, 24)], vec![AlertKind::OutOfTarget])]
#[case::low_fully_in_the_hypo(vec![repeat(65.0, 6), repeat(50.0, 6), repeat(65.0, 6)], vec![AlertKind::SevereHypo])]
fn overlapping_rules(#[case] parts: Vec<Vec<f64>>, #[case] expected: Vec<AlertKind>) {
    let values = [parts.concat(), repeat(120.0, 6)].concat();
    let mut diary = Diary::default();
    diary.cgm("2026-03-10 13:00", 5, &values);
    let alerts = diary.eval(&t1_cgm(), "2026-03-10 20:00");
    assert_eq!(kinds(&alerts), expected, "{alerts:#?}");
}

/// One capillary level-1 hypo (55 mg/dL, re-checked at 100 after 15 minutes) at 07:00 on each
/// day: below 70 and below the gestational 60, not below 54.
fn hypos_on(days: &[&str]) -> Diary {
    let mut diary = Diary::default();
    for day in days {
        diary
            .cap(&format!("{day} 07:00"), 55.0)
            .cap(&format!("{day} 07:15"), 100.0);
    }
    diary
}

// Repeated hypos: type 1 ≥ 3 level-1 episodes in 7 days, gestational ≥ 2; one alert per cluster.
#[rstest]
#[case::t1_two(t1_capillary(), &["2026-03-02", "2026-03-04"], vec![])]
#[case::t1_three(t1_capillary(), &["2026-03-02", "2026-03-04", "2026-03-08"], vec![("2026-03-08", Some("2026-03-09"))])]
#[case::t1_four_one_cluster(t1_capillary(), &["2026-03-02", "2026-03-04", "2026-03-05", "2026-03-06"], vec![("2026-03-05", Some("2026-03-11"))])]
#[case::t1_spread(t1_capillary(), &["2026-03-02", "2026-03-06", "2026-03-10"], vec![])]
#[case::t1_two_clusters(t1_capillary(), &["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-20", "2026-03-21", "2026-03-22"], vec![("2026-03-04", Some("2026-03-09")), ("2026-03-22", None)])]
#[case::gdm_two(gestational(Monitoring::Capillary), &["2026-03-02", "2026-03-08"], vec![("2026-03-08", Some("2026-03-09"))])]
#[case::gdm_seven_days_apart(gestational(Monitoring::Capillary), &["2026-03-02", "2026-03-09"], vec![])]
fn repeated_hypos(
    #[case] p: Prescription,
    #[case] days: &[&str],
    #[case] clusters: Vec<(&str, Option<&str>)>,
) {
    let alerts = hypos_on(days).eval(&p, "2026-03-25 12:00");
    let repeated: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::RepeatedHypos)
        .collect();
    let got: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = repeated
        .iter()
        .map(|a| (a.started_at, a.ended_at))
        .collect();
    let want: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = clusters
        .iter()
        .map(|(start, end)| {
            (
                paris(&format!("{start} 07:00")),
                end.map(|e| paris(&format!("{e} 07:00"))),
            )
        })
        .collect();
    assert_eq!(got, want);
    for a in repeated {
        assert_eq!(
            (a.severity, a.raised_by),
            (Severity::Warning, RaisedBy::Both)
        );
        assert_eq!(a.advice, advice::HYPO_REPEATED);
    }
}

#[test]
fn alerts_are_sorted_and_serializable() {
    let mut diary = Diary::default();
    diary
        .cap("2026-03-10 16:00", 300.0)
        .cap("2026-03-10 16:30", 120.0)
        .cap("2026-03-10 07:00", 50.0)
        .cap("2026-03-10 07:15", 120.0)
        .report("2026-03-09 22:00", true);
    let alerts = diary.eval(&t1_capillary(), "2026-03-10 20:00");
    assert_eq!(
        kinds(&alerts),
        [
            AlertKind::SevereHypo,
            AlertKind::SevereHypo,
            AlertKind::Hyper
        ]
    );
    let json = serde_json::to_value(&alerts).unwrap();
    assert_eq!(json[0]["kind"], "severe-hypo");
    assert_eq!(json[0]["key"], "hypo-report@2026-03-09T21:00:00Z");
    assert_eq!(json[1]["key"], "hypo@2026-03-10T06:00:00Z");
    assert_eq!(json[2]["advice"], "advice.hyper.ketones");
    assert_eq!(json[2]["severity"], "warning");
    assert_eq!(json[2]["raised_by"], "device");
}

#[test]
fn every_advice_key_is_listed_once() {
    let mut keys = advice::ALL.to_vec();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 9);
    assert!(keys.iter().all(|k| k.starts_with("advice.")));
}
