// The live connection every page shares: hello{since} on (re)connect, gapless events,
// reconnect with backoff and jitter, NTP-style offset to the server clock, commands
// that are acknowledged (and resent with the same id after a reconnect, never redone).

import { Channel } from "./channel.js";
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

export class LiveConnection extends Channel {
  constructor({ eventId, token, lang, rev, onEvent, onState, onStatus, onError, onPending }) {
    super({ onStatus, onError, onPending });
    this.eventId = eventId;
    this.rev = rev || ""; // the fingerprint of the event the page shows
    this.onEvent = onEvent || null; // pages that show the event follow its changes
    this.token = token || "";
    this.lang = lang || "fr"; // refusals come back in the page's language
    this.onState = onState || (() => {});
    this.seq = null;
    this.epoch = null;
    this.state = null;
    this.offset = 0; // server clock minus local clock, ms
    this.samples = [];
    this.pingTimer = null;
  }

  now() {
    return Date.now() + this.offset;
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams({ lang: this.lang });
    if (this.token) params.set("k", this.token);
    this.open(
      `${proto}://${location.host}/ws/events/${this.eventId}?${params}`,
      () => ({ type: "hello", since: this.seq, epoch: this.epoch }),
      (msg) => this.receive(msg),
    );
  }

  opened() {
    this.ping(5);
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(1), 15000);
  }

  closing() {
    clearInterval(this.pingTimer);
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
    if (this.reply(msg)) return; // acks, pendings, errors (channel.js)
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
}
