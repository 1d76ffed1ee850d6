import type { Hono } from 'hono';
import { CheckInput } from '../../policy/decision.schema.ts';
import { ACTIONS } from '../../policy/engine.types.ts';
import { signedIn } from '../guard.ts';
import { h, labelled, render, show, table, type ConsoleEnv, type ConsoleServices, type Ctx } from '../html.ts';
import { layout } from '../layout.ts';
import { parseForm } from './forms.ts';

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function field(id: string, text: string, value: string | undefined, extra: Record<string, unknown> = {}) {
  return labelled(id, text, h('input', { id, name: id, value: value ?? '', ...extra }));
}

/**
 * The policy playground: pick a principal, an action and a dataset, see the decision and the rules
 * that decided. It is `POST /v1/check?explain=true` with another principal: only roles that may
 * check for others and read the policies get an answer, and every answer is logged like the API's.
 */
export function playgroundPages(app: Hono<ConsoleEnv>, services: ConsoleServices) {
  app.get('/console/playground', async (c: Ctx) => {
    const caller = signedIn(c);
    const t = c.get('t');
    const q = c.req.query();
    let result = null;
    if (q.action && q.dataset) {
      // No principal given: the caller's own decision (any role that may read the policies);
      // another principal needs `check` on Policy, as in the API.
      const other = q.sub || q.roles || q.unit || q.purposes;
      const input = parseForm(CheckInput, {
        ...(other
          ? {
              principal: { sub: q.sub || null, roles: list(q.roles), unit: q.unit || null, purposes: list(q.purposes) },
            }
          : {}),
        action: q.action,
        resource: { type: 'Dataset', id: q.dataset },
        ...(q.purpose ? { purpose: q.purpose } : {}),
      });
      result = await services.decisions.check(
        { caller, requestId: c.get('requestId'), traceId: c.get('traceId') ?? null, explain: true },
        input,
      );
    }
    return render(
      c,
      layout(
        c,
        t.nav.playground,
        h('p', { class: 'gloss' }, t.playground.lead),
        h(
          'form',
          { method: 'get', action: '/console/playground', class: 'controls' },
          field('sub', t.me.sub, q.sub),
          field('roles', t.me.roles, q.roles, { placeholder: 'staff, steward' }),
          field('unit', t.me.unit, q.unit, { size: 10 }),
          field('purposes', t.me.purposes, q.purposes),
          labelled(
            'action',
            t.col.action,
            h(
              'select',
              { id: 'action', name: 'action' },
              ...ACTIONS.map((a) =>
                h('option', { value: a, ...(a === (q.action ?? 'read') ? { selected: true } : {}) }, a),
              ),
            ),
          ),
          field('dataset', t.audit.dataset, q.dataset, { required: true }),
          field('purpose', t.playground.purpose, q.purpose),
          h('button', { type: 'submit' }, t.playground.decide),
        ),
        result
          ? h(
              'section',
              { 'aria-labelledby': 'decision' },
              h('h2', { id: 'decision' }, result.allow ? t.playground.allow : t.playground.deny),
              show(
                {
                  reason: result.reason,
                  ruleId: result.ruleId,
                  policyVersion: result.policyVersion,
                  decisionId: result.decisionId,
                },
                t.none,
              ) as never,
              result.explain
                ? table(
                    t.playground.considered,
                    [t.col.rule, t.policies.role, t.col.effect, 'matched', 'note'],
                    result.explain.considered.map((r) => [
                      h('code', null, r.ruleId),
                      r.role,
                      r.effect,
                      r.matched ? '✔' : '—',
                      r.note ?? t.none,
                    ]),
                  )
                : null,
            )
          : null,
      ),
    );
  });

  app.get('/console/audit/openness', async (c: Ctx) => {
    const principal = signedIn(c);
    const t = c.get('t');
    const answer = await services.auditReads.openness(
      { principal, requestId: c.get('requestId'), traceId: c.get('traceId') },
      { part: 'units' },
      'json',
    );
    const report = answer.kind === 'json' ? (answer.body as unknown as Record<string, unknown>) : {};
    return render(
      c,
      layout(
        c,
        t.nav.openness,
        ...Object.entries(report).map(([part, value]) =>
          Array.isArray(value) && value.length && typeof value[0] === 'object'
            ? table(
                part,
                Object.keys(value[0] as object),
                value.map((row) => Object.values(row as object).map((x) => show(x, t.none))),
              )
            : h('p', null, h('strong', null, `${part}: `), show(value, t.none) as never),
        ),
      ),
    );
  });
}
