-- V13: a list read (the triage list, the patient list, the team's alerts, the billing table)
-- is one audit record; each patient it showed is linked to it here, in the same transaction,
-- so that the patient's access log holds the read (GDPR / French health-data traceability).
-- The links go with the patient's record at the retention purge; the audit record stays, its
-- detail still naming the patients shown.
CREATE TABLE audit_patients (
    audit_id BIGINT NOT NULL REFERENCES audit(id),
    patient_id BYTEA NOT NULL REFERENCES patients(id),
    PRIMARY KEY (audit_id, patient_id)
);
CREATE INDEX audit_patients_patient ON audit_patients (patient_id, audit_id);
