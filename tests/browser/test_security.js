/* test_security.js — the pages under their Content-Security-Policy, and the
 * leader token out of every URL, in Debian's chromium against the real
 * server: the viewer page, the console (opened with ?token= once) and the
 * replay page of a real show run with no CSP violation and no page error;
 * each answer carries the policy with frame-ancestors 'none'; the console
 * drops the token from its address at once, uploads a picture and
 * downloads the picking list with the token in the Authorization header,
 * and no request any page made after that first address carried it; a
 * stale token shows an error instead of a download. Screenshots of the
 * console at 360 px. */
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const h = require('./harness');
const room = require('./room');

const servers = [];
const tid = (id) => `[data-testid="${id}"]`;

function checkHeaders(resp, what) {
  const hd = resp.headers();
  const csp = hd['content-security-policy'] || '';
  h.assert(csp.includes("frame-ancestors 'none'") && csp.includes("script-src 'self'") && !csp.includes('unsafe'),
    what + ' CSP: ' + csp);
  h.assert(hd['referrer-policy'] === 'no-referrer' && hd['x-content-type-options'] === 'nosniff', what + ' headers');
}

function tokenRequests(page, from) {
  return page.requests.slice(from).filter((u) => u.includes('token=') || u.includes(h.TOKEN));
}

