/* test_console.js — the leader console across shows, in Debian's chromium
 * against the real server: between shows it offers 开始直播 (not 结束直播)
 * and the phone's settings (stream key, viewer link, QR code); show 1 begins
 * from the console, the phone publishes, a viewer orders (over its own
 * socket, tests/browser/room.js), the show ends; after
 * a reload the console lists the show under 往期直播 with its orders and GMV,
 * opens its picking list, downloads its CSV, and offers show 1's title and
 * promise for the next show; the next show is announced; show 2 begins with
 * the carried-over title; a replay order of show 1 during show 2 lands in
 * 回放订单, not in the live picking list. Screenshots at 1280x800 and 360x780
 * during a show, between shows and with a past show opened. */
'use strict';

const fs = require('fs');
const h = require('./harness');
const room = require('./room');

const PHONE = { width: 360, height: 780 };
const DESK = { width: 1280, height: 800 };
const XSS = '<img src=x onerror=alert(1)>';
const PICKUP = '3号楼' + XSS; /* typed by a viewer: must stay text in every list */
const TITLE = '高山苹果产地直播';
const PROMISE = '坏果包赔 · 次日自提';
const servers = [];

const tid = (id) => `[data-testid="${id}"]`;
const stateOf = (page) => page.getAttribute(tid('status'), 'data-state');
const showStateOf = (page) => page.getAttribute(tid('status'), 'data-show');
const visible = (page, id) => page.isVisible(tid(id));
const text = (page, sel) => page.textContent(sel);

async function openConsole(page, srv) {
  await page.goto(srv.url('/leader?token=' + h.TOKEN));
  await h.waitFor(async () => ['ok', 'waiting'].includes(await stateOf(page)), 10000, 'console greeted');
}

async function playsPast(page, seconds, timeoutMs) {
  const t0 = await page.evaluate(() => document.querySelector('[data-testid="video"]').currentTime);
  await h.waitFor(async () => (await page.evaluate(() => document.querySelector('[data-testid="video"]').currentTime)) > t0 + seconds,
    timeoutMs, `the console's video plays ${seconds} s`);
}

async function buttons(page) {
  return { begin: await visible(page, 'begin-show'), end: await visible(page, 'end-show') };
}

/* No element built from what users typed: no <img> anywhere in the lists, no alert. */
async function noMarkupFromUsers(page) {
  const imgs = await page.$$eval(`${tid('orders')} img, ${tid('past-shows')} img, ${tid('replay-orders')} img`, (l) => l.length);
  h.assert(imgs === 0, 'an <img> was made from user text');
  h.assert(!page.dialogs.some((d) => d.startsWith('alert')), 'alert: ' + page.dialogs.join('; '));
}

/* Product rows at 360 px: the name keeps a usable width. */
async function rowsNotCollapsed(page) {
  const widths = await page.$$eval('#products li[data-product] .name', (l) => l.map((n) => n.getBoundingClientRect().width));
  h.assert(widths.length > 0 && widths.every((w) => w >= 150), 'product names squeezed at 360 px: ' + widths.join(','));
}

