import type { Principal } from '../identity/principal.ts';

/** What middleware puts on the Hono context for the handlers after it. */
export interface AppVariables {
  requestId: string;
  principal: Principal;
  traceId: string | undefined;
  /** Aborted when the request's deadline (deadline.ts) answered 503 for it: work still running must not take effect. */
  deadline?: AbortSignal;
}

export interface AppEnv {
  Variables: AppVariables;
}
