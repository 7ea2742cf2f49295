//! The embedded, forward-only migrations. A shipped migration is never edited: a change is a new
//! `M::up` at the end of [`MIGRATIONS`]. V1 has not shipped yet (pre-release): it was rewritten in
//! place for the one-B-tree-insert-per-reading layout described below.
//!
//! The medical-record rules live in the schema itself, so that no code path can bypass them:
//! triggers copy every superseded version of an entry into `entry_history`, append every change
//! (corrections, deletions, profile, prescription) to the `outbox` in the same transaction, widen a
//! batch's time range when a correction moves an entry, and refuse in-place edits, hard deletes
//! and changes to an entry's origin.
//!
//! Ingest layout (see `ids.rs` and `/work/notes/store2.md`): a reading costs one B-tree insert.
//! - The entry id is the dedup key (`source | kind | key`, packed under 2^53), so the PRIMARY KEY
//!   does the deduplication and no unique index is needed.
//! - No time index: each write transaction records, per (source, kind) group of new entries, one
//!   `batches` row (id range, time range, item sequence range); time windows select batches, then
//!   read their entries by rowid range.
//! - New entries get one outbox row per write transaction (a batch), not one per entry; each new
//!   entry carries its own outbox item number (`entries.seq`), which also names its batch.

use rusqlite_migration::{M, Migrations};

/// Codes used in the schema's CHECK constraints and triggers are mapped to types in `codes.rs`;
/// the id packing (the shifts and masks below) is in `ids.rs`.
const STEPS: &[M<'static>] = &[
    M::up(V1),
    M::up(crate::sync_state::V2_SYNC_STATE),
    M::up(crate::app_state::V3_APP_STATE),
];

pub(crate) const MIGRATIONS: Migrations<'static> = Migrations::from_slice(STEPS);

const V1: &str = r#"
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES
    ('installation_id', lower(hex(randomblob(16)))),
    ('created', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

-- Where entries come from: kind (1 manual, 2 meter, 3 cgm, 4 import), device id or import origin
-- ('' when there is none; a device id is never empty) and the key its entries are deduplicated by
-- (0 none: a per-source counter, 1 device record number, 2 import time in seconds). The id is the
-- top 9 bits of every entry id of this source, hence at most 511 sources per database.
CREATE TABLE sources (
    id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 511),
    kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 4),
    device TEXT NOT NULL,
    key INTEGER NOT NULL CHECK (key BETWEEN 0 AND 2),
    UNIQUE (kind, device, key)
) STRICT;

-- One row per diary entry, holding its current version. The id packs source (9 bits), kind
-- (4 bits) and key (40 bits): the dedup key itself. Only what cannot be derived is stored, in
-- small codes, which keeps a CGM reading's row about as narrow as a bare (time, value) row; the
-- `entries` view below adds the derived columns. (Generated columns would do the same, but SQLite
-- computes them on every insert: measured a sixth of ingest speed.)
CREATE TABLE entry_rows (
    id INTEGER PRIMARY KEY,
    -- the outbox item number of this entry's insert; its batch is the `batches` row whose
    -- [first_seq, last_seq] holds it
    seq INTEGER NOT NULL,
    -- as sources.key: whether the low 40 bits of the id are a dedup key, and which
    key_type INTEGER NOT NULL CHECK (key_type BETWEEN 0 AND 2),
    -- UTC milliseconds, within 1900..2200 so that a broken clock cannot slip in
    at_ms INTEGER NOT NULL CHECK (at_ms BETWEEN -2208988800000 AND 7258118400000),
    utc_offset_s INTEGER NOT NULL CHECK (utc_offset_s BETWEEN -86399 AND 86399),
    -- the device's record number as given, when the id does not already hold it (key_type 1)
    rec INTEGER CHECK (rec BETWEEN 0 AND 4294967295),
    -- glucose: canonical mg/dL (the plausible range is checked here), the value as given when it
    -- differs from it in any bit (another unit), and a code packing flag (bits 0-1: 0 value, 1 LO,
    -- 2 HI), reading type (bits 2-3: 1 capillary, 2 interstitial, 3 lab), meal context (bits 4-6)
    -- and unit (bits 7-8: 1 g/L, 2 mg/dL, 3 mmol/L; 0 for LO/HI). Codes are checked when read.
    g_mg_dl REAL CHECK (g_mg_dl BETWEEN 10 AND 600),
    g_given REAL,
    g_code INTEGER CHECK (g_code BETWEEN 0 AND 511),
    -- every kind but glucose: the JSON of its payload
    detail TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    recorded_ms INTEGER NOT NULL,
    reason TEXT,
    -- a JavaScript-safe id (< 2^53) of a known kind
    CHECK (id BETWEEN 0 AND 9007199254740991 AND ((id >> 40) & 15) BETWEEN 1 AND 10),
    -- glucose has its typed columns and no JSON, every other kind the reverse
    CHECK (CASE WHEN ((id >> 40) & 15) = 1
        THEN detail IS NULL AND g_code IS NOT NULL
            AND ((g_code & 3) = 0) = (g_mg_dl IS NOT NULL AND g_code >= 128)
        ELSE detail IS NOT NULL AND g_code IS NULL AND g_mg_dl IS NULL AND g_given IS NULL END)
) STRICT;

