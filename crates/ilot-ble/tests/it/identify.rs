//! Pairing's identity read (`link::identify`) through the simulated meter and CGM: the Device
//! Information strings become the device id the store keys its records by, and the link is left
//! disconnected.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Europe::Paris;
use ilot_ble::gatt::device_id;
use ilot_ble::link::identify;
use ilot_ble::sim::{self, SimClock, SimDevice};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T06:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test(start_paused = true)]
async fn identify_reads_the_meter_identity_and_disconnects() {
    let history = sim::meter_history(3, t0(), TimeDelta::hours(8));
    let mut meter = SimDevice::meter(
        &history,
        SimClock::Local(Paris),
        t0() + TimeDelta::days(1),
        &[],
    );
    let info = identify(&mut meter).await.unwrap();
    assert_eq!(info.manufacturer.as_deref(), Some("Ilot Sim"));
    assert_eq!(info.model.as_deref(), Some("Meter GLS"));
    assert_eq!(info.serial.as_deref(), Some("SIM-METER-0001"));
    let id = device_id(&info).unwrap().to_string();
    assert!(
        id.contains("SIM-METER-0001"),
        "device id {id} names the serial"
    );
    assert_eq!(meter.stats().connections, 1);
    assert_eq!(meter.stats().records_sent, 0, "pairing downloads nothing");
}

#[tokio::test(start_paused = true)]
async fn identify_tells_the_cgm_from_the_meter() {
    let (start, history) = sim::demo_cgm_session(t0());
    let mut cgm = SimDevice::cgm(&history, start, SimClock::Local(Paris), t0(), &[]);
    let info = identify(&mut cgm).await.unwrap();
    assert_eq!(info.serial.as_deref(), Some("SIM-CGM-0001"));
    assert_ne!(
        device_id(&info).unwrap().to_string(),
        device_id(
            &identify(&mut SimDevice::meter(
                &[],
                SimClock::Local(Paris),
                t0(),
                &[]
            ))
            .await
            .unwrap()
        )
        .unwrap()
        .to_string()
    );
}
