//! Pro Santé Connect's rows (migration V9): a login flow kept server-side, and the refusal of an
//! RPPS linked twice. The storage methods are in `Storage` (each backend's `psc.rs`).

use chrono::{DateTime, Utc};

use crate::error::ServerError;

/// A Pro Santé Connect login under way: what the server sent with its `state` (`crate::psc`).
/// Kept server-side only, taken once, for a few minutes.
#[derive(Clone, PartialEq, Eq)]
pub struct PscFlow {
    pub nonce: String,
    /// The PKCE `code_verifier` (its S256 challenge went to the provider).
    pub pkce_verifier: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for PscFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PscFlow")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The refusal of an RPPS already linked, or of an operator that already has one.
pub(crate) fn rpps_taken(rpps_linked: bool) -> ServerError {
    ServerError::refused(
        ilot_wire::api::ErrorCode::BadRequest,
        if rpps_linked {
            "this RPPS number is already linked to an operator account; an RPPS is linked once"
        } else {
            "this operator account already has an RPPS number linked; it is linked once"
        },
    )
}
