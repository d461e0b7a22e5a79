// The read-only notes page: one workshop's notes, live, in large type; the workshop
// picker switches without a reload when scripts run (and works as a plain form otherwise).
import { followNotes } from "./notes-view.js";

const cfg = JSON.parse(document.getElementById("notes-config").textContent);
const S = cfg.strings;
const status = document.getElementById("notes-status");
const picker = document.getElementById("notes-workshop");
let view = null;

function open(workshopId) {
  if (view) view.stop();
  view = followNotes(document.getElementById("notes"), {
    eventId: cfg.event,
    workshopId,
    token: cfg.token,
    onStatus: (s) => {
      status.textContent = s === "connected" ? "" : S["notes.offline"];
    },
    onClosed: ({ reason }) => {
      status.textContent = S[`notes.view_closed.${reason}`] || S["notes.view_closed.generic"];
    },
  });
}

picker.addEventListener("change", () => {
  const url = new URL(location.href);
  url.pathname = `/e/${encodeURIComponent(cfg.event)}/notes/${encodeURIComponent(picker.value)}`;
  history.replaceState(null, "", url);
  document.querySelector("h1").textContent = picker.selectedOptions[0].textContent;
  open(picker.value);
});
open(cfg.workshop);
