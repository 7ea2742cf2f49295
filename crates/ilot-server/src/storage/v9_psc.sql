-- Ilot server schema, Pro Santé Connect (issue #14): the RPPS an administrator linked to an
-- operator account (once: one RPPS per operator, one operator per RPPS), and the login flows
-- under way (the SHA-256 of `state`, with the `nonce` and PKCE verifier sent with it), each
-- taken once and short-lived.
CREATE TABLE operator_rpps (
    rpps        TEXT    PRIMARY KEY,
    operator_id INTEGER NOT NULL UNIQUE REFERENCES operators(id),
    linked_ms   INTEGER NOT NULL
);
CREATE TABLE psc_flows (
    state_hash    BLOB    PRIMARY KEY,
    nonce         TEXT    NOT NULL,
    pkce_verifier TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    expires_ms    INTEGER NOT NULL
);
CREATE INDEX psc_flows_expiry ON psc_flows (expires_ms);
