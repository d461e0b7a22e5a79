// The rapporteur's editor: CodeMirror 6 (Markdown) bound to the workshop's Yjs document
// over y-websocket. Co-rapporteurs see each other's cursors and names; edits made while
// the network is down stay in the page and merge when the connection returns.
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
  if (offlineEdits) event.preventDefault();
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

window.relaisNotes = { doc, provider, view };
