//! Enrolment: the one-time code the operator hands to the patient, and the QR link that carries
//! it with the server address and the fingerprint of the server's key.
//!
//! The code is 10 Crockford base32 characters (`0-9 A-Z` without `I L O U`), shown `ABCDE-FGHJK`:
//! 9 random characters (45 bits from the caller's randomness) and a check character computed
//! with Damm's algorithm over GF(32), which catches every single wrong character and every swap
//! of two neighbours. Reading is forgiving the Crockford way: any case, `O` for `0`, `I`/`L` for
//! `1`, dashes and spaces ignored.
//!
//! Expiry (72 h) and single use are the server's business; the link only carries the expiry so
//! the app can say "this code has expired" without asking. Nothing here reads a clock.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::error::{Result, WireError};
use crate::keys::Fingerprint;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// An enrolment code. It is a bearer secret until used or expired, so `Debug` hides most of it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnrolmentCode([u8; EnrolmentCode::LEN]);

impl EnrolmentCode {
    /// Characters in a code, check character included.
    pub const LEN: usize = 10;
    /// Bits of randomness in a code.
    pub const ENTROPY_BITS: u32 = 5 * (Self::LEN as u32 - 1);

    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut s = [0u8; Self::LEN];
        for v in s.iter_mut().take(Self::LEN - 1) {
            // 32 is a power of two, so masking keeps every symbol equally likely.
            *v = (rng.next_u32() & 31) as u8;
        }
        s[Self::LEN - 1] = check_symbol(&s[..Self::LEN - 1]);
        Self(s)
    }

    /// The code without separator, upper case (`ABCDEFGHJK`): what the server compares.
    pub fn canonical(&self) -> String {
        self.0
            .iter()
            .map(|&v| char::from(ALPHABET[usize::from(v)]))
            .collect()
    }
}

impl Drop for EnrolmentCode {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Damm check over GF(32) with x ∘ y = 2·x + y: the quasigroup is totally anti-symmetric, so
/// one wrong symbol or one adjacent swap always leaves a non-zero remainder.
fn damm(symbols: &[u8]) -> u8 {
    symbols.iter().fold(0, |acc, &s| times_two(acc) ^ s)
}

fn check_symbol(data: &[u8]) -> u8 {
    // The check c must satisfy 2·r + c = 0, i.e. c = 2·r in characteristic 2.
    times_two(damm(data))
}

/// Multiplication by x in GF(2⁵) modulo the primitive polynomial x⁵ + x² + 1.
fn times_two(v: u8) -> u8 {
    let v = v << 1;
    if v & 0x20 != 0 { v ^ 0x25 } else { v }
}

fn symbol_of(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .map(|p| p as u8)
}

impl FromStr for EnrolmentCode {
    type Err = WireError;

    fn from_str(s: &str) -> Result<Self> {
        let mut symbols = Vec::with_capacity(Self::LEN);
        for (position, ch) in s.trim().chars().enumerate() {
            if matches!(ch, '-' | ' ') {
                continue;
            }
            let v = symbol_of(ch).ok_or(WireError::CodeCharacter {
                ch,
                position: position + 1,
            })?;
            symbols.push(v);
        }
        let symbols: [u8; Self::LEN] =
            symbols
                .try_into()
                .map_err(|v: Vec<u8>| WireError::CodeLength {
                    got: v.len(),
                    expected: Self::LEN,
                })?;
        if damm(&symbols) != 0 {
            return Err(WireError::CodeCheck);
        }
        Ok(Self(symbols))
    }
}

impl fmt::Display for EnrolmentCode {
    /// `ABCDE-FGHJK`, as printed for the patient.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.canonical();
        write!(f, "{}-{}", &c[..5], &c[5..])
    }
}

impl fmt::Debug for EnrolmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.canonical();
        write!(f, "EnrolmentCode({}****-****)", &c[..1])
    }
}

