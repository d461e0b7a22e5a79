// The rapporteur's editor: CodeMirror 6 (Markdown) bound to the workshop's Yjs document
// over y-websocket. Co-rapporteurs see each other's cursors and names; edits made while
// the network is down stay in the page and merge when the connection returns.
//
// The server refuses a change it cannot keep (over its frame limit, the notes full, a link
// revoked or expired) and then closes the connection with a 44xx code and the reason:
// a client left connected would go on showing text nobody else receives. So the page
// refuses, before sending, a change over the limits the server gives it (cfg.max_frame,
// cfg.max_doc), and after such a close it stops (y-websocket does not reconnect on 44xx),
// says why and what to do, and offers the text it holds to be copied, so nothing typed is
// lost. 4429 means "busy": it tries again a little later.
import {
  EditorState,
  EditorView,
  LanguageSupport,
  WebsocketProvider,
  Y,
  defaultHighlightStyle,
  defaultKeymap,
  drawSelection,
  indentWithTab,
  keymap,
  markdownLanguage,
  syntaxHighlighting,
  yCollab,
  yUndoManagerKeymap,
} from "./notes-vendor.js";
import { notesSocketUrl, renderMarkdown } from "./notes-view.js";
import { startReports } from "./notes-reports.js";

const cfg = JSON.parse(document.getElementById("notes-config").textContent);
const S = cfg.strings;
const $ = (id) => document.getElementById(id);

// Colours readable on white, for cursors and the list of editors.
const COLOURS = ["#0b5cad", "#a3262a", "#1b6b35", "#7a3e9d", "#8a5300", "#00707a", "#b0306a"];
const colour = COLOURS[Math.floor(Math.random() * COLOURS.length)];

const doc = new Y.Doc();
const text = doc.getText("notes");
const provider = new WebsocketProvider(notesSocketUrl(cfg.event), cfg.workshop, doc, {
  params: { k: cfg.token },
});

// What one change may carry: the server's frame limit less the update's own framing.
const MAX_CHANGE = cfg.max_frame - 1024;
const utf8 = new TextEncoder();
const kb = (bytes) => String(Math.ceil(bytes / 1024));
let ended = null; // the reason the server closed the connection for good, once it has
let leaving = false;
const undoManager = new Y.UndoManager(text);

const nameInput = $("notes-name");
nameInput.value = localStorage.getItem("relais.notes.name") || "";
// The name applies while it is typed (co-rapporteurs see it, the synthesis credits it),
// not only when the field loses focus. Without one, the placeholder shows and is marked
// anonymous: the synthesis never credits "Rapporteur".
function announce() {
  const typed = nameInput.value.trim();
  localStorage.setItem("relais.notes.name", typed);
  const user = { name: typed || S["notes.anonymous"], color: colour, colorLight: `${colour}33` };
  if (!typed) user.anonymous = true;
  provider.awareness.setLocalStateField("user", user);
}
let nameTimer = 0;
nameInput.addEventListener("input", () => {
  clearTimeout(nameTimer);
  nameTimer = setTimeout(announce, 500);
});
nameInput.addEventListener("change", () => {
  clearTimeout(nameTimer);
  announce();
});
announce();

// Changes the person makes (typing, paste, drop, undo), not those arriving from others.
const USER_EVENTS = ["input", "delete", "move", "undo", "redo"];
function warn(message) {
  const box = $("notes-alert");
  box.textContent = message;
  box.hidden = !message;
}
// A change the server would refuse is refused here, with the reason, and nothing is sent.
const limitChanges = EditorState.transactionFilter.of((tr) => {
  if (!tr.docChanged || !USER_EVENTS.some((e) => tr.isUserEvent(e))) return tr;
  if (ended) return [];
  let bytes = 0;
  tr.changes.iterChanges((_fromA, _toA, _fromB, _toB, inserted) => {
    if (inserted.length) bytes += utf8.encode(inserted.toString()).length;
  });
  if (bytes > MAX_CHANGE) {
    warn(fill(S["notes.paste_too_large"], { size: kb(bytes), limit: kb(MAX_CHANGE) }));
    return [];
  }
  if (bytes > 1024 && Y.encodeStateAsUpdate(doc).length + bytes > cfg.max_doc) {
    warn(fill(S["notes.paste_doc_full"], { limit: kb(cfg.max_doc) }));
    return [];
  }
  if (bytes) warn("");
  return tr;
});
function fill(message, params) {
  return message.replace(/\{(\w+)\}/g, (all, key) => params[key] ?? all);
}

