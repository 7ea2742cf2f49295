-- Ilot server schema for PostgreSQL, version 4 (the twin of SQLite's v4_revocation.sql):
-- sessions remember their last use (idle timeout), operators can be disabled, devices revoked.
-- Sessions from before have no last use: they are ended, operators log in again.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ NOT NULL;
CREATE INDEX sessions_operator ON sessions(operator_id);
ALTER TABLE operators ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE devices ADD COLUMN revoked_at TIMESTAMPTZ;
CREATE INDEX devices_patient ON devices(patient_id, enrolled_at);
