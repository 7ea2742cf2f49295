//! The digest that names a sealed message (in acknowledgements and the server's replay answers).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Result, WireError};

/// SHA-256 of a sealed message's bytes, as 64 hex digits in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BatchDigest([u8; 32]);

impl BatchDigest {
    pub const fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for BatchDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for BatchDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BatchDigest({self})")
    }
}

impl TryFrom<String> for BatchDigest {
    type Error = WireError;
    fn try_from(s: String) -> Result<Self> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(&s, &mut b).map_err(|_| WireError::InvalidId {
            what: "batch digest",
            got: s.clone(),
            reason: "it must be 64 hexadecimal digits",
        })?;
        Ok(Self(b))
    }
}

impl From<BatchDigest> for String {
    fn from(d: BatchDigest) -> String {
        d.to_string()
    }
}
