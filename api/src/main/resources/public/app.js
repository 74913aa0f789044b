// Berth dashboard: plain DOM, no build step. Every piece of data reaches the page as text
// (textContent, createTextNode): never as HTML. The server enforces every permission; the token's
// claims are read here only to decide what to show.
'use strict';

const TOKEN_KEY = 'berth.token';
const ADMIN_POLL_MS = 2000;
const ME_POLL_MS = 5000;
const ARM_MS = 5000;

const STEP_NAMES = {
  claim: 'Claim a warm spare',
  capacity: 'Wait for capacity',
  probe: 'Check that it answers',
  tag: 'Tag it as yours',
  protect: 'Protect its host from scale-in',
  dns: 'DNS record',
  route: 'Route it through the gateway',
  session: 'Session and heartbeat token',
  ready: 'Ready',
  rollback: 'Roll back',
  teardown: 'Tear down',
};

const $ = (id) => document.getElementById(id);

/** An element with attributes/properties and children; strings become text nodes. */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'onclick') node.addEventListener('click', v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function text(id, value) {
  $(id).textContent = value == null ? '' : String(value);
}

function show(id, visible) {
  $(id).hidden = !visible;
}

/** Replaces a table's rows; a button that had the focus keeps it (found again by its label). */
function replaceRows(tbody, rows, columns, emptyText) {
  const focused = tbody.contains(document.activeElement) ? document.activeElement.getAttribute('aria-label') : null;
  tbody.replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { class: 'empty', colspan: columns }, emptyText))]));
  if (focused) {
    const again = Array.from(tbody.querySelectorAll('button')).find((b) => b.getAttribute('aria-label') === focused);
    if (again) again.focus();
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function clock(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleTimeString([], { hour12: false });
}

function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString([], { hour12: false });
}

function duration(ms) {
  if (ms <= 0) return 'now';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

// ---- session -------------------------------------------------------------------------------

const session = { token: null, claims: null, admin: false, abort: new AbortController() };

/** From /dashboard/config.json: more than one workspace per user shows the list and the name field. */
const config = { perUser: 1 };

/** The JWT's payload, decoded only to choose what to show; null when it is not a JWT. */
function claimsOf(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(b64 + '='.repeat((4 - b64.length % 4) % 4)),
      (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
    const claims = JSON.parse(json);
    return claims && typeof claims === 'object' ? claims : null;
  } catch (e) {
    return null;
  }
}

function signIn(token, remember) {
  const claims = claimsOf(token);
  if (!claims || typeof claims.sub !== 'string') {
    text('signin-error', 'That is not a JWT with a subject (sub).');
    return false;
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) {
    text('signin-error', 'That token has expired: get a new one.');
    return false;
  }
  session.token = token;
  session.claims = claims;
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  session.admin = roles.includes('admin');
  session.abort = new AbortController();
  if (remember) sessionStorage.setItem(TOKEN_KEY, token);
  text('signin-error', '');
  text('who-name', claims.sub);
  show('who-admin', session.admin);
  show('who', true);
  show('signin', false);
  show('mine', true);
  mine.name = null;
  show('fleet', session.admin);
  show('workspaces', session.admin);
  templates.load();
  mine.start();
  if (session.admin) admin.start();
  return true;
}

function signOut(message) {
  session.abort.abort();
  session.token = null;
  session.claims = null;
  session.admin = false;
  sessionStorage.removeItem(TOKEN_KEY);
  mine.stop();
  multi.stop();
  templates.stop();
  admin.stop();
  for (const id of ['who', 'mine', 'fleet', 'workspaces', 'history']) show(id, false);
  show('signin', true);
  $('token').value = '';
  text('signin-error', message || '');
  $('token').focus();
}

// ---- HTTP ----------------------------------------------------------------------------------

/** A call to the API: {status, body} (body parsed as JSON when it is). 401 signs out. */
async function call(method, path, body) {
  const headers = { Authorization: 'Bearer ' + session.token, Accept: 'application/json' };
  const init = { method, headers, signal: session.abort.signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let parsed = null;
  const raw = await res.text();
  try {
    parsed = raw ? JSON.parse(raw) : null;
  } catch (e) {
    parsed = { message: raw };
  }
  if (res.status === 401) {
    signOut('The API refused the token (expired or not signed by this server). Sign in again.');
    throw new Error('unauthorized');
  }
  return { status: res.status, body: parsed };
}

function messageOf(answer) {
  const b = answer.body;
  return (b && (b.message || b.error)) || `HTTP ${answer.status}`;
}

/**
 * Reads GET /api/workspaces/me/events with fetch (EventSource cannot send the Authorization
 * header). Calls onEvent(name, data) per event; resolves with 'ended', 'missing' (404) or 'error'.
 */
async function readEvents(onEvent, onOpen) {
  let res;
  try {
    res = await fetch('/api/workspaces/me/events' + mine.query(), {
      headers: { Authorization: 'Bearer ' + session.token, Accept: 'text/event-stream' },
      signal: session.abort.signal,
      cache: 'no-store',
    });
  } catch (e) {
    return 'error';
  }
  if (res.status === 401) {
    signOut('The API refused the token (expired or not signed by this server). Sign in again.');
    return 'error';
  }
  if (res.status === 404) return 'missing';
  if (res.status !== 200 || !res.body) return 'error';
  if (onOpen) onOpen();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end), onEvent);
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (e) {
    return 'error';
  }
  return 'ended';
}

