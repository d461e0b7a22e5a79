// Public and participant pages: the agenda with the live step and its countdown; who
// speaks and who is next; this site's workshop timers (or the person's own workshop's,
// extensions included); pause and end.
import { page, start } from "./live.js";
import { format, remaining, setText } from "./clock.js";
import {
  caption,
  currentStep,
  isEnded,
  isPaused,
  mainTimer,
  markAgenda,
  nowLine,
  fillBanner,
  laneTurn,
  roomLabel,
  shownMessages,
  siteWorkshops,
  slotName,
  span,
  stepRoom,
  workshopName,
  workshopRows,
} from "./show.js";

const { cfg, ev, S, $ } = page();

// The person's own workshop now: with one per round, the one whose timer runs (the page
// stays open from one round to the next), else the one the page was opened with.
function own(state) {
  return (cfg.workshops || []).find((id) => state.workshops[id]) || cfg.workshop;
}

// The workshop timers this phone lists: none for a person with their own workshop (it
// is the main countdown), else those of the phone's site; on the public page of the day
// (no site), the workshops presenting experience reports in turn, whatever their site.
function listed(state) {
  const mine = own(state);
  if (isEnded(state) || (mine && state.workshops[mine])) return [];
  if (cfg.site) return siteWorkshops(state, ev, cfg.site);
  return Object.keys(state.lanes || {})
    .filter((id) => state.workshops[id])
    .map((id) => ({ id, timer: state.workshops[id] }));
}

// "En cours : Moodle en seconde — Équipe du lycée Poincaré" for a workshop's reports.
function reportLine(turn) {
  if (!turn || !turn.speaking) return "";
  return `${S["report.now"]} : ${slotName(ev, turn.speaking)}`;
}

// A person's own workshop presenting experience reports: which one now, which next.
function renderOwnReports(state) {
  const mine = own(state);
  const turn = mine ? laneTurn(state, mine) : null;
  const line = [];
  if (turn && turn.speaking) line.push(reportLine(turn));
  if (turn && turn.next) line.push(`${S.speaks_next} : ${slotName(ev, turn.next)}`);
  $("now-reports").hidden = !line.length || isEnded(state);
  setText($("now-reports"), line.join(" · "));
}

function render(state) {
  const ended = isEnded(state);
  // After the end the card says so once, as its heading ("Événement terminé", not "En
  // cours" above it), and nobody is invited to register any more.
  setText($("now-title"), ended ? S.ended : S.now);
  $("now-step").hidden = ended;
  setText($("now-step"), nowLine(state, ev, S));
  if ($("register-link")) $("register-link").parentElement.hidden = ended;
  $("now-paused").hidden = !isPaused(state);
  const step = ended ? null : currentStep(state, ev);
  // Who speaks follows the floor, as on the screens: "Parole à : <site>" once given.
  const said = caption(state, step, ev, S);
  const line = [];
  if (said.speaking) line.push(`${S.speaking_now} : ${said.speaking}`);
  if (said.next) line.push(`${S.speaks_next} : ${said.next}`);
  if (said.speakers) line.push(said.speakers);
  // During a round, the person's own workshop and its room: where to be, not only how
  // long is left (with one workshop per round, the one whose timer runs).
  const ownId = own(state);
  const ownNow = !ended && ownId && state.workshops[ownId] ? ev.workshops[ownId] : null;
  const ownRoom = ownNow ? roomLabel(ownNow.room, S) : "";
  const room = stepRoom(step, cfg.site, S);
  const where = ownNow
    ? `${S.your_workshop} : ${workshopName(ev, ownId, true)}${ownRoom ? ` — ${ownRoom}` : ""}`
    : room
      ? `${S["step.where"]} : ${room}`
      : "";
  $("now-room").hidden = !where;
  setText($("now-room"), where);
  $("now-speakers").hidden = !line.length;
  setText($("now-speakers"), line.join(" · "));
  markAgenda($("agenda"), state);
  const mine = listed(state);
  // A site's only workshop is the main countdown already; a report lane is listed alone.
  $("now-workshops").hidden = cfg.site ? mine.length < 2 : !mine.length;
  workshopRows(
    $("now-workshops"),
    mine.map((w) => w.id),
    (id) => {
      const room = roomLabel(ev.workshops[id]?.room, S);
      const where = `${workshopName(ev, id, true)}${room ? ` — ${room}` : ""}`;
      // One row, one grid (relais.css, "Phones"): the timer cannot float into another row.
      return [span("ws-where", where), span("ws-time", "", "strong"), span("ws-report")];
    },
  );
  for (const li of $("now-workshops").querySelectorAll("li[data-workshop]")) {
    setText(li.querySelector(".ws-report"), reportLine(laneTurn(state, li.dataset.workshop)));
  }
  renderOwnReports(state);
  fillBanner($("banner"), shownMessages(state, cfg.site));
  tick();
}

function tick() {
  const state = conn.state;
  if (!state) return;
  const now = conn.now();
  const mine = own(state);
  const timer = mainTimer(state, ev, { site: cfg.site, workshop: mine });
  let label = S.time_left;
  if (mine && state.workshops[mine] && !state.speaker) label = S.your_workshop;
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

const conn = start({ cfg, onState: render, tick });
