"""Checks Ilot's FHIR exports with validators Ilot did not write.

    python validate.py COLLECTION.json FEED.ndjson

1. Every resource, and every bundle, parses as FHIR R4 (4.0.1) with `fhir.resources` (PyPI):
   types, cardinalities, choice types, primitive formats, and no unknown element.
2. Every element the ANS "Mesures de santé" guide (ans.fhir.fr.mesures 3.1.0) requires or fixes
   for glucose (`MesObservationGlucose` on the `vitalsigns` base, `MesOriginOfData`,
   `MesMomentOfMeasurement`, `MesNumberOfDays`), for the feed bundle (`MesBundleFluxAlimentation`)
   and for the resources they point to (`PhdDevice`, fr-core-patient) is checked with FHIRPath
   (`fhirpathpy`, PyPI); references must resolve inside their bundle.
3. mg/dL values converted from g/L or mmol/L equal the value as given times 100 or 18.016,
   digit for digit (the JSON is read as decimals, never floats).
4. Negative controls: each ANS rule broken on purpose must be reported, and a resource broken for
   R4 must be refused by fhir.resources; otherwise these checks prove nothing.
"""

import copy
import json
import re
import sys
from decimal import Decimal

import fhirpathpy
from fhir.resources import __fhir_version__, get_fhir_model_class
from fhirpathpy.models import models

IG = "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition"
GLUCOSE = f"{IG}/mesures-observation-glucose"
FLUX = f"{IG}/mesures-bundle-flux-alimentation"
ORIGIN = f"{IG}/mesures-origin-of-data"
MOMENT = f"{IG}/mesures-moment-of-measurement"
DAYS = f"{IG}/mesures-number-of-days"
PHD = "http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice"
FR_PATIENT = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"
FR_PATIENT_INS = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"
FR_ID_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
INS_OIDS = ("urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.9", "urn:oid:1.2.250.1.213.1.4.10", "urn:oid:1.2.250.1.213.1.4.11")
UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Value sets (NOS): JDV_J154 TypeGlucose, J163 GlucoseUnits, J157 MomentGlucose, J164 NumberOfDays.
J154 = "(code.coding.where(system = 'http://loinc.org' and (code = '2345-7' or code = '99504-3' or code = '4548-4')).exists() or code.coding.where(code = 'MED-972').exists())"
J157 = "('16915-1' | '53049-3' | '88365-2' | 'LA11865-5' | 'LA46-8' | 'A05')"
J164 = "('GEN-275' | 'GEN-276' | 'GEN-277' | 'GEN-278' | 'GEN-092.08.05')"

