import { DomainError, type DomainErrorOptions, type ErrorCode, type FieldError } from '../shared/errors.ts';

export type { ErrorCode, FieldError };

/**
 * The one error model: every non-2xx answer is RFC 9457 problem+json with a stable `code` from
 * the closed list in src/shared/errors.ts; this table gives each its status and title. Add a code
 * there and here before using it.
 */
export const ERRORS = {
  // Request shape
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  MALFORMED_BODY: { status: 400, title: 'The request body cannot be parsed' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  NOT_ACCEPTABLE: { status: 406, title: 'No acceptable representation' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  MALFORMED_REQUEST: { status: 400, title: 'The request is not valid HTTP' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive in time' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed on this route' },
  // Identity
  UNAUTHENTICATED: { status: 401, title: 'Authentication failed' },
  TOKEN_MALFORMED: { status: 401, title: 'The bearer token is malformed' },
  TOKEN_TOO_LARGE: { status: 401, title: 'The bearer token is too large' },
  TOKEN_ALGORITHM_REJECTED: { status: 401, title: 'The token algorithm is not accepted' },
  TOKEN_SIGNATURE_INVALID: { status: 401, title: 'The token signature is not valid' },
  TOKEN_EXPIRED: { status: 401, title: 'The token has expired' },
  TOKEN_NOT_YET_VALID: { status: 401, title: 'The token is not yet valid' },
  TOKEN_CLAIM_INVALID: { status: 401, title: 'A token claim is not valid' },
  TOKEN_LIFETIME_INVALID: { status: 401, title: 'The token has no expiry or lives longer than accepted' },
  TOKEN_KEY_UNKNOWN: { status: 401, title: 'The token was signed with an unknown key' },
  IDENTITY_UNAVAILABLE: { status: 503, title: 'The identity provider cannot be reached' },
  // Authorisation and resources
  FORBIDDEN: { status: 403, title: 'Not allowed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  ALREADY_EXISTS: { status: 409, title: 'Already exists' },
  CONFLICT: { status: 409, title: 'Conflicts with the current state' },
  PRECONDITION_FAILED: { status: 412, title: 'The resource has changed (If-Match does not match)' },
  PRECONDITION_REQUIRED: { status: 428, title: 'If-Match is required' },
  CONSTRAINT_VIOLATION: { status: 400, title: 'The data breaks a rule of the database' },
  REFERENCE_NOT_FOUND: { status: 422, title: 'The request refers to something that does not exist' },
  // Labels
  LABEL_NOT_STRICTER: { status: 422, title: 'A field label must be at least as strict as its dataset' },
  LABEL_NOT_ALLOWED: { status: 422, title: 'This label is not allowed for this data' },
  EXEMPTION_INCOMPLETE: { status: 422, title: 'An exemption needs grounds, a consequence test and a review date' },
  JUSTIFICATION_REQUIRED: { status: 422, title: 'A declassification needs a written justification' },
  SELF_APPROVAL: { status: 403, title: 'A proposal cannot be approved by its proposer' },
  NO_PENDING_PROPOSAL: { status: 409, title: 'There is no pending exemption proposal' },
  // Detection
  NO_OPEN_SUGGESTION: { status: 409, title: 'There is no scan suggestion awaiting a decision for this field' },
  DECISION_INCOMPLETE: {
    status: 422,
    title: 'An approval needs the decision: reference, date, place and whose agreement',
  },
  // Policies and decisions
  POLICY_INVALID: { status: 422, title: 'The policy set is not valid' },
  PLAN_NOT_TRANSLATABLE: { status: 422, title: 'The rules cannot be translated exactly' },
  BATCH_TOO_LARGE: { status: 413, title: 'Too many checks in one batch' },
  // Records
  RECORDS_INVALID: { status: 422, title: 'Some records do not match the dataset' },
  FILTER_NOT_ALLOWED: { status: 403, title: 'Filtering on a field you may not see is not allowed' },
  RANGE_FILTER_LIMIT: { status: 422, title: 'Too many range-filterable fields in one dataset' },
  PURPOSE_NOT_HELD: { status: 403, title: 'The declared purpose is not one the caller holds' },
  // Data-sharing agreements (service principals)
  NO_AGREEMENT: { status: 403, title: 'No active agreement covers this read' },
  AGREEMENT_EXPIRED: { status: 403, title: 'The agreement covering this read has expired' },
  PURPOSE_NOT_IN_AGREEMENT: { status: 403, title: 'The agreement does not name the declared purpose' },
  FIELD_NOT_IN_AGREEMENT: { status: 403, title: 'The agreement does not cover this field' },
  EXEMPT_NOT_IN_AGREEMENT: { status: 403, title: 'The agreement does not cover this exempt field as exempt' },
  EXEMPTION_NOT_SHAREABLE: {
    status: 403,
    title: 'The exemption record does not allow sharing under the agreement’s legal basis',
  },
  NO_EXEMPTION: { status: 409, title: 'There is no exemption in force' },
  AGREEMENT_ROW_LIMIT: { status: 429, title: 'The agreement’s rows for today are used up' },
  // Service state
  AUDIT_UNAVAILABLE: { status: 503, title: 'The audit log cannot record the decision' },
  DATABASE_UNAVAILABLE: { status: 503, title: 'The database cannot be reached' },
  NOT_READY: { status: 503, title: 'The service is not ready' },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<ErrorCode, { status: number; title: string }>;

/** The problem document (RFC 9457) with Jaga's extensions. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** A domain error with HTTP response headers (a 401's challenge, a 405's Allow); thrown by src/http and src/identity's door. */
export class ApiError extends DomainError {
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: DomainErrorOptions & { headers?: Record<string, string> } = {},
  ) {
    super(code, detail ?? ERRORS[code].title, options);
    this.name = 'ApiError';
    this.headers = options.headers;
  }

  /** The HTTP status of its code. */
  get status(): number {
    return ERRORS[this.code].status;
  }
}

export const PROBLEM_TYPE_BASE = 'https://jaga.dev/problems/';

export function toProblem(error: DomainError, requestId: string): Problem {
  const { status, title } = ERRORS[error.code];
  const problem: Problem = {
    ...error.extensions,
    type: PROBLEM_TYPE_BASE + error.code.toLowerCase().replaceAll('_', '-'),
    title,
    status,
    detail: error.message || title,
    code: error.code,
    requestId,
  };
  if (error.errors) problem.errors = error.errors;
  return problem;
}
