import * as v from 'valibot';
import { UNIT_CODE } from '../shared/unit-code.ts';
import { name, NAME_MAX } from '../shared/text.ts';
import type { Principal } from './principal.ts';

/** The roles a token may name: the loaded policy set's roles (read on each use, so a reload applies). */
export type KnownRoles = () => ReadonlySet<string>;

/** The longest purpose a token may carry, in characters. */
export const PURPOSE_MAX = 128;

/**
 * The claims Jaga reads from a verified token (api-contract.md, "Tokens"). Registered claims
 * (`iss`, `aud`, `exp`, `nbf`, `iat`) are checked by jose before this runs; other claims pass through.
 * `sub` and purposes are names (src/shared/text.ts): every decision records them in the audit log,
 * so a claim the log could not hold is refused here rather than failing the request later.
 */
export function claimsSchema(knownRoles: KnownRoles) {
  return v.looseObject({
    sub: v.pipe(
      v.string('sub must be a string'),
      v.minLength(1, 'sub must not be empty'),
      name(NAME_MAX, `sub must be a name: no whitespace or control characters, at most ${NAME_MAX} characters`),
    ),
    roles: v.pipe(
      v.array(
        v.pipe(
          v.string('each role must be a string'),
          v.check(
            (role) => knownRoles().has(role),
            (issue) => `unknown role ${JSON.stringify(issue.input)}`,
          ),
        ),
        'roles must be an array of role names',
      ),
      v.maxLength(64, 'roles names more than 64 roles'),
    ),
    unit: v.pipe(
      v.string('unit must be a string'),
      v.regex(UNIT_CODE, 'unit must be a unit code such as RI, 32 or 32.01'),
    ),
    purposes: v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.string('each purpose must be a string'),
            v.minLength(1, 'a purpose must not be empty'),
            name(
              PURPOSE_MAX,
              `a purpose must be a name: no whitespace or control characters, at most ${PURPOSE_MAX} characters`,
            ),
          ),
          'purposes must be an array of strings',
        ),
        v.maxLength(64, 'purposes names more than 64 purposes'),
      ),
      [],
    ),
    kind: v.optional(v.picklist(['user', 'service'], "kind must be 'user' or 'service'"), 'user'),
  });
}

export type Claims = v.InferOutput<ReturnType<typeof claimsSchema>>;

/** The principal a valid claims set stands for (duplicates removed, nothing else added). */
export function principalFromClaims(claims: Claims): Principal {
  return {
    sub: claims.sub,
    kind: claims.kind,
    roles: [...new Set(claims.roles)],
    unit: claims.unit,
    purposes: [...new Set(claims.purposes)],
  };
}