h.main('security', async (t) => {
  const srv = new h.Server(['--width', '360', '--height', '640', '--bitrate', '600']);
  servers.push(srv);
  await srv.start();
  const clipOpts = ['-s', '360x640', '-d', '30', '-b', '600'];
  h.makeClip(...clipOpts);
  const phone = h.fakePhone(srv.rtmpUrl, ...clipOpts);
  const browser = await h.launchChromium();
  const png = path.join(srv.data, 'peach.png');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=orange:s=96x96', '-frames:v', '1', '-y', png]);
  const leader = await h.newPage(browser, { width: 1280, height: 800 });
  const viewer = await h.newPage(browser, { width: 360, height: 780 });
  let showId, product;

  await t.step('the console: opened with ?token= once, the token leaves the address at once', async () => {
    const resp = await leader.goto(srv.url('/leader?token=' + h.TOKEN + '&tab=orders#top'));
    checkHeaders(resp, '/leader');
    await h.waitFor(async () => ['ok', 'waiting'].includes(await leader.getAttribute(tid('status'), 'data-state')), 10000, 'console greeted');
    const href = await leader.evaluate(() => location.href);
    h.assert(!href.includes('token'), 'the address keeps no token: ' + href);
    h.assert(href.endsWith('/leader?tab=orders#top'), 'other parameters and the hash stay: ' + href);
    const stored = await leader.evaluate(() => Object.keys(localStorage).some((k) => localStorage[k].includes('leadertoken123')));
    h.assert(stored, 'the token is kept in this browser');
  });

  await t.step('the console uploads a picture with the header', async () => {
    await leader.fill('#pform [name="name"]', '水蜜桃');
    await leader.fill('#pform [name="price"]', '19.9');
    await leader.fill('#pform [name="stock"]', '20');
    await leader.setInputFiles('#pform [name="image"]', png);
    await leader.click(tid('product-save'));
    await h.waitFor(async () => (await leader.$$('#products li[data-product] img.thumb')).length === 1, 10000, 'the picture uploaded and shown');
    product = await leader.$eval('#products li[data-product]', (x) => Number(x.dataset.product));
  });

  await t.step('the viewer page runs under its policy', async () => {
    const resp = await viewer.goto(srv.url('/'));
    checkHeaders(resp, '/');
    await h.waitFor(async () => (await viewer.textContent('#me')).includes('游客'), 10000, 'guest welcome');
    await h.waitFor(async () => (await h.get(srv.url('/healthz'))).body.toString().includes('"publisher_live":true'), 30000, 'publishing');
    await leader.click(`[data-testid="pin-${product}"]`);
    await h.waitFor(async () => (await viewer.textContent(tid('pinned'))).includes('水蜜桃'), 20000, 'the pinned card on the viewer page');
    await h.waitFor(async () => viewer.evaluate(() => {
      const v = document.querySelector('[data-testid="video"]');
      return v && v.readyState >= 2 && v.currentTime > 0.5;
    }), 20000, 'the video plays (hls.js or native under the policy)');
    const img = await viewer.$eval(tid('pinned') + ' img', (x) => x.naturalWidth).catch(() => -1);
    h.assert(img !== 0, 'the product picture loads on the viewer page');
    await t.shot(viewer, 'security-viewer-360x780');
  });

  await t.step('a show ends; the picking list downloads through fetch and a Blob', async () => {
    const buyer = await room.open(browser, srv, { role: 'viewer', name: '钱七', pickup: '5号楼', phone: '13500000005' });
    const ok = await buyer.request({ type: 'order', product_id: product, qty: 1, key: 'sec-1' },
      (m) => m.key === 'sec-1', 10000, 'order');
    h.assert(ok.type === 'order.ok', 'ordered: ' + JSON.stringify(ok));
    await leader.click(tid('end-show'));
    await h.waitFor(async () => (await viewer.getAttribute(tid('status'), 'data-state')) === 'ended', 15000, 'ended');
    showId = (await srv.json('/api/shows'))[0].id;
    await h.waitFor(async () => leader.isVisible(tid('csv')), 10000, 'the CSV link between shows');
    h.assert(!(await leader.getAttribute(tid('csv'), 'href')).includes('token'), 'no token in the link');
    const [dl] = await Promise.all([leader.waitForEvent('download', { timeout: 10000 }), leader.click(tid('csv'))]);
    const csv = fs.readFileSync(await dl.path(), 'utf8');
    h.assert(csv.includes('钱七') && csv.includes('水蜜桃') && csv.includes('13500000005'), 'the CSV: ' + csv.slice(0, 300));
    h.assert(dl.suggestedFilename() === `orders-show-${showId}.csv`, 'named by its show: ' + dl.suggestedFilename());
    h.assert(dl.url().startsWith('blob:'), 'saved from a Blob: ' + dl.url());
  });

  await t.step('the replay page runs under its policy', async () => {
    let body = '';
    for (let i = 0; i < 50 && !body.includes('#EXT-X-ENDLIST'); i++) {
      body = String((await h.get(srv.url(`/shows/${showId}/index.m3u8`))).body || '');
      if (!body.includes('#EXT-X-ENDLIST')) await h.sleep(200);
    }
    const page = await h.newPage(browser, { width: 360, height: 780 });
    const resp = await page.goto(srv.url('/replay/' + showId));
    checkHeaders(resp, '/replay');
    await h.waitFor(async () => (await page.$$(tid('chapter'))).length === 1, 10000, 'the chapter of the pin');
    await h.waitFor(async () => page.evaluate(() => document.querySelector('[data-testid="video"]').readyState >= 2), 20000, 'the replay loads');
    h.assert(page.problems.length === 0, 'replay page errors: ' + page.problems.join('; '));
    await page.close();
  });

  await t.step('a stale token: the download says so instead of saving an error page', async () => {
    await leader.evaluate(() => Object.keys(localStorage).forEach((k) => {
      if (localStorage[k].includes('leadertoken123')) localStorage[k] = localStorage[k].replace('leadertoken123', 'stale-token');
    }));
    const downloads = [];
    leader.on('download', (d) => downloads.push(d));
    await leader.click(tid('csv'));
    await h.waitFor(async () => leader.isVisible(tid('csv-error')), 5000, 'the error next to the link');
    const msg = await leader.textContent(tid('csv-error'));
    h.assert(msg.includes('口令不对'), 'says why: ' + msg);
    h.assert(downloads.length === 0, 'nothing saved');
    await leader.evaluate(() => Object.keys(localStorage).forEach((k) => {
      if (localStorage[k].includes('stale-token')) localStorage[k] = localStorage[k].replace('stale-token', 'leadertoken123');
    }));
  });

  await t.step('no request after the first address carried the token; no violation anywhere', async () => {
    const first = leader.requests.findIndex((u) => u.includes('/leader?token='));
    h.assert(first >= 0, 'the first address had it');
    const leaks = tokenRequests(leader, first + 1).concat(tokenRequests(viewer, 0));
    h.assert(leaks.length === 0, 'requests with the token: ' + leaks.join(' '));
    t.figure(`requests without the token: console ${leader.requests.length - first - 1}, viewer ${viewer.requests.length}`);
    for (const [name, p] of [['console', leader], ['viewer', viewer]]) {
      h.assert(p.cspViolations.length === 0, name + ' CSP violations: ' + p.cspViolations.join('; '));
      h.assert(p.problems.length === 0, name + ' page errors: ' + p.problems.join('; '));
    }
    await leader.setViewportSize({ width: 360, height: 780 });
    await leader.evaluate(() => document.querySelector('#pform').scrollIntoView());
    await t.shot(leader, 'security-console-form-360x780');
  });

  phone.kill('SIGKILL');
}, servers);
