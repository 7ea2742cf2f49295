//! Bluetooth glucose meters (Glucose Service) and CGMs (CGM Service) for Ilot: pure codecs and
//! control-point state machine (`gatt`, `control`, `clock`, `records`), the peripheral trait the
//! download runs on (`link`, with btleplug behind it), a simulated meter and CGM speaking the
//! real bytes (`sim`), the download that lands records in the store (`download`), and the CGM
//! live mode that stores readings as they are notified and backfills gaps (`live`).
//!
//! `gatt`, `control`, `clock`, `records` and `seq` never touch a file, socket, clock, thread or
//! runtime: times and timeouts are inputs. I/O lives in `link`, `sim`, `download`, `live` and the
//! blocking helpers below. Nothing here evaluates clinical rules; a reading the device flagged,
//! or whose time cannot be trusted, is kept as a note rather than dropped or guessed.
//!
//! Real-hardware tests are `#[ignore]`d; run them with `ILOT_BLE_HW=1 … -- --ignored` (README.md).

pub mod clock;
pub mod control;
pub mod download;
mod error;
pub mod gatt;
pub mod link;
pub mod live;
pub mod records;
pub mod seq;
pub mod sim;
pub mod sink;

pub use download::{Options, Report, download};
pub use error::{BleError, DecodeError, Result};
pub use live::{Backfill, BackfillReason, LiveOptions, LiveReport, live};
pub use sink::{MemorySink, RecordSink};

/// Runs a future to completion on a fresh single-threaded runtime, for callers without one
/// (the CLI). Timers run on this runtime's clock.
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| BleError::Link(format!("cannot start the async runtime: {e}")))?;
    Ok(rt.block_on(f))
}
