//! `ilot ble`: decoding without a database, and downloads from the in-process simulator into a
//! real encrypted database file.

use crate::support::Env;

#[test]
fn decode_needs_no_database() {
    let env = Env::new();
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["ble", "decode", "2a18", "030100ea070301081e0000007eb012"]))
            .unwrap();
    assert_eq!(v["sequence"], 1);
    assert_eq!(v["time"], "2026-03-01T08:30:00");
    assert_eq!(v["mg_dl"], 126);
    assert_eq!(v["type"], "capillary-plasma");
    assert_eq!(v["location"], "finger");
    assert_eq!(v["special"], serde_json::Value::Null);
    assert_eq!(v["context_follows"], false);
    assert!(!env.db.exists(), "decode must not create a database");
}

#[test]
fn decode_shows_special_values_status_and_crc() {
    let env = Env::new();
    let v = env.json(&["ble", "decode", "2a18", "0a0300ea070301081e00ff07122000"]);
    assert_eq!(v["mg_dl"], serde_json::Value::Null);
    assert_eq!(v["special"], "nan");
    assert_eq!(
        v["status"],
        serde_json::json!(["result-higher-than-device-can-process"])
    );
    let v = env.json(&[
        "ble",
        "decode",
        "2aa7",
        "0f e3 78 00 0a 00 02 04 08 f1 ff 5f 00 fa d6",
    ]);
    assert_eq!(v["mg_dl"], 120);
    assert_eq!(v["time_offset_min"], 10);
    assert_eq!(v["trend"], -1.5);
    assert_eq!(v["quality"], 95);
    assert_eq!(v["crc_ok"], true);
    assert_eq!(
        env.json(&["ble", "decode", "sfloat", "fe07"])["special"],
        "+inf"
    );
}

#[test]
fn an_invalid_frame_exits_non_zero_with_the_reason() {
    let env = Env::new();
    let e = env.fails(&["ble", "decode", "2a18", "0301"]);
    assert!(
        e.contains("Glucose Measurement (0x2A18): truncated at byte 1: field `sequence number`"),
        "{e}"
    );
    let e = env.fails(&["ble", "decode", "2aa7", "07007800050000"]);
    assert!(e.contains("the size field says 7 bytes"), "{e}");
    let e = env.fails(&["ble", "decode", "2a18", "zz"]);
    assert!(e.contains("not a hex digit"), "{e}");
}

#[test]
fn sim_download_then_incremental_adds_nothing_twice() {
    let env = Env::new();
    let first = env.json(&[
        "ble",
        "download",
        "sim:meter",
        "--interval-ms",
        "0",
        "--json",
    ]);
    let n = first["records"].as_u64().unwrap();
    assert!(n > 0, "{first}");
    assert_eq!(first["readings_stored"].as_u64(), Some(n));
    assert_eq!(first["device"], "ilot-sim:meter-gls:SIM-METER-0001");
    let entries = env.entry_count();
    let again = env.json(&["ble", "sim", "--interval-ms", "0", "--json"]);
    assert_eq!(again["records"], 0, "{again}");
    assert!(
        again["requested_from"].as_u64().is_some(),
        "the second run starts after the stored records: {again}"
    );
    assert_eq!(env.entry_count(), entries);
}

#[test]
fn sim_quirks_are_handled() {
    let env = Env::new();
    let r = env.json(&[
        "ble",
        "download",
        "sim:meter",
        "--quirk",
        "accu-chek",
        "--interval-ms",
        "0",
        "--json",
    ]);
    assert_eq!(r["attempts"], 2, "{r}");
    let stored = r["readings_stored"].as_u64().unwrap();
    let r = env.json(&[
        "ble",
        "download",
        "sim:meter",
        "--quirk",
        "contour",
        "--interval-ms",
        "0",
        "--json",
    ]);
    assert_eq!(r["records"], 0);
    assert_eq!(r["redundant"].as_u64(), Some(stored), "{r}");

    let env = Env::new();
    let r = env.json(&[
        "ble",
        "download",
        "sim:meter",
        "--quirk",
        "caresens-clock",
        "--interval-ms",
        "0",
        "--json",
    ]);
    assert_eq!(r["clock_skew_min"], 200, "{r}");
    assert_eq!(r["corrected"], r["readings_stored"]);

    let env = Env::new();
    let r = env.json(&[
        "ble",
        "download",
        "sim:meter",
        "--quirk",
        "caresens-month13",
        "--interval-ms",
        "0",
        "--json",
    ]);
    let rejected = r["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{r}");
    assert!(
        rejected[0]["reason"].as_str().unwrap().contains("month 13"),
        "{r}"
    );

    let e = env.fails(&["ble", "download", "sim:meter", "--quirk", "sparkly"]);
    assert!(e.contains("unknown quirk \"sparkly\""), "{e}");
}

#[test]
fn sim_cgm_downloads_interstitial_readings() {
    let env = Env::new();
    let r = env.json(&["ble", "download", "sim:cgm", "--interval-ms", "0", "--json"]);
    assert_eq!(r["kind"], "cgm");
    assert_eq!(r["readings_stored"], r["records"]);
    let text = env.ok(&["ble", "download", "sim:cgm", "--interval-ms", "0"]);
    assert!(
        text.contains("ilot-sim:cgm:SIM-CGM-0001: asked for records from"),
        "{text}"
    );
}

#[test]
fn a_real_address_without_bluetooth_says_what_to_do() {
    let env = Env::new();
    let out = env.run(&["ble", "download", "AA:BB:CC:DD:EE:FF", "--seconds", "1"]);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    // Here (no system bus) the adapter is missing; on a machine with Bluetooth the meter is.
    assert!(
        e.contains("no Bluetooth adapter is usable here")
            || e.contains("radio is off")
            || e.contains("was found nearby"),
        "{e}"
    );
}
