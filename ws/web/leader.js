/* leader.js — the leader console `/leader`: begin and end shows (the begin
 * form carries the last show's title and promise over), announce the next
 * show, the phone's status in every state, products (create, edit, on/off
 * sale), pin with one tap, live orders by pickup point (replay orders of
 * older shows in a list of their own), questions to answer and put on
 * screen, past shows with their picking lists, CSV and replay, and the
 * settings for the phone app and the chat group (link and QR code).
 * The token comes as ?token= once, is kept in this browser and leaves the
 * address bar at once; every request carries it in the Authorization header
 * (downloads too: fetched, then saved from a Blob), never in a URL.
 * Whatever a user typed goes in through textContent, never innerHTML. */
'use strict';

(function () {
  var params = new URLSearchParams(location.search);
  if (params.has('token')) {
    if (params.get('token')) TC.store.set('leader_token', params.get('token'));
    /* Out of the address bar, history, screenshots and Referer; kept in
     * localStorage. Other parameters and the hash stay. */
    params.delete('token');
    var rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  }
  var el = TC.el;
  var products = {}, order = [], pinned = null;
  var orders = [], ordersTotal = 0;      /* the open show's, oldest first */
  var replayOrders = [];                 /* older shows' replay orders that came in during the open show */
  var questions = [], highlight = null, connState = 'connecting', room = null;
  var questionsTotal = 0;                /* the show has this many; welcome carries the newest 50 */
  var openShow = null;                   /* the open show (state waiting/live/slate) or null */
  var showAt = 0;                        /* Date.now() when openShow last came (its duration_ms is then) */
  var lastShow = null;                   /* the newest ended show */
  var nextShow = null;                   /* {title, at_unix_ms} */
  var publisherLive = false;             /* the phone is connected (publisher.live) */
  var settings = null;
  var pastShows = null;                  /* /api/shows, newest first */
  var pastOrders = {};                   /* show id -> {list, stale} from /api/shows/ID/orders */
  var pastOpen = {};                     /* show ids whose picking list is open */

  function token() { return TC.store.get('leader_token') || ''; }
  function auth(headers) {
    var h = headers || {};
    h.Authorization = 'Bearer ' + token();
    return h;
  }

  var video = TC.tid('video');
  TC.attach(video, '/live/index.m3u8', { live: true });
  TC.autoplay(video, TC.$('#tap'));
  TC.$('#tap').classList.add('hidden');

  function send(m) {
    if (!room || !room.send(m)) { setStatus('未连接，操作没有发出，请稍后再试'); return false; }
    return true;
  }

  /* ---- formatting ---- */
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function fmtDate(ms) {
    var d = new Date(ms);
    return (d.getFullYear() !== new Date().getFullYear() ? d.getFullYear() + '年' : '') + (d.getMonth() + 1) + '月' + d.getDate() + '日 周' + '日一二三四五六'[d.getDay()] + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function fmtDur(ms) {
    var s = Math.max(0, Math.round((ms || 0) / 1000)), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    if (h) return h + '小时' + m + '分';
    if (m) return m + '分' + pad(s % 60) + '秒';
    return s + '秒';
  }
  /* unix ms -> the value of an <input type="datetime-local"> (local time) */
  function localInput(ms) {
    var d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  /* ---- the show's state ---- */
  /* A server before issue 11 sends no `state`: derive it. */
  function stateOf(s) {
    if (!s) return null;
    if (s.state) return s.state;
    if (s.ended_unix_ms) return 'ended';
    return publisherLive ? 'live' : s.epoch_unix_ms ? 'slate' : 'waiting';
  }
  function isOpen(s) { return !!s && stateOf(s) !== 'ended'; }

  /* A show from welcome.show, welcome.last_show, the `show` broadcast or /api/shows. */
  function takeShow(s) {
    if (!s) return;
    if (isOpen(s)) {
      if (!openShow || openShow.id !== s.id) { orders = []; ordersTotal = 0; replayOrders = []; }
      openShow = s;
      showAt = Date.now();
    } else {
      if (openShow && openShow.id === s.id) openShow = null;
      if (!lastShow || s.id >= lastShow.id) { lastShow = s; prefillBegin(); }
    }
  }

  function setStatus(extra) {
    var box = TC.tid('status');
    var st = stateOf(openShow);
    var state = connState !== 'open' ? 'reconnecting' : openShow ? 'ok' : 'waiting';
    var text;
    if (state === 'reconnecting') text = '与服务器的连接断开，正在重连…';
    else if (!openShow) {
      text = '现在没有直播' + (lastShow ? '：上一场「' + lastShow.title + '」已结束' : '') +
        '。填好标题点“开始直播”';
    } else {
      text = { waiting: '已开播，等手机推流', slate: '手机断开了，观众看到“信号重连中”', live: '直播中' }[st] || '直播中';
    }
    box.dataset.state = state;
    box.dataset.show = st || 'none';
    box.className = 'status ' + (extra ? '' : state === 'reconnecting' ? 'bad' : st === 'live' ? 'ok' : !openShow ? 'ended' : '');
    box.textContent = extra || text;
    document.body.dataset.phase = openShow ? 'show' : 'between';
    var greeted = connState === 'open';
    TC.$('#bform').classList.toggle('hidden', !(greeted && !openShow));
    TC.$('#onair').classList.toggle('hidden', !(greeted && openShow));
    TC.$('#title').textContent = openShow ? openShow.title : '团长控制台';
    renderShowInfo();
    renderPhone();
    arrange();
  }

  /* Cards in the order the phase needs them: between shows the begin form,
   * the phone's settings and the last show's picking list come first. */
  var phaseShown = null;
  function arrange() {
    var phase = document.body.dataset.phase;
    if (phase === phaseShown) return;
    phaseShown = phase;
    /* Two columns side by side on a wide screen, one after the other on a
     * phone. A card never moves while the phase stays. */
    var cols = phase === 'show' ? [['c-show', 'c-products', 'c-questions'], ['c-orders', 'c-past', 'c-settings']]
      : [['c-show', 'c-settings'], ['c-orders', 'c-past', 'c-products', 'c-questions']];
    cols.forEach(function (ids, i) {
      var col = document.getElementById('col' + (i + 1));
      ids.forEach(function (id) { col.appendChild(document.getElementById(id)); });
    });
    TC.$('#sched').open = phase !== 'show'; /* during a show it folds away */
    renderProducts();
    renderOrdersCard();
  }

  function renderShowInfo() {
    var box = TC.clear(TC.$('#show-info'));
    var clock = TC.$('#show-clock');
    if (!openShow) { clock.textContent = ''; return; }
    var st = stateOf(openShow);
    box.appendChild(el('div', { class: 'show-title', text: openShow.title }));
    if (openShow.promise) box.appendChild(el('div', { class: 'muted', text: '承诺：' + openShow.promise }));
    box.appendChild(el('div', { class: 'muted', text: fmtDate(openShow.started_unix_ms) + ' 开播 · 第 ' + openShow.id + ' 场' }));
    var ms;
    if (typeof openShow.duration_ms === 'number') ms = openShow.duration_ms + (st === 'live' || st === 'slate' ? Date.now() - showAt : 0);
    else ms = openShow.epoch_unix_ms ? Date.now() - openShow.epoch_unix_ms : 0; /* a server without duration_ms */
    clock.textContent = st === 'waiting' ? '· 等待画面' : '· 已播 ' + TC.clock(ms);
  }
  setInterval(function () { if (openShow) renderShowInfo(); }, 1000);

  /* ---- the phone ---- */
  var lastStream = null, streamSeen = 0;
  function phoneText(st) {
    if (!st) return publisherLive ? '手机已连接，可以开播' : '手机未连接：在手机 App 里开始推流（设置见“手机推流设置”）';
    if (st === 'waiting') return publisherLive ? '手机已连接，画面马上开始' : '已开播，等手机推流（观众看到“即将开始”）';
    if (st === 'slate') return publisherLive ? '手机已重新连接，画面恢复中' : '手机未连接（观众看到“信号重连中”），请检查手机网络';
    return publisherLive ? '手机推流中' : '手机未连接（观众看到“信号重连中”）';
  }
  function renderPhone() {
    var box = TC.$('#health'), p = (lastStream && lastStream.publisher) || {};
    var parts = [phoneText(stateOf(openShow))];
    if (publisherLive && lastStream) parts.push('码率 ' + Math.round(p.input_kbps || 0) + ' kbit/s', '帧率 ' + Math.round(p.input_fps || 0));
    if (openShow && lastStream) {
      if (p.reconnects) parts.push('重连 ' + p.reconnects + ' 次');
      if (p.frames_dropped || p.frames_late) parts.push('丢帧 ' + (p.frames_dropped || 0) + ' · 迟到 ' + (p.frames_late || 0));
    }
    box.textContent = parts.join(' · ');
    box.dataset.live = publisherLive ? '1' : '0';
    box.className = 'phone ' + (publisherLive ? 'on' : 'off');
  }

  /* {"publisher":{live, on_air_live, input_kbps, input_fps, frames_dropped,
   *  frames_late, reconnects}, "restream":[{url, state, failures, error}]},
   * in the welcome and once a second. */
  function onStream(s) {
    streamSeen = Date.now();
    lastStream = s;
    var live = !!(s.publisher && s.publisher.live);
    if (live !== publisherLive) { publisherLive = live; setStatus(); } else renderPhone();
    renderRestream(s.restream || []);
  }

  /* A server without `stream` messages: the phone's state from /metrics. */
  function pollHealth() {
    if (Date.now() - streamSeen < 5000) return;
    fetch('/metrics', { cache: 'no-store' }).then(function (r) { return r.text(); }).then(function (t) {
      var m = /^tourcast_publisher_live (\d+)/m.exec(t);
      if (!m || Date.now() - streamSeen < 5000) return;
      var live = m[1] === '1';
      if (live !== publisherLive) { publisherLive = live; setStatus(); } else renderPhone();
    }).catch(function () {});
  }
  setInterval(pollHealth, 2000);

  var RESTREAM_STATE = { live: '推流中', connecting: '连接中', retrying: '重试中', failed: '失败', stopped: '已停止' };
  function renderRestream(targets) {
    var box = TC.clear(TC.$('#restream'));
    if (!targets.length) { box.textContent = '未配置转推'; return; }
    targets.forEach(function (t) {
      box.appendChild(el('div', { class: 'row', 'data-restream': t.url },
        el('span', { class: 'grow', text: t.url + ' · ' + (RESTREAM_STATE[t.state] || t.state) +
          (t.failures ? ' · 失败 ' + t.failures + ' 次' : '') }),
        el('button', { type: 'button', testid: 'restream-remove', text: '移除',
          onclick: function () { send({ type: 'restream.remove', url: t.url }); } })));
    });
  }
  TC.$('#restream').textContent = '转推：读取中…';
  TC.$('#rform').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = e.target.elements.url, url = input.value.trim();
    if (!/^rtmps?:\/\//.test(url)) { setStatus('转推地址要以 rtmp:// 或 rtmps:// 开头'); return; }
    send({ type: 'restream.add', url: url });
    input.value = '';
  });

  /* ---- begin and end ---- */
  var bform = TC.$('#bform'), bfe = bform.elements, bDirty = { title: false, promise: false };
  ['title', 'promise'].forEach(function (k) { bfe[k].addEventListener('input', function () { bDirty[k] = true; }); });
  function prefillBegin() {
    if (!lastShow) return;
    if (!bDirty.title) bfe.title.value = lastShow.title || '';
    if (!bDirty.promise) bfe.promise.value = lastShow.promise || '';
    TC.$('#bhint').textContent = '已填上一场（' + fmtDate(lastShow.started_unix_ms) + '）的标题和承诺，可以改。';
    if (!sDirty && !(nextShow && nextShow.title)) TC.$('#sform').elements.title.value = lastShow.title || '';
  }
  var beginWait = 0;
  bform.addEventListener('submit', function (e) {
    e.preventDefault();
    var m = { type: 'show.begin', carry_over: true, promise: bfe.promise.value.trim() };
    var title = bfe.title.value.trim();
    if (title) m.title = title;
    if (!send(m)) return;
    TC.$('#begin').disabled = true;
    clearTimeout(beginWait);
    beginWait = setTimeout(function () { TC.$('#begin').disabled = false; }, 5000);
  });
  TC.$('#end').addEventListener('click', function () {
    if (!openShow) return;
    if (window.confirm('确定结束本场直播吗？结束后观众只能看回放。')) send({ type: 'show.end' });
  });

  /* Title and promise of the open show, on screen too (show.update). */
  var uform = TC.$('#uform'), ufe = uform.elements;
  TC.$('#edit-show').addEventListener('toggle', function () {
    if (!this.open || !openShow) return;
    ufe.title.value = openShow.title || '';
    ufe.promise.value = openShow.promise || '';
    TC.$('#uerr').textContent = '';
  });
  uform.addEventListener('submit', function (e) {
    e.preventDefault();
    var title = ufe.title.value.trim();
    if (!title) { TC.$('#uerr').textContent = '标题不能为空'; return; }
    if (send({ type: 'show.update', title: title, promise: ufe.promise.value.trim() })) TC.$('#edit-show').open = false;
  });

  /* ---- the next show ---- */
  var sform = TC.$('#sform'), sfe = sform.elements, sDirty = false;
  sfe.title.addEventListener('input', function () { sDirty = true; });
  function renderNext() {
    var box = TC.$('#next-show');
    box.textContent = nextShow && nextShow.at_unix_ms ? '已预告：' + (nextShow.title || '下一场') + ' · ' + fmtDate(nextShow.at_unix_ms) : '还没有预告';
    box.className = nextShow && nextShow.at_unix_ms ? 'next on' : 'muted';
    TC.$('#sclear').classList.toggle('hidden', !(nextShow && nextShow.at_unix_ms));
    if (nextShow && nextShow.at_unix_ms) {
      sfe.at.value = localInput(nextShow.at_unix_ms);
      if (!sDirty && nextShow.title) sfe.title.value = nextShow.title;
    } else { /* tomorrow, this hour */
      var d = new Date(Date.now() + 86400000); d.setMinutes(0, 0, 0);
      sfe.at.value = localInput(d.getTime());
    }
  }
  renderNext();
  sform.addEventListener('submit', function (e) {
    e.preventDefault();
    var err = TC.$('#serr'), at = sfe.at.value ? new Date(sfe.at.value).getTime() : NaN;
    var title = sfe.title.value.trim() || (lastShow && lastShow.title) || (openShow && openShow.title) || '';
    err.textContent = '';
    if (!isFinite(at)) { err.textContent = '请选开播时间'; return; }
    if (at < Date.now()) { err.textContent = '这个时间已经过了'; return; }
    if (!title) { err.textContent = '请填标题'; return; }
    send({ type: 'show.schedule', title: title, at_unix_ms: at });
  });
  TC.$('#sclear').addEventListener('click', function () { send({ type: 'show.schedule', at_unix_ms: null }); });

  /* ---- settings for the phone and the chat group ---- */
  function renderSettings() {
    var s = settings || {};
    var viewerUrl = s.viewer_url || location.origin + '/';
    TC.$('#rtmp-url').value = s.rtmp_url || '';
    TC.$('#stream-key').value = s.stream_key || '';
    TC.$('#publish-url').value = s.publish_url || (s.rtmp_url && s.stream_key ? s.rtmp_url.replace(/\/$/, '') + '/' + s.stream_key : '');
    if (!settings) TC.$('#rtmp-url').placeholder = '服务器没有给出（需要新版 tourcast）';
    TC.$('#viewer-link').value = viewerUrl;
    var qr = '/api/qr.svg?text=' + encodeURIComponent(viewerUrl);
    var img = TC.$('#viewer-qr');
    if (img.getAttribute('src') !== qr) img.src = qr;
    TC.$('#qr-save').href = qr;
  }
  TC.$('#key-show').addEventListener('click', function () {
    var show = TC.$('#stream-key').type === 'password';
    TC.$('#stream-key').type = TC.$('#publish-url').type = show ? 'text' : 'password';
    this.textContent = show ? '隐藏' : '显示';
  });
  function copyText(text, btn) {
    function done(ok) {
      btn.textContent = ok ? '已复制' : '请长按复制';
      setTimeout(function () { btn.textContent = '复制'; }, 1500);
    }
    function fallback() {
      var ta = el('textarea', { readonly: true, class: 'offscreen' });
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { /* */ }
      ta.remove();
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    else fallback();
  }
  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (b) {
    b.addEventListener('click', function (e) {
      e.preventDefault();
      var v = document.getElementById(b.dataset.copy).value;
      if (v) copyText(v, b);
    });
  });
  renderSettings();

  /* ---- products ---- */
  function putProduct(p) {
    if (!products[p.id]) order.push(p.id);
    products[p.id] = p;
  }

  function renderProducts() {
    var ul = TC.clear(TC.$('#products'));
    if (!order.length) ul.appendChild(el('li', { class: 'muted', text: '还没有商品，在下面新建' }));
    order.forEach(function (id) {
      var p = products[id], on = id === pinned;
      ul.appendChild(el('li', { class: on ? 'on' : '', 'data-product': id },
        p.image ? el('img', { class: 'thumb', src: p.image, alt: '' }) : null,
        el('div', { class: 'name' },
          el('div', { text: p.name }),
          el('div', { class: 'muted', text: TC.yuan(p.price_cents) + (p.unit ? '/' + p.unit : '') + ' · 库存 ' + p.stock +
            ' · 已售 ' + p.sold + (p.limit_per_buyer ? ' · 限购 ' + p.limit_per_buyer : '') + (p.on_sale ? '' : ' · 未开售') })),
        el('div', { class: 'acts' },
          el('button', { type: 'button', class: 'ghost', text: '编辑', onclick: function () { edit(id); } }),
          el('button', { type: 'button', class: 'ghost', text: p.on_sale ? '下架' : '上架',
            onclick: function () { send({ type: 'product.put', id: id, on_sale: !p.on_sale }); } }),
          /* A pin needs a show on air. */
          openShow ? el('button', { type: 'button', class: on ? 'primary' : '', testid: 'pin-' + id, text: on ? '取消讲解' : '讲解',
            onclick: function () { window.tcPinTapAt = performance.timeOrigin + performance.now(); send({ type: 'pin', product_id: on ? null : id }); } }) : null)));
    });
  }

  /* The values an edit started from: only what the leader changed is sent,
   * so a 上架 tapped just before 编辑 is not undone by a stale checkbox. */
  var form = TC.$('#pform'), fe = form.elements, editing = null;
  function edit(id) {
    var p = products[id];
    fe.id.value = id;
    fe.name.value = p.name;
    fe.price.value = (p.price_cents / 100).toFixed(2);
    fe.unit.value = p.unit || '';
    fe.stock.value = p.stock;
    fe.limit.value = p.limit_per_buyer;
    fe.on_sale.checked = p.on_sale;
    editing = { name: p.name, price_cents: p.price_cents, unit: p.unit || '', stock: p.stock,
      limit_per_buyer: p.limit_per_buyer, on_sale: p.on_sale };
    TC.$('#pform-title').textContent = '编辑：' + p.name;
    form.scrollIntoView({ block: 'nearest' });
  }
  function resetForm() {
    editing = null;
    form.reset();
    fe.id.value = '';
    TC.$('#pform-title').textContent = '新建商品';
    TC.$('#perr').textContent = '';
  }
  TC.$('#pnew').addEventListener('click', resetForm);

  var pendingImage = null; /* a file waiting for the product it belongs to */
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var err = TC.$('#perr');
    var price = Math.round(parseFloat(fe.price.value) * 100);
    var m = { type: 'product.put', name: fe.name.value.trim(), on_sale: fe.on_sale.checked };
    if (!m.name || !isFinite(price) || price < 0) { err.textContent = '请填写名称和价格'; return; }
    m.price_cents = price;
    if (fe.unit.value.trim()) m.unit = fe.unit.value.trim();
    if (fe.stock.value !== '') m.stock = parseInt(fe.stock.value, 10);
    if (fe.limit.value !== '') m.limit_per_buyer = parseInt(fe.limit.value, 10);
    var file = fe.image.files[0];
    if (fe.id.value) {
      m.id = Number(fe.id.value);
      if (editing) {
        Object.keys(editing).forEach(function (k) { if (k in m && m[k] === editing[k]) delete m[k]; });
        if (Object.keys(m).length === 2) { /* type and id: nothing changed */
          if (file) uploadImage(m.id, file);
          resetForm();
          return;
        }
      }
    }
    m.ref = 'p-' + TC.randomKey();
    if (file) pendingImage = { file: file, id: m.id, ref: m.ref, name: m.name };
    if (send(m)) resetForm();
  });

  /* POST /api/products/ID/image (the image as the body) once the product
   * exists; the server answers everyone with a `product` broadcast. */
  function uploadImage(id, file) {
    fetch('/api/products/' + id + '/image',
      { method: 'POST', body: file, headers: auth({ 'Content-Type': file.type || 'application/octet-stream' }) })
      .then(function (r) {
        if (r.ok) return;
        /* 503: the server is decoding other pictures; again when it says. */
        if (r.status === 503 && (file.tcTries = (file.tcTries || 0) + 1) <= 10) {
          var wait = Number(r.headers.get('Retry-After')) || 1;
          setTimeout(function () { uploadImage(id, file); }, wait * 1000);
          return;
        }
        return r.json().catch(function () { return {}; }).then(function (j) {
          var why = { 403: '口令不对', 413: '图片太大（最多 2 MB、每边 8192 像素）', 415: '只支持 JPG 和 PNG',
            400: '图片文件损坏', 503: '服务器忙，请稍后再试' }[r.status];
          throw new Error(why || j.message || String(r.status));
        });
      })
      .catch(function (e) { TC.$('#perr').textContent = '图片没有上传：' + e.message; });
  }

  /* ---- picking lists ----
   * An order: {order_id, viewer_id, name, pickup, phone, product_id,
   * product_name?, unit?, qty, price_cents?, replay?, show_id?, created_unix_ms?}.
   * The price is the order's own (what the buyer pays), the product's
   * current one only for a server that does not send it. */
  function oName(o) { var p = products[o.product_id]; return o.product_name || (p ? p.name : '商品 #' + o.product_id); }
  function oUnit(o) { var p = products[o.product_id]; return o.unit || (p && p.unit) || '件'; }
  function oCents(o) {
    var p = products[o.product_id];
    return (typeof o.price_cents === 'number' ? o.price_cents : p ? p.price_cents : 0) * o.qty;
  }
  function sumByProduct(list) {
    var by = {}, keys = [];
    list.forEach(function (o) {
      var k = o.product_id;
      if (!by[k]) { by[k] = { name: oName(o), unit: oUnit(o), qty: 0, cents: 0 }; keys.push(k); }
      by[k].qty += o.qty;
      by[k].cents += oCents(o);
    });
    return keys.map(function (k) { return by[k]; });
  }
  function byPickup(list) {
    var groups = {}, names = [];
    list.forEach(function (o) {
      var k = o.pickup || '（没填自提点）';
      if (!groups[k]) { groups[k] = []; names.push(k); }
      groups[k].push(o);
    });
    names.sort(function (a, b) { return a.localeCompare(b, 'zh-CN', { numeric: true }); });
    return names.map(function (n) { return { pickup: n, list: groups[n] }; });
  }
  function totalsLine(list) {
    var cents = 0, units = 0;
    list.forEach(function (o) { cents += oCents(o); units += o.qty; });
    return list.length + ' 单 · ' + units + ' 件 · ' + TC.yuan(cents);
  }
  function productTotals(list) {
    var ul = el('ul', { class: 'ptot' });
    sumByProduct(list).forEach(function (t) {
      ul.appendChild(el('li', {}, el('span', { class: 'grow', text: t.name }),
        el('span', { text: t.qty + ' ' + t.unit }), el('span', { class: 'amt', text: TC.yuan(t.cents) })));
    });
    return ul;
  }
  function orderLine(o, withShow) {
    return el('li', { 'data-order': o.order_id, class: o.replay ? 'replay' : '' },
      el('span', { text: o.name + ' ' }), el('span', { class: 'muted', text: (o.phone || '') + ' ' }),
      el('span', { text: oName(o) + ' ×' + o.qty + ' ' }), el('span', { class: 'muted', text: TC.yuan(oCents(o)) }),
      o.replay ? el('span', { class: 'tag', text: '回放' }) : null,
      withShow && o.show_id ? el('span', { class: 'muted', text: ' 第 ' + o.show_id + ' 场' }) : null,
      el('span', { class: 'muted', text: ' #' + o.order_id }));
  }
  /* Per pickup point: its per-product totals, then the orders (newest
   * first while a show is on, oldest first in a finished list). */
  function renderPicking(box, list, opt) {
    opt = opt || {};
    TC.clear(box);
    if (!list.length) { box.appendChild(el('div', { class: 'muted', text: opt.empty || '还没有订单' })); return; }
    if (opt.summary) {
      box.appendChild(el('div', { class: 'group sum' }, el('h3', { text: '合计 · ' + totalsLine(list) }), productTotals(list)));
    }
    byPickup(list).forEach(function (g) {
      var ul = el('ul', { class: 'orders' });
      (opt.newestFirst ? g.list.slice().reverse() : g.list).forEach(function (o) { ul.appendChild(orderLine(o, opt.withShow)); });
      box.appendChild(el('div', { class: 'group', 'data-pickup': g.pickup },
        el('h3', { text: g.pickup + ' · ' + totalsLine(g.list) }), productTotals(g.list), ul));
    });
  }

  /* The orders card: the open show's live orders, or between shows the
   * last show's picking list (from the server, so a reload keeps it). */
  function renderOrdersCard() {
    var box = TC.tid('orders'), csv = TC.$('#csv'), rl = TC.$('#last-replay');
    var s = openShow || lastShow;
    csv.classList.toggle('hidden', !s);
    if (s) csv.dataset.show = s.id;
    rl.classList.toggle('hidden', !!openShow || !lastShow);
    if (lastShow) rl.href = '/replay/' + lastShow.id;
    if (openShow) {
      TC.$('#otitle').textContent = '本场订单';
      TC.$('#ototal').textContent = ordersTotal ? '共 ' + ordersTotal + ' 单' : '';
      renderPicking(box, orders, { newestFirst: true, summary: orders.length > 0 });
      if (ordersTotal > orders.length) {
        box.insertBefore(el('div', { class: 'muted', text: '这里只有最新 ' + orders.length + ' 单，完整的配货单请下载 CSV' }), box.firstChild);
      }
    } else if (lastShow) {
      TC.$('#otitle').textContent = '上一场订单：' + lastShow.title;
      var c = pastOrders[lastShow.id];
      TC.$('#ototal').textContent = c ? '共 ' + c.list.length + ' 单' : '';
      if (c) renderPicking(box, c.list, { summary: true, empty: '上一场没有订单' });
      else { TC.clear(box).appendChild(el('div', { class: 'muted', text: '读取中…' })); loadOrders(lastShow.id); }
    } else {
      TC.$('#otitle').textContent = '订单';
      TC.$('#ototal').textContent = '';
      renderPicking(box, [], { empty: '还没有订单：开播后邻居下的单会按自提点列在这里' });
    }
    var rb = TC.$('#replay-box');
    rb.classList.toggle('hidden', !(openShow && replayOrders.length));
    if (openShow && replayOrders.length) {
      TC.$('#rtotal').textContent = '共 ' + replayOrders.length + ' 单';
      renderPicking(TC.tid('replay-orders'), replayOrders, { newestFirst: true, withShow: true });
    }
  }

  /* The picking list of show `id`: fetched with the token in the header,
   * saved from a Blob under a name that says which show it is. */
  function downloadCsv(id, link) {
    var was = link.textContent;
    var note = link.nextElementSibling && link.nextElementSibling.dataset.csvError ? link.nextElementSibling : null;
    if (note) note.remove();
    link.textContent = '下载中…';
    fetch('/api/shows/' + id + '/orders.csv', { cache: 'no-store', headers: auth() }).then(function (r) {
      if (!r.ok) throw new Error(r.status === 403 ? '口令不对' : '服务器答复 ' + r.status);
      return r.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = el('a', { href: url, download: 'orders-show-' + id + '.csv', class: 'hidden' });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      link.textContent = was;
    }, function (e) {
      link.textContent = was;
      var err = el('span', { class: 'err', testid: 'csv-error', 'data-csv-error': '1', text: '配货单下载失败：' + (e.message || '网络不通') + '，请重试' });
      link.parentNode.insertBefore(err, link.nextSibling);
    });
  }
  TC.$('#csv').addEventListener('click', function (e) {
    e.preventDefault();
    if (this.dataset.show) downloadCsv(Number(this.dataset.show), this);
  });

  /* ---- past shows ---- */
  function api(path) {
    return fetch(path, { cache: 'no-store', headers: auth() }).then(function (r) {
      if (!r.ok) throw new Error(r.status === 403 ? '口令不对' : 'HTTP ' + r.status);
      return r.json();
    });
  }
  var loading = {};
  function loadOrders(id) {
    if (loading[id]) return;
    loading[id] = true;
    api('/api/shows/' + id + '/orders').then(function (list) {
      pastOrders[id] = { list: list };
    }, function (e) {
      pastOrders[id] = { list: [], error: e.message };
    }).then(function () {
      loading[id] = false;
      renderPastBody(id);
      if (!openShow && lastShow && lastShow.id === id) renderOrdersCard();
    });
  }
  var pastTimer = 0;
  function refreshPast(delay) {
    clearTimeout(pastTimer);
    pastTimer = setTimeout(function () {
      Object.keys(pastOrders).forEach(function (id) { pastOrders[id].stale = true; });
      api('/api/shows').then(function (list) {
        pastShows = list;
        var ended = list.filter(function (s) { return stateOf(s) === 'ended'; });
        if (ended.length && (!lastShow || ended[0].id >= lastShow.id)) { lastShow = ended[0]; prefillBegin(); }
        renderPast();
        Object.keys(pastOrders).forEach(function (id) {
          if (pastOpen[id] || (!openShow && lastShow && String(lastShow.id) === id)) loadOrders(Number(id));
        });
        setStatus();
      }).catch(function (e) {
        TC.clear(TC.$('#past-shows')).appendChild(el('div', { class: 'err', text: '往期直播读取失败：' + e.message }));
      });
    }, delay || 0);
  }
  var pastLimit = 20;
  function renderPast() {
    var box = TC.clear(TC.$('#past-shows'));
    var ended = (pastShows || []).filter(function (s) { return stateOf(s) === 'ended'; });
    if (!ended.length) { box.appendChild(el('div', { class: 'muted', text: '还没有结束的直播' })); return; }
    ended.slice(0, pastLimit).forEach(function (s) {
      var d = el('details', { testid: 'past-show-' + s.id, 'data-show': s.id, open: !!pastOpen[s.id] },
        el('summary', {},
          el('div', { class: 'pt' }, el('span', { class: 'when', text: fmtDate(s.started_unix_ms) }), el('span', { text: ' ' + s.title })),
          el('div', { class: 'pf' },
            el('span', { 'data-f': 'duration', text: '时长 ' + fmtDur(s.duration_ms != null ? s.duration_ms : s.ended_stream_ms) }),
            el('span', { 'data-f': 'orders', text: (s.orders || 0) + ' 单' }),
            el('span', { 'data-f': 'gmv', class: 'amt', text: typeof s.gmv_cents === 'number' ? TC.yuan(s.gmv_cents) : '—' }),
            typeof s.buyers === 'number' ? el('span', { 'data-f': 'buyers', text: s.buyers + ' 人' }) : null,
            s.replay_orders ? el('span', { 'data-f': 'replay', text: '回放 ' + s.replay_orders + ' 单' }) : null)),
        el('div', { class: 'pbody', id: 'pbody-' + s.id }));
      d.addEventListener('toggle', function () {
        if (d.open) { pastOpen[s.id] = true; renderPastBody(s.id); } else delete pastOpen[s.id];
      });
      box.appendChild(d);
    });
    if (ended.length > pastLimit) {
      box.appendChild(el('button', { type: 'button', class: 'ghost', text: '更早的 ' + (ended.length - pastLimit) + ' 场',
        onclick: function () { pastLimit += 50; renderPast(); } }));
    }
  }
  function renderPastBody(id) {
    var body = document.getElementById('pbody-' + id);
    if (!body || !pastOpen[id]) return;
    var s = (pastShows || []).filter(function (x) { return x.id === id; })[0];
    var c = pastOrders[id];
    if (!c || c.stale) loadOrders(id);
    TC.clear(body);
    body.appendChild(el('div', { class: 'row links' },
      el('a', { testid: 'csv-' + id, href: '#', onclick: function (e) { e.preventDefault(); downloadCsv(id, this); } }, '下载配货单 CSV'),
      s && s.has_replay === false ? el('span', { class: 'muted', text: '没有回放' })
        : el('a', { testid: 'replay-link-' + id, href: '/replay/' + id, target: '_blank' }, '看回放'),
      s && s.promise ? el('span', { class: 'muted grow', text: '承诺：' + s.promise }) : null));
    var pick = el('div', { testid: 'picking-' + id, class: 'picking' });
    body.appendChild(pick);
    if (!c) pick.appendChild(el('div', { class: 'muted', text: '读取中…' }));
    else if (c.error) pick.appendChild(el('div', { class: 'err', text: '配货单读取失败：' + c.error }));
    else renderPicking(pick, c.list, { summary: true, empty: '这场没有订单' });
  }

  /* ---- questions ---- */
  function renderQuestions() {
    var ul = TC.clear(TC.tid('questions'));
    if (!questions.length) ul.appendChild(el('li', { class: 'muted', text: '还没有提问' }));
    questions.slice().reverse().forEach(function (q) {
      var input = el('input', { class: 'grow', testid: 'answer-input-' + q.id, maxlength: 280, placeholder: q.answer ? '修改回答' : '回答' });
      var on = q.id === highlight;
      ul.appendChild(el('li', { class: on ? 'hl' : '', 'data-qid': q.id },
        el('span', { class: 'who', text: q.name }), el('span', { text: q.text }),
        q.answer ? el('div', { class: 'ans', text: '已答：' + q.answer }) : null,
        el('div', { class: 'row mt4' }, input,
          el('button', { type: 'button', testid: 'answer-' + q.id, text: '回答', onclick: function () {
            var t = input.value.trim();
            if (t && send({ type: 'answer', question_id: q.id, text: t })) input.value = '';
          } }),
          el('button', { type: 'button', class: on ? 'primary' : 'ghost', testid: 'highlight-' + q.id, text: on ? '下屏' : '上屏',
            onclick: function () { send({ type: 'highlight', question_id: on ? null : q.id }); } }))));
    });
    var older = questionsTotal - questions.length;
    if (older > 0 && questions.length) {
      ul.appendChild(el('li', { class: 'more' }, el('button', {
        type: 'button', class: 'ghost', testid: 'questions-more', text: '更早的提问（还有 ' + older + ' 条）',
        onclick: function () { send({ type: 'questions.more', before_id: questions[0].id }); } })));
    }
  }

  /* An older page of questions (questions.more), before what the list has. */
  function olderQuestions(m) {
    questions = TC.olderFirst(questions, m.questions);
    questionsTotal = m.questions_total;
    renderQuestions();
  }

  /* The server held back order.new while this console was behind (a flash
   * sale faster than its link): reload the newest orders instead. */
  function reloadOrders(m) {
    if (!openShow || m.show_id !== openShow.id) return;
    var id = openShow.id;
    api('/api/shows/' + id + '/orders?limit=1000').then(function (list) {
      if (!openShow || openShow.id !== id) return;
      orders = list.slice().reverse().filter(function (o) { return !isReplayOfOlder(o); });
      ordersTotal = Math.max(m.orders_total || 0, orders.length);
      renderOrdersCard();
    }).catch(function () {});
  }

  /* An order of the open show, or a replay order of an older one. */
  function isReplayOfOlder(o) {
    return !!o.replay && o.show_id != null && (!openShow || o.show_id !== openShow.id);
  }

  function onMessage(m) {
    switch (m.type) {
      case 'welcome':
        openShow = null; lastShow = null;
        if (typeof m.publisher_live === 'boolean') publisherLive = m.publisher_live;
        if (m.stream && m.stream.publisher) publisherLive = !!m.stream.publisher.live;
        takeShow(m.last_show);
        takeShow(m.show);
        pinned = m.pinned; highlight = m.highlight;
        products = {}; order = [];
        (m.products || []).forEach(putProduct);
        orders = []; replayOrders = [];
        (m.orders || []).slice().reverse().forEach(function (o) { (isReplayOfOlder(o) ? replayOrders : orders).push(o); });
        ordersTotal = Math.max(m.orders_total || 0, orders.length);
        questions = m.questions || [];
        questionsTotal = Math.max(m.questions_total || 0, questions.length);
        nextShow = m.next_show || null;
        if (m.settings) settings = m.settings;
        TC.tid('viewer-count').textContent = m.viewers + ' 人在看';
        if (m.stream) onStream(m.stream);
        renderProducts(); renderQuestions(); renderNext(); renderSettings();
        phaseShown = null; setStatus();
        refreshPast();
        break;
      case 'product':
        putProduct(m.product);
        if (pendingImage && (pendingImage.id === m.product.id || (!pendingImage.id && pendingImage.name === m.product.name))) {
          uploadImage(m.product.id, pendingImage.file);
          pendingImage = null;
        }
        renderProducts();
        break;
      case 'stock':
        if (products[m.product_id]) { products[m.product_id].stock = m.stock; products[m.product_id].sold = m.sold; }
        renderProducts();
        break;
      case 'pinned': pinned = m.product_id; renderProducts(); break;
      case 'order.new': {
        var older = false;
        m.orders.forEach(function (o) {
          if (isReplayOfOlder(o)) { replayOrders.push(o); older = true; }
          else if (openShow) { orders.push(o); ordersTotal++; }
          else older = true;
        });
        if (orders.length > 2000) orders = orders.slice(-2000);
        if (replayOrders.length > 500) replayOrders = replayOrders.slice(-500);
        renderOrdersCard();
        if (older) refreshPast(1500); /* the past shows' counts and lists */
        break;
      }
      case 'question': questions.push(m); questionsTotal++; renderQuestions(); break;
      case 'questions.page': olderQuestions(m); break;
      case 'order.gap': reloadOrders(m); break;
      case 'answer':
        questions.forEach(function (q) { if (q.id === m.question_id) q.answer = m.text; });
        renderQuestions();
        break;
      case 'highlight': highlight = m.question_id; renderQuestions(); break;
      case 'viewers': TC.tid('viewer-count').textContent = m.count + ' 人在看'; break;
      case 'show': {
        var was = openShow && openShow.id;
        if (!m.show) openShow = null; else takeShow(m.show);
        if (!openShow) { clearTimeout(beginWait); TC.$('#begin').disabled = false; }
        if (openShow && openShow.id !== was) { bDirty.title = bDirty.promise = false; TC.$('#begin').disabled = false; }
        setStatus();
        renderOrdersCard();
        if ((openShow && openShow.id) !== was) refreshPast(300);
        break;
      }
      case 'schedule': nextShow = m.next_show || null; sDirty = false; renderNext(); TC.$('#serr').textContent = ''; break;
      case 'publisher': publisherLive = !!m.live; setStatus(); break;
      case 'stream': onStream(m); break;
      case 'restream.added': case 'restream.removed': setStatus(); break;
      case 'error':
        if (!room.greeted && m.code === 'forbidden') { TC.store.del('leader_token'); askToken('口令不对，请重新输入'); return; }
        TC.$('#perr').textContent = m.ref && String(m.ref).slice(0, 2) === 'p-' ? '没有保存：' + m.message : '';
        TC.$('#begin').disabled = false;
        setStatus('操作没有成功：' + (m.message || m.code));
        break;
    }
  }

  function start() {
    if (room) { room.reconnectNow(); return; }
    room = new TC.Room({
      hello: function () { return { type: 'hello', role: 'leader', token: token() }; },
      onmessage: onMessage,
      onstate: function (s) { connState = s; setStatus(); }
    });
    window.tcRoom = room;
  }

  function askToken(errText) {
    var input = el('input', { type: 'password', placeholder: '团长口令（启动时打印，也在 tourcast-data/leader_token）', required: true });
    var f = el('form', {}, el('h2', { text: '团长登录' }), input, el('div', { class: 'err', text: errText || '' }),
      el('button', { class: 'primary', type: 'submit', text: '进入控制台' }));
    var box = el('div', { class: 'dialog' }, f);
    f.addEventListener('submit', function (e) {
      e.preventDefault();
      TC.store.set('leader_token', input.value.trim());
      box.remove();
      start();
    });
    document.body.appendChild(box);
    input.focus();
  }

  renderOrdersCard();
  if (token()) start();
  else askToken();
})();
