//! End-to-end tests of the engine against a real server on a loopback port.

mod attacks;
mod cross_patient;
mod device_secret;
mod e2e;
mod flash;
mod reenrol;
mod revocation;
mod rights;
mod support;
mod team_consent;
mod tls;
