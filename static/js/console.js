// The facilitator console: every control of the agenda, keyboard shortcuts, the
// parallel workshop timers, the speaking queue and the schedule drift.
//
// A control surface: what the current step needs is shown, what it does not folds away
// (the plenary's panel outside plenary moments), and every row stays one compact line.
//
// It cannot be mis-pressed: leaving a running (or paused) step, resetting it and ending
// the event ask first, in a dialog that Enter confirms and Escape cancels; and the last
// command can be taken back ("Annuler", Ctrl+Z), itself a logged command.
import { page, start } from "./live.js";
import { format, phase, remaining, schedule, setText, timeOfDay } from "./clock.js";
import { currentStep, isEnded, laneTurn, markAgenda, nowLine, slotName, span, workshopName } from "./show.js";
import { plenaryPanel } from "./console-plenary.js";
import { onReconnect } from "./plenary.js";

const { cfg, ev, S, $ } = page();
const plenary = plenaryPanel({ cfg, ev, S, $ }); // the floor, the mosaic, who receives
const siteName = (id) => ev.sites.find((s) => s.id === id)?.name || id;
// Timer and slot statuses as the console says them (explicit keys: a page gets only the
// messages its script names, see live/i18n.py).
const STATUS = { idle: S.idle, running: S.running, paused: S.paused, done: S.closed };
const SLOT = { pending: S.pending, speaking: S.speaking, done: S.done, skipped: S.skipped };
const fill = (template, params) => template.replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
// Steps where the sites listen to someone together: the plenary's panel (floor, mosaic,
// who receives) unfolds on them when they have video; on any other step it folds away.
const PLENARY_KINDS = new Set(["welcome", "plenary", "round_table", "synthesis", "closing"]);

// A drift or a lead in hours and minutes: "2 h 05 min", not "125 min".
export function minutesText(ms) {
  const min = Math.round(Math.abs(ms) / 60000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const m = min % 60;
  return m ? `${h} h ${String(m).padStart(2, "0")} min` : `${h} h`;
}

function send(name, args = {}) {
  const line = $("error");
  setText(line, "");
  delete line.dataset.pending;
  return conn
    .command(name, args)
    .then(() => {
      // Confirmed at last: the "waiting for confirmation" line goes (the state shows it).
      if (line.dataset.pending) setText(line, "");
      delete line.dataset.pending;
    })
    .catch((e) => {
      delete line.dataset.pending;
      setText(line, e.message || String(e));
    });
}

// The store has not confirmed a command yet: say so (not "nothing was changed").
function waiting(msg) {
  const line = $("error");
  line.dataset.pending = msg.id;
  setText(line, msg.message);
}

// -- asking first ---------------------------------------------------------------------

const dialog = $("confirm");

function ask(text) {
  return new Promise((resolve) => {
    setText($("confirm-text"), text);
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

function stepUnderway(state) {
  const t = state && state.timer;
  return !!t && !isEnded(state) && (t.status === "running" || t.status === "paused");
}

function targetTitle(state, name, args) {
  if (name === "step.next") return ev.agenda[state.step === null ? 0 : state.step + 1]?.title;
  if (name === "step.previous") return ev.agenda[(state.step || 0) - 1]?.title;
  if (name === "step.goto") return ev.agenda[args.index]?.title;
  return "";
}

// The question to ask before `name`, or null when it can go at once.
function question(name, args) {
  const state = conn.state;
  if (!state) return null;
  if (name === "event.end") return S["confirm.end"];
  if (name === "agenda.remove") {
    return fill(S["confirm.remove_step"], { step: ev.agenda.find((s) => s.id === args.step)?.title || "" });
  }
  if (!stepUnderway(state)) return null;
  const step = currentStep(state, ev);
  if (name === "timer.reset") return fill(S["confirm.reset"], { step: step.title });
  if (name === "step.goto" && args.index === state.step) {
    return fill(S["confirm.reset"], { step: step.title });
  }
  if (["step.next", "step.previous", "step.goto"].includes(name)) {
    return fill(S["confirm.leave"], { step: step.title, target: targetTitle(state, name, args) || "—" });
  }
  return null;
}

async function command(name, args = {}) {
  if (!conn.state) return; // nothing shown yet: no command can have been meant
  if (name === "undo") {
    const last = conn.state && conn.state.last;
    if (!last) return;
    args = { seq: last.seq };
  }
  const q = question(name, args);
  if (q && !(await ask(q))) return;
  send(name, args);
}

// -- controls -------------------------------------------------------------------------

document.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-cmd]");
  if (!b) return;
  const args = {};
  if (b.dataset.minutes) args.minutes = Number(b.dataset.minutes);
  if (b.dataset.index) args.index = Number(b.dataset.index);
  if (b.dataset.workshop) args.workshop = b.dataset.workshop;
  if (b.dataset.report) args.report = b.dataset.report;
  if (b.dataset.lane) args.lane = b.dataset.lane;
  if (b.dataset.position) args.position = Number(b.dataset.position);
  if (b.dataset.feed) args.feed = b.dataset.feed;
  if (b.dataset.site) args.site = b.dataset.site;
  if (b.dataset.step) args.step = b.dataset.step;
  command(b.dataset.cmd, args);
});

// -- panels that fold --------------------------------------------------------------------

// A panel's heading is its disclosure button (aria-expanded); the step decides whether it
// starts open, a press of the facilitator's keeps until the step changes.
function setFold(card, open) {
  const button = card.querySelector("button.fold");
  button.setAttribute("aria-expanded", String(open));
  $(button.getAttribute("aria-controls")).hidden = !open;
  card.dataset.open = open ? "1" : "0";
}

document.addEventListener("click", (e) => {
  const b = e.target.closest("button.fold");
  if (b) setFold(b.closest(".fold-card"), b.getAttribute("aria-expanded") !== "true");
});

let foldedFor; // the step whose panels were last folded by its kind

function autoFold(state) {
  const key = isEnded(state) ? "ended" : String(state.step);
  if (key === foldedFor) return;
  foldedFor = key;
  const step = isEnded(state) ? null : currentStep(state, ev);
  // Before the start, the plenary's panel is where the sites' cameras are checked.
  const plenaryMoment = step
    ? PLENARY_KINDS.has(step.kind) && !!step.video
    : !isEnded(state) && ev.agenda.some((s) => s.video);
  setFold($("plenary-card"), plenaryMoment);
}

// -- the run-of-show, edited live ----------------------------------------------------------

document.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-edit]");
  if (b) editStep(b.dataset.edit);
});

