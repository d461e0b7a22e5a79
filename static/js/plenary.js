// The plenary visio in a page: publish (WHIP) and receive (WHEP) with the server's relay,
// over the same endpoints OBS Studio and any WHEP player use (live/plenary/whip.py).
//
// One session is one RTCPeerConnection: the offer carries every ICE candidate (the relay
// does no trickle ICE), the answer comes back with the session's `Location`, and a DELETE
// on it ends the session (also when the page goes away). A receiver that fails or is
// refused tries again, later and later; a publisher reports and lets the person retry.

export function plenaryConfig() {
  return JSON.parse(document.getElementById("plenary-config").textContent);
}

// "relay" (RELAIS_ICE_TRANSPORT_POLICY) makes every session go through the TURN server:
// what a site whose network lets only TCP 443 out gets, to check it before the day.
function transportPolicy() {
  const block = document.getElementById("plenary-config");
  return block && JSON.parse(block.textContent).ice_transport_policy === "relay" ? "relay" : "all";
}

export class PlenaryError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const GATHER_MS = 2000; // longest wait for ICE candidates (a TURN allocation is quicker)
const open = new Set(); // every session of this page, ended when the page goes

addEventListener("pagehide", () => {
  for (const session of [...open]) session.end();
});

// The offer once ICE gathering is complete (or after GATHER_MS with what there is).
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, GATHER_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export class Session {
  // `url`: the WHIP or WHEP endpoint (with `?feed=` if any); `token`: the page's link.
  constructor({ url, token, iceServers, lang }) {
    this.url = new URL(url, location.href);
    if (lang) this.url.searchParams.set("lang", lang); // refusals in the page's language
    this.token = token;
    this.pc = new RTCPeerConnection({
      iceServers: iceServers || [],
      iceTransportPolicy: transportPolicy(),
    });
    this.location = null;
    this.ended = false;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  // Offer, POST, answer. Throws PlenaryError with the server's sentence on a refusal.
  async negotiate() {
    open.add(this);
    const pc = this.pc;
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (this.ended) throw new PlenaryError("ended", 0, "ended");
    let response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: this.headers({ "Content-Type": "application/sdp" }),
        body: pc.localDescription.sdp,
      });
    } catch (e) {
      throw new PlenaryError(String(e.message || e), 0, "network");
    }
    if (response.status !== 201) {
      let body = {};
      try {
        body = await response.json();
      } catch (e) {
        body = {};
      }
      throw new PlenaryError(body.message || `HTTP ${response.status}`, response.status, body.error);
    }
    this.location = new URL(response.headers.get("Location"), this.url).href;
    const sdp = await response.text();
    if (this.ended) {
      this.end();
      throw new PlenaryError("ended", 0, "ended");
    }
    await pc.setRemoteDescription({ type: "answer", sdp });
    return this;
  }

  // End the session: DELETE on its Location (kept alive past the page), close the peer.
  end() {
    if (this.ended) return;
    this.ended = true;
    open.delete(this);
    if (this.location) {
      fetch(this.location, { method: "DELETE", keepalive: true, headers: this.headers() }).catch(() => {});
    }
    this.pc.close();
  }
}

// Publish `stream` (its camera and microphone tracks, send only) on `url`.
export async function publish({ url, token, iceServers, lang, stream }) {
  const session = new Session({ url, token, iceServers, lang });
  for (const track of stream.getTracks()) {
    session.pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  }
  try {
    return await session.negotiate();
  } catch (e) {
    session.end();
    throw e;
  }
}

// Keep receiving `url` (the program, or one feed) into `video` for as long as wanted:
// on a failed connection (or one "disconnected" for DISCONNECTED_MS) or a refusal, try
// again after 1, 2, 4... up to 10 seconds. `audio: false` asks for the picture only (a
// mosaic tile). `onChange(state, error)` hears "connecting", "connected", "retrying"
// (with the error, if any) and "stopped". `restart()` starts over at once (the page's
// live socket came back after a loss: the server may have restarted).
const DISCONNECTED_MS = 2000;

