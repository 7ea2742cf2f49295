//! Flash sensor scans entered at the command line: a reading type of their own.

use crate::support::Env;

#[test]
fn a_scan_is_logged_as_a_scan_and_cannot_also_be_another_type() {
    let env = Env::new();
    env.ok(&[
        "log",
        "glucose",
        "96",
        "mg/dL",
        "--scan",
        "--at",
        "2026-01-02 08:00",
    ]);
    env.ok(&[
        "log",
        "glucose",
        "1,02",
        "g/L",
        "--type",
        "scan",
        "--at",
        "2026-01-02 12:00",
    ]);
    env.ok(&["log", "glucose", "1,10", "g/L", "--at", "2026-01-02 18:00"]);
    let entries = env.json(&["entries", "--json"]);
    let types: Vec<_> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["entry"]["kind"]["reading_type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["scan", "scan", "capillary"]);

    let err = env.fails(&["log", "glucose", "96", "mg/dL", "--scan", "--type", "lab"]);
    assert!(err.contains("cannot be used with"), "{err}");
    assert_eq!(env.entry_count(), 3);
}
