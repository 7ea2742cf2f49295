use super::*;
use proptest::prelude::*;
use rstest::rstest;

/// An independent oracle for the key: the INSEE's subtraction form for Corsica (2A = 20 − 1,
/// 2B = 20 − 2 at the department's place value 10^6), computed on u64.
fn oracle_key(number13: &str) -> u8 {
    let (digits, minus) = if number13.contains('A') {
        (number13.replace('A', "0"), 1_000_000)
    } else if number13.contains('B') {
        (number13.replace('B', "0"), 2_000_000)
    } else {
        (number13.to_string(), 0)
    };
    let n: u64 = digits.parse::<u64>().unwrap() - minus;
    (97 - n % 97) as u8
}

fn with_key(number13: &str) -> String {
    format!("{number13}{:02}", oracle_key(number13))
}

fn traits() -> InsTraits {
    InsTraits::new(
        "DE LA FONTAINE-ÉLÉONORE".into(),
        "Anne-Sophie Marie".into(),
        NaiveDate::from_ymd_opt(1984, 12, 3).unwrap(),
        InsSex::Female,
        "2A004".into(),
    )
    .unwrap()
}

#[test]
fn a_published_example_is_accepted_and_printed_grouped() {
    // INSEE's worked example: "2 06 12 75 111 005", key 64.
    let m = Matricule::parse("2 06 12 75 111 005 64").unwrap();
    assert_eq!(m.number(), "2061275111005");
    assert_eq!(m.key(), "64");
    assert_eq!(m.to_string(), "2 06 12 75 111 005 64");
}

#[rstest]
#[case::corse_du_sud("28412", "2A", "004015")]
#[case::haute_corse("18001", "2B", "033120")]
fn corsican_departments_use_their_substitute_digits(
    #[case] head: &str,
    #[case] dept: &str,
    #[case] tail: &str,
) {
    let number = format!("{head}{dept}{tail}");
    assert_eq!(number.len(), 13);
    let m = Matricule::parse(&with_key(&number)).unwrap();
    assert_eq!(m.number(), number);
    // The same digits read as department 20 carry another key: 2A/2B are not "20".
    let as_twenty = number.replace(dept, "20");
    let wrong = format!("{as_twenty}{}", m.key());
    assert!(matches!(
        Matricule::parse(&wrong),
        Err(InsError::Key { .. })
    ));
}

#[rstest]
#[case::short("2061275111005", InsError::Length(13))]
#[case::letter("2061275X1100564", InsError::Character('X'))]
#[case::corsica_elsewhere("2A61275111005 64", InsError::Character('A'))]
#[case::sex("5061275111005 64", InsError::Sex('5'))]
#[case::key("2061275111005 65", InsError::Key { given: 65, expected: 64 })]
fn malformed_matricules_are_refused_with_the_reason(
    #[case] given: &str,
    #[case] expected: InsError,
) {
    assert_eq!(Matricule::parse(given).unwrap_err(), expected);
}

#[test]
fn every_single_digit_change_is_detected() {
    let valid = with_key("1840375056012");
    assert!(Matricule::parse(&valid).is_ok());
    let mut caught = 0;
    for pos in 0..15 {
        for d in b'0'..=b'9' {
            let mut bytes = valid.clone().into_bytes();
            if bytes[pos] == d {
                continue;
            }
            bytes[pos] = d;
            let changed = String::from_utf8(bytes).unwrap();
            assert!(
                Matricule::parse(&changed).is_err(),
                "{changed} (position {pos}) was accepted"
            );
            caught += 1;
        }
    }
    assert_eq!(caught, 15 * 9);
}

proptest! {
    #[test]
    fn keys_agree_with_the_oracle_and_any_digit_change_fails(
        sex in prop::sample::select(vec!['1', '2', '7', '8']),
        rest in "[0-9]{12}",
        pos in 0usize..13,
        bump in 1u8..10,
    ) {
        let number = format!("{sex}{rest}");
        let m = Matricule::parse(&with_key(&number)).unwrap();
        prop_assert_eq!(m.key(), format!("{:02}", oracle_key(&number)));
        let mut bytes = with_key(&number).into_bytes();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + bump) % 10;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(Matricule::parse(&changed).is_err());
    }
}

