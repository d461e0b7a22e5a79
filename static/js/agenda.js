// Public and participant pages: the agenda with the live step and its countdown.
import { config, LiveConnection } from "./live.js";
import { everyFrame, format, remaining, setText } from "./clock.js";

const cfg = config();
const ev = cfg.event;
const S = cfg.strings;
const $ = (id) => document.getElementById(id);

const conn = new LiveConnection({
  eventId: ev.id,
  token: cfg.token,
  onState: render,
  onStatus: (ok) => {
    $("conn").toggleAttribute("data-ok", ok);
    setText($("conn"), ok ? S["connection.ok"] : S["connection.lost"]);
  },
});

function render(state) {
  const step = state.step === null ? null : ev.agenda[state.step];
  setText($("now-step"), step ? `${step.start} · ${step.title}` : S.not_started);
  for (const li of document.querySelectorAll("#agenda li")) {
    const i = Number(li.dataset.step);
    const current = state.step === i;
    li.classList.toggle("current", current);
    li.classList.toggle("past", state.step !== null && i < state.step);
    if (current) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  }
  const msg = state.message;
  const show = msg.visible && (!msg.site || msg.site === cfg.site);
  $("banner").hidden = !show;
  setText($("banner"), show ? msg.text : "");
  tick();
}

function tick() {
  const state = conn.state;
  if (!state || !state.timer) return;
  const timer = state.speaker || state.timer;
  setText($("now-timer"), `${S.time_left} : ${format(remaining(timer, conn.now()))}`);
}

conn.connect();
everyFrame(tick);
