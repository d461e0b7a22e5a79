// The console's polls (the "Sondages" card of console.html): ask a question to one
// workshop, one site or everyone, see its results live, close it.
//
// A poll's results reach the participation sockets that follow a workshop it is asked
// to, so the console follows one workshop per site (every site's and everyone's polls),
// and the workshop a workshop's poll is asked to once it asks one; it sends each poll
// through the socket of a workshop that will hear of it.
import { config } from "./live.js";
import { Participation } from "./participation.js";
import { renderPoll } from "./poll-results.js";

const cfg = config();
const ev = cfg.event;
const S = cfg.strings;
const $ = (id) => document.getElementById(id);
const card = $("polls-card");
const sockets = new Map(); // workshop id -> Participation
const heard = new Map(); // poll id -> the socket that heard of it (closes it)

function workshops() {
  return Object.entries(ev.workshops || {}).map(([id, w]) => ({ id, ...w }));
}

// The workshop whose socket hears of a poll asked to this audience.
function anchor(scope, target) {
  if (scope === "workshop") return target;
  const all = workshops();
  const w = scope === "site" ? all.find((x) => x.site === target) : all[0];
  return w ? w.id : null;
}

function socket(workshop) {
  let part = sockets.get(workshop);
  if (!part) {
    part = new Participation({ eventId: ev.id, token: cfg.token, workshop, lang: cfg.lang, onChange: render });
    sockets.set(workshop, part);
    part.connect();
  }
  return part;
}

// Every poll any socket knows, each from the socket that heard of it last.
function polls() {
  const all = new Map();
  const parts = [...sockets.values()].sort((a, b) => (a.seq || 0) - (b.seq || 0));
  for (const part of parts) for (const [id, poll] of part.polls) all.set(id, { poll, part });
  return [...all.values()].sort((a, b) => Number(b.poll.id.slice(1)) - Number(a.poll.id.slice(1)));
}

function audience(poll) {
  if (poll.scope === "everyone") return S["poll.scope.everyone"];
  if (poll.scope === "site") return (ev.sites.find((s) => s.id === poll.target) || {}).name || poll.target;
  return (ev.workshops[poll.target] || {}).title || poll.target;
}

function render() {
  const list = $("polls-list");
  const shown = new Map([...list.children].map((li) => [li.dataset.poll, li]));
  const rows = polls().map(({ poll, part }) => {
    let li = shown.get(poll.id);
    if (!li) {
      li = document.createElement("li");
      li.dataset.poll = poll.id;
      const meta = document.createElement("p");
      meta.className = "poll-meta muted";
      const results = document.createElement("div");
      results.className = "poll";
      const close = document.createElement("button");
      close.type = "button";
      close.className = "small poll-close";
      close.textContent = S["poll.close"];
      const error = document.createElement("p");
      error.className = "error";
      error.setAttribute("role", "alert");
      close.addEventListener("click", async () => {
        error.textContent = "";
        try {
          await heard.get(poll.id).command("poll_close", { poll: poll.id });
        } catch (e) {
          error.textContent = e.message || e.code;
        }
      });
      li.append(meta, results, close, error);
    }
    heard.set(poll.id, part);
    const status = poll.status === "open" ? S["poll.open"] : S["poll.closed"];
    li.querySelector(".poll-meta").textContent = `${audience(poll)} · ${S[`poll.kind.${poll.kind}`]} · ${status}`;
    renderPoll(li.querySelector(".poll"), poll, S);
    li.querySelector(".poll-close").hidden = poll.status !== "open";
    return li;
  });
  list.replaceChildren(...rows);
  $("polls-none").hidden = rows.length > 0;
}

function fillTargets() {
  const scope = $("poll-scope").value;
  const select = $("poll-target");
  const options =
    scope === "workshop"
      ? workshops().map((w) => [w.id, w.title])
      : scope === "site"
        ? ev.sites.filter((s) => workshops().some((w) => w.site === s.id)).map((s) => [s.id, s.name])
        : [];
  select.replaceChildren(
    ...options.map(([value, text]) => Object.assign(document.createElement("option"), { value, textContent: text })),
  );
  select.disabled = scope === "everyone";
  $("poll-target-row").hidden = scope === "everyone";
}

async function ask(e) {
  e.preventDefault();
  const error = $("poll-error");
  error.textContent = "";
  const scope = $("poll-scope").value;
  const target = scope === "everyone" ? "" : $("poll-target").value;
  const options = $("poll-options")
    .value.split("\n")
    .map((o) => o.trim())
    .filter(Boolean);
  const workshop = anchor(scope, target);
  if (!workshop) {
    error.textContent = S["poll.no_workshop"];
    return;
  }
  const args = { scope, target, kind: $("poll-kind").value, question: $("poll-question").value, options };
  try {
    await socket(workshop).command("poll_open", args);
    $("poll-form").reset();
    fillTargets();
  } catch (err) {
    error.textContent = err.message || err.code;
  }
}

if (card) {
  $("poll-scope").addEventListener("change", fillTargets);
  $("poll-form").addEventListener("submit", ask);
  fillTargets();
  for (const site of ev.sites) {
    const w = anchor("site", site.id);
    if (w) socket(w);
  }
  render();
}
