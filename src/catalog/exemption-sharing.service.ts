import type { Principal } from '../identity/principal.ts';
import { legalBasisKey } from '../shared/legal-basis.ts';
import { DomainError } from '../shared/errors.ts';
import { catalogAccess } from './catalog.access.ts';
import { ensure, visibleDataset, withDenialLogged, type CatalogDeps, type RequestContext } from './catalog.context.ts';
import { bumpLabelVersion, findDataset, findFields } from './catalog.repo.ts';
import type { DatasetView, ExemptionSharing } from './catalog.schema.ts';
import { datasetAttributes, datasetView } from './catalog.view.ts';
import { checkIfMatch } from './dataset-version.ts';
import { openExemption, setExemptionSharing } from './exemptions.repo.ts';
import { labelEvent, recordChange } from './label.service.ts';

/**
 * The legal bases under which a PPID lets a field's exemption in force (its DIK record) be shared
 * with another agency for that agency's legal duty (docs/agreements.md, "Exempt data under an
 * agreement"). A change of the DIK record: only a PPID of the dataset's unit (the policies' `approve`
 * on its label), in one transaction with a label-history row (`sharing`) and an audit entry; the
 * exemptions trigger moves the catalog version, so decisions on every instance learn of it, and
 * records reads read it in their own transaction.
 */
export interface ExemptionSharingService {
  shareFieldExemption(
    p: Principal,
    id: string,
    field: string,
    input: ExemptionSharing,
    ifMatch: string | undefined,
    ctx: RequestContext,
  ): Promise<DatasetView>;
}

export function createExemptionSharingService(deps: CatalogDeps): ExemptionSharingService {
  return {
    shareFieldExemption: (p, id, field, input, ifMatch, ctx) =>
      withDenialLogged(deps, p, 'label', id, ctx, () =>
        deps.sql.begin(async (tx) => {
          const access = catalogAccess(deps.policy.current());
          const row = await visibleDataset(tx, access, p, id, true);
          const rule = ensure(
            access.canApprove(p, datasetAttributes(row), null),
            'change what the exemptions of this dataset may be shared under',
          );
          checkIfMatch(ifMatch, row.version, false);
          if (!(await findFields(tx, id)).some((f) => f.name === field))
            throw new DomainError('NOT_FOUND', `Dataset ${id} has no field ${field}.`);
          const record = await openExemption(tx, id, field, 'in_force');
          if (!record?.dik_no)
            throw new DomainError(
              'NO_EXEMPTION',
              `Field ${field} of dataset ${id} has no exemption in force: only an exemption in the DIK may be shared.`,
            );
          // One entry per basis as the law names it (the first spelling given is kept).
          const seen = new Set<string>();
          const bases = input.shareableUnder.filter((b) => {
            const key = legalBasisKey(b);
            if (key === '' || seen.has(key)) return false;
            seen.add(key);
            return true;
          });
          await setExemptionSharing(tx, record.id, bases);
          const labelVersion = await bumpLabelVersion(tx, id);
          const change = labelEvent(p, id, labelVersion, {
            event: 'sharing',
            field,
            from: 'exempt',
            to: 'exempt',
            justification: input.justification ?? null,
            decisionRef: record.decision?.ref ?? null,
            sharing: { dikNo: record.dik_no, shareableUnder: bases },
          });
          await recordChange(deps, tx, p, ctx, 'label', rule, change);
          const after = await findDataset(tx, id);
          if (!after) throw new Error(`dataset ${id} vanished inside its transaction`);
          return datasetView(after, await findFields(tx, id));
        }),
      ),
  };
}
