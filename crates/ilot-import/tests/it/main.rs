//! The parsers on real exports (../shared/data/exports and tests/fixtures, provenance beside
//! each file), malformed rows included, and files crossing the clock changes.

mod clarity_french;
mod dst;
mod libreview_columns;
mod real_files;
mod separators;