# (rule, FHIRPath that must be true) for every Observation claiming MesObservationGlucose.
GLUCOSE_RULES = [
    ("meta.profile is the ANS glucose profile", f"meta.profile contains '{GLUCOSE}'"),
    ("status exists", "status.exists()"),
    ("category VSCat: observation-category#vital-signs, display 'vital-signs'",
     "category.coding.where(system = 'http://terminology.hl7.org/CodeSystem/observation-category' and code = 'vital-signs' and display = 'vital-signs').exists()"),
    ("code from JDV_J154 (extensible: at least one coding)", J154),
    ("code.coding: system and code", "code.coding.exists() and code.coding.all(system.exists() and code.exists())"),
    ("subject (vitalsigns 1..1)", "subject.exists()"),
    ("effective[x] only dateTime, at least a day (vs-1)",
     "effective.exists() and (effective is dateTime) and effective.toString().length() >= 10"),
    ("value[x] only Quantity", "value.empty() or (value is Quantity)"),
    ("valueQuantity: system UCUM", "value.empty() or value.system = 'http://unitsofmeasure.org'"),
    ("valueQuantity.code from JDV_J163 (mg/dL, %)", "value.empty() or value.code in ('mg/dL' | '%')"),
    ("glucose in mg/dL, HbA1c and IGG in %",
     "value.empty() or (code.coding.where(code = '4548-4' or code = 'MED-972').exists() implies value.code = '%') and (code.coding.where(code = '2345-7' or code = '99504-3').exists() implies value.code = 'mg/dL')"),
    ("value or dataAbsentReason (vs-2)",
     "(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or value.exists())"),
    ("dataAbsentReason only without value (obs-6)", "dataAbsentReason.empty() or value.empty()"),
    ("dataAbsentReason.coding: system and code",
     "dataAbsentReason.empty() or (dataAbsentReason.coding.exists() and dataAbsentReason.coding.all(system.exists() and code.exists()))"),
    ("MesOriginOfData at most once", f"extension.where(url = '{ORIGIN}').count() <= 1"),
    ("MesOriginOfData: hasBeenConverted = true, originalCode, originalValue (Quantity)",
     f"extension.where(url = '{ORIGIN}').all(extension.where(url = 'hasBeenConverted').value = true and (extension.where(url = 'originalCode').value is CodeableConcept) and (extension.where(url = 'originalValue').value is Quantity) and extension.where(url = 'originalValue').value.system = 'http://unitsofmeasure.org' and value.empty())"),
    ("MesMomentOfMeasurement: one coding from JDV_J157",
     f"extension.where(url = '{MOMENT}').all(value.coding.count() = 1 and value.coding.system.exists() and value.coding.code in {J157})"),
    ("MesNumberOfDays: a code from JDV_J164",
     f"extension.where(url = '{DAYS}').all(value.coding.count() >= 1 and value.coding.code in {J164})"),
    ("device is a reference", "device.empty() or device.reference.exists()"),
]
DEVICE_RULES = [
    ("meta.profile PhdDevice", f"meta.profile contains '{PHD}'"),
    ("identifier", "identifier.exists() and identifier.all(system.exists() and value.exists())"),
    ("type MDC 65573", "type.coding.where(system = 'urn:iso:std:iso:11073:10101' and code = '65573').exists()"),
]
IS_INS = "(type.coding.code = 'INS-NIR' or type.coding.code = 'INS-NIA')"
PATIENT_RULES = [
    ("meta.profile fr-core-patient or fr-core-patient-ins",
     f"meta.profile contains '{FR_PATIENT}' or meta.profile contains '{FR_PATIENT_INS}'"),
    # fr-core: "the INS can only be conveyed for a qualified identity", hence only under -ins.
    ("an INS identifier exactly when the profile is fr-core-patient-ins",
     f"identifier.where{IS_INS}.exists() = (meta.profile contains '{FR_PATIENT_INS}')"),
    ("INS identifier: use official, fr-core type, an INS OID as urn:oid, 15 characters",
     f"identifier.where{IS_INS}.all(use = 'official' and type.coding.system = '{FR_ID_TYPE}' and "
     f"system in ({' | '.join(repr(o) for o in INS_OIDS)}) and value.length() = 15)"),
    ("INS-NIR on a NIR OID (…4.8 or test …4.10), INS-NIA on a NIA OID (…4.9 or test …4.11)",
     "identifier.where(type.coding.code = 'INS-NIR').all(system = 'urn:oid:1.2.250.1.213.1.4.8' or system = 'urn:oid:1.2.250.1.213.1.4.10') and "
     "identifier.where(type.coding.code = 'INS-NIA').all(system = 'urn:oid:1.2.250.1.213.1.4.9' or system = 'urn:oid:1.2.250.1.213.1.4.11')"),
    ("with the INS, the strict traits: official name (family, given), gender, birthDate",
     f"(meta.profile contains '{FR_PATIENT_INS}') implies (name.where(use = 'official' and family.exists() and given.exists()).exists() and gender.exists() and birthDate.exists())"),
]


def ins_key_failures(patient):
    """The key of every INS matricule, computed here independently: 97 - (13 digits mod 97),
    Corsica's 2A/2B as 19/18."""
    out = []
    for i in patient.get("identifier", []):
        codes = [c.get("code") for c in i.get("type", {}).get("coding", [])]
        if not {"INS-NIR", "INS-NIA"} & set(codes):
            continue
        v = str(i.get("value", ""))
        number = v[:13].replace("2A", "19").replace("2B", "18")
        if len(v) != 15 or not number.isdigit() or not v[13:].isdigit() or 97 - int(number) % 97 != int(v[13:]):
            out.append(f"INS matricule {v!r}: wrong key")
    return out
