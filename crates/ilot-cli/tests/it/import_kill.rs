//! Kill test: SIGKILL in the middle of a large import leaves a database that opens, holds each
//! transaction (chunk) whole or not at all, with its outbox rows, and a re-run completes without
//! a duplicate.

use std::io::Write;
use std::process::Stdio;
use std::time::Instant;

use crate::support::Env;

const ROWS: usize = 120_000;
const CHUNK: u64 = 5_000;

fn big_csv(env: &Env) -> std::path::PathBuf {
    let path = env.dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "time,glucose").unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00+00:00").unwrap();
    for i in 0..ROWS {
        let at = start + chrono::TimeDelta::minutes(i as i64);
        let mg = 60 + (i * 7919) % 200;
        writeln!(f, "{},{mg}", at.to_rfc3339()).unwrap();
    }
    path
}

fn status(env: &Env) -> (u64, u64) {
    let s = env.json(&["status", "--json"]);
    (
        s["entries"].as_u64().unwrap(),
        s["outbox_pending"].as_u64().unwrap(),
    )
}

#[test]
fn killed_imports_lose_no_committed_chunk_and_resume_without_duplicates() {
    let env = Env::new();
    let csv = big_csv(&env);
    let csv = csv.to_str().unwrap();
    let import = ["import", "csv", csv, "--unit", "mg/dL", "--json"];

    // How long a whole import takes here, only to spread the kill points over it.
    let probe = Env::new();
    let t0 = Instant::now();
    probe.ok(&import);
    let full = t0.elapsed();

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill test seed {seed}, full import {full:?}");
    let mut rng = seed | 1;
    let mut saw_partial = false;
    for round in 0..8u32 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let fraction = (f64::from(round) + (rng % 1000) as f64 / 1000.0) / 8.0;
        let mut child = env
            .cmd()
            .args(import)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(fraction.max(0.02)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let (entries, outbox) = status(&env);
        assert!(
            entries % CHUNK == 0 || entries == ROWS as u64,
            "round {round}: {entries} entries is not whole chunks"
        );
        assert_eq!(
            outbox, entries,
            "round {round}: every stored entry has its outbox row"
        );
        saw_partial |= entries > 0 && entries < ROWS as u64;
    }
    let last = env.json(&import);
    let (entries, outbox) = status(&env);
    assert_eq!(entries, ROWS as u64, "{last}");
    assert_eq!(outbox, ROWS as u64);
    assert_eq!(
        last["added"].as_u64().unwrap() + last["duplicates"].as_u64().unwrap(),
        ROWS as u64
    );
    assert!(
        saw_partial,
        "no kill landed mid-import (seed {seed}); the kill points need retuning"
    );
}
