-- Ilot server schema, version 3 (issue 10): failed-attempt counters shared by every API node,
-- and an audit log that also records who was not logged in (failed logins, device
-- enrolments), the client's address and a detail (e.g. which patients a list returned).
--
-- One row per counted key: a SHA-256 of what is counted ("login-user" + user name, "login-ip"
-- + client network...), never the user name or address itself; the fixed window ends at
-- expires_ms. Closed windows are deleted before every count.
CREATE TABLE rate_limits (
    key BLOB PRIMARY KEY,
    hits INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_limits_expiry ON rate_limits(expires_ms);

-- SQLite cannot drop a NOT NULL: the audit table is rebuilt with the same ids.
CREATE TABLE audit_v3 (
    id INTEGER PRIMARY KEY,
    operator_id INTEGER,
    action TEXT NOT NULL,
    patient_id TEXT,
    at_ms INTEGER NOT NULL,
    client TEXT,
    detail TEXT
);
INSERT INTO audit_v3 (id, operator_id, action, patient_id, at_ms)
    SELECT id, operator_id, action, patient_id, at_ms FROM audit;
DROP TABLE audit;
ALTER TABLE audit_v3 RENAME TO audit;
CREATE INDEX audit_patient ON audit(patient_id);