FEED_RULES = [
    ("meta.profile MesBundleFluxAlimentation", f"meta.profile contains '{FLUX}'"),
    ("type transaction", "type = 'transaction'"),
    ("every entry a POST of its resource type",
     "entry.all(request.method = 'POST' and request.url = resource.resourceType)"),
    ("exactly one Observation (slice mes-observation 1..1)", "entry.where(resource.resourceType = 'Observation').count() = 1"),
    ("at most one Device (slice mes-device 0..1), created conditionally",
     "entry.where(resource.resourceType = 'Device').count() <= 1 and entry.where(resource.resourceType = 'Device').all(request.ifNoneExist.startsWith('identifier='))"),
    ("only Observation and Device", "entry.all(resource.resourceType = 'Observation' or resource.resourceType = 'Device')"),
]
FACTOR = {"g/L": Decimal(100), "mmol/L": Decimal("18.016")}


COMPILED = {}


def fhirpath(resource, rules):
    failures = []
    resource = as_json(resource)
    for name, expr in rules:
        try:
            if expr not in COMPILED:
                # The R4 model resolves choice types (`value` is `valueQuantity`) and `is` tests.
                COMPILED[expr] = fhirpathpy.compile(expr, models["r4"])
            got = COMPILED[expr](resource, {})
        except Exception as e:  # an expression error is a failure, never a pass
            failures.append(f"{name}: FHIRPath error {e}")
            continue
        if got != [True]:
            failures.append(f"{name}: {expr} gave {got}")
    return failures


def references(bundle):
    """Every `reference` in the bundle, with the resource holding it."""
    found = []

    def walk(node, owner):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "reference" and isinstance(v, str):
                    found.append((owner, v))
                else:
                    walk(v, owner)
        elif isinstance(node, list):
            for v in node:
                walk(v, owner)

    for e in bundle.get("entry", []):
        walk(e["resource"], e["resource"])
    return found


def ans_failures(bundle, feed):
    """Every broken ANS rule of `bundle`, as messages."""
    out = []
    by_url = {}
    for i, e in enumerate(bundle.get("entry", [])):
        url = e.get("fullUrl", "")
        if not UUID.match(url):
            out.append(f"entry {i}: fullUrl {url!r} is not a urn:uuid")
        by_url[url] = e["resource"]
    for owner, ref in references(bundle):
        if ref not in by_url:
            out.append(f"{owner['resourceType']} {owner.get('id')}: reference {ref} does not resolve in the bundle")
    if feed:
        out += [f"feed bundle: {f}" for f in fhirpath(bundle, FEED_RULES)]
    elif bundle.get("type") != "collection":
        out.append(f"full export: type {bundle.get('type')!r}, not collection")
    for e in bundle.get("entry", []):
        r = e["resource"]
        where = f"{r['resourceType']} {r.get('id')}"
        if r["resourceType"] == "Observation" and GLUCOSE in r.get("meta", {}).get("profile", []):
            out += [f"{where}: {f}" for f in fhirpath(r, GLUCOSE_RULES)]
            dev = r.get("device", {}).get("reference")
            if dev and by_url.get(dev, {}).get("resourceType") != "Device":
                out.append(f"{where}: device {dev} is no Device of the bundle")
            out += [f"{where}: {f}" for f in exactness(r)]
        elif r["resourceType"] == "Device":
            out += [f"{where}: {f}" for f in fhirpath(r, DEVICE_RULES)]
        elif r["resourceType"] == "Patient":
            out += [f"{where}: {f}" for f in fhirpath(r, PATIENT_RULES)]
            out += [f"{where}: {f}" for f in ins_key_failures(r)]
    return out


def exactness(obs):
    """A converted value must be the given value times the factor, exactly."""
    origin = [x for x in obs.get("extension", []) if x["url"] == ORIGIN]
    if not origin:
        return []
    given = next((x.get("valueQuantity") for x in origin[0].get("extension", []) if x["url"] == "originalValue"), None)
    if not given:
        return ["a converted value without its originalValue"]
    factor = FACTOR.get(given["code"])
    if factor is None:
        return [f"original unit {given['code']!r} is not g/L or mmol/L"]
    want = Decimal(given["value"]) * factor
    got = Decimal(obs["valueQuantity"]["value"])
    return [] if got == want else [f"{given['value']} {given['code']} became {got} mg/dL, not {want}"]


def r4_errors(resource):
    try:
        get_fhir_model_class(resource["resourceType"]).parse_obj(resource)
        return None
    except Exception as e:
        return str(e)


def load(path):
    # Decimals stay decimals: 99.088 is checked as 99.088, not as the nearest binary float.
    with open(path) as f:
        return json.load(f, parse_float=Decimal)


def as_json(value):
    return json.loads(json.dumps(value, default=str), parse_float=float)


