//! Integration tests of ilot-ble: decoder vectors, every flag combination and truncation, no
//! panic on any input, end-to-end downloads and CGM live sessions through the simulator and the
//! real store, and GLS sequence numbers across their 16-bit wrap.

mod download;
mod frames;
#[cfg(feature = "btleplug")]
mod hardware;
mod identify;
mod live;
mod sink;
mod vectors;
mod wrap;
