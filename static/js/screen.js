// The site screen: huge countdown coloured by phase, current and next step, banner,
// clock, QR code; who speaks and who is next during a restitution, with the notes of
// the workshop speaking and its retained proposals, and the open polls asked to this site
// or everyone (screen-proposals.js); this site's workshop timers during workshops; pause
// and end. The plenary's picture and sound while the step has the video on
// (screen-plenary.js).
import { page, start } from "./live.js";
import { format, phase, remaining, setText, timeOfDay } from "./clock.js";
import {
  caption,
  currentStep,
  isEnded,
  isPaused,
  fillBanner,
  kindLabel,
  laneTurn,
  mainTimer,
  roomLabel,
  shownMessages,
  siteWorkshops,
  slotName,
  span,
  speakers,
  stepRoom,
  workshopName,
  workshopRows,
} from "./show.js";
import { plenaryScreen } from "./screen-plenary.js";
import { onReconnect } from "./plenary.js";
import { screenProposals } from "./screen-proposals.js";

const { cfg, ev, S, $ } = page();
const plenary = plenaryScreen({ cfg, ev, S, $ });
const proposals = screenProposals({ cfg, ev, S, $ });
const body = document.body;
let notesView = null;
let notesFor = null;

function concerns(step) {
  return !step.sites.length || !cfg.site || step.sites.includes(cfg.site);
}

function render(state) {
  const step = currentStep(state, ev);
  const ended = isEnded(state);
  body.classList.toggle("ended", ended);
  body.classList.toggle("paused", isPaused(state));
  $("paused-badge").hidden = !isPaused(state);
  $("ended-thanks").hidden = !ended;
  let kind = S.not_started;
  if (ended) kind = S.ended;
  else if (step) kind = kindLabel(step, S);
  setText($("step-kind"), kind);
  setText($("step-title"), step && !ended ? step.title : ev.title);
  renderSpeakerLine(state, step);
  const room = ended ? "" : stepRoom(step, cfg.site, S);
  setText($("step-room"), room ? ` · ${S["step.where"]} : ${room}` : "");
  renderNext(state, ended);
  fillBanner($("banner"), shownMessages(state, cfg.site));
  const { speaking } = speakers(state);
  // The notes of the workshop speaking (a step's own experience report has none).
  const notes = !!speaking && !!speaking.workshop && !ended;
  $("speaking").hidden = !notes;
  if (notes) setText($("speaking-title"), slotName(ev, speaking));
  followNotes(notes ? speaking.workshop : null);
  // Its retained proposals while a workshop reports in a restitution.
  const reporting = notes && step && step.kind === "restitution";
  proposals.follow(reporting ? speaking.workshop : null);
  const mine = ended ? [] : siteWorkshops(state, ev, cfg.site);
  // During workshops, where to go: the site's workshops with their rooms (even just one).
  const list = mine.length > 0 && !notes;
  $("site-workshops").hidden = !list;
  if (list) renderWorkshops(state, mine);
  body.classList.toggle("has-panel", notes || list);
  plenary.update(state, step, { concerned: !step || concerns(step), panel: notes || list });
  body.dataset.step = step ? step.id : "";
  body.classList.toggle("not-concerned", !!step && !concerns(step));
  tick();
}

function renderSpeakerLine(state, step) {
  // Who speaks follows the floor: "Parole à : <site>" once the régie gives it to a site.
  const { speaking, next, speakers: named } = caption(state, step, ev, S);
  const parts = [];
  if (speaking) {
    const who = document.createElement("strong");
    who.textContent = speaking;
    parts.push(`${S.speaking_now} : `, who);
  }
  if (next) parts.push(span("then", `${speaking ? " · " : ""}${S.speaks_next} : ${next}`));
  if (named) parts.push(named);
  const line = $("step-speaker");
  const key = JSON.stringify([speaking, next, named]);
  if (line.dataset.caption === key) return;
  line.dataset.caption = key;
  line.replaceChildren(...parts);
}

function renderNext(state, ended) {
  $("next-line").hidden = ended;
  let next = "—";
  if (state.step === null) next = `${ev.agenda[0].start} · ${ev.agenda[0].title}`;
  else if (state.step + 1 < ev.agenda.length) {
    const n = ev.agenda[state.step + 1];
    next = `${n.start} · ${n.title}`;
  } else next = S.finished;
  setText($("next-step"), next);
}

function renderWorkshops(state, mine) {
  const ul = $("site-workshop-list");
  ul.style.setProperty("--rows", String(mine.length));
  workshopRows(
    ul,
    mine.map((w) => w.id),
    (id) => [
      span("title", workshopName(ev, id, true)),
      span("room", roomLabel(ev.workshops[id]?.room, S)),
      span("ws-count"),
      span("ws-report"),
    ],
  );
  for (const { id, timer } of mine) {
    const li = ul.querySelector(`li[data-workshop="${CSS.escape(id)}"]`);
    if (!li) continue;
    li.dataset.status = timer.status;
    // The experience report this workshop presents now, if it presents some.
    const turn = laneTurn(state, id);
    const report = turn && turn.speaking ? `${S["report.now"]} : ${slotName(ev, turn.speaking)}` : "";
    setText(li.querySelector(".ws-report"), report);
  }
}

async function followNotes(workshop) {
  if (workshop === notesFor) return;
  notesFor = workshop;
  if (notesView) notesView.stop();
  notesView = null;
  $("speaking-notes").textContent = "";
  $("more-above").hidden = true;
  $("more-below").hidden = true;
  if (!workshop) return;
  try {
    const mod = await import("./notes-view.js");
    if (notesFor !== workshop) return;
    notesView = mod.followNotes($("speaking-notes"), {
      eventId: ev.id,
      workshopId: workshop,
      token: cfg.token,
      page: true,
      onOverflow: ({ above, below }) => {
        $("more-above").hidden = !above;
        $("more-below").hidden = !below;
        const frame = $("speaking-notes").parentElement;
        frame.dataset.more = `${above ? "above" : ""} ${below ? "below" : ""}`.trim();
      },
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
  const timer = mainTimer(state, ev, { site: cfg.site });
  let p = phase(timer, now, ev.timers);
  if (isPaused(state)) p = "paused";
  if (body.dataset.phase !== p) body.dataset.phase = p;
  const cd = $("countdown");
  const text = timer ? format(remaining(timer, now)) : "--:--";
  setText(cd, text);
  cd.classList.toggle("long", text.length > 6);
  for (const li of document.querySelectorAll("#site-workshop-list li")) {
    const wt = state.workshops[li.dataset.workshop];
    const el = li.querySelector(".ws-count");
    if (!wt || !el) continue;
    setText(el, wt.status === "done" ? S.closed : format(remaining(wt, now)));
    el.dataset.phase = wt.status === "done" ? "idle" : phase(wt, now, ev.timers);
  }
}

// A projector says nothing while all is well; only a lost connection shows.
const onStatus = (ok) => setText($("conn"), ok ? "" : S["connection.lost"]);
const conn = start({ cfg, onState: render, onStatus, tick });
onReconnect(conn, plenary.reconnected);
