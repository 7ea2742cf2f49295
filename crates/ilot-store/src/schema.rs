//! The embedded, forward-only migrations. A shipped migration is never edited: a change is a new
//! `M::up` at the end of [`MIGRATIONS`].
//!
//! The medical-record rules live in the schema itself, so that no code path can bypass them:
//! triggers copy every superseded version of an entry into `entry_history`, append every change
//! (entries, profile, prescription) to the `outbox` in the same transaction, and refuse in-place
//! edits, hard deletes and changes to an entry's origin.

use rusqlite_migration::{M, Migrations};

/// Codes used in the schema's CHECK constraints and triggers are mapped to types in `codes.rs`.
const STEPS: &[M<'static>] = &[M::up(V1)];

pub(crate) const MIGRATIONS: Migrations<'static> = Migrations::from_slice(STEPS);

const V1: &str = r#"
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES
    ('installation_id', lower(hex(randomblob(16)))),
    ('created', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

-- Where entries come from: kind (1 manual, 2 meter, 3 cgm, 4 import) and device id or import
-- origin ('' when there is none; a device id is never empty).
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 4),
    device TEXT NOT NULL,
    UNIQUE (kind, device)
) STRICT;

-- One row per diary entry, holding its current version. Glucose readings (kind 1) live in typed
-- columns; every other kind is the JSON of its payload in `detail`.
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 10),
    -- UTC milliseconds, within 1900..2200 so that a broken clock cannot slip in
    at_ms INTEGER NOT NULL CHECK (at_ms BETWEEN -2208988800000 AND 7258118400000),
    utc_offset_s INTEGER NOT NULL CHECK (utc_offset_s BETWEEN -86399 AND 86399),
    source_kind INTEGER NOT NULL,
    -- no FOREIGN KEY: its per-row lookup costs a tenth of ingest speed, and `sources` rows are
    -- only made by the store's write path and can never be changed or erased (triggers below)
    source_id INTEGER NOT NULL,
    -- the device's record number as given (kept even when not used for dedup)
    record_no INTEGER,
    -- meter/CGM: record number; import: at_ms as first recorded; manual: NULL
    dedup_no INTEGER,
    -- glucose: value as given, unit (1 g/L, 2 mg/dL, 3 mmol/L), canonical mg/dL,
    -- flag (0 value, 1 LO, 2 HI), reading type (1 capillary, 2 interstitial, 3 lab), meal context
    -- (codes are checked when read back; the plausible range is checked here)
    g_value REAL,
    g_unit INTEGER,
    g_mg_dl REAL CHECK (g_mg_dl BETWEEN 10 AND 600),
    g_flag INTEGER,
    g_type INTEGER,
    g_context INTEGER,
    detail TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    recorded_ms INTEGER NOT NULL,
    reason TEXT,
    CHECK ((kind = 1) = (detail IS NULL)),
    CHECK ((kind = 1) = (g_flag IS NOT NULL AND g_type IS NOT NULL AND g_context IS NOT NULL)),
    CHECK ((g_flag = 0) = (g_value IS NOT NULL AND g_unit IS NOT NULL AND g_mg_dl IS NOT NULL))
) STRICT;

CREATE INDEX entries_at ON entries (at_ms);
-- Re-importing or re-downloading the same data creates no duplicate. The kind is part of the key
-- because one device record or one import row time may carry several entries (a glucose and the
-- carbohydrates logged with it).
CREATE UNIQUE INDEX entries_dedup ON entries (source_id, dedup_no, kind)
    WHERE dedup_no IS NOT NULL;

-- Every superseded version of an entry, with the reason and time of the change that replaced it.
CREATE TABLE entry_history (
    entry_id INTEGER NOT NULL REFERENCES entries (id),
    version INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    utc_offset_s INTEGER NOT NULL,
    g_value REAL,
    g_unit INTEGER,
    g_mg_dl REAL,
    g_flag INTEGER,
    g_type INTEGER,
    g_context INTEGER,
    detail TEXT,
    deleted INTEGER NOT NULL,
    recorded_ms INTEGER NOT NULL,
    reason TEXT,
    superseded_ms INTEGER NOT NULL,
    PRIMARY KEY (entry_id, version)
) STRICT, WITHOUT ROWID;

-- Changes waiting for the sync engine. entity: 1 entry, 2 profile, 3 prescription;
-- op: 1 insert, 2 update, 3 delete. New entries get their row from the store's insert path, in the
-- same transaction (a trigger there would force a statement journal per row and halve ingest
-- speed); every other change gets it from a trigger. No index on unsent rows (it would cost a
-- third of ingest speed): meta's `outbox_floor` is the lowest seq that may still be unsent.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    entity INTEGER NOT NULL CHECK (entity BETWEEN 1 AND 3),
    entity_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    op INTEGER NOT NULL CHECK (op BETWEEN 1 AND 3),
    created_ms INTEGER NOT NULL,
    sent_ms INTEGER
) STRICT;