export function receive({ url, token, iceServers, lang, video, audio = true, onChange = () => {} }) {
  let session = null;
  let stopped = false;
  let delay = 1000;
  let retry = null;
  let sound = ""; // what the page plays ("on", "muted", "echo"), told to the relay
  let told = null; // the session last told, and what
  let decoded = 0; // frames decoded by the sessions before this one
  let current = 0; // ... and by this one
  let lastFrameAt = 0;

  function drop() {
    if (session) session.end();
    session = null;
    decoded += current;
    current = 0;
  }

  function again(error, wait = delay) {
    if (stopped) return;
    drop();
    onChange("retrying", error);
    clearTimeout(retry);
    retry = setTimeout(connect, wait);
    delay = Math.min(delay * 2, 10000);
  }

  async function connect() {
    if (stopped) return;
    const s = new Session({ url, token, iceServers, lang });
    session = s;
    s.pc.addTransceiver("video", { direction: "recvonly" });
    if (audio) s.pc.addTransceiver("audio", { direction: "recvonly" });
    const stream = new MediaStream();
    let unplugged = null;
    s.pc.addEventListener("track", (e) => {
      stream.addTrack(e.track);
      if (video.srcObject !== stream) video.srcObject = stream;
      if (e.track.kind === "video") everyFrame();
      if (e.track.kind === "video" && !video.dataset.firstFrameMs && video.requestVideoFrameCallback) {
        // When the first picture showed, in ms since the page opened (its tests read it).
        video.requestVideoFrameCallback(() => {
          video.dataset.firstFrameMs = String(Math.round(performance.now()));
        });
      }
    });
    s.pc.addEventListener("connectionstatechange", () => {
      if (s !== session) return;
      const state = s.pc.connectionState;
      clearTimeout(unplugged);
      if (state === "connected") {
        delay = 1000;
        tell();
        onChange("connected");
      } else if (state === "failed" || state === "closed") {
        again(null);
      } else if (state === "disconnected") {
        unplugged = setTimeout(() => s === session && again(null), DISCONNECTED_MS);
      }
    });
    onChange("connecting");
    try {
      await s.negotiate();
    } catch (e) {
      if (s === session) again(e);
    }
  }

  // Each frame shown, as it is shown: a stopped picture is noticed within a frame or two
  // (getStats below, once a second, is the fallback for a picture not on screen).
  let watching = false;
  function everyFrame() {
    if (watching || stopped || !video.requestVideoFrameCallback) return;
    watching = true;
    const next = () =>
      video.requestVideoFrameCallback(() => {
        if (stopped) {
          watching = false;
          return;
        }
        lastFrameAt = performance.now();
        next();
      });
    next();
  }

  // What the picture does, for the page and its tests: `data-frames` (decoded so far, all
  // sessions together) and `data-fps` on the video element, once a second.
  const frames = setInterval(async () => {
    const s = session;
    if (!s || s.pc.connectionState !== "connected") return;
    const v = await inboundVideo(s.pc);
    if (!v || s !== session) return;
    if (v.framesDecoded > current) lastFrameAt = performance.now();
    current = v.framesDecoded;
    video.dataset.frames = String(decoded + current);
    video.dataset.fps = String(Math.round(v.fps));
  }, 1000);

  // Tell the relay whether this page plays the sound (the console lists muted screens):
  // once per session and per change, never more.
  function tell() {
    const s = session;
    if (!sound || !s || !s.location || (told && told[0] === s && told[1] === sound)) return;
    told = [s, sound];
    const url = new URL(`${s.location}/sound`);
    url.searchParams.set("sound", sound);
    fetch(url, { method: "POST", headers: s.headers() }).catch(() => {
      told = null; // the next change or session tries again
    });
  }

  connect();
  return {
    get pc() {
      return session && session.pc;
    },
    // What the page plays: "on", "muted" or "echo" (told to the relay).
    sound(value) {
      sound = value;
      tell();
    },
    // No new picture for `ms`? (Also true while nobody publishes: check before acting.)
    stalled(ms) {
      return performance.now() - lastFrameAt > ms;
    },
    restart() {
      if (stopped) return;
      delay = 1000;
      again(null, 0);
    },
    stop() {
      stopped = true;
      clearTimeout(retry);
      clearInterval(frames);
      drop();
      video.srcObject = null;
      delete video.dataset.frames;
      delete video.dataset.fps;
      onChange("stopped");
    },
  };
}

