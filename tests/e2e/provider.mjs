// An independent OpenID Connect provider for Portico's end-to-end tests (the npm package
// oidc-provider, not Portico code). Started by tests/e2e/oidc_provider.rs:
//
//   node provider.mjs --redirect-uri http://northwind.localhost:PORT/auth/callback
//
// It listens on 127.0.0.1 (a free port), prints one JSON line {"issuer": "..."} on stdout when
// ready, and exits when stdin closes (so a dying test never leaves it behind).
//
// Clients:
//   portico  confidential (client_secret_basic, secret from PORTICO_E2E_CLIENT_SECRET), the
//            portal's browser sign-in; redirect URI from --redirect-uri
//   e2e-cli  public (PKCE), redirect http://127.0.0.1/cb: the test plays an API client and gets
//            a JWT access token for the resource urn:portico:api (audience "portico")
// Users: any login name is an account whose subject is that name (dev interactions: any
// password); email claim <login>@e2e.test, verified unless the login starts with "unverified".

import { generateKeyPairSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values } = parseArgs({
  options: { 'redirect-uri': { type: 'string', multiple: true, default: [] } },
});

const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const RESOURCE = 'urn:portico:api';

const configuration = {
  clients: [
    {
      client_id: 'portico',
      client_secret: process.env.PORTICO_E2E_CLIENT_SECRET ?? 'e2e-secret',
      redirect_uris: values['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'e2e-cli',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/cb'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [{ ...key, kid: 'e2e-rsa-1', alg: 'RS256', use: 'sig' }] },
  cookies: { keys: ['portico-e2e-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  pkce: { required: () => true },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@e2e.test`, email_verified: !id.startsWith('unverified') };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== RESOURCE) throw new Error(`unknown resource ${resource}`);
        return {
          scope: 'api',
          audience: 'portico',
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
};

const server = (await import('node:http')).createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, configuration);
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
