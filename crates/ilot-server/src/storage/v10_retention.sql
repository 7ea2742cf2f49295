-- Ilot server schema, version 10 (retention and erasure, issue #14 part 5): one row per patient
-- whose record was closed (end of telesurveillance: its last day in the patient's zone, the
-- instant it ended, why, by whom, when it was recorded, and the last care the 20-year
-- retention counts from) or restricted (an erasure request: data kept, hidden from ordinary
-- reads). Applies on top of v7 alone; it references only `patients`.
CREATE TABLE record_status (
    patient_id TEXT PRIMARY KEY REFERENCES patients(id),
    closed_on TEXT,
    closed_ms INTEGER,
    closure_reason TEXT,
    closed_by INTEGER,
    closure_recorded_ms INTEGER,
    last_care_ms INTEGER,
    restricted_ms INTEGER,
    restricted_by INTEGER,
    restriction_reason TEXT
);
CREATE INDEX record_status_last_care ON record_status(last_care_ms);
CREATE INDEX batches_received ON batches(received_ms);
