/* test_live.js — the viewer page and the leader console in Debian's chromium
 * against the real server while the fake phone publishes: a first-time
 * visitor watches at once as a guest (no join wall), the video plays, a pin
 * from the console reaches the viewer's card with the picture (timed), the
 * guest is asked to join on buy and the order goes out with the frame seen
 * at the tap, the console shows it, a hostile question stays text, a reload
 * keeps the viewer, a retried order is not counted twice, kill -9 and
 * restart of the server mid-show is survived by the page on its own, ending
 * the show stops the video and offers the replay, between shows there is no
 * player, no buy button and no join form but the next show and the past
 * replays, and a new show starts the player again. Screenshots at 360x780
 * and 1280x800; figures printed. */
'use strict';

const h = require('./harness');
const room = require('./room');

const PHONE = { width: 360, height: 780 };
const DESK = { width: 1280, height: 800 };
const XSS = '<img src=x onerror=alert(1)>';
const servers = [];

const currentTime = (page) => page.evaluate(() => document.querySelector('[data-testid="video"]').currentTime);
const statusOf = (page) => page.getAttribute('[data-testid="status"]', 'data-state');

async function playsPast(page, seconds, timeoutMs) {
  await h.waitFor(async () => (await currentTime(page)) > seconds, timeoutMs, `video currentTime > ${seconds}`);
}

async function orderEvents(srv, showId) {
  return (await srv.json(`/api/shows/${showId}/events`)).filter((e) => e.type === 'order');
}

