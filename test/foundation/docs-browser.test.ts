import { serve, type ServerType } from '@hono/node-server';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/process.ts';
import { token } from '../policy/harness.ts';

/** Debian's chromium (`.ci/run` installs it with apt-get); a missing browser fails the suite, it is never skipped. */
const CHROMIUM = process.env.JAGA_CHROMIUM ?? '/usr/bin/chromium';

describe('the API reference in a real browser (Chromium)', () => {
  let t: TestApp;
  let server: ServerType;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
    t = await startApp('pglite');
    const port = await freePort();
    server = serve({ fetch: t.app.fetch, port, hostname: '127.0.0.1' });
    base = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await t?.close();
  });

  it('renders every operation under the CSP, and Try it out sends a call with the pasted token', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => (m.type() === 'error' ? problems.push(m.text()) : undefined));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => (r.status() >= 400 ? problems.push(`${r.status()} ${r.url()}`) : undefined));
    await page.goto(`${base}/docs`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const document = (await t.request('GET', '/openapi.json')).body as { paths: Record<string, object> };
    const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(await page.locator('.opblock').count()).toBe(operations);

    // Authorize with a bearer token, then call GET /v1/me from the page.
    const staff = await token({ sub: 'andi', roles: ['staff'], unit: '32' });
    await page.click('button.authorize');
    await page.fill('.modal-ux input', staff);
    await page.click('.modal-ux button.authorize');
    await page.click('.modal-ux button.close-modal');
    await page.click('#operations-identity-getMe .opblock-summary');
    await page.click('#operations-identity-getMe button.try-out__btn');
    await page.click('#operations-identity-getMe button.execute');
    const body = page.locator('#operations-identity-getMe .live-responses-table .response-col_description pre');
    await expect.poll(async () => body.first().textContent(), { timeout: 15_000 }).toContain('"sub": "andi"');
    expect(problems).toEqual([]);
    await page.close();
  });
});
