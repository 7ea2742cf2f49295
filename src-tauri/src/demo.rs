//! Demo data for `ILOT_DEMO=1` (the README's run command): when the database holds no entry, a
//! demo profile and a type 1 CGM prescription (unless already recorded, e.g. by an enrolment) and
//! a synthetic but realistic trace ending now, so that the home screen, the charts and the
//! observance have something to show.
//!
//! The trace is synthetic, not a shifted real recording: the app must not read files outside its
//! own data folder, and a generated trace can end exactly now with a calm last value. It is
//! deterministic (a fixed-seed generator) and shaped like a type 1 day: a dawn rise, three meal
//! peaks of varying size an hour after eating, slow day-to-day drift, sensor noise, a night-time
//! low on some nights (so TBR, hypo episodes and their alerts exist), and one sensor change gap.
//! `ILOT_DEMO_DAYS` (default 45, at most 400) sets its length, e.g. 365 for the memory benchmark.
//! Nothing here is used outside demo mode.

use chrono::{DateTime, Days, NaiveTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use ilot_domain::{
    Activity, ActivityIntensity, BasalSchedule, Carbs, DeviceId, DiabetesType, EducationSession,
    Entry, EntryKind, Glucose, GlucoseReading, GlucoseUnit, HypoEvent, InsulinDelivery,
    InsulinDose, InsulinKind, KetoneSource, Ketones, Monitoring, Note, PatientProfile,
    Prescription, Source, SourceKind, Weight,
};
use ilot_store::Store;

use crate::error::{Error, Result};

pub const DEFAULT_DAYS: u32 = 45;
const CGM_DEVICE: &str = "demo:cgm-sim:0001";
const BASAL_UNITS: f64 = 18.0;

/// Seeds the store if it holds no entry: the demo profile and prescription where none is
/// recorded (an enrolment may already have brought the care team's prescription, which is kept),
/// then the trace. Returns the number of entries added.
pub fn seed_if_empty(store: &mut Store, now: DateTime<Utc>, days: u32) -> Result<usize> {
    if store.count_entries()? > 0 {
        return Ok(0);
    }
    let tz = chrono_tz::Europe::Paris;
    let days = days.clamp(2, 400);
    if store.profile()?.is_none() {
        let mut profile = PatientProfile::new("demo-001");
        profile.tz = tz;
        profile.preferred_unit = GlucoseUnit::GramsPerLitre;
        store.set_profile(&profile, now)?;
    }
    if store.prescription()?.is_none() {
        let today = now.with_timezone(&tz).date_naive();
        let start = today
            .checked_sub_days(Days::new(u64::from(days) - 1))
            .unwrap_or(today);
        let mut p = Prescription::new(DiabetesType::Type1, Monitoring::Cgm, 4, start);
        p.basal = vec![BasalSchedule {
            time: NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default(),
            units: BASAL_UNITS,
        }];
        store.set_prescription(&p, now)?;
    }
    let entries = trace(now, tz, days)?;
    let report = store.add_batch(&entries, now)?;
    Ok(report.added)
}

/// A small deterministic generator (xorshift64*), enough for plausible noise.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (sum of uniforms), mean 0, SD 1.
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.next()).sum::<f64>() - 6.0
    }
}

/// What makes one day differ from another: meal sizes (× the typical peak) and delays (hours),
/// a drift of the whole day (mg/dL), and whether the night dips low.
#[derive(Debug, Clone, Copy)]
struct Day {
    sizes: [f64; 3],
    shifts: [f64; 3],
    drift: f64,
    dips: bool,
}

/// Meal times (local hours), carbohydrates (g) and the typical peak (mg/dL) they cause.
const MEALS: [(f64, f64, f64); 3] = [(7.5, 45.0, 60.0), (12.5, 70.0, 85.0), (19.5, 60.0, 75.0)];

