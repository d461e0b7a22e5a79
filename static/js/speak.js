// The speaker's page: camera and microphone, preview, "Passer à l'antenne" / "Arrêter",
// how the connection goes; and, from the live agenda, the step, its countdown and who
// has the floor (a site asking a question is on every screen instead of the speaker).
import { page, start } from "./live.js";
import { format, remaining, setText } from "./clock.js";
import { currentStep, isEnded, mainTimer, nowLine } from "./show.js";
import { floorName, onReconnect, plenaryConfig } from "./plenary.js";
import { broadcaster } from "./broadcast.js";

const { cfg, ev, S, $ } = page();
const P = plenaryConfig();

const camera = broadcaster({
  cfg,
  P,
  S,
  $,
  video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } },
});

function render(state) {
  setText($("now-step"), nowLine(state, ev, S));
  const step = currentStep(state, ev);
  const visio = step && !isEnded(state) && P.visio[step.id];
  $("external").hidden = !visio;
  if (visio) {
    setText($("external-url"), visio);
    $("external-url").href = visio;
  }
  const others = state.floor && state.floor !== "speaker";
  setText($("floor-line"), others ? `${S["plenary.floor_is_with"]} ${floorName(state.floor, ev, S)}` : "");
  document.body.dataset.floor = state.floor || "speaker";
}

function tick() {
  const state = conn.state;
  if (!state) return;
  const timer = mainTimer(state, ev);
  setText($("now-timer"), timer ? format(remaining(timer, conn.now())) : "");
}

const conn = start({ cfg, onState: render, tick });
onReconnect(conn, camera.recheck);