#[test]
fn matricules_and_traits_never_show_in_debug() {
    let ins = Ins::new(&with_key("1840375056012"), OID_NIR).unwrap();
    let shown = format!("{ins:?} {:?}", traits());
    assert!(!shown.contains("840375"), "{shown}");
    assert!(!shown.contains("FONTAINE"), "{shown}");
}

#[test]
fn oids_name_their_register_and_unknown_ones_are_refused() {
    for a in [
        InsAuthority::Nir,
        InsAuthority::Nia,
        InsAuthority::NirTest,
        InsAuthority::NiaTest,
    ] {
        assert_eq!(InsAuthority::from_oid(a.oid()).unwrap(), a);
    }
    assert!(InsAuthority::NirTest.is_test() && !InsAuthority::Nir.is_test());
    assert_eq!(
        InsAuthority::from_oid("1.2.250.1.213.1.4.2").unwrap_err(),
        InsError::UnknownOid("1.2.250.1.213.1.4.2".into())
    );
}

#[test]
fn traits_are_kept_byte_for_byte() {
    let t = traits();
    assert_eq!(t.birth_name, "DE LA FONTAINE-ÉLÉONORE");
    assert_eq!(t.first_names, "Anne-Sophie Marie");
    let json = serde_json::to_string(&t).unwrap();
    let back: InsTraits = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
}

#[rstest]
#[case::empty_name("  ", "Anne", "75111", InsError::EmptyTrait("the birth name"))]
#[case::empty_first(
    "DUPONT",
    "",
    "75111",
    InsError::EmptyTrait("the first names at birth")
)]
#[case::place_short("DUPONT", "Anne", "7511", InsError::BirthPlace("7511".into()))]
#[case::place_letters("DUPONT", "Anne", "PARIS", InsError::BirthPlace("PARIS".into()))]
fn missing_or_malformed_traits_are_refused(
    #[case] name: &str,
    #[case] first: &str,
    #[case] place: &str,
    #[case] expected: InsError,
) {
    let got = InsTraits::new(
        name.into(),
        first.into(),
        NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        InsSex::Male,
        place.into(),
    );
    assert_eq!(got.unwrap_err(), expected);
}

fn with_ins() -> Identity {
    Identity::provisional(
        traits(),
        Some(Ins::new(&with_key("2841220040150"), OID_NIR_TEST).unwrap()),
    )
}

#[test]
fn proofs_add_up_to_qualifiee_in_either_order() {
    use IdentityProof::*;
    use IdentityStatus::*;
    let a = with_ins().prove(InsiRetrieved).unwrap();
    assert_eq!(a.status, Recuperee);
    assert_eq!(a.prove(DocumentChecked).unwrap().status, Qualifiee);
    let b = with_ins().prove(DocumentChecked).unwrap();
    assert_eq!(b.status, Validee);
    assert_eq!(b.prove(InsiRetrieved).unwrap().status, Qualifiee);
    // Proving again changes nothing.
    assert_eq!(b.prove(DocumentChecked).unwrap().status, Validee);
}

#[test]
fn a_retrieval_without_an_ins_is_refused() {
    let none = Identity::provisional(traits(), None);
    assert!(matches!(
        none.prove(IdentityProof::InsiRetrieved),
        Err(InsError::Transition { .. })
    ));
}

#[test]
fn only_a_qualified_identity_labels_exports() {
    use IdentityProof::*;
    let id = with_ins();
    assert!(id.exportable_ins().is_none());
    let recup = id.prove(InsiRetrieved).unwrap();
    assert!(recup.exportable_ins().is_none());
    let qualified = recup.prove(DocumentChecked).unwrap();
    assert_eq!(qualified.exportable_ins(), qualified.ins.as_ref());
}

