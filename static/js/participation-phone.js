// Participation on the phone (templates/_participation.html): choose the workshop
// (remembered on this device), follow its proposals live, support, argue, propose, and
// answer the polls asked. The socket and its state are participation.js's; this script
// only draws them. Cards are kept by id and updated in place, so a half-written argument
// or the focus survives everyone else's changes.

import { page } from "./live.js";
import { Participation } from "./participation.js";

const { cfg, ev, S, $ } = page();
const root = $("participation");
const STANCES = ["pour", "contre", "nuance"];
const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "for") node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

if (root) {
  const subjects = JSON.parse($("part-config").textContent).subjects;
  const key = `relais.participation.${ev.id}.workshop`;
  const pick = $("part-workshop");
  const sort = $("part-sort");
  const list = $("part-list");
  const cards = new Map(); // proposal id -> its <li>
  let part = null;
  let uid = 0;

  const subjectTitle = (w, id) => (subjects[w] || []).find(([sid]) => sid === id)?.[1] || "";

  function setStatus(ok) {
    const status = $("part-status");
    status.dataset.state = ok ? "on" : "off";
    status.textContent = ok ? S["phone.connected"] : S["phone.disconnected"];
  }

  function start(workshop) {
    if (part) part.close();
    part = null;
    cards.clear();
    list.replaceChildren();
    $("part-polls").replaceChildren();
    $("part-body").hidden = !workshop;
    if (!workshop) return;
    try {
      localStorage.setItem(key, workshop);
    } catch {
      // private browsing: the choice is not remembered, nothing else changes
    }
    const select = $("part-p-subject");
    select.replaceChildren(
      el("option", { value: "", text: S["phone.no_subject"] }),
      ...(subjects[workshop] || []).map(([id, title]) => el("option", { value: id, text: title })),
    );
    part = new Participation({
      eventId: ev.id,
      token: cfg.token,
      workshop,
      lang: cfg.lang,
      onChange: draw,
      onStatus: setStatus,
    });
    part.connect();
  }

  // ---- proposals ----

  function visible(card) {
    if (card.status === "open") return true;
    return Boolean(card.mine && card.title); // her own hidden or merged one, with its reason
  }

  function ordered() {
    const cardsNow = [...part.proposals.values()].filter(visible);
    if (sort.value === "newest") return cardsNow.sort((a, b) => b.created - a.created);
    return cardsNow.sort((a, b) => b.supports - a.supports || a.created - b.created);
  }

  function build(card) {
    const n = ++uid;
    const li = el("li", { class: "part-card", "data-id": card.id });
    const title = el("h4", { class: "part-card-title", id: `part-t-${n}` });
    const meta = el("p", { class: "part-subject muted" });
    const body = el("p", { class: "part-body" });
    const note = el("p", { class: "part-note" });
    const count = el("p", { class: "part-supports" });
    const toggle = el("button", { type: "button", class: "part-support", "aria-pressed": "false" });
    toggle.setAttribute("aria-describedby", `part-t-${n}`);
    const error = el("p", { class: "field-error part-error", role: "alert" });
    toggle.addEventListener("click", async () => {
      const c = part.proposals.get(card.id);
      error.textContent = "";
      toggle.disabled = true;
      try {
        await part.support(card.id, !(c && c.supported));
      } catch (e) {
        error.textContent = e.message || "";
      } finally {
        toggle.disabled = false;
      }
    });
    // Arguments, folded: the stances' counts read in the summary.
    const details = el("details", { class: "part-args" });
    const summary = el("summary");
    const args = el("ul", { class: "part-arg-list" });
    const form = el("form", { class: "form part-argue", noValidate: true });
    const fieldset = el("fieldset", {}, el("legend", { text: S["phone.stance"] }));
    for (const stance of STANCES) {
      const id = `part-s-${n}-${stance}`;
      fieldset.append(
        el("label", { class: "check", for: id },
          el("input", { type: "radio", name: `stance-${n}`, value: stance, id, checked: stance === "pour" }),
          document.createTextNode(S[`phone.stance.${stance}`])),
      );
    }
    const textId = `part-a-${n}`;
    const argError = el("p", { class: "field-error", role: "alert", id: `part-ae-${n}` });
    const text = el("textarea", { id: textId, name: "text", rows: 2, maxLength: 600, required: true });
    text.setAttribute("aria-describedby", argError.id);
    form.append(
      fieldset,
      el("label", { for: textId, text: S["phone.argument"] }),
      text,
      argError,
      el("div", { class: "buttons" }, el("button", { type: "submit", text: S["phone.argue"] })),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      argError.textContent = "";
      const stance = form.querySelector("input[type=radio]:checked").value;
      if (!text.value.trim()) {
        argError.textContent = S["phone.argument_needed"];
        return;
      }
      try {
        await part.command("argue", { proposal: card.id, stance, text: text.value.trim() });
        text.value = "";
      } catch (err) {
        argError.textContent = err.message || "";
      }
    });
    details.append(summary, args, form);
    const actions = el("div", { class: "part-actions" }, count, toggle);
    li.append(title, meta, body, note, actions, error, details);
    li.parts = { title, meta, body, note, count, toggle, summary, args, actions, details };
    return li;
  }

  function update(li, card) {
    const p = li.parts;
    p.title.textContent = card.title;
    const subject = subjectTitle(part.workshop, card.subject);
    p.meta.textContent = subject ? fmt(S["phone.subject_is"], { subject }) : "";
    p.meta.hidden = !subject;
    p.body.textContent = card.body || "";
    p.body.hidden = !card.body;
    let note = "";
    if (card.status === "hidden") note = fmt(S["phone.hidden_by"], { reason: card.hide_reason || "" });
    else if (card.status === "merged") note = S["phone.merged"];
    else if (card.retained) note = S["phone.retained"];
    p.note.textContent = note;
    p.note.hidden = !note;
    li.classList.toggle("part-hidden", card.status !== "open");
    p.count.textContent = fmt(card.supports === 1 ? S["phone.supports_one"] : S["phone.supports"], { n: card.supports });
    p.toggle.hidden = card.status !== "open";
    p.toggle.setAttribute("aria-pressed", card.supported ? "true" : "false");
    p.toggle.textContent = card.supported ? S["phone.unsupport"] : S["phone.support"];
    p.details.hidden = card.status !== "open";
    const st = card.stances || {};
    p.summary.textContent = fmt(S["phone.arguments"], { pour: st.pour || 0, contre: st.contre || 0, nuance: st.nuance || 0 });
    const items = (card.arguments || []).map((a) => {
      const item = el("li", { class: `part-arg part-arg-${a.stance}` },
        el("strong", { text: S[`phone.stance.${a.stance}`] }), document.createTextNode(` — ${a.text}`));
      if (a.hidden) item.append(el("span", { class: "part-note", text: ` (${fmt(S["phone.hidden_by"], { reason: a.hide_reason || "" })})` }));
      return item;
    });
    p.args.replaceChildren(...items);
  }

  function drawProposals() {
    const now = ordered();
    const ids = new Set(now.map((c) => c.id));
    for (const [id, li] of cards) {
      if (!ids.has(id)) {
        li.remove();
        cards.delete(id);
      }
    }
    now.forEach((card, i) => {
      let li = cards.get(card.id);
      if (!li) {
        li = build(card);
        cards.set(card.id, li);
      }
      update(li, card);
      // Moved only when out of place: moving a node would take the focus away.
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
    });
    $("part-empty").hidden = now.length > 0;
  }

  // ---- polls ----

  function results(poll) {
    const values = poll.kind === "ranking" ? poll.points : poll.counts;
    const units = poll.kind === "ranking" ? [S["phone.points_one"], S["phone.points"]] : [S["phone.votes_one"], S["phone.votes"]];
    const order = poll.options.map((_, i) => i);
    if (poll.kind === "ranking") order.sort((a, b) => values[b] - values[a]);
    return el("ol", { class: "part-results" },
      ...order.map((i) => el("li", {},
        el("span", { text: poll.options[i] }),
        el("span", { class: "part-result", text: ` ${fmt(units[values[i] === 1 ? 0 : 1], { n: values[i] })}` }))));
  }

  function ballot(poll) {
    const n = ++uid;
    const form = el("form", { class: "form part-vote" });
    const error = el("p", { class: "field-error", role: "alert" });
    let read;
    if (poll.kind === "ranking") {
      const ol = el("ol", { class: "part-rank" });
      const order = poll.options.map((_, i) => i);
      const drawRank = (focus) => {
        ol.replaceChildren(...order.map((option, place) => {
          const up = el("button", { type: "button", text: "↑", disabled: place === 0 });
          const down = el("button", { type: "button", text: "↓", disabled: place === order.length - 1 });
          up.setAttribute("aria-label", fmt(S["phone.up"], { option: poll.options[option] }));
          down.setAttribute("aria-label", fmt(S["phone.down"], { option: poll.options[option] }));
          const move = (by, which) => () => {
            [order[place], order[place + by]] = [order[place + by], order[place]];
            drawRank({ option, which });
          };
          up.addEventListener("click", move(-1, "up"));
          down.addEventListener("click", move(1, "down"));
          const li = el("li", { "data-option": option }, el("span", { text: poll.options[option] }), up, down);
          if (focus && focus.option === option) {
            queueMicrotask(() => {
              const target = focus.which === "up" ? (up.disabled ? down : up) : (down.disabled ? up : down);
              target.focus();
            });
          }
          return li;
        }));
      };
      drawRank(null);
      form.append(el("p", { class: "muted", text: S["phone.rank_help"] }), ol);
      read = () => [...order];
    } else {
      const fieldset = el("fieldset", {}, el("legend", { text: poll.kind === "one" ? S["phone.choose_one"] : S["phone.choose_several"] }));
      poll.options.forEach((option, i) => {
        const id = `part-v-${n}-${i}`;
        fieldset.append(el("label", { class: "check", for: id },
          el("input", { type: poll.kind === "one" ? "radio" : "checkbox", name: `poll-${n}`, value: i, id }),
          document.createTextNode(option)));
      });
      form.append(fieldset);
      read = () => [...form.querySelectorAll("input:checked")].map((i) => Number(i.value));
    }
    form.append(error, el("div", { class: "buttons" }, el("button", { type: "submit", class: "primary", text: S["phone.vote"] })));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      const choices = read();
      if (!choices.length) {
        error.textContent = S["phone.choice_needed"];
        return;
      }
      try {
        await part.vote(poll.id, choices);
      } catch (err) {
        error.textContent = err.message || "";
      }
    });
    return form;
  }

  const ballots = new Map(); // poll id -> its <article>, kept while she has not voted

  function drawPolls() {
    const box = $("part-polls");
    const polls = [...part.polls.values()];
    $("part-polls-section").hidden = polls.length === 0;
    for (const [id, node] of ballots) if (!part.polls.has(id)) { node.remove(); ballots.delete(id); }
    for (const poll of polls) {
      const answered = poll.mine != null || poll.status !== "open";
      let node = ballots.get(poll.id);
      const state = answered ? "results" : "ballot";
      if (node && node.dataset.state === state && state === "ballot") continue; // keep her choices
      const article = el("article", { class: "part-poll", "data-poll": poll.id, "data-state": state },
        el("h4", { text: poll.question }));
      if (answered) {
        if (poll.status !== "open") article.append(el("p", { class: "muted", text: S["phone.poll_closed"] }));
        else article.append(el("p", { class: "ok", text: S["phone.voted"] }));
        article.append(results(poll), el("p", { class: "muted", text: fmt(S["phone.voters"], { n: poll.voters }) }));
      } else {
        article.append(ballot(poll));
      }
      if (node) node.replaceWith(article);
      else box.append(article);
      ballots.set(poll.id, article);
    }
  }

  function draw() {
    drawProposals();
    drawPolls();
  }

  // ---- the proposal form ----

  $("part-propose").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const error = $("part-propose-error");
    const title = $("part-p-title");
    error.textContent = "";
    $("part-propose-ok").textContent = "";
    title.removeAttribute("aria-invalid");
    if (!title.value.trim()) {
      title.setAttribute("aria-invalid", "true");
      error.textContent = S["phone.title_needed"];
      title.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await part.command("propose", {
        title: title.value.trim(),
        body: $("part-p-body").value.trim(),
        subject: $("part-p-subject").value,
      });
      form.reset();
      $("part-propose-ok").textContent = S["phone.proposed"];
    } catch (err) {
      error.textContent = err.message || err.code || "";
    } finally {
      button.disabled = false;
    }
  });

  sort.addEventListener("change", () => part && drawProposals());
  pick.addEventListener("change", () => start(pick.value));

  // The workshop this device chose before, else her placed one, else the only one.
  let remembered = null;
  try {
    remembered = localStorage.getItem(key);
  } catch {
    remembered = null;
  }
  const values = [...pick.options].map((o) => o.value).filter(Boolean);
  if (remembered && values.includes(remembered)) pick.value = remembered;
  start(pick.value);
}
