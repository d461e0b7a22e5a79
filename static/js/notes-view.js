// Read-only live notes: follow one workshop's Yjs document and show it as sanitized
// Markdown in large type. Used by the site screen during a restitution, by the read-only
// notes page, and (renderMarkdown) by the rapporteur's preview.
//
//   const view = followNotes(container, { eventId, workshopId, token, onStatus,
//                                         page, onOverflow, onClosed });
//   view.stop();   // disconnect and stop rendering
//
// `onClosed({code, reason})`: the server ended the connection for good (a 44xx close:
// link revoked or expired...), `reason` the refusal's code; y-websocket does not retry
// then. A 4429 ("busy") is retried here, a little later.
//
// Notes longer than their box follow the writing (the latest edit is kept in view); with
// `page`, a box left unedited for a while pages through, a screenful at a time, and back
// to the top. `onOverflow({above, below})` says whether there is more to see, so the page
// can show it instead of cutting a line with no sign.
//
// Safety: markdown-it runs with raw HTML disabled and images off (a screen must not load
// third-party URLs), and its output goes through DOMPurify before it touches the page.
import { DOMPurify, MarkdownIt, WebsocketProvider, Y } from "./notes-vendor.js";

const md = new MarkdownIt({ html: false, linkify: false, breaks: true });
md.disable("image");
// Tag each block with its first source line, so the view can scroll to the latest edit.
md.core.ruler.push("source_lines", (state) => {
  for (const token of state.tokens) {
    if (token.map && token.nesting === 1) token.attrSet("data-line", String(token.map[0]));
  }
});

export function renderMarkdown(text) {
  return DOMPurify.sanitize(md.render(text), {
    FORBID_TAGS: ["img", "style", "form", "input", "iframe"],
    FORBID_ATTR: ["style"],
  });
}

export function notesSocketUrl(eventId) {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  return `${proto}://${location.host}/ws/notes/${encodeURIComponent(eventId)}`;
}

function ensureStyles() {
  if (document.querySelector("link[data-notes-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/css/notes.css";
  link.dataset.notesCss = "";
  document.head.append(link);
}

function lineAt(text, index) {
  let line = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

const PAGE_AFTER_MS = 15000; // no edit for this long: start paging
const PAGE_EVERY_MS = 10000; // one screenful per this long

export function followNotes(
  container,
  { eventId, workshopId, token, onStatus, page = false, onOverflow, onClosed } = {},
) {
  ensureStyles();
  container.classList.add("notes-view");
  container.setAttribute("aria-live", "polite");
  const doc = new Y.Doc();
  const text = doc.getText("notes");
  const provider = new WebsocketProvider(notesSocketUrl(eventId), workshopId, doc, {
    params: { k: token || "" },
    disableBc: true,
  });
  provider.awareness.setLocalState(null); // viewers have no cursor to share
  let timer = 0;
  let changed = null;
  let lastEdit = 0;

  const overflow = () => {
    if (!onOverflow) return;
    const top = container.scrollTop;
    const above = top > 2;
    const below = top + container.clientHeight < container.scrollHeight - 2;
    onOverflow({ above, below });
  };
  const follow = () => {
    if (changed === null || container.scrollHeight <= container.clientHeight) return;
    const blocks = [...container.querySelectorAll("[data-line]")];
    const block = blocks.filter((b) => Number(b.dataset.line) <= changed).pop();
    if (block) {
      const top = block.offsetTop - container.clientHeight / 3;
      container.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
    }
  };
  const render = () => {
    timer = 0;
    container.innerHTML = renderMarkdown(text.toString());
    container.dataset.rendered = String(text.length);
    follow();
    overflow();
  };
  container.addEventListener("scroll", overflow, { passive: true });
  const pager = page
    ? setInterval(() => {
        if (Date.now() - lastEdit < PAGE_AFTER_MS) return;
        if (container.scrollHeight <= container.clientHeight) return;
        const end = container.scrollTop + container.clientHeight >= container.scrollHeight - 2;
        // A screenful minus a line or two, so the reader keeps their place.
        const top = end ? 0 : container.scrollTop + container.clientHeight * 0.85;
        container.scrollTo({ top, behavior: "smooth" });
      }, PAGE_EVERY_MS)
    : 0;
  const resize = new ResizeObserver(overflow);
  resize.observe(container);
  const schedule = () => {
    if (!timer) timer = setTimeout(render, 30);
  };
  text.observe((event) => {
    let index = 0;
    for (const op of event.delta) {
      if (op.retain === undefined) break;
      index += op.retain;
    }
    changed = lineAt(text.toString(), index);
    lastEdit = Date.now();
    schedule();
  });
  provider.on("sync", (synced) => synced && schedule());
  provider.on("status", ({ status }) => {
    container.dataset.status = status;
    if (onStatus) onStatus(status);
  });
  let retry = 0;
  provider.on("closed", ({ code, reason }) => {
    if (code === 4429) {
      retry = setTimeout(() => provider.connect(), 5000 + Math.random() * 10000);
      return;
    }
    container.dataset.status = "closed";
    if (onClosed) onClosed({ code, reason });
  });

  return {
    get text() {
      return text.toString();
    },
    stop() {
      clearTimeout(timer);
      clearTimeout(retry);
      clearInterval(pager);
      resize.disconnect();
      provider.destroy();
      doc.destroy();
    },
  };
}
