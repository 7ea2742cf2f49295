-- Ilot server schema, version 1. Ids of patients and devices are 32 hex digits; times are
-- milliseconds since 1970 (UTC).
CREATE TABLE server_key (id INTEGER PRIMARY KEY CHECK (id = 1), secret BLOB NOT NULL);

CREATE TABLE operators (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    expires_ms INTEGER NOT NULL
);

CREATE TABLE patients (
    id TEXT PRIMARY KEY,
    pseudonym TEXT NOT NULL,
    ins TEXT,
    tz TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    enrolled_ms INTEGER,
    last_data_ms INTEGER,
    consent_granted INTEGER,
    consent_ms INTEGER
);

CREATE TABLE enrolment_codes (
    code TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    expires_ms INTEGER NOT NULL,
    used_ms INTEGER
);

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    public_key TEXT NOT NULL,
    label TEXT,
    enrolled_ms INTEGER NOT NULL,
    last_batch_seq INTEGER
);

CREATE TABLE batches (
    device_id TEXT NOT NULL REFERENCES devices(id),
    seq INTEGER NOT NULL,
    digest BLOB NOT NULL,
    stored INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;

CREATE TABLE entries (
    patient_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    entry_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    recorded_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (device_id, entry_id, version)
);
CREATE INDEX entries_patient_at ON entries(patient_id, at_ms);

CREATE TABLE prescriptions (
    patient_id TEXT NOT NULL REFERENCES patients(id),
    version INTEGER NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (patient_id, version)
);

-- What the device pulls, in order; the cursor is the row id.
CREATE TABLE feed (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id TEXT NOT NULL,
    item TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX feed_patient ON feed(patient_id, cursor);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    severity_rank INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    detail TEXT NOT NULL,
    ack_ms INTEGER,
    ack_by TEXT,
    note TEXT,
    UNIQUE (patient_id, key)
);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    operator_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    patient_id TEXT,
    at_ms INTEGER NOT NULL
);
