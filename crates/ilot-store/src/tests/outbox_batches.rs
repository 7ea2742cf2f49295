//! New entries share one outbox row per transaction, yet are sent, item by item, like any
//! other change.

use ilot_domain::Entry;

use super::*;
use crate::{OutboxOp, OutboxTarget};

fn series(n: u32, first_record: u32) -> Vec<Entry> {
    (0..n)
        .map(|i| {
            let r = first_record + i;
            cgm(
                &format!("2026-03-01T{:02}:{:02}:00Z", r / 60 % 24, r % 60),
                100.0,
                r,
            )
        })
        .collect()
}

fn seqs(s: &Store, limit: usize) -> Vec<i64> {
    s.outbox_pending(limit)
        .unwrap()
        .iter()
        .map(|i| i.seq)
        .collect()
}

#[test]
fn one_outbox_row_per_transaction_expands_to_one_item_per_entry() {
    let mut s = store();
    let ids = s.add_batch(&series(5, 10), now()).unwrap().ids;
    assert_eq!(rows(&s, "SELECT count(*) FROM outbox"), 1);
    assert_eq!(s.outbox_len().unwrap(), 5);
    let items = s.outbox_pending(10).unwrap();
    let got: Vec<(OutboxTarget, u32, OutboxOp)> =
        items.iter().map(|i| (i.target, i.version, i.op)).collect();
    let expect: Vec<(OutboxTarget, u32, OutboxOp)> = ids
        .iter()
        .map(|id| (OutboxTarget::Entry(id.unwrap()), 1, OutboxOp::Insert))
        .collect();
    assert_eq!(got, expect);
    assert!(items.iter().all(|i| i.created_at == now()));
    // A limit cuts inside the batch.
    assert_eq!(s.outbox_pending(2).unwrap(), items[..2].to_vec());
}

#[test]
fn a_batch_sent_in_parts_and_out_of_order_is_done_when_its_last_item_is() {
    let mut s = store();
    s.add_batch(&series(6, 0), now()).unwrap();
    s.set_profile(&ilot_domain::PatientProfile::new("P-1"), now())
        .unwrap();
    let all = seqs(&s, 10);
    assert_eq!(all.len(), 7);
    // Items 2 and 4 of the batch first, then the profile: nothing before them is hidden.
    s.mark_sent(&[all[2], all[4], all[6]], later(1)).unwrap();
    assert_eq!(seqs(&s, 10), vec![all[0], all[1], all[3], all[5]]);
    assert_eq!(seqs(&s, 3), vec![all[0], all[1], all[3]]);
    assert_eq!(s.outbox_len().unwrap(), 4);
    assert_eq!(rows(&s, "SELECT count(*) FROM outbox_sent"), 2);
    // Items 0 and 1 join the prefix, which then takes the already sent item 2.
    s.mark_sent(&[all[1], all[0]], later(2)).unwrap();
    assert_eq!(seqs(&s, 10), vec![all[3], all[5]]);
    assert_eq!(rows(&s, "SELECT count(*) FROM outbox_sent"), 1);
    assert_eq!(
        rows(&s, "SELECT count(*) FROM outbox WHERE sent_ms IS NULL"),
        1
    );
    // Marking again, or unknown numbers, changes nothing.
    s.mark_sent(&[all[0], all[2], 0, -5, 1_000_000], later(3))
        .unwrap();
    assert_eq!(s.outbox_len().unwrap(), 2);
    s.mark_sent(&[all[5], all[3]], later(4)).unwrap();
    assert!(seqs(&s, 10).is_empty());
    assert_eq!(s.outbox_len().unwrap(), 0);
    assert_eq!(rows(&s, "SELECT count(*) FROM outbox_sent"), 0);
    assert_eq!(
        rows(
            &s,
            &format!(
                "SELECT count(*) FROM outbox WHERE entity = 4 AND sent_ms = {}",
                later(4).timestamp_millis()
            )
        ),
        1
    );
}

