/* viewer.js — the viewer page `/`: follows the show (waiting, live, slate,
 * ended, between shows), the live video, the pinned product and the
 * highlighted question changing on the very frame that shows them, buying
 * the product on screen at that frame, questions, the ticker, the viewer
 * count. A first-time visitor watches at once as a guest and is asked for
 * name, pickup point and phone only when buying or asking. Talks
 * tourcast.v1 (ws/PROTOCOL.md). */
'use strict';

(function () {
  var video = TC.tid('video');
  var statusBox = TC.tid('status');
  var show = null;            /* the open show (welcome or `show` broadcast), or null */
  var ended = null;           /* the show that ended while we watched it */
  var lastShow = null;        /* welcome.last_show: the newest ended show */
  var nextShow = null;        /* {title, at_unix_ms} announced by the leader */
  var pastShows = null;       /* /api/shows with a replay, newest first */
  var connState = 'connecting';
  var questions = [];         /* QUESTION objects, oldest first */
  var questionsTotal = 0;     /* the show has this many; the welcome carries the newest 50 */
  var highlight = null;       /* the highlighted question on screen (follows the video) */
  var me = null;              /* the last welcome */
  var guest = true;
  var joining = null;         /* the action waiting for the join: fn() */
  var sheetOpen = false;
  var joinSent = false;       /* a `join` is out, not answered yet */
  var pinTarget = null, hlTarget = null; /* the server's latest pin and highlight (the picture may be behind) */

  /* A referral code from the invite link, kept until a welcome used it. */
  var params = new URLSearchParams(location.search);
  if (params.get('ref')) TC.store.set('ref', params.get('ref').slice(0, 64));

  /* ---- the player: running only while a show is open ---- */
  var player = null, playerGen = 0;
  var lastCT = 0, lastAdvance = Date.now();
  TC.autoplay(video, TC.$('#tap'));

  function startPlayer() {
    if (player) return;
    var gen = ++playerGen;
    player = { pending: true, programMs: function () { return NaN; }, programMsAt: function () { return NaN; }, destroy: function () {} };
    lastAdvance = Date.now();
    TC.attach(video, '/live/index.m3u8', { live: true }).then(function (h) {
      if (gen !== playerGen) { h.destroy(); return; }
      player = h;
      window.tcPlayer = h;
      video.play().catch(function () {});
    });
  }
  function stopPlayer() {
    playerGen++;
    if (player) player.destroy();
    player = null;
    window.tcPlayer = null;
  }
  /* Stuck (no new picture for 10 s while video is going out, e.g. after a
   * server restart): start over. */
  setInterval(function () {
    if (video.currentTime !== lastCT) { lastCT = video.currentTime; lastAdvance = Date.now(); return; }
    if (player && !player.pending && show && !video.paused && (show.state === 'live' || show.state === 'slate') &&
        Date.now() - lastAdvance > 10000) {
      stopPlayer();
      startPlayer();
    }
  }, 2000);

  function epoch() { return show && typeof show.epoch_unix_ms === 'number' ? show.epoch_unix_ms : NaN; }

  /* The stream_ms of the frame at media time t: its program date-time
   * minus the show's epoch (both from the server's one clock). */
  var sync = new TC.FrameSync(video, function (t) {
    if (!player) return NaN;
    var ms = player.programMsAt(t) - epoch();
    return ms >= 0 ? ms : NaN;
  });
  window.tcSync = sync;

  /* The stream_ms of the frame on screen (seen_ms). */
  function seenMs() {
    var s = sync.now();
    if (s !== undefined) return s;
    if (!player) return undefined;
    var ms = player.programMs() - epoch();
    return ms >= 0 ? ms : undefined;
  }
  window.tcSeenMs = seenMs;

  var shop;
  var room = null;

  function hello() {
    var token = TC.store.get('viewer_token');
    var d = TC.store.get('details');
    if (!token && !d) return { type: 'hello', role: 'viewer', guest: true };
    var m = { type: 'hello', role: 'viewer' };
    if (token) m.viewer_token = token;
    if (d) { m.name = d.name; m.pickup = d.pickup; m.phone = d.phone; }
    var ref = TC.store.get('ref');
    if (ref) m.ref = ref;
    return m;
  }

  /* ---- join when first buying or asking ---- */
  function askJoin(action, errText) {
    if (action) joining = action;
    if (sheetOpen) return;
    sheetOpen = true;
    TC.askDetails(function (d) {
      sheetOpen = false;
      TC.store.set('details', d);
      var m = { type: 'join', name: d.name, pickup: d.pickup, phone: d.phone };
      var ref = TC.store.get('ref');
      if (ref) m.invite_ref = ref;
      m.ref = 'join';
      /* Not connected now: the next hello carries the details. */
      joinSent = room.send(m);
      if (!joinSent) room.reconnectNow();
    }, errText, {
      sheet: true, title: '填写自提信息', submit: '确定',
      note: '只需填写一次，团长按自提点配货。手机号只有团长能看到。',
      details: TC.store.get('details'),
      oncancel: function () { sheetOpen = false; joining = null; }
    });
  }
  function needJoin(action) {
    if (!guest) { action(); return; }
    askJoin(action);
  }

  /* ---- what the page shows ---- */
  function mode() {
    if (!me) return 'loading';
    if (ended) return 'ended';
    if (!show) return 'between';
    return 'live';
  }

  function setStatus() {
    var state, text;
    var md = mode();
    if (connState !== 'open' || md === 'loading') {
      state = connState !== 'open' && me ? 'reconnecting' : 'connecting';
      text = state === 'connecting' ? '正在连接直播间…' : '网络断开，正在重新连接…';
    } else if (md === 'ended') {
      state = 'ended'; text = '直播已结束';
    } else if (md === 'between') {
      state = 'between'; text = '现在没有直播';
    } else if (show.state === 'waiting') {
      state = 'waiting'; text = '直播马上开始，请稍候…';
    } else if (show.state === 'slate') {
      state = 'publisher-lost'; text = '团长网络不稳定，正在重新连接，请稍候…';
    } else {
      state = 'ok'; text = '直播中';
    }
    statusBox.dataset.state = state;
    statusBox.className = 'status ' + (state === 'ok' ? 'ok' : state === 'ended' || state === 'between' ? 'off' :
      state === 'reconnecting' || state === 'publisher-lost' ? 'bad' : '');
    statusBox.textContent = text;
    document.body.dataset.mode = md === 'live' || md === 'loading' ? md : 'off';
    document.body.dataset.guest = guest ? '1' : '0';
    TC.$('#title').textContent = md === 'live' ? show.title || '产地直播' : '产地直播';
    if (md === 'live') startPlayer(); else stopPlayer();
    renderOffair();
  }

  function when(ms) {
    var d = new Date(ms), now = new Date();
    var day = new Date(d.getFullYear(), d.getMonth(), d.getDate()) - new Date(now.getFullYear(), now.getMonth(), now.getDate());
    day = Math.round(day / 86400000);
    var hm = (d.getHours() < 10 ? '0' : '') + d.getHours() + ':' + (d.getMinutes() < 10 ? '0' : '') + d.getMinutes();
    var date = day === 0 ? '今天' : day === 1 ? '明天' : day === 2 ? '后天' :
      (d.getMonth() + 1) + '月' + d.getDate() + '日 周' + '日一二三四五六'.charAt(d.getDay());
    return date + ' ' + hm;
  }

  /* Between shows and after the end: a calm card instead of the player. */
  function renderOffair() {
    var box = TC.clear(TC.tid('offair'));
    var md = mode();
    if (md === 'live' || md === 'loading') return;
    var card = TC.el('div', { class: 'card' });
    box.appendChild(card);
    if (md === 'ended') {
      card.appendChild(TC.el('h2', { class: 'big', text: '直播已结束' }));
      card.appendChild(TC.el('div', { class: 'muted', text: '感谢观看「' + (ended.title || '产地直播') + '」。回放里也能继续下单。' }));
      card.appendChild(TC.el('a', { class: 'btn primary', href: '/replay/' + ended.id, testid: 'replay-link', text: '观看回放' }));
    } else {
      card.appendChild(TC.el('h2', { class: 'big', text: '现在没有直播' }));
      if (!nextShow) card.appendChild(TC.el('div', { class: 'muted', text: '团长开播后，这里会自动开始播放。' }));
    }
    if (nextShow && nextShow.at_unix_ms) {
      card.appendChild(TC.el('div', { class: 'next', testid: 'next-show' },
        TC.el('div', { class: 'muted', text: '下一场直播' }),
        TC.el('div', { class: 'name', text: nextShow.title || '产地直播' }),
        TC.el('div', { class: 'when', text: when(nextShow.at_unix_ms) })));
    }
    var list = (pastShows || (lastShow ? [lastShow] : [])).filter(function (s) {
      return ended ? s.id !== ended.id : true;
    }).slice(0, 10);
    if (!list.length) return;
    var ul = TC.el('ul', { class: 'past', testid: 'past-shows' });
    list.forEach(function (s) {
      ul.appendChild(TC.el('li', {},
        TC.el('a', { href: '/replay/' + s.id, testid: 'past-show', 'data-show': s.id },
          TC.el('span', { class: 'name', text: s.title || '产地直播' }),
          TC.el('span', { class: 'muted', text: (s.started_unix_ms ? when(s.started_unix_ms) : '') +
            (s.duration_ms ? ' · ' + TC.clock(s.duration_ms) : '') + ' · 看回放' }))));
    });
    box.appendChild(TC.el('div', { class: 'card' }, TC.el('h2', { text: '往期回放' }), ul));
  }

  function loadPast() {
    fetch('/api/shows').then(function (r) { return r.json(); }).then(function (all) {
      pastShows = all.filter(function (s) {
        return s.ended_unix_ms && (s.has_replay === undefined ? true : s.has_replay);
      }).sort(function (a, b) { return b.id - a.id; });
      renderOffair();
    }).catch(function () {});
  }

  function renderQuestions() {
    var ul = TC.tid('questions');
    TC.clear(ul);
    questions.slice().reverse().forEach(function (q) {
      ul.appendChild(TC.el('li', { class: q.id === highlight ? 'hl' : '', 'data-qid': q.id },
        TC.el('span', { class: 'who', text: q.name }),
        TC.el('span', { class: 'q', text: q.text }),
        q.answer ? TC.el('div', { class: 'ans', text: '团长：' + q.answer }) : null));
    });
    var older = questionsTotal - questions.length;
    if (older > 0 && questions.length) {
      ul.appendChild(TC.el('li', { class: 'more' }, TC.el('button', {
        type: 'button', class: 'ghost', testid: 'questions-more', text: '更早的提问（还有 ' + older + ' 条）',
        onclick: function () { room.send({ type: 'questions.more', before_id: questions[0].id }); } })));
    }
  }

  /* An older page of questions (questions.more): before what the list has. */
  function olderQuestions(m) {
    questions = TC.olderFirst(questions, m.questions);
    questionsTotal = m.questions_total;
    renderQuestions();
  }

  function tick(m) {
    var ul = TC.tid('ticker');
    var p = shop.products[m.product_id];
    ul.insertBefore(TC.el('li', { text: m.name + ' 买了 ' + (p ? p.name : '商品') + ' ×' + m.qty }), ul.firstChild);
    while (ul.children.length > 5) ul.removeChild(ul.lastChild);
  }

  function renderShop() {
    var box = TC.tid('pinned');
    box.dataset.product = shop.pinned || '';
    shop.renderPinned(box, shop.pinned);
    shop.renderList(TC.tid('product-list'), shop.pinned);
    shop.renderMine(TC.tid('my-orders'));
  }

  /* A show starts over (a new one): nothing of the old one stays on screen. */
  function newShow() {
    sync.clear();
    questions = [];
    questionsTotal = 0;
    highlight = null;
    shop.pinned = null;
    shop.mine = shop.mine.filter(function (o) { return o.state === 'pending'; });
    TC.clear(TC.tid('ticker'));
    renderQuestions();
    renderShop();
  }

  function onShow(s) {
    if (!s) return;
    var closed = s.state === 'ended' || !!s.ended_unix_ms;
    if (closed) {
      lastShow = s;
      if (!show || show.id !== s.id) { setStatus(); loadPast(); return; }
      /* Ending while we watch: at the end of the picture (or at once when
       * there is none to follow). */
      var done = false;
      var finish = function () {
        if (done || !show || show.id !== s.id) return;
        done = true;
        show = null;
        ended = s;
        sync.clear();
        setStatus();
        loadPast();
      };
      sync.at(typeof s.ended_stream_ms === 'number' ? s.ended_stream_ms - 50 : -1, finish, 'end');
      setTimeout(finish, 12000);
      return;
    }
    var isNew = !show || show.id !== s.id;
    var oldEpoch = show ? show.epoch_unix_ms : null;
    show = s;
    ended = null;
    if (isNew) newShow();
    /* A new timeline (a restart resumed the show): its frames from scratch. */
    else if (oldEpoch != null && s.epoch_unix_ms != null && s.epoch_unix_ms !== oldEpoch) stopPlayer();
    setStatus();
  }

  function onWelcome(m) {
    me = m;
    joinSent = false;
    guest = m.guest === true || !m.viewer_token;
    if (!guest) {
      TC.store.set('viewer_token', m.viewer_token);
      TC.store.set('details', { name: m.name, pickup: m.pickup, phone: m.phone });
      TC.store.del('ref');
    }
    var s = m.show && !m.show.ended_unix_ms && m.show.state !== 'ended' ? m.show : null;
    var sameShow = !!(s && show && s.id === show.id);
    if (s && show && s.id === show.id && s.epoch_unix_ms !== show.epoch_unix_ms && show.epoch_unix_ms != null) stopPlayer();
    show = s;
    if (show) ended = null;
    if (m.last_show !== undefined) lastShow = m.last_show;
    if (m.next_show !== undefined) nextShow = m.next_show;
    /* A reconnect within the show that missed no pin: what waits for its
     * frame keeps waiting (the welcome's pin is the server's now, not the
     * picture's). Otherwise the welcome's state at once. */
    var keep = sameShow && m.pinned === pinTarget && m.highlight === hlTarget;
    var shown = { pin: shop.pinned, hl: highlight };
    if (!keep) sync.clear();
    pinTarget = m.pinned;
    hlTarget = m.highlight;
    questions = m.questions || [];
    questionsTotal = Math.max(m.questions_total || 0, questions.length);
    highlight = keep ? shown.hl : m.highlight;
    TC.tid('viewer-count').textContent = m.viewers + ' 人在看';
    TC.$('#me').textContent = guest ? '游客 · 下单或提问时再填写自提信息' : m.name + ' · 自提点 ' + m.pickup;
    shop.welcome(m);
    if (keep) { shop.pinned = shown.pin; renderShop(); }
    else if (show && m.recent_pins && m.recent_pins.length) schedulePins(m.recent_pins, m.stream_ms);
    renderQuestions();
    setStatus();
    if (!show) loadPast();
    if (!guest && joining) { var a = joining; joining = null; a(); }
  }

  /* A page opened (or back) mid-show: its player starts seconds behind the
   * server, so the card is the one pinned at about that frame, and the newer
   * pins wait for their frames like `pinned` messages do. */
  function schedulePins(pins, serverMs) {
    var behind = (serverMs || 0) - 3000, base = null, i;
    for (i = 0; i < pins.length && pins[i].stream_ms <= behind; i++) base = pins[i].product_id;
    if (i === pins.length) return; /* nothing newer than the picture: the welcome's pin */
    shop.pinned = base;
    renderShop();
    pins.slice(i).forEach(function (p) {
      sync.at(p.stream_ms, function () { shop.pinned = p.product_id; renderShop(); }, 'pin:' + p.product_id, true);
    });
  }

  function onMessage(m) {
    /* The picture's state follows the video: applied on the frame that shows it. */
    if (m.type === 'pinned') {
      pinTarget = m.product_id;
      sync.at(m.stream_ms, function () { shop.pinned = m.product_id; renderShop(); }, 'pin:' + m.product_id);
      return;
    }
    if (m.type === 'highlight') {
      hlTarget = m.question_id;
      sync.at(m.stream_ms, function () { highlight = m.question_id; renderQuestions(); }, 'highlight:' + m.question_id);
      return;
    }
    if (shop.handle(m)) return;
    switch (m.type) {
      case 'welcome': onWelcome(m); break;
      case 'question': questions.push(m); questionsTotal++; renderQuestions(); break;
      case 'questions.page': olderQuestions(m); break;
      case 'answer':
        questions.forEach(function (q) { if (q.id === m.question_id) q.answer = m.text; });
        renderQuestions();
        break;
      case 'ordered': tick(m); break;
      case 'viewers': TC.tid('viewer-count').textContent = m.count + ' 人在看'; break;
      case 'show': onShow(m.show); break;
      case 'schedule': nextShow = m.next_show; renderOffair(); break;
      case 'error':
        if (m.code === 'join_required') { guest = true; askJoin(null); break; }
        if (joinSent && m.ref === 'join') {
          joinSent = false;
          TC.store.del('details');
          askJoin(null, '请检查填写的信息');
          break;
        }
        /* A hello the server refused (a token it does not know, and no
         * details kept): watch on as a guest. */
        if (!room.greeted && m.code === 'invalid' && (TC.store.get('viewer_token') || TC.store.get('details'))) {
          TC.store.del('viewer_token');
          TC.store.del('details');
          room.reconnectNow();
          if (joining) askJoin(null, '请检查填写的信息');
        }
        break;
    }
  }

  shop = new Shop(null, {
    seenMs: seenMs,
    onchange: renderShop,
    gate: function (pid, qty, seen) {
      if (!guest) return true;
      askJoin(function () { shop.buy(pid, qty, seen); });
      return false;
    }
  });
  room = new TC.Room({
    hello: hello,
    onmessage: onMessage,
    onstate: function (s) { connState = s; setStatus(); }
  });
  shop.room = room;
  window.tcRoom = room;

  TC.$('#ask').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = TC.tid('ask-input');
    var text = input.value.trim();
    if (!text) return;
    var s = seenMs();
    needJoin(function () {
      var m = { type: 'ask', text: text };
      if (s !== undefined) m.seen_ms = Math.round(s);
      if (room.send(m) && input.value.trim() === text) input.value = '';
    });
  });

  TC.$('#invite').addEventListener('click', function () {
    if (!me || guest) return;
    var link = location.origin + '/?ref=v' + me.viewer_id;
    var box = TC.$('#invite-link');
    box.value = link;
    box.classList.remove('hidden');
    box.select();
    if (navigator.clipboard) navigator.clipboard.writeText(link).then(function () {
      TC.$('#invite').textContent = '链接已复制';
    }, function () {});
  });
})();