-- Entries with their derived columns; every read goes through it (SQLite flattens it, so a
-- rowid range on `id` stays a rowid range).
CREATE VIEW entries AS SELECT id, seq, key_type, at_ms, utc_offset_s, g_mg_dl, g_given, g_code,
        detail, version, deleted, recorded_ms, reason,
        (id >> 40) & 15 AS kind,
        id >> 44 AS source_id,
        -- meter/CGM: record number; import: seconds since 1900 of the row as first recorded;
        -- no key: NULL
        CASE WHEN key_type > 0 THEN id & 1099511627775 END AS dedup_no,
        CASE WHEN key_type = 1 THEN id & 1099511627775 ELSE rec END AS record_no,
        g_code & 3 AS g_flag,
        (g_code >> 2) & 3 AS g_type,
        (g_code >> 4) & 7 AS g_context,
        nullif(g_code >> 7, 0) AS g_unit,
        coalesce(g_given, g_mg_dl) AS g_value
    FROM entry_rows;

-- One row per (write transaction, source, kind) group of new entries. The entries of a group are
-- inserted in id order with consecutive item numbers, so [first_seq, last_seq] and
-- [min_id, max_id] describe it exactly; [min_at_ms, max_at_ms] only ever widens (a correction
-- that moves an entry's time widens it, by trigger). One row per transaction and group, not per
-- reading: the index on it is cheap.
CREATE TABLE batches (
    last_seq INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    min_id INTEGER NOT NULL,
    max_id INTEGER NOT NULL,
    min_at_ms INTEGER NOT NULL,
    max_at_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    CHECK (first_seq <= last_seq AND min_id <= max_id AND min_at_ms <= max_at_ms)
) STRICT;

CREATE INDEX batches_at ON batches (max_at_ms);

-- Every superseded version of an entry, with the reason and time of the change that replaced it.
-- Same stored columns as `entry_rows`, and the derived ones as generated columns (a correction
-- is rare: their cost on insert does not matter here).
CREATE TABLE entry_history (
    entry_id INTEGER NOT NULL REFERENCES entry_rows (id),
    version INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    utc_offset_s INTEGER NOT NULL,
    g_mg_dl REAL,
    g_given REAL,
    g_code INTEGER,
    detail TEXT,
    deleted INTEGER NOT NULL,
    recorded_ms INTEGER NOT NULL,
    reason TEXT,
    superseded_ms INTEGER NOT NULL,
    kind INTEGER AS ((entry_id >> 40) & 15) VIRTUAL,
    g_flag INTEGER AS (g_code & 3) VIRTUAL,
    g_type INTEGER AS ((g_code >> 2) & 3) VIRTUAL,
    g_context INTEGER AS ((g_code >> 4) & 7) VIRTUAL,
    g_unit INTEGER AS (nullif(g_code >> 7, 0)) VIRTUAL,
    g_value REAL AS (coalesce(g_given, g_mg_dl)) VIRTUAL,
    PRIMARY KEY (entry_id, version)
) STRICT, WITHOUT ROWID;

-- Changes waiting for the sync engine, in item-number order. entity: 1 entry, 2 profile,
-- 3 prescription, 4 batch of new entries (entity_id: its first item number); op: 1 insert,
-- 2 update, 3 delete. A row covers the items [first_seq, seq]: one change, or for a batch one item
-- per new entry (`entries.seq`). Items below `pending_from` are sent; items of a batch sent out of
-- order are in `outbox_sent` until the ones before them are sent too. `sent_ms`: when the last
-- item of the row was sent. No index on unsent rows: meta's `outbox_floor` is the lowest seq that
-- may still be unsent.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    entity INTEGER NOT NULL CHECK (entity BETWEEN 1 AND 4),
    entity_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    op INTEGER NOT NULL CHECK (op BETWEEN 1 AND 3),
    created_ms INTEGER NOT NULL,
    pending_from INTEGER NOT NULL,
    sent_ms INTEGER,
    CHECK (first_seq <= seq AND pending_from BETWEEN first_seq AND seq + 1),
    CHECK ((sent_ms IS NULL) = (pending_from <= seq))
) STRICT;