def main():
    collection_path, feed_path = sys.argv[1:3]  # and optionally the server's bundle
    assert __fhir_version__ == "4.0.1", f"fhir.resources models FHIR {__fhir_version__}, not R4 4.0.1"
    collection = load(collection_path)
    with open(feed_path) as f:
        feed = [json.loads(l, parse_float=Decimal) for l in f if l.strip()]
    problems = []

    # 1. R4 with fhir.resources: every bundle, every resource.
    n = 0
    for name, b in [("collection", collection)] + [(f"feed {i + 1}", b) for i, b in enumerate(feed)]:
        for what, r in [(name, b)] + [(f"{name} entry {i}", e["resource"]) for i, e in enumerate(b["entry"])]:
            n += 1
            err = r4_errors(as_json(r))
            if err:
                problems.append(f"R4: {what} ({r['resourceType']}): {err}")
    # 2-3. ANS rules and exactness.
    problems += [f"ANS collection: {p}" for p in ans_failures(collection, feed=False)]
    for i, b in enumerate(feed):
        problems += [f"ANS feed {i + 1}: {p}" for p in ans_failures(b, feed=True)]

    # What the test put in must be there (scripts/test-fhir.sh logs these).
    obs = [e["resource"] for e in collection["entry"] if GLUCOSE in e["resource"].get("meta", {}).get("profile", [])]
    interp = lambda o: [c["code"] for i in o.get("interpretation", []) for c in i["coding"]]
    expect = {
        "LO readings": sum("<" in interp(o) for o in obs) >= 1,
        "HI readings": sum(">" in interp(o) for o in obs) >= 1,
        "readings converted from g/L": any(exactness(o) == [] and any(x["url"] == ORIGIN and "g/L" in json.dumps(x, default=str) for x in o.get("extension", [])) for o in obs),
        "readings converted from mmol/L": any(any(x["url"] == ORIGIN and "mmol/L" in json.dumps(x, default=str) for x in o.get("extension", [])) for o in obs),
        "meal contexts": len({x["valueCodeableConcept"]["coding"][0]["code"] for o in obs for x in o.get("extension", []) if x["url"] == MOMENT}) >= 3,
        "CGM readings on a PhdDevice": any(o["code"]["coding"][0]["code"] == "99504-3" and "device" in o for o in obs),
        "meter readings on a PhdDevice": any(o["code"]["coding"][0]["code"] == "2345-7" and "device" in o for o in obs),
        "HbA1c": any(o["code"]["coding"][0]["code"] == "4548-4" for o in obs),
        "a feed bundle per ANS observation": len(feed) == len(obs),
    }
    problems += [f"export lacks {k}" for k, ok in expect.items() if not ok]

    # 4. Negative controls: each breakage must be caught. They break a sample of the collection
    # (its patient, its devices, a converted glucose and a LO), each copy checked in full.
    def pick(pred):
        return next(e for e in collection["entry"] if pred(e["resource"]))

    sample = dict(collection)
    sample["entry"] = [e for e in collection["entry"] if e["resource"]["resourceType"] in ("Patient", "Device")] + [
        pick(lambda r: GLUCOSE in r.get("meta", {}).get("profile", []) and "valueQuantity" in r and any(x["url"] == ORIGIN for x in r.get("extension", [])) and "device" not in r),
        pick(lambda r: "<" in interp(r)),
    ]
    if ans_failures(sample, feed=False):
        problems.append("the negative controls' sample is not valid to begin with")

    def first(pred):
        return next(i for i, e in enumerate(sample["entry"]) if pred(e["resource"]))

    glucose_i = first(lambda r: GLUCOSE in r.get("meta", {}).get("profile", []) and "valueQuantity" in r and any(x["url"] == ORIGIN for x in r.get("extension", [])))
    lo_i = first(lambda r: "<" in interp(r))
    device_i = first(lambda r: r["resourceType"] == "Device")
    breakages = {
        "category removed": lambda b: b["entry"][glucose_i]["resource"].pop("category"),
        "valueQuantity.system changed": lambda b: b["entry"][glucose_i]["resource"]["valueQuantity"].update(system="http://example.org"),
        "mg/dL replaced by mmol/L": lambda b: b["entry"][glucose_i]["resource"]["valueQuantity"].update(code="mmol/L", unit="mmol/L"),
        "a code outside JDV_J154": lambda b: b["entry"][glucose_i]["resource"]["code"].update(coding=[{"system": "http://loinc.org", "code": "15074-8"}]),
        "meta.profile dropped from the Device": lambda b: b["entry"][device_i]["resource"].pop("meta"),
        "originalValue dropped": lambda b: [x for x in b["entry"][glucose_i]["resource"]["extension"] if x["url"] == ORIGIN][0]["extension"].pop(2),
        "converted value off by 0.001": lambda b: b["entry"][glucose_i]["resource"]["valueQuantity"].update(value=Decimal(b["entry"][glucose_i]["resource"]["valueQuantity"]["value"]) + Decimal("0.001")),
        "LO without dataAbsentReason": lambda b: b["entry"][lo_i]["resource"].pop("dataAbsentReason"),
        "a dangling device reference": lambda b: b["entry"][glucose_i]["resource"].update(device={"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}),
        "effective as a period": lambda b: b["entry"][glucose_i]["resource"].update(effectivePeriod={"start": "2026-01-01"}) or b["entry"][glucose_i]["resource"].pop("effectiveDateTime"),
    }
    for name, breakage in breakages.items():
        broken = copy.deepcopy(sample)
        breakage(broken)
        if not ans_failures(broken, feed=False):
            problems.append(f"negative control not caught: {name}")
    broken_feed = copy.deepcopy(feed[0])
    broken_feed["entry"][-1]["request"]["method"] = "PUT"
    if not ans_failures(broken_feed, feed=True):
        problems.append("negative control not caught: feed entry as PUT")
    broken = as_json(sample["entry"][glucose_i]["resource"])
    broken["valueQuantity"]["value"] = "cent vingt-six"
    if r4_errors(broken) is None:
        problems.append("negative control not caught by fhir.resources: a text value")

    # 5. The server's export of a patient whose identity is qualifiée (optional third file,
    # written by the ilot-server test the_fhir_export_of_a_qualified_identity_…).
    server_note = ""
    if len(sys.argv) > 3:
        server = load(sys.argv[3])
        for what, r in [("server bundle", server)] + [(f"server entry {i}", e["resource"]) for i, e in enumerate(server["entry"])]:
            n += 1
            err = r4_errors(as_json(r))
            if err:
                problems.append(f"R4: {what} ({r['resourceType']}): {err}")
        problems += [f"ANS server bundle: {p}" for p in ans_failures(server, feed=False)]
        patient_i = next(i for i, e in enumerate(server["entry"]) if e["resource"]["resourceType"] == "Patient")
        ins = [i for i in server["entry"][patient_i]["resource"].get("identifier", []) if i.get("system") in INS_OIDS]
        if not (len(ins) == 1 and ins[0]["system"] == "urn:oid:1.2.250.1.213.1.4.10"):
            problems.append(f"server bundle: the qualified patient lacks its test INS-NIR identifier: {ins}")
        ins_breakages = {
            "INS under plain fr-core-patient": lambda p: p["meta"].update(profile=[FR_PATIENT]),
            "INS system not an INS OID": lambda p: p["identifier"][0].update(system="urn:oid:1.2.250.1.213.1.4.5"),
            "INS-NIA type on a NIR OID": lambda p: p["identifier"][0]["type"]["coding"][0].update(code="INS-NIA"),
            "INS key off by one": lambda p: p["identifier"][0].update(value=p["identifier"][0]["value"][:13] + "%02d" % ((int(p["identifier"][0]["value"][13:]) % 97) + 1)),
            "INS without birthDate": lambda p: p.pop("birthDate"),
            "fr-core-patient-ins without the INS": lambda p: p["identifier"].pop(0),
        }
        for name, breakage in ins_breakages.items():
            broken = copy.deepcopy(server)
            breakage(broken["entry"][patient_i]["resource"])
            if not ans_failures(broken, feed=False):
                problems.append(f"negative control not caught: {name}")
        server_note = f"; the server bundle's qualified INS checked, {len(ins_breakages)} INS negative controls caught"

    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"fhir: {len(problems)} problems", file=sys.stderr)
        sys.exit(1)
    print(f"fhir: {n} resources valid R4 (fhir.resources {__fhir_version__}); "
          f"{len(obs)} ANS glucose observations and {len(feed)} feed bundles meet the profile rules; "
          f"{len(breakages) + 2} negative controls caught{server_note}")


if __name__ == "__main__":
    main()
