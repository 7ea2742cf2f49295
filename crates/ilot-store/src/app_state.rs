//! What the patient app must remember that dates or guards the patient's data, kept in the
//! encrypted store rather than in a plain settings file: which alerts the patient marked "done"
//! and which were already notified (their keys carry the episode's start, so they date every
//! hypo), and the failed PIN attempts with the wait they impose (so a restart does not reset
//! them). The app gives the meaning; this module keeps them durably, each write one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use crate::error::Result;
use crate::{Store, ms};

/// Migration V3 (appended; V1 and V2 are never edited).
pub(crate) const V3_APP_STATE: &str = r#"
CREATE TABLE alert_marks (
    mark TEXT NOT NULL CHECK (mark IN ('done', 'notified')),
    key TEXT NOT NULL,
    PRIMARY KEY (mark, key)
) WITHOUT ROWID;
CREATE TABLE unlock_attempts (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    failures INTEGER NOT NULL,
    wait_until_ms INTEGER
);
"#;

/// Alert keys remembered per mark; the smallest keys (alert families sort first, then the
/// oldest times) are dropped first.
const MAX_MARKS: i64 = 500;

/// What the patient app remembers about an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertMark {
    /// The patient marked it "done".
    Done,
    /// It was shown as a desktop notification.
    Notified,
}

impl AlertMark {
    fn code(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Notified => "notified",
        }
    }
}

/// Failed PIN attempts in a row, and until when the lock refuses any attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnlockAttempts {
    pub failures: u32,
    pub wait_until: Option<DateTime<Utc>>,
}

impl Store {
    /// The keys of the alerts with this mark.
    pub fn alert_marks(&self, mark: AlertMark) -> Result<std::collections::BTreeSet<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key FROM alert_marks WHERE mark = ?1")?;
        let keys = stmt
            .query_map([mark.code()], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(keys)
    }

    /// Marks these alerts, in one transaction, keeping at most 500 keys per mark.
    pub fn add_alert_marks<'a>(
        &mut self,
        mark: AlertMark,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO alert_marks (mark, key) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?;
            for k in keys {
                ins.execute(params![mark.code(), k])?;
            }
        }
        tx.execute(
            "DELETE FROM alert_marks WHERE mark = ?1 AND key NOT IN
               (SELECT key FROM alert_marks WHERE mark = ?1 ORDER BY key DESC LIMIT ?2)",
            params![mark.code(), MAX_MARKS],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn unlock_attempts(&self) -> Result<UnlockAttempts> {
        let row: Option<(i64, Option<i64>)> = self
            .conn
            .prepare_cached("SELECT failures, wait_until_ms FROM unlock_attempts WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(
            row.map_or_else(UnlockAttempts::default, |(f, w)| UnlockAttempts {
                failures: u32::try_from(f).unwrap_or(u32::MAX),
                wait_until: w.and_then(DateTime::from_timestamp_millis),
            }),
        )
    }

    pub fn set_unlock_attempts(&mut self, a: UnlockAttempts) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO unlock_attempts (id, failures, wait_until_ms) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET failures = excluded.failures,
                                            wait_until_ms = excluded.wait_until_ms",
            params![i64::from(a.failures), a.wait_until.map(ms)],
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_attempts_are_kept_and_bounded() {
        let mut s = Store::open_in_memory().unwrap();
        assert!(s.alert_marks(AlertMark::Done).unwrap().is_empty());
        s.add_alert_marks(AlertMark::Done, ["hypo@1", "hypo@2"])
            .unwrap();
        s.add_alert_marks(AlertMark::Notified, ["hypo@2"]).unwrap();
        assert_eq!(s.alert_marks(AlertMark::Done).unwrap().len(), 2);
        assert_eq!(
            s.alert_marks(AlertMark::Notified)
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            vec!["hypo@2".to_string()]
        );
        let many: Vec<String> = (0..510).map(|i| format!("k{i:05}")).collect();
        s.add_alert_marks(AlertMark::Done, many.iter().map(String::as_str))
            .unwrap();
        let kept = s.alert_marks(AlertMark::Done).unwrap();
        assert_eq!(kept.len(), 500);
        assert!(kept.contains("k00509") && !kept.contains("k00000"));

        assert_eq!(s.unlock_attempts().unwrap(), UnlockAttempts::default());
        let a = UnlockAttempts {
            failures: 6,
            wait_until: DateTime::from_timestamp_millis(1_700_000_000_000),
        };
        s.set_unlock_attempts(a).unwrap();
        assert_eq!(s.unlock_attempts().unwrap(), a);
    }
}
