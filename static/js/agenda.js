// Public and participant pages: the agenda with the live step and its countdown; who
// speaks and who is next; this site's workshop timers (or the person's own workshop's,
// extensions included); pause and end.
import { config, LiveConnection } from "./live.js";
import { everyFrame, format, remaining, setText } from "./clock.js";
import {
  currentStep,
  isEnded,
  isPaused,
  mainTimer,
  roomLabel,
  siteWorkshops,
  speakers,
  workshopName,
} from "./show.js";

const cfg = config();
const ev = cfg.event;
const S = cfg.strings;
const $ = (id) => document.getElementById(id);

const conn = new LiveConnection({
  eventId: ev.id,
  token: cfg.token,
  lang: cfg.lang,
  onState: render,
  onStatus: (ok) => {
    $("conn").toggleAttribute("data-ok", ok);
    setText($("conn"), ok ? S["connection.ok"] : S["connection.lost"]);
  },
});

// The workshop timers this phone lists: none for a person with their own workshop (it
// is the main countdown), else those of the phone's site.
function listed(state) {
  if (isEnded(state) || (cfg.workshop && state.workshops[cfg.workshop])) return [];
  return cfg.site ? siteWorkshops(state, ev, cfg.site) : [];
}

function render(state) {
  const step = currentStep(state, ev);
  const ended = isEnded(state);
  let now = S.not_started;
  if (ended) now = S.ended;
  else if (step) now = `${step.start} · ${step.title}`;
  setText($("now-step"), now);
  $("now-paused").hidden = !isPaused(state);
  const { speaking, next } = speakers(state);
  const line = [];
  if (!ended && speaking) line.push(`${S.speaking_now} : ${workshopName(ev, speaking.workshop)}`);
  if (!ended && next) line.push(`${S.speaks_next} : ${workshopName(ev, next.workshop)}`);
  $("now-speakers").hidden = !line.length;
  setText($("now-speakers"), line.join(" · "));
  for (const li of document.querySelectorAll("#agenda li")) {
    const i = Number(li.dataset.step);
    const current = state.step === i && !ended;
    li.classList.toggle("current", current);
    li.classList.toggle("past", state.step !== null && (i < state.step || ended));
    if (current) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  }
  const mine = listed(state);
  const ul = $("now-workshops");
  ul.hidden = mine.length < 2;
  const ids = mine.map((w) => w.id).join(" ");
  if (ul.dataset.ids !== ids) {
    ul.dataset.ids = ids;
    ul.replaceChildren(
      ...mine.map(({ id }) => {
        const li = document.createElement("li");
        li.dataset.workshop = id;
        const room = roomLabel(ev.workshops[id]?.room, S);
        const name = document.createElement("span");
        name.textContent = `${workshopName(ev, id, true)}${room ? ` — ${room}` : ""}`;
        const time = document.createElement("strong");
        time.className = "ws-time";
        li.append(name, " ", time);
        return li;
      }),
    );
  }
  const msg = state.message;
  const show = msg.visible && (!msg.site || msg.site === cfg.site);
  $("banner").hidden = !show;
  setText($("banner"), show ? msg.text : "");
  tick();
}

function tick() {
  const state = conn.state;
  if (!state) return;
  const now = conn.now();
  const timer = mainTimer(state, ev, { site: cfg.site, workshop: cfg.workshop });
  let label = S.time_left;
  if (cfg.workshop && state.workshops[cfg.workshop] && !state.speaker) label = S.your_workshop;
  const closed = timer && timer.status === "done";
  setText(
    $("now-timer"),
    timer && !isEnded(state) ? `${label} : ${closed ? S.closed : format(remaining(timer, now))}` : "",
  );
  for (const li of document.querySelectorAll("#now-workshops li")) {
    const wt = state.workshops[li.dataset.workshop];
    if (wt) setText(li.querySelector(".ws-time"), wt.status === "done" ? S.closed : format(remaining(wt, now)));
  }
}

conn.connect();
everyFrame(tick);
