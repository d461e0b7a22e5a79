// A poll's results as bars, for the screens (projector-readable) and the console: one
// row per option in the order it was asked (rows do not jump while votes come in), its
// bar relative to the leading option, and its number: votes, or a ranking's points.
// The messages are the page's (`S`): poll.voters, poll.points.

function say(template, params) {
  return template.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

export function pollValues(poll) {
  return poll.kind === "ranking" ? poll.points || [] : poll.counts || [];
}

// Fill `root` (a container it owns) with the poll's question, bars and voter count.
export function renderPoll(root, poll, S, heading = "h3") {
  const values = pollValues(poll);
  const top = Math.max(1, ...values);
  let title = root.querySelector(".poll-question");
  if (!title) {
    title = document.createElement(heading);
    title.className = "poll-question";
    const list = document.createElement("ol");
    list.className = "poll-bars";
    const voters = document.createElement("p");
    voters.className = "poll-voters";
    root.append(title, list, voters);
  }
  title.textContent = poll.question;
  root.dataset.poll = poll.id;
  root.dataset.kind = poll.kind;
  root.dataset.status = poll.status;
  const list = root.querySelector(".poll-bars");
  const rows = poll.options.map((option, i) => {
    let li = list.children[i];
    if (!li || li.dataset.option !== option) {
      li = document.createElement("li");
      li.dataset.option = option;
      const label = document.createElement("span");
      label.className = "poll-option";
      label.textContent = option;
      const track = document.createElement("span");
      track.className = "poll-track";
      track.setAttribute("aria-hidden", "true");
      const bar = document.createElement("span");
      bar.className = "poll-bar";
      track.append(bar);
      const value = document.createElement("span");
      value.className = "poll-value";
      li.append(label, track, value);
    }
    const n = values[i] || 0;
    li.querySelector(".poll-bar").style.width = `${(100 * n) / top}%`;
    li.querySelector(".poll-value").textContent = poll.kind === "ranking" ? say(S["poll.points"], { n }) : String(n);
    return li;
  });
  if (rows.some((li, i) => list.children[i] !== li) || list.children.length !== rows.length) list.replaceChildren(...rows);
  root.querySelector(".poll-voters").textContent = say(S["poll.voters"], { n: poll.voters });
}
