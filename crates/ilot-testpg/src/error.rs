//! Why a throwaway cluster could not be made or used; each message says what to do.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum TestPgError {
    #[error(
        "no PostgreSQL server binaries found (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin: install postgresql: bash scripts/setup.sh does it (or set ILOT_TEST_POSTGRES_URL to an existing server)"
    )]
    NoBinaries,
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("cannot talk to the test PostgreSQL server: {0}")]
    Client(String),
    #[error("i/o error while preparing the test cluster: {0}")]
    Io(#[from] std::io::Error),
}

impl From<postgres::Error> for TestPgError {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => Self::Client(db.to_string()),
            None => Self::Client(e.to_string()),
        }
    }
}

pub type Result<T, E = TestPgError> = std::result::Result<T, E>;