#[test]
fn a_partly_sent_large_batch_resumes_where_it_stopped() {
    let mut s = store();
    // Given in reverse order: items still follow ids, and span three batch-map rows.
    let mut batch = series(2500, 0);
    batch.reverse();
    s.add_batch(&batch, now()).unwrap();
    let first = s.outbox_pending(2500).unwrap();
    let ids: Vec<i64> = first
        .iter()
        .map(|i| match i.target {
            OutboxTarget::Entry(id) => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(first.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    // Sent: the first 1500 and a few beyond, in several calls.
    let sent: Vec<i64> = first[..1500].iter().map(|i| i.seq).collect();
    s.mark_sent(&sent[..700], later(1)).unwrap();
    s.mark_sent(&sent[700..], later(2)).unwrap();
    s.mark_sent(&[first[1501].seq, first[2100].seq], later(3))
        .unwrap();
    let next = s.outbox_pending(3).unwrap();
    assert_eq!(
        next,
        vec![
            first[1500].clone(),
            first[1502].clone(),
            first[1503].clone()
        ]
    );
    assert_eq!(s.outbox_len().unwrap(), 998);
    let rest = seqs(&s, 5000);
    assert_eq!(rest.len(), 998);
    assert!(!rest.contains(&first[2100].seq));
    assert_eq!(rest.last(), Some(&first[2499].seq));
}

#[test]
fn mark_sent_is_one_transaction() {
    let mut s = store();
    s.add_batch(&series(4, 0), now()).unwrap();
    s.add_batch(&series(4, 100), later(1)).unwrap();
    let all = seqs(&s, 10);
    // A failure while recording the second row must leave the first as it was.
    s.conn
        .execute_batch(
            "CREATE TEMP TRIGGER fail_second BEFORE UPDATE ON outbox WHEN OLD.seq > 4
             BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let e = s
        .mark_sent(&[all[0], all[2], all[4]], later(2))
        .unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
    assert_eq!(seqs(&s, 10), all);
    assert_eq!(s.outbox_len().unwrap(), 8);
    assert_eq!(rows(&s, "SELECT count(*) FROM outbox_sent"), 0);
    assert_eq!(
        rows(
            &s,
            "SELECT count(*) FROM outbox WHERE pending_from > first_seq"
        ),
        0
    );
    s.conn.execute_batch("DROP TRIGGER fail_second").unwrap();
    s.mark_sent(&[all[0], all[2], all[4]], later(3)).unwrap();
    assert_eq!(seqs(&s, 10), vec![all[1], all[3], all[5], all[6], all[7]]);
}

#[test]
fn the_schema_guards_rows_batches_and_the_outbox() {
    let mut s = store();
    let ids = s.add_batch(&series(3, 0), now()).unwrap().ids;
    let id = ids[0].unwrap();
    s.correct(id, &series(1, 0)[0].clone(), Some("same"), later(1))
        .unwrap();
    s.delete(ids[2].unwrap(), None, later(2)).unwrap();
    for sql in [
        "UPDATE entry_rows SET g_mg_dl = 50",
        "UPDATE entry_rows SET version = version + 1, g_mg_dl = 50 WHERE deleted = 1",
        "UPDATE entry_rows SET version = version + 1, id = id + 1000",
        "UPDATE entry_rows SET version = version + 1, seq = seq + 1",
        "UPDATE entry_rows SET version = version + 1, key_type = 0",
        "DELETE FROM entry_rows",
        "INSERT INTO entry_rows (id, seq, key_type, at_ms, utc_offset_s, g_mg_dl, g_code,
            recorded_ms) VALUES (9007199254740992, 1, 0, 0, 0, 100, 376, 0)",
        "INSERT INTO entry_rows (id, seq, key_type, at_ms, utc_offset_s, g_mg_dl, g_code,
            recorded_ms) VALUES ((1 << 44) | (1 << 40) | 77, 1, 0, 0, 0, 5, 376, 0)",
        "UPDATE batches SET max_at_ms = min_at_ms",
        "UPDATE batches SET min_id = min_id + 1",
        "DELETE FROM batches",
        "UPDATE outbox SET pending_from = first_seq - 1",
        "UPDATE outbox SET entity_id = 7",
        "DELETE FROM outbox",
        "UPDATE entries SET g_mg_dl = 50",
    ] {
        assert!(s.conn.execute(sql, []).is_err(), "{sql} was allowed");
    }
    assert_eq!(s.history(id).unwrap().len(), 2);
    assert_eq!(s.count_entries().unwrap(), 2);
}
