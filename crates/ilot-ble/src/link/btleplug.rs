//! The real radio: [`crate::link::Peripheral`] over btleplug (BlueZ on Linux, CoreBluetooth,
//! WinRT). Scanning is filtered by the Glucose and CGM service UUIDs.
//!
//! Failures of the platform become messages a person can act on: no system bus (btleplug fails
//! at once with "Failed to connect to socket /run/dbus/system_bus_socket"), no bluetoothd
//! ("org.bluez was not provided"), no adapter, radio off. Bonding and PIN entry are the
//! operating system's: `pair` connects and reads the characteristics a meter protects, which
//! makes the OS ask for the PIN (on Linux through the desktop's Bluetooth agent).

use std::pin::Pin;
use std::time::Duration;

use btleplug::api::{
    Central, CentralState, CharPropFlags, Characteristic, Manager as _, Peripheral as _,
    ScanFilter, ValueNotification, WriteType,
};
use btleplug::platform::{Adapter, Manager, Peripheral as Platform};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use crate::error::{BleError, Result};
use crate::gatt::ids;
use crate::link::{CharInfo, LinkEvent, Peripheral};

fn link_error(e: btleplug::Error) -> BleError {
    match e {
        btleplug::Error::NotConnected => {
            BleError::Disconnected("the device is not connected".into())
        }
        btleplug::Error::DeviceNotFound => BleError::NotFound("(the device went away)".into()),
        btleplug::Error::PermissionDenied => BleError::Refused("permission denied".into()),
        btleplug::Error::NoAdapterAvailable => BleError::NoAdapter("no adapter available".into()),
        btleplug::Error::TimedOut(d) => BleError::Timeout {
            secs: d.as_secs(),
            during: "a Bluetooth operation",
        },
        other => BleError::Link(other.to_string()),
    }
}

/// The first Bluetooth adapter, powered on; a clear error otherwise.
pub async fn adapter() -> Result<Adapter> {
    let manager = Manager::new()
        .await
        .map_err(|e| BleError::NoAdapter(e.to_string()))?;
    let adapters = manager
        .adapters()
        .await
        .map_err(|e| BleError::NoAdapter(e.to_string()))?;
    let adapter = adapters
        .into_iter()
        .next()
        .ok_or_else(|| BleError::NoAdapter("the system lists no Bluetooth adapter".into()))?;
    if adapter.adapter_state().await.map_err(link_error)? == CentralState::PoweredOff {
        return Err(BleError::RadioOff);
    }
    Ok(adapter)
}

/// A device seen while scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub address: String,
    pub name: Option<String>,
    pub rssi: Option<i16>,
    /// "meter" (Glucose Service) or "cgm" (CGM Service).
    pub kind: &'static str,
}

/// Scans for `duration` for devices advertising the Glucose or CGM service.
pub async fn scan(duration: Duration) -> Result<Vec<Found>> {
    let adapter = adapter().await?;
    let found = scan_with(&adapter, duration).await?;
    Ok(found.into_iter().map(|(f, _)| f).collect())
}

async fn scan_with(adapter: &Adapter, duration: Duration) -> Result<Vec<(Found, Platform)>> {
    let filter = ScanFilter {
        services: vec![ids::GLUCOSE_SERVICE, ids::CGM_SERVICE],
    };
    adapter.start_scan(filter).await.map_err(link_error)?;
    tokio::time::sleep(duration).await;
    let peripherals = adapter.peripherals().await.map_err(link_error)?;
    let _ = adapter.stop_scan().await;
    let mut out = Vec::new();
    for p in peripherals {
        let Some(props) = p.properties().await.map_err(link_error)? else {
            continue;
        };
        let kind = if props.services.contains(&ids::CGM_SERVICE) {
            "cgm"
        } else if props.services.contains(&ids::GLUCOSE_SERVICE) {
            "meter"
        } else {
            continue;
        };
        out.push((
            Found {
                address: props.address.to_string(),
                name: props.local_name.or(props.advertisement_name),
                rssi: props.rssi,
                kind,
            },
            p,
        ));
    }
    Ok(out)
}

