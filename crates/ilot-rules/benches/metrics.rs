//! Benchmark: metrics() + agp() over 90 days of 1-minute CGM (129,600 readings), against a
//! memory-bound baseline (one pass summing the values) measured in the same run.
//!
//! Run: `cargo bench -p ilot-rules --bench metrics`. Target: metrics + AGP <= 5 ms.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use ilot_domain::MealContext;
use ilot_rules::agp::agp;
use ilot_rules::metrics::{Ranges, Window, metrics};
use ilot_rules::{GlucosePoint, Level};

const DAYS: i64 = 90;
const RUNS: usize = 41;
const TARGET: Duration = Duration::from_millis(5);

/// Deterministic pseudo-random walk between 40 and 400 mg/dL (xorshift64*), with the odd LO/HI.
fn synthetic_cgm() -> Vec<GlucosePoint> {
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut v = 120.0_f64;
    (0..DAYS * 1440)
        .map(|m| {
            let r = next();
            // Three meal peaks a day around which the walk wanders, lows included.
            let phase = (m % 1440) as f64 / 1440.0 * std::f64::consts::TAU * 3.0;
            let target = 130.0 + 70.0 * phase.sin();
            let step = ((r >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 8.0;
            v = (v + step + (target - v) * 0.02).clamp(40.0, 400.0);
            let level = match r % 20_000 {
                0 => Level::Lo,
                1 => Level::Hi,
                _ => Level::MgDl(v.round()),
            };
            GlucosePoint {
                id: m as u64,
                at: start + TimeDelta::minutes(m),
                level,
                cgm: true,
                scan: false,
                context: MealContext::Other,
            }
        })
        .collect()
}

fn median_time(mut f: impl FnMut()) -> Duration {
    for _ in 0..3 {
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
    let points = synthetic_cgm();
    let window = Window::new(points[0].at, points[0].at + TimeDelta::days(DAYS));
    let tz = Tz::Europe__Paris;

    let ours = median_time(|| {
        let m = metrics(black_box(&points), window, &Ranges::consensus());
        let a = agp(black_box(&points), window, tz, 15);
        black_box((m, a));
    });
    let baseline = median_time(|| {
        let sum: f64 = black_box(&points)
            .iter()
            .filter_map(|p| p.level.mg_dl())
            .sum();
        black_box(sum);
    });

    let metrics_only = median_time(|| {
        black_box(metrics(black_box(&points), window, &Ranges::consensus()));
    });
    let agp_only = median_time(|| {
        black_box(agp(black_box(&points), window, tz, 15));
    });

    let m = metrics(&points, window, &Ranges::consensus());
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{} readings: mean {:.1} mg/dL, TIR {:.1} %, {} level-1 hypo episodes",
        m.n_readings,
        m.mean_mg_dl.unwrap_or(f64::NAN),
        m.tir_percent.unwrap_or(f64::NAN),
        m.hypo_level1_episodes
    );
    println!(
        "metrics+agp 90d 1-min: {:.3} ms; baseline sum pass: {:.3} ms; ratio {:.1} (median of {RUNS})",
        ms(ours),
        ms(baseline),
        ours.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "  of which metrics {:.3} ms, agp {:.3} ms",
        ms(metrics_only),
        ms(agp_only)
    );
    println!(
        "target <= {} ms: {}",
        TARGET.as_millis(),
        if ours <= TARGET { "met" } else { "NOT met" }
    );
}
