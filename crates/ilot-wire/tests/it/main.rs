//! Integration tests of `ilot-wire` through its public API: sealing round trips, tampering,
//! replay, enrolment, acknowledgement and pull flows, API JSON, and the size of a CGM backlog.

mod envelope;
mod flows;
mod size;
mod strategies;

use ilot_wire::{DeviceId, DeviceSecret, PatientId, ServerSecret, SessionKeys};
use rand::SeedableRng;
use rand::rngs::StdRng;

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Keys of one enrolled device, derived from both sides as in production.
pub fn session(seed: u64, patient: PatientId, device: DeviceId) -> SessionKeys {
    let mut r = rng(seed);
    let d = DeviceSecret::generate(&mut r);
    let s = ServerSecret::generate(&mut r);
    s.agree(&d.public_key(), patient, device).unwrap()
}
