#!/usr/bin/env node
// The Node.js host's command line: the connector component, transpiled by
// jco, under an allow-list built from the component's `endpoints` for the
// config (before `configure`).
//
//   node cli.mjs describe
//   node cli.mjs sync      --config FILE.json [--out FILE] [--max-items N] [--kinds a,b] [--concurrency N]
//                          [--max-wait-ms MS] [--checkpoint-in F] [--checkpoint-out F]
//                          [--cursor-in F] [--max-pages N --cursor-out F]
//   node cli.mjs provision --config FILE.json --action FILE|- [--dry-run]
//                          (--dry-run calls the component's `plan`, not `provision`)
//
// Common options: --component-dir DIR (jco output of transpile.mjs; default
// ./build next to this file), --allow HOST (repeatable: the hosts the
// component may reach; default: the endpoints the component names for the
// config),
// --route HOST=127.0.0.1:PORT (serve an allowed https host from a loopback
// address over http, for the simulator), --log-level debug|info|warn|error,
// --call-timeout-s N (wall-clock limit per component call, default 120 as in
// the wasmtime harness; 0 = none; past it the process is killed).
//
// The config file is a JSON object of config fields (client_id,
// client_secret, subdomain | region | base_url, ...);
// ONELOGIN_CLIENT_ID, ONELOGIN_CLIENT_SECRET, ONELOGIN_SUBDOMAIN,
// ONELOGIN_REGION and ONELOGIN_BASE_URL override it.
//
// Output: `describe` and `provision` print one JSON document; `sync` prints a
// one-line JSON summary, and with --out writes the records as JSON Lines in
// the format of `host-test sync --out`. Exit status: 0 ok, 2 usage or config,
// 3 authentication or scope, 4 rate limited, 1 anything else.

import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { ActionError, parseAction } from "./lib/action.mjs";
import { ArgumentError, ConnectorCallError, loadConnector, stderrLog } from "./lib/host.mjs";
import { ConfigError } from "./lib/policy.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const EXIT_AUTH = 3;
const EXIT_RATE_LIMITED = 4;

class UsageError extends Error {}

const ENV_OVERRIDES = [
  ["client_id", "ONELOGIN_CLIENT_ID"],
  ["client_secret", "ONELOGIN_CLIENT_SECRET"],
  ["subdomain", "ONELOGIN_SUBDOMAIN"],
  ["region", "ONELOGIN_REGION"],
  ["base_url", "ONELOGIN_BASE_URL"],
];

/** Config fields from the JSON file and the environment (never printed). */
async function loadConfig(path) {
  let fields = {};
  if (path) {
    let json;
    try {
      json = JSON.parse(await readFile(path, "utf8"));
    } catch (e) {
      throw new ConfigError(`cannot read config ${path}: ${e.code ?? "not a JSON object"}`);
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new ConfigError(`config ${path} must be a JSON object`);
    }
    for (const [key, value] of Object.entries(json)) {
      if (!["string", "number", "boolean"].includes(typeof value)) {
        throw new ConfigError(`config key ${JSON.stringify(key)} must be a string, number or boolean`);
      }
      fields[key] = String(value);
    }
  }
  const env = (name) => (process.env[name] ? process.env[name] : undefined);
  if (["ONELOGIN_SUBDOMAIN", "ONELOGIN_REGION", "ONELOGIN_BASE_URL"].some(env)) {
    delete fields.subdomain;
    delete fields.region;
    delete fields.base_url;
  }
  for (const [key, name] of ENV_OVERRIDES) {
    if (env(name)) fields[key] = env(name);
  }
  return fields;
}

function uint(name, text) {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) > 0xffffffff) throw new UsageError(`--${name} must be a whole number`);
  return Number(text);
}

