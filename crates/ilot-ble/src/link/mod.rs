//! The peripheral as the download sees it: connect, discover, subscribe, read, write, wait for
//! the next notification or indication, disconnect. Two implementations: [`btleplug`] (the real
//! radio, feature `btleplug`) and `crate::sim` (simulated meter and CGM, same bytes).
//!
//! No timer lives here: [`Peripheral::next_event`] waits as long as it takes, and the caller
//! bounds it with its own timeout (which it feeds to the pure control state machine).

#[cfg(feature = "btleplug")]
pub mod btleplug;

use std::future::Future;

use uuid::Uuid;

use crate::error::Result;
use crate::gatt::{DeviceInfo, ids};

/// A characteristic found by discovery, with the properties the download needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharInfo {
    pub uuid: Uuid,
    pub read: bool,
    pub notify: bool,
    pub indicate: bool,
}

/// What arrives from a connected peripheral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// A notification or an indication (the link acknowledges indications itself).
    Value {
        characteristic: Uuid,
        value: Vec<u8>,
    },
    /// The link dropped; nothing more will come until [`Peripheral::connect`] succeeds again.
    Disconnected,
}

/// A Bluetooth LE peripheral offering GATT. Futures are `Send` so a download can run on any
/// runtime thread.
pub trait Peripheral: Send {
    /// The link-layer address (or the platform's stand-in for it), for messages and as a last
    /// resort device id.
    fn address(&self) -> String;

    fn connect(&mut self) -> impl Future<Output = Result<()>> + Send;

    fn discover(&mut self) -> impl Future<Output = Result<Vec<CharInfo>>> + Send;

    /// Enables notifications or indications (whichever the characteristic offers; indications
    /// when it offers both) by writing its Client Characteristic Configuration descriptor.
    fn subscribe(&mut self, characteristic: Uuid) -> impl Future<Output = Result<()>> + Send;

    fn read(&mut self, characteristic: Uuid) -> impl Future<Output = Result<Vec<u8>>> + Send;

    /// Write with response: returns once the peripheral acknowledged it.
    fn write(
        &mut self,
        characteristic: Uuid,
        value: &[u8],
    ) -> impl Future<Output = Result<()>> + Send;

    /// The next notification, indication or disconnection; waits without limit.
    fn next_event(&mut self) -> impl Future<Output = LinkEvent> + Send;

    fn disconnect(&mut self) -> impl Future<Output = Result<()>> + Send;
}

/// Connects, reads the Device Information (manufacturer, model, serial: the device's identity)
/// and the Glucose or CGM Feature characteristic, and disconnects. On a real radio the feature
/// read is what makes the OS run its bonding / PIN dialogue; on the simulator it is the same
/// GATT exchange. This is what pairing remembers a device by.
pub async fn identify<P: Peripheral>(p: &mut P) -> Result<DeviceInfo> {
    p.connect().await?;
    let chars = p.discover().await?;
    let mut info = DeviceInfo::default();
    for (uuid, slot) in [
        (ids::MANUFACTURER_NAME, &mut info.manufacturer),
        (ids::MODEL_NUMBER, &mut info.model),
        (ids::SERIAL_NUMBER, &mut info.serial),
    ] {
        if chars.iter().any(|c| c.uuid == uuid) {
            let bytes = p.read(uuid).await?;
            *slot = Some(DeviceInfo::decode_string("Device Information", &bytes)?);
        }
    }
    for feature in [ids::GLUCOSE_FEATURE, ids::CGM_FEATURE] {
        if chars.iter().any(|c| c.uuid == feature) {
            p.read(feature).await?;
        }
    }
    let _ = p.disconnect().await;
    Ok(info)
}
