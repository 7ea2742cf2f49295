//! Ilot's client sync engine: drains the store's outbox into sealed batches (bounded in entries
//! and bytes), pushes them to the operator server, marks items sent only when the server's
//! sealed acknowledgement confirms the exact bytes, and pulls what the care team changed
//! (prescription, messages, appointments, alert acknowledgements) in the same session.
//!
//! Consent comes first: without it nothing is sent; after a withdrawal only the notice is sent,
//! once. Time and randomness are parameters. This crate must not decide anything clinical, nor
//! mark an outbox item sent on anything but a confirmed acknowledgement.

mod backoff;
mod consent;
mod engine;
mod error;
mod local;
mod state;
mod store_state;
mod transport;

pub use backoff::Backoff;
pub use consent::withheld;
pub use engine::{Limits, Report, enrol, pull, push, set_consent, sync_once};
pub use error::{Result, SyncError};
pub use local::{Local, Outbox};
pub use state::{Consent, Identity, InFlight, MemoryState, SyncState, WithdrawnPeriod};
pub use store_state::{forget_device_secret, server_root_pem, set_server_root_pem};
pub use transport::{HttpTransport, Transport};
