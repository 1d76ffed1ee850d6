import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickLang } from '../../src/console/i18n.ts';
import { sealSession, sessionKey } from '../../src/console/session.ts';
import { safeNext } from '../../src/console/sign-in.ts';
import { startApp, swappable, type TestApp } from '../helpers/app.ts';
import type { AuditLog } from '../../src/audit/audit.port.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { EXEMPTION, principals, tokenFor } from '../catalog/catalog-app.ts';
import { CLIENT, startOidcProvider } from './oidc-provider.ts';

const SESSION_SECRET = 'console-session-secret-in-process-tests-0123456789';
const LOCAL = 'http://localhost';

/** Sends a request to the console as a browser would (same-origin form posts carry Origin). */
async function send(
  t: TestApp,
  method: string,
  url: string,
  init: { cookie?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.cookie) headers.cookie = init.cookie;
  let body: string | undefined;
  if (init.form) {
    body = new URLSearchParams(init.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers.origin ??= new URL(url).origin;
  }
  const res = await t.app.request(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Signs in through the development sign-in; answers the cookie header to send and the page's CSRF token. */
async function devSignIn(t: TestApp, token: string, origin = LOCAL) {
  const r = await send(t, 'POST', `${origin}/console/sign-in/development`, { form: { token, next: '/console/me' } });
  expect(r.status).toBe(303);
  const setCookie = r.headers.get('set-cookie')!;
  const cookie = setCookie.split(';')[0]!;
  const me = await send(t, 'GET', `${origin}/console/me`, { cookie });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(me.text)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, setCookie, csrf: csrf!, me };
}

describe('console helpers', () => {
  it('picks Bahasa Indonesia unless English is chosen or preferred', () => {
    expect(pickLang(undefined, undefined)).toBe('id');
    expect(pickLang(undefined, 'en-US,en;q=0.9')).toBe('en');
    expect(pickLang(undefined, 'fr-FR, en;q=0.5')).toBe('en');
    expect(pickLang(undefined, 'id-ID, en;q=0.9')).toBe('id');
    expect(pickLang(undefined, 'en;q=0.4, id;q=0.8')).toBe('id');
    expect(pickLang(undefined, 'de, fr')).toBe('id');
    expect(pickLang('id', 'en')).toBe('id');
    expect(pickLang('en', 'id')).toBe('en');
  });

  it('returns after sign-in only to a page of the console (no open redirect)', () => {
    expect(safeNext('/console/datasets?state=pending')).toBe('/console/datasets?state=pending');
    for (const bad of [
      '//evil.example',
      'https://evil.example/console',
      '/console//evil.example',
      '/consoleevil',
      '/v1/me',
      undefined,
    ]) {
      expect(safeNext(bad)).toBe('/console/me');
    }
  });
});

describe.each(databaseKinds())('console in-process (%s)', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;

  beforeAll(async () => {
    t = await startApp(kind, { SESSION_SECRET });
    who = await principals();
    for (const id of ['kas-daerah', 'dana-hibah']) {
      expect(
        (
          await t.request('POST', '/v1/datasets', {
            token: who.steward32,
            json: { id, title: `Data ${id}`, ownerUnit: '32', fields: [{ name: 'jumlah', type: 'integer' }] },
          })
        ).status,
      ).toBe(201);
    }
  });
  afterAll(() => t?.close());

  it('sets the session cookie HttpOnly, SameSite=Lax, scoped to /console, with an expiry; Secure except on plain http to the loopback', async () => {
    const local = await devSignIn(t, who.steward32);
    expect(local.setCookie).toMatch(/HttpOnly/);
    expect(local.setCookie).toMatch(/SameSite=Lax/);
    expect(local.setCookie).toMatch(/Path=\/console/);
    expect(local.setCookie).toMatch(/Max-Age=28800/);
    expect(local.setCookie).not.toMatch(/Secure/);
    expect(local.me.text).toContain('steward-32');
    expect(local.me.headers.get('cache-control')).toBe('no-store');
    const remote = await devSignIn(t, who.steward32, 'https://jaga.example.go.id');
    expect(remote.setCookie).toMatch(/Secure/);
    const proxied = await send(t, 'POST', 'http://jaga.example.go.id/console/sign-in/development', {
      form: { token: who.steward32 },
    });
    expect(proxied.headers.get('set-cookie')).toMatch(/Secure/);
  });

  it('refuses a tampered cookie, or one sealed with another key, or an expired one: the page sends to sign in', async () => {
    const { cookie } = await devSignIn(t, who.steward32);
    const value = cookie.split('=')[1]!;
    const flipped = value.slice(0, -3) + (value.at(-3) === 'A' ? 'B' : 'A') + value.slice(-2);
    const other = await sealSession(
      await sessionKey('another-secret-another-secret-another-secret'),
      {
        principal: { sub: 'admin-1', kind: 'user', roles: ['admin'], unit: 'RI', purposes: [] },
        csrf: 'c'.repeat(32),
        via: 'oidc',
      },
      600,
    );
    const expired = await sealSession(
      await sessionKey(SESSION_SECRET),
      {
        principal: { sub: 'steward-32', kind: 'user', roles: ['steward'], unit: '32', purposes: [] },
        csrf: 'c'.repeat(32),
        via: 'oidc',
      },
      -1,
    );
    for (const bad of [`jaga_session=${flipped}`, `jaga_session=${other}`, `jaga_session=${expired}`]) {
      const r = await send(t, 'GET', `${LOCAL}/console/me`, { cookie: bad });
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toMatch(/^\/console\/sign-in\?reason=expired&next=%2Fconsole%2Fme$/);
    }
    const none = await send(t, 'GET', `${LOCAL}/console/me`);
    expect(none.headers.get('location')).toMatch(/reason=required/);
  });

  it('serves pages under a CSP with no inline script, and only its own assets', async () => {
    for (const path of [
      '/console',
      '/console/registers/public',
      '/console/registers/exempt',
      '/console/open-data',
      '/console/sign-in',
    ]) {
      const r = await send(t, 'GET', `${LOCAL}${path}`);
      expect(r.status, path).toBe(200);
      const csp = r.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(r.text).not.toMatch(/\sstyle=|\son[a-z]+=/);
      for (const [, src] of r.text.matchAll(/(?:src|href)="([^"]+)"/g)) expect(src, path).toMatch(/^(\/console|#)/);
    }
    const htmx = await send(t, 'GET', `${LOCAL}/console/assets/htmx.min.js`);
    expect(htmx.status).toBe(200);
    expect(htmx.text).toContain('htmx');
    expect((await send(t, 'GET', `${LOCAL}/console/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it('offers the development sign-in only with JWT_SECRET and no OIDC_ISSUER, and refuses a bad token without a session', async () => {
    const page = await send(t, 'GET', `${LOCAL}/console/sign-in`);
    expect(page.text).toContain('/console/sign-in/development');
    const bad = await send(t, 'POST', `${LOCAL}/console/sign-in/development`, { form: { token: 'not-a-token' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const withIdp = await startApp('pglite', {
      OIDC_ISSUER: 'https://sso.example.go.id/realms/pemda',
      OIDC_CLIENT_ID: 'jaga-console',
      SESSION_SECRET,
    });
    try {
      const p = await send(withIdp, 'GET', `${LOCAL}/console/sign-in`);
      expect(p.text).not.toContain('/console/sign-in/development');
      expect(p.text).toContain('/console/auth/start');
      const r = await send(withIdp, 'POST', `${LOCAL}/console/sign-in/development`, { form: { token: who.admin } });
      expect(r.status).toBe(404);
      expect(r.headers.get('set-cookie')).toBeNull();
    } finally {
      await withIdp.close();
    }
  });

  it('refuses a form without the session’s CSRF token, and a cross-site one with it', async () => {
    const { cookie, csrf } = await devSignIn(t, who.steward32);
    const form = { classification: 'restricted', version: '1' };
    const missing = await send(t, 'POST', `${LOCAL}/console/datasets/kas-daerah/label`, { cookie, form });
    expect(missing.status).toBe(403);
    const wrong = await send(t, 'POST', `${LOCAL}/console/datasets/kas-daerah/label`, {
      cookie,
      form: { ...form, _csrf: csrf.slice(1) + 'x' },
    });
    expect(wrong.status).toBe(403);
    const crossSite = await send(t, 'POST', `${LOCAL}/console/datasets/kas-daerah/label`, {
      cookie,
      form: { ...form, _csrf: csrf },
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect((await t.request('GET', '/v1/datasets/kas-daerah', { token: who.steward32 })).body.labelStatus).toBe(
      'unlabelled',
    );
    const ok = await send(t, 'POST', `${LOCAL}/console/datasets/kas-daerah/label`, {
      cookie,
      form: { ...form, _csrf: csrf },
    });
    expect(ok.status).toBe(303);
    const fieldLabel = (classification: string) =>
      send(t, 'POST', `${LOCAL}/console/datasets/kas-daerah/field-label`, {
        cookie,
        form: { _csrf: csrf, field: 'jumlah', fieldClassification: classification, fieldJustification: 'Angka.' },
      });
    // The service's own rule answers through the page: a field cannot be laxer than its dataset.
    const laxer = await fieldLabel('public');
    expect(laxer.status).toBe(422);
    expect(laxer.text).toContain('LABEL_NOT_STRICTER');
    expect((await fieldLabel('restricted')).status).toBe(303);
    const read = await t.request('GET', '/v1/datasets/kas-daerah', { token: who.steward32 });
    expect(read.body.fields[0]).toMatchObject({ name: 'jumlah', classification: 'restricted' });
    const after = await t.request('GET', '/v1/datasets/kas-daerah/labels', { token: who.steward32 });
    expect(
      (after.body.items ?? after.body).filter((e: { field: string | null }) => e.field === null).at(-1),
    ).toMatchObject({
      event: 'label',
      to: 'restricted',
      by: { sub: 'steward-32' },
    });
  });

  it('does not let the proposer approve their own exemption from the console', async () => {
    const both = await tokenFor({ sub: 'ppid-steward-32', roles: ['steward', 'ppid'], unit: '32' });
    const proposed = await t.request('PUT', '/v1/datasets/dana-hibah/label', {
      token: both,
      json: { ...EXEMPTION, justification: 'Berisi data pribadi.' },
    });
    expect(proposed.status).toBe(202);
    const { cookie, csrf } = await devSignIn(t, both);
    const queue = await send(t, 'GET', `${LOCAL}/console/ppid/queue`, { cookie });
    expect(queue.text).toContain('dana-hibah');
    expect(queue.text).toContain('Usulan Anda sendiri');
    expect(queue.text).not.toContain('action="/console/ppid/queue/dana-hibah"');
    const r = await send(t, 'POST', `${LOCAL}/console/ppid/queue/dana-hibah`, {
      cookie,
      form: {
        _csrf: csrf,
        decision: 'approve',
        decisionRef: 'X/1',
        decisionDate: '2026-12-01',
        decisionPlace: 'Bandung',
        agreedByName: 'Ketua Bawaslu Provinsi Jawa Barat',
        agreedByPosition: 'Ketua',
      },
    });
    expect(r.status).toBe(403);
    expect((await t.request('GET', '/v1/datasets/dana-hibah', { token: who.ppid32 })).body.labelStatus).toBe('pending');
    // The proposal on the dataset page names its parts as the law does, in the page's language.
    const page = await send(t, 'GET', `${LOCAL}/console/datasets/dana-hibah`, { cookie });
    expect(page.text).toContain('<dt>Uji konsekuensi</dt>');
    expect(page.text).toContain('<dt>Dasar pengecualian (UU 14/2008 Pasal 17)</dt>');
    expect(page.text).not.toMatch(/<dt>(consequenceTest|grounds|reviewBy|provenance)<\/dt>/);
    const english = await send(t, 'GET', `${LOCAL}/console/datasets/dana-hibah`, {
      cookie,
      headers: { 'accept-language': 'en' },
    });
    expect(english.text).toContain('<dt>Consequence test (uji konsekuensi)</dt>');
  });

  it('logs the auditor’s console reads in the audit log, as the API’s', async () => {
    const { cookie } = await devSignIn(t, who.auditor32);
    const page = await send(t, 'GET', `${LOCAL}/console/audit?event=label_change`, { cookie });
    expect(page.status).toBe(200);
    const log = await t.request('GET', '/v1/audit/decisions?event=audit_read&principal=auditor-32', {
      token: who.auditor32,
    });
    expect(log.body.items.some((e: { resource: { id: string } }) => e.resource.id === 'decisions')).toBe(true);
    const steward = await devSignIn(t, who.steward32);
    expect((await send(t, 'GET', `${LOCAL}/console/audit`, { cookie: steward.cookie })).status).toBe(403);
  });

  it('answers the policy playground with the decision and the rules considered, and refuses to ask for others without the right', async () => {
    const { cookie } = await devSignIn(t, who.auditor32);
    const own = await send(t, 'GET', `${LOCAL}/console/playground?action=read&dataset=kas-daerah`, { cookie });
    expect(own.status).toBe(200);
    expect(own.text).toContain('Diizinkan');
    expect(own.text).toContain('auditor.dataset.read-unit');
    const other = await send(
      t,
      'GET',
      `${LOCAL}/console/playground?roles=staff&unit=32&sub=x&action=read&dataset=kas-daerah`,
      { cookie },
    );
    expect(other.status).toBe(403);
    const openness = await send(t, 'GET', `${LOCAL}/console/audit/openness`, { cookie });
    expect(openness.status).toBe(200);
    expect(openness.text).toContain('<th scope="col">restricted</th>');
  });

  it('lists datasets by the new filters of the API, in SQL: pending approval and search', async () => {
    const pending = await t.request('GET', '/v1/datasets?pending=true', { token: who.ppid32 });
    expect(pending.body.items.map((d: { id: string }) => d.id)).toEqual(['dana-hibah']);
    const found = await t.request('GET', '/v1/datasets?search=KAS', { token: who.steward32 });
    expect(found.body.items.map((d: { id: string }) => d.id)).toEqual(['kas-daerah']);
    const literal = await t.request('GET', '/v1/datasets?search=%25', { token: who.steward32 });
    expect(literal.body.items).toEqual([]);
  });
});

describe.each(databaseKinds())('console sign-in audit, sign-out, suggestions and upload in-process (%s)', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  const auditLog = swappable<AuditLog>();

  beforeAll(async () => {
    t = await startApp(kind, { SESSION_SECRET }, { replace: { audit: auditLog.wrap } });
    who = await principals();
    const made = await t.request('POST', '/v1/datasets', {
      token: who.steward32,
      json: {
        id: 'kontak-warga',
        title: 'Kontak warga',
        ownerUnit: '32',
        fields: [
          { name: 'kecamatan', type: 'string' },
          { name: 'kontak', type: 'string' },
        ],
      },
    });
    expect(made.status).toBe(201);
  });
  afterAll(() => t?.close());

  const auditOf = async (query: string) =>
    (await t.request('GET', `/v1/audit/decisions?${query}`, { token: who.auditor32 })).body.items as {
      principal: { sub: string | null };
      effect: string;
      action: string;
      reason: string;
      details: Record<string, unknown>;
    }[];

  it('logs a development sign-in, a refused one and a sign-out in the audit log (how, never the token); the auditor’s search finds them', async () => {
    const { cookie, csrf } = await devSignIn(t, who.steward32);
    const refused = await send(t, 'POST', `${LOCAL}/console/sign-in/development`, { form: { token: 'not-a-token' } });
    expect(refused.status).toBe(401);
    const out = await send(t, 'POST', `${LOCAL}/console/sign-out`, { cookie, form: { _csrf: csrf } });
    expect(out.status).toBe(303);
    // No identity provider: the local session only.
    expect(out.headers.get('location')).toBe('/console');
    expect(out.headers.get('set-cookie')).toMatch(/jaga_session=;/);

    const signIns = await auditOf('action=sign_in');
    const allowed = signIns.find((e) => e.principal.sub === 'steward-32' && e.effect === 'allow');
    expect(allowed).toMatchObject({ details: { via: 'development' }, action: 'sign_in' });
    const denied = signIns.find((e) => e.effect === 'deny');
    expect(denied).toMatchObject({ principal: { sub: null }, details: { via: 'development' } });
    expect(denied!.reason.length).toBeGreaterThan(0);
    const signOuts = await auditOf('action=sign_out&principal=steward-32');
    expect(signOuts[0]).toMatchObject({ effect: 'allow', details: { via: 'development', providerLogout: false } });
    // The token itself is never in the log.
    const everything = JSON.stringify(await auditOf('limit=1000'));
    expect(everything).not.toContain(who.steward32);
    expect(everything).not.toContain(who.steward32.split('.')[2]!);

    const auditor = await devSignIn(t, who.auditor32);
    const page = await send(t, 'GET', `${LOCAL}/console/audit?action=sign_in&effect=deny`, { cookie: auditor.cookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain('sign_in');
    expect(page.text).toContain('development');
  });

  it('gives no session when the audit log cannot take the sign-in (fails closed)', async () => {
    const unavailable = () => Promise.reject(new DomainError('AUDIT_UNAVAILABLE', 'the audit log is down'));
    auditLog.use({ append: unavailable, appendDurable: unavailable, appendWithin: unavailable });
    try {
      const r = await send(t, 'POST', `${LOCAL}/console/sign-in/development`, {
        form: { token: who.steward32, next: '/console/me' },
      });
      expect(r.status).toBe(503);
      expect(r.text).toContain('AUDIT_UNAVAILABLE');
      expect(r.headers.get('set-cookie') ?? '').not.toContain('jaga_session=e');
    } finally {
      auditLog.use(null);
    }
  });

  it('ends the provider’s session too when its discovery has an end_session_endpoint, else the local session only', async () => {
    for (const rp of [true, false]) {
      const idp = await startOidcProvider([`${LOCAL}/console/auth/callback`], {
        postLogoutRedirectUris: [`${LOCAL}/console`],
        rpInitiatedLogout: rp,
      });
      const withIdp = await startApp(kind, {
        OIDC_ISSUER: idp.issuer,
        OIDC_CLIENT_ID: CLIENT.id,
        OIDC_CLIENT_SECRET: CLIENT.secret,
        SESSION_SECRET,
      });
      try {
        const session = await sealSession(
          await sessionKey(SESSION_SECRET),
          {
            principal: { sub: 'steward-32', kind: 'user', roles: ['steward'], unit: '32', purposes: [] },
            csrf: 'k'.repeat(32),
            via: 'oidc',
            idToken: 'an-id-token-from-the-provider',
          },
          600,
        );
        const cookie = `jaga_session=${session}`;
        const out = await send(withIdp, 'POST', `${LOCAL}/console/sign-out`, {
          cookie,
          form: { _csrf: 'k'.repeat(32) },
        });
        expect(out.status).toBe(303);
        expect(out.headers.get('set-cookie')).toMatch(/jaga_session=;/);
        // The sign-out form may lead to the provider: browsers hold a form's redirects to form-action.
        expect(out.headers.get('content-security-policy')).toContain(`form-action 'self' ${idp.issuer}`);
        const location = new URL(out.headers.get('location')!, LOCAL);
        if (rp) {
          const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as {
            end_session_endpoint: string;
          };
          expect(location.href.startsWith(discovery.end_session_endpoint)).toBe(true);
          expect(location.searchParams.get('id_token_hint')).toBe('an-id-token-from-the-provider');
          expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${LOCAL}/console`);
        } else {
          expect(location.href).toBe(`${LOCAL}/console`);
        }
        const logged = await withIdp.request('GET', '/v1/audit/decisions?action=sign_out', { token: who.auditor32 });
        expect(logged.body.items[0]).toMatchObject({
          principal: { sub: 'steward-32' },
          details: { via: 'oidc', issuer: idp.issuer, providerLogout: rp },
        });
        expect(JSON.stringify(logged.body)).not.toContain('an-id-token-from-the-provider');
      } finally {
        await withIdp.close();
        await idp.close();
      }
    }
  });

  it('uploads a CSV through the ingest service (streamed with the CSRF header, or as a plain form), quarantines, lists and decides suggestions', async () => {
    const { cookie, csrf } = await devSignIn(t, who.steward32);
    const datasetPage = await send(t, 'GET', `${LOCAL}/console/datasets/kontak-warga`, { cookie });
    expect(datasetPage.text).toContain('id="upload-file"');
    const csv = 'kecamatan,kontak\nCibinong,081234567890\nBojonggede,085712345678\nCitereup,081398765432\n';
    const streamed = (headers: Record<string, string>) =>
      t.app.request(`${LOCAL}/console/datasets/kontak-warga/records`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'text/csv', ...headers },
        body: csv,
      });
    // Without the session's token in the header: refused, nothing stored.
    expect((await streamed({})).status).toBe(403);
    expect((await streamed({ 'x-jaga-csrf': csrf.slice(1) + 'x' })).status).toBe(403);
    const ok = await streamed({ 'x-jaga-csrf': csrf });
    const page = await ok.text();
    expect(ok.status).toBe(200);
    expect(page).toMatch(/id="rows-accepted">3</);
    expect(page).toMatch(/id="upload-quarantine"[\s\S]*kontak/);

    // The plain form (no script): multipart with _csrf.
    const form = new FormData();
    form.set('_csrf', csrf);
    form.set('file', new File(['kecamatan,kontak\nCileungsi,081234567891\n'], 'b.csv', { type: 'text/csv' }));
    const plain = await t.app.request(`${LOCAL}/console/datasets/kontak-warga/records`, {
      method: 'POST',
      headers: { cookie, origin: LOCAL },
      body: form,
    });
    expect(plain.status).toBe(200);
    expect(await plain.text()).toMatch(/id="rows-accepted">1</);
    // A bad row refuses the whole upload, and the page says how many rows were refused.
    // A second streamed upload adds its rows (uploads are not idempotent).
    expect((await streamed({ 'x-jaga-csrf': csrf })).status).toBe(200);
    const refused = await t.app.request(`${LOCAL}/console/datasets/kontak-warga/records`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'text/csv', 'x-jaga-csrf': csrf },
      body: 'kecamatan,kontak,_unit\nA,081234567890,32\nB,081234567890,zz\nC,081234567890,33\n',
    });
    expect(refused.status).toBe(422);
    const refusedPage = await refused.text();
    expect(refusedPage).toMatch(/id="rows-refused">2</);
    expect(refusedPage).toMatch(/id="rows-accepted">0</);
    expect(refusedPage).toContain('line 3: _unit');
    const records = await t.request('GET', '/v1/datasets/kontak-warga/records?limit=100', { token: who.steward32 });
    expect(records.body.items).toHaveLength(7);

    // The list filters, in SQL, as the API's.
    const quarantined = await t.request('GET', '/v1/datasets?quarantined=true', { token: who.steward32 });
    expect(quarantined.body.items.map((d: { id: string }) => d.id)).toEqual(['kontak-warga']);
    const list = await send(t, 'GET', `${LOCAL}/console/datasets?state=quarantined`, { cookie });
    expect(list.text).toContain('kontak-warga');
    const open = await send(t, 'GET', `${LOCAL}/console/datasets?state=suggestions`, { cookie });
    expect(open.text).toContain('kontak-warga');
    const quarantine = await send(t, 'GET', `${LOCAL}/console/quarantine`, { cookie });
    expect(quarantine.text).toMatch(/id="quarantine"[\s\S]*kontak-warga[\s\S]*kontak/);

    const suggestions = await send(t, 'GET', `${LOCAL}/console/datasets/kontak-warga/suggestions`, { cookie });
    expect(suggestions.text).toContain('phone');
    expect(suggestions.text).not.toContain('081234567890');
    // The new pages in English too, by the browser's preference.
    const english = await send(t, 'GET', `${LOCAL}/console/datasets/kontak-warga/suggestions`, {
      cookie,
      headers: { 'accept-language': 'en-GB,en;q=0.9' },
    });
    expect(english.text).toContain('Personal-data suggestions');
    expect(english.text).toContain('Awaits a decision');
    expect(
      (await send(t, 'GET', `${LOCAL}/console/quarantine`, { cookie, headers: { 'accept-language': 'en' } })).text,
    ).toContain('Quarantined fields');
    // The decision is the detection service's: without the token it is refused; with it the field is settled.
    const noToken = await send(t, 'POST', `${LOCAL}/console/datasets/kontak-warga/suggestions/kontak`, {
      cookie,
      form: { decision: 'accept' },
    });
    expect(noToken.status).toBe(403);
    const accepted = await send(t, 'POST', `${LOCAL}/console/datasets/kontak-warga/suggestions/kontak`, {
      cookie,
      form: { _csrf: csrf, decision: 'accept', justification: 'Nomor HP warga.' },
    });
    expect(accepted.status).toBe(303);
    const field = (await t.request('GET', '/v1/datasets/kontak-warga', { token: who.steward32 })).body.fields[1];
    expect(field).toMatchObject({ name: 'kontak', personalData: 'phone', provenance: 'confirmed', quarantined: false });
    const again = await send(t, 'POST', `${LOCAL}/console/datasets/kontak-warga/suggestions/kontak`, {
      cookie,
      form: { _csrf: csrf, decision: 'reject' },
    });
    expect(again.status).toBe(409);
    expect(again.text).toContain('NO_OPEN_SUGGESTION');
    // A label event in the dataset's history, as the API's accept writes it.
    const history = await t.request('GET', '/v1/datasets/kontak-warga/labels', { token: who.steward32 });
    const events = (history.body.items ?? history.body) as {
      field: string | null;
      suggestion?: { decision: string };
    }[];
    expect(events.some((e) => e.field === 'kontak' && e.suggestion?.decision === 'accepted')).toBe(true);
  });
});

