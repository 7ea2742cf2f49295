//! The PostgreSQL twin of `sqlite/atrest.rs`: checks the server key against the database, or
//! seals the secrets a database from before V5 holds in clear, in the migration transaction
//! (under its advisory lock, so two nodes starting together do not both seal).

use r2d2_postgres::postgres::Transaction;

use crate::atrest::{Sealed, ServerKey};
use crate::error::Result;

pub(super) fn check_or_seal(tx: &mut Transaction<'_>, key: &ServerKey) -> Result<()> {
    let check = tx.query_opt("SELECT key_check FROM at_rest WHERE id = 1", &[])?;
    if let Some(row) = check {
        let check: &[u8] = row.get(0);
        return if key.checks(check) {
            Ok(())
        } else {
            Err(ServerKey::wrong_key())
        };
    }
    if let Some(row) = tx.query_opt("SELECT secret FROM server_key WHERE id = 1", &[])? {
        let secret = zeroize::Zeroizing::new(row.get::<_, Vec<u8>>(0));
        tx.execute(
            "UPDATE server_key SET secret = $1 WHERE id = 1",
            &[&key.seal(Sealed::ServerSecret, &secret)?],
        )?;
    }
    for row in tx.query(
        "SELECT id, totp_secret FROM operators WHERE totp_secret IS NOT NULL",
        &[],
    )? {
        let id: i64 = row.get(0);
        let secret = zeroize::Zeroizing::new(row.get::<_, Vec<u8>>(1));
        tx.execute(
            "UPDATE operators SET totp_secret = $1 WHERE id = $2",
            &[&key.seal(Sealed::Totp { operator_id: id }, &secret)?, &id],
        )?;
    }
    for row in tx.query("SELECT code FROM enrolment_codes", &[])? {
        let code: String = row.get(0);
        tx.execute(
            "UPDATE enrolment_codes SET code = $1 WHERE code = $2",
            &[&key.code_hash(&code), &code],
        )?;
    }
    tx.execute(
        "INSERT INTO at_rest (id, key_check) VALUES (1, $1)",
        &[&key.check_value().as_slice()],
    )?;
    Ok(())
}
