// The rapporteur's live panel on its notes page: whether its workshop's notes are on the
// site screens (now, in N minutes after whom, already shown), and its experience reports
// called in turn. One live connection, opened with the page's own rapporteur link, feeds
// both; it only reads the state, except for `report.next`.
//
// The on-screen line reads the step's speaking queue: the screens show the notes of the
// workshop whose turn is speaking, so "in N min" is the speaker's time left plus the slots
// waiting before ours (mirrors `agenda.state.step_end`'s sum).
//
// The rapporteur calls its workshop's experience reports in turn, from its notes page.
//
// The page opens the live connection with its own rapporteur link and sends `report.next`
// (the server fills in the workshop from the link). During a workshops step the workshop's
// reports run in its own lane (`state.lanes[workshop]`); during a restitution that queues
// reports they are turns in the step's queue, and the button only works while the turn
// (the one speaking, or else the next waiting) is one of this workshop's. The button says
// why when it cannot be pressed; a refusal from the server is shown as it is sent, in the
// page's language.
import { everyFrame, format, remaining, setText } from "./clock.js";
import { LiveConnection } from "./live.js";

// Which queue holds this workshop's reports now, if any: its lane, or the step's queue.
function queueOf(state, workshop, mine) {
  if (!state || state.step === null) return null;
  const lane = state.lanes && state.lanes[workshop];
  if (lane) return { slots: lane.queue, speaker: lane.speaker };
  if (state.queue.some((s) => mine.has(s.report))) return { slots: state.queue, speaker: state.speaker };
  return null;
}

// What the panel shows for a state: each report's status, the one presented and its
// timer, the button's label, whether it may be pressed and, if not, why.
export function reportsView(state, workshop, reportIds, S, steps = []) {
  const mine = new Set(reportIds);
  const status = Object.fromEntries(reportIds.map((id) => [id, "pending"]));
  const q = queueOf(state, workshop, mine);
  const view = { status, speaking: null, timer: null, label: S["notes.reports.start"] };
  if (!q) {
    const when = steps.length ? S["notes.reports.when"].replace("{steps}", steps.join(", ")) : "";
    return { ...view, enabled: false, why: [S["notes.reports.not_now"], when].filter(Boolean).join(" ") };
  }
  for (const slot of q.slots) if (mine.has(slot.report)) status[slot.report] = slot.status;
  const ours = q.slots.filter((s) => mine.has(s.report));
  const speaking = q.slots.find((s) => s.status === "speaking");
  const turn = speaking || q.slots.find((s) => s.status === "pending");
  if (speaking && mine.has(speaking.report)) {
    view.speaking = speaking.report;
    view.timer = q.speaker;
  }
  if (speaking) {
    // Pressing closes the turn speaking and calls the next one waiting: say which it does.
    const after = q.slots.slice(q.slots.indexOf(speaking) + 1).find((s) => s.status === "pending");
    view.label = after && mine.has(after.report) ? S["notes.reports.next"] : S["notes.reports.finish"];
  } else if (ours.some((s) => s.status !== "pending")) {
    view.label = S["notes.reports.next"];
  }
  if (state.ended !== null) return { ...view, enabled: false, why: S["notes.reports.ended"] };
  if (!turn) return { ...view, enabled: false, why: S["notes.reports.all_done"] };
  if (!mine.has(turn.report)) {
    const left = ours.some((s) => s.status === "pending");
    const reason = left ? S["notes.reports.not_your_turn"] : S["notes.reports.all_done"];
    return { ...view, enabled: false, why: reason };
  }
  return { ...view, enabled: true, why: "" };
}

// What the on-screen line says for a state at `now`: `when` is "now", "soon", "done",
// "later" or "" (nothing to say), `text` the sentence, `timer` our turn's countdown.
export function onScreenView(state, workshop, screen, S, now) {
  const done = { when: "done", text: S["notes.onscreen.done"], timer: null };
  if (state && state.ended !== null) return { when: "", text: S["notes.reports.ended"], timer: null };
  const queue = (state && state.step !== null && state.queue) || [];
  const ours = queue.filter((s) => s.workshop === workshop);
  if (!ours.length) {
    // Not in this step: the steps that will show our notes and have not begun yet.
    const started = (state && state.started) || {};
    const ahead = screen.steps.filter((st) => !(st.id in started)).map((st) => st.label);
    if (!ahead.length) return done;
    return { when: "later", text: S["notes.onscreen.later"].replace("{steps}", ahead.join(", ")), timer: null };
  }
  if (ours.some((s) => s.status === "speaking")) return { when: "now", text: S["notes.onscreen.now"], timer: state.speaker };
  const first = ours.find((s) => s.status === "pending");
  if (!first) return done;
  const before = queue.slice(0, queue.indexOf(first));
  let ms = 0;
  for (const s of before) {
    if (s.status === "pending") ms += s.duration_ms;
    if (s.status === "speaking" && state.speaker) ms += Math.max(0, remaining(state.speaker, now));
  }
  const previous = before.reverse().find((s) => s.status === "pending" || s.status === "speaking");
  if (!previous) return { when: "soon", text: S["notes.onscreen.first"], timer: null };
  const minutes = String(Math.max(1, Math.ceil(ms / 60000)));
  const title = screen.names[previous.report || previous.workshop] || previous.workshop;
  const text = S["notes.onscreen.in"].replace("{minutes}", minutes).replace("{title}", title);
  return { when: "soon", text, timer: null };
}

