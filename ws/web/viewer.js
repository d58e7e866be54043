/* viewer.js — the viewer page `/`: the live video, the pinned product and
 * buying it at the frame on screen, questions, the ticker, the viewer count
 * and the show's state. Talks tourcast.v1 (ws/PROTOCOL.md). */
'use strict';

(function () {
  var video = TC.tid('video');
  var statusBox = TC.tid('status');
  var show = null;            /* the welcome's or the last `show` broadcast */
  var publisherLive = true;   /* from /healthz, or a `publisher` message if the server sends one */
  var connState = 'connecting';
  var streamAt = { ms: 0, t: Date.now() }; /* the server's stream_ms and when we heard it */
  var questions = [];         /* QUESTION objects, oldest first */
  var highlight = null;
  var me = null;
  var lastShow = null;        /* with no show open: the newest one, if it ended (for its replay) */

  /* A referral code from the invite link, kept until a welcome used it. */
  var params = new URLSearchParams(location.search);
  if (params.get('ref')) TC.store.set('ref', params.get('ref').slice(0, 64));

  var player = null;
  TC.attach(video, '/live/index.m3u8', { live: true }).then(function (h) { player = h; window.tcPlayer = h; });
  TC.autoplay(video, TC.$('#tap'));

  /* The stream_ms of the frame on screen: its program date-time minus the
   * show's epoch (both from the server's one clock, see stream/hls.c). */
  function seenMs() {
    if (!player || !show || show.epoch_unix_ms === null || show.epoch_unix_ms === undefined) return undefined;
    var pdt = player.programMs();
    if (!isFinite(pdt)) return undefined;
    var ms = pdt - show.epoch_unix_ms;
    return ms >= 0 ? ms : undefined;
  }
  window.tcSeenMs = seenMs;

  var shop;
  var room = null;

  function hello() {
    var m = { type: 'hello', role: 'viewer' };
    var token = TC.store.get('viewer_token');
    var d = TC.store.get('details');
    if (token) m.viewer_token = token;
    if (d) { m.name = d.name; m.pickup = d.pickup; m.phone = d.phone; }
    var ref = TC.store.get('ref');
    if (ref) m.ref = ref;
    return m;
  }

  function setStatus() {
    var state, text;
    if (connState !== 'open') {
      state = connState === 'connecting' && !me ? 'connecting' : 'reconnecting';
      text = state === 'connecting' ? '正在连接直播间…' : '网络断开，正在重新连接…';
    } else if (!show && !lastShow) {
      state = 'waiting'; text = '直播还没开始，请稍候';
    } else if (!show || show.ended_unix_ms) {
      state = 'ended'; text = '直播已结束，感谢观看。';
    } else if (!publisherLive) {
      state = 'publisher-lost'; text = '团长网络不稳定，正在重新连接，请稍候…';
    } else {
      state = 'ok'; text = '直播中';
    }
    statusBox.dataset.state = state;
    statusBox.className = 'status ' + (state === 'ok' ? 'ok' : state === 'ended' ? 'ended' : state === 'reconnecting' || state === 'publisher-lost' ? 'bad' : '');
    TC.clear(statusBox).appendChild(document.createTextNode(text));
    if (state === 'ended') statusBox.appendChild(TC.el('a', { href: '/replay/' + (show || lastShow).id, testid: 'replay-link', text: '观看回放' }));
  }

  function renderQuestions() {
    var ul = TC.tid('questions');
    TC.clear(ul);
    questions.slice(-100).reverse().forEach(function (q) {
      ul.appendChild(TC.el('li', { class: q.id === highlight ? 'hl' : '', 'data-qid': q.id },
        TC.el('span', { class: 'who', text: q.name }),
        TC.el('span', { class: 'q', text: q.text }),
        q.answer ? TC.el('div', { class: 'ans', text: '团长：' + q.answer }) : null));
    });
  }

  function tick(m) {
    var ul = TC.tid('ticker');
    var p = shop.products[m.product_id];
    ul.insertBefore(TC.el('li', { text: m.name + ' 买了 ' + (p ? p.name : '商品') + ' ×' + m.qty }), ul.firstChild);
    while (ul.children.length > 5) ul.removeChild(ul.lastChild);
  }

  function renderShop() {
    shop.renderPinned(TC.tid('pinned'), shop.pinned);
    shop.renderList(TC.tid('product-list'), shop.pinned);
    shop.renderMine(TC.tid('my-orders'));
  }

  function onWelcome(m) {
    me = m;
    TC.store.set('viewer_token', m.viewer_token);
    TC.store.set('details', { name: m.name, pickup: m.pickup, phone: m.phone });
    TC.store.del('ref');
    show = m.show;
    if (typeof m.publisher_live === 'boolean') publisherLive = m.publisher_live;
    streamAt = { ms: m.stream_ms, t: Date.now() };
    questions = m.questions || [];
    highlight = m.highlight;
    TC.tid('viewer-count').textContent = m.viewers + ' 人在看';
    TC.$('#me').textContent = m.name + ' · 自提点 ' + m.pickup;
    if (show) TC.$('#title').textContent = show.title;
    shop.welcome(m);
    renderQuestions();
    setStatus();
    if (!show) {
      fetch('/api/shows').then(function (r) { return r.json(); }).then(function (list) {
        lastShow = list.length && list[0].ended_unix_ms ? list[0] : null;
        setStatus();
      }).catch(function () {});
    }
  }

  function onMessage(m) {
    if (shop.handle(m)) return;
    switch (m.type) {
      case 'welcome': onWelcome(m); break;
      case 'question': questions.push(m); renderQuestions(); break;
      case 'answer':
        questions.forEach(function (q) { if (q.id === m.question_id) q.answer = m.text; });
        renderQuestions();
        break;
      case 'highlight': highlight = m.question_id; renderQuestions(); break;
      case 'ordered': tick(m); break;
      case 'viewers': TC.tid('viewer-count').textContent = m.count + ' 人在看'; break;
      case 'show':
        show = m.show;
        if (show) { TC.$('#title').textContent = show.title; lastShow = show.ended_unix_ms ? show : null; }
        setStatus();
        break;
      case 'publisher': publisherLive = !!m.live; setStatus(); break;
      case 'pong': streamAt = { ms: m.stream_ms, t: Date.now() }; break;
      case 'error':
        /* A hello the server refused: our token is unknown and we have no
         * details to make a new viewer from. Ask for them. */
        if (!room.greeted && (m.code === 'invalid' || m.code === 'forbidden')) {
          TC.store.del('viewer_token');
          TC.store.del('details');
          TC.askDetails(function (d) { TC.store.set('details', d); room.reconnectNow(); }, '请重新填写');
        }
        break;
    }
  }

  /* The show's epoch arrives a moment after the show began: until the
   * welcome has it, ask /api/shows (seen_ms needs it). And whether the
   * leader's phone is connected, for the status line. */
  function poll() {
    if (!show || show.ended_unix_ms) return;
    if (show.epoch_unix_ms === null || show.epoch_unix_ms === undefined) {
      fetch('/api/shows').then(function (r) { return r.json(); }).then(function (list) {
        list.forEach(function (s) { if (show && s.id === show.id && s.epoch_unix_ms !== null) show.epoch_unix_ms = s.epoch_unix_ms; });
      }).catch(function () {});
    }
    fetch('/healthz', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (h) {
      if (publisherLive !== !!h.publisher_live) { publisherLive = !!h.publisher_live; setStatus(); }
    }).catch(function () {});
  }
  setInterval(poll, 3000);

  function start() {
    shop = new Shop(null, { seenMs: seenMs, onchange: renderShop });
    room = new TC.Room({
      hello: hello,
      onmessage: onMessage,
      onstate: function (s) { connState = s; setStatus(); }
    });
    shop.room = room;
    window.tcRoom = room;
  }

  TC.$('#ask').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = TC.tid('ask-input');
    var text = input.value.trim();
    if (!text) return;
    var m = { type: 'ask', text: text };
    var s = seenMs();
    if (s !== undefined) m.seen_ms = Math.round(s);
    if (room.send(m)) input.value = '';
  });

  TC.$('#invite').addEventListener('click', function () {
    if (!me) return;
    var link = location.origin + '/?ref=v' + me.viewer_id;
    var box = TC.$('#invite-link');
    box.value = link;
    box.classList.remove('hidden');
    box.select();
    if (navigator.clipboard) navigator.clipboard.writeText(link).then(function () {
      TC.$('#invite').textContent = '链接已复制';
    }, function () {});
  });

  if (TC.store.get('viewer_token') || TC.store.get('details')) start();
  else TC.askDetails(function (d) { TC.store.set('details', d); start(); });
})();
