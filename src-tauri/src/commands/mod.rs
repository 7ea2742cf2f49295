//! Typed commands the UI calls; `ui/src/lib/ipc.ts` is their one typed mirror. Each command is
//! thin: gather from the store, decide with `ilot-rules` (see `crate::gather`), shape a view.

pub mod devices;
pub mod entries;
pub mod export;
pub mod home;
pub mod import;
pub mod report_pdf;
pub mod reports;
pub mod rights;
pub mod setup;
pub mod sync;

#[cfg(test)]
mod lock_tests;
#[cfg(test)]
mod sync_tests;
#[cfg(test)]
mod tests;
