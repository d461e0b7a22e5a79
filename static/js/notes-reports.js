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

// Start the panel, if the page has one. `cfg` is the page's configuration (the event id,
// the rapporteur's token, the page language, the workshop and its reports).
export function startReports(cfg, S) {
  const panel = document.getElementById("notes-reports");
  if (!panel || !cfg.reports || !cfg.reports.length) return null;
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
  let online = false;
  let sending = false;
  let lost = ""; // why the server ended the live connection, if it said
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
    if (!online) reason = lost || S["notes.reports.offline"];
    // Not disabled while a press is on its way (the guard below): the button keeps the focus.
    button.disabled = !online || !view || !view.enabled;
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

  const conn = new LiveConnection({
    eventId: cfg.event,
    token: cfg.token,
    lang: cfg.lang,
    onState: show,
    onStatus: (ok) => {
      online = ok;
      if (ok) lost = "";
      show();
    },
    onError: (msg) => {
      if (!msg.id && msg.code !== "rate_limited") {
        lost = msg.message; // about the connection (a revoked link...), not one command
        show();
      }
    },
  });

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

  conn.connect();
  everyFrame(tick);
  return conn;
}