const view = new EditorView({
  parent: $("notes-editor"),
  state: EditorState.create({
    doc: text.toString(),
    extensions: [
      keymap.of([...yUndoManagerKeymap, indentWithTab, ...defaultKeymap]),
      drawSelection(),
      new LanguageSupport(markdownLanguage),
      syntaxHighlighting(defaultHighlightStyle),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ "aria-label": S["notes.editor_label"], "aria-multiline": "true" }),
      yCollab(text, provider.awareness, { undoManager }),
      limitChanges,
    ],
  }),
});

// Connection state, said plainly; unsent edits while offline are kept and flagged.
let offlineEdits = false;
doc.on("update", (_update, origin) => {
  if (origin !== provider && !provider.synced) offlineEdits = true;
});
function showStatus() {
  const box = $("notes-status");
  if (ended) {
    box.textContent = S["notes.ended.title"];
    box.toggleAttribute("data-ok", false);
    document.body.dataset.notesStatus = "closed";
    return;
  }
  let message = S["notes.connecting"];
  if (provider.wsconnected && provider.synced) message = S["notes.saved"];
  else if (!provider.wsconnected && offlineEdits) message = S["notes.offline_edits"];
  else if (!provider.wsconnected) message = S["notes.offline"];
  box.textContent = message;
  box.toggleAttribute("data-ok", provider.wsconnected && provider.synced);
  document.body.dataset.notesStatus = provider.synced ? "synced" : "pending";
}
provider.on("status", showStatus);
provider.on("sync", (synced) => {
  if (synced) offlineEdits = false;
  showStatus();
});
showStatus();
window.addEventListener("beforeunload", (event) => {
  if ((offlineEdits || ended) && !leaving) event.preventDefault();
});

// The server closed the connection for good (44xx): say why, keep the text at hand.
let retry = 0;
provider.on("closed", ({ code, reason }) => {
  if (code === 4429) {
    // Too many connections (or requests) right now: try again a little later.
    $("notes-status").textContent = S["notes.busy"];
    clearTimeout(retry);
    retry = setTimeout(() => provider.connect(), 5000 + Math.random() * 10000);
    return;
  }
  ended = reason || String(code);
  $("notes-closed-why").textContent = S[`notes.closed.${reason}`] || S["notes.closed.generic"];
  $("notes-closed-text").value = text.toString();
  $("notes-closed").hidden = false;
  warn("");
  showStatus();
});
$("notes-closed-copy").addEventListener("click", async () => {
  const area = $("notes-closed-text");
  area.select();
  try {
    await navigator.clipboard.writeText(area.value);
  } catch {
    document.execCommand("copy"); // no clipboard API outside https: the selection is copied
  }
  $("notes-closed-done").textContent = S["notes.ended.copied"];
});
$("notes-closed-reload").addEventListener("click", () => {
  leaving = true;
  location.reload();
});

// Who is editing now.
function showEditors() {
  const list = $("notes-editors");
  list.replaceChildren();
  for (const [id, state] of provider.awareness.getStates()) {
    if (!state.user) continue;
    const li = document.createElement("li");
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.style.background = state.user.color || "#555";
    li.append(chip, ` ${state.user.name}${id === doc.clientID ? ` (${S["notes.you"]})` : ""}`);
    list.append(li);
  }
}
provider.awareness.on("change", showEditors);
showEditors();

// Optional preview, rendered exactly as the screens will show it.
const preview = $("notes-preview");
const toggle = $("notes-preview-toggle");
let previewTimer = 0;
function renderPreview() {
  previewTimer = 0;
  if (!preview.hidden) preview.innerHTML = renderMarkdown(text.toString());
}
text.observe(() => {
  if (!previewTimer) previewTimer = setTimeout(renderPreview, 200);
});
toggle.addEventListener("change", () => {
  preview.hidden = !toggle.checked;
  document.body.classList.toggle("with-preview", toggle.checked);
  renderPreview();
});

// The workshop's experience reports, called in turn from here (when it has any).
const reports = startReports(cfg, S);

window.relaisNotes = { doc, provider, view, reports };
