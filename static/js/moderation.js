// The moderation panel (templates/_moderation.html): a workshop's proposals as its
// rapporteur (on her notes page) or a facilitator (on the console, workshop chosen) sees
// them, live, with what she may do to each: retain for the restitution, hide with a reason
// the author reads, unhide, correct (the server keeps the history), merge a duplicate.
//
// Each proposal's row is built once and updated in place on every change, so a reason or
// a correction being typed survives other people's supports. A refusal shows next to the
// action that met it, in the page's language (the server's message).
import { Participation } from "./participation.js";

// The panel's own configuration (the notes page has no live page's configuration).
const cfg = JSON.parse(document.getElementById("moderation-config").textContent);
const S = cfg.strings;
const panel = document.getElementById("moderation");

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k in node && !k.startsWith("data") && !k.startsWith("aria")) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function say(template, params) {
  return template.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

class Moderation {
  constructor(root) {
    this.root = root;
    this.list = root.querySelector(".mod-list");
    this.status = root.querySelector(".mod-status");
    this.rows = new Map(); // proposal id -> {li, parts}
    this.part = null;
    this.workshop = null;
  }

  follow(workshop) {
    if (workshop === this.workshop) return;
    if (this.part) this.part.close();
    this.part = null;
    this.workshop = workshop || null;
    this.rows.clear();
    this.list.replaceChildren();
    this.status.textContent = workshop ? S["mod.connecting"] : S["mod.choose"];
    if (!workshop) return;
    this.part = new Participation({
      eventId: this.root.dataset.event,
      token: this.root.dataset.token,
      workshop,
      lang: cfg.lang,
      onChange: () => this.render(),
      onStatus: (ok) => {
        if (!ok) this.status.textContent = S["mod.disconnected"];
        else this.render();
      },
    });
    this.part.connect();
  }

  render() {
    const part = this.part;
    if (!part || part.seq === null) return;
    const cards = [...part.proposals.values()];
    this.status.textContent = cards.length ? say(S["mod.count"], { n: cards.length }) : S["mod.none"];
    for (const card of cards) {
      let row = this.rows.get(card.id);
      if (!row) {
        row = this.build(card.id);
        this.rows.set(card.id, row);
        this.list.append(row.li);
      }
      this.update(row, card, cards);
    }
  }

  // Send a command for one proposal; its refusal shows in that proposal's row.
  async act(pid, name, args) {
    const row = this.rows.get(pid);
    row.error.hidden = true;
    row.error.textContent = "";
    try {
      await this.part.command(name, args);
      return true;
    } catch (e) {
      row.error.textContent = e.message || e.code || String(e);
      row.error.hidden = false;
      return false;
    }
  }

  build(pid) {
    const id = (s) => `mod-${pid}-${s}`;
    const title = el("h3", { class: "mod-title", id: id("title") });
    const body = el("p", { class: "mod-body" });
    const status = el("p", { class: "mod-state" });
    const counts = el("p", { class: "mod-counts muted" });
    const retain = el("button", { type: "button", class: "mod-retain", "aria-pressed": "false" });
    retain.addEventListener("click", () => {
      const on = retain.getAttribute("aria-pressed") !== "true";
      this.act(pid, on ? "retain" : "unretain", { proposal: pid });
    });
    const error = el("p", { class: "mod-error error", role: "alert", hidden: true });

    // Hide with a reason (the author reads it), or unhide.
    const reason = el("input", { id: id("reason"), maxLength: 200, required: true });
    const hideForm = el(
      "form",
      { class: "mod-hide" },
      el("label", { for: id("reason"), text: S["mod.hide_reason"] }),
      el("span", { class: "mod-inline" }, reason, el("button", { type: "submit", class: "small", text: S["mod.hide"] })),
    );
    hideForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (await this.act(pid, "hide", { proposal: pid, reason: reason.value })) reason.value = "";
    });
    const unhide = el("button", { type: "button", class: "small mod-unhide", text: S["mod.unhide"] });
    unhide.addEventListener("click", () => this.act(pid, "unhide", { proposal: pid }));

    // Correct the title or the text: the form opens with the current wording (filled
    // while it is closed, so that nothing overwrites what is being typed).
    const newTitle = el("input", { id: id("new-title"), maxLength: 200, required: true });
    const newBody = el("textarea", { id: id("new-body"), rows: 3, maxLength: 2000 });
    const correctForm = el(
      "form",
      { class: "mod-correct-form" },
      el("label", { for: id("new-title"), text: S["mod.correct_title"] }),
      newTitle,
      el("label", { for: id("new-body"), text: S["mod.correct_body"] }),
      newBody,
      el("p", { class: "buttons" }, el("button", { type: "submit", class: "small", text: S["mod.correct_save"] })),
    );
    const correct = el("details", { class: "mod-correct" }, el("summary", { text: S["mod.correct"] }), correctForm);
    correctForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const card = this.part.proposals.get(pid);
      const args = { proposal: pid };
      if (!card || newTitle.value.trim() !== card.title) args.title = newTitle.value;
      if (!card || newBody.value.trim() !== card.body) args.body = newBody.value;
      if (!(await this.act(pid, "correct", args))) return;
      correct.open = false;
      const now = this.part.proposals.get(pid);
      newTitle.value = now ? now.title : newTitle.value;
      newBody.value = now ? now.body || "" : newBody.value;
    });
    const history = el("details", { class: "mod-history", hidden: true }, el("summary"), el("ol"));

    // Merge this one into another open proposal of the workshop.
    const into = el("select", { id: id("into") });
    const mergeForm = el(
      "form",
      { class: "mod-merge" },
      el("label", { for: id("into"), text: S["mod.merge_into"] }),
      el("span", { class: "mod-inline" }, into, el("button", { type: "submit", class: "small", text: S["mod.merge"] })),
    );
    mergeForm.addEventListener("submit", (e) => {
      e.preventDefault();
      if (into.value) this.act(pid, "merge", { source: pid, target: into.value });
    });

    const args = el("details", { class: "mod-arguments" }, el("summary"), el("ul"));
    const actions = el("div", { class: "mod-actions" }, retain, hideForm, unhide, correct, mergeForm);
    const li = el("li", { class: "mod-proposal", "data-proposal": pid, "aria-labelledby": id("title") });
    li.append(title, status, body, counts, actions, error, history, args);
    return { li, title, body, status, counts, retain, hideForm, unhide, correct, newTitle, newBody, history, mergeForm, into, args, error };
  }

  update(row, card, cards) {
    const { li } = row;
    li.dataset.status = card.status;
    li.classList.toggle("retained", !!card.retained);
    row.title.textContent = card.title;
    row.body.textContent = card.body || "";
    row.body.hidden = !card.body;
    let state = S["mod.status.open"];
    if (card.status === "hidden") state = say(S["mod.status.hidden"], { reason: card.hide_reason || "" });
    if (card.status === "merged") {
      const target = this.part.proposals.get(card.merged_into);
      state = say(S["mod.status.merged"], { title: target ? target.title : card.merged_into });
    }
    row.status.textContent = state;
    const st = card.stances || {};
    row.counts.textContent = say(S["mod.counts"], {
      n: card.supports,
      pour: st.pour || 0,
      contre: st.contre || 0,
      nuance: st.nuance || 0,
    });
    const open = card.status === "open";
    row.retain.hidden = !open && !card.retained;
    row.retain.setAttribute("aria-pressed", card.retained ? "true" : "false");
    row.retain.textContent = card.retained ? `✓ ${S["mod.retained"]}` : S["mod.retain"];
    row.hideForm.hidden = !open;
    row.unhide.hidden = card.status !== "hidden";
    row.correct.hidden = card.status === "merged";
    if (!row.correct.open) {
      row.newTitle.value = card.title;
      row.newBody.value = card.body || "";
    }
    row.mergeForm.hidden = !open;
    if (open) this.fillTargets(row.into, card.id, cards);
    this.fillHistory(row.history, card.history || []);
    this.fillArguments(row.args, card);
  }

  fillTargets(select, pid, cards) {
    const chosen = select.value;
    const targets = cards.filter((c) => c.id !== pid && c.status === "open");
    const key = JSON.stringify(targets.map((c) => [c.id, c.title]));
    if (select.dataset.key === key) return;
    select.dataset.key = key;
    select.replaceChildren(el("option", { value: "", text: S["mod.merge_pick"] }), ...targets.map((c) => el("option", { value: c.id, text: c.title })));
    if (targets.some((c) => c.id === chosen)) select.value = chosen;
  }

  fillHistory(details, history) {
    details.hidden = !history.length;
    if (!history.length) return;
    details.querySelector("summary").textContent = say(S["mod.history"], { n: history.length });
    const ol = details.querySelector("ol");
    ol.replaceChildren(...history.map((c) => el("li", { text: [c.title, c.body].filter(Boolean).join(" — ") })));
  }

  fillArguments(details, card) {
    const list = card.arguments || [];
    details.hidden = !list.length;
    details.querySelector("summary").textContent = say(S["mod.arguments"], { n: list.length });
    const ul = details.querySelector("ul");
    const key = JSON.stringify(list);
    if (ul.dataset.key === key) return;
    ul.dataset.key = key;
    ul.replaceChildren(
      ...list.map((a) => {
        const li = el("li", { "data-argument": a.id });
        li.append(el("strong", { text: `${S[`mod.stance.${a.stance}`] || a.stance} : ` }), a.text);
        if (a.hidden) {
          li.classList.add("hidden-argument");
          li.append(el("span", { class: "muted", text: ` (${say(S["mod.status.hidden"], { reason: a.hide_reason || "" })})` }));
          const b = el("button", { type: "button", class: "small", text: S["mod.unhide"] });
          b.addEventListener("click", () => this.act(card.id, "unhide", { argument: a.id }));
          li.append(" ", b);
        } else {
          // Hide it with a reason, as a proposal: a small form that unfolds.
          const rid = `mod-${a.id}-reason`;
          const reason = el("input", { id: rid, maxLength: 200, required: true });
          const form = el(
            "form",
            { class: "mod-hide" },
            el("label", { for: rid, text: S["mod.hide_reason"] }),
            el("span", { class: "mod-inline" }, reason, el("button", { type: "submit", class: "small", text: S["mod.hide"] })),
          );
          form.addEventListener("submit", (e) => {
            e.preventDefault();
            this.act(card.id, "hide", { argument: a.id, reason: reason.value });
          });
          li.append(" ", el("details", { class: "mod-hide-argument" }, el("summary", { text: S["mod.hide"] }), form));
        }
        return li;
      }),
    );
  }
}

if (panel) {
  const mod = new Moderation(panel);
  const chooser = panel.querySelector(".mod-workshop");
  if (chooser) {
    chooser.addEventListener("change", () => mod.follow(chooser.value));
    mod.follow(chooser.value);
  } else mod.follow(panel.dataset.workshop);
}
