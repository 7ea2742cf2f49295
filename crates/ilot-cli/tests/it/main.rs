//! End-to-end tests of the `ilot` binary on real encrypted database files.

mod admin_audit;
mod bad_input;
mod ble;
mod hostile;
mod import_kill;
mod imports;
mod keys;
mod operator_admin;
mod reenrol;
mod report_pdf;
mod scans;
mod server_key;
mod support;
mod sync;
mod sync_kill;
mod workflow;