INSERT INTO meta (key, value) VALUES ('outbox_floor', '1');

-- Every version of the patient profile and of the prescription; the highest version is current.
CREATE TABLE profile (
    version INTEGER PRIMARY KEY,
    json TEXT NOT NULL CHECK (json_valid(json)),
    recorded_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE prescription (
    version INTEGER PRIMARY KEY,
    json TEXT NOT NULL CHECK (json_valid(json)),
    recorded_ms INTEGER NOT NULL
) STRICT;

CREATE TRIGGER sources_immutable BEFORE UPDATE ON sources
BEGIN
    SELECT RAISE(ABORT, 'a source is never changed');
END;

CREATE TRIGGER sources_no_delete BEFORE DELETE ON sources
BEGIN
    SELECT RAISE(ABORT, 'a source is never erased');
END;

CREATE TRIGGER entries_guard_update BEFORE UPDATE ON entries
BEGIN
    SELECT RAISE(ABORT, 'a deleted entry cannot be changed') WHERE OLD.deleted = 1;
    SELECT RAISE(ABORT, 'an entry change must create the next version')
        WHERE NEW.version IS NOT OLD.version + 1;
    SELECT RAISE(ABORT, 'an entry keeps its id, kind and origin')
        WHERE NEW.id IS NOT OLD.id OR NEW.kind IS NOT OLD.kind
           OR NEW.source_kind IS NOT OLD.source_kind OR NEW.source_id IS NOT OLD.source_id
           OR NEW.record_no IS NOT OLD.record_no OR NEW.dedup_no IS NOT OLD.dedup_no;
    INSERT INTO entry_history (entry_id, version, kind, at_ms, utc_offset_s, g_value, g_unit,
        g_mg_dl, g_flag, g_type, g_context, detail, deleted, recorded_ms, reason, superseded_ms)
    VALUES (OLD.id, OLD.version, OLD.kind, OLD.at_ms, OLD.utc_offset_s, OLD.g_value, OLD.g_unit,
        OLD.g_mg_dl, OLD.g_flag, OLD.g_type, OLD.g_context, OLD.detail, OLD.deleted,
        OLD.recorded_ms, OLD.reason, NEW.recorded_ms);
END;

CREATE TRIGGER entries_outbox_update AFTER UPDATE ON entries
BEGIN
    INSERT INTO outbox (entity, entity_id, version, op, created_ms)
    VALUES (1, NEW.id, NEW.version, CASE WHEN NEW.deleted = 1 THEN 3 ELSE 2 END, NEW.recorded_ms);
END;

CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN
    SELECT RAISE(ABORT, 'entries are never erased; a deletion is a new version marked deleted');
END;

CREATE TRIGGER entry_history_no_update BEFORE UPDATE ON entry_history
BEGIN
    SELECT RAISE(ABORT, 'entry history is never changed');
END;

CREATE TRIGGER entry_history_no_delete BEFORE DELETE ON entry_history
BEGIN
    SELECT RAISE(ABORT, 'entry history is never erased');
END;

CREATE TRIGGER outbox_only_sent BEFORE UPDATE ON outbox
BEGIN
    SELECT RAISE(ABORT, 'an outbox row only records when it was sent')
        WHERE NEW.seq IS NOT OLD.seq OR NEW.entity IS NOT OLD.entity
           OR NEW.entity_id IS NOT OLD.entity_id OR NEW.version IS NOT OLD.version
           OR NEW.op IS NOT OLD.op OR NEW.created_ms IS NOT OLD.created_ms;
END;

CREATE TRIGGER profile_outbox AFTER INSERT ON profile
BEGIN
    INSERT INTO outbox (entity, entity_id, version, op, created_ms)
    VALUES (2, NEW.version, NEW.version, CASE WHEN NEW.version = 1 THEN 1 ELSE 2 END,
        NEW.recorded_ms);
END;

CREATE TRIGGER prescription_outbox AFTER INSERT ON prescription
BEGIN
    INSERT INTO outbox (entity, entity_id, version, op, created_ms)
    VALUES (3, NEW.version, NEW.version, CASE WHEN NEW.version = 1 THEN 1 ELSE 2 END,
        NEW.recorded_ms);
END;

CREATE TRIGGER profile_immutable BEFORE UPDATE ON profile
BEGIN
    SELECT RAISE(ABORT, 'a profile version is never changed; add a new one');
END;

CREATE TRIGGER prescription_immutable BEFORE UPDATE ON prescription
BEGIN
    SELECT RAISE(ABORT, 'a prescription version is never changed; add a new one');
END;

CREATE TRIGGER profile_no_delete BEFORE DELETE ON profile
BEGIN
    SELECT RAISE(ABORT, 'profile versions are never erased');
END;

CREATE TRIGGER prescription_no_delete BEFORE DELETE ON prescription
BEGIN
    SELECT RAISE(ABORT, 'prescription versions are never erased');
END;
"#;
