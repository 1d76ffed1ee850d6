import type { Principal } from '../identity/principal.ts';

/** What middleware puts on the Hono context for the handlers after it. */
export interface AppVariables {
  requestId: string;
  principal: Principal;
  traceId: string | undefined;
}

export interface AppEnv {
  Variables: AppVariables;
}
