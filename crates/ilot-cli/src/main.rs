//! `ilot`: the headless front door to Ilot. Logs entries, imports CSV recordings, prints the
//! consensus report, alerts and observance of a local encrypted database. All business rules
//! live in the crates; this binary only parses arguments, opens the store and prints.

// Every `println!` and `print!` below (in this file and the modules declared after) is this
// binary's own, shadowing std's: a closed standard output ends the command quietly instead of
// panicking (`stdout.rs`).
macro_rules! println {
    () => {
        $crate::stdout::write(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*), true)
    };
}

#[allow(unused_macros)]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*), false)
    };
}

mod stdout;

mod ble;
mod context;
mod entries;
mod export;
mod import;
mod log;
mod operator;
mod prescription;
mod report;
mod server;
mod server_key;
mod show;
mod status;
mod sync;
mod timearg;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ilot_store::KeyMode;

use crate::context::Ctx;

#[derive(Debug, Parser)]
#[command(
    name = "ilot",
    version,
    about = "Ilot: diabetes telemonitoring, from the command line"
)]
struct Cli {
    /// Database file (default: the platform's data folder, ilot/ilot.db)
    #[arg(long, env = "ILOT_DB", global = true)]
    db: Option<PathBuf>,
    /// Where the database key lives: auto (OS keyring, else a 0600 key file), keyring, file
    #[arg(long, env = "ILOT_KEYSTORE", default_value = "auto", global = true)]
    keystore: KeyMode,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Bluetooth meters and CGMs: decode, scan, pair, download (sim:meter, sim:cgm without hardware)
    #[command(subcommand)]
    Ble(ble::BleCmd),
    /// Record an entry: glucose, insulin, carbs, hypo, ketones, weight, hba1c, activity, note
    Log(log::LogArgs),
    /// Import an export (LibreView, Dexcom Clarity, CareLink, Nightscout, simple CSV)
    Import(import::ImportArgs),
    /// Export every entry: `ilot export csv FILE`, `ilot export fhir FILE [--feed]`
    #[command(subcommand)]
    Export(export::ExportCmd),
    /// Glucose metrics (TIR, GMI, CV…) and AGP over a window
    Report(report::ReportArgs),
    /// Alerts raised by the prescription's rules
    Alerts(status::AlertArgs),
    /// 30-day observance periods and what is billable
    Observance(status::ObservanceArgs),
    /// List entries
    Entries(entries::ListArgs),
    /// Every version of an entry
    History {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Correct an entry (the previous version is kept)
    Correct(entries::CorrectArgs),
    /// Delete an entry (kept as a tombstone with its history)
    Delete {
        id: i64,
        #[arg(long)]
        reason: Option<String>,
    },
    /// The prescription: targets, thresholds, expected data
    #[command(subcommand)]
    Prescription(prescription::PrescriptionCmd),
    /// The patient's profile: time zone, unit
    #[command(subcommand)]
    Profile(prescription::ProfileCmd),
    /// Database, entry count, what waits to be sent
    Status(status::StatusArgs),
    /// Run the operator server (--db sqlite:PATH; default: the data folder's server.db)
    Server(server::ServerArgs),
    /// Care-team administration on the server database
    #[command(subcommand)]
    Operator(operator::OperatorCmd),
    /// Enrol this device with the care team's code or link
    Enroll(sync::EnrollArgs),
    /// Send what waits and receive what the care team changed, once
    Sync(sync::SyncArgs),
    /// Record, withdraw or show consent to transmission
    #[command(subcommand)]
    Consent(sync::ConsentCmd),
    /// What the care team sent, as received by the last syncs: messages, appointments, alert
    /// acknowledgements
    Inbox {
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    // SIGPIPE stays ignored (Rust's default): see `stdout.rs`.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ILOT_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ilot: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Decoding a frame needs no database.
    if let Cmd::Ble(ble::BleCmd::Decode {
        characteristic,
        hex,
    }) = &cli.cmd
    {
        println!("{}", ble::decode(characteristic, &hex.join(""))?);
        return Ok(());
    }
    // The server commands use a server database, not the patient's.
    match cli.cmd {
        Cmd::Server(args) => return server::run(cli.db, cli.keystore, &args),
        Cmd::Operator(cmd) => return operator::run(cli.db, cli.keystore, cmd),
        _ => {}
    }
    let mut ctx = Ctx::open(cli.db, cli.keystore)?;
    match cli.cmd {
        Cmd::Ble(cmd) => ble::run(&mut ctx, cmd),
        Cmd::Log(args) => log::run(&mut ctx, args),
        Cmd::Import(args) => import::run(&mut ctx, &args),
        Cmd::Export(cmd) => export::run(&ctx, cmd),
        Cmd::Report(args) => report::run(&ctx, &args),
        Cmd::Alerts(args) => status::alerts(&ctx, &args),
        Cmd::Observance(args) => status::observance(&ctx, &args),
        Cmd::Entries(args) => entries::list(&ctx, &args),
        Cmd::History { id, json } => entries::history(&ctx, id, json),
        Cmd::Correct(args) => entries::correct(&mut ctx, args),
        Cmd::Delete { id, reason } => entries::delete(&mut ctx, id, reason.as_deref()),
        Cmd::Prescription(cmd) => prescription::run(&mut ctx, cmd),
        Cmd::Profile(cmd) => prescription::profile(&mut ctx, cmd),
        Cmd::Status(args) => status::status(&ctx, &args),
        Cmd::Enroll(args) => sync::enroll(&mut ctx, args),
        Cmd::Sync(args) => sync::sync(&mut ctx, &args),
        Cmd::Consent(cmd) => sync::consent(&mut ctx, cmd),
        Cmd::Inbox { json } => sync::inbox(&ctx, json),
        Cmd::Server(_) | Cmd::Operator(_) => unreachable!("handled before opening the store"),
    }
}
