-- Ilot server schema, version 6: per-patient daily glucose summaries for the triage list (one
-- row per patient and local day, rewritten by the ingest that changes the day; see
-- src/summary.rs) and the care team's review marks ("Marquer comme revu", with undo).
CREATE TABLE glucose_days (
    patient_id TEXT NOT NULL REFERENCES patients(id),
    day TEXT NOT NULL,
    starts_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    lo INTEGER NOT NULL,
    hi INTEGER NOT NULL,
    below_54 INTEGER NOT NULL,
    in_54_69 INTEGER NOT NULL,
    in_70_180 INTEGER NOT NULL,
    in_181_250 INTEGER NOT NULL,
    above_250 INTEGER NOT NULL,
    below_63 INTEGER NOT NULL,
    in_63_140 INTEGER NOT NULL,
    above_140 INTEGER NOT NULL,
    n_numeric INTEGER NOT NULL,
    capillary INTEGER NOT NULL,
    cgm_distinct INTEGER NOT NULL,
    mean REAL NOT NULL,
    m2 REAL NOT NULL,
    cgm_first_us INTEGER,
    cgm_last_us INTEGER,
    spacings TEXT NOT NULL,
    PRIMARY KEY (patient_id, day)
) WITHOUT ROWID;

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    at_ms INTEGER NOT NULL,
    undone_ms INTEGER
);
CREATE INDEX reviews_patient ON reviews(patient_id, at_ms);

-- The triage's observance column: each patient's current 30-day period as of the end of
-- yesterday (local), computed by ilot-rules from the entries once, kept until the day changes,
-- the prescription changes (its version) or a batch brings an entry of an earlier day.
CREATE TABLE triage_observance (
    patient_id TEXT PRIMARY KEY REFERENCES patients(id),
    day TEXT NOT NULL,
    rx_version INTEGER NOT NULL,
    period TEXT NOT NULL
);
