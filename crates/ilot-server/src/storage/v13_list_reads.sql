-- V13: a list read (the triage list, the patient list, the team's alerts, the billing table)
-- is one audit record; each patient it showed is linked to it here, in the same transaction,
-- so that the patient's access log holds the read (GDPR / French health-data traceability).
-- The links go with the patient's record at the retention purge; the audit record stays, its
-- detail still naming the patients shown.
CREATE TABLE audit_patients (
    audit_id INTEGER NOT NULL REFERENCES audit(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    PRIMARY KEY (audit_id, patient_id)
) WITHOUT ROWID;
CREATE INDEX audit_patients_patient ON audit_patients(patient_id, audit_id);
-- The list reads recorded before V13 named the patients they showed in their detail (all but
-- the triage page, which named none): they are linked too, for the patients still stored.
INSERT OR IGNORE INTO audit_patients (audit_id, patient_id)
    SELECT a.id, j.value
    FROM audit a,
         json_each(CASE WHEN json_valid(a.detail) THEN a.detail ELSE '{}' END, '$.patients') j
    WHERE a.action IN ('list-patients', 'read-open-alerts', 'read-billing', 'export-billing')
      AND a.operator_id IS NOT NULL
      AND j.value IN (SELECT id FROM patients);
