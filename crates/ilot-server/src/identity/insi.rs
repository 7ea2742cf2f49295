//! The INSi teleservice behind [`ilot_domain::ins::InsiService`]: the connector the server is
//! configured with ([`Connector`]), none by default, and the test double ([`TestIdentities`])
//! that answers from the ANS's published test identities as INSi's test environment does:
//! one identity found → its INS and traits exactly; none → "aucune identité trouvée"; several →
//! "plusieurs identités", never one of them picked.
//!
//! The production connector (ARCHITECTURE.md, "INS") is a SOAP client of the Assurance
//! Maladie's INSi service over mutual TLS with a CPS card or a structure certificate; it cannot
//! be reached from here, so it is not in this crate.

use std::sync::Arc;

use chrono::NaiveDate;
use ilot_domain::ins::{
    Ins, InsSex, InsTraits, InsiQuery, InsiResponse, InsiService, OID_NIR_TEST,
};
use thiserror::Error;

/// Why INSi could not be asked.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InsiError {
    #[error(
        "INSi is not configured on this server: an INS can only be typed from the patient's documents for now"
    )]
    NotConfigured,
    #[error("INSi did not answer: {0}")]
    Unavailable(String),
}

type Service = dyn InsiService<Error = InsiError> + Send + Sync;

/// The INSi connector of a server (cheap to clone).
#[derive(Clone)]
pub struct Connector(Arc<Service>);

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector(…)")
    }
}

impl Connector {
    pub fn new(service: impl InsiService<Error = InsiError> + Send + Sync + 'static) -> Self {
        Self(Arc::new(service))
    }

    /// No INSi: lookups answer [`InsiError::NotConfigured`] (503).
    pub fn unconfigured() -> Self {
        Self::new(Unconfigured)
    }

    /// The test double over the ANS test identities (test OIDs only: they can never label
    /// real data).
    pub fn test_identities() -> Self {
        Self::new(TestIdentities::published())
    }

    pub fn lookup(&self, q: &InsiQuery) -> Result<InsiResponse, InsiError> {
        self.0.lookup(q)
    }
}

struct Unconfigured;

impl InsiService for Unconfigured {
    type Error = InsiError;
    fn lookup(&self, _: &InsiQuery) -> Result<InsiResponse, InsiError> {
        Err(InsiError::NotConfigured)
    }
}

/// INSi's test environment: a fixed set of test identities, matched as INSi matches a query.
#[derive(Debug, Clone)]
pub struct TestIdentities(pub Vec<(Ins, InsTraits)>);

fn identity(
    matricule: &str,
    name: &str,
    first: &str,
    born: (i32, u32, u32),
    sex: InsSex,
    place: &str,
) -> (Ins, InsTraits) {
    let ins = Ins::new(matricule, OID_NIR_TEST).expect("a published test matricule");
    let date = NaiveDate::from_ymd_opt(born.0, born.1, born.2).expect("a date");
    let traits =
        InsTraits::new(name.into(), first.into(), date, sex, place.into()).expect("traits");
    (ins, traits)
}

impl TestIdentities {
    /// PAT-TROIS Dominique Marie-Louise: the ANS's published test identity (CI-SIS examples,
    /// known to the DMP test environment), test NIR 2 79 03 51 215 189 89. Two homonyms (same
    /// birth name, first name, sex and date, born in two places; test NIRs whose keys are
    /// computed) give the "several identities" answer INSi returns for twins of traits.
    pub fn published() -> Self {
        Self(vec![
            identity(
                "279035121518989",
                "PAT-TROIS",
                "DOMINIQUE MARIE-LOUISE",
                (1979, 3, 28),
                InsSex::Female,
                "63220",
            ),
            identity(
                "184127511100575",
                "HOMONYME",
                "CAMILLE",
                (1984, 12, 3),
                InsSex::Male,
                "75111",
            ),
            identity(
                "184126912345608",
                "HOMONYME",
                "CAMILLE ANDRÉ",
                (1984, 12, 3),
                InsSex::Male,
                "69123",
            ),
        ])
    }
}

