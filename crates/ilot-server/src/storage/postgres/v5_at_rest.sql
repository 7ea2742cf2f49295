-- Ilot server schema for PostgreSQL, version 5 (the twin of SQLite's v5_at_rest.sql): the
-- server's secrets are sealed with the server key, which is kept outside the database (keyring, 0600 key file or ILOT_SERVER_KEY). server_key.secret
-- and operators.totp_secret hold AES-256-GCM sealed values, enrolment_codes.code the keyed
-- hash of the code. This row holds the key's check value, so that a wrong key is refused when
-- the database opens; a database without it still has clear values, which the server seals
-- (and then writes this row) in the transaction that applies this migration.
CREATE TABLE at_rest (
    id INT PRIMARY KEY CHECK (id = 1),
    key_check BYTEA NOT NULL
);
