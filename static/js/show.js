// What every page derives from the live state in the same way: the step and its label,
// who speaks and who is next, a site's workshop timers, the countdown to show, pause
// and end. Pure functions of (state, event); the pages only put the result in the DOM.

export function currentStep(state, ev) {
  return state.step === null ? null : ev.agenda[state.step];
}

export function isEnded(state) {
  return state.ended !== null && state.ended !== undefined;
}

export function isPaused(state) {
  return !isEnded(state) && !!state.timer && state.timer.status === "paused";
}

// The kind of a step, unless its title already says it ("Pause" / "PAUSE").
export function kindLabel(step, S) {
  const kind = S[`kind.${step.kind}`] || "";
  return kind.toLowerCase() === step.title.trim().toLowerCase() ? "" : kind;
}

// In a restitution: the slot speaking now and the next one waiting (queue order).
export function speakers(state) {
  const speaking = state.queue.find((s) => s.status === "speaking") || null;
  const next = state.queue.find((s) => s.status === "pending") || null;
  return { speaking, next };
}

export function workshopName(ev, id, short = false) {
  const w = ev.workshops[id];
  if (!w) return id;
  return short ? w.short : w.title;
}

// What a turn in a queue is called: an experience report's title and its presenters,
// else its workshop's name.
export function slotName(ev, slot, short = false) {
  if (!slot.report) return workshopName(ev, slot.workshop, short);
  const r = ev.reports && ev.reports[slot.report];
  if (!r) return slot.report;
  return r.presenters.length ? `${r.title} — ${r.presenters.join(", ")}` : r.title;
}

// During a workshops step, a workshop presenting experience reports in turn: the report
// presented now, the next one, and the countdown of the one presented (null without).
export function laneTurn(state, workshop) {
  const lane = state.lanes && state.lanes[workshop];
  if (!lane) return null;
  const speaking = lane.queue.find((s) => s.status === "speaking") || null;
  const next = lane.queue.find((s) => s.status === "pending") || null;
  return { speaking, next, timer: lane.speaker };
}

// The messages a place shows: the one to every site, then its own site's (the server
// sends a place only the messages it may read; the régie reads them all).
export function shownMessages(state, site) {
  const out = [];
  if (state.message.visible) out.push(state.message.text);
  const own = site && state.site_messages ? state.site_messages[site] : null;
  if (own && own.visible) out.push(own.text);
  return out;
}

// Put `texts` in a banner, one line each; hidden when there is none.
export function fillBanner(banner, texts) {
  banner.hidden = !texts.length;
  const key = JSON.stringify(texts);
  if (banner.dataset.texts === key) return;
  banner.dataset.texts = key;
  banner.replaceChildren(...texts.map((t) => span("banner-line", t)));
}

// "101" reads "Salle 101"; "Salle 101", "CDI" or "Amphi A" read as they are.
export function roomLabel(room, S) {
  if (!room) return "";
  return /^\d/.test(room) ? `${S.room} ${room}` : room;
}

// "Name, role (Site) — remote": one speaker as the pages show them (model.speaker_label).
export function speakerLabel(sp, ev, S) {
  const site = sp.site ? ev.sites.find((s) => s.id === sp.site) : null;
  let label = [sp.name, sp.role].filter(Boolean).join(", ");
  if (site) label += ` (${site.name})`;
  return sp.remote ? `${label} — ${S["speaker.remote"]}` : label;
}

// A step's speakers on one line, with their roles.
export function stepSpeakers(step, ev, S) {
  return ((step && step.speakers) || []).map((sp) => speakerLabel(sp, ev, S)).join(" · ");
}

// The site that has the floor of the plenary, by name: while the step has the video on
// and the régie gave the floor to a site, the picture is that site's room (null when the
// floor is the speaker's, or there is no picture).
export function floorSite(state, step, ev) {
  if (!step || !step.video || isEnded(state)) return null;
  const floor = state.floor || "speaker";
  if (!floor.startsWith("site:")) return null;
  const id = floor.slice("site:".length);
  return ev.sites.find((s) => s.id === id)?.name || id;
}

// The caption under a step on screens and phones: who speaks now and who is next. The
// floor comes first: a site given the floor speaks (with the turn it speaks for, if a
// queue runs), not the step's speakers; then a queue's turns; else the step's speakers.
export function caption(state, step, ev, S) {
  const none = { speaking: "", next: "", speakers: "" };
  if (!step || isEnded(state)) return none;
  const site = floorSite(state, step, ev);
  const { speaking, next } = speakers(state);
  const turn = speaking ? slotName(ev, speaking) : "";
  return {
    // A turn named after its workshop names its site already ("… — Lycée …, Niort").
    speaking: site && !turn.includes(site) ? [site, turn].filter(Boolean).join(" — ") : turn,
    next: next ? slotName(ev, next) : "",
    speakers: site || state.queue.length ? "" : stepSpeakers(step, ev, S),
  };
}

// Where `site`'s people gather for this step ("" when the event does not say).
export function stepRoom(step, site, S) {
  const room = step && site && step.rooms ? step.rooms[site] : "";
  return room ? roomLabel(room, S) : "";
}

// The workshop timers of this step held at `site` (all of them without a site).
export function siteWorkshops(state, ev, site) {
  return Object.keys(state.workshops)
    .filter((id) => !site || !ev.workshops[id] || ev.workshops[id].site === site)
    .map((id) => ({ id, timer: state.workshops[id] }));
}

// The countdown a place shows: the speaker's during a restitution; a workshop's own
// (extensions included) where the place is that workshop; else the step's.
export function mainTimer(state, ev, { site = null, workshop = null } = {}) {
  if (isEnded(state)) return null;
  if (state.speaker) return state.speaker;
  if (workshop && state.workshops[workshop]) return state.workshops[workshop];
  const mine = siteWorkshops(state, ev, site);
  if (site && mine.length === 1) return mine[0].timer;
  return state.timer;
}

// "14:15 · Ateliers", or that the event has not started, or that it has ended.
export function nowLine(state, ev, S) {
  if (isEnded(state)) return S.ended;
  const step = currentStep(state, ev);
  return step ? `${step.start} · ${step.title}` : S.not_started;
}

// Mark the agenda list (`<li data-step>` items): the current step, the past ones.
export function markAgenda(list, state) {
  const ended = isEnded(state);
  for (const li of list.querySelectorAll("li[data-step]")) {
    const i = Number(li.dataset.step);
    const current = state.step === i && !ended;
    li.classList.toggle("current", current);
    li.classList.toggle("past", state.step !== null && (i < state.step || ended));
    if (current) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  }
}

// One `<li data-workshop>` per workshop id, rebuilt only when the ids change (a countdown
// then updates its text in place, ten times a second, without touching the list).
export function workshopRows(list, ids, make) {
  const key = ids.join(" ");
  if (list.dataset.ids === key) return;
  list.dataset.ids = key;
  list.replaceChildren(
    ...ids.map((id) => {
      const li = document.createElement("li");
      li.dataset.workshop = id;
      li.append(...make(id));
      return li;
    }),
  );
}

export function span(className, text = "", tag = "span") {
  const el = document.createElement(tag);
  if (className) el.className = className;
  el.textContent = text;
  return el;
}
