import type { Hono } from 'hono';
import { DecideProposalSchema } from '../../catalog/catalog.schema.ts';
import { etagOf } from '../../catalog/dataset-version.ts';
import { formText, requestContext, signedIn } from '../guard.ts';
import { csrfInput, h, labelled, render, show, table, type ConsoleEnv, type ConsoleServices } from '../html.ts';
import { layout, notice } from '../layout.ts';
import { parseForm } from './forms.ts';

const PAGE = 50;

const renamed = (one: Record<string, string | undefined>, to: string) => {
  const value = Object.values(one)[0];
  return value ? { [to]: value } : {};
};

/** The PPID's pages: the approval queue (approve or reject with a reason) and overdue reviews. */
export function ppidPages(app: Hono<ConsoleEnv>, services: ConsoleServices) {
  const { catalog } = services;

  app.get('/console/ppid/queue', async (c) => {
    const p = signedIn(c);
    const t = c.get('t');
    const cursor = c.req.query('cursor');
    const page = await catalog.listDatasets(p, { pending: true, limit: PAGE, ...(cursor ? { cursor } : {}) });
    const done = c.req.query('done');
    return render(
      c,
      layout(
        c,
        t.ppid.queueTitle,
        h('p', { class: 'gloss' }, t.ppid.ppidGloss),
        notice(done === 'approved' ? t.ppid.approved : done === 'rejected' ? t.ppid.rejected : undefined),
        page.items.length === 0 ? h('p', null, t.ppid.empty) : null,
        ...page.items.map((d) => {
          const pending = d.pending!;
          const own = pending.proposedBy === p.sub;
          const id = encodeURIComponent(d.id);
          return h(
            'section',
            { class: 'proposal', 'aria-labelledby': `p-${d.id}` },
            h('h2', { id: `p-${d.id}` }, h('a', { href: `/console/datasets/${id}` }, `${d.title} (${d.id})`)),
            show(
              {
                [t.col.unit]: d.ownerUnit,
                [t.col.proposedBy]: pending.proposedBy,
                [t.col.at]: pending.proposedAt,
                [t.col.grounds]: pending.grounds,
                [t.col.harm]: pending.consequenceTest.harm,
                [t.col.publicInterest]: pending.consequenceTest.publicInterest,
                [t.col.reviewBy]: pending.reviewBy,
              },
              t.none,
            ) as never,
            own
              ? h('p', { class: 'notice' }, t.ppid.ownProposal)
              : h(
                  'form',
                  { method: 'post', action: `/console/ppid/queue/${id}` },
                  csrfInput(c),
                  h('input', { type: 'hidden', name: 'version', value: String(d.version) }),
                  labelled(`ref-${d.id}`, t.ppid.decisionRef, h('input', { id: `ref-${d.id}`, name: 'decisionRef' })),
                  // Approval needs the decision the head of the body agreed to (UU 14/2008; DIK column "keputusan").
                  labelled(
                    `date-${d.id}`,
                    t.ppid.decisionDate,
                    h('input', { id: `date-${d.id}`, name: 'decisionDate', type: 'date' }),
                  ),
                  labelled(
                    `place-${d.id}`,
                    t.ppid.decisionPlace,
                    h('input', { id: `place-${d.id}`, name: 'decisionPlace' }),
                  ),
                  labelled(
                    `agreed-${d.id}`,
                    t.ppid.agreedByName,
                    h('input', { id: `agreed-${d.id}`, name: 'agreedByName' }),
                  ),
                  labelled(
                    `position-${d.id}`,
                    t.ppid.agreedByPosition,
                    h('input', { id: `position-${d.id}`, name: 'agreedByPosition' }),
                  ),
                  labelled(
                    `why-${d.id}`,
                    t.ppid.reason,
                    h('textarea', { id: `why-${d.id}`, name: 'justification', rows: 2 }),
                  ),
                  h('button', { type: 'submit', name: 'decision', value: 'approve' }, t.ppid.approve),
                  ' ',
                  h('button', { type: 'submit', name: 'decision', value: 'reject' }, t.ppid.reject),
                ),
          );
        }),
      ),
    );
  });

  app.post('/console/ppid/queue/:id', async (c) => {
    const p = signedIn(c);
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const approve = formText(form, 'decision') === 'approve';
    const given = (name: string) => (formText(form, name) ? { [name]: formText(form, name) } : {});
    const ref = formText(form, 'decisionRef');
    const input = parseForm(DecideProposalSchema, {
      // Approval: the decision whole (the service lists what is missing); rejection: its reference only.
      ...(approve
        ? {
            decision: {
              ...(ref ? { ref } : {}),
              ...renamed(given('decisionDate'), 'date'),
              ...renamed(given('decisionPlace'), 'place'),
              agreedBy: {
                ...renamed(given('agreedByName'), 'name'),
                ...renamed(given('agreedByPosition'), 'position'),
              },
            },
          }
        : ref
          ? { decisionRef: ref }
          : {}),
      ...given('justification'),
    });
    const version = formText(form, 'version');
    const ifMatch = version && /^\d+$/.test(version) ? etagOf(Number(version)) : undefined;
    // The same service calls as POST …/label/approve and …/reject: the policy refuses one's own proposal.
    if (approve) await catalog.approve(p, id, input, ifMatch, requestContext(c));
    else await catalog.reject(p, id, input, ifMatch, requestContext(c));
    return c.redirect(`/console/ppid/queue?done=${approve ? 'approved' : 'rejected'}`, 303);
  });

  app.get('/console/ppid/overdue', async (c) => {
    const p = signedIn(c);
    const t = c.get('t');
    const page = await catalog.overdueReviews(p, c.req.query('cursor'), PAGE);
    return render(
      c,
      layout(
        c,
        t.ppid.overdueTitle,
        page.items.length
          ? table(
              t.ppid.overdueTitle,
              [t.col.id, t.col.title, t.col.unit, t.col.grounds, t.col.reviewBy],
              page.items.map((e) => {
                const entry = e as unknown as Record<string, unknown>;
                return [
                  h('a', { href: `/console/datasets/${encodeURIComponent(String(entry.id))}` }, String(entry.id)),
                  show(entry.title ?? entry.subject, t.none),
                  show(entry.ownerUnit ?? entry.holdingUnit, t.none),
                  show(entry.grounds, t.none),
                  show(entry.reviewBy, t.none),
                ];
              }),
            )
          : h('p', null, t.registers.empty),
      ),
    );
  });
}