function dispatch(block, onEvent) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (!data.length) return;
  let parsed;
  try {
    parsed = JSON.parse(data.join('\n'));
  } catch (e) {
    return;
  }
  onEvent(name, parsed);
}

// ---- my workspace ----------------------------------------------------------------------------

const mine = {
  ws: null,
  timers: [],
  busy: false,
  /** Which of the caller's workspaces this card shows: null for their default one. */
  name: null,

  /** The ?name= of the shown workspace for /api/workspaces/me calls; empty for the default one. */
  query() {
    return this.name ? '?name=' + encodeURIComponent(this.name) : '';
  },

  start() {
    this.reset();
    this.title();
    this.load();
    multi.refresh();
  },

  title() {
    text('mine-title', this.name ? 'My workspace ' + this.name : 'My workspace');
  },

  stop() {
    this.timers.forEach(clearInterval);
    this.timers = [];
    this.ws = null;
  },

  reset() {
    this.stop();
    $('steps').replaceChildren();
    text('ws-status', '');
    text('ws-error', '');
    show('ws-none', false);
    show('ws-ready', false);
  },

  /** What the caller has now: a READY workspace, one still coming up or going away, or none. */
  async load() {
    try {
      const answer = await call('GET', '/api/workspaces/me' + this.query());
      if (answer.status === 404) return this.none('You have no workspace.');
      if (answer.status !== 200) return this.failed(messageOf(answer));
      const ws = answer.body;
      (ws.steps || []).forEach((s) => this.step(s));
      if (ws.state === 'READY') return this.ready(ws);
      this.state(ws);
      if (await this.follow() === 'missing') this.none('You have no workspace.');
    } catch (e) {
      this.network(e);
    }
  },

  none(message) {
    this.stop();
    text('ws-status', message);
    show('ws-ready', false);
    show('ws-none', true);
    $('get').disabled = false;
    templates.load(); // the spares ready now, for the chooser's labels
  },

  failed(message) {
    text('ws-error', message);
    this.none('You have no workspace.');
  },

  network(e) {
    if (e && e.name === 'AbortError') return;
    if (e && e.message === 'unauthorized') return;
    text('ws-error', 'Cannot reach the API: ' + (e && e.message ? e.message : e));
  },

  /** "Get my workspace": the POST waits for READY; meanwhile the stream shows each step. */
  async get() {
    if (this.busy) return;
    this.busy = true;
    this.reset();
    $('get').disabled = true;
    text('ws-status', 'Asking for a workspace…');
    let settled = false;
    const body = this.name ? { name: this.name } : {};
    const template = templates.chosen();
    if (template) body.template = template;
    const post = call('POST', '/api/workspaces', body)
      .finally(() => { settled = true; });
    post.catch(() => {});
    try {
      // The workflow exists a moment after the POST starts it: retry the stream until it does.
      let outcome = 'missing';
      for (let tries = 0; outcome === 'missing' && tries < 120; tries++) {
        outcome = await this.follow();
        if (outcome === 'missing') {
          if (settled && tries > 0) break;
          await Promise.race([post, sleep(250)]).catch(() => {});
        }
      }
      const answer = await post;
      if (answer.status === 200 || answer.status === 202) {
        if (!this.ws || this.ws.workspaceId !== answer.body.workspaceId) {
          (answer.body.steps || []).forEach((s) => this.step(s));
        }
        if (answer.body.state === 'READY') this.ready(answer.body);
        else if (outcome !== 'ended') this.state(answer.body);
      } else {
        this.failed(messageOf(answer));
      }
    } catch (e) {
      this.network(e);
    } finally {
      this.busy = false;
      multi.refresh();
    }
  },

  /** Follows the stream to its end; the last state decides what is shown. */
  async follow() {
    const outcome = await readEvents((name, data) => {
      if (name === 'step') this.step(data);
      else if (name === 'state') this.state(data);
      else if (name === 'error') text('ws-error', data.message || 'the stream failed');
    }, () => $('steps').replaceChildren()); // a stream starts with every step of the run so far
    if (outcome === 'error' && session.token && !session.abort.signal.aborted) {
      text('ws-error', 'The progress stream was interrupted: reload the page to follow it again.');
    }
    return outcome;
  },

  state(ws) {
    this.ws = ws;
    if (ws.state === 'READY' || ws.state === 'RELEASED') this.settle(false);
    if (ws.state === 'FAILED') this.settle(true);
    switch (ws.state) {
      case 'ALLOCATING': text('ws-status', 'Setting up your workspace…'); break;
      case 'PROVISIONING': text('ws-status', 'No spare ready: starting a new host…'); break;
      case 'RELEASING': text('ws-status', 'Releasing…'); show('ws-ready', false); break;
      case 'RELEASED': this.none('Released. You have no workspace.'); break;
      case 'FAILED': this.failed('The allocation failed and was rolled back: ' + (ws.reason || 'no reason given'));
        break;
      case 'READY': this.ready(ws); break;
      default: text('ws-status', ws.state);
    }
  },

  /**
   * One progress row per step: a later status of the same step updates its row. Most steps only
   * say when they start: the next step starting means the one before is done, and a rollback
   * starting means it failed. Steps that start at the same moment run side by side (probe, tag,
   * protect, dns, route) and say "done" each for itself: they do not close one another.
   */
  step(s) {
    const list = $('steps');
    const key = s.step;
    const at = s.at || '';
    let row = Array.from(list.children).reverse().find((li) => li.dataset.step === key);
    if (!row || row.dataset.status !== 'running') {
      for (const before of list.children) {
        if (before.dataset.status !== 'running') continue;
        if (key === 'rollback') this.mark(before, 'failed');
        else if (before.dataset.started !== at) this.mark(before, 'done');
      }
      row = el('li', {});
      row.dataset.step = key;
      row.dataset.started = at;
      list.append(row);
    }
    row.replaceChildren(
      el('span', { class: 'icon', 'aria-hidden': 'true' }),
      el('span', {}, el('span', { class: 'what' }, STEP_NAMES[key] || key),
        el('span', { class: 'sr-only state' }),
        s.detail ? el('span', { class: 'detail' }, s.detail) : null),
      el('time', { datetime: s.at || '' }, clock(s.at)));
    this.mark(row, s.status === 'done' ? 'done' : 'running');
  },

  mark(row, status) {
    row.dataset.status = status;
    row.className = status + (row.dataset.step === 'rollback' ? ' rollback' : '');
    row.querySelector('.icon').textContent = { done: '✓', failed: '✗', running: '•' }[status];
    row.querySelector('.state').textContent = { done: ' (done)', failed: ' (failed)', running: ' (in progress)' }[status];
  },

  /** A settled workspace has no step in progress. */
  settle(failed) {
    for (const row of $('steps').children) {
      if (row.dataset.status === 'running') this.mark(row, failed && row.dataset.step !== 'rollback' ? 'failed' : 'done');
    }
  },

  ready(ws) {
    this.settle(false);
    const first = !this.ws || this.ws.state !== 'READY' || $('ws-ready').hidden;
    this.ws = ws;
    text('ws-status', 'Your workspace is ready.');
    text('ws-error', '');
    show('ws-none', false);
    show('ws-ready', true);
    const link = $('ws-link');
    link.textContent = ws.url || '';
    // The link opens a one-time launch link (it sets the workspace's cookie; the URL alone is not
    // let in), fresh at every poll. Only http(s) URLs become links: a link is a navigation.
    const href = ws.launchUrl || ws.url;
    if (href && /^https?:\/\//i.test(href)) link.setAttribute('href', href);
    else link.removeAttribute('href');
    text('ws-expires', dateTime(ws.expiresAt));
    text('ws-host', ws.instanceId || '—');
    text('ws-template', ws.template || '—');
    this.tick();
    if (first) {
      this.stop();
      this.ws = ws;
      this.timers.push(setInterval(() => this.tick(), 1000));
      this.timers.push(setInterval(() => this.refresh(), ME_POLL_MS));
    }
  },

  tick() {
    if (!this.ws || !this.ws.idleDeadline) return text('ws-idle', '—');
    text('ws-idle', duration(Date.parse(this.ws.idleDeadline) - Date.now()));
  },

  /** Heartbeats push the idle deadline: read it again every few seconds. */
  async refresh() {
    try {
      const answer = await call('GET', '/api/workspaces/me' + this.query());
      multi.refresh();
      if (answer.status === 404) return this.none('Your workspace is gone (released or reclaimed).');
      if (answer.status === 200) {
        if (answer.body.state === 'READY') this.ready(answer.body);
        else { this.stop(); this.state(answer.body); this.follow(); }
      }
    } catch (e) {
      this.network(e);
    }
  },

  async extend() {
    try {
      const answer = await call('POST', '/api/workspaces/me/extend' + this.query(), {});
      if (answer.status === 200) {
        this.ready(answer.body);
        text('ws-status', 'Extended: idle reclaim pushed back.');
      } else {
        text('ws-error', messageOf(answer));
      }
    } catch (e) {
      this.network(e);
    }
  },

  async release() {
    this.stop();
    try {
      const answer = await call('DELETE', '/api/workspaces/me' + this.query());
      if (answer.status !== 202) {
        text('ws-error', messageOf(answer));
        return this.load();
      }
      show('ws-ready', false);
      text('ws-status', 'Releasing…');
      const outcome = await this.follow();
      if (outcome === 'missing' || (this.ws && this.ws.state === 'RELEASED')) {
        this.none('Released. You have no workspace.');
      }
      multi.refresh();
    } catch (e) {
      this.network(e);
    }
  },
};

/**
 * The templates offered (GET /api/templates): with more than one, a chooser whose choice every
 * "Get" sends; with one, no chooser and the server's default.
 */
const templates = {
  offered: [],

  async load() {
    if (!session.token) return;
    try {
      const answer = await call('GET', '/api/templates');
      if (answer.status !== 200 || !Array.isArray(answer.body)) return;
      this.offered = answer.body;
      const select = $('ws-template');
      const kept = select.value;
      select.replaceChildren(...this.offered.map((t) => el('option', { value: t.name,
        selected: kept ? t.name === kept : t.defaultTemplate === true }, this.label(t))));
      show('ws-template-row', this.offered.length > 1);
    } catch (e) {
      // without the list the page asks for the default template, as with a single one
    }
  },

  label(t) {
    const kind = t.kind && t.kind !== t.name ? ` (${t.kind})` : '';
    const spares = t.sparesReady > 0 ? `${t.sparesReady} ready` : 'no spare ready: a cold start';
    return `${t.name}${kind} · ${spares}`;
  },

  /** The chosen template, or null for the server's default (one template, or none listed). */
  chosen() {
    return this.offered.length > 1 ? $('ws-template').value || null : null;
  },

  stop() {
    this.offered = [];
    $('ws-template').replaceChildren();
    show('ws-template-row', false);
  },
};

/**
 * With more than one workspace per user: the caller's workspaces (GET /api/workspaces), each a
 * button that shows it in the card above, and a name field to get another one. With one per
 * user this stays hidden and the page is what it always was.
 */
const multi = {
  shown: null,

  stop() {
    this.shown = null;
    show('ws-multi', false);
  },

  async refresh() {
    if (config.perUser <= 1 || !session.token) return;
    show('ws-multi', true);
    text('ws-limit', `(up to ${config.perUser})`);
    try {
      const answer = await call('GET', '/api/workspaces');
      if (answer.status !== 200) return;
      const list = answer.body || [];
      const json = JSON.stringify([list.map((w) => [w.name, w.state]), mine.name]);
      if (this.shown === json) return;
      this.shown = json;
      replaceRows($('ws-list'), list.map((w) => {
        const label = w.name || 'default';
        const button = el('button', { type: 'button', class: 'small quiet', onclick: () => this.select(w.name || null) },
          mine.name === (w.name || null) ? 'Shown' : 'Show');
        button.setAttribute('aria-label', 'Show workspace ' + label);
        return el('tr', {}, el('td', {}, label), el('td', { class: 'state-' + w.state }, w.state), el('td', {}, button));
      }), 3, 'No workspaces yet.');
    } catch (e) {
      // the card above reports what went wrong
    }
  },

  select(name) {
    // the shown workspace's progress stream and calls in flight end: they would draw the old one
    session.abort.abort();
    session.abort = new AbortController();
    mine.name = name;
    mine.start();
  },

  /** "Get it": the named workspace becomes the one shown, and is asked for. */
  getNamed(name) {
    if (!/^[a-z0-9]{1,16}$/.test(name)) {
      text('ws-error', 'A workspace name is 1 to 16 of a-z and 0-9.');
      return;
    }
    session.abort.abort();
    session.abort = new AbortController();
    mine.name = name;
    mine.title();
    $('ws-name').value = '';
    mine.get();
  },
};

function nameQuery(name) {
  return name ? '?name=' + encodeURIComponent(name) : '';
}

/** A destructive button asks once more: the first click arms it, a second within 5 s acts. */
function confirmButton(button, label, action) {
  button.addEventListener('click', () => {
    if (button.classList.contains('armed')) {
      button.classList.remove('armed');
      button.textContent = label;
      clearTimeout(button.armTimer);
      action();
      return;
    }
    button.classList.add('armed');
    button.textContent = 'Click again to confirm';
    button.armTimer = setTimeout(() => {
      button.classList.remove('armed');
      button.textContent = label;
    }, ARM_MS);
  });
}

// ---- operators --------------------------------------------------------------------------------

const admin = {
  timer: null,
  historyUser: null,
  historyName: null,
  /** The workspace whose force release was clicked once, and until when a second click confirms it. */
  armed: null,
  /** What each table last showed: a poll that brings nothing new leaves the DOM (and the focus) alone. */
  shown: {},

  changed(key, data) {
    const json = JSON.stringify(data);
    if (this.shown[key] === json) return false;
    this.shown[key] = json;
    return true;
  },

  start() {
    this.poll();
    this.timer = setInterval(() => this.poll(), ADMIN_POLL_MS);
  },

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.historyUser = null;
    this.armed = null;
    this.shown = {};
  },

  async poll() {
    await Promise.all([this.fleet(), this.workspaces(), this.history()]);
  },

  async fleet() {
    try {
      const answer = await call('GET', '/api/status');
      if (answer.status !== 200) return text('fleet-error', messageOf(answer));
      text('fleet-error', '');
      const s = answer.body;
      if (!this.changed('fleet', s)) return;
      const fact = (label, value) => el('div', {}, el('span', { class: 'label' }, label),
        el('span', { class: 'value' }, value));
      $('fleet-summary').replaceChildren(
        fact('Hosts (actual / desired)', `${s.actual} / ${s.desired}`),
        fact('Bounds (min–max)', `${s.min}–${s.max}`),
        fact('Active workspaces', s.active),
        fact('Spares (ready / target)', `${s.sparesReady} / ${s.sparesTarget}`),
        fact('Waiting for capacity', s.provisioning),
        fact('Slots (used / free)', `${s.slotsUsed} / ${s.slotsFree}`));
      const pools = Array.isArray(s.pools) ? s.pools
        : [{ template: s.template, hosts: s.hosts, decisions: s.decisions }];
      replaceRows($('pools'), pools.map((p) => this.poolRow(p)), 5, 'No pools.');
      const hosts = pools.flatMap((p) => (p.hosts || []).map((h) => [p.template, h]));
      replaceRows($('hosts'), hosts.map(([template, h]) => el('tr', {},
        el('td', {}, h.hostId),
        el('td', {}, template || '—'),
        el('td', { class: 'state-' + h.state }, h.state),
        el('td', {}, h.address || '—'),
        el('td', {}, h.scaleInProtected ? 'yes' : 'no'),
        el('td', {}, h.launchedAtMillis ? clock(new Date(h.launchedAtMillis).toISOString()) : '—'),
        el('td', {}, el('div', { class: 'slots' }, ...(h.slots || []).map((st) => this.slot(st)))))),
      7, 'No hosts.');
      // every pool's decisions, the latest first
      const decisions = pools.flatMap((p) => (p.decisions || []).map((d) => [p.template, d]))
        .sort((a, b) => b[1].atMillis - a[1].atMillis);
      replaceRows($('decisions'), decisions.map(([template, d]) => el('tr', {},
        el('td', {}, clock(new Date(d.atMillis).toISOString())),
        el('td', {}, template || '—'),
        el('td', {}, d.action),
        el('td', {}, `${d.fromHosts} → ${d.toHosts}`),
        el('td', {}, d.reason || ''))), 5, 'No decisions yet.');
    } catch (e) {
      if (e && e.name !== 'AbortError' && e.message !== 'unauthorized') text('fleet-error', String(e.message || e));
    }
  },

  /** A pool's row: its target and the rule that set it, or why its controller gave no status. */
  poolRow(p) {
    if (p.error) {
      return el('tr', {}, el('td', {}, p.template), el('td', { class: 'error-cell', colspan: 4 }, p.error));
    }
    const hosts = p.actual == null ? '—' : `${p.actual} / ${p.desired}`;
    return el('tr', {},
      el('td', {}, p.template),
      el('td', {}, p.sparesTarget == null ? '—' : p.sparesTarget),
      el('td', {}, p.sparesRule || '—'),
      el('td', {}, p.sparesReady == null ? '—' : p.sparesReady),
      el('td', {}, hosts));
  },

  slot(st) {
    const slot = st.slot || {};
    const kind = !st.alive ? 'dead' : st.owner ? 'owned' : 'spare';
    const who = !st.alive ? 'down' : st.owner ? st.owner : 'unowned';
    return el('span', { class: 'slot ' + kind, title: `${slot.slotId || ''} port ${slot.port || ''}` },
      `#${slot.index}: ${who}`);
  },

  async workspaces() {
    try {
      const answer = await call('GET', '/api/admin/workspaces');
      if (answer.status !== 200) return text('workspaces-error', messageOf(answer));
      text('workspaces-error', '');
      if (!this.changed('workspaces', [answer.body, this.armed])) return;
      replaceRows($('workspace-rows'), (answer.body || []).map((w) => this.workspaceRow(w)), 7,
        'No workspaces.');
    } catch (e) {
      if (e && e.name !== 'AbortError' && e.message !== 'unauthorized') {
        text('workspaces-error', String(e.message || e));
      }
    }
  },

  workspaceRow(w) {
    const link = w.url && /^https?:\/\//i.test(w.url)
      ? el('a', { href: w.url, target: '_blank', rel: 'noopener noreferrer' }, w.url) : (w.url || '—');
    const who = w.name ? `${w.user} (${w.name})` : w.user;
    const history = el('button', { type: 'button', class: 'small quiet',
      onclick: () => this.openHistory(w.user, w.name) }, 'History');
    history.setAttribute('aria-label', 'History of ' + who);
    const armed = this.armed && this.armed.user === who && this.armed.until > Date.now();
    const release = el('button', { type: 'button', class: armed ? 'small danger armed' : 'small danger',
      onclick: () => this.forceReleaseClicked(who, w.user, w.name) }, armed ? 'Click again to confirm' : 'Force release');
    release.setAttribute('aria-label', 'Force release the workspace of ' + who);
    return el('tr', {},
      el('td', {}, who),
      el('td', { class: 'state-' + w.state }, w.state || '—'),
      el('td', {}, link),
      el('td', {}, w.slotId || '—'),
      el('td', {}, clock(w.lastSeen)),
      el('td', {}, clock(w.idleDeadline)),
      el('td', {}, el('div', { class: 'actions' }, history, release)));
  },

  /** First click arms (the row re-renders armed for 5 s), a second within that time releases. */
  forceReleaseClicked(who, user, name) {
    const armed = this.armed && this.armed.user === who && this.armed.until > Date.now();
    this.armed = armed ? null : { user: who, until: Date.now() + ARM_MS };
    if (armed) this.forceRelease(user, name);
    else setTimeout(() => this.workspaces(), ARM_MS + 50);
    this.workspaces();
  },

  async forceRelease(user, name) {
    try {
      const answer = await call('DELETE', '/api/admin/workspaces/' + encodeURIComponent(user) + nameQuery(name));
      if (answer.status !== 202) text('workspaces-error', messageOf(answer));
      this.workspaces();
    } catch (e) {
      if (e && e.name !== 'AbortError' && e.message !== 'unauthorized') text('workspaces-error', String(e));
    }
  },

  openHistory(user, name) {
    this.historyUser = user;
    this.historyName = name || null;
    delete this.shown.history;
    text('history-user', name ? `${user} (${name})` : user);
    $('history-rows').replaceChildren();
    show('history', true);
    this.history();
    $('history').scrollIntoView({ block: 'start' });
  },

  closeHistory() {
    this.historyUser = null;
    show('history', false);
  },

  async history() {
    const user = this.historyUser;
    const name = this.historyName;
    if (!user) return;
    try {
      const answer = await call('GET', '/api/admin/workspaces/' + encodeURIComponent(user) + '/history'
        + nameQuery(name));
      if (user !== this.historyUser || name !== this.historyName) return;
      if (answer.status !== 200) return text('history-error', messageOf(answer));
      text('history-error', '');
      const withTasks = $('history-tasks').checked;
      if (!this.changed('history', [user, name, withTasks, answer.body])) return;
      const rows = [];
      let failed = false;
      for (const e of answer.body || []) {
        const failure = /Failed$|TimedOut$/.test(e.type) && !/^WorkflowTask/.test(e.type);
        if (failure) failed = true;
        // after a failure, undo activities (Un*, Delete*) are the saga's compensations
        const compensation = failed && e.type === 'ActivityTaskScheduled' && /^(Un|Delete)/.test(e.details || '');
        if (!withTasks && /^WorkflowTask/.test(e.type) && !failure) continue;
        const kind = failure ? 'failure' : compensation ? 'compensation' : '';
        rows.push(el('tr', { class: kind },
          el('td', {}, e.eventId),
          el('td', {}, clock(e.time)),
          el('td', {}, e.type, kind ? el('span', { class: 'tag ' + kind }, kind) : null),
          el('td', {}, e.details || '')));
      }
      replaceRows($('history-rows'), rows, 4, 'No events.');
    } catch (e) {
      if (e && e.name !== 'AbortError' && e.message !== 'unauthorized') text('history-error', String(e));
    }
  },
};

// ---- wiring -----------------------------------------------------------------------------------

async function loadConfig() {
  try {
    const res = await fetch('/dashboard/config.json', { cache: 'no-store' });
    if (res.ok) {
      const c = await res.json();
      show('token-hint', c.tokenHint === true);
      config.perUser = Number.isInteger(c.workspacesPerUser) ? c.workspacesPerUser : 1;
      multi.refresh();
    }
  } catch (e) {
    // the hint is optional
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn($('token').value.trim(), true);
  });
  $('sign-out').addEventListener('click', () => signOut(''));
  $('get').addEventListener('click', () => mine.get());
  $('ws-new-form').addEventListener('submit', (e) => {
    e.preventDefault();
    multi.getNamed($('ws-name').value.trim());
  });
  $('extend').addEventListener('click', () => mine.extend());
  confirmButton($('release'), 'Release', () => mine.release());
  $('history-close').addEventListener('click', () => admin.closeHistory());
  $('history-tasks').addEventListener('change', () => admin.history());
  $('history-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const user = $('history-for').value.trim();
    if (user) admin.openHistory(user);
  });
  loadConfig();
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (!saved || !signIn(saved, false)) {
    sessionStorage.removeItem(TOKEN_KEY);
    show('signin', true);
  }
});
