//! Enrolment codes catch typos; links round-trip and refuse what is not theirs.

use super::*;
use chrono::TimeZone;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rstest::rstest;

fn code(seed: u64) -> EnrolmentCode {
    EnrolmentCode::generate(&mut StdRng::seed_from_u64(seed))
}

#[test]
fn codes_are_ten_crockford_characters_shown_in_two_groups() {
    let c = code(1);
    let shown = c.to_string();
    assert_eq!(shown.len(), 11);
    assert_eq!(&shown[5..6], "-");
    assert!(
        c.canonical()
            .chars()
            .all(|ch| ALPHABET.contains(&(ch as u8)))
    );
    assert!(!c.canonical().contains(['I', 'L', 'O', 'U']));
    assert_eq!(EnrolmentCode::ENTROPY_BITS, 45);
}

proptest! {
    #[test]
    fn codes_round_trip_however_they_are_typed(seed in any::<u64>()) {
        let c = code(seed);
        let canonical = c.canonical();
        let sloppy = format!(
            " {} {} ",
            canonical[..3].to_lowercase().replace('0', "o").replace('1', "l"),
            canonical[3..].replace('1', "I")
        );
        for text in [c.to_string(), canonical.clone(), canonical.to_lowercase(), sloppy] {
            prop_assert_eq!(text.parse::<EnrolmentCode>().unwrap(), c.clone());
        }
    }

    #[test]
    fn every_single_wrong_character_is_caught(seed in any::<u64>()) {
        let c = code(seed);
        for pos in 0..EnrolmentCode::LEN {
            for v in 0..32u8 {
                if v == c.0[pos] {
                    continue;
                }
                let mut typo = c.0;
                typo[pos] = v;
                let text: String = typo.iter().map(|&s| char::from(ALPHABET[usize::from(s)])).collect();
                prop_assert_eq!(text.parse::<EnrolmentCode>().unwrap_err(), WireError::CodeCheck);
            }
        }
    }

    #[test]
    fn every_swap_of_neighbours_is_caught(seed in any::<u64>()) {
        let c = code(seed);
        for pos in 0..EnrolmentCode::LEN - 1 {
            if c.0[pos] == c.0[pos + 1] {
                continue;
            }
            let mut typo = c.0;
            typo.swap(pos, pos + 1);
            let text: String = typo.iter().map(|&s| char::from(ALPHABET[usize::from(s)])).collect();
            prop_assert_eq!(text.parse::<EnrolmentCode>().unwrap_err(), WireError::CodeCheck);
        }
    }
}

#[rstest]
#[case("ABCDE-FGHJ", WireError::CodeLength { got: 9, expected: 10 })]
#[case("ABCDE-FGHJKM", WireError::CodeLength { got: 11, expected: 10 })]
#[case("", WireError::CodeLength { got: 0, expected: 10 })]
#[case("ABCDU-FGHJK", WireError::CodeCharacter { ch: 'U', position: 5 })]
#[case("AB*DE-FGHJK", WireError::CodeCharacter { ch: '*', position: 3 })]
fn malformed_codes_say_what_is_wrong(#[case] text: &str, #[case] e: WireError) {
    assert_eq!(text.parse::<EnrolmentCode>().unwrap_err(), e);
}

#[test]
fn codes_hide_in_debug_and_travel_as_text_in_json() {
    let c = code(9);
    let dbg = format!("{c:?}");
    assert!(!dbg.contains(&c.canonical()[1..]), "{dbg}");
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(json, format!("\"{}\"", c.canonical()));
    assert_eq!(serde_json::from_str::<EnrolmentCode>(&json).unwrap(), c);
}

#[rstest]
#[case("https://ilot.example.fr", "https://ilot.example.fr")]
#[case(
    "HTTPS://Ilot.Example.FR:8443/api/",
    "https://ilot.example.fr:8443/api"
)]
#[case("http://localhost:8080", "http://localhost:8080")]
#[case("http://127.0.0.1:3000/", "http://127.0.0.1:3000")]
#[case("https://[2001:db8::1]:443/x", "https://[2001:db8::1]:443/x")]
fn server_urls_are_normalised(#[case] given: &str, #[case] normal: &str) {
    assert_eq!(ServerUrl::parse(given).unwrap().as_str(), normal);
}

#[rstest]
#[case("ilot.example.fr", "it must start with https://")]
#[case("ftp://ilot.example.fr", "it must start with https://")]
#[case(
    "http://ilot.example.fr",
    "plain http is only for a server on this machine (localhost); use https://"
)]
#[case("https://", "it has no host name")]
#[case("https://a b", "it must not contain spaces")]
#[case(
    "https://user:pw@ilot.fr",
    "it must not contain a user name or password"
)]
#[case("https://ilot.fr/?x=1", "it must not have a query (?) or fragment (#)")]
#[case("https://ilot.fr:99999", "its port is not a number from 1 to 65535")]
fn bad_server_urls_say_why(#[case] given: &str, #[case] reason: &'static str) {
    assert_eq!(
        ServerUrl::parse(given).unwrap_err(),
        WireError::InvalidServerUrl {
            got: given.into(),
            reason
        }
    );
}

