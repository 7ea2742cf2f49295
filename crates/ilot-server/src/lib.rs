//! Ilot's operator server: enrols devices with one-time codes, opens sealed batches with each
//! device's keys and stores them exactly once, answers pulls with what the care team changed,
//! runs the shared `ilot-rules` on ingest and a scheduler for the "no data transmitted" alert,
//! and offers the operator API (JSON, described at `/openapi.json`) with an audit log of every
//! read of patient data.
//!
//! Storage is behind the [`storage::Storage`] trait, chosen from the database URL. Nodes keep
//! no state of their own (failed-attempt counters are in the database too). This crate must
//! not store anything it could not open and validate first (sealed bytes are opened before
//! anything is written), and must never answer a device with data of another patient.

pub mod admin;
pub mod atrest;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod client;
pub mod consent;
pub mod console;
mod device;
pub mod error;
mod headers;
pub mod http;
pub mod identity;
pub mod openapi;
pub mod operator;
pub mod patient;
pub mod psc;
pub mod ratelimit;
pub mod record;
mod reenrol;
pub mod retention;
pub mod routes;
pub mod rules;
mod scheduler;
pub mod storage;
pub mod summary;
pub mod tls;
pub mod totp;
pub mod transport;
pub mod triage;

pub use error::{Result, ServerError};
pub use http::{AppState, Clock, Config, router, serve};
pub use tls::serve_tls;
pub use transport::Limits;
