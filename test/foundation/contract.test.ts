import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RequestOptions, type TestApp, type TestResponse } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { token } from '../policy/harness.ts';
import { decision, EXEMPTION } from '../catalog/catalog-app.ts';

type Json = Record<string, any>;

/**
 * The served OpenAPI document as a contract: every response of the walk below must have a
 * documented status, a documented media type, a body valid against its schema, and only documented
 * X-Jaga / X-Decision headers; every query parameter sent must be documented. The walk must call
 * every operation in the document, so a new route without a walk step fails here.
 */
class Contract {
  readonly called = new Set<string>();
  readonly problems: string[] = [];
  private readonly ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  private readonly validators = new Map<object, ValidateFunction>();
  private readonly routes: { method: string; template: string; pattern: RegExp; op: Json }[] = [];

  private readonly doc: Json;
  constructor(doc: Json) {
    this.doc = doc;
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replaceAll('.', '\\.')}$`);
      for (const [method, op] of Object.entries(item as Json)) {
        this.routes.push({ method: method.toUpperCase(), template, pattern, op: op as Json });
      }
    }
  }

  operations(): string[] {
    return this.routes.map((r) => `${r.method} ${r.template}`);
  }

  private resolve(schema: Json): Json {
    const text = JSON.stringify(schema).replaceAll(
      '{"$ref":"#/components/schemas/Problem"}',
      JSON.stringify(this.doc.components.schemas.Problem),
    );
    return JSON.parse(text) as Json;
  }

  private validator(schema: Json): ValidateFunction {
    let v = this.validators.get(schema);
    if (!v) {
      v = this.ajv.compile(this.resolve(schema));
      this.validators.set(schema, v);
    }
    return v;
  }

  check(method: string, url: string, res: TestResponse): void {
    const [path, query = ''] = url.split('?');
    const route = this.routes.find((r) => r.method === method && r.pattern.test(path!));
    const where = `${method} ${url} → ${res.status}`;
    if (!route) {
      this.problems.push(`${where}: no operation in the document`);
      return;
    }
    this.called.add(`${route.method} ${route.template}`);
    const params = (route.op.parameters ?? []) as Json[];
    const freeForm = params.some((p) => p.in === 'query' && p.style === 'form' && p.schema?.type === 'object');
    for (const name of new URLSearchParams(query).keys()) {
      if (!freeForm && !params.some((p) => p.in === 'query' && p.name === name)) {
        this.problems.push(`${where}: query parameter ${name} is not documented`);
      }
    }
    const responses = route.op.responses as Json;
    const spec = (responses[String(res.status)] ??
      responses[`${String(res.status)[0]}XX`] ??
      (res.status >= 500 ? responses.default : undefined)) as Json | undefined;
    if (!spec) {
      this.problems.push(`${where}: status not documented`);
      return;
    }
    for (const [name] of res.headers) {
      if (/^(x-jaga-|x-decision-|x-next-cursor|jaga-)/i.test(name)) {
        const documented = Object.keys((spec.headers ?? {}) as Json).some((h) => h.toLowerCase() === name);
        if (!documented) this.problems.push(`${where}: header ${name} is not documented`);
      }
    }
    if (res.status === 204 || res.text === '') return;
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const content = spec.content as Json | undefined;
    const media = content?.[mediaType] as Json | undefined;
    if (!media) {
      this.problems.push(`${where}: media type ${mediaType} not documented (${Object.keys(content ?? {}).join(', ')})`);
      return;
    }
    if (!media.schema || !/[/+]json$/.test(mediaType)) return;
    const validate = this.validator(media.schema as Json);
    if (!validate(res.body)) {
      this.problems.push(`${where}: body does not match: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}`);
    }
  }
}

const METRICS_TOKEN = 'contract-metrics-token-0123456789abcdef';

describe.each(databaseKinds())('the OpenAPI document holds for every operation on %s', (kind) => {
  let t: TestApp;
  let contract: Contract;
  const tokens: Record<string, string> = {};

  async function call(method: string, url: string, opts: RequestOptions = {}): Promise<TestResponse> {
    const res = await t.request(method, url, opts);
    contract.check(method, url, res);
    return res;
  }

  beforeAll(async () => {
    // Metrics on (with a token) and short-lived streams, so that every operation can be called and answered.
    t = await startApp(kind, {
      METRICS_ENABLED: 'true',
      METRICS_TOKEN: METRICS_TOKEN,
      AUDIT_STREAM_MAX_MS: '300',
      AUDIT_STREAM_POLL_MS: '50',
    });
    contract = new Contract((await t.request('GET', '/openapi.json')).body as Json);
    tokens.steward = await token({ sub: 'siti', roles: ['steward'], unit: '32', purposes: ['pengawasan'] });
    tokens.ppid = await token({ sub: 'ppid-32', roles: ['ppid'], unit: '32' });
    tokens.staff = await token({ sub: 'andi', roles: ['staff'], unit: '32', purposes: ['pengawasan'] });
    tokens.auditor = await token({ sub: 'rina', roles: ['auditor'], unit: 'RI' });
    tokens.admin = await token({ sub: 'admin', roles: ['admin'], unit: 'RI' });
  });
  afterAll(() => t?.close());

  it('walks every operation; each answer matches the document', async () => {
    const { steward, ppid, staff, auditor, admin } = tokens as Record<string, string>;
    const fields = [
      { name: 'report_no', type: 'string' },
      { name: 'reporter_name', type: 'string', personalData: 'name' },
      { name: 'reporter_nik', type: 'string', personalData: 'nik' },
    ];
    // System and identity.
    await call('GET', '/');
    await call('GET', '/', { headers: { accept: 'text/html' } });
    await call('GET', '/metrics', { token: METRICS_TOKEN });
    await call('GET', '/metrics');
    await call('GET', '/healthz');
    await call('GET', '/readyz');
    await call('GET', '/openapi.json');
    await call('GET', '/docs');
    await call('GET', '/docs/assets/init.js');
    await call('GET', '/docs/assets/swagger-ui.css');
    await call('GET', '/docs/assets/nope.js');
    await call('GET', '/v1/me', { token: staff });
    await call('GET', '/v1/me');
    // Catalog: units, datasets, labels.
    await call('GET', '/v1/units?under=32');
    await call('POST', '/v1/units', { token: admin, json: { code: '32.79', name: 'Kota Contoh', parent: '32' } });
    await call('POST', '/v1/datasets', { token: staff, json: { id: 'x', title: 'x', ownerUnit: '32', fields } });
    await call('POST', '/v1/datasets', {
      token: steward,
      json: { id: 'laporan', title: 'Laporan pelanggaran', ownerUnit: '32', fields },
    });
    await call('POST', '/v1/datasets', {
      token: steward,
      json: { id: 'laporan', title: 'again', ownerUnit: '32', fields },
    });
    await call('POST', '/v1/datasets', {
      token: steward,
      json: { id: 'identitas', title: 'Identitas pelapor', ownerUnit: '32', fields },
    });
    await call('POST', '/v1/datasets', {
      token: steward,
      json: { id: 'saksi', title: 'Saksi', ownerUnit: '32', fields },
    });
    await call('POST', '/v1/datasets', {
      token: steward,
      json: { id: 'bad id!', title: '', ownerUnit: '32', fields: [] },
    });
    const created = await call('GET', '/v1/datasets/laporan', { token: steward });
    await call('PATCH', '/v1/datasets/laporan', {
      token: steward,
      json: { description: 'Laporan dugaan pelanggaran' },
      headers: { 'if-match': created.headers.get('etag') ?? '' },
    });
    await call('PATCH', '/v1/datasets/laporan', { token: steward, json: { description: 'no if-match' } });
    await call('PUT', '/v1/datasets/laporan/label', { token: steward, json: { classification: 'public' } });
    await call('PUT', '/v1/datasets/laporan/fields/report_no/label', {
      token: steward,
      json: { classification: 'restricted', justification: 'internal numbering' },
    });
    await call('PUT', '/v1/datasets/identitas/label', { token: steward, json: EXEMPTION });
    await call('PUT', '/v1/datasets/saksi/label', { token: steward, json: EXEMPTION });
    await call('PUT', '/v1/datasets/saksi/label', { token: steward, json: { classification: 'secret' } });
    await call('POST', '/v1/datasets/identitas/label/approve', { token: ppid, json: { decisionRef: 'KEP/32/1' } });
    await call('POST', '/v1/datasets/identitas/label/approve', { token: ppid, json: decision() });
    await call('POST', '/v1/datasets/saksi/label/reject', { token: ppid, json: { justification: 'no harm shown' } });
    await call('POST', '/v1/datasets/saksi/label/approve', { token: steward, json: { decisionRef: 'KEP/32/2' } });
    await call('GET', '/v1/datasets/laporan/labels', { token: steward });
    // Field exemptions go through the PPID like dataset ones.
    await call('PUT', '/v1/datasets/laporan/fields/reporter_name/label', { token: steward, json: EXEMPTION });
    await call('POST', '/v1/datasets/laporan/fields/reporter_name/label/reject', { token: ppid, json: {} });
    await call('PUT', '/v1/datasets/laporan/fields/reporter_nik/label', { token: steward, json: EXEMPTION });
    await call('POST', '/v1/datasets/laporan/fields/reporter_nik/label/approve', { token: ppid, json: {} });
    await call('POST', '/v1/datasets/laporan/fields/reporter_nik/label/approve', { token: ppid, json: decision() });
    // The PPID lets the field's exemption be shared with another agency under a statute (agreements).
    await call('PUT', '/v1/datasets/laporan/fields/reporter_nik/label/sharing', {
      token: ppid,
      json: { shareableUnder: ['UU 7/2017 pasal 93'], justification: 'Gakkumdu handles election crimes under it.' },
    });
    await call('PUT', '/v1/datasets/laporan/fields/reporter_nik/label/sharing', {
      token: steward,
      json: { shareableUnder: [] },
    });
    await call('PUT', '/v1/datasets/laporan/fields/report_no/label/sharing', {
      token: ppid,
      json: { shareableUnder: [] },
    });
    // Specific personal data opened under UU 14/2008 art. 18(2): proposed with its basis, approved by a PPID.
    await call('POST', '/v1/datasets', {
      token: steward,
      json: {
        id: 'calon',
        title: 'Calon anggota DPRD',
        ownerUnit: '32',
        fields: [
          { name: 'nama', type: 'string' },
          { name: 'status_hukum', type: 'string', personalData: 'criminal_record' },
        ],
      },
    });
    await call('PUT', '/v1/datasets/calon/label', { token: steward, json: { classification: 'public' } });
    await call('PUT', '/v1/datasets/calon/fields/status_hukum/label', {
      token: steward,
      json: {
        classification: 'public',
        declassification: {
          article: '18(2)',
          basis: 'public_office',
          reference: 'UU 7/2017 pasal 182 huruf g',
          justification: 'Status mantan terpidana calon wajib diumumkan.',
        },
      },
    });
    const opened = await call('POST', '/v1/datasets/calon/fields/status_hukum/label/approve', {
      token: ppid,
      json: decision(),
    });
    expect(opened.status).toBe(200);
    await call('GET', '/v1/datasets/calon/labels', { token: steward });
    await call('POST', '/v1/registers/public/determinations', {
      token: ppid,
      json: { ref: 'KEP-PPID/32/2026/13', date: '2026-12-01' },
    });
    await call('POST', '/v1/registers/public/determinations', { token: staff, json: { ref: 'x', date: '2026-12-01' } });
    // The register of processing purposes.
    await call('POST', '/v1/purposes', {
      token: ppid,
      json: { id: 'pengawasan', description: 'Pengawasan pemilu (election supervision)', lawfulBasis: 'public_task' },
    });
    await call('POST', '/v1/purposes', { token: ppid, json: { id: 'x', description: 'x', lawfulBasis: 'whim' } });
    await call('PATCH', '/v1/purposes/pengawasan', { token: ppid, json: { recipients: ['Bawaslu RI'] } });
    await call('GET', '/v1/purposes', { token: ppid });
    await call('GET', '/v1/registers/processing', { token: auditor });
    await call('GET', '/v1/registers/processing', { token: auditor, headers: { accept: 'text/csv' } });
    await call('GET', '/v1/datasets?limit=2', { token: staff });
    await call('GET', '/v1/datasets?classification=public');
    await call('GET', '/v1/datasets?limit=0');
    await call('GET', '/v1/datasets/nope');
    await call('GET', '/v1/registers/public');
    await call('GET', '/v1/registers/public', { headers: { accept: 'text/csv' } });
    await call('GET', '/v1/registers/exempt');
    await call('GET', '/v1/registers/overdue-reviews', { token: ppid });
    await call('GET', '/v1/registers/overdue-reviews');
    // Records.
    await call('POST', '/v1/datasets/laporan/records', {
      token: steward,
      json: [
        { report_no: '001/PL/32/2024', reporter_name: 'Budi', reporter_nik: '3201011501900001' },
        { report_no: '002/PL/32/2024', reporter_name: 'Sari', reporter_nik: '3201015501900002' },
      ],
    });
    await call('POST', '/v1/datasets/laporan/records', { token: steward, json: [{ nope: 1 }] });
    await call('POST', '/v1/datasets/laporan/records', {
      token: steward,
      body: 'report_no\n003/PL/32/2024\n',
      headers: { 'content-type': 'text/csv' },
    });
    const page = await call('GET', '/v1/datasets/laporan/records?limit=1', {
      token: staff,
      headers: { 'x-purpose': 'pengawasan' },
    });
    expect(page.status).toBe(200);
    await call('GET', `/v1/datasets/laporan/records?limit=1&cursor=${encodeURIComponent(page.body.nextCursor)}`, {
      token: staff,
      headers: { 'x-purpose': 'pengawasan' },
    });
    await call('GET', '/v1/datasets/laporan/records?reporter_name=Budi', { token: steward });
    await call('GET', '/v1/datasets/laporan/records', { token: staff, headers: { accept: 'text/csv' } });
    await call('GET', '/v1/datasets/laporan/records?limit=1', { headers: { accept: 'application/x-ndjson' } });
    await call('GET', '/v1/datasets/laporan/records?limit=abc', { token: staff });
    await call('GET', '/v1/datasets/identitas/records');
    // Personal-data detection.
    await call('POST', '/v1/datasets/laporan/scan', { token: steward });
    await call('POST', '/v1/datasets/laporan/scan', { token: staff });
    await call('GET', '/v1/datasets/laporan/suggestions', { token: steward });
    await call('POST', '/v1/datasets/laporan/fields/reporter_nik/suggestion/accept', { token: steward });
    await call('POST', '/v1/datasets/laporan/fields/reporter_name/suggestion/reject', { token: steward });
    await call('POST', '/v1/datasets/laporan/fields/reporter_name/suggestion/reject', { token: steward });
    await call('GET', '/v1/public/datasets');
    await call('GET', '/v1/public/datasets/laporan/records?limit=5');
    await call('GET', '/v1/public/datasets/identitas/records');
    // Data-sharing agreements: a partner's service reads the restricted dataset under one.
    await call('PUT', '/v1/datasets/saksi/label', { token: steward, json: { classification: 'restricted' } });
    const agreement = {
      title: 'PKS Bawaslu–KPU',
      reference: 'PKS/01/2026',
      recipient: { agency: 'Komisi Pemilihan Umum', principals: ['kpu-sync'] },
      legalBasis: 'UU 7/2017 pasal 93',
      purposes: ['verifikasi'],
      datasets: [{ id: 'saksi', fields: { report_no: 'whole', reporter_nik: { coverage: 'masked', exempt: true } } }],
      validFrom: '2026-01-01',
      validTo: '2099-12-31',
      rowsPerDay: 1000,
    };
    const drafted = await call('POST', '/v1/agreements', { token: steward, json: agreement });
    await call('POST', '/v1/agreements', { token: steward, json: { ...agreement, purposes: 'x' } });
    const id = drafted.body.id as string;
    await call('PATCH', `/v1/agreements/${id}`, { token: steward, json: { title: 'PKS Bawaslu–KPU (verifikasi)' } });
    await call('POST', `/v1/agreements/${id}/approve`, { token: steward });
    await call('POST', `/v1/agreements/${id}/approve`, { token: ppid });
    await call('PATCH', `/v1/agreements/${id}`, { token: ppid, json: { publish: true } });
    await call('GET', `/v1/agreements/${id}`, { token: ppid });
    await call('GET', `/v1/agreements/${id}/history`, { token: ppid });
    await call('GET', '/v1/agreements?status=active', { token: ppid });
    await call('GET', '/v1/agreements/nope', { token: ppid });
    const kpu = await token({ sub: 'kpu-sync', roles: ['service'], unit: '32', kind: 'service' });
    await call('GET', '/v1/datasets/saksi/records?limit=5', { token: kpu, headers: { 'x-purpose': 'verifikasi' } });
    await call('GET', '/v1/datasets/saksi/records?limit=5', { token: kpu, headers: { 'x-purpose': 'lain' } });
    await call('POST', '/v1/check', {
      token: kpu,
      json: { action: 'read', resource: { type: 'Dataset', id: 'laporan' }, purpose: 'verifikasi' },
    });
    await call('GET', '/v1/registers/agreements');
    await call('GET', '/v1/agreements/reports/disclosures', { token: auditor });
    await call('GET', '/v1/agreements/reports/expiring?within=30d', { token: ppid });
    await call('GET', '/v1/agreements/reports/unused', { token: ppid, headers: { accept: 'text/csv' } });
    await call('GET', '/v1/agreements/reports/refusals', { token: auditor });
    await call('POST', `/v1/agreements/${id}/suspend`, { token: ppid, json: { note: 'audit' } });
    await call('POST', `/v1/agreements/${id}/revoke`, { token: ppid, json: { note: 'ended' } });
    // Decisions.
    const check = {
      action: 'read',
      resource: { type: 'Dataset', id: 'laporan' },
      fields: ['report_no', 'reporter_nik'],
    };
    await call('POST', '/v1/check', { token: staff, json: check });
    await call('POST', '/v1/check', { json: { ...check, resource: { type: 'Dataset', id: 'identitas' } } });
    await call('POST', '/v1/check', { token: staff, json: { action: 'fly' } });
    await call('POST', '/v1/check', { token: admin, json: { ...check, principal: { sub: 'u', roles: ['staff'] } } });
    await call('POST', '/v1/check/batch', { token: staff, json: { checks: [check, check] } });
    await call('POST', '/v1/check/batch', { token: staff, json: { checks: [] } });
    await call('POST', '/v1/plan', { token: staff, json: { action: 'read', resourceType: 'Dataset' } });
    await call('POST', '/access/v1/evaluation', {
      token: staff,
      json: {
        subject: { type: 'user', id: 'andi' },
        action: { name: 'read' },
        resource: { type: 'Dataset', id: 'laporan' },
      },
    });
    await call('POST', '/access/v1/evaluations', {
      token: staff,
      json: {
        subject: { type: 'user', id: 'andi' },
        action: { name: 'read' },
        evaluations: [
          { resource: { type: 'Dataset', id: 'laporan' } },
          { resource: { type: 'Dataset', id: 'identitas' } },
        ],
      },
    });
    await call('POST', '/v1/admin/policies/reload', { token: admin });
    await call('POST', '/v1/admin/policies/reload', { token: staff });
    // Audit.
    await call('GET', '/v1/audit/decisions?dataset=laporan&limit=5', { token: auditor });
    await call('GET', '/v1/audit/decisions?event=disclosure', { token: auditor, headers: { accept: 'text/csv' } });
    await call('GET', '/v1/audit/decisions?limit=2', { token: auditor, headers: { accept: 'application/x-ndjson' } });
    await call('GET', '/v1/audit/decisions', { token: staff });
    await call('GET', '/v1/audit/decisions');
    await call('GET', '/v1/audit/stream?after=0', { token: auditor });
    await call('GET', '/v1/audit/stream?after=0', { token: auditor, headers: { accept: 'text/event-stream' } });
    await call('GET', '/v1/audit/stream');
    await call('GET', '/v1/audit/verify', { token: auditor });
    await call('GET', '/v1/audit/verify?from=genesis', { token: auditor });
    const job = await call('POST', '/v1/audit/verify/jobs', { token: auditor });
    await call('GET', `/v1/audit/verify/jobs/${job.body.id}`, { token: auditor });
    await call('GET', '/v1/audit/verify/jobs/00000000-0000-4000-8000-000000000000', { token: auditor });
    await call('POST', '/v1/audit/verify/jobs', { token: staff });
    await call('GET', '/v1/audit/checkpoint', { token: auditor });
    await call('GET', '/v1/audit/reports/disclosures?period=day', { token: auditor });
    // Keyset pages (the walk's log holds one group: the pages themselves are walked in test/audit/scale.test.ts).
    await call('GET', '/v1/audit/reports/disclosures?limit=1', { token: auditor, headers: { accept: 'text/csv' } });
    await call('GET', '/v1/audit/reports/disclosures?cursor=bm90LWEtY3Vyc29y', { token: auditor });
    await call('GET', '/v1/audit/reports/denied', { token: ppid });
    await call('GET', '/v1/audit/reports/disclosures.svg', { token: auditor });
    await call('GET', '/v1/audit/reports/openness', { token: auditor });
    await call('GET', '/v1/audit/reports/openness?part=grounds', { token: auditor, headers: { accept: 'text/csv' } });

    expect(contract.problems).toEqual([]);
    const uncalled = contract.operations().filter((op) => !contract.called.has(op));
    expect(uncalled, 'operations the walk never called: add a step').toEqual([]);
  });
});
