// The participation of one workshop, live (/ws/participation/{event}?k=&w=): what the
// phones, the rapporteur's panel and the screens share. It keeps the workshop's proposals
// and polls as the server says them (`view` on connect, then one `proposal`, `retained` or
// `poll` per change), reconnects with backoff, and sends commands that are acknowledged
// (and resent with the same id after a reconnect, never redone).
//
//   const part = new Participation({ eventId, token, workshop, lang, onChange, onStatus, onError });
//   part.connect();
//   await part.command("propose", { title, body, subject });
//
// `onChange(part)` is called after every change: read `part.proposals` (id -> card, in the
// order they were made), `part.retained` (screens), `part.polls` (id -> poll), `part.mode`.

export class Participation {
  constructor({ eventId, token, workshop, lang, onChange, onStatus, onError, onPending }) {
    this.eventId = eventId;
    this.token = token || "";
    this.workshop = workshop;
    this.lang = lang || "fr";
    this.onChange = onChange || (() => {});
    this.onStatus = onStatus || (() => {});
    this.onError = onError || (() => {});
    this.onPending = onPending || (() => {});
    this.mode = null; // "participant", "moderator" or "screen", as the server says
    this.seq = null;
    this.proposals = new Map();
    this.retained = [];
    this.polls = new Map();
    this.pending = new Map(); // command id -> {frame, resolve, reject}
    this.delay = 500;
    this.ws = null;
    this.closed = false; // refused for good (a revoked link, another workshop)
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams({ lang: this.lang, w: this.workshop });
    if (this.token) params.set("k", this.token);
    const ws = new WebSocket(`${proto}://${location.host}/ws/participation/${encodeURIComponent(this.eventId)}?${params}`);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.onStatus(true);
      ws.send(JSON.stringify({ type: "hello", since: this.seq, epoch: null }));
      for (const p of this.pending.values()) ws.send(p.frame);
    };
    ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    ws.onclose = (e) => {
      this.onStatus(false);
      // 44xx: refused for a reason that reconnecting would meet again (live/errors.py).
      if (e.code >= 4400 && e.code < 4500 && e.code !== 4429) {
        this.closed = true;
        return;
      }
      if (e.code === 4429) this.delay = Math.max(this.delay, 5000);
      const wait = this.delay * (0.5 + Math.random());
      this.delay = Math.min(this.delay * 2, 30000);
      setTimeout(() => this.connect(), wait);
    };
  }

  close() {
    this.closed = true;
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
  }

  receive(msg) {
    switch (msg.type) {
      case "view":
        this.seq = msg.seq;
        this.mode = msg.mode;
        this.proposals = new Map((msg.view.proposals || []).map((p) => [p.id, p]));
        this.retained = msg.view.retained || [];
        this.polls = new Map((msg.polls || []).map((p) => [p.id, p]));
        break;
      case "proposal": {
        this.seq = msg.seq;
        const before = this.proposals.get(msg.proposal.id);
        // A public card carries no `mine` / `supported`: this phone keeps its own flags.
        const mine = before ? { mine: before.mine, supported: before.supported } : {};
        this.proposals.set(msg.proposal.id, { ...mine, ...msg.proposal });
        break;
      }
      case "retained":
        this.seq = msg.seq;
        this.retained = msg.retained;
        break;
      case "poll": {
        this.seq = msg.seq;
        const before = this.polls.get(msg.poll.id);
        this.polls.set(msg.poll.id, { mine: before ? before.mine : null, ...msg.poll });
        break;
      }
      case "ack": {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (p) p.resolve(msg.seq);
        return;
      }
      case "pending":
        if (this.pending.has(msg.id)) this.onPending(msg);
        return;
      case "error": {
        const p = msg.id && this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          p.reject(msg);
        }
        this.onError(msg);
        return;
      }
      default:
        return;
    }
    this.onChange(this);
  }

  // Send a command; resolves with its seq once acknowledged, rejects with the server's
  // error ({code, message} in the page's language).
  command(name, args = {}) {
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const frame = JSON.stringify({ type: "command", id, name, args });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { frame, resolve, reject });
      if (this.ws && this.ws.readyState === 1) this.ws.send(frame);
    });
  }

  // What this phone did is known as soon as it is acknowledged, before anyone else's
  // change: a support or its withdrawal flips the local flag (the count comes from the
  // server's card).
  async support(id, on) {
    await this.command(on ? "support" : "unsupport", { proposal: id });
    const card = this.proposals.get(id);
    if (card) {
      card.supported = on;
      this.onChange(this);
    }
  }

  async vote(pollId, choices) {
    await this.command("vote", { poll: pollId, choices });
    const poll = this.polls.get(pollId);
    if (poll) {
      poll.mine = choices;
      this.onChange(this);
    }
  }
}
