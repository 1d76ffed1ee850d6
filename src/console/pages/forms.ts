import * as v from 'valibot';
import { DomainError } from '../../shared/errors.ts';

/** Validates a form's values with the API's own schema; a refusal lists every problem, as the API's 400 does. */
export function parseForm<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const parsed = v.safeParse(schema, input);
  if (parsed.success) return parsed.output;
  throw new DomainError('VALIDATION_FAILED', 'The form is not valid.', {
    errors: parsed.issues.map((issue) => ({ path: v.getDotPath(issue) ?? 'form', message: issue.message })),
  });
}

/** A form value as a list (checkboxes send one value per ticked box). */
export function many(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((x): x is string => typeof x === 'string' && x !== '');
  return typeof value === 'string' && value !== '' ? [value] : [];
}
