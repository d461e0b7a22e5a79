// The site screen: huge countdown coloured by phase, current and next step, banner,
// clock; during a restitution, the notes of the workshop speaking.
import { config, LiveConnection } from "./live.js";
import { everyFrame, format, phase, remaining, setText, timeOfDay } from "./clock.js";

const cfg = config();
const ev = cfg.event;
const S = cfg.strings;
const $ = (id) => document.getElementById(id);
let notesView = null;
let notesFor = null;

const conn = new LiveConnection({
  eventId: ev.id,
  token: cfg.token,
  onState: render,
  onStatus: (ok) => setText($("conn"), ok ? "" : S["connection.lost"]),
});

function concerns(step) {
  return !step.sites.length || !cfg.site || step.sites.includes(cfg.site);
}

function render(state) {
  const step = state.step === null ? null : ev.agenda[state.step];
  setText($("step-title"), step ? step.title : ev.title);
  setText($("step-kind"), step ? S[`kind.${step.kind}`] : S.not_started);
  setText($("step-speaker"), step && step.speaker ? step.speaker : "");
  let next = "—";
  if (state.step === null) next = ev.agenda[0].title;
  else if (state.step + 1 < ev.agenda.length) {
    const n = ev.agenda[state.step + 1];
    next = `${n.start} · ${n.title}`;
  } else next = S.finished;
  setText($("next-step"), next);
  const msg = state.message;
  const banner = $("banner");
  const show = msg.visible && (!msg.site || msg.site === cfg.site);
  banner.hidden = !show;
  setText(banner, show ? msg.text : "");
  const speaking = state.queue.find((s) => s.status === "speaking");
  $("speaking").hidden = !speaking;
  document.body.classList.toggle("has-notes", !!speaking);
  if (speaking) setText($("speaking-title"), ev.workshops[speaking.workshop]?.title || speaking.workshop);
  followNotes(speaking ? speaking.workshop : null);
  document.body.dataset.step = step ? step.id : "";
  document.body.classList.toggle("not-concerned", !!step && !concerns(step));
  tick();
}

async function followNotes(workshop) {
  if (workshop === notesFor) return;
  notesFor = workshop;
  if (notesView) notesView.stop();
  notesView = null;
  $("speaking-notes").textContent = "";
  if (!workshop) return;
  try {
    const mod = await import("./notes-view.js");
    if (notesFor !== workshop) return;
    notesView = mod.followNotes($("speaking-notes"), {
      eventId: ev.id,
      workshopId: workshop,
      token: cfg.token,
    });
  } catch (e) {
    // Notes are an addition to the screen; the countdown must keep running without them.
  }
}

function tick() {
  const now = conn.now();
  setText($("clock"), timeOfDay(now, ev.timezone));
  const state = conn.state;
  if (!state) return;
  const timer = state.speaker || state.timer;
  const p = phase(timer, now, ev.timers);
  if (document.body.dataset.phase !== p) document.body.dataset.phase = p;
  setText($("countdown"), timer ? format(remaining(timer, now)) : "--:--");
}

conn.connect();
everyFrame(tick);
