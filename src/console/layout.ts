import { csrfInput, h, type Child, type Ctx, type Node } from './html.ts';

/** The console's links, each shown to the roles whose work it is (the services still decide every request). */
function navLinks(c: Ctx): [string, string][] {
  const t = c.get('t');
  const roles = new Set(c.get('session')?.principal.roles ?? []);
  const links: [string, string][] = [
    ['/console', t.nav.home],
    ['/console/registers/public', t.nav.dip],
    ['/console/registers/exempt', t.nav.dik],
    ['/console/open-data', t.nav.openData],
  ];
  if (c.get('session')) links.push(['/console/me', t.nav.me]);
  if (roles.has('steward') || roles.has('admin') || roles.has('ppid') || roles.has('auditor'))
    links.push(['/console/datasets', t.nav.datasets]);
  if (roles.has('steward') || roles.has('admin')) links.push(['/console/quarantine', t.nav.quarantine]);
  if (roles.has('ppid') || roles.has('admin')) {
    links.push(['/console/ppid/queue', t.nav.queue], ['/console/ppid/overdue', t.nav.overdue]);
  }
  if (roles.has('auditor')) {
    links.push(
      ['/console/audit', t.nav.audit],
      ['/console/audit/disclosures', t.nav.disclosures],
      ['/console/audit/denied', t.nav.denied],
      ['/console/audit/verify', t.nav.verify],
      ['/console/audit/openness', t.nav.openness],
    );
  }
  if (c.get('session')) links.push(['/console/policies', t.nav.policies]);
  if (roles.has('auditor') || roles.has('admin')) links.push(['/console/playground', t.nav.playground]);
  return links;
}

/** The page frame: language, skip link, navigation, sign-in state, the page's content in <main>. */
export function layout(c: Ctx, title: string, ...content: Child[]): Node {
  const t = c.get('t');
  const lang = c.get('lang');
  const session = c.get('session');
  const here = c.req.path;
  const other = lang === 'id' ? 'en' : 'id';
  return h(
    'html',
    { lang },
    h(
      'head',
      null,
      h('meta', { charset: 'utf-8' }),
      h('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
      h('title', null, `${title} · ${t.appName}`),
      h('link', { rel: 'stylesheet', href: '/console/assets/console.css' }),
      h('script', { src: '/console/assets/htmx.min.js', defer: true }),
      h('script', { src: '/console/assets/console.js', defer: true }),
    ),
    h(
      'body',
      null,
      h('a', { class: 'skip', href: '#main' }, t.skip),
      session?.via === 'development' ? h('p', { class: 'dev-banner', role: 'note' }, t.devBanner) : null,
      h(
        'header',
        null,
        h('p', { class: 'brand' }, h('a', { href: '/console' }, t.appName)),
        h(
          'nav',
          { 'aria-label': 'Console' },
          h(
            'ul',
            null,
            ...navLinks(c).map(([href, text]) =>
              h('li', null, h('a', { href, ...(href === here ? { 'aria-current': 'page' } : {}) }, text)),
            ),
          ),
        ),
        h(
          'div',
          { class: 'account' },
          h(
            'a',
            { href: `/console/lang/${other}?back=${encodeURIComponent(here)}`, hreflang: other, lang: other },
            other === 'en' ? 'English' : 'Bahasa Indonesia',
          ),
          session
            ? h(
                'form',
                { method: 'post', action: '/console/sign-out', class: 'inline' },
                csrfInput(c),
                h('span', null, `${t.signedInAs} ${session.principal.sub ?? ''} `),
                h('button', { type: 'submit' }, t.signOut),
              )
            : h('a', { href: '/console/sign-in' }, t.signIn),
        ),
      ),
      h('main', { id: 'main' }, h('h1', null, title), ...(content as never[])),
    ),
  );
}

/** A notice from a redirect after a form (`?done=…`), announced politely. */
export function notice(text: string | undefined): Node | null {
  return text ? h('p', { class: 'notice', role: 'status' }, text) : null;
}
