import type { Hono } from 'hono';
import { DomainError } from '../../shared/errors.ts';
import { signedIn } from '../guard.ts';
import { h, render, show, table, type ConsoleEnv, type ConsoleServices } from '../html.ts';
import { layout } from '../layout.ts';

/** Pages for everyone signed in: who am I, and the policies in force (read-only, rule by rule). */
export function mePages(app: Hono<ConsoleEnv>, services: ConsoleServices) {
  app.get('/console/me', (c) => {
    const p = signedIn(c);
    const t = c.get('t');
    const session = c.get('session')!;
    return render(
      c,
      layout(
        c,
        t.me.title,
        h(
          'dl',
          { class: 'kv', id: 'principal' },
          h('dt', null, t.me.sub),
          h('dd', null, p.sub ?? t.none),
          h('dt', null, t.me.kind),
          h('dd', null, p.kind),
          h('dt', null, t.me.roles),
          h('dd', null, show(p.roles, t.none) as never),
          h('dt', null, t.me.unit),
          h('dd', null, p.unit ?? t.none),
          h('dt', null, t.me.purposes),
          h('dd', null, show(p.purposes, t.none) as never),
          h('dt', null, t.me.via),
          h('dd', null, session.via === 'oidc' ? 'OpenID Connect' : t.signInPage.devTitle),
          h('dt', null, t.me.until),
          h(
            'dd',
            null,
            h(
              'time',
              { datetime: new Date(session.exp * 1000).toISOString() },
              new Date(session.exp * 1000).toISOString(),
            ),
          ),
        ),
      ),
    );
  });

  app.get('/console/policies', (c) => {
    const p = signedIn(c);
    const t = c.get('t');
    const engine = services.policy.current();
    // The same permission the API's `explain` asks for: reading the policies.
    if (!engine.decide({ principal: p, action: 'read', subject: 'Policy' }).allow) {
      throw new DomainError('FORBIDDEN', 'Your role may not see the policies.');
    }
    const roles = [...new Set(engine.set.rules.map((r) => r.role))].sort();
    return render(
      c,
      layout(
        c,
        t.policies.title,
        h('p', null, `${t.policies.version}: `, h('code', null, engine.version)),
        ...roles.map((role) =>
          table(
            `${t.policies.role}: ${role}`,
            [t.col.rule, t.col.action, t.col.resource, 'conditions', t.col.reason],
            engine.set.rules
              .filter((r) => r.role === role)
              .map((r) => [
                h(
                  'span',
                  null,
                  h('code', null, r.id),
                  r.inverted ? h('span', { class: 'badge' }, ` ${t.policies.inverted}`) : null,
                ),
                show(r.action, t.none),
                show(r.subject, t.none),
                show(
                  {
                    ...(r.conditions ? { conditions: JSON.stringify(r.conditions) } : {}),
                    ...(r.fields ? { fields: r.fields } : {}),
                    ...(r.purposes ? { purposes: r.purposes } : {}),
                    ...(r.mask ? { mask: r.mask } : {}),
                  },
                  t.none,
                ),
                r.reason ?? t.none,
              ]),
          ),
        ),
      ),
    );
  });
}
