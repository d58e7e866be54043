/* shop.js — products, the pinned card and the viewer's own orders, shared by
 * the viewer page and the replay. An order is kept in localStorage with its
 * idempotency key until the server answers, and sent again with the same key
 * after a reconnect or a reload: a retry is never a second order. */
'use strict';

var REASONS = { sold_out: '已售罄', over_limit: '超过限购', not_on_sale: '未开售或已下架', invalid: '数量不对',
  join_required: '请先填写自提信息', no_show: '现在没有直播' };

function Shop(room, opt) {
  this.room = room;
  this.opt = opt; /* {seenMs(): number|undefined, onchange(), pinnedId(): id|null,
                   *  showId: a replay's show, whose orders name it} */
  this.products = {};
  this.order = []; /* product ids in the server's order */
  this.pinned = null;
  this.mine = []; /* {key, product_id, qty, state: 'pending'|'ok'|'rejected', order_id, reason} */
  this.viewerToken = null;
}

Shop.prototype.pendingKey = function () { return 'pending.' + (this.viewerToken || 'none'); };
Shop.prototype.savePending = function () {
  TC.store.set(this.pendingKey(), this.mine.filter(function (o) { return o.state === 'pending'; }));
};

Shop.prototype.welcome = function (m) {
  var self = this;
  this.viewerToken = m.viewer_token;
  this.products = {};
  this.order = [];
  (m.products || []).forEach(function (p) { self.putProduct(p); });
  this.pinned = m.pinned;
  var done = {};
  this.mine = (m.my_orders || []).map(function (o) {
    done[o.key] = true;
    return { key: o.key, product_id: o.product_id, qty: o.qty, state: 'ok', order_id: o.order_id };
  });
  /* Orders sent but never answered: the same key again. Those the server
   * committed before the connection dropped are in my_orders already. */
  var stored = (TC.store.get(this.pendingKey()) || []).concat(TC.store.get('pending.none') || []);
  TC.store.del('pending.none');
  stored.forEach(function (o) {
    if (!done[o.key]) { o.state = 'pending'; self.mine.push(o); self.send(o); }
  });
  this.savePending();
  this.changed();
};

/* The viewer's orders of one show from the server (`my_orders`: live and
 * replay); orders still pending here stay. */
Shop.prototype.setMine = function (orders) {
  var byId = {};
  var mine = (orders || []).map(function (o) {
    byId[o.order_id] = true;
    return { key: o.key || 'order-' + o.order_id, product_id: o.product_id, qty: o.qty, state: 'ok',
      order_id: o.order_id, replay: o.replay, price_cents: o.price_cents };
  });
  this.mine.forEach(function (o) {
    if (o.state !== 'ok' || (o.replay === true && !byId[o.order_id])) mine.push(o);
  });
  this.mine = mine;
  this.changed();
};

Shop.prototype.putProduct = function (p) {
  if (!this.products[p.id]) this.order.push(p.id);
  this.products[p.id] = p;
};

Shop.prototype.changed = function () { if (this.opt.onchange) this.opt.onchange(); };

Shop.prototype.find = function (key) {
  for (var i = 0; i < this.mine.length; i++) if (this.mine[i].key === key) return this.mine[i];
  return null;
};

/* Every message the page gets goes through here; true if it was the shop's. */
Shop.prototype.handle = function (m) {
  var o;
  switch (m.type) {
    case 'product': this.putProduct(m.product); break;
    case 'stock': {
      var p = this.products[m.product_id];
      if (!p) return true;
      p.stock = m.stock;
      p.sold = m.sold;
      break;
    }
    case 'pinned': this.pinned = m.product_id; break;
    case 'order.ok':
      o = this.find(m.key);
      if (!o) { o = { key: m.key }; this.mine.push(o); }
      o.state = 'ok'; o.order_id = m.order_id; o.product_id = m.product_id; o.qty = m.qty;
      if (this.opt.showId) o.replay = true;
      this.savePending();
      break;
    case 'order.rejected':
      o = this.find(m.key);
      if (!o) return true;
      o.state = 'rejected'; o.reason = m.reason;
      this.savePending();
      break;
    case 'error':
      /* unavailable: the server could not commit; rate_limited: the message
       * was dropped. Either way the same key again in a moment. */
      o = m.ref ? this.find(String(m.ref)) : null;
      if (!o || o.state !== 'pending') return false;
      if (m.code === 'unavailable' || m.code === 'rate_limited') {
        var self = this;
        setTimeout(function () { if (o.state === 'pending') self.send(o); }, 1000);
      } else {
        o.state = 'rejected'; o.reason = m.code;
        this.savePending();
      }
      break;
    default: return false;
  }
  this.changed();
  return true;
};

Shop.prototype.send = function (o) {
  var msg = { type: 'order', product_id: o.product_id, qty: o.qty, key: o.key, ref: o.key };
  if (typeof o.seen_ms === 'number' && o.seen_ms >= 0 && isFinite(o.seen_ms)) msg.seen_ms = Math.round(o.seen_ms);
  if (this.opt.showId) msg.show_id = this.opt.showId;
  this.room.send(msg); /* not sent now: the next welcome sends it */
};

/* seen: the stream_ms on screen when the buyer tapped (default: now).
 * opt.gate(productId, qty, seen) may hold the order back (a guest joins first). */
Shop.prototype.buy = function (productId, qty, seen) {
  if (seen === undefined) seen = this.opt.seenMs ? this.opt.seenMs() : undefined;
  if (this.opt.gate && !this.opt.gate(productId, qty, seen)) return;
  var o = { key: 'o-' + TC.randomKey(), product_id: productId, qty: qty, seen_ms: seen, state: 'pending' };
  this.mine.push(o);
  this.savePending();
  this.send(o);
  this.changed();
};

