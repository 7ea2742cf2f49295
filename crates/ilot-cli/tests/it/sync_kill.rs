//! Fault tests of transmission with real processes: `ilot sync` SIGKILLed at 50 seeded random
//! points of a large sync, and `ilot server` SIGKILLed at random points while a client pushes,
//! then restarted on the same database. After each, the server must hold exactly the client's
//! entry versions: every (entry id, version) once, none missing, none extra, and no batch that
//! carried an already-stored version (the acknowledgements' duplicate counts stay 0).
//!
//! The seed is printed; `ILOT_KILL_SEED=<seed>` replays a run's kill points and workload.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::{
    Carbs, Entry, EntryKind, Glucose, GlucoseReading, InsulinDelivery, InsulinDose, InsulinKind,
    MealContext, Note, Source, SourceKind,
};
use ilot_store::{KeyMode, Store};
use ilot_sync::SyncState;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::support::Env;
use crate::sync::{Server, free_port, operator, start_server};

/// The large sync's backlog (mixed kinds, with corrections and deletions).
const BACKLOG: usize = 20_000;
/// Small batches, so that kills land between batches and inside them.
const BATCH: &str = "250";

fn seed() -> u64 {
    std::env::var("ILOT_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// A patient's device: its database, the entries the test made, and the versions it expects.
struct Patient {
    env: Env,
    /// Entries made so far, in order, and the ones deleted (they cannot be corrected).
    ids: Vec<i64>,
    deleted: BTreeSet<i64>,
    /// Versions made (every new entry, correction and deletion is one).
    versions: u64,
    next_record: u32,
    /// Time of the next CGM reading (5-minute steps, in the past).
    next_at: DateTime<Utc>,
}

impl Patient {
    fn enrol(sdb: &str, url: &str, pseudonym: &str, start: DateTime<Utc>) -> Self {
        let created: serde_json::Value = serde_json::from_str(&operator(
            sdb,
            &[
                "create-patient",
                "--pseudonym",
                pseudonym,
                "--by",
                "dr",
                "--start",
                "2020-01-01",
                "--public-url",
                url,
                "--json",
            ],
        ))
        .unwrap();
        let env = Env::new();
        env.ok(&["enroll", created["link"].as_str().unwrap()]);
        env.ok(&["consent", "grant"]);
        // Tells the server about consent and retires the enrolment's prescription item.
        let r = env.json(&["sync", "--json"]);
        assert_eq!(r["pending"], 0, "{r}");
        Self {
            env,
            ids: Vec::new(),
            deleted: BTreeSet::new(),
            versions: 0,
            next_record: 1,
            next_at: start,
        }
    }

    fn store(&self) -> Store {
        let (key, _) = ilot_store::resolve_key(&self.env.db, KeyMode::File).unwrap();
        let mut s = Store::open(&self.env.db, &key).unwrap();
        s.set_secret_mode(KeyMode::File);
        s
    }

    fn device_id(&self) -> String {
        self.store()
            .identity()
            .unwrap()
            .unwrap()
            .device_id
            .to_string()
    }

    /// Adds `n` new entries (CGM with some manual capillary readings, insulin, carbs and notes)
    /// and corrects and deletes a few recent ones, so that entries have several versions.
    fn log(&mut self, n: usize, rng: &mut StdRng) {
        let mut store = self.store();
        let now = Utc::now();
        let tz = chrono::FixedOffset::east_opt(3600).unwrap();
        let cgm = ilot_domain::DeviceId::new("sim-cgm-kill").unwrap();
        let mut entries = Vec::with_capacity(n);
        for i in 0..n {
            let at = self.next_at.with_timezone(&tz);
            let kind = match i % 97 {
                13 => EntryKind::Glucose(GlucoseReading::capillary(
                    Glucose::from_mg_dl(f64::from(rng.random_range(60..250u16))).unwrap(),
                    MealContext::Fasting,
                )),
                41 => EntryKind::Insulin(
                    InsulinDose::new(
                        f64::from(rng.random_range(10..120u16)) / 10.0,
                        InsulinKind::Bolus,
                        InsulinDelivery::Pen,
                    )
                    .unwrap(),
                ),
                67 => EntryKind::Carbs(
                    Carbs::new(f64::from(rng.random_range(5..120u16)), None).unwrap(),
                ),
                89 => EntryKind::Note(
                    Note::new(format!("note {}", self.versions + i as u64)).unwrap(),
                ),
                _ => {
                    self.next_at += TimeDelta::minutes(5);
                    let mg = f64::from(rng.random_range(45..320u16));
                    let e = Entry::new(
                        at,
                        Source::device(SourceKind::Cgm, cgm.clone(), self.next_record),
                        EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(mg).unwrap())),
                        now,
                    )
                    .unwrap();
                    self.next_record += 1;
                    entries.push(e);
                    continue;
                }
            };
            entries.push(Entry::new(at, Source::manual(), kind, now).unwrap());
        }
        let r = store.add_batch(&entries, now).unwrap();
        assert_eq!(r.added, n, "every new entry is new");
        self.ids.extend(r.ids.iter().map(|i| i.unwrap()));
        self.versions += n as u64;
        // Corrections and deletions among the recent entries (sent or not yet); recent, because
        // the server re-evaluates alerts from the earliest time of each batch.
        let recent = self.ids.len().saturating_sub(3 * n.max(500));
        for _ in 0..(n / 100).max(2) {
            let id = self.ids[rng.random_range(recent..self.ids.len())];
            if self.deleted.contains(&id) {
                continue;
            }
            if rng.random_bool(0.3) {
                store.delete(id, Some("entered twice"), now).unwrap();
                self.deleted.insert(id);
            } else {
                let mut e = store.get(id).unwrap().unwrap().entry;
                match &mut e.kind {
                    EntryKind::Glucose(g) => {
                        *g = GlucoseReading::new(
                            ilot_domain::GlucoseLevel::Value(
                                Glucose::from_mg_dl(f64::from(rng.random_range(45..320u16)))
                                    .unwrap(),
                            ),
                            g.reading_type,
                            g.context,
                        );
                    }
                    EntryKind::Note(t) => *t = Note::new("corrected").unwrap(),
                    _ => e.at += TimeDelta::minutes(1),
                }
                store.correct(id, &e, Some("typo"), now).unwrap();
            }
            self.versions += 1;
        }
    }

    fn pending(&self) -> u64 {
        self.store().outbox_len().unwrap()
    }

    /// Every (entry id, version) the device holds, history included.
    fn versions_held(&self) -> BTreeSet<(i64, u32)> {
        let store = self.store();
        let mut out = BTreeSet::new();
        for e in store.entries(None, None, None, true).unwrap() {
            if e.version == 1 {
                out.insert((e.id, 1));
            } else {
                out.extend(
                    store
                        .history(e.id)
                        .unwrap()
                        .iter()
                        .map(|h| (h.id, h.version)),
                );
            }
        }
        out
    }

    fn sync_cmd(&self) -> std::process::Command {
        let mut c = self.env.cmd();
        c.args(["sync", "--json", "--batch-entries", BATCH]);
        c
    }
}

