//! Integration tests of ilot-rules through its public API, one module per subject. They may read
//! files and run processes (the crate itself never does).

mod alerts_table;
mod billing_table;
mod flash;
mod observance_table;
mod reference;
