//! Against a real meter or CGM, only with `ILOT_BLE_HW=1` and `ILOT_BLE_ADDR=<address>` (see
//! README.md). Without them these tests check nothing and say so on stderr.

use std::time::Duration;

fn hardware() -> Option<String> {
    if std::env::var("ILOT_BLE_HW").as_deref() != Ok("1") {
        eprintln!("real-hardware tests skipped: set ILOT_BLE_HW=1 and ILOT_BLE_ADDR to run them");
        return None;
    }
    Some(std::env::var("ILOT_BLE_ADDR").expect("ILOT_BLE_HW=1 needs ILOT_BLE_ADDR=<meter address>"))
}

#[tokio::test]
async fn real_meter_first_then_incremental_download() {
    let Some(addr) = hardware() else { return };
    let now = chrono::Utc::now();
    let opts = ilot_ble::Options::new(now, chrono_tz::Europe::Paris);
    let mut store = ilot_store::Store::open_in_memory().unwrap();
    let mut dev = ilot_ble::link::btleplug::BtPeripheral::find(&addr, Duration::from_secs(10))
        .await
        .unwrap();
    let first = ilot_ble::download(&mut dev, &mut store, &opts)
        .await
        .unwrap();
    assert!(first.device.is_some());
    let second = ilot_ble::download(&mut dev, &mut store, &opts)
        .await
        .unwrap();
    assert_eq!(
        second.records, 0,
        "a second download right after the first finds nothing new"
    );
    assert_eq!(second.entries_added, 0);
}
