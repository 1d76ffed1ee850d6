import * as v from 'valibot';
import type { VerifyResult } from '../audit/audit.verify.ts';
import type { Problem } from '../http/problem.ts';

/** `POST /operator/datasets/:id/records?format=&sub=&unit=`: who the import's audit entry names. */
export const ImportQuerySchema = v.object({
  format: v.picklist(['csv', 'ndjson', 'json'], 'format must be csv, ndjson or json'),
  sub: v.string('sub names the operator'),
  unit: v.optional(v.string()),
});

/** `POST /operator/audit/verify`: the checkpoint held elsewhere, as `npm run audit:verify -- --checkpoint` reads it. */
export const VerifyBodySchema = v.object({
  checkpoint: v.optional(
    v.looseObject({
      seq: v.pipe(v.number('checkpoint seq must be a number'), v.integer(), v.minValue(0)),
      hash: v.string('checkpoint hash must be a string'),
      at: v.optional(v.string()),
      signature: v.optional(v.nullable(v.string())),
    }),
  ),
  fromCheckpoint: v.optional(v.boolean(), false),
});

export interface OperatorStatus {
  pid: number;
  dataDir: string;
  since: string;
  /** What schema_migrations holds: the migrations the server applied (at its start or before). */
  migrations: { name: string; checksum: string }[];
}

/** One line of the verify answer. */
export type VerifyLine =
  { progress: { checked: number; total: number } } | { result: VerifyResult } | { error: Problem };
