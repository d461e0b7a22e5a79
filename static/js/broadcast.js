// Publishing a camera and a microphone to the plenary, as the speaker's page and a site
// host's page both do: choose the devices (labelled lists), see the preview, go live and
// stop, and read how the connection goes (frames per second, round trip, packets lost).
//
// The page has: #camera and #microphone (selects), #preview (video), #go-live, #stop and
// #allow (buttons), #on-air (status), #error (alert), #q-fps, #q-size, #q-rtt, #q-loss and
// #q-verdict. `document.body.dataset.onAir` says whether it is live (for the page's CSS).
import { setText } from "./clock.js";
import { capture, listDevices, outboundQuality, publish, replaceTracks } from "./plenary.js";

const DISCONNECTED_MS = 2000; // "disconnected" this long: the connection is lost

export function broadcaster({ cfg, P, S, $, video, onAir = () => {} }) {
  let stream = null;
  let session = null;
  let starting = false;
  let wanted = false; // live until "Arrêter", across lost connections
  let retry = null;
  let delay = 1000;

  function showError(message) {
    setText($("error"), message || "");
  }

  function render() {
    const live = !!session;
    $("stop").hidden = !live && !wanted;
    document.body.dataset.onAir = live ? "1" : "0";
    $("go-live").hidden = live || wanted;
    $("go-live").disabled = starting || !stream;
    setText($("on-air"), starting ? S["plenary.connecting"] : live ? S["plenary.on_air"] : S["plenary.off_air"]);
    $("on-air").dataset.live = live ? "1" : "0";
    onAir(live);
  }

  // The chosen devices in the preview (and on the air, if live), the lists labelled.
  async function preview() {
    showError("");
    let next;
    try {
      next = await capture({ camera: $("camera").value, microphone: $("microphone").value, video });
    } catch (e) {
      $("allow").hidden = false;
      showError(`${S["plenary.no_devices"]} (${e.name || e})`);
      render();
      return;
    }
    $("allow").hidden = true;
    const old = stream;
    stream = next;
    $("preview").srcObject = stream;
    if (session) await replaceTracks(session, stream);
    if (old && old !== stream) for (const t of old.getTracks()) t.stop();
    await listDevices($("camera"), "videoinput", S["plenary.camera"]);
    await listDevices($("microphone"), "audioinput", S["plenary.microphone"]);
    const [cam] = stream.getVideoTracks();
    const [mic] = stream.getAudioTracks();
    if (cam && cam.getSettings().deviceId) $("camera").value = cam.getSettings().deviceId;
    if (mic && mic.getSettings().deviceId) $("microphone").value = mic.getSettings().deviceId;
    render();
  }

  // Going live; once live, a lost connection goes live again by itself (1, 2, 4... up to
  // 10 seconds apart) until "Arrêter": a speaker in mid-sentence should not have to click.
  // A refused link (401, 403) or an offer the relay cannot take (4xx) stops trying.
  async function goLive() {
    if (session || starting || !stream) return;
    wanted = true;
    starting = true;
    clearTimeout(retry);
    render();
    try {
      const s = await publish({ url: P.whip, token: cfg.token, iceServers: P.ice_servers, lang: cfg.lang, stream });
      session = s;
      delay = 1000;
      showError("");
      let unplugged = null;
      s.pc.addEventListener("connectionstatechange", () => {
        const state = s.pc.connectionState;
        clearTimeout(unplugged);
        if (s !== session) return;
        if (state === "failed" || state === "closed") lost(S["plenary.lost"]);
        else if (state === "disconnected") {
          unplugged = setTimeout(() => s === session && lost(S["plenary.lost"]), DISCONNECTED_MS);
        }
      });
    } catch (e) {
      const final = e.status >= 400 && e.status < 500 && e.status !== 409 && e.status !== 429;
      if (final) {
        wanted = false;
        showError(e.message || String(e));
      } else {
        lost(e.message || String(e));
      }
    } finally {
      starting = false;
      render();
    }
  }

  function lost(message, wait = delay) {
    if (session) session.end();
    session = null;
    showError(`${message} ${S["plenary.retry_soon"]}`);
    clearTimeout(retry);
    if (wanted) retry = setTimeout(goLive, wait);
    delay = Math.min(delay * 2, 10000);
    render();
  }

  // The page's live socket came back after a loss: if the relay no longer has this page's
  // feed (the server restarted), go live again now.
  async function recheck() {
    if (!session) return;
    try {
      const r = await fetch(`${P.status}?k=${encodeURIComponent(cfg.token)}`);
      const status = r.ok ? await r.json() : null;
      const feed = status && status.feeds[P.feed];
      if (status && !(feed && feed.publisher)) lost(S["plenary.lost"], 0);
    } catch (e) {
      // the socket's next loss will tell again
    }
  }

  function stop() {
    wanted = false;
    clearTimeout(retry);
    if (session) session.end();
    session = null;
    showError("");
    render();
    for (const id of ["q-fps", "q-size", "q-rtt", "q-loss", "q-verdict"]) setText($(id), "—");
    $("q-verdict").dataset.level = "";
  }

  // Good: smooth and no loss; fair: some loss or a long round trip; poor: hardly moving.
  function verdict(q) {
    if (q.fps !== null && q.fps < 10) return "poor";
    if ((q.loss ?? 0) > 8 || (q.rtt ?? 0) > 800) return "poor";
    if ((q.loss ?? 0) > 2 || (q.rtt ?? 0) > 300 || (q.fps !== null && q.fps < 20)) return "fair";
    return "good";
  }

  async function measure() {
    if (!session || session.pc.connectionState !== "connected") return;
    const q = await outboundQuality(session.pc);
    setText($("q-fps"), q.fps === null ? "—" : String(Math.round(q.fps)));
    setText($("q-size"), q.width ? `${q.width}×${q.height}` : "—");
    setText($("q-rtt"), q.rtt === null ? "—" : `${q.rtt} ms`);
    setText($("q-loss"), q.loss === null ? "—" : `${q.loss} %`);
    const level = verdict(q);
    setText($("q-verdict"), S[`plenary.quality_${level}`]);
    $("q-verdict").dataset.level = level;
  }

  $("camera").addEventListener("change", preview);
  $("microphone").addEventListener("change", preview);
  $("allow").addEventListener("click", preview);
  $("go-live").addEventListener("click", goLive);
  $("stop").addEventListener("click", stop);
  if (navigator.mediaDevices) {
    navigator.mediaDevices.addEventListener("devicechange", async () => {
      await listDevices($("camera"), "videoinput", S["plenary.camera"]);
      await listDevices($("microphone"), "audioinput", S["plenary.microphone"]);
    });
    setInterval(measure, 1000);
    preview();
  } else {
    showError(S["plenary.no_devices"]); // not a secure context (http:// other than localhost)
    render();
  }
  return {
    get live() {
      return !!session;
    },
    recheck,
  };
}