h.main('live', async (t) => {
  const srv = new h.Server(['--width', '360', '--height', '640', '--bitrate', '600', '--segment-ms', '1000']);
  servers.push(srv);
  await srv.start();
  const clipOpts = ['-s', '360x640', '-d', '120', '-b', '600'];
  h.makeClip(...clipOpts);
  let phone = h.fakePhone(srv.rtmpUrl, ...clipOpts);
  const browser = await h.launchChromium();

  const leader = await h.newPage(browser, DESK);
  const viewer = await h.newPage(browser, PHONE);
  const weight = { bytes: 0, files: [] };
  viewer.on('response', async (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/' || (u.pathname.startsWith('/web/') && !u.pathname.startsWith('/vendor/'))) {
      try { const b = await r.body(); weight.bytes += b.length; weight.files.push(u.pathname + ' ' + b.length); } catch (e) { /* */ }
    }
  });

  let pid;
  await t.step('leader console: log in with the token and create a product', async () => {
    await leader.goto(srv.url('/leader?token=' + h.TOKEN));
    await leader.waitForSelector('[data-testid="status"][data-state="ok"], [data-testid="status"][data-state="waiting"]', { state: 'attached' });
    await leader.fill('#pform [name="name"]', '高山苹果');
    await leader.fill('#pform [name="price"]', '12.8');
    await leader.fill('#pform [name="unit"]', '斤');
    await leader.fill('#pform [name="stock"]', '50');
    await leader.fill('#pform [name="limit"]', '5');
    /* A picture with it: a real PNG, uploaded once the product exists. */
    const png = require('child_process').execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i',
      'testsrc=s=200x200', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-']);
    await leader.setInputFiles('#pform [name="image"]', { name: 'apple.png', mimeType: 'image/png', buffer: png });
    await leader.click('[data-testid="product-save"]');
    const li = await leader.waitForSelector('#products li[data-product]');
    pid = Number(await li.getAttribute('data-product'));
    h.assert(pid >= 1, 'product id');
    h.assert((await li.textContent()).includes('高山苹果'), 'product name listed');
    const img = await h.waitFor(async () => {
      const st = await h.get(srv.url(`/api/products/${pid}/image`));
      return st.status === 200 && st;
    }, 10000, 'the uploaded picture stored');
    h.assert(img.body.slice(1, 4).toString() === 'PNG', 'served as PNG');
  });

  await t.step('viewer page: a first-time visitor watches at once as a guest (no join form)', async () => {
    await viewer.goto(srv.url('/?ref=grp1'));
    await h.waitFor(async () => (await viewer.textContent('#me')).includes('游客'), 10000, 'guest welcome');
    h.assert((await viewer.$$('[data-testid="join"]')).length === 0, 'no join form for a guest');
    await h.waitFor(async () => (await viewer.textContent('[data-testid="product-list"]')).includes('高山苹果'), 5000, 'product list');
    const token = await viewer.evaluate(() => localStorage.getItem('tc.viewer_token'));
    h.assert(!token || token === 'null', 'no viewer_token for a guest: ' + token);
  });

  await t.step('viewer page plays the live video (currentTime past 3 s, and 3 s more)', async () => {
    /* A live player starts at the edge, so currentTime may begin past 3 s:
     * it must also advance by 3 s of playback. */
    await playsPast(viewer, 3, 45000);
    const t0 = await currentTime(viewer);
    await playsPast(viewer, t0 + 3, 15000);
    const kind = await viewer.evaluate(() => window.tcPlayer && window.tcPlayer.kind);
    console.log('player: ' + kind);
    weight.first = weight.bytes;
    weight.firstFiles = weight.files.slice();
  });

  await t.step('leader pins from the console; the viewer\'s card changes with the picture', async () => {
    /* The card follows the video: it changes when the frame showing the
     * pin is on screen, the player's latency after the tap. Timed, printed,
     * not asserted (test_sync.js checks the frame). */
    const lat = [], msg = [];
    for (let i = 0; i < 5; i++) {
      const want = i % 2 === 0; /* pin, unpin, pin, unpin, pin */
      await viewer.evaluate((want) => {
        window.tcSeenAt = 0;
        window.tcMsgAt = 0;
        const room = window.tcRoom;
        const ws = room.ws;
        const onMsg = (ev) => { if (ev.data.indexOf('"pinned"') >= 0 && !window.tcMsgAt) window.tcMsgAt = performance.timeOrigin + performance.now(); };
        ws.addEventListener('message', onMsg);
        const box = document.querySelector('[data-testid="pinned"]');
        const done = () => !!box.querySelector('[data-testid="pinned-name"]') === want;
        const obs = new MutationObserver(() => {
          if (done()) { window.tcSeenAt = performance.timeOrigin + performance.now(); obs.disconnect(); ws.removeEventListener('message', onMsg); }
        });
        obs.observe(box, { childList: true, subtree: true, characterData: true });
      }, want);
      await leader.click(`[data-testid="pin-${pid}"]`);
      const tap = await leader.evaluate(() => window.tcPinTapAt);
      const seen = await h.waitFor(() => viewer.evaluate(() => window.tcSeenAt), 20000, 'pin on the viewer page with the picture');
      lat.push(seen - tap);
      msg.push((await viewer.evaluate(() => window.tcMsgAt)) - tap);
      await h.sleep(200);
    }
    lat.sort((a, b) => a - b);
    msg.sort((a, b) => a - b);
    h.assert((await viewer.textContent('[data-testid="pinned"]')).includes('高山苹果'), 'pinned card shows the product');
    t.figure(`pin tap -> pinned message at the viewer: median ${msg[2].toFixed(1)} ms, max ${msg[4].toFixed(1)} ms; ` +
      `-> the viewer's card changes (with the picture): median ${lat[2].toFixed(0)} ms, max ${lat[4].toFixed(0)} ms (5 taps, loopback, chromium headless)`);
  });

  await t.step('viewer buys the pinned product at the frame on screen; the console shows the order', async () => {
    /* The player is seconds behind the encoder: wait until the frame on
     * screen is past the last pin, so the product on screen is the pinned one. */
    const show0 = (await srv.json('/api/shows'))[0];
    const pinMs = (await srv.json(`/api/shows/${show0.id}/events`)).filter((e) => e.type === 'pin').pop().stream_ms;
    await h.waitFor(async () => (await viewer.evaluate(() => window.tcSeenMs())) > pinMs + 300, 15000, 'the pinned frame on screen');
    await viewer.selectOption('[data-testid="qty"]', '2');
    const tapMs = await viewer.evaluate(() => window.tcSeenMs());
    await viewer.click('[data-testid="buy"]');
    /* A guest: asked for name, pickup point and phone now, in a sheet. */
    await viewer.waitForSelector('[data-testid="join"]', { timeout: 5000 });
    await t.shot(viewer, 'join-sheet-360x780');
    await viewer.fill('[data-testid="join"] [name="name"]', '王小明');
    await viewer.fill('[data-testid="join"] [name="pickup"]', '3号楼');
    await viewer.fill('[data-testid="join"] [name="phone"]', '13800000000');
    /* A neighbour takes a while to type: the picture moves on meanwhile. */
    await viewer.waitForTimeout(1500);
    await viewer.click('[data-testid="join-submit"]');
    await h.waitFor(async () => (await viewer.textContent('#me')).includes('3号楼'), 10000, 'joined');
    const token = await viewer.evaluate(() => JSON.parse(localStorage.getItem('tc.viewer_token')));
    h.assert(token && token.length > 8, 'viewer_token kept in localStorage after joining');
    await viewer.waitForSelector('[data-testid="my-orders"] li[data-state="ok"]', { timeout: 10000 });
    h.assert((await viewer.textContent('[data-testid="my-orders"]')).includes('高山苹果 ×2'), 'my orders');
    await h.waitFor(async () => {
      const s = await leader.textContent('[data-testid="orders"]');
      return s.includes('王小明') && s.includes('3号楼') && s.includes('×2');
    }, 3000, 'order in the console');
    const show = (await srv.json('/api/shows'))[0];
    const ev = (await orderEvents(srv, show.id))[0];
    h.assert(typeof ev.data.seen_ms === 'number', 'the order carries seen_ms: ' + JSON.stringify(ev.data));
    h.assert(ev.data.seen_product_id === pid, 'seen_ms falls where the product was pinned: ' + JSON.stringify(ev.data));
    /* Within a few frames of the tap (a busy machine runs the click a little
     * later than the test read the frame), never 1.5 s later at the join. */
    h.assert(Math.abs(ev.data.seen_ms - tapMs) < 500, `seen_ms is the frame at the tap (${tapMs}), not after joining: ${ev.data.seen_ms}`);
    t.figure(`seen_ms behind the server's stream_ms at the order: ${ev.stream_ms - ev.data.seen_ms} ms (player latency behind the encoder)`);
    h.assert((await viewer.textContent('[data-testid="product-list"]')).includes('库存 48'), 'stock updated');
  });

  await t.step('a question with HTML in it is shown as text, on both pages', async () => {
    await viewer.fill('[data-testid="ask-input"]', XSS);
    await viewer.click('[data-testid="ask-send"]');
    await h.waitFor(async () => (await viewer.textContent('[data-testid="questions"]')).includes(XSS), 3000, 'question shown');
    await h.waitFor(async () => (await leader.textContent('[data-testid="questions"]')).includes(XSS), 3000, 'question in the console');
    for (const p of [viewer, leader]) {
      h.assert((await p.$$('[data-testid="questions"] img')).length === 0, 'no <img> made from the question');
    }
    const qid = await leader.getAttribute('[data-testid="questions"] li[data-qid]', 'data-qid');
    await leader.fill(`[data-testid="answer-input-${qid}"]`, '<b>包邮</b>');
    await leader.click(`[data-testid="answer-${qid}"]`);
    await h.waitFor(async () => (await viewer.textContent('[data-testid="questions"]')).includes('团长：<b>包邮</b>'), 3000, 'answer as text');
    await h.sleep(500);
    h.assert(viewer.dialogs.length === 0 && leader.dialogs.length === 0, 'no alert: ' + viewer.dialogs.concat(leader.dialogs));
  });

  await t.step('the console puts a question on screen; the viewer highlights it when the picture does', async () => {
    const qid = await leader.getAttribute('[data-testid="questions"] li[data-qid]', 'data-qid');
    await leader.click(`[data-testid="highlight-${qid}"]`);
    await viewer.waitForSelector(`[data-testid="questions"] li.hl[data-qid="${qid}"]`, { timeout: 20000 });
    const log = await viewer.evaluate(() => window.tcSync.log.filter((c) => c.what.startsWith('highlight')).pop());
    h.assert(log && log.frame_ms >= log.ms - 8 && log.frame_ms < log.ms + 34, 'applied on the frame at its stream_ms: ' + JSON.stringify(log));
  });

  await t.step('the console edits stock and sale: the viewer shows 已售罄 and 未开售, then can buy again', async () => {
    await leader.click(`#products li[data-product="${pid}"] >> text=编辑`);
    await leader.fill('#pform [name="stock"]', '0');
    await leader.click('[data-testid="product-save"]');
    await h.waitFor(async () => (await viewer.textContent('[data-testid="product-list"]')).includes('已售罄'), 3000, '已售罄 in the list');
    h.assert(await viewer.isDisabled('[data-testid="buy"]'), 'buy disabled when sold out');
    await leader.click(`#products li[data-product="${pid}"] >> text=下架`);
    await h.waitFor(async () => (await viewer.textContent('[data-testid="buy"]')) === '未开售', 3000, '未开售 on the card');
    await leader.click(`#products li[data-product="${pid}"] >> text=上架`);
    await leader.click(`#products li[data-product="${pid}"] >> text=编辑`);
    await leader.fill('#pform [name="stock"]', '40');
    await leader.click('[data-testid="product-save"]');
    await h.waitFor(async () => !(await viewer.isDisabled('[data-testid="buy"]')), 3000, 'buy enabled again');
    h.assert((await viewer.textContent('[data-testid="product-list"]')).includes('库存 40'), 'stock 40 shown');
  });

  await t.step('the phone drops: the viewer is told the leader is reconnecting, then back to live', async () => {
    phone.kill('SIGKILL');
    await h.waitFor(async () => (await statusOf(viewer)) === 'publisher-lost', 10000, 'viewer status publisher-lost');
    h.assert((await viewer.textContent('[data-testid="status"]')).includes('团长网络不稳定'), 'status text');
    await h.waitFor(async () => (await leader.getAttribute('#health', 'data-live')) === '0', 5000, 'console health shows the drop');
    phone = h.fakePhone(srv.rtmpUrl, ...clipOpts);
    await h.waitFor(async () => (await statusOf(viewer)) === 'ok', 15000, 'viewer status back to live');
  });

  await t.step('the console shows publisher health and adds and removes a restream target', async () => {
    await h.waitFor(async () => /码率 \d+ kbit\/s/.test(await leader.textContent('#health')), 5000, 'bitrate from the stream status');
    const url = 'rtmp://127.0.0.1:9/live/elsewhere'; /* nothing listens: it retries */
    await leader.fill('[data-testid="restream-url"]', url);
    await leader.click('[data-testid="restream-add"]');
    await h.waitFor(async () => (await leader.textContent('[data-testid="restream"]')).includes(url), 5000, 'target listed');
    await leader.click(`[data-restream="${url}"] [data-testid="restream-remove"]`);
    await h.waitFor(async () => (await leader.textContent('[data-testid="restream"]')).includes('未配置转推'), 5000, 'target removed');
  });

  await t.step('screenshots at 360x780 and 1280x800', async () => {
    console.log('tap button: ' + await viewer.evaluate(() => { const b = document.getElementById('tap'); return b.className + ' ' + b.textContent + ' muted=' + document.querySelector('video').muted; }));
    await t.shot(viewer, 'viewer-360x780');
    await t.shot(leader, 'leader-1280x800');
    const v2 = await h.newPage(browser, DESK);
    await v2.goto(srv.url('/'));
    await h.waitFor(async () => (await v2.textContent('#me')).includes('游客'), 10000, 'second viewer, a guest');
    await playsPast(v2, 1, 30000);
    await t.shot(v2, 'viewer-1280x800');
    const l2 = await h.newPage(browser, PHONE);
    await l2.goto(srv.url('/leader?token=' + h.TOKEN));
    await l2.waitForSelector(`[data-testid="pin-${pid}"]`);
    await t.shot(l2, 'leader-360x780');
    await v2.context().close();
    await l2.context().close();
  });

  await t.step('the invite link carries ref', async () => {
    await viewer.click('#invite');
    const link = await viewer.inputValue('[data-testid="invite-link"]');
    h.assert(/\/\?ref=v\d+$/.test(link), 'invite link ' + link);
  });

  await t.step('a reload keeps the viewer (no form; same orders)', async () => {
    await viewer.reload();
    await h.waitFor(async () => (await viewer.textContent('#me')).includes('王小明'), 10000, 'welcome after reload');
    h.assert((await viewer.$$('[data-testid="join"]')).length === 0, 'no join form after reload');
    await viewer.waitForSelector('[data-testid="my-orders"] li[data-state="ok"]');
    t.figure(`viewer page weight without hls.js: ${weight.first} bytes (${weight.firstFiles.join(', ')})`);
    h.assert(weight.first > 0 && weight.firstFiles.length >= 5, 'page weight measured');
  });

  await t.step('an order sent but never answered is retried with the same key and counted once', async () => {
    const show = (await srv.json('/api/shows'))[0];
    const before = (await orderEvents(srv, show.id)).length;
    /* The order goes out on the socket and the page is reloaded before any
     * answer could be seen: the reloaded page sends it again, same key. */
    await viewer.evaluate((pid) => {
      const o = { key: 'o-retry-test', product_id: pid, qty: 1, state: 'pending' };
      window.tcRoom.send({ type: 'order', product_id: pid, qty: 1, key: o.key });
      const k = 'tc.pending.' + JSON.parse(localStorage.getItem('tc.viewer_token'));
      localStorage.setItem(k, JSON.stringify([o]));
    }, pid);
    await viewer.reload();
    await h.waitFor(async () => (await viewer.$$('[data-testid="my-orders"] li[data-key="o-retry-test"][data-state="ok"]')).length === 1,
      10000, 'retried order acknowledged');
    await h.sleep(500);
    const after = (await orderEvents(srv, show.id)).length;
    h.assert(after === before + 1, `one order, not two: ${before} -> ${after}`);
  });

  await t.step('kill -9 and restart of the server mid-show: the page reconnects by itself', async () => {
    const ordersBefore = await viewer.$$eval('[data-testid="my-orders"] li[data-state="ok"]', (l) => l.length);
    await srv.kill9();
    phone.kill('SIGKILL');
    await h.waitFor(async () => (await statusOf(viewer)) === 'reconnecting', 10000, 'viewer shows reconnecting');
    await h.sleep(1500);
    await srv.start();
    phone = h.fakePhone(srv.rtmpUrl, ...clipOpts);
    await h.waitFor(async () => ['ok', 'waiting', 'publisher-lost'].includes(await statusOf(viewer)), 30000, 'viewer back in the room');
    const t0 = await currentTime(viewer);
    await h.waitFor(async () => (await currentTime(viewer)) > t0 + 2, 60000, 'video playing again after restart');
    await viewer.click('[data-testid="buy"]');
    await h.waitFor(async () => (await viewer.$$('[data-testid="my-orders"] li[data-state="ok"]')).length === ordersBefore + 1,
      10000, 'a new order after the restart');
    await h.waitFor(async () => (await leader.getAttribute('[data-testid="status"]', 'data-state')) === 'ok', 15000, 'console back too');
  });

  let endedId;
  await t.step('ending the show from the console: the video stops, no buy button, the replay offered', async () => {
    const before = await viewer.evaluate(() => ({ last: window.tcSync.last, following: window.tcSync.following() }));
    const t0 = Date.now();
    await leader.click('[data-testid="end-show"]');
    /* At the end of the picture the player is behind by its latency. */
    await h.waitFor(async () => (await statusOf(viewer)) === 'ended', 15000, 'viewer status ended');
    const end = await viewer.evaluate(() => window.tcSync.log.filter((c) => c.what === 'end').pop());
    t.figure(`show.end -> the viewer's video stops: ${Date.now() - t0} ms (the end at stream_ms ${end && end.ms}, ` +
      `applied on the frame at ${end && end.frame_ms}; before: ${JSON.stringify(before)})`);
    const href = await viewer.getAttribute('[data-testid="replay-link"]', 'href');
    h.assert(/^\/replay\/\d+$/.test(href), 'replay link ' + href);
    endedId = Number(href.split('/')[2]);
    const v = await viewer.evaluate(() => {
      const v = document.querySelector('[data-testid="video"]');
      return { src: v.getAttribute('src'), ready: v.readyState, paused: v.paused, visible: v.offsetParent !== null };
    });
    h.assert(!v.src && v.ready === 0 && v.paused && !v.visible, 'the player is stopped, empty and hidden: ' + JSON.stringify(v));
    h.assert(!(await viewer.isVisible('[data-testid="buy"]')), 'no buy button after the end');
    h.assert((await viewer.textContent('[data-testid="offair"]')).includes('直播已结束'), '直播已结束 shown');
    await t.shot(viewer, 'viewer-ended-360x780');
  });

  await t.step('between shows: no player, no buy button, no join form; past replays and the next show', async () => {
    await viewer.reload();
    await h.waitFor(async () => (await statusOf(viewer)) === 'between', 10000, 'between shows after a reload');
    await h.waitFor(async () => (await viewer.$$(`[data-testid="past-show"][href="/replay/${endedId}"]`)).length === 1, 10000,
      'the ended show offered as a replay');
    h.assert(!(await viewer.isVisible('[data-testid="buy"]')), 'no buy button between shows');
    h.assert(!(await viewer.isVisible('[data-testid="video"]')), 'no player between shows');
    h.assert((await viewer.$$('[data-testid="join"]')).length === 0, 'no join form between shows');
    const L = await room.leader(browser, srv);
    const at = Date.now() + 26 * 3600 * 1000;
    await L.send({ type: 'show.schedule', title: '明晚 水蜜桃专场', at_unix_ms: at });
    await h.waitFor(async () => (await viewer.textContent('[data-testid="offair"]')).includes('明晚 水蜜桃专场'), 5000, 'the next show announced');
    await t.shot(viewer, 'viewer-between-360x780');
    const dv = await h.newPage(browser, DESK);
    await dv.goto(srv.url('/'));
    await h.waitFor(async () => (await statusOf(dv)) === 'between', 10000, 'between shows on a desktop');
    await h.waitFor(async () => (await dv.$$('[data-testid="past-show"]')).length > 0, 10000, 'past shows on a desktop');
    await t.shot(dv, 'viewer-between-1280x800');
    await dv.context().close();
    /* A guest between shows (one with a token the server does not know:
     * it watches on as a guest): no join form either. */
    const g = await h.newPage(browser, PHONE);
    await g.addInitScript(() => localStorage.setItem('tc.viewer_token', JSON.stringify('no-such-token')));
    await g.goto(srv.url('/'));
    await h.waitFor(async () => (await g.textContent('#me')).includes('游客'), 10000, 'an unknown token watches as a guest');
    await h.waitFor(async () => (await statusOf(g)) === 'between', 10000, 'a guest between shows');
    h.assert((await g.$$('[data-testid="join"]')).length === 0, 'no join form for a guest between shows');
    h.assert(!(await g.isVisible('[data-testid="buy"]')), 'no buy button for a guest between shows');
    h.assert((await g.textContent('[data-testid="offair"]')).includes('明晚 水蜜桃专场'), 'the next show for a guest too');
    await g.context().close();
    /* A new show: the player starts again by itself. */
    await L.send({ type: 'show.begin', title: '加场' });
    await h.waitFor(async () => ['ok', 'waiting', 'publisher-lost'].includes(await statusOf(viewer)), 10000, 'the new show on the page');
    await h.waitFor(async () => (await viewer.isVisible('[data-testid="video"]')), 5000, 'the player back');
    await playsPast(viewer, 0.5, 60000);
    const t0 = await currentTime(viewer);
    await playsPast(viewer, t0 + 2, 30000);
    h.assert((await viewer.textContent('#title')) === '加场', 'the new show\'s title');
  });

  for (const p of [viewer, leader]) h.assert(p.problems.length === 0, 'page errors: ' + p.problems.join('; '));
  await browser.close();
  phone.kill('SIGKILL');
}, servers);
