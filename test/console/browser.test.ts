import { AxeBuilder } from '@axe-core/playwright';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealSession, sessionKey } from '../../src/console/session.ts';
import { createNodeServer } from '../../src/http/node-server.ts';
import { createLogger } from '../../src/system/logger.ts';
import { registerPurposes, startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { freePort } from '../helpers/process.ts';
import { principals, tokenFor } from '../catalog/catalog-app.ts';
import { CLIENT, startOidcProvider } from './oidc-provider.ts';

/** Debian's chromium (`.ci/run` installs it with apt-get); nothing here downloads a browser. */
const CHROMIUM = process.env.JAGA_CHROMIUM ?? '/usr/bin/chromium';
const SESSION_SECRET = 'console-session-secret-for-the-browser-suite-0123';

let browser: Browser;

beforeAll(async () => {
  // Fail loudly, never skip: a missing browser is a broken CI, not a passing suite.
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
});

/** axe-core on the page as it is now: no serious or critical violation. */
async function accessible(page: Page): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  expect(result.passes.length, 'axe ran its checks').toBeGreaterThan(10);
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${page.url()}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
  expect(bad).toEqual([]);
}

/** Where the suite leaves screenshots of the main pages (a few are shown in docs/console.md). */
const SHOTS = process.env.JAGA_SCREENSHOTS ?? join(tmpdir(), 'jaga-console-screenshots');
mkdirSync(SHOTS, { recursive: true });
async function shot(page: Page, name: string, kind: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${kind}-${name}.png`), fullPage: true });
}

/** The text of what the locator finds, once it is there. */
async function text(locator: Locator): Promise<string> {
  await locator.first().waitFor();
  return locator.first().innerText();
}

/** Signs in through the identity provider's own login and consent pages; ends back in the console. */
async function signIn(page: Page, base: string, who: string, next: string): Promise<void> {
  await page.goto(`${base}${next}`);
  expect(page.url()).toContain('/console/sign-in');
  await accessible(page);
  await page.getByRole('link', { name: /penyedia identitas|identity provider/ }).click();
  await page.locator('input[name=login]').fill(who);
  await page.locator('input[name=password]').fill('any password');
  await page.locator('button[type=submit]').click();
  await page.locator('button[type=submit]').click(); // consent
  await page.waitForURL(`${base}${next}**`);
}

describe.each(databaseKinds())('the console in Chromium (%s)', (kind) => {
  let t: TestApp;
  let server: Server;
  let base: string;
  let closeIdp: () => Promise<void>;
  let issuer: string;
  const contexts: BrowserContext[] = [];
  let who: Awaited<ReturnType<typeof principals>>;

  const context = async (options: Parameters<Browser['newContext']>[0] = {}) => {
    const ctx = await browser.newContext({ locale: 'id-ID', acceptDownloads: true, ...options });
    contexts.push(ctx);
    return ctx;
  };

  // A fresh database, an identity provider and the catalog: slow on a loaded shared machine.
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const idp = await startOidcProvider([`${base}/console/auth/callback`], {
      postLogoutRedirectUris: [`${base}/console`],
    });
    closeIdp = idp.close;
    issuer = idp.issuer;
    t = await startApp(kind, {
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: CLIENT.id,
      OIDC_CLIENT_SECRET: CLIENT.secret,
      SESSION_SECRET,
    });
    server = createNodeServer(t.app.fetch, { hostname: '127.0.0.1', logger: createLogger('silent') });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

    // The catalog, made through the API: an open dataset with records, one to label, one to exempt.
    who = await principals();
    const fields = [
      { name: 'kecamatan', type: 'string' },
      { name: 'jumlah', type: 'integer' },
    ];
    const made = async (id: string, title: string, extra: Record<string, unknown>[] = []) =>
      expect(
        (
          await t.request('POST', '/v1/datasets', {
            token: who.steward32,
            // A summary: the DIP lists a dataset with one (Perki 1/2021).
            json: { id, title, summary: `${title}, per kecamatan`, ownerUnit: '32', fields: [...fields, ...extra] },
          })
        ).status,
      ).toBe(201);
    // The treasurer's name: personal data, so the staff member's read below is a personal-data disclosure.
    await made('anggaran-desa', 'Anggaran desa 2026', [{ name: 'bendahara', type: 'string', personalData: 'name' }]);
    await made('kas-daerah', 'Kas daerah harian');
    await made('penerima-bansos', 'Penerima bantuan sosial', [{ name: 'nik', type: 'string', personalData: 'nik' }]);
    // Contacts declared as no personal data: the steward's CSV upload of phone numbers quarantines the field.
    await made('kontak-pelapor', 'Kontak pelapor', [{ name: 'kontak', type: 'string' }]);
    expect(
      (
        await t.request('PUT', '/v1/datasets/anggaran-desa/label', {
          token: who.steward32,
          json: { classification: 'public' },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await t.request('POST', '/v1/datasets/anggaran-desa/records', {
          token: who.steward32,
          json: [
            { kecamatan: 'Cibinong', jumlah: 10, bendahara: 'Sari Wulandari' },
            { kecamatan: 'Bojonggede', jumlah: 12, bendahara: 'Budi Santoso' },
          ],
        })
      ).status,
    ).toBe(201);
    // A staff member's read for a registered purpose: the personal-data disclosure the auditor will look for.
    await registerPurposes(t, ['pengawasan']);
    const staff = await tokenFor({ sub: 'staff-32', roles: ['staff'], unit: '32', purposes: ['pengawasan'] });
    const read = await t.request('GET', '/v1/datasets/anggaran-desa/records', {
      token: staff,
      headers: { 'x-purpose': 'pengawasan' },
    });
    expect(read.status).toBe(200);
    expect(read.headers.get('x-jaga-fields-masked')).toContain('bendahara');
  }, 180_000);

  afterAll(async () => {
    for (const ctx of contexts) await ctx.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await closeIdp?.();
    await t?.close();
  });

  it('shows the public the registers and the open data, and nothing restricted', { timeout: 120_000 }, async () => {
    const page = await (await context()).newPage();
    await page.goto(`${base}/console/registers/public`);
    expect(await page.locator('html').getAttribute('lang')).toBe('id');
    const dip = await page.locator('main').innerText();
    expect(dip).toContain('Daftar Informasi Publik');
    expect(dip).toContain('anggaran-desa');
    expect(dip).not.toContain('kas-daerah');
    expect(dip).not.toContain('penerima-bansos');
    await accessible(page);
    await shot(page, 'register-public', kind);
    await page.goto(`${base}/console/open-data`);
    expect(await page.locator('main').innerText()).toContain('anggaran-desa');
    await accessible(page);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /anggaran-desa/ }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain('Cibinong');
    await page.goto(`${base}/console/registers/exempt`);
    await accessible(page);
    // A signed-in page sends the public to sign in.
    await page.goto(`${base}/console/datasets`);
    expect(page.url()).toContain('/console/sign-in?reason=required');
  });

  it('renders the pages in English when the browser prefers it, and by choice', { timeout: 120_000 }, async () => {
    const page = await (await context({ locale: 'en-GB' })).newPage();
    await page.goto(`${base}/console`);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('h1').innerText()).toBe('Jaga console');
    await accessible(page);
    await page.getByRole('link', { name: 'Bahasa Indonesia' }).click();
    expect(await page.locator('html').getAttribute('lang')).toBe('id');
    expect(await page.locator('h1').innerText()).toBe('Konsol Jaga');
  });

  it(
    'lets a steward sign in, label a dataset and propose an exemption; refuses a form without its CSRF token',
    { timeout: 120_000 },
    async () => {
      const ctx = await context();
      const page = await ctx.newPage();
      // Errors in the console's own pages (a CSP refusal, a script failing) are failures; the provider's pages are not ours.
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && page.url().startsWith(`${base}/console`)) errors.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
      await signIn(page, base, 'steward-32', '/console/datasets');
      expect(await page.locator('main').innerText()).toContain('kas-daerah');
      await accessible(page);
      // The filters (enhanced by htmx, plain GET without it): search narrows the list, in SQL.
      await page.locator('#search').fill('kas');
      await page.getByRole('button', { name: 'Terapkan' }).click();
      await page.waitForURL(/search=kas/);
      await page.locator('#results').waitFor();
      expect(await page.locator('#results').innerText()).not.toContain('anggaran-desa');
      expect(await page.locator('#results').innerText()).toContain('kas-daerah');
      expect(await page.evaluate(() => typeof (globalThis as { htmx?: unknown }).htmx)).toBe('object');
      await page.goto(`${base}/console/me`);
      expect(await page.locator('#principal').innerText()).toContain('steward-32');
      await accessible(page);

      await page.goto(`${base}/console/datasets/kas-daerah`);
      await accessible(page);
      await page.locator('#classification').selectOption('restricted');
      await page.locator('#justification').fill('Data keuangan internal.');
      await page.getByRole('button', { name: 'Simpan label', exact: true }).click();
      expect(await text(page.locator('.notice'))).toContain('Label disimpan');
      expect(await page.locator('#classification-now').innerText()).toBe('Terbatas');

      await page.goto(`${base}/console/datasets/penerima-bansos`);
      await page.locator('#classification').selectOption('exempt');
      await page.locator('#ground-17h').check();
      await page.locator('#subject').fill('NIK penerima bantuan sosial');
      await page.locator('#harm').fill('Membuka NIK penerima mengungkap rahasia pribadi mereka.');
      await page.locator('#protectedInterest').fill('Data pribadi penerima');
      await page.locator('#publicInterest').fill('Kepentingan publik terlayani oleh statistik agregat penerima.');
      await page.locator('#balance').fill('Statistik dibuka penuh; hanya NIK yang ditutup dari publik.');
      await page.locator('#conclusion').fill('NIK penerima dikecualikan.');
      await page.locator('#timing').selectOption('before_request');
      await page.locator('#testRecordNo').fill('UK/32/2026/3');
      await page.locator('#testDate').fill(new Date().toISOString().slice(0, 10));
      await page.locator('#participants').fill('PPID Bawaslu Provinsi\nKepala Divisi Hukum');
      await page.locator('#periodUntil').fill('2036-12-31');
      await page.locator('#reviewBy').fill(new Date(Date.now() + 180 * 86_400_000).toISOString().slice(0, 10));
      await page.locator('#justification').fill('Berisi NIK penerima.');
      await page.getByRole('button', { name: 'Simpan label', exact: true }).click();
      expect(await text(page.locator('.notice'))).toContain('menunggu persetujuan PPID');
      expect(await page.locator('.timeline').innerText()).toContain('proposal');
      await accessible(page);
      await shot(page, 'dataset', kind);

      expect(errors).toEqual([]);
      // CSRF: a same-origin post without the session's token, and a cross-site post with it, are both refused.
      const status = await page.evaluate(async () => {
        const r = await fetch('/console/datasets/kas-daerah/label', {
          method: 'POST',
          body: new URLSearchParams({ classification: 'public' }),
        });
        return r.status;
      });
      expect(status).toBe(403);
      const token = await page.locator('input[name=_csrf]').first().inputValue();
      const crossSite = await ctx.request.post(`${base}/console/datasets/kas-daerah/label`, {
        form: { classification: 'public', _csrf: token },
        headers: { origin: 'https://evil.example' },
        maxRedirects: 0,
      });
      expect(crossSite.status()).toBe(403);
      const still = await t.request('GET', '/v1/datasets/kas-daerah', { token: who.steward32 });
      expect(still.body.classification).toBe('restricted');
    },
  );

  it(
    'lets a steward upload a CSV with progress, see the quarantine it causes and accept the suggestion; then sign out of the provider too',
    { timeout: 120_000 },
    async () => {
      const ctx = await context();
      const page = await ctx.newPage();
      // Script errors and CSP refusals fail the test; a refused upload's 422 is expected, not an error of ours.
      const errors: string[] = [];
      page.on('console', (m) => {
        if (
          m.type() === 'error' &&
          page.url().startsWith(`${base}/console`) &&
          !/Failed to load resource/.test(m.text())
        )
          errors.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
      await signIn(page, base, 'steward-32', '/console/datasets/kontak-pelapor');
      const csv = (rows: string[]) => ({
        name: 'kontak.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(['kecamatan,jumlah,kontak', ...rows].join('\n') + '\n'),
      });
      await page
        .locator('#upload-file')
        .setInputFiles(csv(['Cibinong,1,081234567890', 'Bojonggede,2,085712345678', 'Citeureup,3,081398765432']));
      await page.getByRole('button', { name: 'Unggah' }).click();
      // The script sends the file and shows its progress; the answer replaces #upload-result in place.
      expect(await text(page.locator('#upload-result #rows-accepted'))).toBe('3');
      expect(page.url()).toBe(`${base}/console/datasets/kontak-pelapor`);
      expect(await page.locator('#upload-progress-box').isVisible()).toBe(true);
      expect(await page.locator('#upload-progress').evaluate((el) => (el as unknown as { value: number }).value)).toBe(
        100,
      );
      expect(await text(page.locator('#upload-quarantine'))).toContain('kontak');
      await accessible(page);
      await shot(page, 'upload', kind);
      // A refused upload: nothing stored, the refusal counted.
      await page.locator('#upload-file').setInputFiles(csv(['Cibinong,banyak,081234567890']));
      await page.getByRole('button', { name: 'Unggah' }).click();
      await page.locator('#upload-result #rows-refused').filter({ hasText: '1' }).waitFor();
      expect(await page.locator('#upload-result').innerText()).toContain('Tidak ada yang disimpan');

      // Without scripts the form posts as multipart and the answer is a page of its own.
      const plain = await browser.newContext({ locale: 'id-ID', javaScriptEnabled: false });
      contexts.push(plain);
      await plain.addCookies(await ctx.cookies(`${base}/console`));
      const noScript = await plain.newPage();
      await noScript.goto(`${base}/console/datasets/kontak-pelapor`);
      await noScript.locator('#upload-file').setInputFiles(csv(['Cileungsi,4,081234567891']));
      await noScript.getByRole('button', { name: 'Unggah' }).click();
      await noScript.waitForURL(`${base}/console/datasets/kontak-pelapor/records`);
      expect(await text(noScript.locator('#rows-accepted'))).toBe('1');
      // (axe needs scripts to run: the result's markup is checked in the scripted page above.)

      // The list's filters: quarantined and open suggestions, in SQL.
      await page.goto(`${base}/console/datasets?state=quarantined`);
      expect(await page.locator('#results').innerText()).toContain('kontak-pelapor');
      expect(await page.locator('#results').innerText()).not.toContain('kas-daerah');
      await page.locator('#state').selectOption('suggestions');
      await page.getByRole('button', { name: 'Terapkan' }).click();
      await page.waitForURL(/state=suggestions/);
      expect(await text(page.locator('#results'))).toContain('kontak-pelapor');

      await page.goto(`${base}/console/quarantine`);
      expect(await text(page.locator('#quarantine'))).toContain('kontak-pelapor');
      await accessible(page);
      await shot(page, 'quarantine', kind);
      await page.getByRole('link', { name: 'Buka saran' }).first().click();
      expect(await text(page.locator('#suggestions'))).toContain('phone');
      expect(await page.locator('#suggestions').innerText()).not.toContain('081234567890');
      await accessible(page);
      await shot(page, 'suggestions', kind);
      const open = page.locator('section.suggestion', { hasText: 'kontak' });
      await open.locator('input[name=justification]').fill('Nomor HP pelapor.');
      await open.getByRole('button', { name: 'Terima' }).click();
      expect(await text(page.locator('.notice'))).toContain('Saran diterima');
      expect(await page.locator('#suggestions').innerText()).toContain('Diterima');
      await page.goto(`${base}/console/quarantine`);
      expect(await page.locator('main').innerText()).toContain('Tidak ada kolom yang dikarantina');
      const field = (await t.request('GET', '/v1/datasets/kontak-pelapor', { token: who.steward32 })).body.fields.find(
        (f: { name: string }) => f.name === 'kontak',
      );
      expect(field).toMatchObject({ personalData: 'phone', provenance: 'confirmed', quarantined: false });
      expect(errors).toEqual([]);

      // RP-initiated logout: the provider's discovery names an end_session_endpoint, so its session ends too.
      await page.getByRole('button', { name: 'Keluar' }).click();
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.waitForURL(`${base}/console`);
      await page.goto(`${base}/console/me`);
      expect(page.url()).toContain('/console/sign-in?reason=required');
      // Signing in again asks for the password: the provider forgot the person.
      await page.getByRole('link', { name: /penyedia identitas/ }).click();
      await page.locator('input[name=login]').waitFor();
    },
  );

  it('lets a PPID approve the exemption, which then shows in the exempt register', { timeout: 120_000 }, async () => {
    const page = await (await context()).newPage();
    await signIn(page, base, 'ppid-32', '/console/ppid/queue');
    const queue = page.locator('section.proposal', { hasText: 'penerima-bansos' });
    expect(await text(queue)).toContain('steward-32');
    await accessible(page);
    await shot(page, 'ppid-queue', kind);
    await queue.locator('input[name=decisionRef]').fill('KEP-PPID/7/2026');
    await queue.locator('input[name=decisionDate]').fill(new Date().toISOString().slice(0, 10));
    await queue.locator('input[name=decisionPlace]').fill('Bandung');
    await queue.locator('input[name=agreedByName]').fill('Ketua Bawaslu Provinsi Jawa Barat');
    await queue.locator('input[name=agreedByPosition]').fill('Ketua');
    await queue.locator('textarea[name=justification]').fill('Uji konsekuensi memadai.');
    await queue.getByRole('button', { name: 'Setujui' }).click();
    expect(await text(page.locator('.notice'))).toContain('disetujui');
    await page.goto(`${base}/console/registers/exempt`);
    expect(await page.locator('main').innerText()).toContain('penerima-bansos');
    await accessible(page);
  });

  it(
    'lets an auditor find the staff member’s read, export it as CSV, see the disclosures chart and verify the chain',
    { timeout: 120_000 },
    async () => {
      const page = await (await context()).newPage();
      await signIn(page, base, 'auditor-32', '/console/audit');
      await page.locator('#principal').fill('staff-32');
      await page.locator('#event').selectOption('disclosure');
      await page.getByRole('button', { name: 'Cari' }).click();
      const rows = page.locator('main table tbody tr');
      expect(await text(rows.first())).toContain('staff-32');
      expect(await text(rows.first())).toContain('anggaran-desa');
      await accessible(page);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Ekspor CSV' }).click(),
      ]);
      const csv = readFileSync((await download.path())!, 'utf8');
      expect(csv).toContain('staff-32');
      expect(csv).toContain('disclosure');

      await page.goto(`${base}/console/audit/disclosures`);
      const chart = await page
        .locator('figure img')
        .evaluate(
          (img) =>
            (img as unknown as { complete: boolean; naturalWidth: number }).complete &&
            (img as unknown as { naturalWidth: number }).naturalWidth > 0,
        );
      expect(chart).toBe(true);
      expect(await page.locator('main table').innerText()).toContain('staff-32');
      await accessible(page);
      await shot(page, 'disclosures', kind);
      await page.goto(`${base}/console/audit/denied`);
      await accessible(page);
      await page.goto(`${base}/console/audit/verify`);
      await page.getByRole('button', { name: 'Verifikasi sekarang' }).click();
      expect(await text(page.locator('#verify-result'))).toContain('Rantai utuh');
      await accessible(page);
      const [checkpoint] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Unduh checkpoint' }).click(),
      ]);
      expect(JSON.parse(readFileSync((await checkpoint.path())!, 'utf8'))).toHaveProperty('hash');
      await page.goto(`${base}/console/policies`);
      expect(await page.locator('main').innerText()).toContain('auditor.dataset.read-unit');
      await accessible(page);
    },
  );

  it(
    'sends an expired session to sign in, and refuses an ID token whose claims a bearer token could not carry',
    { timeout: 120_000 },
    async () => {
      const ctx = await context();
      const key = await sessionKey(SESSION_SECRET);
      const expired = await sealSession(
        key,
        {
          principal: { sub: 'steward-32', kind: 'user', roles: ['steward'], unit: '32', purposes: [] },
          csrf: 'x'.repeat(32),
          via: 'oidc',
        },
        -60,
      );
      await ctx.addCookies([{ name: 'jaga_session', value: expired, url: `${base}/console` }]);
      const page = await ctx.newPage();
      await page.goto(`${base}/console/me`);
      expect(page.url()).toContain('/console/sign-in?reason=expired');
      expect(await text(page.locator('main'))).toContain('Sesi Anda berakhir');

      await page.getByRole('link', { name: /penyedia identitas/ }).click();
      await page.locator('input[name=login]').fill('stranger-1');
      await page.locator('input[name=password]').fill('any password');
      await page.locator('button[type=submit]').click();
      await page.locator('button[type=submit]').click();
      await page.waitForURL(`${base}/console/auth/callback**`);
      expect(await text(page.locator('main'))).toContain('unknown role');
      expect((await ctx.cookies(base)).some((c) => c.name === 'jaga_session' && c.value !== expired)).toBe(false);
    },
  );
  it(
    'shows the auditor the sign-ins, the refused sign-in and the sign-outs in the audit search, never a token',
    { timeout: 120_000 },
    async () => {
      const page = await (await context()).newPage();
      await signIn(page, base, 'auditor-32', '/console/audit?action=sign_in&principal=steward-32');
      const rows = page.locator('main table tbody tr');
      expect(await text(rows.first())).toContain('steward-32');
      expect(await rows.first().innerText()).toContain('oidc');
      expect(await rows.first().innerText()).toContain(issuer);
      await accessible(page);
      await page.goto(`${base}/console/audit?action=sign_in&effect=deny`);
      expect(await text(rows.first())).toContain('stranger-1');
      expect(await rows.first().innerText()).toContain('unknown role');
      await page.goto(`${base}/console/audit?action=sign_out&principal=steward-32`);
      expect(await text(rows.first())).toContain('providerLogout');
      expect(await rows.first().innerText()).toContain('true');
      const log = await t.request('GET', '/v1/audit/decisions?limit=1000', { token: who.auditor32 });
      expect(JSON.stringify(log.body)).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    },
  );
});
