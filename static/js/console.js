// The facilitator console: every control of the agenda, keyboard shortcuts, the
// parallel workshop timers, the speaking queue and the schedule drift.
import { config, LiveConnection } from "./live.js";
import { everyFrame, format, phase, remaining, schedule, setText, timeOfDay } from "./clock.js";

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
  onError: (e) => setText($("error"), e.message),
});

function send(name, args = {}) {
  setText($("error"), "");
  return conn.command(name, args).catch((e) => setText($("error"), e.message || String(e)));
}

function button(label, name, args, extra = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small";
  b.textContent = label;
  if (extra.aria) b.setAttribute("aria-label", extra.aria);
  b.addEventListener("click", () => send(name, args));
  return b;
}

document.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-cmd]");
  if (!b) return;
  const args = {};
  if (b.dataset.minutes) args.minutes = Number(b.dataset.minutes);
  if (b.dataset.index) args.index = Number(b.dataset.index);
  send(b.dataset.cmd, args);
});

$("message-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("msg-text").value.trim();
  const site = $("msg-site").value || null;
  if (text) send("message.show", site ? { text, site } : { text });
});

document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
  const state = conn.state;
  const keys = {
    ArrowRight: () => send("step.next"),
    ArrowLeft: () => send("step.previous"),
    " ": () => send(state && state.timer && state.timer.status === "running" ? "timer.pause" : "timer.resume"),
    "+": () => send("timer.adjust", { minutes: 1 }),
    "-": () => send("timer.adjust", { minutes: -1 }),
    r: () => send("timer.reset"),
    n: () => send("queue.next"),
  };
  const fn = keys[e.key] || keys[e.key.toLowerCase()];
  if (fn) {
    e.preventDefault();
    fn();
  }
});

function render(state) {
  const step = state.step === null ? null : ev.agenda[state.step];
  setText($("step-title"), step ? `${step.start} · ${step.title}` : S.not_started);
  const status = state.timer ? state.timer.status : "idle";
  setText($("timer-status"), S[status] || status);
  $("btn-pause").hidden = status !== "running";
  $("btn-resume").hidden = status !== "paused";
  $("btn-start").hidden = status === "running" || status === "paused";
  for (const li of document.querySelectorAll("#agenda li")) {
    const i = Number(li.dataset.step);
    li.classList.toggle("current", state.step === i);
    li.classList.toggle("past", state.step !== null && i < state.step);
    if (state.step === i) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  }
  renderWorkshops(state);
  renderQueue(state);
  const m = state.message;
  setText($("message-current"), m.visible ? `« ${m.text} »${m.site ? ` → ${m.site}` : ""}` : "");
  tick();
}

function renderWorkshops(state) {
  const ids = Object.keys(state.workshops);
  $("workshops-card").hidden = !ids.length;
  const ul = $("workshop-timers");
  ul.replaceChildren();
  for (const id of ids) {
    const t = state.workshops[id];
    const title = ev.workshops[id]?.title || id;
    const li = document.createElement("li");
    li.dataset.workshop = id;
    li.dataset.status = t.status;
    const name = document.createElement("span");
    name.className = "title";
    name.textContent = title;
    const time = document.createElement("span");
    time.className = "countdown small-count";
    const status = document.createElement("span");
    status.className = "muted";
    status.textContent = t.status === "done" ? S.closed : S[t.status] || t.status;
    li.append(name, time, status);
    if (t.status === "done") {
      li.append(button(S.reopen, "workshop.reopen", { workshop: id }, { aria: `${S.reopen} ${title}` }));
    } else {
      li.append(
        button("+1", "workshop.adjust", { workshop: id, minutes: 1 }, { aria: `+1 min ${title}` }),
        button("+5", "workshop.adjust", { workshop: id, minutes: 5 }, { aria: `+5 min ${title}` }),
        button(S.close, "workshop.close", { workshop: id }, { aria: `${S.close} ${title}` }),
      );
    }
    ul.append(li);
  }
}

function renderQueue(state) {
  $("queue-card").hidden = !state.queue.length;
  const ol = $("queue");
  ol.replaceChildren();
  state.queue.forEach((slot, i) => {
    const title = ev.workshops[slot.workshop]?.title || slot.workshop;
    const li = document.createElement("li");
    li.dataset.workshop = slot.workshop;
    li.dataset.status = slot.status;
    const name = document.createElement("span");
    name.className = "title";
    name.textContent = `${title} (${Math.round(slot.duration_ms / 60000)} min)`;
    const status = document.createElement("span");
    status.className = "muted";
    status.textContent = S[slot.status] || slot.status;
    li.append(name, status);
    if (i > 0) li.append(button("↑", "queue.move", { workshop: slot.workshop, position: i - 1 }, { aria: `${S["queue.up"]} ${title}` }));
    if (i < state.queue.length - 1) li.append(button("↓", "queue.move", { workshop: slot.workshop, position: i + 1 }, { aria: `${S["queue.down"]} ${title}` }));
    if (slot.status === "pending" || slot.status === "speaking") {
      li.append(button(S["queue.skip"], "queue.skip", { workshop: slot.workshop }, { aria: `${S["queue.skip"]} ${title}` }));
    }
    ol.append(li);
  });
}

function tick() {
  const state = conn.state;
  if (!state) return;
  const now = conn.now();
  const t = state.timer;
  const cd = $("countdown");
  setText(cd, t ? format(remaining(t, now)) : "--:--");
  cd.dataset.phase = phase(t, now, ev.timers);
  for (const li of document.querySelectorAll("#workshop-timers li")) {
    const wt = state.workshops[li.dataset.workshop];
    const el = li.querySelector(".countdown");
    if (wt && el) {
      setText(el, format(remaining(wt, now)));
      el.dataset.phase = phase(wt, now, ev.timers);
    }
  }
  setText($("speaker-countdown"), state.speaker ? format(remaining(state.speaker, now)) : "--:--");
  const sch = schedule(state, ev, now);
  if (sch) {
    const min = Math.round(Math.abs(sch.drift) / 60000);
    setText($("drift"), min === 0 ? S.on_time : `${min} min ${sch.drift > 0 ? S.behind : S.ahead}`);
    setText($("projected-end"), timeOfDay(sch.projectedEnd, ev.timezone));
  }
}

conn.connect();
everyFrame(tick);
