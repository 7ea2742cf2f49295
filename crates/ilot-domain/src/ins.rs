//! The INS (Identifiant National de Santé), the national health identifier a French health record
//! must carry once the identity is *qualifiée* (référentiel INS, ANS; RNIV, the national
//! identity-vigilance rules).
//!
//! An INS is a **matricule** — the person's NIR (social-security number) or, for someone not yet
//! registered, a NIA (waiting number): 13 characters + a 2-digit key — together with the **OID**
//! of the authority that assigned it, and the five strict **traits** returned by the INSi
//! teleservice: birth name, first names at birth, date of birth, sex and the INSEE (COG) code of
//! the place of birth.
//!
//! Rules kept here (pure; the server stores versions and audits them):
//! - the key is checked: `97 − (matricule mod 97)`, with Corsica's `2A`/`2B` departments read as
//!   `19`/`18` for the computation (INSEE). Any single changed digit of the 15 is detected,
//!   because 97 is a prime that divides no `d·10^k` with `0 < d < 10`;
//! - traits are kept **exactly as given**: no case change, no accent dropped, no trimming of inner
//!   spaces — the INS rules forbid transforming them. Only emptiness and structure are checked;
//! - the identity status follows the RNIV: *provisoire* → *récupérée* (INS returned by INSi)
//!   or *validée* (identity checked against a high-trust document) → *qualifiée* (both);
//!   any change of the matricule or of a trait drops the status back to *provisoire*: the proofs
//!   were about the old values and must be given again ([`Identity::amend`]).
//!
//! Retrieval through INSi needs a professional card or a structure certificate and the
//! Assurance Maladie's SOAP service: [`InsiService`] is the interface the server's production
//! connector implements (see ARCHITECTURE.md, "INSi"); [`InsiResponse`] mirrors the published
//! answers (00 one identity, 01 none, 02 several).

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// OID of the NIR as an INS matricule.
pub const OID_NIR: &str = "1.2.250.1.213.1.4.8";
/// OID of the NIA as an INS matricule.
pub const OID_NIA: &str = "1.2.250.1.213.1.4.9";
/// OID of test NIRs (the ANS's test identities).
pub const OID_NIR_TEST: &str = "1.2.250.1.213.1.4.10";
/// OID of test NIAs.
pub const OID_NIA_TEST: &str = "1.2.250.1.213.1.4.11";

/// Why an INS or its traits were refused. Messages are for the professional who typed them.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InsError {
    #[error(
        "the INS matricule must be 13 characters and a 2-digit key (15 in all, spaces allowed), got {0} characters"
    )]
    Length(usize),
    #[error(
        "the INS matricule may hold only digits (and 2A/2B for a birth in Corsica), found {0:?}"
    )]
    Character(char),
    #[error("the first character of an INS matricule is the sex (1 or 2, 3 or 4, 7 or 8), got {0}")]
    Sex(char),
    #[error(
        "the INS key {given:02} does not match the matricule (expected {expected:02}): a digit is wrong"
    )]
    Key { given: u8, expected: u8 },
    #[error("unknown INS OID {0:?}: expected the NIR, NIA or their test OIDs")]
    UnknownOid(String),
    #[error("{0} must not be empty")]
    EmptyTrait(&'static str),
    #[error("the place of birth must be a 5-character INSEE code (99xxx abroad), got {0:?}")]
    BirthPlace(String),
    #[error("unknown sex {0:?}: the INS traits use M or F")]
    UnknownSex(String),
    #[error("the identity status cannot go from {from} to {to}: {why}")]
    Transition {
        from: IdentityStatus,
        to: IdentityStatus,
        why: &'static str,
    },
}

/// Which register a matricule belongs to, from its OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InsAuthority {
    Nir,
    Nia,
    NirTest,
    NiaTest,
}

impl InsAuthority {
    pub fn oid(self) -> &'static str {
        match self {
            Self::Nir => OID_NIR,
            Self::Nia => OID_NIA,
            Self::NirTest => OID_NIR_TEST,
            Self::NiaTest => OID_NIA_TEST,
        }
    }

    pub fn from_oid(oid: &str) -> Result<Self, InsError> {
        match oid.trim() {
            OID_NIR => Ok(Self::Nir),
            OID_NIA => Ok(Self::Nia),
            OID_NIR_TEST => Ok(Self::NirTest),
            OID_NIA_TEST => Ok(Self::NiaTest),
            other => Err(InsError::UnknownOid(other.to_string())),
        }
    }

    /// Test identities must never label real data (and real ones never a test bench).
    pub fn is_test(self) -> bool {
        matches!(self, Self::NirTest | Self::NiaTest)
    }
}

