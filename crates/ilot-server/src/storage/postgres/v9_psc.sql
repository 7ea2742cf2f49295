-- Ilot server schema for PostgreSQL, Pro Santé Connect (issue #14; the twin of SQLite's
-- v9_psc.sql): the RPPS an administrator linked to an operator account (once: one RPPS per
-- operator, one operator per RPPS), and the login flows under way (the SHA-256 of `state`,
-- with the `nonce` and PKCE verifier sent with it), each taken once and short-lived.
CREATE TABLE operator_rpps (
    rpps        TEXT    PRIMARY KEY,
    operator_id BIGINT  NOT NULL UNIQUE REFERENCES operators(id),
    linked_at   TIMESTAMPTZ NOT NULL
);
CREATE TABLE psc_flows (
    state_hash    BYTEA   PRIMARY KEY,
    nonce         TEXT    NOT NULL,
    pkce_verifier TEXT    NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX psc_flows_expiry ON psc_flows (expires_at);
