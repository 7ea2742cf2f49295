//! `ilot prescription …` and `ilot profile …`: what the physician prescribed (normally received
//! from the operator server; set by hand for a local or demo database).

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, NaiveTime};
use clap::{Args, Subcommand};
use ilot_domain::{BasalSchedule, DiabetesType, GlucoseUnit, Monitoring, Prescription};

use crate::context::Ctx;
use crate::timearg;

#[derive(Debug, Subcommand)]
pub enum PrescriptionCmd {
    /// Record a prescription (SPEC defaults for its type; each option overrides one value)
    Set(SetArgs),
    /// Show the current prescription
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// type1, type2-insulin, gestational-insulin, gestational-no-insulin
    #[arg(long = "type")]
    pub diabetes_type: DiabetesType,
    /// capillary, flash, cgm
    #[arg(long)]
    pub monitoring: Monitoring,
    /// Start of telesurveillance, local date (day 1 of the first 30-day period)
    #[arg(long)]
    pub start: NaiveDate,
    #[arg(long, default_value_t = 1)]
    pub injections: u8,
    #[arg(long)]
    pub pump: bool,
    /// Type 1 pregnancy (consensus pregnancy ranges)
    #[arg(long)]
    pub pregnancy: bool,
    #[arg(long)]
    pub end: Option<NaiveDate>,
    #[arg(long)]
    pub inclusion_end: Option<NaiveDate>,
    /// Not a first prescription: no trial month
    #[arg(long)]
    pub renewal: bool,
    #[arg(long)]
    pub readings_per_day: Option<f64>,
    #[arg(long)]
    pub insulin_per_day: Option<u32>,
    /// Prescribed basal injection, local time and units: --basal 22:00=18 (repeatable)
    #[arg(long)]
    pub basal: Vec<String>,
    /// Target range in mg/dL: --target 70-180
    #[arg(long)]
    pub target: Option<String>,
    /// Hypo level-1 threshold (mg/dL, capillary and CGM)
    #[arg(long)]
    pub hypo: Option<f64>,
    /// Physician's severe-hypo threshold (mg/dL)
    #[arg(long)]
    pub severe: Option<f64>,
    /// Hyper threshold (mg/dL)
    #[arg(long)]
    pub hyper: Option<f64>,
    /// Hours without data before the no-data alert (cannot be disabled)
    #[arg(long)]
    pub no_data_hours: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCmd {
    /// Set the patient's profile values
    Set {
        #[arg(long)]
        pseudonym: Option<String>,
        /// IANA time zone, e.g. Europe/Paris
        #[arg(long)]
        tz: Option<String>,
        /// Display unit: g/L, mg/dL, mmol/L
        #[arg(long)]
        unit: Option<GlucoseUnit>,
        /// Date of death (the period it falls in is due in full)
        #[arg(long)]
        death: Option<NaiveDate>,
    },
    Show,
}

pub fn run(ctx: &mut Ctx, cmd: PrescriptionCmd) -> Result<()> {
    match cmd {
        PrescriptionCmd::Show { json } => {
            let Some(p) = ctx.store.prescription()? else {
                bail!("no prescription recorded: set one with `ilot prescription set`")
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                print(&p);
            }
        }
        PrescriptionCmd::Set(args) => {
            let p = build(args)?;
            let version = ctx.store.set_prescription(&p, ctx.now)?;
            println!("prescription recorded (version {version})");
            print(&p);
        }
    }
    Ok(())
}

fn build(a: SetArgs) -> Result<Prescription> {
    let mut p = Prescription::new(a.diabetes_type, a.monitoring, a.injections, a.start);
    p.pump = a.pump;
    p.pregnancy = a.pregnancy;
    if a.renewal {
        p.trial_end = None;
    }
    if let Some(d) = a.end {
        p.end = d;
    }
    if let Some(d) = a.inclusion_end {
        p.inclusion_end = d;
    }
    if let Some(n) = a.readings_per_day {
        p.expected_readings_per_day = n;
    }
    if let Some(n) = a.insulin_per_day {
        p.expected_insulin_per_day = n;
    }
    for b in &a.basal {
        let (time, units) = b
            .split_once('=')
            .with_context(|| format!("--basal {b}: write TIME=UNITS, e.g. 22:00=18"))?;
        let time = NaiveTime::parse_from_str(time.trim(), "%H:%M")
            .with_context(|| format!("--basal {b}: time as HH:MM"))?;
        let units: f64 = units
            .trim()
            .replace(',', ".")
            .parse()
            .with_context(|| format!("--basal {b}: units must be a number"))?;
        p.basal.push(BasalSchedule { time, units });
    }
    let policy = &mut p.policy;
    if let Some(t) = a.target {
        let (lo, hi) = t
            .split_once('-')
            .with_context(|| format!("--target {t}: write LOW-HIGH in mg/dL, e.g. 70-180"))?;
        policy.target.low_mg_dl = lo
            .trim()
            .parse()
            .with_context(|| format!("--target {t}: low bound"))?;
        policy.target.high_mg_dl = hi
            .trim()
            .parse()
            .with_context(|| format!("--target {t}: high bound"))?;
    }
    if let Some(v) = a.hypo {
        policy.hypo_l1_mg_dl = v;
        policy.hypo_l1_cgm_mg_dl = v;
    }
    if let Some(v) = a.severe {
        policy.severe_mg_dl = v;
    }
    if let Some(v) = a.hyper {
        policy.hyper_mg_dl = v;
    }
    if let Some(v) = a.no_data_hours {
        policy.no_data_hours = v;
    }
    p.validate()?;
    Ok(p)
}

fn print(p: &Prescription) {
    println!(
        "  {} , {:?} monitoring, {} injection(s) a day{}",
        p.diabetes_type,
        p.monitoring,
        p.injections_per_day,
        if p.pump { ", pump" } else { "" }
    );
    println!(
        "  from {} to {} (inclusion until {}{})",
        p.start,
        p.end,
        p.inclusion_end,
        p.trial_end
            .map(|t| format!(", trial until {t}"))
            .unwrap_or_default()
    );
    println!(
        "  expected a day: {:.1} glucose data, {} insulin entries",
        p.expected_readings_per_day, p.expected_insulin_per_day
    );
    let a = &p.policy;
    println!(
        "  alerts (policy v{}): target {}–{} mg/dL, hypo < {} (CGM < {}), level 2 < {}, severe < {}, hyper > {}, no data after {} h",
        a.version,
        a.target.low_mg_dl,
        a.target.high_mg_dl,
        a.hypo_l1_mg_dl,
        a.hypo_l1_cgm_mg_dl,
        a.hypo_l2_mg_dl,
        a.severe_mg_dl,
        a.hyper_mg_dl,
        a.no_data_hours
    );
    for b in &p.basal {
        println!("  basal {} U at {}", b.units, b.time.format("%H:%M"));
    }
}

pub fn profile(ctx: &mut Ctx, cmd: ProfileCmd) -> Result<()> {
    let mut p = ctx.store.profile_or_default()?;
    match cmd {
        ProfileCmd::Show => {}
        ProfileCmd::Set {
            pseudonym,
            tz,
            unit,
            death,
        } => {
            if let Some(s) = pseudonym {
                p.pseudonym = s;
            }
            if let Some(tz) = tz {
                p.tz = timearg::parse_tz(&tz)?;
            }
            if let Some(u) = unit {
                p.preferred_unit = u;
            }
            if death.is_some() {
                p.death = death;
            }
            ctx.store.set_profile(&p, ctx.now)?;
            println!("profile saved");
        }
    }
    println!("{}", serde_json::to_string_pretty(&p)?);
    Ok(())
}
