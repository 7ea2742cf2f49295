//! Runs tests/data/vectors.tsv (sources in tests/data/README.md).

use ilot_ble::gatt::{describe, parse_hex, to_json};
use serde_json::Value;

#[test]
fn every_vector_decodes_as_its_source_says() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vectors.tsv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut checked = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "malformed vector line: {line}");
        let (id, ch, hex, expect) = (cols[0], cols[1], cols[2], cols[3]);
        let bytes = parse_hex(hex).unwrap();
        let got = describe(ch, &bytes);
        if let Some(msg) = expect.strip_prefix("error:") {
            let e = got.expect_err(id).to_string();
            assert!(e.contains(msg), "{id}: error {e:?} should contain {msg:?}");
        } else {
            let fields = got.unwrap_or_else(|e| panic!("{id}: {e}"));
            let actual: Value = serde_json::from_str(&to_json(&fields)).unwrap();
            let wanted: Value = serde_json::from_str(expect)
                .unwrap_or_else(|e| panic!("{id}: bad expectation: {e}"));
            match_subset(id, &actual, &wanted);
        }
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} vectors ran");
}

/// Every key of `wanted` must be in `actual` with the same value; arrays of objects element-wise.
fn match_subset(id: &str, actual: &Value, wanted: &Value) {
    match (actual, wanted) {
        (Value::Object(a), Value::Object(w)) => {
            for (k, wv) in w {
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{id}: no field {k} in {actual}"));
                match_subset(&format!("{id}.{k}"), av, wv);
            }
        }
        (Value::Array(a), Value::Array(w)) if w.iter().any(Value::is_object) => {
            assert_eq!(a.len(), w.len(), "{id}: {actual} vs {wanted}");
            for (x, y) in a.iter().zip(w) {
                match_subset(id, x, y);
            }
        }
        (Value::Number(a), Value::Number(w)) => {
            assert_eq!(a.as_f64(), w.as_f64(), "{id}: {actual} vs {wanted}");
        }
        _ => assert_eq!(actual, wanted, "{id}"),
    }
}

#[test]
fn the_cli_entry_point_gives_json_or_a_precise_reason() {
    let json =
        ilot_ble::gatt::decode_to_json("0x2A18", "03 01 00 ea 07 03 01 08 1e 00 00 00 7e b0 12")
            .unwrap();
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["mg_dl"], 126);
    let e = ilot_ble::gatt::decode_to_json("2a18", "0301")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("Glucose Measurement (0x2A18): truncated at byte 1"),
        "{e}"
    );
    let e = ilot_ble::gatt::decode_to_json("2a99", "00")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no decoder for characteristic 0x2a99"), "{e}");
    let full =
        ilot_ble::gatt::decode_to_json("00002aa7-0000-1000-8000-00805f9b34fb", "060078000500")
            .unwrap();
    assert!(full.contains("\"mg_dl\":120"), "{full}");
}
