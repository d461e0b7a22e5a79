// The studio's rows, changed in place: add, remove and move sites, themes, steps, speakers
// and workshops (the same buttons post to the server when this script does not run). Every
// input stays named by its place in the event file (`agenda.2.start`), so the problems the
// server finds land next to the right field; the site and theme choices follow the rows.
const form = document.getElementById("studio-form");
const S = JSON.parse(document.getElementById("studio-config").textContent).strings;
const status = document.getElementById("studio-live");

const rowOf = (el) => el.closest("[data-row]");
const own = (row, selector) =>
  [...row.querySelectorAll(selector)].filter((el) => rowOf(el.parentElement) === row);
const rowsOf = (list) => [...list.children].filter((el) => el.matches("[data-row]"));
const label = (row) => own(row, "legend [data-row-label]")[0]?.textContent || "";
const say = (text) => {
  status.textContent = "";
  setTimeout(() => (status.textContent = text), 50); // read again even if unchanged
};

// -- names: each row's inputs from its place, after any change of order ----------------------

function renumber(list, parent) {
  const base = parent ? `${parent}.${list.dataset.list}` : list.dataset.list;
  list.id = `l-${base}`;
  rowsOf(list).forEach((row, i) => {
    const prefix = `${base}.${i}`;
    row.id = `r-${prefix}`;
    for (const el of own(row, "[data-row-label]")) {
      el.textContent = el.dataset.template.replace("{n}", String(i + 1));
    }
    for (const note of own(row, "[data-note]")) {
      if (!note.closest("[data-field]")) note.id = `n-${prefix}`;
    }
    for (const field of own(row, "[data-field]")) {
      const input = field.querySelector("[data-key]");
      const name = `${prefix}.${input.dataset.key}`;
      input.name = name;
      input.id = `f-${name}`;
      field.querySelector("label")?.setAttribute("for", input.id);
      const described = [];
      for (const note of field.querySelectorAll("[data-note], [data-help]")) {
        note.id = `${note.hasAttribute("data-help") ? "h" : "n"}-${name}`;
        described.push(note.id);
      }
      input.setAttribute("aria-describedby", described.join(" "));
    }
    for (const hidden of own(row, "input[type=hidden][data-key]")) {
      hidden.name = `${prefix}.${hidden.dataset.key}`;
    }
    for (const button of own(row, "button[data-op]")) {
      button.value = `${button.dataset.op}:${prefix}`;
    }
    for (const sub of own(row, "[data-list]")) renumber(sub, prefix);
  });
  const adder = list.parentElement.querySelector(":scope > [data-add]");
  if (adder) adder.value = `add:${base}`;
}

function renumberAll() {
  for (const list of form.querySelectorAll("[data-list]")) {
    if (!rowOf(list)) renumber(list, "");
  }
}

// -- the sites and themes the selects offer --------------------------------------------------

// What the selects offer: the sites, the themes, the workshops steps (a workshop's round).
function choices(source) {
  const list = form.querySelector(`[data-list="${source === "rounds" ? "agenda" : source}"]`);
  const key = source === "sites" ? "name" : "title";
  const value = (row, k) => own(row, `[data-key="${k}"]`)[0].value.trim();
  return rowsOf(list)
    .filter((row) => source !== "rounds" || value(row, "kind") === "workshops")
    .map((row) => [value(row, "id"), value(row, key)])
    .filter(([id]) => id);
}

function refreshOptions() {
  for (const source of ["sites", "themes", "rounds"]) {
    const items = choices(source);
    for (const select of form.querySelectorAll(`select[data-options="${source}"]`)) {
      const value = select.value;
      const options = [];
      if (select.hasAttribute("data-optional") || !value) options.push(new Option("—", ""));
      for (const [id, text] of items) options.push(new Option(text || id, id));
      if (value && !items.some(([id]) => id === value)) options.push(new Option(value, value));
      select.replaceChildren(...options);
      select.value = value;
    }
  }
}

// An id renamed in the sites or themes: what referred to the old one follows it.
function renamed(source, before, after) {
  for (const select of form.querySelectorAll(`select[data-options="${source}"]`)) {
    if (select.value === before) {
      select.append(new Option(after, after));
      select.value = after;
    }
  }
  if (source !== "sites") return;
  for (const input of form.querySelectorAll('[data-list="agenda"] input[data-key="sites"]')) {
    const ids = input.value.split(",").map((s) => s.trim());
    if (ids.includes(before)) input.value = ids.map((s) => (s === before ? after : s)).join(", ");
  }
}

