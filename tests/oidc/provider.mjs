// A real OpenID provider (the certified `oidc-provider` package) on
// loopback, for Debrief's sign-in tests. Its accounts are the ones below;
// its development login form takes any password. The test can ask it to
// spoil the next ID token it hands out: POST /test/spoil?kind=forged
// (re-signed with a key that is not the provider's) or kind=expired (the
// provider's own signature, expired an hour ago).
//
// PORT, CLIENT_ID, CLIENT_SECRET and REDIRECT_URI come from the environment.
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

const accounts = {
  'ada@acme.test': { name: 'Ada Admin', groups: ['debrief-admins', 'Payments'] },
  'max@acme.test': { name: 'Max Member', groups: ['engineering'] },
  'vic@acme.test': { name: 'Vic Viewer', groups: [] },
  'eve@elsewhere.test': { name: 'Eve Outsider', groups: ['debrief-admins'] },
  'gone@acme.test': { name: 'Gone Person', groups: ['engineering'] },
};

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
const { privateKey: strangerKey } = await jose.generateKeyPair('RS256');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  jwks: { keys: [signingJwk] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // The scopes' claims go into the ID token itself.
  conformIdTokenClaims: false,
  cookies: { keys: ['debrief-test-cookies'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, name: account.name, groups: account.groups };
      },
    };
  },
});
provider.on('server_error', (ctx, error) => console.error('provider error', error));

let spoil = 'none';

async function spoiled(idToken, kind) {
  const claims = jose.decodeJwt(idToken);
  if (kind === 'expired') {
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ ...claims, iat: now - 7200, exp: now - 3600 })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .sign(privateKey);
  }
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .sign(strangerKey);
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && spoil !== 'none' && ctx.body && ctx.body.id_token) {
    const kind = spoil;
    spoil = 'none';
    ctx.body = { ...ctx.body, id_token: await spoiled(ctx.body.id_token, kind) };
  }
});

const handle = provider.callback();
http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/test/spoil')) {
    spoil = new URL(req.url, issuer).searchParams.get('kind') || 'none';
    res.end('ok');
    return;
  }
  handle(req, res);
}).listen(port, '127.0.0.1', () => console.log(`oidc provider ready at ${issuer}`));