/// A checked INS matricule: 13 characters + key. Displayed grouped as on a Vitale card.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Matricule {
    /// 15 characters: 13 (digits, or 2A/2B at positions 6–7) + 2 key digits.
    text: String,
}

impl Matricule {
    /// Parses and checks a matricule; spaces (as printed on cards) are ignored.
    pub fn parse(given: &str) -> Result<Self, InsError> {
        let text: String = given
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let chars: Vec<char> = text.chars().collect();
        if chars.len() != 15 {
            return Err(InsError::Length(chars.len()));
        }
        for (i, &c) in chars.iter().enumerate() {
            let corsica = i == 6 && chars[5] == '2' && (c == 'A' || c == 'B');
            if !c.is_ascii_digit() && !corsica {
                return Err(InsError::Character(c));
            }
        }
        if !matches!(chars[0], '1' | '2' | '3' | '4' | '7' | '8') {
            return Err(InsError::Sex(chars[0]));
        }
        let expected = key_of(&chars[..13]);
        let given_key = (chars[13] as u8 - b'0') * 10 + (chars[14] as u8 - b'0');
        if given_key != expected {
            return Err(InsError::Key {
                given: given_key,
                expected,
            });
        }
        Ok(Self { text })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The 13 characters without the key.
    pub fn number(&self) -> &str {
        &self.text[..13]
    }

    pub fn key(&self) -> &str {
        &self.text[13..]
    }
}

/// `97 − (n mod 97)` over the 13 characters, Corsica's 2A/2B read as 19/18.
fn key_of(chars: &[char]) -> u8 {
    let mut digits = String::with_capacity(13);
    for (i, &c) in chars.iter().enumerate() {
        match (i, c) {
            (5, '2') if chars[6] == 'A' => digits.push('1'),
            (5, '2') if chars[6] == 'B' => digits.push('1'),
            (6, 'A') => digits.push('9'),
            (6, 'B') => digits.push('8'),
            _ => digits.push(c),
        }
    }
    let n: u64 = digits
        .parse()
        .expect("13 ASCII digits after the Corsica substitution");
    (97 - n % 97) as u8
}

impl TryFrom<String> for Matricule {
    type Error = InsError;
    fn try_from(s: String) -> Result<Self, InsError> {
        Self::parse(&s)
    }
}

impl From<Matricule> for String {
    fn from(m: Matricule) -> String {
        m.text
    }
}

impl fmt::Display for Matricule {
    /// Grouped as printed: `2 84 12 2A 004 015 65`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.text;
        write!(
            f,
            "{} {} {} {} {} {} {}",
            &t[0..1],
            &t[1..3],
            &t[3..5],
            &t[5..7],
            &t[7..10],
            &t[10..13],
            &t[13..15]
        )
    }
}

/// A matricule is an identifier of a person: shown only masked in debug output and logs.
impl fmt::Debug for Matricule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matricule({}…)", &self.text[..1])
    }
}

/// Sex as the INS traits carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InsSex {
    #[serde(rename = "M")]
    Male,
    #[serde(rename = "F")]
    Female,
}

impl std::str::FromStr for InsSex {
    type Err = InsError;
    fn from_str(s: &str) -> Result<Self, InsError> {
        match s {
            "M" => Ok(Self::Male),
            "F" => Ok(Self::Female),
            other => Err(InsError::UnknownSex(other.to_string())),
        }
    }
}

/// The five strict traits, exactly as INSi (or the identity document) gives them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsTraits {
    pub birth_name: String,
    /// First names at birth, space-separated, in order.
    pub first_names: String,
    pub birth_date: NaiveDate,
    pub sex: InsSex,
    /// INSEE COG code of the place of birth (99xxx for a country abroad).
    pub birth_place: String,
}

impl InsTraits {
    /// Checks presence and structure only; the text is kept byte for byte.
    pub fn new(
        birth_name: String,
        first_names: String,
        birth_date: NaiveDate,
        sex: InsSex,
        birth_place: String,
    ) -> Result<Self, InsError> {
        if birth_name.trim().is_empty() {
            return Err(InsError::EmptyTrait("the birth name"));
        }
        if first_names.trim().is_empty() {
            return Err(InsError::EmptyTrait("the first names at birth"));
        }
        let place_ok = birth_place.len() == 5
            && birth_place
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || (i == 1 && (c == 'A' || c == 'B')));
        if !place_ok {
            return Err(InsError::BirthPlace(birth_place));
        }
        Ok(Self {
            birth_name,
            first_names,
            birth_date,
            sex,
            birth_place,
        })
    }
}

