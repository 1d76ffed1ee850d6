import type { Context } from 'hono';
import { Fragment, jsx } from 'hono/jsx';
import type { AppEnv } from '../http/context.ts';
import type { AppDeps } from '../wiring.ts';
import type { Lang, Messages } from './i18n.ts';
import type { Session } from './session.ts';

/**
 * Hono's JSX (`hono/jsx`) called as a function: the console is `.ts` so that Node's type stripping
 * (`npm run import`, `npm run openapi` run src/ without a bundler) loads it like every other
 * module. Text children are escaped by hono/jsx; nothing is ever inserted as raw HTML.
 */
export const h = jsx;
export { Fragment };
export type Node = ReturnType<typeof jsx>;
export type Child = Node | string | number | null | undefined | false | Child[];

/** What the console's pages use: the same services as the API, so every decision and audit entry is the API's. */
export type ConsoleServices = Pick<
  AppDeps['services'],
  | 'catalog'
  | 'policy'
  | 'identity'
  | 'auditReads'
  | 'openData'
  | 'reads'
  | 'decisions'
  | 'detection'
  | 'ingest'
  | 'audit'
>;

export interface ConsoleVariables {
  session: Session | null;
  lang: Lang;
  t: Messages;
}
/** What the API app passes with each request it forwards to the console. */
export interface ConsoleBindings {
  requestId: string;
  traceId: string | undefined;
}
export interface ConsoleEnv {
  Bindings: ConsoleBindings;
  Variables: AppEnv['Variables'] & ConsoleVariables;
}
export type Ctx = Context<ConsoleEnv>;

/** Renders a page node as a document. */
export async function render(c: Ctx, node: Node, status: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 422 = 200) {
  return c.html('<!doctype html>' + (await node.toString()), status);
}

/** A table whose cells are rendered generically, so new fields of a shape show up without page changes. */
export function table(caption: string, head: string[], rows: Child[][], attrs: Record<string, string> = {}) {
  return h(
    'table',
    attrs,
    h('caption', null, caption),
    h('thead', null, h('tr', null, ...head.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, ...rows.map((r) => h('tr', null, ...r.map((cell) => h('td', null, cell as never))))),
  );
}

/**
 * Any JSON value as readable text: scalars as themselves, arrays joined, objects as key: value lines.
 * `terms` names the keys (and yes/no) in the page's language; a key it does not know shows as itself.
 */
export function show(value: unknown, none = '—', terms: Record<string, string> = {}): Child {
  if (value === null || value === undefined || value === '') return none;
  if (Array.isArray(value)) return value.length ? value.map((x) => textOf(x)).join(', ') : none;
  if (typeof value === 'object') {
    return h(
      'dl',
      { class: 'kv' },
      ...Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => [
        h('dt', null, terms[k] ?? k),
        h('dd', null, show(v, none, terms) as never),
      ]),
    );
  }
  if (typeof value === 'boolean') return terms[String(value)] ?? String(value);
  return String(value);
}

function textOf(x: unknown): string {
  if (x === null || x === undefined) return '';
  return typeof x === 'object' ? JSON.stringify(x) : String(x);
}

/** A hidden CSRF input: every form that changes something carries the session's token. */
export function csrfInput(c: Ctx): Node {
  return h('input', { type: 'hidden', name: '_csrf', value: c.get('session')?.csrf ?? '' });
}

/** A labelled form control. */
export function labelled(id: string, text: string, control: Node): Node {
  return h('div', { class: 'control' }, h('label', { for: id }, text), control);
}