h.main('console', async (t) => {
  const srv = new h.Server(['--width', '360', '--height', '640', '--bitrate', '600', '--segment-ms', '1000']);
  servers.push(srv);
  await srv.start();
  const KEY = srv.rtmpUrl.split('/').pop();
  const clipOpts = ['-s', '360x640', '-d', '180', '-b', '600'];
  h.makeClip(...clipOpts);
  let phone = null;
  const browser = await h.launchChromium();
  const leader = await h.newPage(browser, DESK);
  let pid, show1, show2, buyer;

  await t.step('between shows, no phone: 开始直播 offered, 结束直播 not, the phone is 未连接', async () => {
    await openConsole(leader, srv);
    h.assert((await stateOf(leader)) === 'waiting', 'no show open on a fresh server');
    const b = await buttons(leader);
    h.assert(b.begin && !b.end, 'between shows: begin only ' + JSON.stringify(b));
    await h.waitFor(async () => (await text(leader, '#health')).includes('手机未连接'), 5000, '手机未连接');
  });

  await t.step('settings: RTMP server, stream key, publish URL, viewer link and its QR code', async () => {
    await h.waitFor(async () => (await leader.inputValue(tid('stream-key'))) === KEY, 5000, 'stream key from welcome.settings');
    h.assert((await leader.getAttribute(tid('stream-key'), 'type')) === 'password', 'the key is masked until asked');
    await leader.click(tid('stream-key-show'));
    h.assert((await leader.getAttribute(tid('stream-key'), 'type')) === 'text', 'shown on request');
    const rtmp = await leader.inputValue(tid('rtmp-url'));
    h.assert(rtmp.startsWith('rtmp://') && rtmp.includes(':' + srv.rtmpPort + '/live'), 'rtmp url ' + rtmp);
    const pub = await leader.inputValue(tid('publish-url'));
    h.assert(pub.endsWith('/live/' + KEY), 'publish url ' + pub);
    const link = await leader.inputValue(tid('viewer-link'));
    h.assert(/^https?:\/\/.+\/$/.test(link), 'viewer link ' + link);
    const src = await leader.getAttribute(tid('viewer-qr'), 'src');
    h.assert(src.startsWith('/api/qr.svg'), 'qr src ' + src);
    await h.waitFor(() => leader.evaluate(() => { const i = document.querySelector('[data-testid="viewer-qr"]'); return i.complete && i.naturalWidth > 0; }),
      5000, 'the QR image loads (naturalWidth > 0)');
    const rec = await text(leader, tid('recommended'));
    for (const s of ['720×1280', '30 fps', '2000–3000 kbit/s', '1–2 秒']) h.assert(rec.includes(s), 'recommended ' + s);
    await leader.click(tid('stream-key-show'));
  });

  await t.step('a product from the console', async () => {
    await leader.fill('#pform [name="name"]', '高山苹果');
    await leader.fill('#pform [name="price"]', '12.8');
    await leader.fill('#pform [name="unit"]', '斤');
    await leader.fill('#pform [name="stock"]', '50');
    await leader.click(tid('product-save'));
    const li = await leader.waitForSelector('#products li[data-product]');
    pid = Number(await li.getAttribute('data-product'));
    h.assert((await leader.$$(tid('pin-' + pid))).length === 0, 'no 讲解 between shows (a pin needs a show)');
  });

  await t.step('begin show 1 from the console (title, promise), then the phone publishes: waiting -> live', async () => {
    await leader.fill(tid('begin-title'), TITLE);
    await leader.fill(tid('begin-promise'), PROMISE);
    await leader.click(tid('begin-show'));
    await h.waitFor(async () => (await stateOf(leader)) === 'ok', 5000, 'show open');
    const shows = await srv.json('/api/shows');
    show1 = shows[0];
    h.assert(show1.title === TITLE && show1.promise === PROMISE, 'show 1 as typed: ' + JSON.stringify(show1));
    h.assert(show1.state === 'waiting', 'a show without the phone is waiting: ' + show1.state);
    h.assert((await showStateOf(leader)) === 'waiting', 'console shows waiting');
    const b = await buttons(leader);
    h.assert(!b.begin && b.end, 'during a show: end only ' + JSON.stringify(b));
    h.assert((await text(leader, '#health')).includes('等手机推流'), 'waiting for the phone: ' + await text(leader, '#health'));
    phone = h.fakePhone(srv.rtmpUrl, ...clipOpts);
    await h.waitFor(async () => (await showStateOf(leader)) === 'live', 30000, 'show state live');
    await h.waitFor(async () => /手机推流中 · 码率 \d+ kbit\/s/.test(await text(leader, '#health')), 5000, 'phone live with its bitrate');
  });

  await t.step('a viewer orders 2 (over its own socket); the console lists it by pickup point with the order price', async () => {
    buyer = await room.open(browser, srv, { role: 'viewer', name: '王小明', pickup: PICKUP, phone: '13800000000' });
    await leader.click(tid('pin-' + pid));
    await h.waitFor(async () => (await text(leader, tid('pin-' + pid))) === '取消讲解', 5000, 'pinned in the console');
    const ok = await buyer.request({ type: 'order', product_id: pid, qty: 2, key: 'live-order-1' },
      (m) => ['order.ok', 'order.rejected', 'error'].includes(m.type), 10000, 'order answer');
    h.assert(ok.type === 'order.ok', 'order taken: ' + JSON.stringify(ok));
    await h.waitFor(async () => {
      const s = await text(leader, tid('orders'));
      return s.includes('王小明') && s.includes(PICKUP) && s.includes('高山苹果 ×2') && s.includes('¥25.60');
    }, 5000, 'the order in the live picking list');
    await noMarkupFromUsers(leader);
  });

  await t.step('the console\'s preview plays the show (hidden between shows, begun from there); screenshots', async () => {
    await playsPast(leader, 1, 45000);
    await leader.evaluate(() => window.scrollTo(0, 0));
    await t.shot(leader, 'console-show-1280x800');
    const small = await h.newPage(browser, PHONE);
    await openConsole(small, srv);
    await small.waitForSelector(tid('pin-' + pid));
    await rowsNotCollapsed(small);
    h.assert((await text(small, tid('orders'))).includes('王小明'), 'a console opened mid-show lists the show\'s orders');
    await playsPast(small, 0.5, 30000);
    await t.shot(small, 'console-show-360x780');
    await small.context().close();
  });

  await t.step('end show 1: begin offered again, the phone still connected: 手机已连接，可以开播', async () => {
    await leader.click(tid('end-show'));
    await h.waitFor(async () => (await stateOf(leader)) === 'waiting', 5000, 'between shows');
    const b = await buttons(leader);
    h.assert(b.begin && !b.end, 'after the end: begin only ' + JSON.stringify(b));
    await h.waitFor(async () => (await text(leader, '#health')).includes('手机已连接，可以开播'), 5000,
      '手机已连接，可以开播 (got ' + await text(leader, '#health') + ')');
  });

  await t.step('reload: 往期直播 lists show 1 with orders and GMV; the last show\'s picking list and CSV stay', async () => {
    await leader.reload();
    await h.waitFor(async () => (await stateOf(leader)) === 'waiting', 10000, 'greeted after reload');
    const row = tid('past-show-' + show1.id);
    await leader.waitForSelector(row, { timeout: 5000 });
    const api = (await srv.json('/api/shows?token=' + h.TOKEN)).find((s) => s.id === show1.id);
    h.assert(api.state === 'ended' && api.gmv_cents === 2560 && api.orders === 1, '/api/shows with the token: ' + JSON.stringify(api));
    const rowText = await text(leader, row);
    h.assert(rowText.includes('1 单') && rowText.includes('¥25.60') && rowText.includes(TITLE), 'row: ' + rowText);
    h.assert(/时长 \d/.test(rowText), 'duration in the row: ' + rowText);
    /* The orders card between shows: the last show's picking list, not 还没有订单. */
    await h.waitFor(async () => (await text(leader, tid('orders'))).includes('王小明'), 5000, 'last show\'s picking list after reload');
    h.assert(await visible(leader, 'csv'), 'CSV link visible between shows');
    h.assert(!(await leader.getAttribute(tid('csv'), 'href')).includes('token'), 'no token in the CSV link');
    const [dl0] = await Promise.all([leader.waitForEvent('download', { timeout: 10000 }), leader.click(tid('csv'))]);
    h.assert(dl0.suggestedFilename() === `orders-show-${show1.id}.csv`, 'the CSV of show 1: ' + dl0.suggestedFilename());
    h.assert(fs.readFileSync(await dl0.path(), 'utf8').includes('王小明'), 'the orders card\'s CSV has the order');
    await noMarkupFromUsers(leader);
  });

  await t.step('the past show opens its picking list, CSV (downloads, has the order) and replay link', async () => {
    await leader.click(`${tid('past-show-' + show1.id)} summary`);
    const pick = tid('picking-' + show1.id);
    await h.waitFor(async () => {
      const s = await text(leader, pick);
      return s.includes('王小明') && s.includes(PICKUP) && s.includes('高山苹果') && s.includes('2 斤') && s.includes('¥25.60');
    }, 5000, 'picking list of show 1');
    h.assert((await leader.getAttribute(tid('replay-link-' + show1.id), 'href')) === '/replay/' + show1.id, 'replay link');
    const [dl] = await Promise.all([leader.waitForEvent('download', { timeout: 10000 }), leader.click(tid('csv-' + show1.id))]);
    const csv = fs.readFileSync(await dl.path(), 'utf8');
    h.assert(csv.includes('王小明') && csv.includes('高山苹果') && csv.includes('25.60'), 'CSV has the order: ' + csv.slice(0, 300));
    await noMarkupFromUsers(leader);
    await t.shot(leader, 'console-between-1280x800');
    const small = await h.newPage(browser, PHONE);
    await openConsole(small, srv);
    await small.waitForSelector(tid('past-show-' + show1.id));
    await t.shot(small, 'console-between-360x780');
    await small.click(`${tid('past-show-' + show1.id)} summary`);
    await small.waitForSelector(`${tid('picking-' + show1.id)} li[data-order]`);
    await small.$eval(tid('past-show-' + show1.id), (n) => n.scrollIntoView());
    await t.shot(small, 'console-past-open-360x780');
    await small.context().close();
  });

  await t.step('the begin form carries show 1\'s title and promise', async () => {
    h.assert((await leader.inputValue(tid('begin-title'))) === TITLE, 'title prefilled: ' + await leader.inputValue(tid('begin-title')));
    h.assert((await leader.inputValue(tid('begin-promise'))) === PROMISE, 'promise prefilled');
  });

  await t.step('announce the next show: shown back, and after a reload', async () => {
    const at = new Date(Date.now() + 2 * 86400000);
    at.setHours(10, 0, 0, 0);
    const local = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T10:00`;
    await leader.fill(tid('schedule-title'), '土蜂蜜专场');
    await leader.fill(tid('schedule-at'), local(at));
    await leader.click(tid('schedule-save'));
    await h.waitFor(async () => (await text(leader, tid('next-show'))).includes('土蜂蜜专场'), 5000, 'schedule broadcast shown');
    h.assert((await text(leader, tid('next-show'))).includes('10:00'), 'time shown');
    await leader.reload();
    await h.waitFor(async () => (await text(leader, tid('next-show'))).includes('土蜂蜜专场'), 10000, 'welcome.next_show after reload');
    h.assert((await leader.inputValue(tid('schedule-at'))) === local(at), 'the form shows the announced time');
  });

  await t.step('begin show 2 with the carried-over title: the video starts at once (phone connected)', async () => {
    h.assert((await leader.inputValue(tid('begin-title'))) === TITLE, 'title prefilled after reload');
    await leader.click(tid('begin-show'));
    await h.waitFor(async () => (await stateOf(leader)) === 'ok', 5000, 'show 2 open');
    show2 = (await srv.json('/api/shows'))[0];
    h.assert(show2.id > show1.id && show2.title === TITLE && show2.promise === PROMISE, 'show 2 carried over: ' + JSON.stringify(show2));
    const b = await buttons(leader);
    h.assert(!b.begin && b.end, 'during show 2: end only ' + JSON.stringify(b));
    await h.waitFor(async () => (await showStateOf(leader)) === 'live', 15000, 'show 2 live');
    const o = await text(leader, tid('orders'));
    h.assert(!o.includes('王小明'), 'show 2 starts with an empty live list: ' + o);
  });

  await t.step('a replay order of show 1 during show 2 goes to 回放订单, not the live list', async () => {
    const ok = await buyer.request({ type: 'order', product_id: pid, qty: 1, key: 'replay-order-1', show_id: show1.id, seen_ms: 1000 },
      (m) => ['order.ok', 'order.rejected', 'error'].includes(m.type), 10000, 'replay order answer');
    h.assert(ok.type === 'order.ok', 'replay order taken: ' + JSON.stringify(ok));
    await h.waitFor(async () => {
      const s = await text(leader, tid('replay-orders'));
      return s.includes('王小明') && s.includes('回放') && s.includes('¥12.80');
    }, 5000, 'replay order listed');
    h.assert(await visible(leader, 'replay-orders'), 'replay list visible');
    h.assert(!(await text(leader, tid('orders'))).includes('王小明'), 'not in the live picking list');
    /* and in show 1's picking list, marked 回放 */
    await leader.click(`${tid('past-show-' + show1.id)} summary`);
    await h.waitFor(async () => {
      const s = await text(leader, tid('picking-' + show1.id));
      return s.includes('回放') && s.includes('3 斤');
    }, 5000, 'show 1 picking list with the replay order');
    await noMarkupFromUsers(leader);
  });

  await t.step('the phone drops during show 2: slate, 结束直播 still offered; back to live', async () => {
    phone.kill('SIGKILL');
    await h.waitFor(async () => (await showStateOf(leader)) === 'slate', 15000, 'show state slate');
    await h.waitFor(async () => (await text(leader, '#health')).includes('手机未连接（观众看到“信号重连中”）'), 5000, 'phone away text');
    const b = await buttons(leader);
    h.assert(!b.begin && b.end, 'on the slate: end only ' + JSON.stringify(b));
    phone = h.fakePhone(srv.rtmpUrl, ...clipOpts);
    await h.waitFor(async () => (await showStateOf(leader)) === 'live', 30000, 'live again');
  });

  await t.step('the open show\'s promise is changed from the console', async () => {
    await leader.click('#edit-show > summary');
    /* filled on the details' toggle event, which fires a task later */
    await h.waitFor(async () => (await leader.inputValue(tid('update-title'))) === TITLE, 3000, 'edit form filled');
    await leader.fill(tid('update-promise'), '坏一赔二');
    await leader.click(tid('update-show'));
    await h.waitFor(async () => (await text(leader, '#show-info')).includes('承诺：坏一赔二'), 5000, 'show broadcast with the new promise');
    h.assert((await srv.json('/api/shows'))[0].promise === '坏一赔二', 'stored');
  });

  await t.step('the announcement is withdrawn', async () => {
    await leader.click('#sched > summary'); /* folded during a show */
    await leader.click(tid('schedule-clear'));
    await h.waitFor(async () => (await text(leader, tid('next-show'))).includes('还没有预告'), 5000, 'schedule cleared');
    h.assert(!(await visible(leader, 'schedule-clear')), 'nothing left to withdraw');
    await playsPast(leader, 2, 30000);
    await leader.evaluate(() => window.scrollTo(0, 0));
    await t.shot(leader, 'console-show2-1280x800');
  });

  for (const p of [leader]) h.assert(p.problems.length === 0, 'page errors: ' + p.problems.join('; '));
  await browser.close();
  if (phone) phone.kill('SIGKILL');
}, servers);
