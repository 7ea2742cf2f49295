//! Against a real meter or CGM (see README.md). A machine without Bluetooth cannot run these, so
//! they are ignored by default and show as ignored, never as passed; run them with
//! `ILOT_BLE_HW=1 ILOT_BLE_ADDR=<address> cargo test -p ilot-ble --test it hardware -- --ignored`.
//! Asked for without the meter's address, they fail rather than check nothing.

use std::time::Duration;

/// The meter's address; a run that asked for the hardware tests without one fails.
fn hardware() -> String {
    assert_eq!(
        std::env::var("ILOT_BLE_HW").as_deref(),
        Ok("1"),
        "the hardware tests need a Bluetooth meter: run them as \
         ILOT_BLE_HW=1 ILOT_BLE_ADDR=<address> cargo test -p ilot-ble --test it hardware -- --ignored"
    );
    std::env::var("ILOT_BLE_ADDR").expect("ILOT_BLE_HW=1 needs ILOT_BLE_ADDR=<meter address>")
}

#[tokio::test]
#[ignore = "needs a Bluetooth meter: ILOT_BLE_HW=1 ILOT_BLE_ADDR=<address> cargo test -p ilot-ble --test it hardware -- --ignored"]
async fn real_meter_first_then_incremental_download() {
    let addr = hardware();
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