// -- ids made from names, as the server makes them for a blank id ----------------------------

// As live/studio/forms.py: at most 32 characters, cut between words, little words dropped.
const SLUG_LENGTH = 32;
const STOP_WORDS = new Set(
  "a au aux avec d dans de des du en et l la le les par pour sur un une of the and".split(" "),
);

function words(text, stopWords = true) {
  const all = text
    .normalize("NFKD")
    .replace(/[^\x00-\x7f]/g, "")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const kept = stopWords ? all.filter((w) => !STOP_WORDS.has(w)) : all;
  return kept.length ? kept : all;
}

function cut(list, limit) {
  let out = "";
  for (const word of list) {
    const longer = out ? `${out}-${word}` : word;
    if (longer.length > limit) break;
    out = longer;
  }
  return out || (list.length ? list[0].slice(0, limit) : "");
}

export function slug(text, limit = SLUG_LENGTH) {
  return cut(words(text), limit);
}

function fillId(row) {
  const id = own(row, '[data-key="id"]')[0];
  if (!id || id.value.trim()) return;
  const list = row.parentElement;
  const value = (key) => own(row, `[data-key="${key}"]`)[0]?.value.trim() || "";
  let made;
  if (list.dataset.list === "workshops") {
    made = words([value("theme"), value("site")].filter(Boolean).join("-"), false);
    if (!made.length) made = words(value("title"));
  } else {
    made = words(value("name") || value("title"));
  }
  if (!made.length) return;
  const taken = new Set(rowsOf(list).map((r) => own(r, '[data-key="id"]')[0].value.trim()));
  let ident = cut(made, SLUG_LENGTH);
  for (let n = 2; taken.has(ident); n += 1) ident = `${cut(made, SLUG_LENGTH - `-${n}`.length)}-${n}`;
  id.value = ident;
}

// -- the buttons -----------------------------------------------------------------------------

function focusIn(row) {
  const first = row?.querySelector("input:not([type=hidden]), select, textarea");
  if (first) first.focus();
  return Boolean(first);
}

function add(wrap) {
  const list = wrap.querySelector(":scope > [data-list]");
  const template = document.querySelector(`template[data-row-template="${list.dataset.list}"]`);
  const row = template.content.firstElementChild.cloneNode(true);
  list.append(row);
  renumberAll();
  refreshOptions();
  focusIn(row);
  say(S["studio.js_added"].replace("{row}", label(row)));
}

function remove(row) {
  const list = row.parentElement;
  const wrap = list.parentElement;
  const gone = label(row);
  const next = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  renumberAll();
  refreshOptions();
  if (!focusIn(next)) wrap.querySelector(":scope > [data-add]").focus();
  say(S["studio.js_removed"].replace("{row}", gone));
}

function move(row, button, up) {
  const other = up ? row.previousElementSibling : row.nextElementSibling;
  if (!other || !other.matches("[data-row]")) {
    say(S["studio.js_edge"]);
    return;
  }
  if (up) other.before(row);
  else other.after(row);
  renumberAll();
  button.focus();
  say(S["studio.js_moved"].replace("{row}", label(row)));
}

form.addEventListener("click", (e) => {
  const button = e.target.closest("button[data-op], button[data-add]");
  if (!button || !form.contains(button)) return;
  e.preventDefault();
  if (button.hasAttribute("data-add")) {
    add(button.parentElement);
    return;
  }
  const row = rowOf(button);
  const op = button.dataset.op;
  if (op === "remove") remove(row);
  else move(row, button, op === "up");
});

form.addEventListener("focusin", (e) => {
  const input = e.target;
  if (input.dataset?.key === "id") input.dataset.before = input.value.trim();
});

form.addEventListener("change", (e) => {
  const input = e.target;
  const row = rowOf(input);
  if (!row) return;
  const source = row.parentElement.dataset.list;
  if (input.dataset.key === "id" && ["sites", "themes", "agenda"].includes(source)) {
    const before = input.dataset.before || "";
    const after = input.value.trim();
    input.dataset.before = after;
    refreshOptions();
    const what = source === "agenda" ? "rounds" : source;
    if (before && after && before !== after) renamed(what, before, after);
    return;
  }
  if (["name", "title", "theme", "site"].includes(input.dataset.key)) fillId(row);
  if (["sites", "themes", "agenda"].includes(source)) refreshOptions();
});

renumberAll();
