// The links sheet: copy a link with a visible "Copié", print a site's sheet.
const cfg = JSON.parse(document.getElementById("links-config").textContent);
const S = cfg.strings;

// navigator.clipboard exists only on https or localhost; an event's network often serves
// plain http on a local address, where the selected text is copied the older way.
async function copy(input) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(input.value);
    return;
  }
  input.select();
  if (!document.execCommand("copy")) throw new Error("copy refused");
}

for (const button of document.querySelectorAll("button[data-copy]")) {
  const input = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.status);
  let timer = 0;
  button.addEventListener("click", async () => {
    clearTimeout(timer);
    try {
      await copy(input);
      status.textContent = S["links.copied"];
    } catch {
      input.focus();
      input.select();
      status.textContent = S["links.copy_failed"];
    }
    timer = setTimeout(() => { status.textContent = ""; }, 5000);
  });
}

for (const button of document.querySelectorAll("button[data-print]")) {
  button.addEventListener("click", () => window.print());
}

// "Nouveau lien": a validity ending before the event's day is said at once, before the
// organizer makes (and prints) a link that will not open on the day.
for (const input of document.querySelectorAll("input[type=date][data-event-day]")) {
  const warning = document.getElementById(input.dataset.warning);
  const check = () => {
    const early = input.value !== "" && input.value < input.dataset.eventDay;
    warning.textContent = early ? S["links.until_before_event"] : "";
  };
  input.addEventListener("input", check);
  input.addEventListener("change", check);
  check();
}
