-- Ilot server schema for PostgreSQL, version 3 (the twin of SQLite's v3_login.sql): failed-
-- attempt counters shared by every API node, and an audit log that also records who was not
-- logged in (failed logins, device enrolments), the client's address and a detail.
--
-- One row per counted key: a SHA-256 of what is counted, never the user name or address
-- itself; the fixed window ends at expires_ms (milliseconds since 1970, as the nodes' clocks
-- say). Closed windows are deleted before every count.
CREATE TABLE rate_limits (
    key BYTEA PRIMARY KEY,
    hits BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX rate_limits_expiry ON rate_limits (expires_ms);

ALTER TABLE audit ALTER COLUMN operator_id DROP NOT NULL;
ALTER TABLE audit ADD COLUMN client TEXT;
ALTER TABLE audit ADD COLUMN detail TEXT;
CREATE INDEX audit_patient ON audit (patient_id);
