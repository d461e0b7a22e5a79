// The plenary on a site screen: while the running step has the video on, the relay's
// picture fills the screen (the step's title and countdown over it) and its sound plays;
// the hub site's screen shows the mosaic of sites too (who is live, who is not). A step
// with an external visio room shows that room's QR code instead. Notes or workshop timers
// on screen take the room back (the sound goes on).
//
// Sound: a projector plays unattended, whatever the browser's autoplay policy. The picture
// always starts muted (muted autoplay is always allowed); the sound is tried on top when
// this machine once chose it ("Activer le son", kept in localStorage), and a browser that
// refuses it keeps the picture playing muted. The control is a small button in the top
// bar, never over the picture; `body[data-sound]` says "on", "muted" or "echo". A site
// that has the floor hears itself in the room already: its screen stays muted (no echo,
// no howl).
//
// A speaker who stops leaves no frozen frame: after FROZEN_MS without a new frame the
// picture is faded out and the screen says it waits for the picture.
import { setText } from "./clock.js";
import { isEnded } from "./show.js";
import { plenaryConfig, receive, relayStep } from "./plenary.js";

const SOUND = "relais.sound";
const STATUS_EVERY = 2000;
const STALLED_MS = 1500; // no new picture for this long after a lost socket: start again
const FROZEN_MS = 1000; // ... or for this long at all: fade it out, "En attente de l'image…"

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

  function showSound() {
    const state = echo ? "echo" : video.muted ? "muted" : "on";
    if (body.dataset.sound !== state) body.dataset.sound = state;
    if (program) program.sound(state); // the console lists the screens without sound
    $("sound").hidden = !program || echo || !video.muted;
  }

  // Muted autoplay always plays; sound only where this machine chose it and the browser
  // lets it. Chrome pauses a video unmuted without a click, so a refusal mutes and plays.
  function applySound() {
    const on = soundWanted() && !echo && !refused;
    video.muted = !on;
    if (on) {
      video.play().catch(() => {
        refused = true;
        video.muted = true;
        video.play().catch(() => {});
        showSound();
      });
    } else if (video.paused && video.srcObject) {
      video.play().catch(() => {});
    }
    showSound();
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
    const waiting = () => {
      const frozen = !!program && program.stalled(FROZEN_MS);
      body.classList.toggle("frozen", frozen);
      setText($("picture-status"), frozen ? S["plenary.waiting_picture"] : "");
    };
    watch = setInterval(waiting, 200);
    applySound();
    if (P.hub) startMosaic();
  }

  function stopProgram() {
    if (!program) return;
    program.stop();
    program = null;
    clearInterval(watch);
    setText($("picture-status"), "");
    body.classList.remove("frozen");
    showSound();
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