/// The server's side, read from its SQLite file.
struct ServerDb(rusqlite::Connection);

impl ServerDb {
    fn open(path: &Path) -> Self {
        let c = rusqlite::Connection::open(path).unwrap();
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        Self(c)
    }

    fn versions(&self, device: &str) -> BTreeSet<(i64, u32)> {
        let mut st = self
            .0
            .prepare("SELECT entry_id, version FROM entries WHERE device_id = ?1")
            .unwrap();
        let rows: Vec<(i64, u32)> = st
            .query_map([device], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let set: BTreeSet<_> = rows.iter().copied().collect();
        assert_eq!(set.len(), rows.len(), "a version is stored twice");
        set
    }

    fn count(&self, device: &str) -> u64 {
        let n: i64 = self
            .0
            .query_row(
                "SELECT count(*) FROM entries WHERE device_id = ?1",
                [device],
                |r| r.get(0),
            )
            .unwrap();
        n as u64
    }

    /// (last accepted batch, versions the batches stored, versions they carried again).
    fn batches(&self, device: &str) -> (Option<u64>, u64, u64) {
        let last: Option<i64> = self
            .0
            .query_row(
                "SELECT last_batch_seq FROM devices WHERE id = ?1",
                [device],
                |r| r.get(0),
            )
            .unwrap();
        let (stored, dup): (i64, i64) = self
            .0
            .query_row(
                "SELECT coalesce(sum(stored), 0), coalesce(sum(duplicates), 0) FROM batches WHERE device_id = ?1",
                [device],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        (last.map(|l| l as u64), stored as u64, dup as u64)
    }

    fn integrity(&self) {
        let ok: String = self
            .0
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
}

/// After any fault: nothing marked sent is missing on the server, nothing was stored twice or
/// from a second copy, and every stored version came with its batch record.
fn check_invariants(p: &Patient, db: &ServerDb, device: &str, what: &str) {
    // One read transaction: the server may commit a batch between the two reads otherwise (a
    // server still ingesting after the kill), which would compare two different states.
    db.0.execute_batch("BEGIN").unwrap();
    let count = db.count(device);
    let (_, stored, dup) = db.batches(device);
    db.0.execute_batch("COMMIT").unwrap();
    let sent = p.versions - p.pending();
    assert!(
        count >= sent,
        "{what}: the device marked {sent} versions sent, the server holds {count}"
    );
    assert!(count <= p.versions, "{what}: server holds more than made");
    assert_eq!(dup, 0, "{what}: a batch carried versions already stored");
    assert_eq!(
        stored, count,
        "{what}: stored versions and batch records disagree"
    );
}

fn check_exact(p: &Patient, db: &ServerDb, device: &str, what: &str) {
    assert_eq!(p.pending(), 0, "{what}: the outbox is empty");
    assert!(p.store().in_flight().unwrap().is_none());
    let held = p.versions_held();
    assert_eq!(held.len() as u64, p.versions, "{what}: the test's count");
    let server = db.versions(device);
    let missing: Vec<_> = held.difference(&server).take(5).collect();
    let extra: Vec<_> = server.difference(&held).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing on the server {missing:?}, unknown to the device {extra:?}"
    );
    check_invariants(p, db, device, what);
}

/// Where a kill landed, from what is durable on both sides and the client's last log line.
fn landing(p: &Patient, db: &ServerDb, device: &str, before: u64, log: &str) -> &'static str {
    let last = log
        .lines()
        .rev()
        .find(|l| l.contains("ilot_sync"))
        .unwrap_or("");
    let store = p.store();
    let after = store.outbox_len().unwrap();
    match store.in_flight().unwrap() {
        None if last.contains("pulling") => "in the pull, after the last batch",
        None if after == before => "before the first batch was saved",
        None => "between batches",
        Some(f) => {
            let (server_last, _, _) = db.batches(device);
            let pending: BTreeSet<i64> = store
                .outbox_pending(usize::MAX)
                .unwrap()
                .iter()
                .map(|i| i.seq)
                .collect();
            let marked = f.outbox_seqs.iter().all(|s| !pending.contains(s));
            match (server_last.is_some_and(|l| l >= f.seq), marked) {
                (false, _) if last.contains("pushing") => {
                    "batch pushed, not stored by the server yet"
                }
                (false, _) => "batch saved, before the push",
                (true, false) if last.contains("acknowledged") => "acknowledged, inside mark-sent",
                (true, false) => "stored by the server, its ack not yet received",
                (true, true) => "marked sent, before the batch was cleared",
            }
        }
    }
}

fn kill(child: &mut Child) -> bool {
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    finished
}

fn setup(env_dir: &Path) -> (String, std::path::PathBuf, u16, String) {
    let path = env_dir.join("server.db");
    let sdb = format!("sqlite:{}", path.display());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    operator(
        &sdb,
        &["create-operator", "--username", "dr", "--name", "Dr Martin"],
    );
    (sdb, path, port, url)
}

/// `n` random points in `[0, over)`, sorted, as the waits between them (the first from 0).
fn spread(n: usize, over: Duration, rng: &mut StdRng) -> Vec<Duration> {
    let mut at: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
    at.sort_by(f64::total_cmp);
    let mut prev = 0.0;
    at.iter()
        .map(|&x| {
            let gap = over.mul_f64(x - prev);
            prev = x;
            gap
        })
        .collect()
}

/// Times a sync of `n` entries on a patient of its own, then a sync with nothing to send (the
/// process start, store opening and pull that every resumed run pays again).
fn measure(
    sdb: &str,
    url: &str,
    db: &ServerDb,
    n: usize,
    rng: &mut StdRng,
) -> (Duration, Duration) {
    let start = Utc::now() - TimeDelta::days(200);
    let mut probe = Patient::enrol(sdb, url, "P-PROBE", start);
    probe.log(n, rng);
    let t = Instant::now();
    let out = probe.sync_cmd().output().unwrap();
    let full = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = Instant::now();
    probe.env.ok(&["sync", "--json"]);
    let idle = t.elapsed();
    check_exact(&probe, db, &probe.device_id(), "probe");
    (full, idle)
}

#[test]
fn a_client_killed_at_fifty_random_points_loses_and_doubles_nothing() {
    let seed = seed();
    eprintln!("client kill test: ILOT_KILL_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let (sdb, path, port, url) = setup(dir.path());
    let _server = start_server(&sdb, port);
    let db = ServerDb::open(&path);

    // The sync's duration here (measured on a quarter of the backlog, batches cost alike), to
    // spread the 50 kill points over it.
    let (quarter, idle) = measure(&sdb, &url, &db, BACKLOG / 4, &mut rng);
    let full = quarter.saturating_sub(idle).mul_f64(4.0);
    eprintln!("sync of {BACKLOG} entries in batches of {BATCH}: ~{full:?}; a run's start {idle:?}");

    let mut p = Patient::enrol(&sdb, &url, "P-KILL", Utc::now() - TimeDelta::days(200));
    let device = p.device_id();
    p.log(BACKLOG, &mut rng);
    let mut tally: BTreeMap<&str, u32> = BTreeMap::new();
    let log_path = dir.path().join("client.log");
    for (round, gap) in spread(50, full, &mut rng).into_iter().enumerate() {
        // The patient keeps logging (and correcting) between runs; an outbox emptied early is
        // refilled so that every kill lands in a sync.
        let refill = if p.pending() < 500 { 2_000 } else { 20 };
        p.log(refill, &mut rng);
        let before = p.pending();
        let delay = idle + gap;
        let mut child = p
            .sync_cmd()
            .env("ILOT_LOG", "ilot_sync=debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let finished = kill(&mut child);
        let log = std::fs::read_to_string(&log_path).unwrap();
        let at = if finished {
            "after the sync had finished"
        } else {
            landing(&p, &db, &device, before, &log)
        };
        *tally.entry(at).or_default() += 1;
        eprintln!(
            "kill {round:2} after {:>5} ms: {at} (outbox {before} -> {})",
            delay.as_millis(),
            p.pending()
        );
        check_invariants(&p, &db, &device, &format!("kill {round} ({at})"));
    }
    eprintln!("where the kills landed (seed {seed}): {tally:#?}");

    let r = p.env.json(&["sync", "--json", "--batch-entries", BATCH]);
    assert_eq!(r["pending"], 0, "{r}");
    assert_eq!(r["duplicates"], 0, "{r}");
    check_exact(&p, &db, &device, "after the kills");
    db.integrity();
    let mid_sync = 50
        - tally
            .get("after the sync had finished")
            .copied()
            .unwrap_or(0);
    assert!(
        mid_sync >= 40 && tally.len() >= 2,
        "the kills did not spread over the sync (seed {seed}): {tally:?}"
    );
}

#[test]
fn a_server_killed_mid_ingest_and_restarted_loses_and_doubles_nothing() {
    let seed = seed();
    eprintln!("server kill test: ILOT_KILL_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let (sdb, path, port, url) = setup(dir.path());
    let mut server: Server = start_server(&sdb, port);
    let db = ServerDb::open(&path);
    let (quarter, idle) = measure(&sdb, &url, &db, BACKLOG / 4, &mut rng);
    let full = quarter.saturating_sub(idle).mul_f64(4.0);

    let mut p = Patient::enrol(&sdb, &url, "P-SRV", Utc::now() - TimeDelta::days(200));
    let device = p.device_id();
    p.log(BACKLOG, &mut rng);
    let (mut retried, mut failed) = (0, 0);
    const KILLS: usize = 12;
    for (round, gap) in spread(KILLS, full, &mut rng).into_iter().enumerate() {
        if p.pending() < 1_000 {
            p.log(3_000, &mut rng);
        }
        let before = p.pending();
        // Most runs have one attempt and must fail clearly; the last ones retry with backoff
        // through the restart and finish on their own.
        let retries = round >= KILLS - 3;
        let client = p
            .sync_cmd()
            .args(["--attempts", if retries { "30" } else { "1" }])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(idle + gap);
        kill(&mut server.child);
        let (server_last, _, _) = db.batches(&device);
        let at = match p.store().in_flight() {
            Ok(Some(f)) if server_last.is_some_and(|l| l >= f.seq) => {
                "batch stored, its ack not yet processed"
            }
            Ok(Some(_)) => "batch in flight, not stored (before or inside the ingest)",
            Ok(None) => "between batches",
            Err(_) => "while the client wrote",
        };
        std::thread::sleep(Duration::from_millis(rng.random_range(50..600)));
        server = start_server(&sdb, port);
        let out = client.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let outcome = if out.status.success() {
            retried += u32::from(retries);
            "finished"
        } else {
            assert!(!retries, "round {round}: {stderr}");
            assert!(
                stderr.contains("cannot be reached") && stderr.contains("kept on this device"),
                "round {round}: not a clear error: {stderr}"
            );
            failed += 1;
            "failed with a clear error"
        };
        eprintln!(
            "server kill {round:2} after {:>5} ms: {at}; client {outcome}; outbox {before} -> {}",
            (idle + gap).as_millis(),
            p.pending()
        );
        db.integrity();
        check_invariants(&p, &db, &device, &format!("server kill {round}"));
    }
    let r = p.env.json(&["sync", "--json", "--batch-entries", BATCH]);
    assert_eq!(r["pending"], 0, "{r}");
    check_exact(&p, &db, &device, "after the server kills");
    eprintln!("runs that failed clearly: {failed}; that retried through a restart: {retried}");
    assert!(failed >= 3 && retried >= 1, "seed {seed}");
    drop(server);
}
