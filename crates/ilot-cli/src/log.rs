//! `ilot log …`: one entry typed by the patient (or the nurse beside them).

use anyhow::Result;
use clap::{Args, Subcommand};
use ilot_domain::{
    Activity, ActivityIntensity, Carbs, EducationSession, Entry, EntryKind, Glucose, GlucoseLevel,
    GlucoseReading, GlucoseUnit, HbA1c, HypoEvent, InsulinDelivery, InsulinDose, InsulinKind,
    KetoneSource, Ketones, MealContext, Note, ReadingType, Source, Weight,
};
use ilot_store::AddOutcome;

use crate::context::Ctx;
use crate::show;
use crate::timearg;

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(subcommand)]
    pub what: What,
    /// When it happened (default: now): 2026-03-01T08:00:00+01:00, 2026-03-01 08:00 or 08:00
    #[arg(long, global = true)]
    pub at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// A glucose reading: `ilot log glucose 1,26 g/L --context fasting` (LO/HI accepted)
    Glucose {
        value: String,
        unit: GlucoseUnit,
        /// fasting, before-meal, after-meal-1h, after-meal-2h, bedtime, night, other (default: from the time of day)
        #[arg(long)]
        context: Option<MealContext>,
        /// capillary, interstitial (a sensor's history), lab, scan (a flash sensor scan)
        #[arg(long = "type", default_value = "capillary")]
        reading_type: ReadingType,
        /// A flash sensor scan (the same as `--type scan`)
        #[arg(long, conflicts_with = "reading_type")]
        scan: bool,
    },
    /// An insulin dose in units (0.1 U): `ilot log insulin 6 --kind bolus`
    Insulin {
        units: String,
        #[arg(long)]
        kind: InsulinKind,
        #[arg(long, default_value = "pen")]
        delivery: InsulinDelivery,
        /// Name of the insulin (e.g. Lantus)
        #[arg(long)]
        name: Option<String>,
    },
    /// Carbohydrates eaten, grams
    Carbs {
        grams: f64,
        #[arg(long)]
        label: Option<String>,
    },
    /// A hypoglycaemia lived through
    Hypo {
        /// Symptom (repeat for several): sweating, trembling, confusion…
        #[arg(long = "symptom")]
        symptoms: Vec<String>,
        /// What was taken (e.g. "3 sugar cubes")
        #[arg(long)]
        treatment: Option<String>,
        /// Someone else had to help (level 3, severe)
        #[arg(long)]
        needed_help: bool,
        /// Glucose measured then, with its unit: `--glucose 0.55 --unit g/L`
        #[arg(long, requires = "unit")]
        glucose: Option<String>,
        #[arg(long)]
        unit: Option<GlucoseUnit>,
    },
    /// Ketones: blood in mmol/L, urine in crosses (0–4)
    Ketones {
        value: f64,
        #[arg(long, default_value = "blood")]
        source: KetoneSource,
    },
    /// Weight in kg
    Weight { kg: f64 },
    /// HbA1c lab result in %
    Hba1c { percent: f64 },
    /// Physical activity in minutes
    Activity {
        minutes: u32,
        #[arg(long, default_value = "moderate")]
        intensity: ActivityIntensity,
        #[arg(long)]
        description: Option<String>,
    },
    /// A free note
    Note { text: String },
    /// A therapeutic-education session held with the patient (nurse)
    Education {
        /// Topic covered (repeat): hypo, hyper, insulin-technique, meter, meals, sick-days, when-to-call…
        #[arg(long = "topic", required = true)]
        topics: Vec<String>,
        /// The patient's understanding: good, partial, to-review
        #[arg(long)]
        understanding: Option<String>,
        #[arg(long)]
        notes: Option<String>,
        #[arg(long)]
        next_goals: Option<String>,
        /// Who led the session
        #[arg(long)]
        educator: Option<String>,
        /// Held remotely (video or phone)
        #[arg(long)]
        remote: bool,
    },
}

pub fn run(ctx: &mut Ctx, args: LogArgs) -> Result<()> {
    let at = match &args.at {
        Some(t) => timearg::parse_at(t, ctx.tz, ctx.now)?,
        None => ctx.now.with_timezone(&ctx.tz).fixed_offset(),
    };
    let kind = build(args.what, at.time())?;
    let entry = Entry::new(at, Source::manual(), kind, ctx.now)?;
    match ctx.store.add(&entry, ctx.now)? {
        AddOutcome::Added(id) => println!(
            "saved entry #{id}: {}",
            show::entry_line(&entry, ctx.preferred_unit())
        ),
        AddOutcome::Duplicate(id) => println!("already saved as entry #{id}"),
        AddOutcome::Conflict { existing } => {
            println!("not saved: entry #{existing} holds a different value for the same record")
        }
    }
    Ok(())
}

pub fn build(what: What, local_time: chrono::NaiveTime) -> Result<EntryKind> {
    Ok(match what {
        What::Glucose {
            value,
            unit,
            context,
            reading_type,
            scan,
        } => {
            let level = GlucoseLevel::parse(&value, unit)?;
            let context = context.unwrap_or_else(|| MealContext::suggest(local_time));
            let reading_type = if scan {
                ReadingType::Scan
            } else {
                reading_type
            };
            EntryKind::Glucose(GlucoseReading::new(level, reading_type, context))
        }
        What::Insulin {
            units,
            kind,
            delivery,
            name,
        } => {
            let mut dose = InsulinDose::parse(&units, kind, delivery)?;
            dose.insulin_name = name;
            EntryKind::Insulin(dose)
        }
        What::Carbs { grams, label } => EntryKind::Carbs(Carbs::new(grams, label)?),
        What::Hypo {
            symptoms,
            treatment,
            needed_help,
            glucose,
            unit,
        } => {
            let glucose = match (glucose, unit) {
                (Some(v), Some(u)) => Some(Glucose::parse(&v, u)?),
                _ => None,
            };
            EntryKind::Hypo(HypoEvent {
                symptoms,
                treatment,
                needed_help,
                glucose,
            })
        }
        What::Ketones { value, source } => EntryKind::Ketones(Ketones::new(value, source)?),
        What::Weight { kg } => EntryKind::Weight(Weight::new(kg)?),
        What::Hba1c { percent } => EntryKind::Hba1c(HbA1c::new(percent)?),
        What::Activity {
            minutes,
            intensity,
            description,
        } => EntryKind::Activity(Activity::new(minutes, intensity, description)?),
        What::Note { text } => EntryKind::Note(Note::new(text)?),
        What::Education {
            topics,
            understanding,
            notes,
            next_goals,
            educator,
            remote,
        } => {
            let mut session = EducationSession::new(topics)?;
            session.understanding = understanding;
            session.notes = notes;
            session.next_goals = next_goals;
            session.educator = educator;
            session.remote = remote;
            EntryKind::Education(session)
        }
    })
}
