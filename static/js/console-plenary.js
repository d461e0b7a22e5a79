// The console's plenary panel: who has the floor and "Reprendre"; the sites' requests
// with "Donner la parole"; the mosaic of sites (each site's camera, live or not); the
// program as the screens get it; and how each screen receives it (frames per second,
// lost picture), from the relay's status every two seconds. The buttons are agenda
// commands, handled by the console's one click handler (`data-cmd`, `data-feed`,
// `data-site`).
import { setText } from "./clock.js";
import { floorName, plenaryConfig, receive } from "./plenary.js";

const STATUS_EVERY = 2000;
const COMMANDERS = new Set(["facilitator", "organizer"]); // the consoles' own previews

export function plenaryPanel({ cfg, ev, S, $ }) {
  const P = plenaryConfig();
  const siteName = (id) => ev.sites.find((s) => s.id === id)?.name || id;
  const tiles = new Map(); // feed -> li
  const sessions = []; // the tiles' and the program's
  let status = null;

  function label(button, what) {
    button.setAttribute("aria-label", `${button.dataset.label} — ${what}`);
  }

  // One tile per site, each receiving that site's camera (picture only).
  for (const site of ev.sites) {
    const feed = `site:${site.id}`;
    const li = $("tile").content.firstElementChild.cloneNode(true);
    li.dataset.feed = feed;
    li.querySelector(".name").textContent = site.name;
    li.querySelector(".live").textContent = S["plenary.offline"];
    const give = li.querySelector("button");
    give.dataset.feed = feed;
    label(give, site.name);
    $("console-mosaic").append(li);
    tiles.set(feed, li);
    const url = `${P.whep}?feed=${encodeURIComponent(feed)}`;
    sessions.push(
      receive({ url, token: cfg.token, iceServers: P.ice_servers, lang: cfg.lang, video: li.querySelector("video"), audio: false }),
    );
  }
  sessions.push(receive({ url: P.whep, token: cfg.token, iceServers: P.ice_servers, lang: cfg.lang, video: $("program") }));

  function render(s) {
    const floor = s.floor || "speaker";
    setText($("floor-now"), floorName(floor, ev, S));
    $("btn-floor-back").disabled = floor === "speaker";
    const requests = s.requests || [];
    $("no-requests").hidden = requests.length > 0;
    $("floor-requests").replaceChildren(
      ...requests.map((site) => {
        const li = $("request-row").content.firstElementChild.cloneNode(true);
        li.dataset.site = site;
        li.querySelector(".title").textContent = siteName(site);
        const [give, dismiss] = li.querySelectorAll("button");
        give.dataset.feed = `site:${site}`;
        dismiss.dataset.site = site;
        label(give, siteName(site));
        label(dismiss, siteName(site));
        return li;
      }),
    );
    for (const [feed, li] of tiles) {
      li.dataset.floor = feed === floor ? "1" : "0";
      li.querySelector("button").disabled = feed === floor;
    }
    document.body.dataset.floor = floor;
  }

  function renderStatus() {
    if (!status) return;
    for (const [feed, li] of tiles) {
      const f = status.feeds[feed];
      const live = !!(f && f.live);
      li.dataset.live = live ? "1" : "0";
      setText(li.querySelector(".live"), live ? S["plenary.live"] : S["plenary.offline"]);
      setText(li.querySelector(".fps"), live ? `${Math.round(f.publisher.fps)} ${S["plenary.fps_short"]}` : "");
    }
    const speaker = status.feeds.speaker;
    const p = speaker && speaker.publisher;
    let line = `${S["plenary.role_speaker"]} : ${S["plenary.offline"]}`;
    if (speaker && speaker.live && p) {
      const size = p.width ? ` · ${p.width}×${p.height}` : "";
      line = `${S["plenary.role_speaker"]} : ${S["plenary.live"]} · ${Math.round(p.fps)} ${S["plenary.fps_short"]}${size}`;
    }
    setText($("speaker-feed"), line);
    // Who receives the program (mosaic tiles watch one site each and are not listed: a
    // tile of a site that is not live has no picture to lose).
    const rows = status.receivers.filter((r) => r.watching === "program" && !COMMANDERS.has(r.role));
    // Screens that play the program without its sound (nobody clicked that machine yet).
    const muted = rows.filter((r) => r.role === "screen" && r.sound === "muted");
    $("muted-screens").hidden = muted.length === 0;
    setText(
      $("muted-screens"),
      muted.length ? `${S["plenary.muted_screens"]} ${muted.map((r) => siteName(r.site)).join(", ")}` : "",
    );
    $("no-receivers").hidden = rows.length > 0;
    $("receivers").replaceChildren(
      ...rows.map((r) => {
        // A receiver of a feed nobody publishes has no picture to lose (and sends no
        // receiver reports, which the relay would count as a loss).
        const source = status.feeds[r.feed];
        const lost = r.lost && !!(source && source.live);
        const tr = document.createElement("tr");
        tr.dataset.lost = lost ? "1" : "0";
        tr.dataset.site = r.site || "";
        const who = `${S[`plenary.role_${r.role}`] || r.role}${r.site ? ` — ${siteName(r.site)}` : ""}`;
        const watching = floorName(r.feed, ev, S);
        tr.dataset.sound = r.sound || "";
        const cells = [
          who,
          watching,
          S[`plenary.state_${r.state}`] || r.state,
          String(Math.round(r.fps)),
          lost ? S["plenary.lost_picture"] : r.picture ? S["plenary.picture_ok"] : "—",
          r.sound === "muted" ? S["plenary.sound_muted"] : r.sound === "on" ? S["plenary.sound_state_on"] : r.sound === "echo" ? S["plenary.sound_echo"] : "—",
          r.rtt_ms === null ? "—" : `${Math.round(r.rtt_ms)} ms`,
          `${Math.round(r.fraction_lost * 1000) / 10} %`,
        ];
        tr.append(
          ...cells.map((text) => {
            const td = document.createElement("td");
            td.textContent = text;
            return td;
          }),
        );
        return tr;
      }),
    );
  }

  async function refresh() {
    try {
      const r = await fetch(`${P.status}?k=${encodeURIComponent(cfg.token)}&lang=${cfg.lang}`);
      if (r.ok) status = await r.json();
    } catch (e) {
      return; // the next poll will tell
    }
    renderStatus();
  }

  refresh();
  setInterval(refresh, STATUS_EVERY);
  // The live socket came back after a loss (the server may have restarted): start again
  // every session whose picture stopped.
  function reconnected() {
    for (const session of sessions) if (session.stalled(1500)) session.restart();
    refresh();
  }

  return { render, reconnected };
}
