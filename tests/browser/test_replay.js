/* test_replay.js — the replay page `/replay/ID` in Debian's chromium against
 * a real show: two products pinned in turn, a question and an order between
 * them, the show ended from the console. The page must list a chapter per
 * pin, seek to one and show the pinned product and only the events up to
 * that time, show later events as the video reaches them, and still order;
 * its quantity picker counts the viewer's live orders against the limit
 * (my_orders) and 我的订单 lists live and replay orders.
 * It needs the archive, /shows/ID/index.m3u8: a missing one fails it. */
'use strict';

const h = require('./harness');

const servers = [];

/* Opens the viewer page as a guest (no join wall): it joins when it first asks or buys. */
async function watch(page, srv) {
  await page.goto(srv.url('/'));
  await h.waitFor(async () => (await page.textContent('#me')).includes('游客'), 10000, 'guest welcome');
  h.assert((await page.$$('[data-testid="join"]')).length === 0, 'no join form for a guest');
}

async function fillJoin(page, name, pickup, phone) {
  await page.waitForSelector('[data-testid="join"]', { timeout: 5000 });
  await page.fill('[data-testid="join"] [name="name"]', name);
  await page.fill('[data-testid="join"] [name="pickup"]', pickup);
  await page.fill('[data-testid="join"] [name="phone"]', phone);
  await page.click('[data-testid="join-submit"]');
}

async function addProduct(leader, name, price, limit) {
  const before = (await leader.$$('#products li[data-product]')).length;
  await leader.fill('#pform [name="name"]', name);
  await leader.fill('#pform [name="price"]', price);
  await leader.fill('#pform [name="stock"]', '20');
  await leader.fill('#pform [name="limit"]', String(limit || 0));
  await leader.click('[data-testid="product-save"]');
  await h.waitFor(async () => (await leader.$$('#products li[data-product]')).length === before + 1, 5000, 'product ' + name);
  const all = await leader.$$eval('#products li[data-product]', (l) => l.map((x) => Number(x.dataset.product)));
  return all[all.length - 1];
}

