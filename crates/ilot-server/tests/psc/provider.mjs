// A real OpenID provider on this machine, configured like Pro Santé Connect, for ilot-server's
// tests (tests/it/psc.rs) and the console's e2e (console/e2e/psc.mjs). It is node-oidc-provider
// (npm `oidc-provider`, OpenID Certified), not a hand-written fake: discovery, JWKS, the
// authorisation code flow with PKCE (required, S256), the token endpoint refusing a replayed
// code, ID tokens and userinfo signed RS256 (PSC answers the userinfo as a JWT).
//
// PSC's shape: scopes `openid scope_all`; claims SubjectNameID (the national id: 8 + RPPS),
// SubjectRefPro, given_name, family_name, preferred_username; acr `eidas1` (CPS card, e-CPS).
// The login page asks the national id as PSC's does, and the account's means give the acr.
//
// Test identities (national ids in the RPPS test range 997…):
//   899700000001  Marie MARTIN, e-CPS (eidas1)
//   899700000002  Paul DURAND, e-CPS (eidas1)          (linked to no Ilot operator in the tests)
//   899700000003  Anne PETIT, authenticated at a lower level (acr eidas0)
//   899700000009  Luc MOREAU, e-CPS; the fixture re-signs this identity's ID token for another
//                 audience with the provider's own key: a conforming provider never issues one,
//                 and the relying party must refuse it (the only answer altered here).
//
// Env: PSC_CLIENT_ID, PSC_CLIENT_SECRET, PSC_REDIRECT_URIS (comma-separated), PSC_PORT (default
// 0: any free port). Prints one JSON line {"issuer": "..."} on stdout once it listens.

import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';

export const ACCOUNTS = {
  899700000001: { given_name: 'Marie', family_name: 'MARTIN', acr: 'eidas1', profession: '10' },
  899700000002: { given_name: 'Paul', family_name: 'DURAND', acr: 'eidas1', profession: '10' },
  899700000003: { given_name: 'Anne', family_name: 'PETIT', acr: 'eidas0', profession: '60' },
  899700000009: { given_name: 'Luc', family_name: 'MOREAU', acr: 'eidas1', profession: '10' },
};
const WRONG_AUDIENCE = '899700000009';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`provider.mjs: ${name} is not set`);
  return v;
};
const clientId = env('PSC_CLIENT_ID');
const clientSecret = env('PSC_CLIENT_SECRET');
const redirectUris = env('PSC_REDIRECT_URIS').split(',');

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'psc-test-1', alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((r) => server.listen(Number(env('PSC_PORT', '0')), '127.0.0.1', r));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      userinfo_signed_response_alg: 'RS256',
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'scope_all'],
  claims: {
    openid: ['sub'],
    scope_all: ['SubjectNameID', 'SubjectRefPro', 'given_name', 'family_name', 'preferred_username'],
  },
  // eidas0 is listed so that the lower-level test identity can be answered; PSC gives eidas1.
  acrValues: ['eidas1', 'eidas0'],
  features: {
    devInteractions: { enabled: false },
    jwtUserinfo: { enabled: true },
    revocation: { enabled: false },
  },
  pkce: { required: () => true },
  ttl: {
    AccessToken: 300,
    AuthorizationCode: 60,
    // Short, as PSC's: the relying party's "expired" check is tested by moving its clock.
    IdToken: 120,
    Interaction: 600,
    Session: 600,
    Grant: 600,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    const a = ACCOUNTS[id];
    if (!a) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          SubjectNameID: id,
          preferred_username: id,
          given_name: a.given_name,
          family_name: a.family_name,
          SubjectRefPro: {
            codeCivilite: 'DR',
            exercices: [{ codeProfession: a.profession, nomDexercice: a.family_name, prenomDexercice: a.given_name }],
          },
        };
      },
    };
  },
});

// The one altered answer: the wrong-audience identity's ID token, re-signed by the provider's key.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
    const claims = decodeJwt(ctx.body.id_token);
    // node-oidc-provider makes the account id the subject.
    if (claims.sub === WRONG_AUDIENCE) {
      ctx.body.id_token = await new SignJWT({ ...claims, aud: 'another-service' })
        .setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid })
        .sign(privateKey);
    }
  }
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(uid, error = '') {
  return `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Pro Santé Connect (fournisseur de test)</title></head>
<body><main>
<h1>Pro Santé Connect (fournisseur de test)</h1>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="national-id">Identifiant national</label>
<input id="national-id" name="id" autocomplete="off" inputmode="numeric">
<button type="submit">Se connecter avec e-CPS</button>
</form>
</main></body></html>`;
}

async function form(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, login) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (!login || req.method !== 'POST') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(page(uid));
    return;
  }
  const id = (await form(req)).get('id')?.trim() ?? '';
  const account = ACCOUNTS[id];
  if (!account) {
    res.statusCode = 400;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(page(uid, 'Identifiant national inconnu'));
    return;
  }
  const grant = new provider.Grant({ accountId: id, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: id, acr: account.acr, amr: ['pop'] }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(new URL(req.url, issuer).pathname);
  if (!m) return callback(req, res);
  interaction(req, res, m[1], Boolean(m[2])).catch((e) => {
    res.statusCode = 500;
    res.end(`interaction failed: ${e.message}`);
  });
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