/// Every demo entry from `now − days` to `now`, oldest first.
pub fn trace(now: DateTime<Utc>, tz: Tz, days: u32) -> Result<Vec<Entry>> {
    let mut rng = Rng(0x1107_2026_D1AB_E7E5);
    let step = TimeDelta::minutes(5);
    let end = now
        - TimeDelta::seconds(i64::from(now.second()))
        - TimeDelta::minutes(i64::from(now.minute() % 5));
    let first = end - TimeDelta::days(i64::from(days));
    let n = (end - first).num_minutes() / 5;
    let device = DeviceId::new(CGM_DEVICE)?;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).fixed_offset();
    let mut out: Vec<Entry> = Vec::with_capacity(n as usize + days as usize * 8);

    // Per day: meal sizes, drift, whether the night dips low.
    let n_days = days as usize + 2;
    let day_params: Vec<Day> = (0..n_days)
        .map(|_| Day {
            sizes: [
                0.5 + 1.1 * rng.next(),
                0.5 + 1.1 * rng.next(),
                0.5 + 1.1 * rng.next(),
            ],
            shifts: [rng.normal() * 0.5, rng.normal() * 0.5, rng.normal() * 0.6],
            drift: 22.0 * rng.normal(),
            dips: rng.next() < 0.18,
        })
        .collect();
    // A sensor change: four hours without readings, a week before the end.
    let gap_from = end - TimeDelta::days(7) - TimeDelta::hours(10);
    let gap_to = gap_from + TimeDelta::hours(4);

    let first_day = first.with_timezone(&tz).date_naive();
    let mut noise = 0.0;
    for k in 0..=n {
        let t = first + step * k as i32;
        let lt = t.with_timezone(&tz);
        let day = usize::try_from((lt.date_naive() - first_day).num_days()).unwrap_or(0);
        let Day {
            sizes,
            shifts,
            drift,
            dips,
        } = day_params[day.min(n_days - 1)];
        let h = f64::from(lt.hour()) + f64::from(lt.minute()) / 60.0;
        let mut v = 120.0 + drift + 18.0 * ((h - 5.0) / 24.0 * std::f64::consts::TAU).sin();
        for (i, (meal_h, _, peak)) in MEALS.iter().enumerate() {
            let x = (h - meal_h - shifts[i]) * 60.0;
            if x > 0.0 {
                let tau = 55.0;
                v += peak * sizes[i] * (x / tau) * (1.0 - x / tau).exp();
            }
        }
        if dips {
            v -= 70.0 * (-((h - 3.0) / 0.9).powi(2)).exp();
        }
        noise = 0.85 * noise + 3.0 * rng.normal();
        v += noise;
        // The last three hours settle calmly in range, so the demo opens on a quiet home screen.
        let to_end = (end - t).num_minutes() as f64;
        if to_end < 180.0 {
            let w = 1.0 - to_end / 180.0;
            v = v * (1.0 - w) + (118.0 + noise * 0.3) * w;
        }
        if t >= gap_from && t < gap_to {
            continue;
        }
        let mg_dl = v.clamp(45.0, 380.0).round();
        let record = u32::try_from(k).map_err(|_| Error::Io("demo trace too long".into()))?;
        out.push(Entry::new(
            local(t),
            Source::device(SourceKind::Cgm, device.clone(), record),
            EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(mg_dl)?)),
            now,
        )?);
    }

    for d in 0..=days {
        let Some(date) = first_day.checked_add_days(Days::new(u64::from(d))) else {
            continue;
        };
        let Day {
            sizes,
            shifts,
            dips,
            ..
        } = day_params[(d as usize).min(n_days - 1)];
        let at = |h: u32, m: u32| {
            date.and_hms_opt(h, m, 0)
                .and_then(|t| t.and_local_timezone(tz).earliest())
                .map(|t| t.with_timezone(&Utc))
        };
        let mut add = |t: Option<DateTime<Utc>>, kind: EntryKind| -> Result<()> {
            if let Some(t) = t.filter(|t| *t > first && *t <= now) {
                out.push(Entry::new(local(t), Source::manual(), kind, now)?);
            }
            Ok(())
        };
        for (i, (meal_h, carbs, _)) in MEALS.iter().enumerate() {
            let t = meal_h + shifts[i];
            let (h, m) = (t as u32, (t.fract() * 60.0) as u32);
            let grams = (carbs * sizes[i] / 5.0).round() * 5.0;
            add(at(h, m), EntryKind::Carbs(Carbs::new(grams, None)?))?;
            let units = (grams / 10.0 * 2.0).round() / 2.0;
            add(
                at(h, m),
                EntryKind::Insulin(InsulinDose::new(
                    units,
                    InsulinKind::Bolus,
                    InsulinDelivery::Pen,
                )?),
            )?;
        }
        // One forgotten basal a fortnight ago, so the logbook and alerts have a real gap.
        if d != days.saturating_sub(14) {
            add(
                at(22, 5),
                EntryKind::Insulin(InsulinDose::new(
                    BASAL_UNITS,
                    InsulinKind::Basal,
                    InsulinDelivery::Pen,
                )?),
            )?;
        }
        if dips && d % 2 == 0 {
            add(
                at(3, 20),
                EntryKind::Hypo(HypoEvent {
                    symptoms: vec!["sueurs".into(), "tremblements".into()],
                    treatment: Some("3 morceaux de sucre".into()),
                    needed_help: false,
                    glucose: None,
                }),
            )?;
        }
        if d % 7 == 3 {
            add(
                at(7, 10),
                EntryKind::Weight(Weight::new(71.8 + f64::from(d % 3) * 0.3)?),
            )?;
            add(
                at(18, 0),
                EntryKind::Activity(Activity::new(
                    40,
                    ActivityIntensity::Moderate,
                    Some("marche".into()),
                )?),
            )?;
        }
        if d == 2 {
            let mut s =
                EducationSession::new(vec!["hypo".into(), "insulin".into(), "meter".into()])?;
            s.understanding = Some("good".into());
            s.notes = Some("Resucrage bien compris ; technique d'injection à revoir.".into());
            s.next_goals = Some("Noter les glucides à chaque repas.".into());
            s.educator = Some("IDE démo".into());
            add(at(14, 0), EntryKind::Education(s))?;
        }
        if d == days.saturating_sub(3) {
            add(
                at(20, 30),
                EntryKind::Ketones(Ketones::new(0.3, KetoneSource::Blood)?),
            )?;
            add(
                at(20, 35),
                EntryKind::Note(Note::new("Repas de famille, dessert en plus.")?),
            )?;
        }
    }
    out.sort_by_key(|e| e.at_utc());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ilot_rules::metrics::{Ranges, Window, metrics};

    #[test]
    fn the_demo_is_a_plausible_type_1_fortnight_ending_calmly_now() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:02:30Z")
            .unwrap()
            .to_utc();
        let mut store = Store::open_in_memory().unwrap();
        let added = seed_if_empty(&mut store, now, 45).unwrap();
        assert!(added > 12_000, "{added}");
        assert_eq!(seed_if_empty(&mut store, now, 45).unwrap(), 0, "seeds once");
        assert_eq!(store.profile().unwrap().unwrap().pseudonym, "demo-001");

        let points = store.glucose_points(None, None).unwrap();
        let last = points.last().unwrap();
        assert!(
            now - last.at < TimeDelta::minutes(5),
            "ends now: {}",
            last.at
        );
        let v = last.level.mg_dl().unwrap();
        assert!((70.0..=180.0).contains(&v), "calm last value {v}");

        let w = Window::new(now - TimeDelta::days(14), now);
        let m = metrics(&points, w, &Ranges::consensus());
        assert!(m.sufficient, "{:?}", m.insufficient_reasons);
        let tir = m.tir_percent.unwrap();
        assert!((50.0..=90.0).contains(&tir), "TIR {tir}");
        assert!(m.below_70_percent.unwrap() > 0.0, "some time below range");
        assert!(store.prescription().unwrap().is_some());
    }

    #[test]
    fn a_prescription_already_recorded_is_kept() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:02:30Z")
            .unwrap()
            .to_utc();
        let mut store = Store::open_in_memory().unwrap();
        let team = Prescription::new(
            DiabetesType::Type2Insulin,
            Monitoring::Capillary,
            1,
            now.date_naive(),
        );
        store.set_prescription(&team, now).unwrap();
        assert!(seed_if_empty(&mut store, now, 20).unwrap() > 5_000);
        assert_eq!(store.prescription().unwrap(), Some(team));
    }
}
