//! `ilot status`, `ilot alerts`, `ilot observance`: what the rules say about the stored data.

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use ilot_domain::Prescription;
use ilot_rules::observance::{self, PeriodStatus};
use serde::Serialize;

use crate::context::Ctx;
use crate::show;
use crate::timearg;

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AlertArgs {
    /// Only alerts that started from this time
    #[arg(long)]
    pub from: Option<String>,
    /// Evaluate as of this time (default: now)
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ObservanceArgs {
    /// Evaluate as of this time (default: now)
    #[arg(long)]
    pub at: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Status {
    database: String,
    entries: u64,
    outbox_pending: u64,
    last_entry_at: Option<DateTime<Utc>>,
    installation: String,
    prescription: bool,
}

pub fn status(ctx: &Ctx, args: &StatusArgs) -> Result<()> {
    let s = Status {
        database: ctx.db().display().to_string(),
        entries: ctx.store.count_entries()?,
        outbox_pending: ctx.store.outbox_len()?,
        last_entry_at: ctx.store.last_entry_at()?,
        installation: ctx.store.installation_id()?,
        prescription: ctx.store.prescription()?.is_some(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!("database      {}", s.database);
        println!("entries       {}", s.entries);
        println!("waiting to be sent  {}", s.outbox_pending);
        let last = s.last_entry_at.map(|t| {
            t.with_timezone(&ctx.tz)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        });
        println!("last entry    {}", last.unwrap_or_else(|| "none".into()));
        println!(
            "prescription  {}",
            if s.prescription {
                "recorded"
            } else {
                "none (ilot prescription set)"
            }
        );
    }
    Ok(())
}

/// The recorded prescription, or the one the rules assume without it (`ilot_rules::assumed`,
/// the same as the app's), said on stderr with its thresholds.
pub fn prescription_or_default(ctx: &Ctx) -> Result<Prescription> {
    let today = ctx.now.with_timezone(&ctx.tz).date_naive();
    let in_force = ilot_rules::assumed::prescription_or_default(ctx.store.prescription()?, today);
    if let Some(note) = in_force.note() {
        eprintln!("{note} (ilot prescription set …)");
    }
    Ok(in_force.prescription)
}

pub fn observance(ctx: &Ctx, args: &ObservanceArgs) -> Result<()> {
    let Some(prescription) = ctx.store.prescription()? else {
        bail!(
            "observance counts from the prescription's start: record it with `ilot prescription set`"
        )
    };
    let now = match &args.at {
        Some(t) => timearg::parse_at(t, ctx.tz, ctx.now)?.to_utc(),
        None => ctx.now,
    };
    let loaded = ctx.store.rules_data(None, Some(now))?;
    let obs = observance::observance(
        &prescription,
        &ctx.store.profile_or_default()?,
        &loaded.data(),
        now,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&obs)?);
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "period", "from", "to", "expected", "received", "ratio", "status", "billable",
    ]);
    for p in &obs.periods {
        let status = match p.status {
            PeriodStatus::InProgress => "in progress",
            PeriodStatus::Complete => "complete",
            PeriodStatus::Insufficient => "insufficient (< 50 %)",
            PeriodStatus::Interrupted => "interrupted (no data)",
            PeriodStatus::Deceased => "deceased (due in full)",
        };
        let billable = match p.not_billable {
            None if p.billable => "yes".to_string(),
            None => "no".to_string(),
            Some(why) => format!("no: {}", serde_json::to_value(why)?.as_str().unwrap_or("")),
        };
        table.add_row([
            p.number.to_string(),
            p.first_day.to_string(),
            p.last_day.to_string(),
            format!("{:.0}", p.expected),
            match p.scans {
                // A flash prescription counts scans, not the sensor's history.
                Some(scans) => format!("{} (scans: {scans})", p.received),
                None => p.received.to_string(),
            },
            format!("{:.0} %", p.ratio * 100.0),
            status.to_string(),
            billable,
        ]);
    }
    println!("{table}");
    println!(
        "first-month accompaniment: {}",
        serde_json::to_string(&obs.accompaniment)?
    );
    for s in &obs.series {
        println!(
            "billing series: periods {}–{} ({} to {})",
            s.first_period, s.last_period, s.from, s.to
        );
    }
    Ok(())
}

pub fn alerts(ctx: &Ctx, args: &AlertArgs) -> Result<()> {
    let prescription = prescription_or_default(ctx)?;
    let parse = |t: &Option<String>| -> Result<Option<DateTime<Utc>>> {
        t.as_deref()
            .map(|t| timearg::parse_at(t, ctx.tz, ctx.now).map(|t| t.to_utc()))
            .transpose()
    };
    let now = parse(&args.to)?.unwrap_or(ctx.now);
    let from = parse(&args.from)?;
    let loaded = ctx.store.rules_data(None, Some(now))?;
    let last_data_at = ctx.store.last_entry_at()?.filter(|t| *t <= now);
    let days_from = from.map_or(prescription.start, |f| {
        f.with_timezone(&ctx.tz).date_naive()
    });
    let mut alerts = ilot_rules::alerts::evaluate(
        &prescription,
        ctx.tz,
        &loaded.data(),
        last_data_at,
        days_from,
        now,
    );
    if let Some(from) = from {
        alerts.retain(|a| a.ended_at.is_none_or(|end| end >= from));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&alerts)?);
        return Ok(());
    }
    if alerts.is_empty() {
        println!("no alert");
    }
    for a in &alerts {
        let when = a.started_at.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M");
        let until = a.ended_at.map_or_else(
            || "ongoing".to_string(),
            |t| {
                format!(
                    "until {}",
                    t.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M")
                )
            },
        );
        let extreme = a
            .extreme
            .map(|l| format!(", {}", show::level(l, ctx.unit)))
            .unwrap_or_default();
        let severity = serde_json::to_value(a.severity)?;
        let kind = serde_json::to_value(a.kind)?;
        println!(
            "[{}] {} {when} ({until}){extreme}: {}",
            severity.as_str().unwrap_or_default(),
            kind.as_str().unwrap_or_default(),
            show::advice(a.advice)
        );
    }
    Ok(())
}
