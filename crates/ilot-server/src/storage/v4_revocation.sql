-- Ilot server schema, version 4: sessions and devices can be ended. A session remembers when
-- it was last used (idle timeout); an operator can be disabled (no login, no session); a
-- device can be revoked (its pushes and pulls are refused, it stays listed). Sessions from
-- before have no last use: they are ended, operators log in again.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN last_seen_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_operator ON sessions(operator_id);
ALTER TABLE operators ADD COLUMN disabled_ms INTEGER;
ALTER TABLE devices ADD COLUMN revoked_ms INTEGER;
CREATE INDEX devices_patient ON devices(patient_id, enrolled_ms);
