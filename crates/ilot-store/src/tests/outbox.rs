//! The outbox gets one item per change, in the change's own transaction.

use chrono::TimeDelta;
use ilot_domain::Entry;

use super::*;
use crate::{OutboxOp, OutboxTarget, StoreError};

#[test]
fn every_change_appends_one_outbox_row() {
    let mut s = store();
    let report = s
        .add_batch(
            &[
                cgm("2026-03-01T08:00:00Z", 100.0, 1),
                cgm("2026-03-01T08:05:00Z", 105.0, 2),
            ],
            now(),
        )
        .unwrap();
    let (a, b) = (report.ids[0].unwrap(), report.ids[1].unwrap());
    s.correct(a, &cgm("2026-03-01T08:00:00Z", 101.0, 1), None, later(1))
        .unwrap();
    s.delete(b, None, later(2)).unwrap();

    let items = s.outbox_pending(10).unwrap();
    let got: Vec<(OutboxTarget, u32, OutboxOp)> =
        items.iter().map(|i| (i.target, i.version, i.op)).collect();
    assert_eq!(
        got,
        vec![
            (OutboxTarget::Entry(a), 1, OutboxOp::Insert),
            (OutboxTarget::Entry(b), 1, OutboxOp::Insert),
            (OutboxTarget::Entry(a), 2, OutboxOp::Update),
            (OutboxTarget::Entry(b), 2, OutboxOp::Delete),
        ]
    );
    assert_eq!(items[3].created_at, later(2));
    assert!(items.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(s.outbox_pending(2).unwrap(), items[..2].to_vec());

    s.mark_sent(&[items[0].seq, items[1].seq], later(3))
        .unwrap();
    s.mark_sent(&[items[0].seq], later(4)).unwrap();
    assert_eq!(s.outbox_len().unwrap(), 2);
    assert_eq!(s.outbox_pending(10).unwrap(), items[2..].to_vec());
    // The two inserts share their transaction's batch row, sent when both were.
    assert_eq!(
        rows(
            &s,
            &format!(
                "SELECT count(*) FROM outbox WHERE sent_ms = {}",
                later(3).timestamp_millis()
            )
        ),
        1,
        "first sending time kept"
    );
}

#[test]
fn a_failing_batch_leaves_neither_entries_nor_outbox_rows() {
    let mut s = store();
    s.add(&cgm("2026-03-01T07:55:00Z", 99.0, 0), now()).unwrap();
    // A struct literal skips Entry::new's checks; the schema refuses a time before 1900.
    let broken = Entry {
        at: t("1850-01-01T00:00:00Z"),
        ..cgm("2026-03-01T08:00:00Z", 100.0, 3)
    };
    let batch = [
        cgm("2026-03-01T08:00:00Z", 100.0, 1),
        cgm("2026-03-01T08:05:00Z", 105.0, 2),
        broken,
        cgm("2026-03-01T08:10:00Z", 110.0, 4),
    ];
    let e = s.add_batch(&batch, now()).unwrap_err();
    assert!(matches!(e, StoreError::Sqlite(_)), "{e}");
    assert!(e.to_string().contains("CHECK"), "{e}");
    assert_eq!(rows(&s, "SELECT count(*) FROM entries"), 1);
    assert_eq!(rows(&s, "SELECT count(*) FROM sources"), 1);
    assert_eq!(s.outbox_len().unwrap(), 1);
    // The store is still usable and the good readings can be sent again.
    let ok = s.add_batch(&batch[..2], now()).unwrap();
    assert_eq!(ok.added, 2);
    assert_eq!(s.outbox_len().unwrap(), 3);
}

#[test]
fn a_future_entry_fails_the_whole_batch() {
    let mut s = store();
    let future = cgm(&(now() + TimeDelta::hours(1)).to_rfc3339(), 100.0, 2);
    let r = s.add_batch(&[cgm("2026-03-01T08:00:00Z", 100.0, 1), future], now());
    assert!(matches!(r, Err(StoreError::Invalid(_))));
    assert_eq!(rows(&s, "SELECT count(*) FROM entries"), 0);
    assert_eq!(s.outbox_len().unwrap(), 0);
}

#[test]
fn sending_out_of_order_never_hides_an_unsent_change() {
    let mut s = store();
    let batch: Vec<Entry> = (0..6)
        .map(|i| cgm(&format!("2026-03-01T08:0{i}:00Z"), 100.0, i))
        .collect();
    s.add_batch(&batch, now()).unwrap();
    let seqs: Vec<i64> = s
        .outbox_pending(10)
        .unwrap()
        .iter()
        .map(|i| i.seq)
        .collect();
    s.mark_sent(&[seqs[2], seqs[3]], later(1)).unwrap();
    let pending: Vec<i64> = s
        .outbox_pending(10)
        .unwrap()
        .iter()
        .map(|i| i.seq)
        .collect();
    assert_eq!(pending, vec![seqs[0], seqs[1], seqs[4], seqs[5]]);
    s.mark_sent(&[seqs[0], seqs[1]], later(2)).unwrap();
    assert_eq!(s.outbox_len().unwrap(), 2);
    s.mark_sent(&[seqs[4], seqs[5]], later(3)).unwrap();
    assert_eq!(s.outbox_len().unwrap(), 0);
    assert!(s.outbox_pending(10).unwrap().is_empty());
    // New changes after everything was sent are seen.
    s.delete(
        s.entries(None, None, None, false).unwrap()[0].id,
        None,
        later(4),
    )
    .unwrap();
    let items = s.outbox_pending(10).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].op, OutboxOp::Delete);
    assert_eq!(s.outbox_len().unwrap(), 1);
}
