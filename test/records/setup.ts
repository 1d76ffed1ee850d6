import type { TestApp } from '../helpers/app.ts';
import { reportsDataset } from './records-app.ts';

/** Creates a dataset through the catalog API and labels it (and, optionally, one field). */
export async function createLabelled(
  t: TestApp,
  token: string,
  id: string,
  classification: 'public' | 'restricted',
  options: { ownerUnit?: string; steward?: string; restrictField?: string } = {},
): Promise<void> {
  const made = await t.request('POST', '/v1/datasets', {
    token,
    json: reportsDataset(id, options.ownerUnit ?? '32', options.steward),
  });
  if (made.status !== 201) throw new Error(`create ${id}: ${made.status} ${made.text}`);
  const labelled = await t.request('PUT', `/v1/datasets/${id}/label`, { token, json: { classification } });
  if (labelled.status !== 200) throw new Error(`label ${id}: ${labelled.status} ${labelled.text}`);
  if (options.restrictField) {
    const f = await t.request('PUT', `/v1/datasets/${id}/fields/${options.restrictField}/label`, {
      token,
      json: { classification: 'restricted' },
    });
    if (f.status !== 200) throw new Error(`label field: ${f.status} ${f.text}`);
  }
}