/// Traits compared as INSi compares a query: case-insensitive on the typed names.
fn same(a: &str, b: &str) -> bool {
    a.to_uppercase() == b.to_uppercase()
}

impl InsiService for TestIdentities {
    type Error = InsiError;
    fn lookup(&self, q: &InsiQuery) -> Result<InsiResponse, InsiError> {
        let hits: Vec<&(Ins, InsTraits)> = self
            .0
            .iter()
            .filter(|(ins, t)| match q {
                InsiQuery::VitaleCard {
                    matricule,
                    birth_date,
                } => &ins.matricule == matricule && &t.birth_date == birth_date,
                InsiQuery::Traits {
                    birth_name,
                    first_name,
                    sex,
                    birth_date,
                    birth_place,
                } => {
                    same(&t.birth_name, birth_name)
                        && t.first_names
                            .split(' ')
                            .next()
                            .is_some_and(|f| same(f, first_name))
                        && &t.sex == sex
                        && &t.birth_date == birth_date
                        && birth_place.as_ref().is_none_or(|p| p == &t.birth_place)
                }
            })
            .collect();
        Ok(match hits.as_slice() {
            [] => InsiResponse::NotFound,
            [(ins, t)] => InsiResponse::Found {
                ins: ins.clone(),
                traits: t.clone(),
            },
            _ => InsiResponse::Several,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_traits(
        name: &str,
        first: &str,
        born: (i32, u32, u32),
        sex: InsSex,
        place: Option<&str>,
    ) -> InsiQuery {
        InsiQuery::Traits {
            birth_name: name.into(),
            first_name: first.into(),
            sex,
            birth_date: NaiveDate::from_ymd_opt(born.0, born.1, born.2).unwrap(),
            birth_place: place.map(str::to_string),
        }
    }

    #[test]
    fn one_identity_found_returns_its_ins_and_traits_exactly() {
        let insi = TestIdentities::published();
        let q = by_traits(
            "pat-trois",
            "Dominique",
            (1979, 3, 28),
            InsSex::Female,
            None,
        );
        let InsiResponse::Found { ins, traits } = insi.lookup(&q).unwrap() else {
            panic!("expected one identity");
        };
        assert_eq!(ins.matricule.as_str(), "279035121518989");
        assert_eq!(ins.authority.oid(), "1.2.250.1.213.1.4.10");
        assert_eq!(traits.birth_name, "PAT-TROIS");
        assert_eq!(traits.first_names, "DOMINIQUE MARIE-LOUISE");
        assert_eq!(traits.birth_place, "63220");
        // By the Vitale card: matricule and birth date.
        let card = InsiQuery::VitaleCard {
            matricule: ins.matricule.clone(),
            birth_date: traits.birth_date,
        };
        assert!(matches!(
            insi.lookup(&card).unwrap(),
            InsiResponse::Found { .. }
        ));
    }

    #[test]
    fn none_and_several_are_told_apart_and_several_picks_none() {
        let insi = TestIdentities::published();
        let nobody = by_traits(
            "PAT-TROIS",
            "DOMINIQUE",
            (1979, 3, 29),
            InsSex::Female,
            None,
        );
        assert_eq!(insi.lookup(&nobody).unwrap(), InsiResponse::NotFound);
        let twins = by_traits("HOMONYME", "CAMILLE", (1984, 12, 3), InsSex::Male, None);
        assert_eq!(insi.lookup(&twins).unwrap(), InsiResponse::Several);
        // The place of birth tells them apart, as INSi asks.
        let one = by_traits(
            "HOMONYME",
            "CAMILLE",
            (1984, 12, 3),
            InsSex::Male,
            Some("69123"),
        );
        assert!(matches!(
            insi.lookup(&one).unwrap(),
            InsiResponse::Found { .. }
        ));
    }

    #[test]
    fn a_server_without_insi_says_so() {
        let q = by_traits(
            "PAT-TROIS",
            "DOMINIQUE",
            (1979, 3, 28),
            InsSex::Female,
            None,
        );
        assert_eq!(
            Connector::unconfigured().lookup(&q).unwrap_err(),
            InsiError::NotConfigured
        );
    }
}
