-- Ilot server schema, version 8 (INS, issue 14): a patient's identity as versions. Each change of
-- the traits or the matricule, and each proof (INSi retrieval, document checked), is a new row:
-- the identity as it then was (traits exactly as given, INS, RNIV status, as JSON of
-- `ilot_domain::ins::Identity`), what changed, who, when and why. Rows are never updated; the
-- current identity is the highest version. Nothing of it is sent to a device.
CREATE TABLE identity_versions (
    patient_id BYTEA NOT NULL REFERENCES patients(id),
    version INTEGER NOT NULL CHECK (version >= 1),
    identity TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('provisoire', 'recuperee', 'validee', 'qualifiee')),
    change TEXT NOT NULL,
    reason TEXT,
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (patient_id, version)
);
