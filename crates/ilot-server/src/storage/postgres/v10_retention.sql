-- Ilot server schema for PostgreSQL, version 10 (the twin of SQLite's v10_retention.sql):
-- closure (end of telesurveillance) and restriction (erasure request) of a patient's record,
-- and the index the retention pass reads sync batch records by.
CREATE TABLE record_status (
    patient_id BYTEA PRIMARY KEY REFERENCES patients(id),
    closed_on DATE,
    closed_at TIMESTAMPTZ,
    closure_reason TEXT,
    closed_by BIGINT,
    closure_recorded_at TIMESTAMPTZ,
    last_care_at TIMESTAMPTZ,
    restricted_at TIMESTAMPTZ,
    restricted_by BIGINT,
    restriction_reason TEXT
);
CREATE INDEX record_status_last_care ON record_status(last_care_at);
CREATE INDEX batches_received ON batches(received_at);
