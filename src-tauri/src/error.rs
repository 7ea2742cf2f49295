//! The shell's one error type: wraps each crate's error and reaches the UI as a message it can
//! show (never a secret: the crates' messages carry none).

use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] ilot_store::StoreError),
    #[error(transparent)]
    Domain(#[from] ilot_domain::DomainError),
    #[error("{0}")]
    Input(String),
    #[error("the app's data folder is unavailable: {0}")]
    DataDir(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The UI receives `{ kind, message }`: `kind` lets it choose how to show it (a field error for
/// bad input, a banner otherwise).
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let kind = match self {
            Self::Domain(_) | Self::Input(_) => "input",
            Self::Store(_) => "store",
            Self::DataDir(_) => "setup",
        };
        let mut st = s.serialize_struct("Error", 2)?;
        st.serialize_field("kind", kind)?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}
