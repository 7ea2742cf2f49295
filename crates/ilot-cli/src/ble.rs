//! `ilot ble …`: decode a characteristic value, scan, pair, and download a meter or CGM into the
//! database — a real device over Bluetooth, or the in-process simulator (`sim:meter`,
//! `sim:cgm`, with `--quirk` to reproduce a field problem). All protocol logic is in `ilot-ble`;
//! this module parses arguments and prints.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{Offset, TimeDelta};
use ilot_ble::sim::{self, Quirk, SimClock, SimDevice};
use ilot_ble::{Options, Report};

use crate::context::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum BleCmd {
    /// Decode one value: CHAR is a characteristic (2a18, 2a34, 2a51, 2a52, 2aa7, 2aa8, 2aa9,
    /// 2aaa, 2aab, 2aac, 2a08, 2a2b) or sfloat/float; HEX the bytes. Prints JSON.
    Decode {
        #[arg(value_name = "CHAR")]
        characteristic: String,
        #[arg(value_name = "HEX", num_args = 1.., required = true)]
        hex: Vec<String>,
    },
    /// List nearby meters and CGMs (Glucose or CGM service), with name and signal strength
    Scan {
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long)]
        json: bool,
    },
    /// Connect once to a device so that the system can bond with it (and ask for its PIN)
    Pair {
        #[arg(value_name = "ADDR")]
        address: String,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Download the records the database does not have yet. ADDR is a Bluetooth address, or
    /// sim:meter / sim:cgm for the built-in simulator
    Download(DownloadArgs),
    /// Download from the built-in simulated meter (same as `download sim:meter`)
    Sim {
        /// meter or cgm
        #[arg(long, default_value = "meter")]
        device: String,
        #[command(flatten)]
        sim: SimArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    #[arg(value_name = "ADDR")]
    address: String,
    #[command(flatten)]
    sim: SimArgs,
    /// How long to look for a real device before giving up
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Simulated field problem: contour, accu-chek, caresens-month13, caresens-clock, no-dst,
    /// reversed, duplicates, no-filter (repeatable)
    #[arg(long = "quirk", value_name = "NAME")]
    quirks: Vec<String>,
    /// Simulated connection interval in milliseconds (BLE minimum 7.5)
    #[arg(long, default_value_t = 7.5)]
    interval_ms: f64,
}

/// `ilot ble decode CHAR HEX` without a database.
pub fn decode(characteristic: &str, hex: &str) -> Result<String> {
    Ok(ilot_ble::gatt::decode_to_json(characteristic, hex)?)
}

pub fn run(ctx: &mut Ctx, cmd: BleCmd) -> Result<()> {
    match cmd {
        BleCmd::Decode {
            characteristic,
            hex,
        } => {
            println!("{}", decode(&characteristic, &hex.join(""))?);
            Ok(())
        }
        BleCmd::Scan { seconds, json } => scan(seconds, json),
        BleCmd::Pair { address, seconds } => pair(&address, seconds),
        BleCmd::Download(args) => download(ctx, &args.address, &args.sim, args.seconds, args.json),
        BleCmd::Sim { device, sim, json } => download(ctx, &format!("sim:{device}"), &sim, 0, json),
    }
}

fn download(
    ctx: &mut Ctx,
    address: &str,
    sim_args: &SimArgs,
    seconds: u64,
    json: bool,
) -> Result<()> {
    let opts = Options::new(ctx.now, ctx.tz);
    let report = match address.to_ascii_lowercase().as_str() {
        "sim:meter" | "sim:cgm" => {
            let mut dev = simulator(ctx, address.ends_with("cgm"), sim_args)?;
            ilot_ble::block_on(ilot_ble::download(&mut dev, &mut ctx.store, &opts))?
        }
        a if a.starts_with("sim:") => {
            bail!("unknown simulator {address:?}: use sim:meter or sim:cgm")
        }
        _ => real_download(ctx, address, seconds, &opts)?,
    }
    .with_context(|| format!("download from {address}"))?;
    print_report(&report, json);
    Ok(())
}

fn real_download(
    ctx: &mut Ctx,
    address: &str,
    seconds: u64,
    opts: &Options,
) -> Result<ilot_ble::Result<Report>> {
    use ilot_ble::link::btleplug::BtPeripheral;
    Ok(ilot_ble::block_on(async {
        let mut dev = BtPeripheral::find(address, Duration::from_secs(seconds)).await?;
        ilot_ble::download(&mut dev, &mut ctx.store, opts).await
    })?)
}

fn simulator(ctx: &Ctx, cgm: bool, args: &SimArgs) -> Result<SimDevice> {
    if !(args.interval_ms.is_finite() && (0.0..=4000.0).contains(&args.interval_ms)) {
        bail!("--interval-ms {} is outside 0–4000 ms", args.interval_ms);
    }
    let now = ctx.now;
    let local_offset = TimeDelta::seconds(i64::from(
        now.with_timezone(&ctx.tz).offset().fix().local_minus_utc(),
    ));
    let mut clock = SimClock::Local(ctx.tz);
    let mut quirks = Vec::new();
    let history = sim::demo_meter_history(now, 500);
    for name in &args.quirks {
        match name.trim().to_ascii_lowercase().as_str() {
            // A clock 3 h 20 min fast (CareSens).
            "caresens-clock" => clock = SimClock::Offset(local_offset + TimeDelta::minutes(200)),
            // A clock set once in standard time and never moved for DST.
            "no-dst" => clock = SimClock::Offset(TimeDelta::hours(1)),
            other => match other.parse::<Quirk>().map_err(anyhow::Error::msg)? {
                // The demo's newest record gets the bad month, so the quirk shows on any day.
                Quirk::Month13(_) => {
                    quirks.push(Quirk::Month13(history.last().map_or(1, |r| r.sequence)))
                }
                q => quirks.push(q),
            },
        }
    }
    let interval = Duration::from_secs_f64(args.interval_ms / 1000.0);
    Ok(if cgm {
        let (start, records) = sim::demo_cgm_session(now);
        SimDevice::cgm(&records, start, clock, now, &quirks).with_interval(interval)
    } else {
        SimDevice::meter(&history, clock, now, &quirks).with_interval(interval)
    })
}

fn scan(seconds: u64, json: bool) -> Result<()> {
    let found = ilot_ble::block_on(ilot_ble::link::btleplug::scan(Duration::from_secs(seconds)))??;
    if json {
        let list: Vec<_> = found
            .iter()
            .map(|f| serde_json::json!({"address": f.address, "name": f.name, "rssi": f.rssi, "kind": f.kind}))
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    if found.is_empty() {
        println!(
            "no meter or CGM found in {seconds} s; wake the device (open its Bluetooth menu) and scan again"
        );
    }
    for f in found {
        let rssi = f
            .rssi
            .map_or_else(|| "?".to_string(), |r| format!("{r} dBm"));
        println!(
            "{}  {:<6} {:<24} {rssi}",
            f.address,
            f.kind,
            f.name.as_deref().unwrap_or("(no name)")
        );
    }
    Ok(())
}

fn pair(address: &str, seconds: u64) -> Result<()> {
    let info = ilot_ble::block_on(ilot_ble::link::btleplug::pair(
        address,
        Duration::from_secs(seconds),
    ))??;
    let id = ilot_ble::gatt::device_id(&info)
        .map_or_else(|e| format!("(no stable id: {e})"), |d| d.to_string());
    println!("paired with {address}: {id}");
    println!("from now on `ilot ble download {address}` fetches only new records");
    Ok(())
}

fn print_report(r: &Report, json: bool) {
    if json {
        let v = serde_json::json!({
            "device": r.device.as_ref().map(|d| d.to_string()),
            "kind": r.kind.map(|k| format!("{k:?}").to_lowercase()),
            "attempts": r.attempts,
            "requested_from": r.requested_from,
            "records": r.records,
            "redundant": r.redundant,
            "readings_stored": r.readings_stored,
            "entries_added": r.entries_added,
            "entries_duplicate": r.entries_duplicate,
            "conflicts": r.conflicts,
            "corrected": r.corrected,
            "clock_skew_min": r.clock_skew.map(|d| (d.num_milliseconds() as f64 / 60_000.0).round() as i64),
            "rejected": r.rejected.iter().map(|(n, why)| serde_json::json!({"record": n, "reason": why})).collect::<Vec<_>>(),
            "malformed": r.malformed,
        });
        println!("{v}");
        return;
    }
    let device = r
        .device
        .as_ref()
        .map_or_else(|| "?".to_string(), |d| d.to_string());
    let from = r.requested_from.map_or_else(
        || "all records".to_string(),
        |n| format!("records from {n}"),
    );
    println!(
        "{device}: asked for {from}; {} new record(s), {} reading(s) stored, {} entr(ies) added",
        r.records, r.readings_stored, r.entries_added
    );
    if r.redundant > 0 {
        println!(
            "{} record(s) the device sent again were ignored",
            r.redundant
        );
    }
    if r.attempts > 1 {
        println!(
            "the link dropped; resumed {} time(s) without losing or doubling a record",
            r.attempts - 1
        );
    }
    if let Some(skew) = r.clock_skew {
        println!(
            "the device clock was off by {}; {} reading time(s) corrected (each has a note)",
            ilot_ble::clock::signed_duration(skew),
            r.corrected
        );
    }
    if r.conflicts > 0 {
        println!(
            "{} record(s) differ from what was stored before; the stored ones were kept",
            r.conflicts
        );
    }
    for (n, why) in &r.rejected {
        println!("record {n}: no glucose stored: {why}");
    }
    for m in &r.malformed {
        println!("unreadable frame: {m}");
    }
}