async function editStep(id) {
  const state = conn.state;
  const index = ev.agenda.findIndex((s) => s.id === id);
  const step = ev.agenda[index];
  if (!state || !step) return;
  const running = state.step === index;
  const form = $("edit-form");
  $("edit-title").value = step.title;
  $("edit-duration").value = String(step.duration);
  $("edit-duration").disabled = running; // its countdown changes with ± min
  $("edit-running").hidden = !running;
  const box = $("edit-step");
  box.returnValue = "";
  box.showModal();
  await new Promise((resolve) => box.addEventListener("close", resolve, { once: true }));
  if (box.returnValue !== "ok" || !form.checkValidity()) return;
  const args = { step: id };
  const title = $("edit-title").value.trim();
  if (title && title !== step.title) args.title = title;
  const duration = Number($("edit-duration").value);
  if (!running && duration && duration !== step.duration) args.duration = duration;
  if (args.title || args.duration) send("agenda.edit", args);
}

$("insert-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const title = $("ins-title").value.trim();
  const duration = Number($("ins-duration").value);
  const after = $("ins-after").value;
  if (!title || !duration || !after) return;
  send("agenda.insert", { after, title, duration, kind: $("ins-kind").value }).then((seq) => {
    if (typeof seq === "number") $("ins-title").value = "";
  });
});

// Only what has not started can change: the current step and later ones for "after";
// later ones to move or remove; the current one's title too.
function renderRundown(state) {
  const current = state.step === null ? -1 : state.step;
  const ended = isEnded(state);
  for (const li of document.querySelectorAll("#agenda li[data-step]")) {
    const i = Number(li.dataset.step);
    const edit = li.querySelector(".step-edit");
    if (!edit) continue;
    edit.hidden = ended || i < current;
    for (const b of edit.querySelectorAll("button[data-cmd]")) {
      const position = Number(b.dataset.position);
      const future = i > current;
      if (b.dataset.cmd === "agenda.move") b.hidden = !future || position <= current || position >= ev.agenda.length;
      else b.hidden = !future;
    }
  }
  const after = $("ins-after");
  const options = ev.agenda.map((s, i) => ({ s, i })).filter(({ i }) => i >= Math.max(current, 0));
  const key = options.map(({ s }) => s.id).join(" ");
  if (after.dataset.ids !== key) {
    after.dataset.ids = key;
    after.replaceChildren(
      ...options.map(({ s }) => {
        const o = document.createElement("option");
        o.value = s.id;
        o.textContent = `${s.start} · ${s.title}`;
        return o;
      }),
    );
  }
}

$("message-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("msg-text").value.trim();
  const site = $("msg-site").value || null;
  if (text) send("message.show", site ? { text, site } : { text });
});

