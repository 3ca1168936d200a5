// Transpiles the connector component into an ES module for Node with jco:
//
//   node transpile.mjs COMPONENT.wasm OUT_DIR
//
// Instantiation mode "async": importing the output instantiates nothing; the
// host (lib/host.mjs) calls `instantiate` with its own imports, so the
// allow-list wraps `wasi:http/outgoing-handler` at run time and each instance
// is fresh. Idempotent: OUT_DIR/source.sha256 records the component it was
// made from, and a second run with the same bytes does nothing.

import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { transpileBytes } from "@bytecodealliance/jco-transpile";

const [component, outDir] = process.argv.slice(2);
if (!component || !outDir) {
  console.error("usage: node transpile.mjs COMPONENT.wasm OUT_DIR");
  process.exit(2);
}

const bytes = await readFile(component);
const digest = createHash("sha256").update(bytes).digest("hex");
const stamp = join(outDir, "source.sha256");
const previous = await readFile(stamp, "utf8").catch(() => "");
if (previous.trim() === digest) {
  process.exit(0);
}

const started = Date.now();
const { files } = await transpileBytes(bytes, {
  name: "connector",
  instantiation: "async",
  outDir: "",
  // No d.ts needed at run time; keeps the output small.
  emitTypescriptDeclarations: false,
});
await rm(outDir, { recursive: true, force: true });
for (const [name, content] of Object.entries(files)) {
  const path = join(outDir, name);
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, content);
}
// An ES module wherever OUT_DIR is (e.g. under Cargo's target dir).
await writeFile(join(outDir, "package.json"), '{ "type": "module" }\n');
await writeFile(stamp, `${digest}\n`);
console.error(`transpiled ${component} into ${outDir} in ${Date.now() - started} ms`);