#[test]
fn a_changed_trait_or_matricule_drops_back_to_provisoire() {
    use IdentityProof::*;
    let q = with_ins()
        .prove(InsiRetrieved)
        .unwrap()
        .prove(DocumentChecked)
        .unwrap();
    // Same values: still qualified.
    let same = q.amend(q.traits.clone(), q.ins.clone());
    assert_eq!(same.status, IdentityStatus::Qualifiee);
    // One accent on the name is a change (traits are never normalised).
    let mut t = q.traits.clone();
    t.birth_name = "DE LA FONTAINE-ELEONORE".into();
    assert_eq!(q.amend(t, q.ins.clone()).status, IdentityStatus::Provisoire);
    // Another matricule.
    let other = Some(Ins::new(&with_key("2841220040151"), OID_NIR_TEST).unwrap());
    let changed = q.amend(q.traits.clone(), other);
    assert_eq!(changed.status, IdentityStatus::Provisoire);
    assert!(changed.exportable_ins().is_none());
}

/// A double of INSi answering as the published responses do.
struct Insi(Vec<(Ins, InsTraits)>);

#[derive(Debug, thiserror::Error)]
#[error("unreachable")]
struct Unreachable;

impl InsiService for Insi {
    type Error = Unreachable;
    fn lookup(&self, q: &InsiQuery) -> Result<InsiResponse, Unreachable> {
        let hits: Vec<_> = self
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
                    &t.birth_name == birth_name
                        && t.first_names.split(' ').any(|f| f == first_name)
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

#[test]
fn insi_answers_found_none_or_several() {
    let a = with_ins();
    let mut twin = traits();
    twin.birth_place = "2B033".into();
    let twin_ins = Ins::new(&with_key("2841220040152"), OID_NIR_TEST).unwrap();
    let insi = Insi(vec![
        (a.ins.clone().unwrap(), a.traits.clone()),
        (twin_ins, twin),
    ]);
    let by_traits = |place: Option<&str>| InsiQuery::Traits {
        birth_name: "DE LA FONTAINE-ÉLÉONORE".into(),
        first_name: "Anne-Sophie".into(),
        sex: InsSex::Female,
        birth_date: NaiveDate::from_ymd_opt(1984, 12, 3).unwrap(),
        birth_place: place.map(str::to_string),
    };
    assert_eq!(
        insi.lookup(&by_traits(None)).unwrap(),
        InsiResponse::Several
    );
    match insi.lookup(&by_traits(Some("2A004"))).unwrap() {
        InsiResponse::Found { ins, .. } => assert_eq!(Some(ins), a.ins),
        other => panic!("expected one identity, got {other:?}"),
    }
    assert_eq!(
        insi.lookup(&by_traits(Some("75111"))).unwrap(),
        InsiResponse::NotFound
    );
}

/// Every single-character change of `valid` (another digit at any place, and A↔B in a Corsican
/// department) must be refused; returns how many were tried.
fn every_change_refused(valid: &str) -> usize {
    let mut tried = 0;
    for pos in 0..valid.len() {
        let alternatives: Vec<u8> = match valid.as_bytes()[pos] {
            b'A' => vec![b'B'],
            b'B' => vec![b'A'],
            _ => (b'0'..=b'9').collect(),
        };
        for d in alternatives {
            let mut bytes = valid.as_bytes().to_vec();
            if bytes[pos] == d {
                continue;
            }
            bytes[pos] = d;
            let changed = String::from_utf8(bytes).unwrap();
            assert!(
                Matricule::parse(&changed).is_err(),
                "{changed} (position {pos}) was accepted"
            );
            tried += 1;
        }
    }
    tried
}

/// The ANS's published test identity used across the CI-SIS examples and known to the DMP test
/// environment: PAT-TROIS Dominique Marie-Louise, born 28 March 1979 in 63220, test NIR
/// `2 79 03 51 215 189 89` under the test OID 1.2.250.1.213.1.4.10.
#[test]
fn the_ans_published_test_identity_is_accepted_and_every_corruption_refused() {
    let ins = Ins::new("2 79 03 51 215 189 89", "1.2.250.1.213.1.4.10").unwrap();
    assert_eq!(ins.authority, InsAuthority::NirTest);
    assert!(ins.authority.is_test());
    assert_eq!(ins.matricule.key(), "89");
    assert_eq!(every_change_refused(ins.matricule.as_str()), 15 * 9);
    // A Corsican matricule: 2A read as 19, 2B as 18; A↔B is caught too.
    let corse = with_key("284122A004015");
    assert!(Matricule::parse(&corse).is_ok());
    assert_eq!(every_change_refused(&corse), 14 * 9 + 1);
}
