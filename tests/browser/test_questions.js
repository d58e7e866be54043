/* test_questions.js — a show with more questions than a welcome carries, in
 * Debian's chromium: the viewer page and the console show the newest 50 and
 * a button for the older ones (questions.more), which brings them in, in
 * order, until there are no more. Screenshots at 360 px. */
'use strict';

const h = require('./harness');
const room = require('./room');

const servers = [];
const QUESTIONS = 62;

async function listed(page) {
  return page.$$eval('[data-testid="questions"] li[data-qid]', (l) => l.map((x) => Number(x.dataset.qid)));
}

/* Clicks questions-more until it is gone; returns the ids listed then. */
async function loadAll(page) {
  for (let i = 0; i < 5; i++) {
    const more = await page.$('[data-testid="questions-more"]');
    if (!more) break;
    const before = (await listed(page)).length;
    await more.click();
    await h.waitFor(async () => (await listed(page)).length > before, 5000, 'older questions');
  }
  return listed(page);
}

h.main('questions', async (t) => {
  const srv = new h.Server([]);
  servers.push(srv);
  await srv.start();
  const browser = await h.launchChromium();
  let ids = [];

  await t.step(QUESTIONS + ' questions in an open show', async () => {
    const leader = await room.leader(browser, srv);
    await leader.request({ type: 'show.begin', title: '提问很多的一场' }, (m) => m.type === 'show', 10000);
    const asker = await room.open(browser, srv, { role: 'viewer', name: '好奇的邻居', pickup: '2号楼', phone: '13600000000' });
    for (let i = 0; i < QUESTIONS; i++) {
      const q = await asker.request({ type: 'ask', text: '第' + (i + 1) + '个问题：桃子甜吗？' },
        (m) => m.type === 'question' || m.type === 'error', 5000);
      h.assert(q.type === 'question', 'asked: ' + JSON.stringify(q));
      ids.push(q.id);
      await h.sleep(60); /* within the rate limit */
    }
  });

  await t.step('the viewer page: the newest 50, then the older ones on demand', async () => {
    const page = await h.newPage(browser, { width: 360, height: 780 });
    await page.goto(srv.url('/'));
    await page.waitForSelector('[data-testid="questions"] li[data-qid]', { state: 'attached', timeout: 10000 });
    const first = await listed(page);
    h.assert(first.length === 50, 'the welcome lists 50, got ' + first.length);
    h.assert(Math.min(...first) === ids[QUESTIONS - 50], 'the newest 50');
    const label = await page.textContent('[data-testid="questions-more"]');
    h.assert(label.includes(String(QUESTIONS - 50)), 'the button says how many more: ' + label);
    await t.shot(page, 'questions-more-360x780');
    const all = await loadAll(page);
    h.assert(all.length === QUESTIONS, 'all listed: ' + all.length);
    h.assert(JSON.stringify(all.slice().sort((a, b) => a - b)) === JSON.stringify(ids), 'each once');
    h.assert(JSON.stringify(all) === JSON.stringify(ids.slice().reverse()), 'newest first');
    h.assert(!(await page.$('[data-testid="questions-more"]')), 'no button once all are there');
  });

  await t.step('the console: the same', async () => {
    const page = await h.newPage(browser, { width: 1280, height: 800 });
    await page.goto(srv.url('/leader?token=' + h.TOKEN));
    await page.waitForSelector('[data-testid="questions"] li[data-qid]', { state: 'attached', timeout: 10000 });
    h.assert((await listed(page)).length === 50, 'the console lists 50 first');
    const all = await loadAll(page);
    h.assert(all.length === QUESTIONS, 'the console lists all after paging: ' + all.length);
  });
}, servers);
