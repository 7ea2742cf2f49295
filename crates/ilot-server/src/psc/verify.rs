//! The checks of what Pro Santé Connect hands back (OpenID Connect Core 1.0, 3.1.3.7 and 5.3.2):
//! the ID token and the signed userinfo, with `jsonwebtoken` for the signatures against the
//! provider's JWKS. Times are checked against the server's clock (`AppState::now`), not the
//! library's, so that tests can move it.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// Seconds of clock difference tolerated with the provider on `exp` and `iat`.
pub const LEEWAY_S: i64 = 60;

/// Why a Pro Santé Connect login is refused: `kind` is what the console is told
/// (`?psc_error=`), `reason` what the audit log keeps. Neither holds a token or a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: &'static str,
    pub reason: String,
}

impl Refusal {
    pub fn new(kind: &'static str, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }
}

/// What the ID token must say.
pub(super) struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// The ID token's claims Ilot reads.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub acr: Option<String>,
    #[serde(default)]
    pub aud: Audience,
    #[serde(default)]
    pub azp: Option<String>,
}

/// `aud`: one string or several.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
    #[default]
    None,
}

/// The userinfo claims Ilot reads: PSC's `SubjectNameID` is the professional's national id.
#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(rename = "SubjectNameID", default)]
    subject_name_id: Option<String>,
}

/// The key of the JWT's `kid` (or the only signing key when the token names none).
fn key(jwt: &str, keys: &JwkSet) -> Result<DecodingKey, Refusal> {
    let header =
        decode_header(jwt).map_err(|_| Refusal::new("id_token", "malformed JWT header"))?;
    if header.alg != Algorithm::RS256 {
        return Err(Refusal::new(
            "id_token",
            format!("signed with {:?}, not RS256", header.alg),
        ));
    }
    let jwk = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| Refusal::new("key", "signed with a key the provider does not publish"))?;
    DecodingKey::from_jwk(jwk).map_err(|_| Refusal::new("id_token", "unusable key in the JWKS"))
}

fn validation(issuer: &str, client_id: &str, required: &[&str]) -> Validation {
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[issuer]);
    v.set_audience(&[client_id]);
    // Times against the server's clock, below.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.set_required_spec_claims(required);
    v
}

fn refusal_of(what: &str, e: &jsonwebtoken::errors::Error) -> Refusal {
    match e.kind() {
        ErrorKind::InvalidAudience => Refusal::new(
            "audience",
            format!("the {what} is meant for another client"),
        ),
        ErrorKind::InvalidIssuer => {
            Refusal::new("id_token", format!("the {what} comes from another issuer"))
        }
        ErrorKind::InvalidSignature => {
            Refusal::new("id_token", format!("the {what}'s signature is wrong"))
        }
        ErrorKind::MissingRequiredClaim(c) => {
            Refusal::new("id_token", format!("the {what} has no {c} claim"))
        }
        _ => Refusal::new("id_token", format!("the {what} is malformed")),
    }
}

/// Checks the ID token: signature, `iss`, `aud` (and `azp` when there are several audiences),
/// `exp`, `iat`, `nonce`, `acr`.
pub(super) fn id_token(jwt: &str, keys: &JwkSet, e: &Expected<'_>) -> Result<IdClaims, Refusal> {
    let key = key(jwt, keys)?;
    let v = validation(e.issuer, e.client_id, &["exp", "iat", "iss", "aud", "sub"]);
    let c = decode::<IdClaims>(jwt, &key, &v)
        .map_err(|err| refusal_of("ID token", &err))?
        .claims;
    if let Audience::Many(list) = &c.aud
        && list.len() > 1
        && c.azp.as_deref() != Some(e.client_id)
    {
        return Err(Refusal::new(
            "audience",
            "the ID token has several audiences and another authorised party",
        ));
    }
    let now = e.now.timestamp();
    if now > c.exp + LEEWAY_S {
        return Err(Refusal::new(
            "expired",
            format!("the ID token expired {} s ago", now - c.exp),
        ));
    }
    if c.iat > now + LEEWAY_S {
        return Err(Refusal::new(
            "id_token",
            "the ID token is issued in the future",
        ));
    }
    let nonce_ok = c
        .nonce
        .as_deref()
        .is_some_and(|n| bool::from(n.as_bytes().ct_eq(e.nonce.as_bytes())));
    if !nonce_ok {
        return Err(Refusal::new(
            "nonce",
            "the ID token's nonce is not the one sent with this login",
        ));
    }
    if c.acr.as_deref() != Some(super::ACR) {
        return Err(Refusal::new(
            "acr",
            format!(
                "authentication level {:?}, not {} (CPS card or e-CPS)",
                c.acr.as_deref().unwrap_or("none"),
                super::ACR
            ),
        ));
    }
    Ok(c)
}

/// Checks the signed userinfo (signature, `iss`, `aud`, the ID token's `sub`) and answers its
/// `SubjectNameID`.
pub(super) fn userinfo(
    jwt: &str,
    keys: &JwkSet,
    e: &Expected<'_>,
    sub: &str,
) -> Result<String, Refusal> {
    let key = key(jwt, keys).map_err(|r| Refusal::new("userinfo", r.reason))?;
    let v = validation(e.issuer, e.client_id, &["iss", "aud", "sub"]);
    let info = decode::<UserInfo>(jwt, &key, &v)
        .map_err(|err| {
            let r = refusal_of("userinfo", &err);
            Refusal::new(
                if r.kind == "audience" {
                    r.kind
                } else {
                    "userinfo"
                },
                r.reason,
            )
        })?
        .claims;
    if info.sub != sub {
        return Err(Refusal::new(
            "userinfo",
            "the userinfo is about another subject than the ID token",
        ));
    }
    info.subject_name_id
        .ok_or_else(|| Refusal::new("unknown_rpps", "the userinfo has no SubjectNameID"))
}

/// The RPPS number in PSC's `SubjectNameID`: the national id of an RPPS professional is `8`
/// followed by the 11 digits of the RPPS; an RPPS alone (11 digits) is taken as it is. Other
/// ids (ADELI, `0…`) are not RPPS: `None`.
pub fn rpps_from_subject(id: &str) -> Option<String> {
    let digits = |s: &str| s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit());
    match id.strip_prefix('8') {
        Some(rest) if digits(rest) => Some(rest.to_string()),
        _ if digits(id) => Some(id.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rpps_is_read_from_the_national_id() {
        assert_eq!(
            rpps_from_subject("810001234567").as_deref(),
            Some("10001234567")
        );
        assert_eq!(
            rpps_from_subject("10001234567").as_deref(),
            Some("10001234567")
        );
        // ADELI national ids, short or long ones, letters: not an RPPS.
        for bad in [
            "0123456789",
            "8100012345",
            "8100012345678",
            "8100O1234567",
            "",
        ] {
            assert_eq!(rpps_from_subject(bad), None, "{bad:?}");
        }
    }
}
