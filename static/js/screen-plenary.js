// The plenary on a site screen: while the running step has the video on, the relay's
// picture fills the screen (the step's title and countdown over it) and its sound plays;
// the hub site's screen shows the mosaic of sites too (who is live, who is not). A step
// with an external visio room shows that room's QR code instead. Notes or workshop timers
// on screen take the room back (the sound goes on).
//
// Sound: browsers only play sound on their own after a click on the page, so the screen
// starts muted with an "Activer le son" button, once: the choice is kept (localStorage),
// and a screen whose browser still refuses shows the button again. A site that has the
// floor hears itself in the room already: its screen stays muted (no echo, no howl).
import { setText } from "./clock.js";
import { isEnded } from "./show.js";
import { plenaryConfig, receive, relayStep } from "./plenary.js";

const SOUND = "relais.sound";
const STATUS_EVERY = 2000;
const STALLED_MS = 1500; // no new picture for this long after a lost socket: start again
const WAITING_MS = 2500; // ... or for this long at all: "En attente de l'image…"

export function plenaryScreen({ cfg, ev, S, $ }) {
  const P = plenaryConfig();
  const video = $("program");
  const body = document.body;
  let program = null; // the WHEP session of the program, while shown
  let tiles = new Map(); // feed -> {li, session}, on the hub's screen
  let poll = null;
  let echo = false;
  let refused = false; // the browser refused to play sound: the button stays until a click
  let watch = null;

  const soundWanted = () => localStorage.getItem(SOUND) === "on";

  function applySound() {
    const on = soundWanted() && !echo;
    video.muted = !on;
    $("sound").hidden = !program || (soundWanted() && !refused);
    if (on) {
      video.play().catch(() => {
        video.muted = true; // this browser wants a click first: ask again
        refused = true;
        $("sound").hidden = false;
      });
    }
  }

  $("sound").addEventListener("click", () => {
    localStorage.setItem(SOUND, "on");
    refused = false;
    applySound();
  });

  function startProgram() {
    if (program) return;
    program = receive({
      url: P.whep,
      token: cfg.token,
      iceServers: P.ice_servers,
      lang: cfg.lang,
      video,
    });
    const waiting = () => setText($("picture-status"), program.stalled(WAITING_MS) ? S["plenary.waiting_picture"] : "");
    watch = setInterval(waiting, 500);
    applySound();
    if (P.hub) startMosaic();
  }

  function stopProgram() {
    if (!program) return;
    program.stop();
    program = null;
    clearInterval(watch);
    setText($("picture-status"), "");
    $("sound").hidden = true;
    stopMosaic();
  }

  // -- the mosaic (hub site's screen) ---------------------------------------------------

  function startMosaic() {
    const list = $("mosaic");
    const others = ev.sites.filter((s) => s.id !== cfg.site);
    if (!others.length) return;
    list.hidden = false;
    for (const site of others) {
      const feed = `site:${site.id}`;
      const li = document.createElement("li");
      li.dataset.feed = feed;
      const tile = document.createElement("video");
      tile.muted = true;
      tile.autoplay = true;
      tile.playsInline = true;
      tile.setAttribute("aria-hidden", "true");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = site.name;
      const live = document.createElement("span");
      live.className = "live";
      live.textContent = S["plenary.offline"];
      li.append(tile, name, live);
      list.append(li);
      const url = `${P.whep}?feed=${encodeURIComponent(feed)}`;
      const session = receive({ url, token: cfg.token, iceServers: P.ice_servers, lang: cfg.lang, video: tile, audio: false });
      tiles.set(feed, { li, session });
    }
    refresh();
    poll = setInterval(refresh, STATUS_EVERY);
  }

  function stopMosaic() {
    clearInterval(poll);
    for (const { session } of tiles.values()) session.stop();
    tiles = new Map();
    $("mosaic").replaceChildren();
    $("mosaic").hidden = true;
  }

  async function refresh() {
    let status;
    try {
      const r = await fetch(`${P.status}?k=${encodeURIComponent(cfg.token)}`);
      if (!r.ok) return;
      status = await r.json();
    } catch (e) {
      return;
    }
    for (const [feed, { li }] of tiles) {
      const live = !!(status.feeds[feed] && status.feeds[feed].live);
      li.dataset.live = live ? "1" : "0";
      setText(li.querySelector(".live"), live ? S["plenary.live"] : S["plenary.offline"]);
    }
  }

  // -- following the agenda ---------------------------------------------------------------

  // `panel`: notes or workshop timers are on screen (they keep the room).
  function update(state, step, { concerned, panel }) {
    const ended = isEnded(state);
    const relay = !ended && concerned && relayStep(step, P.visio);
    if (relay) startProgram();
    else stopProgram();
    body.classList.toggle("video", relay && !panel);
    body.dataset.floor = state.floor || "speaker";
    echo = state.floor === `site:${cfg.site}`;
    if (program) applySound();
    // External visio rooms: the step's, or during workshops those of this site's workshops.
    const workshops = step && step.kind === "workshops" && !ended;
    let shown = 0;
    for (const figure of document.querySelectorAll("figure.visio-room")) {
      const mine = figure.dataset.step
        ? !ended && concerned && step && figure.dataset.step === step.id
        : workshops && shown < 2;
      figure.hidden = !mine;
      if (mine) shown += 1;
    }
    body.classList.toggle("has-visio", shown > 0);
  }

  // The live socket came back after a loss: if the picture stopped too, the server may
  // have restarted; start the sessions again now rather than when the browser notices.
  function reconnected() {
    if (program && program.stalled(STALLED_MS)) program.restart();
    for (const { session } of tiles.values()) if (session.stalled(STALLED_MS)) session.restart();
  }

  return { update, reconnected };
}
