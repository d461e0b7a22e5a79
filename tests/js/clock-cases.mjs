// Runs static/js/clock.js (and show.js) on cases the Python side wrote: reads JSON on stdin,
// prints what the browser would compute, as JSON, for tests/agenda/test_clock_js.py to compare.
import { format, phase, schedule, thresholds } from "../../static/js/clock.js";
import { mainTimer, speakers } from "../../static/js/show.js";

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { event, phases, schedules, places } = JSON.parse(input);
  const out = {
    phases: phases.map(({ timer, now, timers }) => ({
      phase: phase(timer, now, timers),
      thresholds: timer ? thresholds(timer, timers) : null,
    })),
    schedules: schedules.map(({ state, now }) => {
      const s = schedule(state, event, now);
      return s && { drift_ms: s.drift, projected_end: s.projectedEnd, planned_end: s.plannedEnd };
    }),
    places: places.map(({ state, site, workshop }) => {
      const timer = mainTimer(state, event, { site, workshop });
      const { speaking, next } = speakers(state);
      return { timer, speaking: speaking && speaking.workshop, next: next && next.workshop };
    }),
    formats: [0, 999, 1000, 59_001, 3_600_000, -1, -61_000].map(format),
  };
  process.stdout.write(JSON.stringify(out));
});
