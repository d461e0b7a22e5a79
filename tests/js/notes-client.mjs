// A Yjs editor or viewer run by Node with the npm packages yjs + y-websocket + ws, as any
// third-party client would be. Driven by one JSON argument; prints one JSON line at the end.
//
//   {url, room, token, name, edits: N, expect: ["marker", ...], timeoutMs}
//
// It connects, waits for the first sync, inserts N markers `<name:i>` at pseudo-random
// places (one every few ms), waits until every expected marker is in the text and the text
// has stopped changing, then prints {text, warnings, presence, synced}.
import { load } from "./deps.mjs";

const Y = await load("yjs");
const { WebsocketProvider } = await load("y-websocket");
const { WebSocket } = await load("ws");

const opts = JSON.parse(process.argv[2]);
const warnings = [];
console.warn = (...args) => warnings.push(args.join(" "));

const doc = new Y.Doc();
const text = doc.getText("notes");
const provider = new WebsocketProvider(opts.url, opts.room, doc, {
  params: { k: opts.token },
  WebSocketPolyfill: WebSocket,
  disableBc: true,
});
provider.awareness.setLocalStateField("user", { name: opts.name, color: "#1f6feb" });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = Date.now() + (opts.timeoutMs ?? 15000);
const until = async (check, what) => {
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await sleep(10);
  }
};

// A place between markers: concurrent inserts never split one another, own ones must not.
const boundary = (s, p) => s.lastIndexOf("<", p - 1) <= s.lastIndexOf(">", p - 1);
const place = (s) => {
  let p = Math.floor(random() * (s.length + 1));
  while (!boundary(s, p)) p++;
  return p;
};

let seed = [...opts.name].reduce((a, c) => a * 31 + c.charCodeAt(0), 7) >>> 0;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

try {
  await until(() => provider.synced, "sync");
  for (let i = 0; i < (opts.edits ?? 0); i++) {
    text.insert(place(text.toString()), `<${opts.name}:${i}>`);
    await sleep(3);
  }
  await until(() => (opts.expect ?? []).every((m) => text.toString().includes(m)), "markers");
  if (opts.expectWarning) await until(() => warnings.length > 0, "a warning");
  let last = text.toString();
  let stableSince = Date.now();
  while (Date.now() - stableSince < (opts.settleMs ?? 300)) {
    await sleep(20);
    if (text.toString() !== last) [last, stableSince] = [text.toString(), Date.now()];
  }
  const presence = [...provider.awareness.getStates().values()]
    .map((s) => s.user?.name)
    .filter(Boolean);
  console.log(JSON.stringify({ text: text.toString(), warnings, presence, synced: true }));
  provider.destroy();
  process.exit(0);
} catch (err) {
  console.log(JSON.stringify({ error: String(err), text: text.toString(), warnings }));
  provider.destroy();
  process.exit(1);
}
