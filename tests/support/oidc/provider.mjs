// A real OpenID Connect provider for the single sign-on tests: panva's certified
// oidc-provider, with discovery, the authorization code flow (PKCE required), the token,
// userinfo and JWKS endpoints and RP-initiated logout, on 127.0.0.1.
//
//   node provider.mjs CONFIG.json
//
// CONFIG.json: {"port": 0, "clients": [...client metadata...], "accounts": "accounts.json"}.
// The accounts file maps each person's `sub`, which is also what they type as their login, to
// their claims, and is read again at every look-up, so a test can change a person's e-mail at
// the provider between two log-ins. Anyone may log in
// with any password through the provider's own development login form (devInteractions):
// the tests are about the relying party, not about the provider's password check.
// Prints "listening <issuer>" once it serves.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function account(id) {
  const accounts = JSON.parse(readFileSync(config.accounts, 'utf8'));
  return Object.hasOwn(accounts, id) ? accounts[id] : undefined;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

const server = createServer();
server.listen(config.port || 0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    async findAccount(ctx, id) {
      const found = account(id);
      if (!found) return undefined;
      return {
        accountId: id,
        async claims() {
          return { ...found, sub: id };
        },
      };
    },
    // A first-party provider: the person is not asked to consent to the client's scopes.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (ctx, error) => console.error(error));
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});
