import { serve } from '@hono/node-server';
import { Hono } from 'hono';

// The ceiling: a raw Hono app that parses the same JSON body and answers a constant decision.
const app = new Hono();
app.post('/v1/check', async (c) => {
  await c.req.json();
  return c.json({ allow: true });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => console.log('listening'));
