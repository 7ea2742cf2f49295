//! Entry ids: the dedup key packed into one integer, so that the table's PRIMARY KEY is the only
//! B-tree a new reading touches. Must not read or write the database.
//!
//! Layout, most significant first: source id (9 bits, 1..=511), kind code (4 bits), key (40 bits):
//! 53 bits, so that an id is exact as a JavaScript number (the UI receives ids as JSON numbers).
//! The key is the device record number (meter and CGM sources), the import row's time in whole
//! seconds since 1900-01-01 UTC (import sources), or a per-(source, kind) counter (sources with
//! no dedup key: manual entries, devices that gave no record number). All entries of one
//! (source, kind) are therefore one contiguous id range, which the write path and the time
//! queries read by rowid range instead of through an index.

use chrono::{DateTime, FixedOffset};

use crate::error::{Result, StoreError};

const KIND_BITS: u32 = 4;
const KEY_BITS: u32 = 40;
const SOURCE_SHIFT: u32 = KIND_BITS + KEY_BITS;

/// Largest source id: the 9 bits above kind and key.
pub(crate) const MAX_SOURCE_ID: i64 = (1 << 9) - 1;
/// Largest key (record number, import second or counter).
pub(crate) const MAX_KEY: i64 = (1 << KEY_BITS) - 1;
/// 1900-01-01T00:00:00Z in Unix milliseconds: the schema's lowest accepted time, and the zero of
/// import keys.
const EPOCH_1900_MS: i64 = -2_208_988_800_000;

/// How the key part of the ids of a source's entries is made (stored as `sources.key` and
/// `entries.key_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyType {
    /// No dedup: a counter, next = highest id of the (source, kind) range + 1.
    Counter = 0,
    /// The device record number.
    Record = 1,
    /// The import row's time in whole seconds since 1900-01-01 UTC.
    ImportSecond = 2,
}

impl KeyType {
    pub fn code(self) -> u8 {
        self as u8
    }
}

pub(crate) fn pack(source_id: i64, kind: u8, key: i64) -> i64 {
    debug_assert!((1..=MAX_SOURCE_ID).contains(&source_id));
    debug_assert!((0..=MAX_KEY).contains(&key));
    (source_id << SOURCE_SHIFT) | (i64::from(kind) << KEY_BITS) | key
}

/// The (source, kind) group an id belongs to: ids of one group share it.
pub(crate) fn group(id: i64) -> i64 {
    id >> KEY_BITS
}

/// The first and last id of the (source, kind) range.
pub(crate) fn range(source_id: i64, kind: u8) -> (i64, i64) {
    (pack(source_id, kind, 0), pack(source_id, kind, MAX_KEY))
}

/// The key of an import row at `at`: whole seconds since 1900-01-01 UTC, so that two rows of
/// one import origin within the same second share it (the second one is a duplicate if it is
/// identical, to the millisecond, and a conflict otherwise). Times outside 1900..2200 (the
/// schema's bounds) have no key.
pub(crate) fn import_key(at: &DateTime<FixedOffset>) -> Result<i64> {
    let since = at.timestamp_millis() - EPOCH_1900_MS;
    let key = since.div_euclid(1000);
    if since < 0 || key > MAX_KEY {
        return Err(StoreError::TimeOutOfRange(at.to_rfc3339()));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn the_largest_id_is_exact_in_javascript() {
        // Number.MAX_SAFE_INTEGER
        let max_safe: i64 = 9_007_199_254_740_991;
        assert_eq!(pack(MAX_SOURCE_ID, 15, MAX_KEY), max_safe);
        assert_eq!(
            pack(511, 10, i64::from(u32::MAX)) as f64 as i64,
            pack(511, 10, i64::from(u32::MAX))
        );
    }

    #[test]
    fn fields_do_not_overlap() {
        let id = pack(3, 1, i64::from(u32::MAX));
        assert_eq!(id >> 44, 3);
        assert_eq!((id >> 40) & 15, 1);
        assert_eq!(id & MAX_KEY, i64::from(u32::MAX));
        assert_eq!(group(id), group(pack(3, 1, 0)));
        assert_ne!(group(id), group(pack(3, 2, 0)));
        assert_ne!(group(id), group(pack(4, 1, 0)));
        let (lo, hi) = range(3, 1);
        assert!(lo <= id && id <= hi);
        assert_eq!(hi + 1, pack(3, 2, 0));
    }

    #[test]
    fn import_keys_cover_1900_to_2200_in_seconds() {
        assert_eq!(import_key(&t("1900-01-01T00:00:00Z")).unwrap(), 0);
        assert_eq!(import_key(&t("1900-01-01T00:00:01.999Z")).unwrap(), 1);
        // 300 years and 73 leap days, in seconds.
        let secs_to_2200 = (300 * 365 + 73) * 86_400;
        assert_eq!(
            import_key(&t("2200-01-01T00:00:00Z")).unwrap(),
            secs_to_2200
        );
        assert!(secs_to_2200 < MAX_KEY);
        // The same second, whatever the offset the time was written with.
        assert_eq!(
            import_key(&t("2026-03-01T08:00:00.100+01:00")).unwrap(),
            import_key(&t("2026-03-01T07:00:00.900Z")).unwrap()
        );
        let e = import_key(&t("1899-12-31T23:59:59.999Z")).unwrap_err();
        assert!(e.to_string().contains("1899-12-31T23:59:59.999"), "{e}");
    }
}
