//! Observance over one year of 1-minute CGM data (525,600 readings), against a baseline that
//! walks every reading once. Run: `cargo bench -p ilot-rules --bench observance`.
//! Prints median times and their ratio; nothing is asserted (timings vary by machine).

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::{
    DiabetesType, InsulinKind, MealContext, Monitoring, PatientProfile, Prescription,
};
use ilot_rules::observance::observance;
use ilot_rules::{Data, GlucosePoint, InsulinPoint, Level};

const MINUTES_A_YEAR: i64 = 525_600;
const RUNS: usize = 201;

fn median(mut f: impl FnMut()) -> Duration {
    for _ in 0..5 {
        f();
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn main() {
    let start = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
    let mut prescription = Prescription::new(DiabetesType::Type1, Monitoring::Cgm, 4, start);
    prescription.cgm_interval_min = 1;
    prescription.expected_readings_per_day = 0.7 * 1440.0;
    let profile = PatientProfile::new("bench");
    let t0: DateTime<Utc> = "2026-01-09T23:00:00Z".parse().unwrap();
    let glucose: Vec<GlucosePoint> = (0..MINUTES_A_YEAR)
        .map(|k| GlucosePoint {
            id: k as u64,
            at: t0 + TimeDelta::minutes(k),
            level: Level::MgDl(80.0 + (k % 200) as f64),
            cgm: true,
            scan: false,
            context: MealContext::Other,
        })
        .collect();
    let insulin: Vec<InsulinPoint> = (0..365 * 4)
        .map(|k| InsulinPoint {
            id: 1_000_000 + k as u64,
            at: t0 + TimeDelta::hours(6 * k),
            kind: InsulinKind::Bolus,
            units: 4.0,
        })
        .collect();
    let data = Data {
        glucose: &glucose,
        insulin: &insulin,
        ..Data::default()
    };
    let now = t0 + TimeDelta::minutes(MINUTES_A_YEAR);

    let ours = median(|| {
        black_box(observance(
            black_box(&prescription),
            &profile,
            black_box(&data),
            now,
        ));
    });
    // Baseline: the least any per-reading approach must do, one pass counting CGM readings.
    let baseline = median(|| {
        let n = black_box(&glucose)
            .iter()
            .filter(|p| p.cgm && p.at < now)
            .count();
        black_box(n);
    });
    let o = observance(&prescription, &profile, &data, now);
    println!(
        "observance, 1 year of 1-minute CGM ({} readings, {} periods): median {:?}",
        glucose.len(),
        o.periods.len(),
        ours
    );
    println!("baseline, one counting pass over the readings: median {baseline:?}");
    let ratio = ours.as_secs_f64() / baseline.as_secs_f64();
    println!(
        "ratio observance / baseline: {ratio:.4} (observance is {:.0}x faster)",
        1.0 / ratio
    );
}
