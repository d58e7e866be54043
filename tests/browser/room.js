/* room.js — a raw tourcast.v1 WebSocket for the browser tests, opened inside
 * a chromium page (Node 20 has no WebSocket of its own): the leader's
 * actions without going through the console's buttons. */
'use strict';

const h = require('./harness');

class Socket {
  constructor(page) { this.page = page; this.seen = []; }
  send(m) { return this.page.evaluate((m) => window.tcSock.send(JSON.stringify(m)), m); }
  async pull() {
    const got = await this.page.evaluate(() => window.tcInbox.splice(0));
    for (const s of got) this.seen.push(JSON.parse(s));
  }
  /* The first message (since the last wait) for which pred is true. */
  async wait(pred, timeoutMs = 10000, what = 'a message') {
    return h.waitFor(async () => {
      await this.pull();
      const i = this.seen.findIndex(pred);
      if (i < 0) return null;
      const m = this.seen[i];
      this.seen.splice(0, i + 1);
      return m;
    }, timeoutMs, what);
  }
  async request(m, pred, timeoutMs, what) {
    await this.pull();
    this.seen = [];
    await this.send(m);
    return this.wait(pred, timeoutMs, what || JSON.stringify(m));
  }
}

/* A greeted connection: hello is {role:'leader', token} or a viewer's. */
async function open(browser, srv, hello) {
  /* A tool page, not one of tourcast's: /healthz's policy lets it connect nowhere. */
  const page = await h.newPage(browser, { width: 400, height: 300 }, { bypassCSP: true });
  await page.goto(srv.url('/healthz'));
  await page.evaluate((hello) => {
    window.tcInbox = [];
    const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws', 'tourcast.v1');
    window.tcSock = ws;
    ws.onmessage = (e) => window.tcInbox.push(e.data);
    ws.onopen = () => ws.send(JSON.stringify(Object.assign({ type: 'hello' }, hello)));
  }, hello);
  const s = new Socket(page);
  s.welcome = await s.wait((m) => m.type === 'welcome' || m.type === 'error', 10000, 'welcome');
  if (s.welcome.type !== 'welcome') throw new Error('hello refused: ' + JSON.stringify(s.welcome));
  return s;
}

const leader = (browser, srv) => open(browser, srv, { role: 'leader', token: h.TOKEN });

async function putProduct(sock, fields) {
  const m = await sock.request(Object.assign({ type: 'product.put', on_sale: true }, fields),
    (m) => (m.type === 'product' && m.product.name === fields.name) || m.type === 'error', 10000, 'product ' + fields.name);
  if (m.type === 'error') throw new Error('product.put: ' + JSON.stringify(m));
  return m.product;
}

module.exports = { open, leader, putProduct };