CREATE TABLE outbox_sent (
    seq INTEGER PRIMARY KEY
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

CREATE TRIGGER entry_rows_guard_update BEFORE UPDATE ON entry_rows
BEGIN
    SELECT RAISE(ABORT, 'a deleted entry cannot be changed') WHERE OLD.deleted = 1;
    SELECT RAISE(ABORT, 'an entry change must create the next version')
        WHERE NEW.version IS NOT OLD.version + 1;
    SELECT RAISE(ABORT, 'an entry keeps its id, kind, origin and batch')
        WHERE NEW.id IS NOT OLD.id OR NEW.seq IS NOT OLD.seq
           OR NEW.key_type IS NOT OLD.key_type OR NEW.rec IS NOT OLD.rec;
    INSERT INTO entry_history (entry_id, version, at_ms, utc_offset_s, g_mg_dl, g_given, g_code,
        detail, deleted, recorded_ms, reason, superseded_ms)
    VALUES (OLD.id, OLD.version, OLD.at_ms, OLD.utc_offset_s, OLD.g_mg_dl, OLD.g_given,
        OLD.g_code, OLD.detail, OLD.deleted, OLD.recorded_ms, OLD.reason, NEW.recorded_ms);
END;

CREATE TRIGGER entry_rows_outbox_update AFTER UPDATE ON entry_rows
BEGIN
    INSERT INTO outbox (seq, first_seq, entity, entity_id, version, op, created_ms, pending_from)
    SELECT n, n, 1, NEW.id, NEW.version, CASE WHEN NEW.deleted = 1 THEN 3 ELSE 2 END,
        NEW.recorded_ms, n
    FROM (SELECT coalesce(max(seq), 0) + 1 AS n FROM outbox);
END;

-- The entry's batch is the one whose item range holds its seq: the first with last_seq >= seq.
CREATE TRIGGER entry_rows_batch_time AFTER UPDATE OF at_ms ON entry_rows
    WHEN NEW.at_ms IS NOT OLD.at_ms
BEGIN
    UPDATE batches SET min_at_ms = min(min_at_ms, NEW.at_ms), max_at_ms = max(max_at_ms, NEW.at_ms)
    WHERE last_seq = (SELECT min(last_seq) FROM batches WHERE last_seq >= NEW.seq);
END;

CREATE TRIGGER entry_rows_no_delete BEFORE DELETE ON entry_rows
BEGIN
    SELECT RAISE(ABORT, 'entries are never erased; a deletion is a new version marked deleted');
END;

CREATE TRIGGER batches_only_widen BEFORE UPDATE ON batches
BEGIN
    SELECT RAISE(ABORT, 'a batch only widens its time range')
        WHERE NEW.last_seq IS NOT OLD.last_seq OR NEW.first_seq IS NOT OLD.first_seq
           OR NEW.min_id IS NOT OLD.min_id OR NEW.max_id IS NOT OLD.max_id
           OR NEW.created_ms IS NOT OLD.created_ms
           OR NEW.min_at_ms > OLD.min_at_ms OR NEW.max_at_ms < OLD.max_at_ms;
END;

CREATE TRIGGER batches_no_delete BEFORE DELETE ON batches
BEGIN
    SELECT RAISE(ABORT, 'a batch is never erased');
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
    SELECT RAISE(ABORT, 'an outbox row only records what of it was sent')
        WHERE NEW.seq IS NOT OLD.seq OR NEW.first_seq IS NOT OLD.first_seq
           OR NEW.entity IS NOT OLD.entity OR NEW.entity_id IS NOT OLD.entity_id
           OR NEW.version IS NOT OLD.version OR NEW.op IS NOT OLD.op
           OR NEW.created_ms IS NOT OLD.created_ms OR NEW.pending_from < OLD.pending_from
           OR (OLD.sent_ms IS NOT NULL AND NEW.sent_ms IS NOT OLD.sent_ms);
END;

CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN
    SELECT RAISE(ABORT, 'an outbox row is never erased');
END;

CREATE TRIGGER profile_outbox AFTER INSERT ON profile
BEGIN
    INSERT INTO outbox (seq, first_seq, entity, entity_id, version, op, created_ms, pending_from)
    SELECT n, n, 2, NEW.version, NEW.version, CASE WHEN NEW.version = 1 THEN 1 ELSE 2 END,
        NEW.recorded_ms, n
    FROM (SELECT coalesce(max(seq), 0) + 1 AS n FROM outbox);
END;

CREATE TRIGGER prescription_outbox AFTER INSERT ON prescription
BEGIN
    INSERT INTO outbox (seq, first_seq, entity, entity_id, version, op, created_ms, pending_from)
    SELECT n, n, 3, NEW.version, NEW.version, CASE WHEN NEW.version = 1 THEN 1 ELSE 2 END,
        NEW.recorded_ms, n
    FROM (SELECT coalesce(max(seq), 0) + 1 AS n FROM outbox);
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
