// What the participation adds to a site screen (screen.js):
// - while a workshop reports in a restitution, its retained proposals with their support
//   counts, most supported first (the server's order), under its notes; the screen follows
//   the workshop that has the floor, reconnecting to the next one as the turn passes;
// - the open polls asked to this site or to everyone, their results live as bars.
// Both come from the participation socket (participation.js), with the screen's link.
import { Participation } from "./participation.js";
import { renderPoll } from "./poll-results.js";

// The screens' order (views.screen_view): a facilitator's link opening a screen is told
// every proposal instead, so the same list is made from them.
function retainedOf(part) {
  if (part.mode === "screen") return part.retained;
  return [...part.proposals.values()]
    .filter((p) => p.retained && p.status === "open")
    .sort((a, b) => b.supports - a.supports || a.created - b.created);
}

function connect(cfg, ev, workshop, onChange) {
  const part = new Participation({ eventId: ev.id, token: cfg.token, workshop, lang: cfg.lang, onChange });
  part.connect();
  return part;
}

export function screenProposals({ cfg, ev, S, $ }) {
  let following = null;
  let part = null;

  function renderRetained() {
    const list = part ? retainedOf(part) : [];
    $("retained").hidden = !list.length;
    document.body.classList.toggle("has-retained", list.length > 0);
    $("retained-list").replaceChildren(
      ...list.map((p) => {
        const li = document.createElement("li");
        li.dataset.proposal = p.id;
        const title = document.createElement("span");
        title.className = "retained-title";
        title.textContent = p.title;
        const count = document.createElement("span");
        count.className = "retained-supports";
        const said = document.createElement("span");
        said.className = "sr-only";
        said.textContent = `${S["screen.supports"]} `;
        count.append(said, String(p.supports));
        li.append(title, count);
        return li;
      }),
    );
  }

  // The workshop reporting now (null: none): follow its proposals.
  function follow(workshop) {
    if (workshop === following) return;
    following = workshop;
    if (part) part.close();
    part = workshop ? connect(cfg, ev, workshop, renderRetained) : null;
    renderRetained();
  }

  // Polls: the socket follows a workshop of this site (its site's polls reach its
  // workshops), or any workshop for the polls asked to everyone.
  const ids = Object.keys(ev.workshops || {});
  const anchor = ids.find((id) => ev.workshops[id].site === cfg.site) || ids[0];
  const section = $("screen-polls");
  function renderPolls(p) {
    const open = [...p.polls.values()].filter(
      (q) => q.status === "open" && (q.scope === "everyone" || (q.scope === "site" && q.target === cfg.site)),
    );
    section.hidden = !open.length;
    document.body.classList.toggle("has-polls", open.length > 0);
    const shown = new Map([...section.querySelectorAll(".poll")].map((d) => [d.dataset.poll, d]));
    const boxes = open.map((q) => {
      const box = shown.get(q.id) || Object.assign(document.createElement("div"), { className: "poll" });
      renderPoll(box, q, S);
      return box;
    });
    section.querySelector(".poll-list").replaceChildren(...boxes);
  }
  if (anchor && section) connect(cfg, ev, anchor, renderPolls);

  return { follow };
}