document.addEventListener("keydown", (e) => {
  if (dialog.open || e.target.closest("input, select, textarea, dialog")) return;
  if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "z") {
    e.preventDefault();
    command("undo");
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const state = conn.state;
  const keys = {
    ArrowRight: () => command("step.next"),
    ArrowLeft: () => command("step.previous"),
    " ": () => command(state && state.timer && state.timer.status === "running" ? "timer.pause" : "timer.resume"),
    "+": () => command("timer.adjust", { minutes: 1 }),
    "-": () => command("timer.adjust", { minutes: -1 }),
    r: () => command("timer.reset"),
    n: () => command("queue.next"),
  };
  const fn = keys[e.key] || keys[e.key.toLowerCase()];
  if (fn) {
    e.preventDefault();
    fn();
  }
});

// -- rendering ------------------------------------------------------------------------

function render(state) {
  const ended = isEnded(state);
  setText($("step-title"), nowLine(state, ev, S));
  const status = state.timer ? state.timer.status : "idle";
  setText($("timer-status"), ended ? S.ended : STATUS[status] || status);
  $("paused-note").hidden = status !== "paused" || ended;
  $("btn-pause").hidden = status !== "running";
  $("btn-resume").hidden = status !== "paused";
  $("btn-start").hidden = status === "running" || status === "paused";
  const started = state.step !== null && !ended;
  $("btn-start").disabled = ended || status === "done";
  $("btn-prev").disabled = !state.step;
  $("btn-next").disabled = ended || (state.step !== null && state.step + 1 >= ev.agenda.length);
  for (const id of ["btn-minus", "btn-plus", "btn-plus5", "btn-reset"]) $(id).disabled = !started;
  $("btn-end").disabled = !started;
  const undo = $("btn-undo");
  undo.disabled = !state.last;
  const what = state.last ? S[`cmd.${state.last.name}`] || state.last.name : "";
  setText(undo, state.last ? `↶ ${fill(S["undo.what"], { what })}` : `↶ ${S.undo}`);
  markAgenda($("agenda"), state);
  autoFold(state);
  renderRundown(state);
  renderWorkshops(state);
  renderQueue(state);
  plenary.render(state);
  renderMessages(state);
  tick();
}

// Every message shown, each with its own "Hide": the one to every site, then each site's.
function renderMessages(state) {
  const shown = [];
  if (state.message.visible) shown.push({ text: state.message.text, site: null });
  for (const [site, m] of Object.entries(state.site_messages || {})) {
    if (m.visible) shown.push({ text: m.text, site });
  }
  $("messages-shown").hidden = !shown.length;
  $("messages-shown").replaceChildren(
    ...shown.map(({ text, site }) => {
      const li = document.createElement("li");
      const to = site ? siteName(site) : S["message.all"];
      li.append(span("message-text", `« ${text} » → ${to}`), " ");
      const hide = document.createElement("button");
      hide.type = "button";
      hide.className = "small";
      hide.dataset.cmd = "message.hide";
      if (site) hide.dataset.site = site;
      hide.textContent = S["message.hide"];
      hide.setAttribute("aria-label", `${S["message.hide"]} : ${to}`);
      li.append(hide);
      return li;
    }),
  );
}

// A row from its `<template>` in the page: each button names the workshop it acts on, and
// says so to a screen reader ("+5 min Enseigner et apprendre…").
function row(templateId, workshop, title, key = "workshop") {
  const li = $(templateId).content.firstElementChild.cloneNode(true);
  li.dataset[key] = workshop;
  li.querySelector(".title").textContent = title;
  li.querySelector(".title").title = title; // a row cut to one line shows it whole on hover
  for (const b of li.querySelectorAll("button")) {
    b.dataset[key] = workshop;
    b.setAttribute("aria-label", `${b.dataset.label} ${title}`);
  }
  return li;
}

// A workshop presenting experience reports: the one presented now, its countdown, and
// the button that calls the next (the workshop's rapporteur can press it too).
function laneLine(state, id, title) {
  const turn = laneTurn(state, id);
  if (!turn) return null;
  const p = document.createElement("span");
  p.className = "lane";
  const now = turn.speaking ? slotName(ev, turn.speaking) : S["report.none_yet"];
  const what = span("lane-now", "");
  what.append(span("muted", `${S["report.now"]} : `), span("", now));
  what.title = `${S["report.now"]} : ${now}`;
  p.append(span("countdown small-count lane-count"), " ", what);
  what.hidden = !turn.speaking; // before the first, the button says it all
  const next = document.createElement("button");
  next.type = "button";
  next.className = "small";
  next.dataset.cmd = "queue.next";
  next.dataset.lane = id;
  next.disabled = !turn.speaking && !turn.next;
  next.textContent = turn.speaking || !turn.next ? S["report.next"] : S["report.first"];
  next.setAttribute("aria-label", `${next.textContent} : ${title}`);
  p.prepend(next, " ");
  return p;
}

