// Timer maths on the client, from deadlines: the server never ticks.

export function remaining(timer, now) {
  if (!timer) return null;
  if (timer.status === "running" && timer.deadline !== null) return timer.deadline - now;
  return timer.remaining_ms;
}

// Mirror of model.Timers.for_duration(): the event's thresholds, or relative to the
// countdown's own length (a quarter, at most 5 min; a tenth, at most 1 min).
export function thresholds(timer, timers) {
  const seconds = timer.duration_ms / 1000;
  const warning = timers.warning ?? Math.min(300, seconds / 4);
  const danger = timers.danger ?? Math.min(60, seconds / 10);
  return [warning, Math.min(danger, warning)];
}

// Mirror of agenda.phase().
export function phase(timer, now, timers) {
  if (!timer || timer.status === "idle") return "idle";
  const left = remaining(timer, now);
  if (left <= 0) return "overtime";
  const [warning, danger] = thresholds(timer, timers);
  if (left <= danger * 1000) return "danger";
  if (left <= warning * 1000) return "warning";
  return "normal";
}

export function format(ms) {
  if (ms === null || ms === undefined) return "--:--";
  const sign = ms < 0 ? "+" : "";
  // Count down in whole seconds shown as they start; overtime counts up.
  const total = ms < 0 ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h ? `${sign}${h}:${mm}:${ss}` : `${sign}${mm}:${ss}`;
}

export function timeOfDay(ms, timezone) {
  return new Date(ms).toLocaleTimeString("fr-FR", {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: timezone,
  });
}

// Mirror of agenda.schedule(): drift (ms, positive = behind) and projected end.
export function schedule(state, event, now) {
  if (state.step === null || state.origin === null || !state.timer) return null;
  const base = event.agenda[0].planned_ms;
  const step = event.agenda[state.step];
  const plannedStepEnd = state.origin + step.planned_ms - base + step.duration * 60000;
  const last = event.agenda[event.agenda.length - 1];
  const plannedEnd = state.origin + last.planned_ms - base + last.duration * 60000;
  const t = state.timer;
  let end = now + Math.max(0, remaining(t, now));
  if (t.status === "running") end = Math.max(t.deadline, now);
  if (state.queue.length) {
    const left = state.speaker ? remaining(state.speaker, now) : 0;
    const waiting = state.queue
      .filter((s) => s.status === "pending")
      .reduce((a, s) => a + s.duration_ms, 0);
    end = Math.max(end, now + Math.max(0, left) + waiting);
  }
  const drift = end - plannedStepEnd;
  return { drift, projectedEnd: plannedEnd + drift, plannedEnd };
}

export function everyFrame(fn) {
  // Ten times a second, so every screen turns the second at the same server instant;
  // callers only touch the DOM when the text changes.
  queueMicrotask(fn); // once the calling module has finished its own set-up
  setInterval(fn, 100);
}

export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}
