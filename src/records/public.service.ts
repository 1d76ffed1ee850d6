import type { CatalogService } from '../catalog/catalog.service.ts';
import { DomainError } from '../shared/errors.ts';
import { ANONYMOUS } from '../identity/principal.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import { openDataField } from './read.service.ts';
import type { PublicDataset } from './records.schema.ts';

/** The open-data catalogue: public datasets with the fields the open-data export carries. */
export function createPublicCatalog(deps: {
  catalog: Pick<CatalogService, 'getFieldsForRead' | 'listPublicDatasets'>;
  policy: Pick<PolicyService, 'current'>;
}) {
  return {
    async list(
      cursor: string | undefined,
      limit: number,
    ): Promise<{ items: PublicDataset[]; nextCursor: string | null }> {
      let after: string | null = null;
      if (cursor) {
        after = Buffer.from(cursor, 'base64url').toString('utf8');
        if (!/^[a-z0-9][a-z0-9-]{1,63}$/.test(after)) {
          throw new DomainError('VALIDATION_FAILED', 'The cursor is not valid.', {
            errors: [{ path: 'query.cursor', message: 'not a cursor this API issued' }],
          });
        }
      }
      const rows = await deps.catalog.listPublicDatasets(after, limit + 1);
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const engine = deps.policy.current();
      const items: PublicDataset[] = [];
      for (const row of rows) {
        const read = await deps.catalog.getFieldsForRead(row.id);
        if (
          !read ||
          !engine.decide({ principal: ANONYMOUS, action: 'read', subject: 'Dataset', resource: { ...read.dataset } })
            .allow
        )
          continue;
        const decided = engine.decideFields(ANONYMOUS, read.fields, null);
        const fields = read.fields
          .filter((f, i) => decided[i]!.outcome === 'whole' && openDataField(f))
          .map((f) => ({ name: f.name, type: f.type }));
        items.push({
          id: row.id,
          title: row.title,
          description: row.description,
          ownerUnit: row.owner_unit,
          updatedAt: row.updated_at.toISOString(),
          labelVersion: row.label_version,
          fields,
          records: `/v1/public/datasets/${row.id}/records`,
        });
      }
      return { items, nextCursor: more ? Buffer.from(rows.at(-1)!.id, 'utf8').toString('base64url') : null };
    },
  };
}
export type PublicCatalog = ReturnType<typeof createPublicCatalog>;
