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
-- The list reads recorded before V13 named the patients they showed in their detail (all but
-- the triage page, which named none): they are linked too, for the patients still stored. The
-- server writes every detail as JSON and ids as 32 hexadecimal digits.
INSERT INTO audit_patients (audit_id, patient_id)
    SELECT DISTINCT l.id, decode(p.value, 'hex')
    FROM (SELECT a.id, a.detail::jsonb -> 'patients' AS ids FROM audit a
          WHERE a.action IN ('list-patients', 'read-open-alerts', 'read-billing', 'export-billing')
            AND a.operator_id IS NOT NULL AND a.detail IS NOT NULL) l,
         jsonb_array_elements_text(CASE WHEN jsonb_typeof(l.ids) = 'array' THEN l.ids
                                        ELSE '[]'::jsonb END) AS p(value)
    WHERE p.value ~ '^[0-9a-f]{32}$'
      AND decode(p.value, 'hex') IN (SELECT id FROM patients)
ON CONFLICT DO NOTHING;
