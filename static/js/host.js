// A site host's page: the room's camera published (low resolution) as this site's feed,
// for the mosaic and for when the site has the floor; the program as every screen shows
// it; and "Demander la parole", an agenda command the régie answers from its console.
import { page, start } from "./live.js";
import { format, remaining, setText } from "./clock.js";
import { mainTimer, nowLine } from "./show.js";
import { floorName, onReconnect, plenaryConfig, receive } from "./plenary.js";
import { broadcaster } from "./broadcast.js";

const { cfg, ev, S, $ } = page();
const P = plenaryConfig();
const mine = `site:${cfg.site}`;
const fill = (template, params) => template.replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
let conn = null; // the live connection (below): the camera's state changes what it shows

const camera = broadcaster({
  cfg,
  P,
  S,
  $,
  video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15, max: 15 } },
  onAir: () => conn && conn.state && render(conn.state),
});

const program = receive({
  url: P.whep,
  token: cfg.token,
  iceServers: P.ice_servers,
  lang: cfg.lang,
  video: $("program"),
  onChange: (state, error) => {
    const text = { connected: "", connecting: S["plenary.connecting"], retrying: S["plenary.retrying"] };
    setText($("program-status"), error ? error.message : text[state] || "");
  },
});

function send(name) {
  setText($("floor-error"), "");
  conn.command(name).catch((e) => setText($("floor-error"), e.message || String(e)));
}

function render(state) {
  setText($("now-step"), nowLine(state, ev, S));
  const requests = state.requests || [];
  const place = requests.indexOf(cfg.site);
  const has = state.floor === mine;
  $("ask").hidden = has || place >= 0;
  $("cancel").hidden = place < 0;
  let line = `${S["plenary.floor_is_with"]} ${floorName(state.floor, ev, S)}`;
  if (has) line = S["host.has_floor"];
  else if (place >= 0) line = fill(S["host.asked"], { n: place + 1 });
  setText($("floor-line"), line);
  $("floor-line").dataset.state = has ? "has" : place >= 0 ? "asked" : "";
  $("camera-needed").hidden = !!(camera && camera.live) || !(has || place >= 0);
  document.body.dataset.floor = state.floor || "speaker";
}

function tick() {
  const state = conn.state;
  if (!state) return;
  const timer = mainTimer(state, ev, { site: cfg.site });
  setText($("now-timer"), timer ? format(remaining(timer, conn.now())) : "");
}

$("ask").addEventListener("click", () => send("floor.ask"));
$("cancel").addEventListener("click", () => send("floor.cancel"));
conn = start({ cfg, onState: render, onError: (e) => setText($("floor-error"), e.message), tick });
onReconnect(conn, () => {
  camera.recheck();
  if (program.stalled(1500)) program.restart();
});
