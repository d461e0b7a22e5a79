// The live connection every page shares: hello{since} on (re)connect, gapless events,
// reconnect with backoff and jitter, NTP-style offset to the server clock, commands
// that are acknowledged (and resent with the same id after a reconnect, never redone).

import { everyFrame, setText } from "./clock.js";

export function config() {
  return JSON.parse(document.getElementById("relais-config").textContent);
}

// What every live page starts from: its configuration (the event, the link, the page's
// messages) and a shorthand for its elements.
export function page() {
  const cfg = config();
  return { cfg, ev: cfg.event, S: cfg.strings, $: (id) => document.getElementById(id) };
}

// The event changed while the page is open (a live edit of the run-of-show, a new
// definition): the page's event object takes the new picture in place (page scripts hold
// it), and the agenda list, rendered by the server, is fetched again as this page shows it.
async function adoptEvent(cfg, info) {
  const ev = cfg.event;
  for (const key of Object.keys(ev)) delete ev[key];
  Object.assign(ev, info);
  const list = document.getElementById("agenda");
  if (!list) return;
  const d = list.dataset;
  const params = new URLSearchParams({ details: d.details || "0", console: d.console || "0", site: d.site || "", lang: cfg.lang || "fr" });
  try {
    const response = await fetch(`/e/${encodeURIComponent(ev.id)}/agenda-list?${params}`);
    if (!response.ok) return;
    const html = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = html.getElementById("agenda");
    if (fresh) list.replaceWith(document.adoptNode(fresh));
  } catch (e) {
    // The list stays as it was; the live step and countdowns do not depend on it.
  }
}

// Connect a live page: its state handler, its connection status (by default the `#conn`
// line: "Connecté" or "Connexion perdue"), and a tick ten times a second for countdowns.
export function start({ cfg, onState, onStatus, onError, onPending, tick }) {
  const status = document.getElementById("conn");
  const S = cfg.strings;
  let refusal = null; // why the server ended the connection (a revoked link...), if it said
  const conn = new LiveConnection({
    eventId: cfg.event.id,
    token: cfg.token,
    lang: cfg.lang,
    rev: cfg.rev,
    onEvent: async (info) => {
      await adoptEvent(cfg, info);
      if (conn.state) onState(conn.state);
    },
    onState,
    onPending,
    onError: (msg) => {
      if (!msg.id) refusal = msg.message; // not about one command: about the connection
      if (onError) onError(msg);
    },
    onStatus:
      onStatus ||
      ((ok) => {
        status.toggleAttribute("data-ok", ok);
        if (ok) refusal = null;
        setText(status, ok ? S["connection.ok"] : refusal || S["connection.lost"]);
      }),
  });
  conn.connect();
  if (tick) everyFrame(tick);
  return conn;
}

export class LiveConnection {
  constructor({ eventId, token, lang, rev, onEvent, onState, onStatus, onError, onPending }) {
    this.eventId = eventId;
    this.rev = rev || ""; // the fingerprint of the event the page shows
    this.onEvent = onEvent || null; // pages that show the event follow its changes
    this.token = token || "";
    this.lang = lang || "fr"; // refusals come back in the page's language
    this.onState = onState || (() => {});
    this.onStatus = onStatus || (() => {});
    this.onError = onError || (() => {});
    // A command the store has not confirmed yet: its ack or error follows (`pending`).
    this.onPending = onPending || (() => {});
    this.seq = null;
    this.epoch = null;
    this.state = null;
    this.offset = 0; // server clock minus local clock, ms
    this.samples = [];
    this.pending = new Map(); // command id -> {frame, resolve, reject}
    this.delay = 500;
    this.ws = null;
    this.pingTimer = null;
  }

  now() {
    return Date.now() + this.offset;
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams({ lang: this.lang });
    if (this.token) params.set("k", this.token);
    const query = `?${params}`;
    const ws = new WebSocket(`${proto}://${location.host}/ws/events/${this.eventId}${query}`);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.onStatus(true);
      ws.send(JSON.stringify({ type: "hello", since: this.seq, epoch: this.epoch }));
      for (const p of this.pending.values()) ws.send(p.frame);
      this.ping(5);
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.ping(1), 15000);
    };
    ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    ws.onclose = (e) => {
      clearInterval(this.pingTimer);
      this.onStatus(false);
      // A refused link (4401 forged or missing, 4403 expired, revoked or not allowed) or an
      // unknown event (4404): reconnecting would be refused again (live/errors.py).
      if (e.code === 4401 || e.code === 4403 || e.code === 4404) return;
      // Too many connections (4429): try again, but not at once.
      if (e.code === 4429) this.delay = Math.max(this.delay, 5000);
      const wait = this.delay * (0.5 + Math.random());
      this.delay = Math.min(this.delay * 2, 30000);
      setTimeout(() => this.connect(), wait);
    };
  }

  ping(count) {
    for (let i = 0; i < count; i++) {
      setTimeout(() => {
        if (this.ws && this.ws.readyState === 1) {
          this.ws.send(JSON.stringify({ type: "ping", t0: performance.timeOrigin + performance.now() }));
        }
      }, i * 200);
    }
  }

  receive(msg) {
    switch (msg.type) {
      case "snapshot":
      case "events":
        this.epoch = msg.epoch;
        this.apply(msg.seq, msg.state);
        if (this.onEvent && msg.rev && msg.rev !== this.rev) this.refetchEvent(msg.rev);
        break;
      case "definition":
        this.rev = msg.rev;
        if (this.onEvent) this.onEvent(msg.event);
        break;
      case "event":
        if (this.seq !== null && msg.seq <= this.seq) return;
        if (this.seq !== null && msg.seq !== this.seq + 1) {
          // A gap: ask for exactly what is missing.
          this.ws.send(JSON.stringify({ type: "hello", since: this.seq, epoch: this.epoch }));
          return;
        }
        this.apply(msg.seq, msg.state);
        break;
      case "pong": {
        const t2 = performance.timeOrigin + performance.now();
        const rtt = t2 - msg.t0;
        this.samples.push({ rtt, offset: msg.t1 - (msg.t0 + t2) / 2 });
        this.samples = this.samples.slice(-8);
        const best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
        this.offset = best.offset;
        break;
      }
      case "ack": {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (p) p.resolve(msg.seq);
        break;
      }
      case "pending":
        // Not a refusal: it may still apply. Its promise settles on the ack or error
        // that follows once the store answers; meanwhile the page says it is waiting.
        if (this.pending.has(msg.id)) this.onPending(msg);
        break;
      case "error": {
        const p = msg.id && this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          p.reject(msg);
        }
        this.onError(msg);
        break;
      }
    }
  }

  // The event changed while this page was away: fetch it once (a reconnecting crowd
  // spreads its requests over a second).
  refetchEvent(rev) {
    this.rev = rev;
    setTimeout(async () => {
      try {
        const response = await fetch(`/api/events/${encodeURIComponent(this.eventId)}/info`);
        if (!response.ok) return;
        const body = await response.json();
        this.rev = body.rev;
        this.onEvent(body.event);
      } catch (e) {
        this.rev = ""; // the next snapshot tries again
      }
    }, Math.random() * 1000);
  }

  apply(seq, state) {
    this.seq = seq;
    this.state = state;
    this.onState(state);
    document.body.dataset.seq = String(seq); // the page shows the state of this seq
  }

  command(name, args = {}) {
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const frame = JSON.stringify({ type: "command", id, name, args });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { frame, resolve, reject });
      if (this.ws && this.ws.readyState === 1) this.ws.send(frame);
    });
  }
}
