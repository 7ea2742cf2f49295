//! The bundle's `Patient`: the pseudonym always, and the INS only when the identity is
//! *qualifiée* ([`Identity::exportable_ins`]), as the INS référentiel and fr-core's
//! `FRCorePatientINSProfile` require ("the INS can only be conveyed for a qualified identity").
//!
//! With a qualified identity the Patient claims `fr-core-patient-ins` and carries the
//! `INS-NIR`/`INS-NIA` identifier slice (type from fr-core's `fr-core-cs-v2-0203`, system the
//! matricule's OID as a `urn:oid:`, `use` official) and the strict traits: the birth name
//! (`name.family`, `use` official), the first names at birth (`given`, and the whole list in the
//! `fr-core-patient-birth-list-given-name` extension), sex and date of birth; the INSEE code of
//! the place of birth in the `patient-birthPlace` extension. Traits go out exactly as stored.

use serde_json::{Value, json};

use crate::ins::{Identity, InsAuthority, InsSex};

use super::ans;

/// fr-core's profile of a Patient carrying a qualified INS.
pub const FR_CORE_PATIENT_INS: &str =
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins";
/// fr-core's identifier types (INS-NIR, INS-NIA…).
pub const FR_CORE_ID_TYPE: &str = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203";
const BIRTH_LIST_GIVEN: &str =
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name";
const BIRTH_PLACE: &str = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace";
const INSEE_CODE: &str =
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code";
pub(super) const PSEUDONYM: &str = "urn:ilot:pseudonym";

/// The identifier type code of an INS authority (the OID tells real from test matricules).
pub fn ins_type(a: InsAuthority) -> &'static str {
    match a {
        InsAuthority::Nir | InsAuthority::NirTest => "INS-NIR",
        InsAuthority::Nia | InsAuthority::NiaTest => "INS-NIA",
    }
}

/// The Patient resource (without `id`), from the pseudonym and, when known, the identity.
pub fn resource(pseudonym: &str, identity: Option<&Identity>) -> Value {
    let pseudo = json!({ "system": PSEUDONYM, "value": pseudonym });
    let (Some(id), Some(ins)) = (identity, identity.and_then(Identity::exportable_ins)) else {
        return json!({
            "resourceType": "Patient",
            "meta": { "profile": [ans::FR_CORE_PATIENT] },
            "identifier": [pseudo],
        });
    };
    let t = &id.traits;
    let first = t.first_names.split(' ').next().unwrap_or(&t.first_names);
    json!({
        "resourceType": "Patient",
        "meta": { "profile": [FR_CORE_PATIENT_INS] },
        "extension": [{
            "url": BIRTH_PLACE,
            "valueAddress": {
                "extension": [{ "url": INSEE_CODE, "valueCoding": { "code": t.birth_place } }]
            }
        }],
        "identifier": [
            {
                "use": "official",
                "type": { "coding": [{ "system": FR_CORE_ID_TYPE, "code": ins_type(ins.authority) }] },
                "system": format!("urn:oid:{}", ins.authority.oid()),
                "value": ins.matricule.as_str(),
            },
            pseudo,
        ],
        "name": [{
            "extension": [{ "url": BIRTH_LIST_GIVEN, "valueString": t.first_names }],
            "use": "official",
            "family": t.birth_name,
            "given": [first],
        }],
        "gender": match t.sex { InsSex::Male => "male", InsSex::Female => "female" },
        "birthDate": t.birth_date.format("%Y-%m-%d").to_string(),
    })
}
