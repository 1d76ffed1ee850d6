import type { Client } from 'openapi-fetch';
import type { paths, components } from './schema.d.ts';

export type { paths, components };
export type Problem = components['schemas']['Problem'];

export interface JagaClientOptions {
  /** Where Jaga answers, e.g. `https://jaga.example.go.id`. */
  baseUrl: string;
  /** A bearer token (JWT), or a function returning a fresh one before each request. */
  token?: string | (() => string | Promise<string>);
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof fetch;
}

export declare function createJagaClient(options: JagaClientOptions): Client<paths>;

export declare class JagaProblem extends Error {
  readonly problem: Problem | undefined;
  readonly status: number;
}

export declare function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T;