impl TryFrom<String> for EnrolmentCode {
    type Error = WireError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<EnrolmentCode> for String {
    fn from(c: EnrolmentCode) -> String {
        c.canonical()
    }
}

/// The operator server's base address: `https://host[:port][/path]`, or `http://` for a
/// loopback host only (development). No user info, query or fragment; no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServerUrl(String);

impl ServerUrl {
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason| WireError::InvalidServerUrl {
            got: text.to_string(),
            reason,
        };
        let t = text.trim();
        let (scheme, rest) = t
            .split_once("://")
            .ok_or(bad("it must start with https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(bad("it must start with https://"));
        }
        if let Some(c) = rest.chars().find(|c| {
            !c.is_ascii_graphic()
                || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}')
        }) {
            return Err(if c.is_whitespace() {
                bad("it must not contain spaces")
            } else {
                bad("it contains a character not allowed in an address")
            });
        }
        if rest.contains(['?', '#']) {
            return Err(bad("it must not have a query (?) or fragment (#)"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad("it must not contain a user name or password"));
        }
        let (host, port) =
            split_host_port(authority).ok_or(bad("its port is not a number from 1 to 65535"))?;
        if host.is_empty() {
            return Err(bad("it has no host name"));
        }
        let host = host.to_ascii_lowercase();
        if scheme == "http" && !is_loopback(&host) {
            return Err(bad(
                "plain http is only for a server on this machine (localhost); use https://",
            ));
        }
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let path = path.trim_end_matches('/');
        Ok(Self(format!("{scheme}://{host}{port}{path}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address of an endpoint under this base, e.g. `join("/v1/push")`.
    pub fn join(&self, path: &str) -> String {
        format!("{}/{}", self.0, path.trim_start_matches('/'))
    }
}

fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    // A bracketed IPv6 literal has colons of its own.
    let colon = if authority.starts_with('[') {
        let end = authority.find(']')?;
        authority[end..].find(':').map(|i| end + i)
    } else {
        authority.rfind(':')
    };
    match colon {
        None => Some((authority, None)),
        Some(i) => {
            let port: u16 = authority[i + 1..].parse().ok()?;
            (port != 0).then_some((&authority[..i], Some(port)))
        }
    }
}

/// A loopback IP literal (127.0.0.0/8, `[::1]`) or the literal `localhost`. A name is never
/// judged by how it starts: `127.attacker.example` is anybody's host.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback()),
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ServerUrl {
    type Err = WireError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ServerUrl {
    type Error = WireError;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<ServerUrl> for String {
    fn from(u: ServerUrl) -> String {
        u.0
    }
}

/// What the QR code says: where to enrol, with which code, and which server key to expect.
///
/// Its text form is a URL-safe link,
/// `ilot://enrol?v=1&s=<server, percent-encoded>&c=<code>&k=<fingerprint, 32 hex>&e=<unix s>`
/// (`e` optional). Unknown parameters are ignored so that a later version can add some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentInvite {
    pub server: ServerUrl,
    pub code: EnrolmentCode,
    pub fingerprint: Fingerprint,
    /// When the server stops accepting the code; carried to the second.
    pub expires_at: Option<DateTime<Utc>>,
}

impl EnrolmentInvite {
    /// Scheme and path of the link.
    pub const PREFIX: &'static str = "ilot://enrol?";
    /// Version of the link format this crate writes and reads.
    pub const VERSION: u32 = 1;

    /// True when the carried expiry has passed at `now` (the server decides in the end).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }

    pub fn to_link(&self) -> String {
        let mut s = format!(
            "{}v={}&s={}&c={}&k={}",
            Self::PREFIX,
            Self::VERSION,
            percent_encode(self.server.as_str()),
            self.code.canonical(),
            self.fingerprint.compact()
        );
        if let Some(e) = self.expires_at {
            s.push_str(&format!("&e={}", e.timestamp()));
        }
        s
    }

    pub fn parse_link(text: &str) -> Result<Self> {
        let t = text.trim();
        let query = match t.get(..Self::PREFIX.len()) {
            Some(p) if p.eq_ignore_ascii_case(Self::PREFIX) => &t[Self::PREFIX.len()..],
            _ => {
                return Err(WireError::NotAnEnrolmentLink(
                    "it does not start with ilot://enrol?".into(),
                ));
            }
        };
        let mut fields: [Option<String>; 5] = Default::default();
        const NAMES: [&str; 5] = ["v", "s", "c", "k", "e"];
        const WHAT: [&str; 5] = ["version", "server", "code", "key fingerprint", "expiry"];
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let Some(i) = NAMES.iter().position(|n| *n == name) else {
                continue;
            };
            if fields[i].is_some() {
                return Err(WireError::DuplicateField(WHAT[i]));
            }
            fields[i] = Some(
                percent_decode(value).map_err(|reason| WireError::InvalidField {
                    field: WHAT[i],
                    reason,
                })?,
            );
        }
        let [v, s, c, k, e] = fields;
        let v = v.ok_or(WireError::MissingField(WHAT[0]))?;
        if v != Self::VERSION.to_string() {
            return Err(WireError::InvalidField {
                field: "version",
                reason: format!(
                    "version {v} is not supported (this app reads version {}); update the app",
                    Self::VERSION
                ),
            });
        }
        let server = ServerUrl::parse(&s.ok_or(WireError::MissingField(WHAT[1]))?)?;
        let code = c.ok_or(WireError::MissingField(WHAT[2]))?.parse()?;
        let fingerprint = k.ok_or(WireError::MissingField(WHAT[3]))?.parse()?;
        let expires_at = e
            .map(|e| {
                e.parse::<i64>()
                    .ok()
                    .and_then(|s| DateTime::from_timestamp(s, 0))
                    .ok_or(WireError::InvalidField {
                        field: "expiry",
                        reason: format!("{e:?} is not a time in seconds since 1970"),
                    })
            })
            .transpose()?;
        Ok(Self {
            server,
            code,
            fingerprint,
            expires_at,
        })
    }
}

impl fmt::Display for EnrolmentInvite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_link())
    }
}

impl FromStr for EnrolmentInvite {
    type Err = WireError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse_link(s)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> std::result::Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape at character {}", i + 1))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "it is not valid UTF-8 text".to_string())
}

#[cfg(test)]
mod tests;