function renderWorkshops(state) {
  const ids = Object.keys(state.workshops);
  $("workshops-card").hidden = !ids.length;
  $("workshop-timers").replaceChildren(
    ...ids.map((id) => {
      const t = state.workshops[id];
      const title = workshopName(ev, id);
      const li = row("workshop-row", id, title);
      // Seen: the theme, and under it the site (buttons still name the whole workshop).
      const w = ev.workshops[id];
      if (w && ev.sites.length > 1) {
        li.querySelector(".title").textContent = workshopName(ev, id, true);
        li.querySelector(".site").textContent = siteName(w.site);
      }
      li.dataset.status = t.status;
      li.querySelector(".status").textContent = STATUS[t.status] || t.status;
      for (const b of li.querySelectorAll("button")) {
        b.hidden = (b.dataset.cmd === "workshop.reopen") !== (t.status === "done");
      }
      const lane = laneLine(state, id, title);
      if (lane) li.querySelector(".ws-lane").append(lane);
      return li;
    }),
  );
}

function renderQueue(state) {
  $("queue-card").hidden = !state.queue.length;
  $("btn-queue-next").disabled = !state.queue.some((s) => s.status === "pending" || s.status === "speaking");
  const last = state.queue.length - 1;
  $("queue").replaceChildren(
    ...state.queue.map((slot, i) => {
      const title = slotName(ev, slot);
      const minutes = `${title} (${Math.round(slot.duration_ms / 60000)} min)`;
      const li = slot.report ? row("queue-row", slot.report, minutes, "report") : row("queue-row", slot.workshop, minutes);
      // Seen: the workshop's theme, its site, its minutes, each in its own column.
      li.querySelector(".title").textContent = title;
      const w = !slot.report && ev.workshops[slot.workshop];
      if (w && ev.sites.length > 1) {
        li.querySelector(".title").textContent = workshopName(ev, slot.workshop, true);
        li.querySelector(".site").textContent = siteName(w.site);
      }
      li.querySelector(".minutes").textContent = `${Math.round(slot.duration_ms / 60000)} min`;
      li.dataset.status = slot.status;
      li.querySelector(".status").textContent = SLOT[slot.status] || slot.status;
      const [up, down, skip] = li.querySelectorAll("button");
      for (const b of [up, down, skip]) b.setAttribute("aria-label", `${b.dataset.label} ${title}`);
      up.dataset.position = String(i - 1);
      down.dataset.position = String(i + 1);
      up.hidden = i === 0;
      down.hidden = i === last;
      skip.hidden = !(slot.status === "pending" || slot.status === "speaking");
      return li;
    }),
  );
}

function tick() {
  const state = conn.state;
  if (!state) return;
  const now = conn.now();
  const t = isEnded(state) ? null : state.timer;
  const cd = $("countdown");
  setText(cd, t ? format(remaining(t, now)) : "--:--");
  cd.dataset.phase = t && t.status === "paused" ? "paused" : phase(t, now, ev.timers);
  for (const li of document.querySelectorAll("#workshop-timers li")) {
    const wt = state.workshops[li.dataset.workshop];
    const el = li.querySelector(".ws-countdown");
    if (wt && el) {
      setText(el, format(remaining(wt, now)));
      el.dataset.phase = phase(wt, now, ev.timers);
    }
    const turn = laneTurn(state, li.dataset.workshop);
    const lc = li.querySelector(".lane-count");
    if (lc) setText(lc, turn && turn.timer ? format(remaining(turn.timer, now)) : "");
  }
  setText($("speaker-countdown"), state.speaker ? format(remaining(state.speaker, now)) : "--:--");
  const sch = isEnded(state) ? null : schedule(state, ev, now);
  if (sch) {
    const min = Math.round(Math.abs(sch.drift) / 60000);
    setText($("drift"), min === 0 ? S.on_time : `${minutesText(sch.drift)} ${sch.drift > 0 ? S.behind : S.ahead}`);
    setText($("projected-end"), timeOfDay(sch.projectedEnd, ev.timezone));
  }
}

const conn = start({
  cfg,
  onState: render,
  onError: (e) => setText($("error"), e.message),
  onPending: waiting,
  tick,
});
onReconnect(conn, plenary.reconnected);
