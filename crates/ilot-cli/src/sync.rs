//! `ilot enroll`, `ilot sync`, `ilot consent`: the device side of transmission, on the patient's
//! encrypted database (which also keeps the sync state and the device key).

use anyhow::{Context, Result};
use ilot_sync::{Backoff, HttpTransport, Limits, SyncState, Transport};

use crate::context::Ctx;

#[derive(Debug, clap::Args)]
pub struct EnrollArgs {
    /// The code from the care team (ABCDE-FGHJK) or the ilot://enrol link of the QR code
    pub code: String,
    /// The server address (needed with a typed code)
    #[arg(long)]
    pub server: Option<String>,
    /// A name for this device, shown to the care team
    #[arg(long)]
    pub label: Option<String>,
    /// An extra root certificate (PEM) to trust for this server, e.g. the one a development
    /// server printed (`ilot server --dev-tls`); kept for later syncs
    #[arg(long)]
    pub ca: Option<std::path::PathBuf>,
}

/// The transport to `server`, trusting the saved extra root when there is one.
fn transport(
    server: &ilot_wire::ServerUrl,
    root: Option<&str>,
) -> ilot_sync::Result<HttpTransport> {
    Ok(match root {
        Some(pem) => HttpTransport::with_root_pem(server.clone(), pem.as_bytes())?,
        None => HttpTransport::new(server.clone())?,
    })
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Attempts in all when the server cannot be reached (with exponential backoff)
    #[arg(long, default_value_t = 1)]
    pub attempts: u32,
    /// Most entries per sealed batch (smaller batches: less resent after a failure)
    #[arg(long, default_value_t = ilot_wire::MAX_BATCH_ITEMS as u32,
          value_parser = clap::value_parser!(u32).range(1..=ilot_wire::MAX_BATCH_ITEMS as i64))]
    pub batch_entries: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConsentCmd {
    /// The patient was informed and agrees to transmission
    Grant {
        /// Version of the information notice shown
        #[arg(long, default_value_t = 1)]
        notice_version: u32,
    },
    /// Stop all transmission; the server is told once
    Withdraw,
    /// Show the recorded decision
    Show,
}

/// Enrols this device; a device already enrolled is refused by the engine, unless the server
/// refused it as revoked (`ilot sync` said so): then it is enrolled again in place, for the same
/// patient, and what it has not sent goes at the next sync under the new identity.
pub fn enroll(ctx: &mut Ctx, args: EnrollArgs) -> Result<()> {
    let root = match &args.ca {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the certificate {}", p.display()))?,
        ),
        None => None,
    };
    let resp = ilot_sync::enrol(
        &mut ctx.store,
        &args.code,
        args.server.as_deref(),
        |s| Ok(Box::new(transport(s, root.as_deref())?) as Box<dyn Transport>),
        args.label,
        &mut rand::rng(),
        ctx.now,
    )
    .map_err(|e| match e {
        ilot_sync::SyncError::Refused {
            code: ilot_wire::api::ErrorCode::CodeForAnotherPatient,
            message,
            ..
        } => anyhow::anyhow!(
            "{message}; this device stays enrolled for its patient and keeps every entry"
        ),
        e => e.into(),
    })?;
    if let Some(pem) = &root {
        ilot_sync::set_server_root_pem(&mut ctx.store, pem)?;
    }
    match resp.replaced {
        Some(old) => println!(
            "enrolled again in place as {} (patient {}, device {}, replacing revoked device {}); nothing was lost: what it had not sent ({} waiting) goes under this identity at the next sync (ilot sync)",
            resp.pseudonym,
            resp.patient_id,
            resp.device_id,
            old,
            ctx.store.outbox_len()?
        ),
        None => println!(
            "enrolled as {} (patient {}, device {})",
            resp.pseudonym, resp.patient_id, resp.device_id
        ),
    }
    if ctx.store.consent()?.is_none() {
        println!("nothing will be sent until consent is recorded: ilot consent grant");
    }
    Ok(())
}