function routesFrom(list) {
  const routes = {};
  for (const entry of list ?? []) {
    const at = entry.indexOf("=");
    if (at <= 0) throw new UsageError(`--route must be HOST=127.0.0.1:PORT, not ${JSON.stringify(entry)}`);
    routes[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return routes;
}

/** camelCase keys -> snake_case, recursively (variants' `tag`/`val` stay). */
function snake(value) {
  if (Array.isArray(value)) return value.map(snake);
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? Number(value) : value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snake(v)]),
  );
}

function parsedJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorJson(error) {
  return { kind: error.kind.tag, detail: error.kind.val ?? null, message: error.message, retryable: error.retryable };
}

/** A kind report as host-test writes it. */
function kindReportJson(report) {
  const { kind, status } = report;
  if (status.tag === "skipped") return { kind, status: "skipped", reason: status.val };
  if (status.tag === "failed") return { kind, status: "failed", error: errorJson(status.val) };
  return { kind, status: status.tag };
}

function entityRecord(e) {
  return {
    record: "entity",
    key: e.key,
    entity_type: e.entityType,
    classes: e.classes,
    display_name: e.displayName,
    properties: parsedJson(e.properties),
  };
}

function relationshipRecord(r) {
  return { record: "relationship", class: r.class, from_key: r.fromKey, to_key: r.toKey, properties: parsedJson(r.properties) };
}

function outcomeJson(o) {
  return {
    changed: o.changed,
    summary: o.summary,
    key: o.key ?? null,
    before: o.before === undefined ? null : parsedJson(o.before),
    after: o.after === undefined ? null : parsedJson(o.after),
    calls: o.calls.map((c) => ({ method: c.method, path: c.path, body: c.body === undefined ? null : parsedJson(c.body) })),
    link: o.link ?? null,
    notes: o.notes,
  };
}

