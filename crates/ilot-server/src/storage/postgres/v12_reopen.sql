-- V12: a telesurveillance ended by mistake can be reopened (record.rs). Each reopening keeps the
-- closure it undid with who reopened it, when and why: the time between the end of the last day
-- and the reopening was not monitored (billing: no period holding any of it is billable).
CREATE TABLE monitoring_gaps (
    id BIGSERIAL PRIMARY KEY,
    patient_id BYTEA NOT NULL REFERENCES patients(id),
    closed_on DATE NOT NULL,
    closed_at TIMESTAMPTZ NOT NULL,
    closure_reason TEXT NOT NULL,
    closed_by BIGINT NOT NULL,
    closure_recorded_at TIMESTAMPTZ NOT NULL,
    reopened_at TIMESTAMPTZ NOT NULL,
    reopened_by BIGINT NOT NULL,
    reopen_reason TEXT NOT NULL
);
CREATE INDEX monitoring_gaps_patient ON monitoring_gaps(patient_id, closed_at);