pub fn sync(ctx: &mut Ctx, args: &SyncArgs) -> Result<()> {
    let id = ctx
        .store
        .identity()?
        .context("this device is not enrolled; run ilot enroll CODE first")?;
    let root = ilot_sync::server_root_pem(&ctx.store)?;
    let transport = transport(&id.server, root.as_deref())?;
    let backoff = Backoff {
        attempts: args.attempts.max(1),
        ..Backoff::default()
    };
    let now = ctx.now;
    let store = &mut ctx.store;
    let limits = Limits {
        max_entries: args.batch_entries as usize,
        ..Limits::default()
    };
    let report = backoff.run(&mut rand::rng(), std::thread::sleep, || {
        ilot_sync::sync_once(store, &transport, limits, &mut rand::rng(), now)
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "batches": report.batches, "sent": report.sent, "stored": report.stored,
                "duplicates": report.duplicates, "retired": report.retired,
                "consent_told": report.consent_told, "withdrawn": report.withdrawn,
                "withheld": report.withheld,
                "consent_followed": report.consent_followed.map(|d| d.as_str()),
                "prescription_version": report.prescription_version, "messages": report.messages,
                "appointments": report.appointments, "alert_acks": report.alert_acks,
                "pending": ctx.store.outbox_len()?,
            })
        );
        return Ok(());
    }
    if let Some(d) = report.consent_followed {
        println!(
            "the care team recorded in consultation that consent is {}: this device follows it",
            d.as_str()
        );
    }
    if report.withdrawn {
        println!("consent is withdrawn: nothing was sent");
        return Ok(());
    }
    if report.withheld > 0 {
        println!(
            "{} entries measured while consent was withdrawn stay on this device (never sent)",
            report.withheld
        );
    }
    println!(
        "sent {} entries in {} batches ({} new on the server, {} already there); {} waiting",
        report.sent,
        report.batches,
        report.stored,
        report.duplicates,
        ctx.store.outbox_len()?
    );
    if let Some(v) = report.prescription_version {
        println!("prescription updated to version {v}");
    }
    println!(
        "received {} messages, {} appointments, {} alert acknowledgements",
        report.messages, report.appointments, report.alert_acks
    );
    Ok(())
}

/// What the care team sent, as the device received it (its sync state).
pub fn inbox(ctx: &Ctx, json: bool) -> Result<()> {
    let messages = ctx.store.messages()?;
    let appointments = ctx.store.appointments()?;
    let acks = ctx.store.alert_acks()?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "messages": messages, "appointments": appointments, "alert_acks": acks,
            })
        );
        return Ok(());
    }
    println!("{} messages", messages.len());
    for m in &messages {
        println!(
            "  {} {}: {}",
            m.sent_at.format("%Y-%m-%d %H:%M UTC"),
            m.from.name,
            m.text
        );
    }
    println!("{} appointments", appointments.len());
    for a in &appointments {
        println!(
            "  {} {:?} {} min{}",
            a.starts_at.format("%Y-%m-%d %H:%M UTC"),
            a.kind,
            a.duration_min,
            if a.cancelled { " (cancelled)" } else { "" }
        );
    }
    println!("{} alert acknowledgements", acks.len());
    for a in &acks {
        println!(
            "  {} by {} at {}{}",
            a.alert_key,
            a.by.name,
            a.acknowledged_at.format("%Y-%m-%d %H:%M UTC"),
            a.note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

pub fn consent(ctx: &mut Ctx, cmd: ConsentCmd) -> Result<()> {
    match cmd {
        ConsentCmd::Grant { notice_version } => {
            ilot_sync::set_consent(&mut ctx.store, true, notice_version, ctx.now)?;
            println!("consent recorded; entries will be sent at the next sync");
        }
        ConsentCmd::Withdraw => {
            ilot_sync::set_consent(&mut ctx.store, false, 0, ctx.now)?;
            println!(
                "consent withdrawn: nothing more will be sent; the care team is told at the next sync"
            );
        }
        ConsentCmd::Show => match ctx.store.consent()? {
            None => println!("no consent recorded: nothing is sent"),
            Some(c) => println!(
                "{} on {}{} (notice version {}){}",
                if c.granted { "granted" } else { "withdrawn" },
                c.at.format("%Y-%m-%d %H:%M UTC"),
                if c.channel == ilot_wire::ConsentChannel::Consultation {
                    ", recorded by the care team in consultation"
                } else {
                    ""
                },
                c.notice_version,
                if c.told_server {
                    "; the server knows"
                } else {
                    "; the server will be told at the next sync"
                }
            ),
        },
    }
    Ok(())
}
