//! End-to-end tests of the `ilot` binary on real encrypted database files.

mod bad_input;
mod ble;
mod import_kill;
mod keys;
mod server_key;
mod support;
mod sync;
mod sync_kill;
mod workflow;
