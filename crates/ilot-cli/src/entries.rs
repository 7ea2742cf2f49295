//! `ilot entries`, `ilot history`, `ilot correct`, `ilot delete`: reading and amending the diary.
//! Corrections never overwrite: the store keeps every previous version.

use anyhow::{Result, bail};
use clap::Args;
use ilot_store::StoredEntry;

use crate::context::Ctx;
use crate::log::{What, build};
use crate::show;
use crate::timearg;

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub to: Option<String>,
    /// Only this kind: glucose, insulin, carbs, hypo, ketones, weight, hba1c, activity, note
    #[arg(long)]
    pub kind: Option<String>,
    /// Also show deleted entries
    #[arg(long)]
    pub deleted: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CorrectArgs {
    /// Entry number (see `ilot entries`)
    pub id: i64,
    #[command(subcommand)]
    pub what: What,
    /// New time (default: unchanged)
    #[arg(long, global = true)]
    pub at: Option<String>,
    /// Why it is corrected (kept with the history)
    #[arg(long, global = true)]
    pub reason: Option<String>,
}

pub fn list(ctx: &Ctx, args: &ListArgs) -> Result<()> {
    let from = args
        .from
        .as_deref()
        .map(|t| timearg::parse_at(t, ctx.tz, ctx.now))
        .transpose()?;
    let to = args
        .to
        .as_deref()
        .map(|t| timearg::parse_at(t, ctx.tz, ctx.now))
        .transpose()?;
    let rows = ctx.store.entries(
        from.map(|t| t.to_utc()),
        to.map(|t| t.to_utc()),
        args.kind.as_deref(),
        args.deleted,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for row in &rows {
        println!("{}", line(ctx, row));
    }
    println!("{} entries", rows.len());
    Ok(())
}

pub fn history(ctx: &Ctx, id: i64, json: bool) -> Result<()> {
    let versions = ctx.store.history(id)?;
    if versions.is_empty() {
        bail!("no entry #{id}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&versions)?);
        return Ok(());
    }
    for v in &versions {
        let when = v
            .recorded_at
            .with_timezone(&ctx.tz)
            .format("%Y-%m-%d %H:%M");
        let reason = v
            .reason
            .as_deref()
            .map(|r| format!(" — {r}"))
            .unwrap_or_default();
        let state = if v.deleted { "deleted" } else { "recorded" };
        println!(
            "v{} {state} {when}{reason}: {}",
            v.version,
            show::local_line(&v.entry, ctx.unit, ctx.tz)
        );
    }
    Ok(())
}

pub fn correct(ctx: &mut Ctx, args: CorrectArgs) -> Result<()> {
    let Some(current) = ctx.store.get(args.id)? else {
        bail!("no entry #{}", args.id)
    };
    let at = match &args.at {
        Some(t) => timearg::parse_at(t, ctx.tz, ctx.now)?,
        None => current.entry.at,
    };
    let kind = build(args.what, at.time())?;
    let entry = ilot_domain::Entry::new(at, current.entry.source.clone(), kind, ctx.now)?;
    let version = ctx
        .store
        .correct(args.id, &entry, args.reason.as_deref(), ctx.now)?;
    println!(
        "entry #{} corrected (version {version}; the previous version is kept): {}",
        args.id,
        show::entry_line(&entry, ctx.unit)
    );
    Ok(())
}

pub fn delete(ctx: &mut Ctx, id: i64, reason: Option<&str>) -> Result<()> {
    let version = ctx.store.delete(id, reason, ctx.now)?;
    println!("entry #{id} deleted (version {version}; its history is kept)");
    Ok(())
}

fn line(ctx: &Ctx, row: &StoredEntry) -> String {
    let mut flags = String::new();
    if row.version > 1 {
        flags.push_str(&format!(" [corrected, v{}]", row.version));
    }
    if row.deleted {
        flags.push_str(" [deleted]");
    }
    format!(
        "#{:<7} {}{flags}",
        row.id,
        show::local_line(&row.entry, ctx.unit, ctx.tz)
    )
}