/// Regression (issue 10, item 9): `http://127.attacker.example` was taken for loopback because
/// the host started with "127.". Only a loopback IP literal or the literal `localhost` is.
#[rstest]
#[case("http://127.attacker.example")]
#[case("http://127.0.0.1.attacker.example:8080")]
#[case("http://127.1")]
#[case("http://localhost.attacker.example")]
#[case("http://localhost.")]
#[case("http://[::ffff:8.8.8.8]")]
#[case("http://[2001:db8::1]")]
#[case("http://0.0.0.0")]
fn plain_http_to_a_name_that_only_looks_local_is_refused(#[case] given: &str) {
    assert_eq!(
        ServerUrl::parse(given).unwrap_err(),
        WireError::InvalidServerUrl {
            got: given.into(),
            reason: "plain http is only for a server on this machine (localhost); use https://"
        }
    );
}

#[rstest]
#[case("http://127.0.0.1")]
#[case("http://127.12.0.9:8480")]
#[case("http://[::1]:8480/api")]
#[case("http://LOCALHOST:1")]
fn plain_http_to_a_loopback_address_is_accepted(#[case] given: &str) {
    assert!(ServerUrl::parse(given).is_ok(), "{given}");
}

#[test]
fn endpoints_join_under_the_base() {
    let u = ServerUrl::parse("https://ilot.fr/base/").unwrap();
    assert_eq!(u.join("/v1/push"), "https://ilot.fr/base/v1/push");
}

fn invite() -> EnrolmentInvite {
    EnrolmentInvite {
        server: ServerUrl::parse("https://ilot.example.fr:8443/api").unwrap(),
        code: code(4),
        fingerprint: Fingerprint::from_bytes([0x5a; 16]),
        expires_at: Some(Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap()),
    }
}

#[test]
fn links_round_trip_and_are_url_safe() {
    let i = invite();
    let link = i.to_link();
    assert!(
        link.starts_with("ilot://enrol?v=1&s=https%3A%2F%2Filot.example.fr%3A8443%2Fapi&c="),
        "{link}"
    );
    assert!(
        link.ends_with(&format!("&k={}&e=1772618400", "5a".repeat(16))),
        "{link}"
    );
    let query = &link[EnrolmentInvite::PREFIX.len()..];
    assert!(
        query
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%&=".contains(&b)),
        "{link}"
    );
    assert_eq!(EnrolmentInvite::parse_link(&link).unwrap(), i);
    let no_expiry = EnrolmentInvite {
        expires_at: None,
        ..i
    };
    assert_eq!(
        no_expiry.to_link().parse::<EnrolmentInvite>().unwrap(),
        no_expiry
    );
}

#[test]
fn expiry_is_checked_against_the_given_now() {
    let i = invite();
    let at = i.expires_at.unwrap();
    assert!(!i.is_expired(at - chrono::TimeDelta::seconds(1)));
    assert!(i.is_expired(at));
}

#[test]
fn unknown_parameters_are_ignored() {
    let link = format!("{}&future=1", invite().to_link());
    assert_eq!(EnrolmentInvite::parse_link(&link).unwrap(), invite());
}

#[rstest]
#[case("https://ilot.fr/enrol?c=X", WireError::NotAnEnrolmentLink("it does not start with ilot://enrol?".into()))]
#[case(
    "ilot://enrol?s=https%3A%2F%2Fa.fr",
    WireError::MissingField("version")
)]
#[case("ilot://enrol?v=1&c=X", WireError::MissingField("server"))]
#[case(
    "ilot://enrol?v=1&s=https%3A%2F%2Fa.fr&k=00",
    WireError::MissingField("code")
)]
#[case("ilot://enrol?v=1&v=1", WireError::DuplicateField("version"))]
#[case("ilot://enrol?v=1&s=%ZZ", WireError::InvalidField { field: "server", reason: "bad percent escape at character 1".into() })]
#[case("ilot://enrol?v=1&s=%+1", WireError::InvalidField { field: "server", reason: "bad percent escape at character 1".into() })]
fn broken_links_say_what_is_missing(#[case] link: &str, #[case] e: WireError) {
    assert_eq!(EnrolmentInvite::parse_link(link).unwrap_err(), e);
}

#[test]
fn a_later_link_version_asks_for_an_update() {
    let link = invite().to_link().replace("v=1", "v=2");
    let e = EnrolmentInvite::parse_link(&link).unwrap_err().to_string();
    assert!(
        e.contains("version 2 is not supported") && e.contains("update the app"),
        "{e}"
    );
}

#[test]
fn a_mistyped_code_in_a_link_is_caught() {
    let i = invite();
    let good = i.code.canonical();
    let first = good.as_bytes()[0];
    let other = if first == b'0' { '2' } else { '0' };
    let bad = format!("{other}{}", &good[1..]);
    let link = i.to_link().replace(&good, &bad);
    assert_eq!(
        EnrolmentInvite::parse_link(&link).unwrap_err(),
        WireError::CodeCheck
    );
}

#[test]
fn a_bad_expiry_is_named() {
    let link = invite().to_link().replace("e=1772618400", "e=soon");
    assert!(matches!(
        EnrolmentInvite::parse_link(&link).unwrap_err(),
        WireError::InvalidField {
            field: "expiry",
            ..
        }
    ));
}
