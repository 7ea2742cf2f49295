// The patient's identity (INS) on the server (crates/ilot-server/src/identity.rs): physicians
// only, every read audited. Types mirror the server's JSON (documented in /openapi.json).

import { call } from './api';

export type IdentityStatus = 'provisoire' | 'recuperee' | 'validee' | 'qualifiee';
export type Sex = 'M' | 'F';
export type Document = 'passport' | 'identity-card' | 'residence-permit';
export const DOCUMENTS: readonly Document[] = ['passport', 'identity-card', 'residence-permit'];

export interface Traits {
  birth_name: string;
  first_names: string;
  birth_date: string;
  sex: Sex;
  birth_place: string;
}

export interface InsView {
  matricule: string;
  display: string;
  oid: string;
  authority: 'nir' | 'nia' | 'nir-test' | 'nia-test';
}

export interface IdentityVersion {
  version: number;
  status: IdentityStatus;
  traits: Traits;
  ins: InsView | null;
  exportable: boolean;
  change: string;
  reason: string | null;
  by: string | null;
  at: string;
}

export interface IdentityInput extends Traits {
  expected_version: number;
  matricule: string | null;
  oid: string | null;
  reason: string | null;
}

export type InsiAnswer =
  | { result: 'found'; ins: InsView; traits: Traits }
  | { result: 'not-found' | 'several'; message: string };

export interface InsiByTraits {
  by: 'traits';
  birth_name: string;
  first_name: string;
  sex: Sex;
  birth_date: string;
  birth_place: string | null;
}

const P = (id: string) => `/v1/operator/patients/${encodeURIComponent(id)}/identity`;

export const identityApi = {
  get: (id: string) => call<{ identity: IdentityVersion | null }>('GET', P(id)),
  set: (id: string, input: IdentityInput) =>
    call<{ identity: IdentityVersion; changed: boolean }>('PUT', P(id), input),
  history: (id: string) => call<{ versions: IdentityVersion[] }>('GET', `${P(id)}/history`),
  prove: (id: string, expected_version: number, proof: 'insi-retrieved' | 'document-checked', document: Document | null) =>
    call<{ identity: IdentityVersion }>('POST', `${P(id)}/proofs`, { expected_version, proof, document }),
  insi: (id: string, query: InsiByTraits) => call<InsiAnswer>('POST', `${P(id)}/insi`, query),
};

/** The OIDs a matricule may carry (the domain's `ins::OID_*`). */
export const OIDS = [
  { oid: '1.2.250.1.213.1.4.8', key: 'nir' },
  { oid: '1.2.250.1.213.1.4.9', key: 'nia' },
  { oid: '1.2.250.1.213.1.4.10', key: 'nir-test' },
  { oid: '1.2.250.1.213.1.4.11', key: 'nia-test' },
] as const;
