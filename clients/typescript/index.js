// A thin layer over openapi-fetch: the base URL, the bearer token and the problem+json errors.
import createClient from 'openapi-fetch';

/**
 * @param {{ baseUrl: string, token?: string | (() => string | Promise<string>), fetch?: typeof fetch }} options
 */
export function createJagaClient(options) {
  const client = createClient({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  if (options.token !== undefined) {
    const token = options.token;
    client.use({
      async onRequest({ request }) {
        const value = typeof token === 'function' ? await token() : token;
        request.headers.set('authorization', `Bearer ${value}`);
        return request;
      },
    });
  }
  return client;
}

/** Thrown by `unwrap` for a non-2xx answer: the RFC 9457 problem details Jaga sent. */
export class JagaProblem extends Error {
  constructor(problem, status) {
    super(`${problem?.code ?? 'HTTP_' + status}: ${problem?.detail ?? problem?.title ?? 'request failed'}`);
    this.name = 'JagaProblem';
    this.problem = problem;
    this.status = status;
  }
}

/** Returns `data` of an openapi-fetch result, or throws a JagaProblem carrying the problem details. */
export function unwrap(result) {
  if (result.error !== undefined || !result.response.ok) throw new JagaProblem(result.error, result.response.status);
  return result.data;
}
