/**
 * The domain's error: a failure every layer below HTTP reports with a stable `code` from the closed
 * list below. The codes are what integrators see (problem+json `code`); src/http/problem.ts gives
 * each its status and title, and src/http/on-error.ts renders it. Nothing here knows about HTTP.
 */
export const ERROR_CODES = [
  // Request shape
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'MALFORMED_BODY',
  'UNSUPPORTED_MEDIA_TYPE',
  'NOT_ACCEPTABLE',
  'PAYLOAD_TOO_LARGE',
  'HEADERS_TOO_LARGE',
  'MALFORMED_REQUEST',
  'REQUEST_TIMEOUT',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  // Identity
  'UNAUTHENTICATED',
  'TOKEN_MALFORMED',
  'TOKEN_TOO_LARGE',
  'TOKEN_ALGORITHM_REJECTED',
  'TOKEN_SIGNATURE_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_NOT_YET_VALID',
  'TOKEN_CLAIM_INVALID',
  'TOKEN_LIFETIME_INVALID',
  'TOKEN_KEY_UNKNOWN',
  'IDENTITY_UNAVAILABLE',
  // Authorisation and resources
  'FORBIDDEN',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'PRECONDITION_REQUIRED',
  'CONSTRAINT_VIOLATION',
  'REFERENCE_NOT_FOUND',
  // Labels
  'LABEL_NOT_STRICTER',
  'LABEL_NOT_ALLOWED',
  'EXEMPTION_INCOMPLETE',
  'JUSTIFICATION_REQUIRED',
  'SELF_APPROVAL',
  'NO_PENDING_PROPOSAL',
  // Detection
  'NO_OPEN_SUGGESTION',
  'DECISION_INCOMPLETE',
  // Policies and decisions
  'POLICY_INVALID',
  'PLAN_NOT_TRANSLATABLE',
  'BATCH_TOO_LARGE',
  // Records
  'RECORDS_INVALID',
  'FILTER_NOT_ALLOWED',
  'RANGE_FILTER_LIMIT',
  'PURPOSE_NOT_HELD',
  // Data-sharing agreements (service principals)
  'NO_AGREEMENT',
  'AGREEMENT_EXPIRED',
  'PURPOSE_NOT_IN_AGREEMENT',
  'FIELD_NOT_IN_AGREEMENT',
  'EXEMPT_NOT_IN_AGREEMENT',
  'EXEMPTION_NOT_SHAREABLE',
  'NO_EXEMPTION',
  'AGREEMENT_ROW_LIMIT',
  // Service state
  'AUDIT_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
  'NOT_READY',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One offending part of the input: a path into it (`body.fields.2.name`, `line 7`) and what is wrong. */
export interface FieldError {
  path: string;
  message: string;
}

export interface DomainErrorOptions {
  errors?: FieldError[] | undefined;
  /** Further facts for the caller (problem+json extension members); never a record value. */
  extensions?: Record<string, unknown> | undefined;
  /** The entity tag of the resource's current version, when a precondition on it failed (sent as ETag). */
  currentTag?: string | undefined;
  cause?: unknown;
}

/** An expected failure: the caller's input, its rights, or the service's state. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly currentTag: string | undefined;

  /** `detail` says what happened in this case; without it the code's title is shown. */
  constructor(code: ErrorCode, detail?: string, options: DomainErrorOptions = {}) {
    super(detail ?? '', { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.errors = options.errors;
    this.extensions = options.extensions;
    this.currentTag = options.currentTag;
  }
}