// -- how a connection goes, from getStats() ---------------------------------------------

export async function inboundVideo(pc) {
  const stats = await pc.getStats();
  for (const s of stats.values()) {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      return { framesDecoded: s.framesDecoded || 0, fps: s.framesPerSecond || 0 };
    }
  }
  return null;
}

// What a publisher sends: frames per second, round trip (ms) and packets lost (%), as the
// relay's receiver reports tell it.
export async function outboundQuality(pc) {
  const stats = await pc.getStats();
  const out = { fps: null, rtt: null, loss: null, width: null, height: null };
  let pair = null;
  let reported = null;
  for (const s of stats.values()) {
    if (s.type === "outbound-rtp" && s.kind === "video") {
      out.fps = s.framesPerSecond ?? 0;
      out.width = s.frameWidth ?? null;
      out.height = s.frameHeight ?? null;
    } else if (s.type === "remote-inbound-rtp" && s.kind === "video") {
      if (s.roundTripTime !== undefined) reported = s.roundTripTime;
      if (s.fractionLost !== undefined) out.loss = Math.round(s.fractionLost * 1000) / 10;
    } else if (s.type === "transport" && s.selectedCandidatePairId) {
      pair = stats.get(s.selectedCandidatePairId);
    }
  }
  // The round trip of the connectivity checks (measured by the browser itself), else the
  // one the receiver reports give.
  const rtt = pair && pair.currentRoundTripTime !== undefined ? pair.currentRoundTripTime : reported;
  if (rtt !== null && rtt !== undefined) out.rtt = Math.round(rtt * 1000);
  return out;
}

// The camera and microphone a person chose (or the default ones), as one stream.
export function capture({ camera, microphone, video = {} }) {
  return navigator.mediaDevices.getUserMedia({
    video: { ...video, ...(camera ? { deviceId: { exact: camera } } : {}) },
    audio: microphone
      ? { deviceId: { exact: microphone }, echoCancellation: true, noiseSuppression: true }
      : { echoCancellation: true, noiseSuppression: true },
  });
}

// Fill a `<select>` with the devices of one kind, keeping the chosen one if it is still
// there. Labels are only given once the person allowed the camera and microphone.
export async function listDevices(select, kind, fallback) {
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === kind);
  const chosen = select.value;
  select.replaceChildren(
    ...devices.map((d, i) => {
      const option = document.createElement("option");
      option.value = d.deviceId;
      option.textContent = d.label || `${fallback} ${i + 1}`;
      return option;
    }),
  );
  if (devices.some((d) => d.deviceId === chosen)) select.value = chosen;
  return devices;
}

// Put the tracks of a new capture in place of the old ones on a live session, so that a
// change of camera or microphone does not interrupt the broadcast.
export async function replaceTracks(session, stream) {
  for (const sender of session.pc.getSenders()) {
    const track = stream.getTracks().find((t) => sender.track && t.kind === sender.track.kind);
    if (track) await sender.replaceTrack(track);
  }
}

// Where the floor is, as a person says it.
export function floorName(feed, ev, S) {
  if (!feed || feed === "speaker") return S["plenary.the_speaker"];
  const id = feed.replace(/^site:/, "");
  return ev.sites.find((s) => s.id === id)?.name || id;
}

// Does the running step show the relay's picture? (video on, no external visio room)
export function relayStep(step, visio) {
  return !!step && !!step.video && !(visio && visio[step.id]);
}

// Call `fn` when the page's live socket comes back after a loss (`conn` from live.js
// start()): the server may have restarted, and with it every session of the relay.
export function onReconnect(conn, fn) {
  const told = conn.onStatus;
  let lost = false;
  conn.onStatus = (ok) => {
    told(ok);
    if (!ok) lost = true;
    else if (lost) {
      lost = false;
      fn();
    }
  };
}
