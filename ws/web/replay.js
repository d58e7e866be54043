/* replay.js — the replay page `/replay/ID`: the archived show
 * (/shows/ID/index.m3u8), chapters by product from its pins, and its
 * questions, answers and orders appearing as the video reaches their
 * stream_ms (/api/shows/ID/events). The pinned product at the current time
 * can still be bought over the live room's WebSocket. */
'use strict';

(function () {
  var showId = Number(location.pathname.split('/')[2]);
  var video = TC.tid('video');
  var events = [], show = null, player = null;
  var offset = 0;    /* stream_ms of the video's time 0 (from program date-times when the archive has them) */
  var cursor = -1;   /* how many events are before the current time */
  var room = null, shop = null;

  function status(state, text, link) {
    var box = TC.tid('status');
    box.dataset.state = state;
    box.className = 'status ' + (state === 'ok' ? 'ok' : state === 'error' ? 'bad' : '');
    TC.clear(box).appendChild(document.createTextNode(text));
    if (link) box.appendChild(TC.el('a', { href: link, text: '看直播' }));
  }

  /* The stream_ms at media time t (default: now); on a presented frame
   * (requestVideoFrameCallback) t is that frame's. */
  function nowMs(t) {
    if (typeof t !== 'number') t = video.currentTime;
    if (player && show && show.epoch_unix_ms != null) {
      var pdt = player.programMsAt(t);
      if (isFinite(pdt)) offset = pdt - show.epoch_unix_ms - t * 1000;
    }
    return t * 1000 + offset;
  }
  window.tcReplayMs = nowMs;

  function seek(ms) {
    video.currentTime = Math.max(0, (ms - offset) / 1000 + 0.05);
    video.play().catch(function () {});
  }

  function renderChapters() {
    var box = TC.clear(TC.tid('chapters'));
    var pins = events.filter(function (e) { return e.type === 'pin' && e.data && e.data.product_id; });
    if (!pins.length) box.appendChild(TC.el('div', { class: 'muted', text: '这场直播没有讲解商品' }));
    pins.forEach(function (e) {
      box.appendChild(TC.el('button', { type: 'button', testid: 'chapter', 'data-product': e.data.product_id, 'data-ms': e.stream_ms,
        text: TC.clock(e.stream_ms) + ' ' + (e.data.name || '商品'), onclick: function () { seek(e.stream_ms); } }));
    });
  }

  function pinAt(n) {
    for (var i = n - 1; i >= 0; i--) if (events[i].type === 'pin') return events[i];
    return null;
  }

  /* Rebuilds the time-driven parts when the video crossed an event. */
  function update(t) {
    var ms = nowMs(t);
    TC.$('#clock').textContent = TC.clock(ms);
    var n = 0;
    while (n < events.length && events[n].stream_ms <= ms + 8) n++; /* 8: ms rounding; a frame is 33 */
    if (n === cursor) return;
    cursor = n;
    var past = events.slice(0, n);
    var qs = [], byId = {};
    past.forEach(function (e) {
      var d = e.data || {};
      if (e.type === 'question') { byId[d.question_id] = { id: d.question_id, name: d.name, text: d.text, answer: null }; qs.push(byId[d.question_id]); }
      if (e.type === 'answer' && byId[d.question_id]) byId[d.question_id].answer = d.answer;
    });
    var ul = TC.clear(TC.tid('questions'));
    if (!qs.length) ul.appendChild(TC.el('li', { class: 'muted', text: '此刻还没有提问' }));
    qs.reverse().forEach(function (q) {
      ul.appendChild(TC.el('li', { 'data-qid': q.id }, TC.el('span', { class: 'who', text: q.name }), TC.el('span', { text: q.text }),
        q.answer ? TC.el('div', { class: 'ans', text: '团长：' + q.answer }) : null));
    });
    var tk = TC.clear(TC.tid('ticker'));
    past.filter(function (e) { return e.type === 'order'; }).slice(-5).reverse().forEach(function (e) {
      var p = shop.products[e.data.product_id], pin = nameOf(e.data.product_id);
      tk.appendChild(TC.el('li', { text: e.data.name + ' 买了 ' + (p ? p.name : pin || '商品') + ' ×' + e.data.qty }));
    });
    renderCard();
    var chapters = TC.tid('chapters').children, pin = pinAt(n);
    for (var i = 0; i < chapters.length; i++)
      chapters[i].classList.toggle('on', !!pin && Number(chapters[i].dataset.ms) === pin.stream_ms);
  }

  function nameOf(pid) {
    for (var i = 0; i < events.length; i++) if (events[i].type === 'pin' && events[i].data.product_id === pid) return events[i].data.name;
    return null;
  }

  function renderCard() {
    var pin = pinAt(Math.max(0, cursor));
    var pid = pin && pin.data ? pin.data.product_id : null;
    var box = TC.tid('pinned');
    if (room || !pid) { shop.renderPinned(box, pid, pin ? pin.data : null); return; }
    /* Not in the room yet: the card from the pin event, and buying asks who we are first. */
    shop.renderPinned(box, pid, pin.data);
    /* A clone: the shop's own click handler (which orders at once) stays
     * with the original, so only the join prompt below runs. */
    var old = box.querySelector('[data-testid="buy"]');
    var buy = old.cloneNode(true);
    old.replaceWith(buy);
    buy.disabled = false;
    buy.textContent = '购买';
    buy.onclick = function () {
      TC.askDetails(function (d) { TC.store.set('details', d); join(); }, '', {
        sheet: true, title: '填写自提信息', submit: '确定', details: TC.store.get('details'),
        note: '只需填写一次，团长按自提点配货。手机号只有团长能看到。'
      });
    };
  }

  function join() {
    if (room) return;
    room = new TC.Room({
      hello: function () {
        var m = { type: 'hello', role: 'viewer' }, d = TC.store.get('details'), t = TC.store.get('viewer_token');
        if (t) m.viewer_token = t;
        if (d) { m.name = d.name; m.pickup = d.pickup; m.phone = d.phone; }
        return m;
      },
      onmessage: function (m) {
        if (m.type === 'welcome') {
          if (m.guest || !m.viewer_token) return;
          TC.store.set('viewer_token', m.viewer_token);
          TC.store.set('details', { name: m.name, pickup: m.pickup, phone: m.phone });
          /* welcome.my_orders are the open show's: this show's come from my_orders. */
          var open = m.show && m.show.id === showId;
          if (!open) m.my_orders = [];
          shop.welcome(m);
          room.send({ type: 'my_orders', show_id: showId });
        } else if (m.type === 'my_orders') {
          if (m.show_id === showId) shop.setMine(m.orders);
        } else if (m.type === 'order.ok') {
          shop.handle(m);
          /* The server counts the limit over live and replay orders: ask again. */
          room.send({ type: 'my_orders', show_id: showId });
        } else if (m.type === 'error' && !room.greeted && (m.code === 'invalid' || m.code === 'forbidden')) {
          /* Our token is unknown here and no details are kept: ask again. */
          TC.store.del('viewer_token');
          TC.store.del('details');
          room.stop();
          room = null;
          shop.room = null;
          renderCard();
        } else shop.handle(m);
      },
      onstate: function () {}
    });
    shop.room = room;
  }

  shop = new Shop(null, {
    seenMs: nowMs,
    showId: showId,
    onchange: function () {
      renderCard();
      shop.renderList(TC.tid('product-list'));
      shop.renderMine(TC.tid('my-orders'));
    }
  });
  if (TC.store.get('viewer_token') || TC.store.get('details')) join();

  /* The timeline comes in pages of at most EVENTS_PAGE (the server's bound),
   * each after the last one's (stream_ms, id); a short page is the end. */
  var EVENTS_PAGE = 1000, EVENTS_MAX_PAGES = 200;
  function fetchEvents(all, after) {
    var q = '?limit=' + EVENTS_PAGE + (after ? '&after_ms=' + after.stream_ms + '&after_id=' + after.id : '');
    return fetch('/api/shows/' + showId + '/events' + q).then(function (r) {
      if (!r.ok) throw new Error('events ' + r.status);
      return r.json();
    }).then(function (page) {
      all = all.concat(page);
      if (page.length < EVENTS_PAGE || all.length >= EVENTS_PAGE * EVENTS_MAX_PAGES) return all;
      return fetchEvents(all, page[page.length - 1]);
    });
  }

  Promise.all([
    /* This show only: the newest below showId + 1. */
    fetch('/api/shows?limit=1&before_id=' + (showId + 1)).then(function (r) { return r.json(); }),
    fetchEvents([], null)
  ]).then(function (res) {
    res[0].forEach(function (s) { if (s.id === showId) show = s; });
    events = res[1].slice().sort(function (a, b) { return a.stream_ms - b.stream_ms || a.id - b.id; });
    if (show) TC.$('#title').textContent = show.title + ' · 回放';
    renderChapters();
    if (show && !show.ended_unix_ms) status('live', '这场直播还在进行，回放在结束后完整可看。', '/');
    else status('ok', '');
    update();
    return TC.attach(video, '/shows/' + showId + '/index.m3u8', { live: false });
  }).then(function (h) {
    player = h;
    window.tcPlayer = h;
    /* Without a presented frame to follow (paused, no rVFC): by currentTime. */
    var lastFrame = 0;
    var byTime = function () { if (video.paused || performance.now() - lastFrame > 500) update(); };
    ['timeupdate', 'seeked', 'playing', 'pause'].forEach(function (ev) { video.addEventListener(ev, byTime); });
    setInterval(byTime, 250);
    /* The card and the lists change on the frame that reaches their stream_ms. */
    if (video.requestVideoFrameCallback) {
      var onFrame = function (now, meta) {
        video.requestVideoFrameCallback(onFrame);
        lastFrame = performance.now();
        update(meta.mediaTime);
      };
      video.requestVideoFrameCallback(onFrame);
    }
  }).catch(function () {
    status('error', '找不到这场直播的回放');
  });
  video.addEventListener('error', function () { status('error', '回放视频暂时无法播放（可能还在生成中）'); });
})();
