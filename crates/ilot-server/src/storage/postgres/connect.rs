//! Connecting to PostgreSQL: URL parsing and the TLS decision (`tls.rs`), a first direct
//! connection (for a clear error), the embedded migrations under an advisory lock with the
//! server key's check (`atrest.rs`), then the connection pool. URLs in messages have their
//! password removed.

use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::postgres;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{atrest, tls};
use crate::atrest::ServerKey;
use crate::error::{Result, ServerError};

pub(super) type Manager = PostgresConnectionManager<MakeRustlsConnect>;
pub(super) type Pool = r2d2::Pool<Manager>;

/// Migrations in order; never edit a shipped one, append.
const MIGRATIONS: &[&str] = &[
    include_str!("v1.sql"),
    include_str!("v2_security.sql"),
    include_str!("v3_login.sql"),
    include_str!("v4_revocation.sql"),
    include_str!("v5_at_rest.sql"),
    include_str!("v6_triage.sql"),
    include_str!("v7_patient_page.sql"),
    include_str!("v8_identity.sql"),
    include_str!("v9_psc.sql"),
    include_str!("v10_retention.sql"),
    include_str!("v11_consent.sql"),
    include_str!("v12_reopen.sql"),
    include_str!("v13_list_reads.sql"),
];

/// Any fixed number: the key of the advisory lock that serialises migrations across nodes.
const MIGRATION_LOCK: i64 = 0x11_07_5e_5e;

/// At most this many connections per node; PostgreSQL's default max_connections (100) fits
/// about six nodes.
const POOL_SIZE: u32 = 16;

pub(super) fn open(url: &str, key: &ServerKey) -> Result<Pool> {
    let shown = redact_url(url);
    let allow_plaintext = std::env::var(tls::ALLOW_PLAINTEXT_ENV).is_ok_and(|v| v.trim() == "1");
    let plan = tls::plan(url, &shown, allow_plaintext)?;
    let connector = tls::connector(&plan)?;
    let mut client = plan.config.connect(connector.clone()).map_err(|e| {
        let m = message(&e);
        let hint = if m.contains("certificate") || m.contains("TLS") || m.contains("tls") {
            "the database's certificate must be signed by a trusted root (system roots, or sslrootcert=CA.pem) and, with sslmode=verify-full, name the host of the URL"
        } else {
            "check that the server runs and the URL (user, host, port, database) is right"
        };
        ServerError::Storage(format!(
            "cannot connect to PostgreSQL at {shown}: {m}; {hint}"
        ))
    })?;
    migrate(&mut client, key)?;
    drop(client);
    r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(PostgresConnectionManager::new(plan.config, connector))
        .map_err(|e| ServerError::Storage(format!("cannot open a pool to {shown}: {e}")))
}

/// Applies the missing migrations in one transaction, then checks the server key (or seals
/// the secrets still in clear). The transaction-scoped advisory lock makes nodes that start
/// together wait for each other instead of racing on CREATE TABLE or on sealing.
fn migrate(client: &mut postgres::Client, key: &ServerKey) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL)")?;
    let current: Option<i32> = tx
        .query_one("SELECT MAX(version) FROM schema_version", &[])?
        .get(0);
    let current = current.unwrap_or(0).max(0) as usize;
    if current > MIGRATIONS.len() {
        return Err(ServerError::Storage(format!(
            "the database schema is version {current}, newer than this server knows ({}): upgrade the server",
            MIGRATIONS.len()
        )));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.batch_execute(m)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )?;
        if i + 1 == 6 {
            // The daily summaries of the entries stored before them.
            super::triage::rebuild_all(&mut tx)?;
        }
    }
    atrest::check_or_seal(&mut tx, key)?;
    tx.commit()?;
    Ok(())
}

/// The error's text with the server's own message when there is one.
pub(crate) fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.to_string(),
        None => e.to_string(),
    }
}

/// `url` without its password (`postgres://user:***@host/db`), also in `password=` query
/// parameters, so that it can go in logs and errors. Everything between `://` and the last `@`
/// is user information: a password may hold `/`, `?`, `#` or `@`, so no other character is
/// trusted to end it. When in doubt this shows too little, never a password.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_password_parameters(url);
    };
    let rest = match rest.rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{user}:***@{}", &rest[at + 1..]),
            None => rest.to_string(),
        },
        None => rest.to_string(),
    };
    redact_password_parameters(&format!("{scheme}://{rest}"))
}

/// Replaces the value of every `password=` parameter (after `?` or `&`, any case) by `***`.
fn redact_password_parameters(text: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = find_parameter(rest, KEY) {
        let value = i + KEY.len();
        out.push_str(&rest[..value]);
        out.push_str("***");
        rest = match rest[value..].find(['&', '#']) {
            Some(end) => &rest[value + end..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Where `key` starts as a parameter name (right after `?` or `&`), ignoring case.
fn find_parameter(text: &str, key: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(key).map(|i| i + from) {
        if i > 0 && matches!(text.as_bytes()[i - 1], b'?' | b'&') {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("postgres://ilot:s3cr%40t@db.example:5432/ilot"),
            "postgres://ilot:***@db.example:5432/ilot"
        );
        assert_eq!(
            redact_url("postgresql://ilot@db/ilot?sslmode=require&password=hunter2"),
            "postgresql://ilot@db/ilot?sslmode=require&password=***"
        );
        assert_eq!(redact_url("postgres://db/ilot"), "postgres://db/ilot");
        assert_eq!(redact_url("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
    }

    /// Regression (issue 10, item 10): the authority was cut at the first `/` or `?`, so a
    /// password holding one of them was printed (whole or in part).
    #[test]
    fn passwords_with_slashes_question_marks_and_at_signs_never_show() {
        for (url, shown) in [
            (
                "postgres://ilot:pa/ss@db.example/ilot",
                "postgres://ilot:***@db.example/ilot",
            ),
            (
                "postgres://ilot:pa?ss@db.example:5432/ilot?sslmode=require",
                "postgres://ilot:***@db.example:5432/ilot?sslmode=require",
            ),
            (
                "postgresql://ilot:a/b?c#d@e@db/ilot",
                "postgresql://ilot:***@db/ilot",
            ),
            ("postgres://ilot:s3/cr?t@db", "postgres://ilot:***@db"),
            (
                "mysql://root:x/y?z@db/x?password=q/r",
                "mysql://root:***@db/x?password=***",
            ),
        ] {
            let got = redact_url(url);
            assert_eq!(got, shown, "{url}");
            for secret in ["pa/ss", "pa?ss", "a/b?c#d@e", "s3/cr?t", "x/y?z", "q/r"] {
                assert!(!got.contains(secret), "{got}");
            }
        }
    }
}
