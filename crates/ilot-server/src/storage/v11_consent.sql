-- Ilot server schema, version 11 (consent as the arrêté describes it): the patient's consent
-- history. Each decision (given, refused, withdrawn) about telesurveillance — the act and the
-- processing of its data —, when, under which version of the information notice, how it was
-- collected (by the patient in the app, or by a named professional in consultation). The
-- columns `patients.consent_granted/consent_ms` stay as the latest decision, written in the
-- same transaction as each record.
CREATE TABLE consent_events (
    id INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('given', 'refused', 'withdrawn')),
    at_ms INTEGER NOT NULL,
    -- NULL only for the decisions copied from `patients` below (the version was not kept).
    notice_version INTEGER,
    channel TEXT NOT NULL CHECK (channel IN ('app', 'consultation')),
    operator_id INTEGER,
    device_id TEXT,
    recorded_ms INTEGER NOT NULL,
    CHECK ((channel = 'consultation') = (operator_id IS NOT NULL))
);
CREATE INDEX consent_events_patient ON consent_events (patient_id, at_ms, id);

-- The latest decision each patient's device sent before the history existed.
INSERT INTO consent_events (patient_id, decision, at_ms, notice_version, channel, recorded_ms)
SELECT id,
       CASE WHEN consent_granted THEN 'given' ELSE 'withdrawn' END,
       COALESCE(consent_ms, created_ms),
       NULL,
       'app',
       COALESCE(consent_ms, created_ms)
FROM patients WHERE consent_granted IS NOT NULL;