describe.each(databaseKinds())('console report pages at their row limit (%s)', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;

  beforeAll(async () => {
    // Reports hold one row here.
    t = await startApp(kind, { SESSION_SECRET, AUDIT_REPORT_MAX_ROWS: '1' });
    who = await principals();
    // Two principals refused an audit read: two rows of denied attempts.
    for (const token of [who.steward32, await tokenFor({ sub: 'steward-33', roles: ['steward'], unit: '33' })]) {
      expect((await t.request('GET', '/v1/audit/decisions', { token })).status).toBe(403);
    }
  });
  afterAll(() => t?.close());

  it('tells the auditor a report was cut, and says nothing of the kind for a whole one', async () => {
    const { cookie } = await devSignIn(t, who.auditor32);
    const denied = await send(t, 'GET', `${LOCAL}/console/audit/denied`, { cookie });
    expect(denied.status).toBe(200);
    expect(denied.text).toContain('Laporan ini dipotong pada batas barisnya');
    const english = await send(t, 'GET', `${LOCAL}/console/audit/denied`, {
      cookie,
      headers: { 'accept-language': 'en' },
    });
    expect(english.text).toContain('This report was cut at its row limit');
    // No personal-data disclosure here: an empty report is whole.
    const disclosures = await send(t, 'GET', `${LOCAL}/console/audit/disclosures`, { cookie });
    expect(disclosures.status).toBe(200);
    expect(disclosures.text).not.toContain('Laporan ini dipotong');
  });
});