Shop.prototype.boughtOf = function (pid) {
  return this.mine.reduce(function (n, o) {
    return n + (o.product_id === pid && o.state !== 'rejected' ? o.qty : 0);
  }, 0);
};

/* How many more of p this viewer may order now (0: none). */
Shop.prototype.maxQty = function (p) {
  var max = Math.min(99, p.stock);
  if (p.limit_per_buyer > 0) max = Math.min(max, p.limit_per_buyer - this.boughtOf(p.id));
  return p.on_sale ? Math.max(0, max) : 0;
};

function productThumb(p) {
  return p.image ? TC.el('img', { class: 'thumb', src: p.image, alt: '' }) : null;
}

function stockText(p) {
  if (!p.on_sale) return TC.el('span', { class: 'muted', text: '未开售' });
  if (p.stock <= 0) return TC.el('span', { class: 'soldout', text: '已售罄' });
  return TC.el('span', { class: 'muted', text: '库存 ' + p.stock + (p.limit_per_buyer > 0 ? ' · 限购 ' + p.limit_per_buyer : '') });
}

Shop.prototype.renderList = function (ul, highlightId) {
  var self = this;
  TC.clear(ul);
  if (!this.order.length) ul.appendChild(TC.el('li', { class: 'muted', text: '还没有商品' }));
  this.order.forEach(function (id) {
    var p = self.products[id];
    ul.appendChild(TC.el('li', { class: id === highlightId ? 'on' : '', 'data-product': id },
      productThumb(p),
      TC.el('div', { class: 'name' }, TC.el('div', { text: p.name }), stockText(p)),
      TC.el('span', { class: 'price', text: TC.yuan(p.price_cents) + (p.unit ? '/' + p.unit : '') })));
  });
};

/* The card of product `pid` (the pinned one), with quantity and buy. A
 * re-render keeps the chosen quantity. `fallback` describes a product the
 * shop does not know (a replay's pin event): {name, price_cents, unit}. */
Shop.prototype.renderPinned = function (box, pid, fallback) {
  var self = this;
  var old = box.querySelector('[data-testid="qty"]');
  var keep = old ? Number(old.value) : 1;
  TC.clear(box);
  var p = pid ? this.products[pid] : null;
  if (!pid) {
    box.classList.remove('pinned');
    box.appendChild(TC.el('div', { class: 'muted', text: '团长正在介绍，暂无讲解中的商品' }));
    return;
  }
  box.classList.add('pinned');
  var show = p || fallback || { name: '商品 #' + pid, price_cents: 0 };
  var max = p ? this.maxQty(p) : 0;
  var bought = p ? this.boughtOf(pid) : 0;
  var used = p && p.limit_per_buyer > 0 && bought >= p.limit_per_buyer;
  var qty = TC.el('select', { class: 'qty', testid: 'qty', 'aria-label': '数量', disabled: max < 1 });
  for (var i = 1; i <= Math.max(1, max); i++) qty.appendChild(TC.el('option', { value: i, text: '×' + i }));
  qty.value = String(Math.min(Math.max(1, keep), Math.max(1, max)));
  /* The limit used up: say so instead of offering a quantity. */
  var note = null;
  if (used) note = TC.el('span', { class: 'limit', testid: 'limit-note', text: '每人限购 ' + p.limit_per_buyer + '，您已买 ' + bought });
  else if (p && p.limit_per_buyer > 0 && bought > 0) note = TC.el('span', { class: 'limit', testid: 'limit-note', text: '已买 ' + bought + '，还可买 ' + max });
  var pending = this.mine.some(function (o) { return o.product_id === pid && o.state === 'pending'; });
  var label = pending ? '提交中…' : !p || !p.on_sale ? '未开售' : used ? '已达限购' : p.stock <= 0 ? '已售罄' : max < 1 ? '已达限购' : '立即购买';
  var buy = TC.el('button', { class: 'primary', testid: 'buy', text: label, disabled: pending || max < 1,
    onclick: function () { self.buy(pid, Number(qty.value)); } });
  box.appendChild(TC.el('div', { class: 'row' }, p ? productThumb(p) : null,
    TC.el('div', { class: 'grow' },
      TC.el('div', { class: 'muted', text: '正在讲解' }),
      TC.el('div', { class: 'name', testid: 'pinned-name', text: show.name }),
      TC.el('div', {}, TC.el('span', { class: 'price', text: TC.yuan(show.price_cents) + (show.unit ? '/' + show.unit : '') }),
        ' ', p ? stockText(p) : null))));
  box.appendChild(TC.el('div', { class: 'row mt8' }, used ? null : qty,
    TC.el('div', { class: 'grow' }, note), buy));
};

Shop.prototype.renderMine = function (ul) {
  var self = this;
  TC.clear(ul);
  if (!this.mine.length) ul.appendChild(TC.el('li', { class: 'muted', text: '还没有下单' }));
  this.mine.slice().reverse().forEach(function (o) {
    var p = self.products[o.product_id];
    var state = o.state === 'ok' ? '已下单 #' + o.order_id : o.state === 'pending' ? '提交中…' : '未成功：' + (REASONS[o.reason] || o.reason);
    var tag = o.replay === true ? TC.el('span', { class: 'tag replay', text: '回放' }) :
      o.replay === false ? TC.el('span', { class: 'tag', text: '直播' }) : null;
    ul.appendChild(TC.el('li', { 'data-state': o.state, 'data-key': o.key, 'data-replay': o.replay === undefined ? null : String(o.replay) },
      TC.el('span', { text: (p ? p.name : '商品 #' + o.product_id) + ' ×' + o.qty + ' ' }),
      TC.el('span', { class: o.state === 'rejected' ? 'soldout' : 'muted', text: state }), tag));
  });
};
