import { Channel } from "./channel.js";

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

export class Participation extends Channel {
  constructor({ eventId, token, workshop, lang, onChange, onStatus, onError, onPending }) {
    super({ onStatus, onError, onPending });
    this.eventId = eventId;
    this.token = token || "";
    this.workshop = workshop;
    this.lang = lang || "fr";
    this.onChange = onChange || (() => {});
    this.mode = null; // "participant", "moderator" or "screen", as the server says
    this.seq = null;
    this.epoch = null;
    this.proposals = new Map();
    this.retained = [];
    this.polls = new Map();
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams({ lang: this.lang, w: this.workshop });
    if (this.token) params.set("k", this.token);
    this.open(
      `${proto}://${location.host}/ws/participation/${encodeURIComponent(this.eventId)}?${params}`,
      // What this page has: the server sends only what changed since, if it still can.
      () => ({ type: "hello", since: this.seq, epoch: this.epoch }),
      (msg) => this.receive(msg),
    );
  }

  // Every refusal of this socket is final (another workshop, no such workshop...), but
  // too many connections (4429), which passes.
  final(code) {
    return code >= 4400 && code < 4500 && code !== 4429;
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
        this.epoch = msg.epoch;
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
      case "caught_up": // the changes since the page's seq were the frames before this one
        this.seq = msg.seq;
        this.epoch = msg.epoch;
        break;
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
      default:
        return;
    }
    this.onChange(this);
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
