/*!
 * holdline.js: the browser client for holdline's long-polling protocol (docs/PROTOCOL.md).
 * One file, no build step, no dependencies, ES5 syntax: runs in old browsers as it is.
 *
 *   var client = Holdline.create({ baseUrl: 'https://live.example.com', events: ['m1'] });
 *   client.on('score', function (eventId, delta, model) { draw(model.score); });
 *   client.start();
 *
 * Everything the loop touches outside itself (transport, timers, randomness, clock, document,
 * window) can be injected, so the loop is unit-tested in Node without a browser.
 */
(function (root, factory) {
  var Holdline = factory(root);
  if (typeof module === 'object' && module && module.exports) module.exports = Holdline;
  if (root) root.Holdline = Holdline;
}(typeof self !== 'undefined' ? self : this, function (root) {
  'use strict';

  var VERSION = '1.1.0';
  // The server's default hold, until its Holdline-Hold header says otherwise.
  var DEFAULT_HOLD_MS = 25000;
  // The protocol asks clients to give up on a poll this long after the hold it asked for.
  var HOLD_GRACE_MS = 10000;
  // A hold that was cut comes back this much shorter (of the age it was cut at).
  var CUT_SHRINK = 0.8;
  // A probe asks for this much more than the hold that fits.
  var PROBE_GROW = 1.5;
  // Statuses a proxy or gateway answers a cut request with (0: no answer at all).
  var CUT_STATUSES = { 0: 1, 408: 1, 502: 1, 503: 1, 504: 1, 520: 1, 522: 1, 524: 1 };
  var WRITE_TIMEOUT_MS = 15000;
  var MAX_SUBS = 16;
  var jsonpCounter = 0;

  function isArray(v) { return Object.prototype.toString.call(v) === '[object Array]'; }
  function has(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }
  function isObject(v) { return v !== null && typeof v === 'object' && !isArray(v); }
  function enc(v) { return encodeURIComponent(String(v)); }

  /** RFC 7396 JSON merge patch: the score deltas with op "patch" are these. */
  function mergePatch(target, patch) {
    if (!isObject(patch)) return patch;
    var out = {};
    var k;
    if (isObject(target)) for (k in target) if (has(target, k)) out[k] = target[k];
    for (k in patch) {
      if (!has(patch, k)) continue;
      if (patch[k] === null) delete out[k];
      else out[k] = mergePatch(out[k], patch[k]);
    }
    return out;
  }

  /**
   * The delay before retry number `attempt` (0-based): exponential, capped, with "equal
   * jitter" so a crowd of clients cut off together does not come back together, while every
   * client still waits at least half the step.
   */
  function backoffDelay(attempt, baseMs, maxMs, random) {
    var step = Math.min(maxMs, baseMs * Math.pow(2, Math.min(attempt, 30)));
    return Math.round(step / 2 + random() * step / 2);
  }

  /** Retry-After as milliseconds (seconds or an HTTP date), or null when absent or unreadable. */
  function retryAfterMs(value, now) {
    if (value === null || value === undefined || value === '') return null;
    if (/^\s*\d+\s*$/.test(String(value))) return parseInt(value, 10) * 1000;
    var at = Date.parse(String(value));
    return isNaN(at) ? null : Math.max(0, at - now);
  }

  /** Parses `Holdline-Hold: timeout=25, min=0, max=60` into ms, or null when absent or unreadable. */
  function parseHoldHeader(value) {
    if (value === null || value === undefined || value === '') return null;
    var out = {};
    var parts = String(value).split(',');
    for (var i = 0; i < parts.length; i++) {
      var m = /^\s*(timeout|min|max)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(parts[i]);
      if (m) out[m[1]] = Math.round(parseFloat(m[2]) * 1000);
    }
    return has(out, 'timeout') && has(out, 'max') ? { timeoutMs: out.timeout, minMs: out.min || 0, maxMs: out.max } : null;
  }

  /** localStorage where the page allows it (it throws in some sandboxed frames and private modes), else null. */
  function pageStorage() {
    try {
      var st = root && root.localStorage;
      if (!st) return null;
      var probe = 'holdline.probe';
      st.setItem(probe, '1');
      st.removeItem(probe);
      return st;
    } catch (e) {
      return null;
    }
  }

  /**
   * The hold and retry rule, one place for every client (this loop, and the simulator in
   * tools/simulator, which loads this file): which hold to ask for, and what to do after each
   * poll. A hold that fits the path is learnt from cuts: a poll held T ms and then cut (a
   * 502/504/0 that is not the server's own answer, after at least cutMinMs) comes back at once
   * with CUT_SHRINK times the age it was cut at, never below floorMs; the fit is remembered per
   * origin, and every probeMs a longer hold is tried again. Cuts are not outages: they neither
   * wait nor raise the backoff. Failures that come fast wait a jittered, growing backoff, and
   * Retry-After, on any status, is waited at least.
   *
   * o: { holdMs (pins the hold), floorMs, probeMs, cutMinMs, baseMs, maxMs, random, now,
   *      storage (getItem/setItem, or null), key (the storage key) }
   */
  function HoldPolicy(o) {
    o = o || {};
    this._now = o.now || function () { return new Date().getTime(); };
    this._random = o.random || Math.random;
    this._pinnedMs = typeof o.holdMs === 'number' && o.holdMs >= 0 ? o.holdMs : null;
    this._floorMs = o.floorMs > 0 ? o.floorMs : 5000;
    this._probeMs = o.probeMs > 0 ? o.probeMs : 600000;
    this._cutMinMs = o.cutMinMs > 0 ? o.cutMinMs : 2000;
    this._baseMs = o.baseMs > 0 ? o.baseMs : 1000;
    this._maxBackoffMs = o.maxMs > 0 ? o.maxMs : 30000;
    this._storage = o.storage || null;
    this._key = o.key || null;
    this._serverMs = DEFAULT_HOLD_MS;
    this._serverMaxMs = null;
    this._attempt = 0;
    // The longest hold known to get through, when a cut taught one; null while none was cut.
    this._fitMs = null;
    this._fitAt = 0;
    this._probe = null;
    // The fit as it was before the last cut, until a poll after it gets an answer.
    this._beforeCut = null;
    this.cuts = 0;
    var kept = this._read();
    if (kept !== null) {
      this._fitMs = kept;
      // A remembered fit is probed after probeMs of this page's life, not at once on every load.
      this._fitAt = this._now();
    }
  }

  HoldPolicy.prototype._read = function () {
    if (!this._storage || !this._key) return null;
    try {
      var v = parseJson(this._storage.getItem(this._key));
      return v && typeof v.fitMs === 'number' && v.fitMs > 0 ? v.fitMs : null;
    } catch (e) {
      return null;
    }
  };

  HoldPolicy.prototype._write = function () {
    if (!this._storage || !this._key) return;
    try {
      if (this._fitMs === null) this._storage.removeItem(this._key);
      else this._storage.setItem(this._key, JSON.stringify({ fitMs: this._fitMs, at: this._now() }));
    } catch (e) { /* full or refused: the fit is kept for this page only */ }
  };

  /** The hold the server gives without timeout= and the longest it takes, from its header (ms). */
  HoldPolicy.prototype.advertised = function (hold) {
    if (!hold) return;
    if (hold.timeoutMs > 0) this._serverMs = hold.timeoutMs;
    if (hold.maxMs > 0) this._serverMaxMs = hold.maxMs;
  };

  /** The longest hold worth asking for: the server's default, or the pinned hold, within its range. */
  HoldPolicy.prototype._target = function () {
    var t = this._pinnedMs !== null ? this._pinnedMs : this._serverMs;
    return this._serverMaxMs !== null ? Math.min(t, this._serverMaxMs) : t;
  };

  /** The hold to ask for on the next poll, in ms (whole seconds' thousandths, as timeout= takes). */
  HoldPolicy.prototype.holdMs = function () {
    var target = this._target();
    this._probe = null;
    if (this._pinnedMs !== null || this._fitMs === null || this._fitMs >= target) return target;
    if (this._now() - this._fitAt >= this._probeMs) {
      this._probe = Math.min(target, Math.max(this._fitMs + 1000, Math.round(this._fitMs * PROBE_GROW)));
      return this._probe;
    }
    return this._fitMs;
  };

  /** How long to wait for a poll that asked for `holdMs` before giving up on it. */
  HoldPolicy.prototype.giveUpMs = function (holdMs) {
    return holdMs + HOLD_GRACE_MS;
  };

  /**
   * A poll was answered (200) after `elapsedMs`, having asked for `holdMs`: the backoff starts
   * over, and a probe held to its end quietly is a hold that fits.
   */
  HoldPolicy.prototype.answered = function (holdMs, elapsedMs, quiet) {
    this._attempt = 0;
    this._beforeCut = null;
    if (this._probe !== null && holdMs === this._probe && quiet && elapsedMs >= holdMs) {
      this._fitMs = holdMs >= this._target() ? null : holdMs;
      this._fitAt = this._now();
      this._write();
    }
  };

  /** Starts the backoff over (the page came back: try at once). */
  HoldPolicy.prototype.reset = function () {
    this._attempt = 0;
  };

  /** Whether a failure is a cut: a long wait ended by the path, not an answer of the server. */
  HoldPolicy.prototype.isCut = function (res, elapsedMs) {
    if (res.timedOut) return true;
    if (res.fromServer === true || !has(CUT_STATUSES, res.status)) return false;
    return elapsedMs >= this._cutMinMs;
  };

  /**
   * What to do after a poll that failed after `elapsedMs`, having asked for `holdMs`:
   * { kind: 'cut' | 'wait' | 'backoff', delayMs }. 'cut': retry at once (with a shorter hold,
   * unless pinned), the path works; 'wait': the answer said when (Retry-After); 'backoff': a
   * fast failure, wait a jittered step that grows with each one.
   */
  HoldPolicy.prototype.failed = function (res, holdMs, elapsedMs) {
    var after = retryAfterMs(res.retryAfter, this._now());
    if (after !== null) {
      return { kind: 'wait', delayMs: Math.max(after, backoffDelay(this._attempt++, this._baseMs, this._maxBackoffMs, this._random)) };
    }
    if (this.isCut(res, elapsedMs)) {
      this.cuts++;
      this._attempt = 0;
      if (this._pinnedMs === null) {
        if (this._beforeCut === null) this._beforeCut = { fitMs: this._fitMs, fitAt: this._fitAt };
        var fit = Math.max(this._floorMs, Math.round(CUT_SHRINK * Math.min(holdMs, elapsedMs)));
        this._fitMs = Math.min(fit, this._fitMs === null || this._probe === holdMs ? fit : this._fitMs);
        this._fitAt = this._now();
        this._write();
      }
      return { kind: 'cut', delayMs: 0 };
    }
    if (this._beforeCut !== null) {
      // The retry of a cut failed fast: that was the server going away mid-hold, not the
      // path's limit, so the hold it taught is forgotten.
      this._fitMs = this._beforeCut.fitMs;
      this._fitAt = this._beforeCut.fitAt;
      this._beforeCut = null;
      this._write();
    }
    return { kind: 'backoff', delayMs: backoffDelay(this._attempt++, this._baseMs, this._maxBackoffMs, this._random) };
  };

  /**
   * Whether a failed XHR should be retried over JSONP: only an undecided cross-origin client,
   * only on status 0 (what a browser reports when CORS refuses the page), and only before any
   * XHR ever succeeded (after one did, status 0 means the network or the server is down).
   */
  function shouldTryJsonp(s) {
    return s.option === 'auto' && s.mode === 'xhr' && s.status === 0 && !s.xhrEverOk && !s.sameOrigin;
  }

  function decodeBase64(s) {
    var chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    var out = '';
    var bits = 0;
    var value = 0;
    for (var i = 0; i < s.length; i++) {
      var c = chars.indexOf(s.charAt(i));
      if (c < 0) continue;
      value = (value << 6) | c;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += String.fromCharCode((value >> bits) & 0xff);
      }
    }
    return out;
  }

  /** A JWT's `exp` in ms since epoch, or null: the client never verifies tokens, it only plans refreshes. */
  function tokenExpiry(token) {
    var parts = String(token).split('.');
    if (parts.length !== 3) return null;
    try {
      var claims = JSON.parse(decodeBase64(parts[1].replace(/-/g, '+').replace(/_/g, '/')));
      return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
    } catch (e) {
      return null;
    }
  }

  /** The screen-ready state of one event, built from a snapshot and kept by the deltas. */
  function modelFromSnapshot(eventId, snap) {
    var totals = {};
    var src = (snap.reactions && snap.reactions.totals) || {};
    for (var k in src) if (has(src, k)) totals[k] = src[k];
    return {
      event: eventId,
      meta: snap.meta || {},
      state: snap.state,
      score: snap.score || {},
      chat: (snap.chat || []).slice(),
      notices: [],
      reactions: { totals: totals, samples: [] },
      viewers: null,
      seq: snap.seq,
      cursor: null,
      ended: snap.state === 'ended'
    };
  }

  /** Folds one delta into a model, as the server folds it into a snapshot. */
  function applyDelta(m, d, chatLimit) {
    var i;
    if (d.kind === 'score') {
      m.score = d.op === 'patch' ? mergePatch(m.score, d.data) : d.data;
    } else if (d.kind === 'notice') {
      m.notices.push({ seq: d.seq, ts: d.ts, type: d.type, title: d.data.title, body: d.data.body, level: d.data.level || 'info' });
      if (m.notices.length > 20) m.notices.shift();
    } else if (d.kind === 'chat') {
      if (d.op === 'delete') {
        for (i = m.chat.length - 1; i >= 0; i--) if (m.chat[i].id === d.id) m.chat.splice(i, 1);
      } else {
        m.chat.push({ id: d.id, user: d.user, text: d.text, ts: d.ts, seq: d.seq });
        if (m.chat.length > chatLimit) m.chat.splice(0, m.chat.length - chatLimit);
      }
    } else if (d.kind === 'reactions') {
      for (var e in d.counts) if (has(d.counts, e)) m.reactions.totals[e] = (m.reactions.totals[e] || 0) + d.counts[e];
      m.reactions.samples = d.samples || [];
    } else if (d.kind === 'status') {
      m.state = d.data.state;
      if (d.data.meta) m.meta = d.data.meta;
      if (d.data.state === 'ended') m.ended = true;
    }
    m.seq = d.seq;
  }

  function randomId(random) {
    var s = 'v-';
    for (var i = 0; i < 12; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'.charAt(Math.floor(random() * 36));
    return s;
  }

  function parseJson(text) {
    if (!text) return null;
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  /** XHR: the default transport where CORS works (same origin, or an allowed origin). */
  function xhrRequest(req, done) {
    var xhr = new root.XMLHttpRequest();
    var finished = false;
    function finish(res) {
      if (finished) return;
      finished = true;
      done(res);
    }
    xhr.open(req.method, req.url, true);
    for (var h in req.headers) if (has(req.headers, h)) xhr.setRequestHeader(h, req.headers[h]);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4 || finished) return;
      var retryAfter = null;
      var hold = null;
      try {
        retryAfter = xhr.getResponseHeader('Retry-After');
        hold = xhr.getResponseHeader('Holdline-Hold');
      } catch (e) { retryAfter = hold = null; }
      // fromServer: whether holdline made this answer, or something in between (a proxy's 504).
      finish({ status: xhr.status, body: parseJson(xhr.responseText), retryAfter: retryAfter, hold: hold, fromServer: xhr.status === 0 ? false : hold !== null });
    };
    xhr.onerror = function () { finish({ status: 0, body: null, retryAfter: null, hold: null, fromServer: false }); };
    xhr.send(req.body === null ? null : req.body);
    return { abort: function () { finished = true; try { xhr.abort(); } catch (e) { /* already gone */ } } };
  }

  /** JSONP: a script tag for pages whose origin the server does not allow (GET only). */
  function jsonpRequest(req, done) {
    var doc = root.document;
    var name = 'holdline_cb_' + (++jsonpCounter);
    var script = doc.createElement('script');
    var finished = false;
    function cleanup() {
      if (script.parentNode) script.parentNode.removeChild(script);
      script.onload = script.onerror = script.onreadystatechange = null;
      // A script aborted mid-load may still run later: leave a no-op where it will call.
      root[name] = function () {};
    }
    function finish(res) {
      if (finished) return;
      finished = true;
      cleanup();
      done(res);
    }
    root[name] = function (body) {
      var status = body && typeof body.status === 'number' ? body.status : 200;
      // A script cannot read headers: the server advertises nothing here, but it did answer.
      finish({ status: status, body: body, retryAfter: null, hold: null, fromServer: true });
    };
    // Loaded without calling back (not JavaScript, or refused): as good as a network error.
    script.onload = script.onerror = function () { finish({ status: 0, body: null, retryAfter: null, hold: null, fromServer: false }); };
    script.onreadystatechange = function () {
      if (script.readyState === 'loaded' || script.readyState === 'complete') script.onload();
    };
    script.async = true;
    script.src = req.url + (req.url.indexOf('?') < 0 ? '?' : '&') + 'callback=' + name;
    (doc.getElementsByTagName('head')[0] || doc.documentElement).appendChild(script);
    return { abort: function () { finished = true; cleanup(); } };
  }

  function browserTransport(req, done) {
    return req.mode === 'jsonp' ? jsonpRequest(req, done) : xhrRequest(req, done);
  }

  function originOf(url) {
    var m = /^([a-z][a-z0-9+.-]*:\/\/[^\/?#]+)/i.exec(url);
    return m ? m[1].toLowerCase() : null;
  }

  /**
   * One client: follows up to 16 events in one held request (GET /poll?subs=...), keeps their
   * cursors and models, and emits what changed.
   */
  function Client(o) {
    if (!o || typeof o.baseUrl !== 'string') throw new Error('Holdline.create needs { baseUrl }');
    var self = this;
    var win = has(o, 'window') ? o.window : (root && root.addEventListener ? root : null);
    this._base = o.baseUrl.replace(/\/+$/, '');
    this._transport = o.transport || browserTransport;
    this._setTimeout = o.setTimeout || function (f, ms) { return setTimeout(f, ms); };
    this._clearTimeout = o.clearTimeout || function (t) { clearTimeout(t); };
    this._random = o.random || Math.random;
    this._now = o.now || function () { return new Date().getTime(); };
    this._option = o.mode || 'auto';
    this._mode = this._option === 'jsonp' ? 'jsonp' : 'xhr';
    var pageOrigin = win && win.location ? originOf(String(win.location.href)) : null;
    this._sameOrigin = has(o, 'sameOrigin') ? !!o.sameOrigin : (pageOrigin !== null && pageOrigin === originOf(this._base));
    if (this._option === 'auto' && !o.transport && !this._sameOrigin && !(root && root.XMLHttpRequest && 'withCredentials' in new root.XMLHttpRequest())) {
      this._mode = 'jsonp'; // no CORS in this browser at all: do not even try
    }
    this._xhrEverOk = false;
    this._token = o.token || null;
    this._getToken = o.getToken || null;
    this._viewer = o.viewer || randomId(this._random);
    this._kinds = o.kinds ? [].concat(o.kinds).join(',') : null;
    this._types = o.types ? [].concat(o.types).join(',') : null;
    this._baseMs = (o.backoff && o.backoff.baseMs) || 1000;
    this._maxMs = (o.backoff && o.backoff.maxMs) || 30000;
    var holds = o.holds || {};
    var storage = has(o, 'storage') ? o.storage : (holds.remember === false ? null : pageStorage());
    this._policy = new HoldPolicy({
      holdMs: o.holdMs, floorMs: holds.floorMs, probeMs: holds.probeMs, cutMinMs: holds.cutMinMs,
      baseMs: this._baseMs, maxMs: this._maxMs, random: this._random, now: this._now,
      storage: storage, key: 'holdline.hold ' + (originOf(this._base) || this._base)
    });
    this._endedRecheckMs = o.endedRecheckMs || 60000;
    this._chatLimit = o.chatLimit || 50;
    this._handlers = {};
    this._subs = {};
    this._order = [];
    this._timer = null;
    this._wakeTimer = null;
    this._refreshTimer = null;
    this._current = null;
    this._reqSeq = 0;
    this._tokenWaiters = null;
    this._retried401 = false;
    this._askedFirstToken = false;
    this._running = false;
    this._paused = false;
    this.state = 'idle';
    this.stats = { polls: 0, deltas: 0, duplicates: 0, resets: 0, errors: 0, cuts: 0 };
    var events = o.events ? [].concat(o.events) : (o.event ? [o.event] : []);
    for (var i = 0; i < events.length; i++) this.follow(events[i]);
    if (this._token) this._planRefresh();

    var doc = has(o, 'document') ? o.document : (root && root.document) || null;
    this._doc = doc;
    if (doc && doc.addEventListener && o.pauseWhenHidden) {
      doc.addEventListener('visibilitychange', function () {
        if (doc.visibilityState === 'hidden' || doc.hidden === true) self.pause();
        else self.resume();
      });
    }
    if (win && o.leaveOnExit !== false) {
      win.addEventListener('pagehide', function () { self.leave(); self.pause(); });
      win.addEventListener('pageshow', function (e) { if (e && e.persisted) self.resume(); });
    }
  }

  /** Listens to 'snapshot', 'delta', 'score', 'notice', 'chat', 'reactions', 'status', 'viewers', 'update', 'state', 'transport', 'cut', 'error'. */
  Client.prototype.on = function (name, fn) {
    (this._handlers[name] = this._handlers[name] || []).push(fn);
    return this;
  };

  /** Stops listening. */
  Client.prototype.off = function (name, fn) {
    var list = this._handlers[name] || [];
    for (var i = list.length - 1; i >= 0; i--) if (list[i] === fn) list.splice(i, 1);
    return this;
  };

  Client.prototype._emit = function (name) {
    var list = (this._handlers[name] || []).slice();
    var args = Array.prototype.slice.call(arguments, 1);
    for (var i = 0; i < list.length; i++) {
      try {
        list[i].apply(this, args);
      } catch (e) {
        // A page's handler that throws must not stop the loop that feeds every other handler.
        if (root && root.console && root.console.error) root.console.error('holdline: a "' + name + '" handler threw', e);
      }
    }
  };

  Client.prototype._setState = function (s) {
    if (this.state === s) return;
    this.state = s;
    this._emit('state', s);
  };

  /** Follows one more event; the held poll is restarted to include it. */
  Client.prototype.follow = function (eventId) {
    if (has(this._subs, eventId)) return this;
    if (this._order.length >= MAX_SUBS) throw new Error('holdline: at most ' + MAX_SUBS + ' events per client');
    this._subs[eventId] = { id: eventId, cursor: null, seq: null, model: null, attempt: 0, until: 0 };
    this._order.push(eventId);
    if (this._running && !this._paused) this._restart();
    return this;
  };

  /** Stops following an event. */
  Client.prototype.unfollow = function (eventId) {
    if (!has(this._subs, eventId)) return this;
    delete this._subs[eventId];
    for (var i = 0; i < this._order.length; i++) if (this._order[i] === eventId) this._order.splice(i, 1);
    if (this._running && !this._paused) this._restart();
    return this;
  };

  /** The screen-ready state of a followed event, or null before its snapshot. */
  Client.prototype.model = function (eventId) {
    return has(this._subs, eventId) ? this._subs[eventId].model : null;
  };

  /** The last cursor of a followed event (opaque), or null. */
  Client.prototype.cursor = function (eventId) {
    return has(this._subs, eventId) ? this._subs[eventId].cursor : null;
  };

  /** The viewer id this client polls as (the token's sub wins on the server). */
  Client.prototype.viewer = function () { return this._viewer; };

  /** The hold the next poll asks for, in ms (learnt from cuts, or pinned by the holdMs option). */
  Client.prototype.holdMs = function () { return this._policy.holdMs(); };

  /** 'xhr' or 'jsonp': how this client reaches the server now. */
  Client.prototype.transport = function () { return this._mode; };

  /** Replaces the token; the next request uses it. */
  Client.prototype.setToken = function (token) {
    this._token = token || null;
    this._planRefresh();
  };

  /** Starts polling. */
  Client.prototype.start = function () {
    if (this._running) return this;
    this._running = true;
    this._paused = false;
    this._setState('connecting');
    this._schedule(0);
    return this;
  };

  /** Stops polling for good (until start() again); cursors are kept. */
  Client.prototype.stop = function () {
    this._running = false;
    this._halt();
    if (this._refreshTimer !== null) this._clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    this._setState('stopped');
  };

  /** Stops polling while the page is hidden; resume() carries on from the same cursors. */
  Client.prototype.pause = function () {
    if (!this._running || this._paused) return;
    this._paused = true;
    this._halt();
    this._setState('paused');
  };

  /** Resumes after pause(). */
  Client.prototype.resume = function () {
    if (!this._running || !this._paused) return;
    this._paused = false;
    this._policy.reset();
    this._setState('connecting');
    this._schedule(0);
  };

  Client.prototype._halt = function () {
    if (this._timer !== null) this._clearTimeout(this._timer);
    if (this._wakeTimer !== null) this._clearTimeout(this._wakeTimer);
    this._timer = null;
    this._wakeTimer = null;
    this._reqSeq++;
    if (this._current) this._current.abort();
    this._current = null;
  };

  Client.prototype._restart = function () {
    this._halt();
    this._schedule(0);
  };

  Client.prototype._schedule = function (ms) {
    var self = this;
    if (this._timer !== null) this._clearTimeout(this._timer);
    this._timer = this._setTimeout(function () { self._timer = null; self._poll(); }, Math.max(0, ms));
  };

  /** Calls getToken (once at a time) and tells every waiter whether a token came back. */
  Client.prototype._refreshToken = function (reason, cb) {
    var self = this;
    if (!this._getToken) { cb(false); return; }
    if (this._tokenWaiters) { this._tokenWaiters.push(cb); return; }
    this._tokenWaiters = [cb];
    var settled = false;
    function finish(err, token) {
      if (settled) return;
      settled = true;
      var waiters = self._tokenWaiters;
      self._tokenWaiters = null;
      var ok = !err && typeof token === 'string' && token.length > 0;
      if (ok) self.setToken(token);
      else self._emit('error', { code: 'token_refresh_failed', status: 0, message: String((err && err.message) || err || 'getToken gave no token') });
      for (var i = 0; i < waiters.length; i++) waiters[i](ok);
    }
    try {
      var r = this._getToken(finish, reason);
      if (typeof r === 'string') finish(null, r);
      else if (r && typeof r.then === 'function') r.then(function (t) { finish(null, t); }, function (e) { finish(e || 'getToken failed'); });
    } catch (e) {
      finish(e);
    }
  };

  /** Plans the next getToken() call before the current token expires. */
  Client.prototype._planRefresh = function () {
    var self = this;
    if (this._refreshTimer !== null) this._clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    if (!this._getToken || !this._token) return;
    var exp = tokenExpiry(this._token);
    if (exp === null) return;
    var left = exp - this._now();
    var at = Math.max(0, left - Math.min(30000, left / 2));
    this._refreshTimer = this._setTimeout(function () {
      self._refreshTimer = null;
      self._refreshToken('expiring', function () {});
    }, at);
  };

  Client.prototype._authed = function (url, headers, mode) {
    if (!this._token) return url;
    if (mode === 'xhr') {
      headers.Authorization = 'Bearer ' + this._token;
      return url;
    }
    return url + (url.indexOf('?') < 0 ? '?' : '&') + 'access_token=' + enc(this._token);
  };

  Client.prototype._poll = function () {
    var self = this;
    if (!this._running || this._paused) return;
    if (!this._token && this._getToken && !this._askedFirstToken) {
      this._askedFirstToken = true;
      this._refreshToken('start', function () { self._schedule(0); });
      return;
    }
    var now = this._now();
    var parts = [];
    var active = [];
    var earliest = null;
    for (var i = 0; i < this._order.length; i++) {
      var sub = this._subs[this._order[i]];
      if (sub.until > now) {
        if (earliest === null || sub.until < earliest) earliest = sub.until;
        continue;
      }
      active.push(sub.id);
      parts.push(sub.cursor ? sub.id + '@' + sub.cursor : sub.id);
    }
    if (parts.length === 0) {
      if (earliest !== null) this._schedule(earliest - now);
      return;
    }
    if (earliest !== null) {
      // An event cooling down rejoins when its wait ends, not when the held poll happens to end.
      this._wakeTimer = this._setTimeout(function () { self._wakeTimer = null; self._restart(); }, earliest - now);
    }
    var holdMs = this._policy.holdMs();
    var url = this._base + '/poll?subs=' + enc(parts.join(',')) + '&viewer=' + enc(this._viewer) + '&timeout=' + holdMs / 1000;
    if (this._kinds) url += '&kinds=' + enc(this._kinds);
    if (this._types) url += '&types=' + enc(this._types);
    this.stats.polls++;
    var sentAt = this._now();
    this._send(url, this._mode, this._policy.giveUpMs(holdMs), function (res) { self._onPollAnswer(res, holdMs, self._now() - sentAt); });
  };

  /** Sends one poll with its own give-up timer; on a CORS-shaped failure, retries it as JSONP. */
  Client.prototype._send = function (url, mode, giveUpMs, cb) {
    var self = this;
    var seq = ++this._reqSeq;
    var headers = {};
    var req = { method: 'GET', url: this._authed(url, headers, mode), headers: headers, body: null, mode: mode };
    var done = false;
    var timer = this._setTimeout(function () {
      if (handle) handle.abort();
      finish({ status: 0, body: null, retryAfter: null, timedOut: true });
    }, giveUpMs);
    var handle = null;
    function finish(res) {
      if (done || seq !== self._reqSeq) return;
      done = true;
      self._clearTimeout(timer);
      self._current = null;
      if (mode === 'xhr' && res.status !== 0) self._xhrEverOk = true;
      if (shouldTryJsonp({ option: self._option, mode: mode, status: res.status, xhrEverOk: self._xhrEverOk, sameOrigin: self._sameOrigin })) {
        self._send(url, 'jsonp', giveUpMs, function (r2) {
          if (r2.status !== 0 && self._mode !== 'jsonp') {
            self._mode = 'jsonp';
            self._emit('transport', 'jsonp');
          }
          cb(r2);
        });
        return;
      }
      cb(res);
    }
    handle = this._transport(req, finish);
    if (!done) this._current = handle;
  };

  Client.prototype._onPollAnswer = function (res, holdMs, elapsedMs) {
    var self = this;
    var body = res.body;
    this._policy.advertised(parseHoldHeader(res.hold));
    if (res.status !== 200 || !body || !isArray(body.results)) {
      this._onFailure(res, holdMs, elapsedMs);
      return;
    }
    this._retried401 = false;
    this._setState('live');
    var now = this._now();
    var delay = 0;
    var quiet = true;
    for (var i = 0; i < body.results.length; i++) {
      var entry = body.results[i];
      if (!entry || !has(this._subs, entry.event)) continue; // unfollowed while the poll was held
      var sub = this._subs[entry.event];
      if (entry.error) {
        this._onEventError(sub, entry, now);
        continue;
      }
      sub.attempt = 0;
      sub.until = 0;
      this._apply(sub, entry);
      var none = !entry.snapshot && !(entry.deltas && entry.deltas.length);
      if (!none) quiet = false;
      if (entry.advice && none) {
        // A draining server says when to come back (already jittered by the server).
        this._policy.advertised({ timeoutMs: entry.advice.timeoutMs, maxMs: entry.advice.maxTimeoutMs });
        delay = Math.max(delay, entry.advice.retryMs || 0);
      }
      // At the head of an ended event the server answers at once: look again only now and then.
      if (entry.ended && !entry.more) sub.until = now + this._endedRecheckMs;
    }
    this._policy.answered(holdMs, elapsedMs, quiet);
    if (this._running && !this._paused) self._schedule(delay);
  };

  Client.prototype._onEventError = function (sub, entry, now) {
    var err = entry.error || {};
    this.stats.errors++;
    this._emit('error', { event: sub.id, status: entry.status, code: err.code, message: err.message });
    if (err.code === 'invalid_cursor') {
      sub.cursor = null; // join again: the snapshot answer replaces what we had
      return;
    }
    // Unknown or forbidden now, maybe not later (a restarted server, a re-created event).
    sub.until = now + backoffDelay(sub.attempt++, this._baseMs, this._maxMs, this._random);
  };

  /**
   * The one place that decides what follows a failed poll: a 401 refreshes the token once;
   * anything else asks the HoldPolicy. A cut is retried at once and leaves the state as it was
   * (the page is as live as before: the next poll is already held); a failure that came fast,
   * or an answer with Retry-After, waits, and only then is the state 'backoff'.
   */
  Client.prototype._onFailure = function (res, holdMs, elapsedMs) {
    var self = this;
    var err = (res.body && res.body.error) || {};
    if (res.status === 401 && this._getToken && !this._retried401) {
      // Refresh once and retry the same poll: the cursors are untouched, nothing is lost.
      this.stats.errors++;
      this._retried401 = true;
      this._refreshToken('unauthorized', function (ok) {
        if (ok) self._schedule(0);
        else self._afterFailure(res, err, holdMs, elapsedMs);
      });
      return;
    }
    this._afterFailure(res, err, holdMs, elapsedMs);
  };

  Client.prototype._afterFailure = function (res, err, holdMs, elapsedMs) {
    var next = this._policy.failed(res, holdMs, elapsedMs);
    if (next.kind === 'cut') {
      this.stats.cuts++;
      this._emit('cut', { status: res.status, afterMs: elapsedMs, holdMs: holdMs, nextHoldMs: this._policy.holdMs() });
    } else {
      this.stats.errors++;
      this._emit('error', { status: res.status, code: err.code || (res.status === 0 ? 'network' : 'http_' + res.status), message: err.message || '', retryInMs: next.delayMs });
      this._setState('backoff');
    }
    if (this._running && !this._paused) this._schedule(next.delayMs);
  };

  Client.prototype._apply = function (sub, ans) {
    var id = sub.id;
    var changed = false;
    if (ans.snapshot) {
      sub.model = modelFromSnapshot(id, ans.snapshot);
      sub.seq = ans.snapshot.seq;
      if (ans.reset) this.stats.resets++;
      changed = true;
      this._emit('snapshot', id, sub.model, { reset: !!ans.reset, missed: ans.missed === undefined ? null : ans.missed });
    }
    var m = sub.model;
    if (!m) return; // a delta answer before any snapshot cannot happen without a cursor
    var deltas = ans.deltas || [];
    for (var i = 0; i < deltas.length; i++) {
      var d = deltas[i];
      if (sub.seq !== null && d.seq <= sub.seq) {
        this.stats.duplicates++;
        continue;
      }
      applyDelta(m, d, this._chatLimit);
      sub.seq = d.seq;
      this.stats.deltas++;
      changed = true;
      this._emit('delta', id, d, m);
      this._emit(d.kind, id, d, m);
    }
    sub.cursor = ans.cursor;
    m.cursor = ans.cursor;
    if (ans.ended) m.ended = true;
    if (typeof ans.viewers === 'number' && ans.viewers !== m.viewers) {
      m.viewers = ans.viewers;
      changed = true;
      this._emit('viewers', id, ans.viewers, m);
    }
    if (changed) this._emit('update', id, m);
  };

  /** POSTs a write; over JSONP the answer cannot be read, so success is "sent" (status 0, blind). */
  Client.prototype._write = function (path, payload, cb, retried) {
    var self = this;
    var mode = this._mode;
    var headers = { 'Content-Type': 'text/plain;charset=UTF-8' };
    var url = this._base + path + '?viewer=' + enc(this._viewer);
    // text/plain and no custom header keep an anonymous write a "simple" request: no preflight.
    url = this._authed(url, headers, mode);
    var done = false;
    var handle = null;
    var timer = this._setTimeout(function () {
      if (handle) handle.abort();
      finish({ status: 0, body: null, retryAfter: null });
    }, WRITE_TIMEOUT_MS);
    function finish(res) {
      if (done) return;
      done = true;
      self._clearTimeout(timer);
      if (res.status === 401 && self._getToken && !retried) {
        self._refreshToken('unauthorized', function (ok) {
          if (ok) self._write(path, payload, cb, true);
          else if (cb) cb({ status: 401, code: 'unauthorized', message: 'no valid token' }, null);
        });
        return;
      }
      if (!cb) return;
      if (mode === 'jsonp' && res.status === 0) cb(null, { status: 0, blind: true });
      else if (res.status >= 200 && res.status < 300) cb(null, res.body || { status: res.status });
      else cb({ status: res.status, code: (res.body && res.body.error && res.body.error.code) || 'network', message: (res.body && res.body.error && res.body.error.message) || '', retryAfterMs: retryAfterMs(res.retryAfter, self._now()) }, null);
    }
    handle = this._transport({ method: 'POST', url: url, headers: headers, body: JSON.stringify(payload), mode: 'xhr' }, finish);
  };

  /** Sends a reaction `{emoji, comment?}`; cb(err, answer). */
  Client.prototype.react = function (eventId, emoji, comment, cb) {
    if (typeof comment === 'function') { cb = comment; comment = null; }
    var payload = { emoji: emoji };
    if (comment) payload.comment = comment;
    this._write('/events/' + enc(eventId) + '/reactions', payload, cb, false);
  };

  /** Sends a chat message (needs a token with a sub); cb(err, answer). */
  Client.prototype.chat = function (eventId, text, cb) {
    this._write('/events/' + enc(eventId) + '/chat', { text: text }, cb, false);
  };

  /** Leaves presence for every followed event, with sendBeacon so it survives the page's exit. */
  Client.prototype.leave = function () {
    var nav = root && root.navigator;
    for (var i = 0; i < this._order.length; i++) {
      var url = this._authed(this._base + '/events/' + enc(this._order[i]) + '/leave?viewer=' + enc(this._viewer), {}, 'jsonp');
      if (nav && nav.sendBeacon) {
        try { nav.sendBeacon(url, ''); continue; } catch (e) { /* fall through to XHR */ }
      }
      if (root && root.XMLHttpRequest) this._transport({ method: 'POST', url: url, headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: '', mode: 'xhr' }, function () {});
    }
  };

  return {
    version: VERSION,
    /** Makes a client; call start() on it. */
    create: function (options) { return new Client(options); },
    Client: Client,
    backoffDelay: backoffDelay,
    HoldPolicy: HoldPolicy,
    parseHoldHeader: parseHoldHeader,
    retryAfterMs: retryAfterMs,
    shouldTryJsonp: shouldTryJsonp,
    mergePatch: mergePatch,
    tokenExpiry: tokenExpiry,
    transports: { browser: browserTransport, xhr: xhrRequest, jsonp: jsonpRequest }
  };
}));
