import * as v from 'valibot';

/** Who is calling: built from a verified token, or the anonymous public. */
export const PrincipalSchema = v.object({
  sub: v.nullable(v.string()),
  kind: v.picklist(['user', 'service', 'anonymous']),
  roles: v.array(v.string()),
  unit: v.nullable(v.string()),
  purposes: v.array(v.string()),
});

export type Principal = v.InferOutput<typeof PrincipalSchema>;

/** No token: the anonymous public, with the single role `public`. */
export const ANONYMOUS: Principal = Object.freeze({
  sub: null,
  kind: 'anonymous',
  roles: Object.freeze(['public']) as string[],
  unit: null,
  purposes: Object.freeze([]) as unknown as string[],
}) as Principal;
