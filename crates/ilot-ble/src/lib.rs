//! Bluetooth glucose meters (Glucose Service) and CGMs (CGM Service) for Ilot: pure codecs and
//! control-point state machine (`gatt`, `control`, `clock`), the peripheral trait the download
//! runs on (`link`, with btleplug behind it), a simulated meter and CGM speaking the real bytes
//! (`sim`), and the download that lands records in the store (`download`).
//!
//! `gatt`, `control` and `clock` never touch a file, socket, clock, thread or runtime: times and
//! timeouts are inputs. I/O lives in `link`, `sim` and `download`. Nothing here evaluates
//! clinical rules; a reading the device flagged, or whose time cannot be trusted, is kept as a
//! note rather than dropped or guessed.

mod error;
pub mod gatt;

pub use error::{BleError, DecodeError, Result};