/// A connected (or connectable) btleplug peripheral.
pub struct BtPeripheral {
    inner: Platform,
    address: String,
    chars: Vec<Characteristic>,
    stream: Option<Pin<Box<dyn Stream<Item = ValueNotification> + Send>>>,
}

impl std::fmt::Debug for BtPeripheral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BtPeripheral")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl BtPeripheral {
    /// Scans up to `duration` for the device with this address.
    pub async fn find(address: &str, duration: Duration) -> Result<Self> {
        let adapter = adapter().await?;
        let wanted = address.to_ascii_uppercase();
        let found = scan_with(&adapter, duration).await?;
        let (f, p) = found
            .into_iter()
            .find(|(f, _)| f.address.eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| BleError::NotFound(address.to_string()))?;
        Ok(Self {
            inner: p,
            address: f.address,
            chars: Vec::new(),
            stream: None,
        })
    }

    fn characteristic(&self, uuid: Uuid) -> Result<&Characteristic> {
        self.chars
            .iter()
            .find(|c| c.uuid == uuid)
            .ok_or_else(|| BleError::MissingCharacteristic {
                what: "this characteristic",
                uuid: uuid.to_string(),
            })
    }
}

impl Peripheral for BtPeripheral {
    fn address(&self) -> String {
        self.address.clone()
    }

    async fn connect(&mut self) -> Result<()> {
        if !self.inner.is_connected().await.map_err(link_error)? {
            self.inner.connect().await.map_err(link_error)?;
        }
        self.stream = Some(self.inner.notifications().await.map_err(link_error)?);
        Ok(())
    }

    async fn discover(&mut self) -> Result<Vec<CharInfo>> {
        self.inner.discover_services().await.map_err(link_error)?;
        self.chars = self.inner.characteristics().into_iter().collect();
        Ok(self
            .chars
            .iter()
            .map(|c| CharInfo {
                uuid: c.uuid,
                read: c.properties.contains(CharPropFlags::READ),
                notify: c.properties.contains(CharPropFlags::NOTIFY),
                indicate: c.properties.contains(CharPropFlags::INDICATE),
            })
            .collect())
    }

    async fn subscribe(&mut self, characteristic: Uuid) -> Result<()> {
        let c = self.characteristic(characteristic)?.clone();
        self.inner.subscribe(&c).await.map_err(link_error)
    }

    async fn read(&mut self, characteristic: Uuid) -> Result<Vec<u8>> {
        let c = self.characteristic(characteristic)?.clone();
        self.inner.read(&c).await.map_err(link_error)
    }

    async fn write(&mut self, characteristic: Uuid, value: &[u8]) -> Result<()> {
        let c = self.characteristic(characteristic)?.clone();
        self.inner
            .write(&c, value, WriteType::WithResponse)
            .await
            .map_err(link_error)
    }

    async fn next_event(&mut self) -> LinkEvent {
        loop {
            let Some(stream) = self.stream.as_mut() else {
                return std::future::pending().await;
            };
            tokio::select! {
                n = stream.next() => match n {
                    Some(n) => return LinkEvent::Value { characteristic: n.uuid, value: n.value },
                    None => {
                        self.stream = None;
                        return LinkEvent::Disconnected;
                    }
                },
                // BlueZ does not always end the stream on a drop: look at the link every second.
                () = tokio::time::sleep(Duration::from_secs(1)) => {
                    if !self.inner.is_connected().await.unwrap_or(false) {
                        self.stream = None;
                        return LinkEvent::Disconnected;
                    }
                }
            }
        }
    }

    async fn disconnect(&mut self) -> Result<()> {
        self.stream = None;
        self.inner.disconnect().await.map_err(link_error)
    }
}

/// Finds the device at `address` and pairs with it ([`crate::link::identify`]: the first read of a
/// protected characteristic makes the OS run its bonding / PIN dialogue when the device needs it).
pub async fn pair(address: &str, scan_for: Duration) -> Result<crate::gatt::DeviceInfo> {
    let mut p = BtPeripheral::find(address, scan_for).await?;
    crate::link::identify(&mut p).await
}