async function readText(path) {
  const text = path === "-" ? await readStdin() : await readFile(path, "utf8");
  return text.trim();
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(argv) {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      "component-dir": { type: "string" },
      config: { type: "string" },
      allow: { type: "string", multiple: true },
      route: { type: "string", multiple: true },
      "log-level": { type: "string" },
      out: { type: "string" },
      "max-items": { type: "string" },
      kinds: { type: "string" },
      concurrency: { type: "string" },
      "max-wait-ms": { type: "string" },
      "checkpoint-in": { type: "string" },
      "checkpoint-out": { type: "string" },
      "cursor-in": { type: "string" },
      "cursor-out": { type: "string" },
      "max-pages": { type: "string" },
      action: { type: "string" },
      "dry-run": { type: "boolean" },
      "call-timeout-s": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!["describe", "sync", "provision"].includes(command)) {
    throw new UsageError("usage: node cli.mjs describe | sync | provision [options] (see the comment at the top of cli.mjs)");
  }
  const dir = values["component-dir"] ?? join(here, "build");
  const logLevel = values["log-level"] ?? "warn";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new UsageError("--log-level must be debug, info, warn or error");

  const fields = command === "describe" ? {} : await loadConfig(values.config);
  let requests = 0;
  const refused = [];
  const host = await loadConnector(dir, {
    allowedHosts: values.allow ?? [],
    callTimeoutMs: (uint("call-timeout-s", values["call-timeout-s"]) ?? 120) * 1000,
    routes: routesFrom(values.route),
    onLog: stderrLog(logLevel),
    onRequest: () => {
      requests += 1;
    },
    onRefused: (r) => {
      refused.push(r);
      process.stderr.write(`refused: ${r.method} ${r.url}: ${r.reason}\n`);
    },
  });
  // The allow-list: what the component says this config needs, unless --allow.
  if (command !== "describe" && (values.allow ?? []).length === 0) await host.allowEndpointsOf(fields);
  const instance = await host.instantiate();

  if (command === "describe") {
    process.stdout.write(`${JSON.stringify(snake(instance.describe()), null, 2)}\n`);
    return 0;
  }

  const account = instance.configure(fields);

  if (command === "provision") {
    if (!values.action) throw new UsageError("provision needs --action FILE|-");
    const action = parseAction(await readText(values.action));
    const outcome = values["dry-run"] ? instance.plan(action) : instance.provision(action);
    process.stdout.write(`${JSON.stringify(outcomeJson(outcome), null, 2)}\n`);
    return 0;
  }

  const maxPages = uint("max-pages", values["max-pages"]);
  if (maxPages !== undefined && !values["cursor-out"]) {
    throw new UsageError("--max-pages stops a sync early: give --cursor-out FILE to keep where it stopped");
  }
  const cursorIn = values["cursor-in"] ? await readText(values["cursor-in"]) : undefined;
  const checkpointIn = values["checkpoint-in"] ? await readText(values["checkpoint-in"]) : undefined;
  const options = {
    maxItems: uint("max-items", values["max-items"]) ?? 0,
    kinds: values.kinds ? values.kinds.split(",").map((k) => k.trim()).filter(Boolean) : [],
    checkpoint: checkpointIn,
    maxWaitMs: uint("max-wait-ms", values["max-wait-ms"]) ?? 60000,
    concurrency: uint("concurrency", values.concurrency) ?? 0,
  };
  const started = Date.now();
  const records = [];
  let cursor = cursorIn;
  let pages = 0;
  let entities = 0;
  let relationships = 0;
  const notes = [];
  let last;
  for (;;) {
    last = instance.sync({ ...options, cursor });
    pages += 1;
    entities += last.entities.length;
    relationships += last.relationships.length;
    notes.push(...last.notes);
    if (values.out) {
      for (const e of last.entities) records.push(entityRecord(e));
      for (const r of last.relationships) records.push(relationshipRecord(r));
    }
    cursor = last.nextCursor;
    if (cursor === undefined || (maxPages !== undefined && pages >= maxPages)) break;
  }
  const finished = cursor === undefined;
  if (values["cursor-out"]) await writeFile(values["cursor-out"], finished ? "" : `${cursor}\n`);
  if (values["checkpoint-out"] && last.checkpoint !== undefined) await writeFile(values["checkpoint-out"], `${last.checkpoint}\n`);
  if (values.out) {
    const summary = {
      record: "sync",
      incremental: checkpointIn !== undefined,
      pages,
      kinds: last.report.map(kindReportJson),
      notes,
    };
    // Entities first, then relationships, each in page order (as host-test writes them).
    const lines = [summary, ...records.filter((r) => r.record === "entity"), ...records.filter((r) => r.record === "relationship")];
    await writeFile(values.out, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
  }
  const summary = {
    account: snake(account),
    resumed: cursorIn !== undefined,
    incremental: checkpointIn !== undefined,
    finished,
    pages,
    entities,
    relationships,
    checkpoint: last.checkpoint !== undefined,
    progress: last.progress,
    notes,
    http_requests: requests,
    refused_requests: refused.length,
    seconds: (Date.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

function exitCodeFor(error) {
  if (error instanceof ConnectorCallError) {
    const tag = error.connectorError.kind.tag;
    if (tag === "invalid-config") return EXIT_USAGE;
    if (tag === "authentication-failed" || tag === "insufficient-scope") return EXIT_AUTH;
    if (tag === "rate-limited") return EXIT_RATE_LIMITED;
    return EXIT_FAILURE;
  }
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof ActionError || error instanceof ArgumentError) {
    return EXIT_USAGE;
  }
  if (error?.code?.startsWith?.("ERR_PARSE_ARGS")) return EXIT_USAGE;
  return EXIT_FAILURE;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConnectorCallError) {
    const e = error.connectorError;
    process.stderr.write(`error: ${error.message}${e.retryable ? " (retryable)" : ""}\n`);
  } else {
    process.stderr.write(`error: ${error?.message ?? error}\n`);
  }
  process.exitCode = exitCodeFor(error);
}