h.main('replay', async (t) => {
  const srv = new h.Server(['--width', '360', '--height', '640', '--bitrate', '600']);
  servers.push(srv);
  await srv.start();
  const clipOpts = ['-s', '360x640', '-d', '40', '-b', '600'];
  h.makeClip(...clipOpts);
  const phone = h.fakePhone(srv.rtmpUrl, ...clipOpts);
  const browser = await h.launchChromium();
  const leader = await h.newPage(browser, { width: 1280, height: 800 });
  const viewer = await h.newPage(browser, { width: 360, height: 780 });
  let a, b, showId, pins;

  await t.step('a show: pin A, a question (the guest joins to ask), pin B, an order of 2 (limit 3), end', async () => {
    await leader.goto(srv.url('/leader?token=' + h.TOKEN));
    await leader.waitForSelector('[data-testid="status"][data-state="ok"], [data-testid="status"][data-state="waiting"]', { state: 'attached' });
    a = await addProduct(leader, '山核桃', '39.9');
    b = await addProduct(leader, '土蜂蜜', '58', 3);
    await watch(viewer, srv);
    await h.waitFor(async () => (await h.get(srv.url('/healthz'))).body.toString().includes('"publisher_live":true'), 30000, 'publishing');
    await h.sleep(3000);
    await leader.click(`[data-testid="pin-${a}"]`);
    await h.sleep(3000);
    await viewer.fill('[data-testid="ask-input"]', '核桃是今年的吗？');
    await viewer.click('[data-testid="ask-send"]');
    await fillJoin(viewer, '赵六', '7号楼', '13700000000');
    await h.waitFor(async () => (await viewer.textContent('[data-testid="questions"]')).includes('核桃是今年的吗？'), 10000, 'the question sent after joining');
    await h.sleep(3000);
    await leader.click(`[data-testid="pin-${b}"]`);
    /* The card changes when the picture shows B. */
    await h.waitFor(async () => (await viewer.textContent('[data-testid="pinned"]')).includes('土蜂蜜'), 20000, 'B on the viewer\'s card');
    await viewer.selectOption('[data-testid="qty"]', '2');
    await viewer.click('[data-testid="buy"]');
    await viewer.waitForSelector('[data-testid="my-orders"] li[data-state="ok"]');
    await h.sleep(3000);
    await leader.click('[data-testid="end-show"]');
    await h.waitFor(async () => (await viewer.getAttribute('[data-testid="status"]', 'data-state')) === 'ended', 15000, 'ended');
    showId = (await srv.json('/api/shows'))[0].id;
    pins = (await srv.json(`/api/shows/${showId}/events`)).filter((e) => e.type === 'pin');
    h.assert(pins.length === 2, 'two pins stored');
  });

  await t.step('the archive playlist exists and is complete', async () => {
    let status = 0, body = '';
    for (let i = 0; i < 50 && !(status === 200 && body.includes('#EXT-X-ENDLIST')); i++) {
      const r = await h.get(srv.url(`/shows/${showId}/index.m3u8`));
      status = r.status;
      body = String(r.body || '');
      if (!body.includes('#EXT-X-ENDLIST')) await h.sleep(200);
    }
    h.assert(status === 200, `/shows/${showId}/index.m3u8 answers ${status}`);
    h.assert(body.includes('#EXT-X-ENDLIST'), 'the ended show\'s playlist is closed');
  });

  const page = await h.newPage(browser, { width: 360, height: 780 });
  await t.step('the replay page lists a chapter per pinned product', async () => {
    await page.goto(srv.url('/replay/' + showId));
    await h.waitFor(async () => (await page.$$('[data-testid="chapter"]')).length === 2, 10000, 'two chapters');
    const names = await page.textContent('[data-testid="chapters"]');
    h.assert(names.includes('山核桃') && names.includes('土蜂蜜'), 'chapter names: ' + names);
  });

  await t.step('seeking to chapter B shows B, the question asked before it, and then the order', async () => {
    await page.click(`[data-testid="chapter"][data-product="${b}"]`);
    await h.waitFor(async () => (await page.textContent('[data-testid="pinned"]')).includes('土蜂蜜'), 10000, 'B pinned at its chapter');
    const ms = await page.evaluate(() => window.tcReplayMs());
    h.assert(Math.abs(ms - pins[1].stream_ms) < 3000, `position ${ms} near pin B ${pins[1].stream_ms}`);
    /* Applied on the presented frame like the card; a busy machine may
     * present the next frame a moment later. */
    await h.waitFor(async () => (await page.textContent('[data-testid="questions"]')).includes('核桃是今年的吗？'), 3000, 'question before B shown');
    await h.waitFor(async () => (await page.textContent('[data-testid="ticker"]')).includes('土蜂蜜'), 8000, 'order appears as the video reaches it');
  });

  await t.step('seeking back to chapter A shows A and hides what came later', async () => {
    await page.click(`[data-testid="chapter"][data-product="${a}"]`);
    await h.waitFor(async () => (await page.textContent('[data-testid="pinned"]')).includes('山核桃'), 10000, 'A pinned at its chapter');
    h.assert(!(await page.textContent('[data-testid="ticker"]')).includes('土蜂蜜'), 'the later order is not shown yet');
    h.assert(!(await page.textContent('[data-testid="questions"]')).includes('核桃是今年的吗？'), 'the later question is not shown yet');
    await h.waitFor(async () => (await page.textContent('[data-testid="questions"]')).includes('核桃是今年的吗？'), 8000, 'question appears as the video reaches it');
    await t.shot(page, 'replay-360x780');
  });

  await t.step('buying from the replay orders the product on screen', async () => {
    await page.click(`[data-testid="buy"]`);
    await fillJoin(page, '孙七', '9号楼', '13600000000');
    await h.waitFor(async () => !(await page.isDisabled('[data-testid="buy"]')), 10000, 'buy enabled after joining');
    await page.click('[data-testid="buy"]');
    const state = await h.waitFor(() => page.$eval('[data-testid="my-orders"] li[data-key]', (li) =>
      li.dataset.state !== 'pending' && li.dataset.state + ' ' + li.textContent), 10000, 'an answer to the order');
    /* A replay still orders a product on sale: the order names the show. */
    h.assert(state.startsWith('ok'), 'order from the replay after the show ended: ' + state);
  });

  await t.step('the live buyer on the replay: 1 more of B (limit 3, 2 bought live), then 已达限购; 我的订单 lists both', async () => {
    await viewer.goto(srv.url('/replay/' + showId));
    await h.waitFor(async () => (await viewer.$$('[data-testid="chapter"]')).length === 2, 10000, 'chapters');
    await viewer.click(`[data-testid="chapter"][data-product="${b}"]`);
    await h.waitFor(async () => (await viewer.textContent('[data-testid="pinned"]')).includes('土蜂蜜'), 10000, 'B pinned at its chapter');
    /* my_orders: the live order of 2 counts against the limit of 3. */
    await h.waitFor(async () => (await viewer.$$('[data-testid="my-orders"] li[data-replay="false"]')).length === 1, 10000,
      'the live order listed on the replay');
    const opts = await viewer.$$eval('[data-testid="qty"] option', (l) => l.map((o) => o.value));
    h.assert(opts.join() === '1', 'the quantity picker offers 3 - 2 = 1: ' + opts);
    h.assert((await viewer.textContent('[data-testid="limit-note"]')).includes('还可买 1'), 'the limit explained');
    await viewer.click('[data-testid="buy"]');
    await h.waitFor(async () => (await viewer.$$('[data-testid="my-orders"] li[data-replay="true"][data-state="ok"]')).length === 1, 10000,
      'the replay order listed');
    await h.waitFor(async () => (await viewer.textContent('[data-testid="buy"]')) === '已达限购', 5000, '已达限购 on the button');
    h.assert(await viewer.isDisabled('[data-testid="buy"]'), 'buy disabled at the limit');
    h.assert((await viewer.$$('[data-testid="pinned"] [data-testid="qty"]')).length === 0, 'no quantity offered at the limit');
    const mine = await viewer.textContent('[data-testid="my-orders"]');
    h.assert(mine.includes('直播') && mine.includes('回放') && mine.includes('土蜂蜜 ×2') && mine.includes('土蜂蜜 ×1'), '我的订单: ' + mine);
    await viewer.$eval('[data-testid="pinned"]', (e) => e.scrollIntoView());
    await viewer.evaluate(() => window.scrollBy(0, -60));
    await t.shot(viewer, 'replay-limit-360x780');
  });

  const desk = await h.newPage(browser, { width: 1280, height: 800 });
  await desk.goto(srv.url('/replay/' + showId));
  await h.waitFor(async () => (await desk.$$('[data-testid="chapter"]')).length === 2, 10000, 'desktop chapters');
  await t.shot(desk, 'replay-1280x800');
  for (const p of [page, desk]) h.assert(p.problems.length === 0, 'page errors: ' + p.problems.join('; '));
  await browser.close();
  phone.kill('SIGKILL');
}, servers);
