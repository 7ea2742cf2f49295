-- Ilot server schema, version 2: care teams (an operator sees only its team's patients) and
-- the operators' TOTP second factor (the secret and the last accepted 30-second step, so that
-- a code is never accepted twice). Deployments from V1 keep working: their operators and
-- patients join one team named "default".
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL
);

ALTER TABLE operators ADD COLUMN team_id INTEGER REFERENCES teams(id);
ALTER TABLE operators ADD COLUMN totp_secret BLOB;
ALTER TABLE operators ADD COLUMN totp_last_step INTEGER;
ALTER TABLE patients ADD COLUMN team_id INTEGER REFERENCES teams(id);
CREATE INDEX patients_team ON patients(team_id, created_ms);

INSERT INTO teams (name, created_ms)
    SELECT 'default', 0 WHERE EXISTS (SELECT 1 FROM operators) OR EXISTS (SELECT 1 FROM patients);
UPDATE operators SET team_id = (SELECT id FROM teams WHERE name = 'default');
UPDATE patients SET team_id = (SELECT id FROM teams WHERE name = 'default');
