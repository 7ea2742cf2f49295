//! The patient's identity (INS) through the real HTTP API, on SQLite and PostgreSQL: physician
//! only (a nurse gets 403), every read audited, the domain's messages on a wrong key, versions
//! with who/when/why, the RNIV status going up with proofs and back down on a change, INSi's
//! three answers from the test double, and the FHIR export carrying the INS only when
//! qualifiée. Nothing of it reaches the patient's device (its feed).

use ilot_server::identity::insi::Connector;
use ilot_server::storage::NewIdentityVersion;
use ilot_wire::{CareRole, PatientId};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::support::*;

/// The ANS published test identity PAT-TROIS Dominique (test NIR, OID …4.10).
pub fn pat_trois(expected_version: u32) -> Value {
    json!({
        "expected_version": expected_version,
        "birth_name": "PAT-TROIS",
        "first_names": "DOMINIQUE MARIE-LOUISE",
        "birth_date": "1979-03-28",
        "sex": "F",
        "birth_place": "63220",
        "matricule": "2 79 03 51 215 189 89",
        "oid": "1.2.250.1.213.1.4.10"
    })
}

struct W {
    s: Srv,
    dr: String,
    ide: String,
    pa: PatientId,
}

fn world(db: &str) -> W {
    let s = start_configured(
        db,
        &[
            ("dr", CareRole::Physician, "A"),
            ("ide", CareRole::Nurse, "A"),
        ],
        |c| c.insi = Connector::test_identities(),
    );
    let dr = login(&s, "dr");
    let ide = login(&s, "ide");
    let r: Value = Client::new()
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        // A number typed at inclusion: never shown as the patient's INS (not qualified).
        .json(&json!({"pseudonym": "PA", "ins": "185057800608436", "prescription": prescription()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let pa = r["patient_id"].as_str().unwrap().parse().unwrap();
    W { s, dr, ide, pa }
}

impl W {
    fn call(&self, method: &str, tail: &str, token: &str, body: Option<Value>) -> Response {
        let url = format!("{}/v1/operator/patients/{}{tail}", self.s.url, self.pa);
        let mut r = Client::new()
            .request(method.parse().unwrap(), url)
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().unwrap()
    }

    fn ok(&self, method: &str, tail: &str, body: Option<Value>) -> Value {
        let r = self.call(method, tail, &self.dr, body);
        let st = r.status();
        let v: Value = r.json().unwrap();
        assert_eq!(st, 200, "{method} {tail}: {v}");
        v
    }

    fn refused(&self, method: &str, tail: &str, body: Value) -> (u16, String) {
        let r = self.call(method, tail, &self.dr, Some(body));
        let st = r.status().as_u16();
        let v: Value = r.json().unwrap();
        (st, v["message"].as_str().unwrap_or_default().to_string())
    }

    fn audits(&self, action: &str) -> usize {
        self.s
            .state
            .storage()
            .audit_log(10_000)
            .unwrap()
            .iter()
            .filter(|r| r.action == action && r.patient_id == Some(self.pa))
            .count()
    }

    fn patient_resource(&self, token: &str) -> Value {
        let r = self.call("GET", "/fhir", token, None);
        assert_eq!(r.status(), 200);
        let b: Value = r.json().unwrap();
        assert_eq!(b["resourceType"], "Bundle");
        b["entry"][0]["resource"].clone()
    }

    /// The `ins` the triage list, the patient list and the patient page show for the patient.
    fn listed_ins(&self) -> [Value; 3] {
        let get = |path: &str| -> Value {
            let r = Client::new()
                .get(format!("{}{path}", self.s.url))
                .bearer_auth(&self.ide)
                .send()
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.json().unwrap()
        };
        let mine = |rows: &Value, key: &str| -> Value {
            rows.as_array()
                .unwrap()
                .iter()
                .find(|r| r[key] == self.pa.to_string())
                .unwrap_or_else(|| panic!("{rows}"))["ins"]
                .clone()
        };
        [
            mine(&get("/v1/operator/triage")["items"], "patient_id"),
            mine(&get("/v1/operator/patients"), "id"),
            get(&format!("/v1/operator/patients/{}", self.pa))["patient"]["ins"].clone(),
        ]
    }

    fn versions(&self) -> usize {
        self.s
            .state
            .storage()
            .identity_versions(self.pa)
            .unwrap()
            .len()
    }
}

fn has_ins(patient: &Value) -> bool {
    patient["identifier"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["system"] == "urn:oid:1.2.250.1.213.1.4.10" && i["value"] == "279035121518989")
}

fn scenario(db: &str) {
    let w = world(db);
    // Nothing entered yet: null, and the read is audited.
    assert_eq!(w.ok("GET", "/identity", None)["identity"], Value::Null);
    assert_eq!(w.audits("read-identity"), 1);

    // A nurse may neither read nor change the identity; the refusal reads nothing.
    for (m, tail, body) in [
        ("GET", "/identity", None),
        ("GET", "/identity/history", None),
        ("PUT", "/identity", Some(pat_trois(0))),
        (
            "POST",
            "/identity/insi",
            Some(
                json!({"by": "matricule", "matricule": "279035121518989", "birth_date": "1979-03-28"}),
            ),
        ),
    ] {
        assert_eq!(w.call(m, tail, &w.ide, body).status(), 403, "{m} {tail}");
    }
    assert_eq!(w.audits("read-identity"), 1);
    assert_eq!(w.versions(), 0);

    // A wrong key: the domain's message says which key was expected; nothing stored.
    let mut wrong = pat_trois(0);
    wrong["matricule"] = json!("2 79 03 51 215 189 98");
    let (st, msg) = w.refused("PUT", "/identity", wrong);
    assert_eq!(st, 400);
    assert!(msg.contains("expected 89"), "{msg}");
    let mut no_oid = pat_trois(0);
    no_oid["oid"] = Value::Null;
    assert_eq!(w.refused("PUT", "/identity", no_oid).0, 400);
    let mut bad_place = pat_trois(0);
    bad_place["birth_place"] = json!("632");
    let (st, msg) = w.refused("PUT", "/identity", bad_place);
    assert_eq!((st, msg.contains("INSEE")), (400, true), "{msg}");
    assert_eq!(w.versions(), 0);

    // The first entry: provisoire, traits exactly as given.
    let v = w.ok("PUT", "/identity", Some(pat_trois(0)));
    let id = &v["identity"];
    assert_eq!(id["version"], 1);
    assert_eq!(id["status"], "provisoire");
    assert_eq!(id["traits"]["first_names"], "DOMINIQUE MARIE-LOUISE");
    assert_eq!(id["ins"]["matricule"], "279035121518989");
    assert_eq!(id["ins"]["oid"], "1.2.250.1.213.1.4.10");
    assert_eq!(id["ins"]["authority"], "nir-test");
    assert_eq!(id["exportable"], false);
    // Another edit built on version 0 is refused: someone changed it meanwhile.
    assert_eq!(w.refused("PUT", "/identity", pat_trois(0)).0, 409);

    // Not qualified: the FHIR Patient has the pseudonym only (nurses may export too), and no
    // other export (report PDF, billing) is labelled with it.
    let exported = || ilot_server::identity::exported_ins(w.s.state.storage(), w.pa).unwrap();
    assert_eq!(exported(), None);
    assert_eq!(w.listed_ins(), [Value::Null, Value::Null, Value::Null]);
    let p = w.patient_resource(&w.ide);
    assert!(!has_ins(&p), "{p}");
    assert!(!p.to_string().contains("PAT-TROIS"));

    // Proofs: a document (validée), then INSi, which must return exactly this (qualifiée).
    let proof = |v: u32, p: &str, d: Option<&str>| json!({"expected_version": v, "proof": p, "document": d});
    assert_eq!(
        w.refused(
            "POST",
            "/identity/proofs",
            proof(1, "document-checked", None)
        )
        .0,
        400
    );
    let v = w.ok(
        "POST",
        "/identity/proofs",
        Some(proof(1, "document-checked", Some("identity-card"))),
    );
    assert_eq!(v["identity"]["status"], "validee");
    assert_eq!(
        w.refused(
            "POST",
            "/identity/proofs",
            proof(2, "document-checked", Some("passport"))
        )
        .0,
        409
    );
    let v = w.ok(
        "POST",
        "/identity/proofs",
        Some(proof(2, "insi-retrieved", None)),
    );
    assert_eq!(v["identity"]["status"], "qualifiee");
    assert_eq!(v["identity"]["exportable"], true);

    // Qualified: the INS with its test OID and fr-core's type; the other exports carry it.
    assert_eq!(exported().as_deref(), Some("279035121518989"));
    assert_eq!(
        w.listed_ins(),
        [
            json!("279035121518989"),
            json!("279035121518989"),
            json!("279035121518989")
        ]
    );
    let p = w.patient_resource(&w.dr);
    assert!(has_ins(&p), "{p}");
    assert_eq!(p["identifier"][0]["type"]["coding"][0]["code"], "INS-NIR");
    assert_eq!(p["name"][0]["family"], "PAT-TROIS");

    // A change of the traits needs a reason, then drops back to provisoire.
    let mut changed = pat_trois(3);
    changed["first_names"] = json!("DOMINIQUE");
    let (st, msg) = w.refused("PUT", "/identity", changed.clone());
    assert_eq!((st, msg.contains("reason")), (400, true), "{msg}");
    changed["reason"] = json!("prénoms relus sur la carte d'identité");
    let v = w.ok("PUT", "/identity", Some(changed));
    assert_eq!(v["identity"]["status"], "provisoire");
    assert_eq!(v["identity"]["version"], 4);
    assert!(!has_ins(&w.patient_resource(&w.dr)));
    assert_eq!(exported(), None);
    assert_eq!(w.listed_ins(), [Value::Null, Value::Null, Value::Null]);
    // INSi gives other first names: the retrieval cannot be recorded for these traits.
    let (st, msg) = w.refused("POST", "/identity/proofs", proof(4, "insi-retrieved", None));
    assert_eq!(st, 409, "{msg}");

    // History: newest first, what, who, why.
    let h = w.ok("GET", "/identity/history", None);
    let changes: Vec<&str> = h["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        [
            "amended",
            "proof:insi-retrieved",
            "proof:document-checked:identity-card",
            "created"
        ]
    );
    assert_eq!(h["versions"][0]["by"], "dr");
    assert_eq!(
        h["versions"][0]["reason"],
        "prénoms relus sur la carte d'identité"
    );
    assert_eq!(
        h["versions"][1]["traits"]["first_names"],
        "DOMINIQUE MARIE-LOUISE"
    );

    // INSi: one identity (traits exactly), none, several (none picked).
    let q = |name: &str, first: &str, date: &str| json!({"by": "traits", "birth_name": name, "first_name": first, "sex": "F", "birth_date": date});
    let found = w.ok(
        "POST",
        "/identity/insi",
        Some(q("pat-trois", "dominique", "1979-03-28")),
    );
    assert_eq!(found["result"], "found");
    assert_eq!(found["traits"]["first_names"], "DOMINIQUE MARIE-LOUISE");
    assert_eq!(found["ins"]["matricule"], "279035121518989");
    let none = w.ok(
        "POST",
        "/identity/insi",
        Some(q("PAT-TROIS", "DOMINIQUE", "1979-03-29")),
    );
    assert_eq!(none["result"], "not-found");
    assert!(
        none["message"]
            .as_str()
            .unwrap()
            .contains("aucune identité trouvée")
    );
    let mut twins = q("HOMONYME", "CAMILLE", "1984-12-03");
    twins["sex"] = json!("M");
    let several = w.ok("POST", "/identity/insi", Some(twins));
    assert_eq!(several["result"], "several");
    assert!(several.get("ins").is_none() && several.get("traits").is_none());

    // Every read audited.
    assert_eq!(w.audits("read-identity"), 1);
    assert_eq!(w.audits("read-identity-history"), 1);
    assert_eq!(w.audits("insi-lookup"), 3);
    assert_eq!(w.audits("read-fhir"), 3);
    assert_eq!(w.audits("change-identity"), 4);

    // The storage: a write on a stale or future version writes nothing.
    let st = w.s.state.storage();
    let cur = st.identity_versions(w.pa).unwrap().pop().unwrap();
    for after in [3, 5] {
        let v = NewIdentityVersion {
            patient: w.pa,
            after,
            identity: &cur.identity,
            change: "amended",
            reason: Some("test"),
            operator_id: cur.operator_id,
            at: w.s.now(),
        };
        assert_eq!(st.add_identity_version(&v).unwrap(), None, "after {after}");
    }
    assert_eq!(w.versions(), 4);

    // The device's feed holds nothing of the identity.
    let feed = format!("{:?}", st.feed(w.pa, 0, 10_000).unwrap());
    assert!(!feed.contains("PAT-TROIS") && !feed.contains("279035121518989"));
}

#[test]
fn identity_versions_proofs_and_export_on_sqlite() {
    scenario("sqlite::memory:");
}

#[test]
fn identity_versions_proofs_and_export_on_postgresql() {
    scenario(&ilot_testpg::fresh_database("identity"));
}

#[test]
fn a_server_without_insi_answers_503_and_records_no_retrieval() {
    let s = start();
    let dr = login(&s, "dr");
    let r: Value = Client::new()
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .json(&json!({"pseudonym": "PA", "prescription": prescription()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let pa = r["patient_id"].as_str().unwrap();
    let url = |tail: &str| format!("{}/v1/operator/patients/{pa}{tail}", s.url);
    let r = Client::new()
        .put(url("/identity"))
        .bearer_auth(&dr)
        .json(&pat_trois(0))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = Client::new()
        .post(url("/identity/proofs"))
        .bearer_auth(&dr)
        .json(&json!({"expected_version": 1, "proof": "insi-retrieved"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("INSi is not configured"),
        "{v}"
    );
    let id: PatientId = pa.parse().unwrap();
    assert_eq!(s.state.storage().identity_versions(id).unwrap().len(), 1);
}

/// The server's FHIR export of a patient with a qualified identity and readings in three units:
/// the Patient carries the INS. `scripts/test-fhir.sh` sets `ILOT_FHIR_SERVER_OUT` to have this
/// bundle written for the independent validators (tests/fhir).
#[test]
fn the_fhir_export_of_a_qualified_identity_carries_the_ins_for_the_validators() {
    use crate::patient_page::{cgm, patient, push, wire};
    use ilot_domain::{EntryKind, Glucose, GlucoseLevel, GlucoseReading, GlucoseUnit};
    use ilot_domain::{MealContext, ReadingType};
    use ilot_wire::WireOp;

    let s = start_configured(
        "sqlite::memory:",
        &[("dr", CareRole::Physician, "A")],
        |c| c.insi = Connector::test_identities(),
    );
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "PA");
    let at = s.now() - chrono::TimeDelta::hours(3);
    let capillary = |v: f64, u: GlucoseUnit, c: MealContext| {
        EntryKind::Glucose(GlucoseReading::new(
            GlucoseLevel::Value(Glucose::new(v, u).unwrap()),
            ReadingType::Capillary,
            c,
        ))
    };
    push(
        &s,
        &p,
        &[
            wire(1, 1, WireOp::Insert, cgm(142.0), at),
            wire(
                2,
                1,
                WireOp::Insert,
                capillary(1.26, GlucoseUnit::GramsPerLitre, MealContext::Fasting),
                at,
            ),
            wire(
                3,
                1,
                WireOp::Insert,
                capillary(6.1, GlucoseUnit::MmolPerLitre, MealContext::BeforeMeal),
                at,
            ),
        ],
    );
    let url = |tail: &str| format!("{}/v1/operator/patients/{}{tail}", s.url, p.id);
    let send = |m: &str, tail: &str, body: Value| {
        let r = Client::new()
            .request(m.parse().unwrap(), url(tail))
            .bearer_auth(&dr)
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{m} {tail}");
    };
    send("PUT", "/identity", pat_trois(0));
    send(
        "POST",
        "/identity/proofs",
        json!({"expected_version": 1, "proof": "insi-retrieved"}),
    );
    send(
        "POST",
        "/identity/proofs",
        json!({"expected_version": 2, "proof": "document-checked", "document": "passport"}),
    );
    let bundle: Value = Client::new()
        .get(url("/fhir"))
        .bearer_auth(&dr)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let patient = &bundle["entry"][0]["resource"];
    assert!(has_ins(patient), "{patient}");
    let observations = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Observation")
        .count();
    assert_eq!(observations, 3, "{bundle}");
    if let Ok(out) = std::env::var("ILOT_FHIR_SERVER_OUT") {
        std::fs::write(out, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    }
}
