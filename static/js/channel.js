// What every live socket of a page shares (the agenda's `live.js`, the participation's
// `participation.js`): reconnecting with backoff and jitter unless the server refused for
// good, and commands that are acknowledged — resent with the same id after a reconnect,
// never redone — with `pending` when the store has not confirmed yet.

export class Channel {
  constructor({ onStatus, onError, onPending }) {
    this.onStatus = onStatus || (() => {});
    this.onError = onError || (() => {});
    // A command the store has not confirmed yet: its ack or error follows (`pending`).
    this.onPending = onPending || (() => {});
    this.pending = new Map(); // command id -> {frame, resolve, reject}
    this.delay = 500;
    this.ws = null;
    this.closed = false; // refused for good (a revoked link, an unknown event...)
  }

  // Open `url`; `hello()` is sent on every (re)connection, before the commands not yet
  // acknowledged; `onMessage(msg)` gets every frame but the replies to commands.
  open(url, hello, onMessage) {
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.onStatus(true);
      ws.send(JSON.stringify(hello()));
      for (const p of this.pending.values()) ws.send(p.frame);
      this.opened(ws);
    };
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (!this.reply(msg)) onMessage(msg);
    };
    ws.onclose = (e) => {
      this.closing();
      this.onStatus(false);
      // A refusal that reconnecting would meet again is final (live/errors.py).
      if (this.final(e.code)) {
        this.closed = true;
        return;
      }
      // Too many connections (4429): try again, but not at once.
      if (e.code === 4429) this.delay = Math.max(this.delay, 5000);
      const wait = this.delay * (0.5 + Math.random());
      this.delay = Math.min(this.delay * 2, 30000);
      setTimeout(() => this.connect(), wait);
    };
  }

  // A close code that says reconnecting would be refused again. The agenda's socket: a
  // refused link or an unknown event (4401, 4403, 4404); the participation's says more.
  final(code) {
    return code === 4401 || code === 4403 || code === 4404;
  }

  opened(ws) {} // a subclass's own work once connected (pings)
  closing() {} // ...and once the socket is gone

  // Acks, pendings and errors; true if `msg` was one.
  reply(msg) {
    switch (msg.type) {
      case "ack": {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (p) p.resolve(msg.seq);
        return true;
      }
      case "pending":
        // Not a refusal: it may still apply. Its promise settles on the ack or error
        // that follows once the store answers; meanwhile the page says it is waiting.
        if (this.pending.has(msg.id)) this.onPending(msg);
        return true;
      case "error": {
        const p = msg.id && this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          p.reject(msg);
        }
        this.onError(msg);
        return true;
      }
      default:
        return false;
    }
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
}
