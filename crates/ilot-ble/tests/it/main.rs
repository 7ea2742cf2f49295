//! Integration tests of ilot-ble: decoder vectors, every flag combination and truncation, no
//! panic on any input, and end-to-end downloads through the simulator and the real store.

mod download;
mod frames;
#[cfg(feature = "btleplug")]
mod hardware;
mod vectors;
