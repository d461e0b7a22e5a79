// Loads the npm packages installed by `npm ci --prefix js` (js/node_modules), as ES modules,
// so that y-websocket and the test share one copy of Yjs (Yjs breaks when loaded twice).
import { readFileSync } from "node:fs";

const modules = new URL("../../js/node_modules/", import.meta.url);

export async function load(name) {
  const base = new URL(`${name}/`, modules);
  const pkg = JSON.parse(readFileSync(new URL("package.json", base), "utf8"));
  let entry = pkg.exports?.["."] ?? pkg.module ?? pkg.main;
  while (entry && typeof entry === "object") {
    entry = entry.import ?? entry.module ?? entry.default ?? entry.node;
  }
  return import(new URL(entry, base).href);
}