/// Traits identify a person: never printed by `Debug`.
impl fmt::Debug for InsTraits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InsTraits(…)")
    }
}

/// An INS: the matricule with its authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ins {
    pub matricule: Matricule,
    pub authority: InsAuthority,
}

impl Ins {
    pub fn new(matricule: &str, oid: &str) -> Result<Self, InsError> {
        let matricule = Matricule::parse(matricule)?;
        let authority = InsAuthority::from_oid(oid)?;
        Ok(Self {
            matricule,
            authority,
        })
    }
}

/// The identity status of the national identity-vigilance rules (RNIV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityStatus {
    /// Neither proof: the identity as the patient declared it.
    Provisoire,
    /// The INS and traits were returned by the INSi teleservice; no document seen.
    Recuperee,
    /// A high-trust identity document was checked; no INSi retrieval.
    Validee,
    /// Both: INSi retrieval and document check. Only this status labels exported data.
    Qualifiee,
}

impl fmt::Display for IdentityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Provisoire => "provisoire",
            Self::Recuperee => "récupérée",
            Self::Validee => "validée",
            Self::Qualifiee => "qualifiée",
        })
    }
}

/// What a professional establishes about an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityProof {
    /// INSi answered 00 with this matricule and these traits.
    InsiRetrieved,
    /// A high-trust document (passport, identity card, residence permit) was checked.
    DocumentChecked,
}

/// A patient's identity as a health record holds it: traits, INS when known, RNIV status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub traits: InsTraits,
    pub ins: Option<Ins>,
    pub status: IdentityStatus,
}

impl Identity {
    /// A new identity is provisional until proven.
    pub fn provisional(traits: InsTraits, ins: Option<Ins>) -> Self {
        Self {
            traits,
            ins,
            status: IdentityStatus::Provisoire,
        }
    }

    /// The status after `proof`. Retrieval needs an INS (INSi returns one); proofs add up.
    pub fn prove(&self, proof: IdentityProof) -> Result<Self, InsError> {
        use IdentityStatus::*;
        let to = match (self.status, proof) {
            (Provisoire, IdentityProof::InsiRetrieved) => Recuperee,
            (Provisoire, IdentityProof::DocumentChecked) => Validee,
            (Recuperee, IdentityProof::DocumentChecked)
            | (Validee, IdentityProof::InsiRetrieved) => Qualifiee,
            (already, _) => already,
        };
        if proof == IdentityProof::InsiRetrieved && self.ins.is_none() {
            return Err(InsError::Transition {
                from: self.status,
                to,
                why: "an INSi retrieval gives an INS: record the matricule and its OID with it",
            });
        }
        Ok(Self {
            status: to,
            ..self.clone()
        })
    }

    /// A correction of the traits or of the INS. Any actual change drops the status back to
    /// *provisoire*: the earlier proofs were about other values. An unchanged amendment keeps it.
    pub fn amend(&self, traits: InsTraits, ins: Option<Ins>) -> Self {
        let changed = traits != self.traits || ins != self.ins;
        Self {
            status: if changed {
                IdentityStatus::Provisoire
            } else {
                self.status
            },
            traits,
            ins,
        }
    }

    /// The INS that may label exported data (FHIR Patient identifier): only when *qualifiée*.
    pub fn exportable_ins(&self) -> Option<&Ins> {
        match self.status {
            IdentityStatus::Qualifiee => self.ins.as_ref(),
            _ => None,
        }
    }
}

/// How a professional queries INSi: with the Vitale card, or by traits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsiQuery {
    /// Read from the patient's Vitale card (NIR of the holder or beneficiary + birth date).
    VitaleCard {
        matricule: Matricule,
        birth_date: NaiveDate,
    },
    /// Typed traits (at least birth name, first name, sex, birth date; place optional).
    Traits {
        birth_name: String,
        first_name: String,
        sex: InsSex,
        birth_date: NaiveDate,
        birth_place: Option<String>,
    },
}

/// The published INSi answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsiResponse {
    /// 00 — one identity found: its INS and traits.
    Found { ins: Ins, traits: InsTraits },
    /// 01 — no identity found (the query may be retried with other traits).
    NotFound,
    /// 02 — several identities match: add the other first names or the place of birth.
    Several,
}

/// The INSi teleservice. The production connector (SOAP over mutual TLS with a CPS card or a
/// structure certificate, through the LPS's authorisation) lives on the server side; tests use
/// a double returning the published answers.
pub trait InsiService {
    type Error: std::error::Error;
    fn lookup(&self, query: &InsiQuery) -> Result<InsiResponse, Self::Error>;
}

#[cfg(test)]
#[path = "ins_tests.rs"]
mod tests;