// The on-screen line: its sentence changes with the state (and its minutes with time); its
// countdown ticks apart from it, so the live region does not speak every second.
function onScreenLine(line, cfg, S, conn, link) {
  const text = line.querySelector("#notes-onscreen-text");
  const clock = line.querySelector("#notes-onscreen-clock");
  let said = "";
  function tick() {
    const view = link.online && conn.state ? onScreenView(conn.state, cfg.workshop, cfg.screen, S, conn.now()) : null;
    const sentence = view ? view.text : link.lost || S["notes.reports.offline"];
    if (sentence !== said) setText(text, (said = sentence));
    line.dataset.when = view ? view.when : "unknown";
    clock.hidden = !(view && view.timer);
    if (view && view.timer) {
      const paused = view.timer.status === "paused" ? ` (${S["notes.reports.paused"]})` : "";
      setText(clock, format(remaining(view.timer, conn.now())) + paused);
    }
  }
  return { show: tick, tick };
}

// The reports panel: each report's status, the one presented and its timer, the button.
function reportsPanel(panel, cfg, S, conn, link) {
  const $ = (id) => document.getElementById(id);
  const button = $("notes-reports-next");
  const why = $("notes-reports-why");
  const refused = $("notes-reports-refused");
  const ids = cfg.reports.map((r) => r.id);
  const titles = Object.fromEntries(cfg.reports.map((r) => [r.id, r.title]));
  const said = {
    speaking: S["notes.reports.speaking"],
    done: S["notes.reports.done"],
    skipped: S["notes.reports.skipped"],
  };
  let sending = false;
  let view = null;
  let refusedAt = null; // the state a refusal was about: it goes once the state moves on

  function refuse(message) {
    setText(refused, message || "");
    refused.hidden = !message;
    refusedAt = message ? conn.seq : null;
  }

  function show() {
    const state = conn.state;
    if (refusedAt !== null && conn.seq !== refusedAt) refuse("");
    view = state ? reportsView(state, cfg.workshop, ids, S, cfg.report_steps || []) : null;
    for (const li of panel.querySelectorAll("li[data-report]")) {
      const st = view ? view.status[li.dataset.report] : "pending";
      li.dataset.status = st;
      if (st === "speaking") li.setAttribute("aria-current", "true");
      else li.removeAttribute("aria-current");
      setText(li.querySelector(".notes-report-status"), said[st] || "");
    }
    $("notes-reports-now").hidden = !(view && view.speaking);
    if (view && view.speaking) {
      setText($("notes-reports-speaking"), S["notes.reports.now"].replace("{title}", titles[view.speaking]));
    }
    if (view) setText(button, view.label);
    let reason = view ? view.why : S["notes.connecting"];
    if (!link.online) reason = link.lost || S["notes.reports.offline"];
    // Not disabled while a press is on its way (the guard below): the button keeps the focus.
    button.disabled = !link.online || !view || !view.enabled;
    setText(why, reason);
    panel.dataset.ready = view ? "1" : "0";
    tick();
  }

  function tick() {
    if (!view || !view.timer) return;
    const t = view.timer;
    const left = format(remaining(t, conn.now()));
    const paused = t.status === "paused" ? ` (${S["notes.reports.paused"]})` : "";
    setText($("notes-reports-clock"), left + paused);
  }

  button.addEventListener("click", async () => {
    if (button.disabled || sending) return;
    sending = true;
    refuse("");
    try {
      await conn.command("report.next");
    } catch (msg) {
      refuse(msg.message || msg.code);
    } finally {
      sending = false;
      show();
    }
  });
  return { show, tick };
}

// Start the live panel, if the page has one. `cfg` is the page's configuration (the event
// id, the rapporteur's token, the page language, the workshop, when its notes go on
// screen and its reports).
export function startReports(cfg, S) {
  const line = document.getElementById("notes-onscreen");
  const panel = document.getElementById("notes-reports");
  const withLine = Boolean(line && cfg.screen);
  const withPanel = Boolean(panel && cfg.reports && cfg.reports.length);
  if (!withLine && !withPanel) return null;
  const link = { online: false, lost: "" }; // `lost`: why the server ended the connection
  const parts = [];
  const show = () => parts.forEach((p) => p.show());
  const conn = new LiveConnection({
    eventId: cfg.event,
    token: cfg.token,
    lang: cfg.lang,
    onState: show,
    onStatus: (ok) => {
      link.online = ok;
      if (ok) link.lost = "";
      show();
    },
    onError: (msg) => {
      if (!msg.id && msg.code !== "rate_limited") {
        link.lost = msg.message; // about the connection (a revoked link...), not one command
        show();
      }
    },
  });
  if (withLine) parts.push(onScreenLine(line, cfg, S, conn, link));
  if (withPanel) parts.push(reportsPanel(panel, cfg, S, conn, link));
  conn.connect();
  everyFrame(() => parts.forEach((p) => p.tick()));
  return conn;
}
