// A Node.js host for a connector component transpiled by jco
// (`transpile.mjs`, instantiation mode "async").
//
// The component gets exactly what `connector-world` imports:
// * `wasi:http/outgoing-handler` wrapped in the host's allow-list (policy.mjs):
//   a request to any other host is refused with `HTTP-request-denied` before
//   preview2-shim sees it. The list is the embedder's, or (`allowEndpointsOf`)
//   built from the component's own `endpoints` for the config, before
//   `configure`;
// * `wasi:http/types`, `wasi:io/*` and `wasi:clocks/monotonic-clock` from
//   preview2-shim;
// * the connector's own `log` import (to a callback; stderr by default).
// Nothing else: no filesystem, environment, sockets or stdio.
//
// jco turns WIT records into objects with camelCase fields and *silently*
// ignores fields it does not know. Every argument built here is checked
// strictly first: unknown or mistyped fields throw an `ArgumentError` and the
// component is not called. (Whether an action writes is never a field: `plan`
// and `provision` are separate exports.) `u64` values (sync progress) come
// back as BigInt; they are returned here as Numbers.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import * as shimClocks from "@bytecodealliance/preview2-shim/clocks";
import * as shimHttp from "@bytecodealliance/preview2-shim/http";
import * as shimIo from "@bytecodealliance/preview2-shim/io";

import { allowListEntry, HttpPolicy } from "./policy.mjs";
import { startWatchdog } from "./watchdog.mjs";

const LEVELS = ["debug", "info", "warn", "error"];

/** The error of a failed call: the component's typed `connector-error`. */
export class ConnectorCallError extends Error {
  constructor(during, error) {
    super(`${during} failed: ${errorKindName(error.kind)}: ${error.message}`);
    this.connectorError = error;
  }
}

/** A host argument that does not fit the WIT type (unknown field, wrong type). */
export class ArgumentError extends TypeError {}

/** `invalid-config(client_id)`, `transport`, ...: the WIT case and payload. */
export function errorKindName(kind) {
  return kind.val === undefined ? kind.tag : `${kind.tag}(${kind.val})`;
}

/** Throws an ArgumentError unless `value` is a plain object whose keys are all in `allowed`. */
function checkFields(what, value, allowed) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ArgumentError(`${what} must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ArgumentError(`${what} has no field ${JSON.stringify(key)} (fields: ${allowed.join(", ")})`);
    }
  }
}

function checkU32(what, value) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ArgumentError(`${what} must be an integer from 0 to 2^32-1, not ${JSON.stringify(value)}`);
  }
  return value;
}

function checkString(what, value) {
  if (typeof value !== "string") throw new ArgumentError(`${what} must be a string`);
  return value;
}

function checkOptionalString(what, value) {
  return value === undefined || value === null ? undefined : checkString(what, value);
}

/**
 * A `sync-request` from `{ cursor?, maxItems?, kinds?, checkpoint?, maxWaitMs?, concurrency? }`.
 * Missing numbers are 0 (the connector's defaults), missing kinds are [].
 */
export function syncRequest(request = {}) {
  checkFields("sync request", request, ["cursor", "maxItems", "kinds", "checkpoint", "maxWaitMs", "concurrency"]);
  const kinds = request.kinds ?? [];
  if (!Array.isArray(kinds)) throw new ArgumentError("sync request kinds must be an array of strings");
  return {
    cursor: checkOptionalString("sync request cursor", request.cursor),
    maxItems: checkU32("sync request maxItems", request.maxItems ?? 0),
    kinds: kinds.map((k) => checkString("a sync request kind", k)),
    checkpoint: checkOptionalString("sync request checkpoint", request.checkpoint),
    maxWaitMs: checkU32("sync request maxWaitMs", request.maxWaitMs ?? 0),
    concurrency: checkU32("sync request concurrency", request.concurrency ?? 0),
  };
}

const STRING_ACTIONS = ["create-account", "delete-account", "suspend-account", "resume-account", "end-sessions"];
const RECORD_ACTIONS = {
  "update-account": { principal: "string", attributes: "string" },
  grant: { principal: "string", resource: "string", permission: "string" },
  revoke: { principal: "string", resource: "string", permission: "string" },
  "set-credential": { principal: "string", password: "string", validatePolicy: "boolean" },
  "issue-link": { principal: "string", send: "boolean" },
  custom: { name: "string", params: "string" },
};

/** Checks a jco-shaped `action` variant (`{ tag, val }`) field by field. */
export function checkAction(action) {
  checkFields("action", action, ["tag", "val"]);
  const { tag, val } = action;
  if (STRING_ACTIONS.includes(tag)) {
    checkString(`action ${tag}`, val);
    return { tag, val };
  }
  const fields = RECORD_ACTIONS[tag];
  if (!fields) throw new ArgumentError(`unknown action ${JSON.stringify(tag)}`);
  checkFields(`action ${tag}`, val, Object.keys(fields));
  for (const [name, type] of Object.entries(fields)) {
    if (typeof val[name] !== type) throw new ArgumentError(`action ${tag} needs ${name} (${type})`);
  }
  return { tag, val: { ...val } };
}

/** Whether `value` is a WIT `connector-error` as jco lifts it. */
function isConnectorError(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.kind?.tag === "string" &&
    typeof value.message === "string" &&
    typeof value.retryable === "boolean"
  );
}

/** BigInt -> Number (u64 progress counters; exact below 2^53). */
function bigToNumber(value) {
  return typeof value === "bigint" ? Number(value) : value;
}

/** Config fields for the component from an object or `[name, value]` pairs. */
function configFields(fields) {
  const pairs = Array.isArray(fields) ? fields : Object.entries(fields);
  return pairs.map(([name, value]) => ({
    name: checkString("config field name", name),
    value: checkString(`config field ${name}`, value),
  }));
}

/** A configured-or-not instance of the component. */
export class ConnectorInstance {
  #api;
  #watchdog;

  constructor(api, watchdog) {
    this.#api = api;
    this.#watchdog = watchdog;
  }

  /** `connector-info`, as jco returns it. */
  describe() {
    return this.#call("describe", () => this.#api.describe());
  }

  /**
   * `endpoints`: the servers the component calls with `fields` (same
   * argument as `configure`), as `{ scheme: "https"|"http", host, port }`.
   * No network. Throws `ConnectorCallError` (`invalid-config`) for a bad config.
   */
  endpoints(fields) {
    const config = configFields(fields);
    return this.#call("endpoints", () => this.#api.endpoints(config));
  }

  /**
   * `configure` with `fields`: an object of name -> string value, or an
   * array of `[name, value]` pairs. Returns `account-info`; throws
   * `ConnectorCallError` with the component's typed error.
   */
  configure(fields) {
    const config = configFields(fields);
    return this.#call("configure", () => this.#api.configure(config));
  }

  /** One `sync` page (see `syncRequest` for the argument). */
  sync(request) {
    const req = syncRequest(request);
    const page = this.#call("sync", () => this.#api.sync(req));
    const p = page.progress;
    page.progress = {
      ...p,
      done: bigToNumber(p.done),
      total: bigToNumber(p.total),
      overallDone: bigToNumber(p.overallDone),
    };
    return page;
  }

  /** `plan` of a jco-shaped action: what `provision` would do; writes nothing. */
  plan(action) {
    const checked = checkAction(action);
    return this.#call("plan", () => this.#api.plan(checked));
  }

  /** `provision` of a jco-shaped action: runs it. */
  provision(action) {
    const checked = checkAction(action);
    return this.#call("provision", () => this.#api.provision(checked));
  }

  #call(during, fn) {
    this.#watchdog?.arm(during);
    try {
      return fn();
    } catch (e) {
      // jco 0.15 throws the result's error value itself (older versions
      // wrapped it in a ComponentError with a `payload`).
      const error = e && typeof e === "object" && "payload" in e ? e.payload : e;
      if (isConnectorError(error)) throw new ConnectorCallError(during, error);
      throw e;
    } finally {
      this.#watchdog?.disarm();
    }
  }
}

/**
 * The transpiled component in `dir` (from transpile.mjs) under an HTTP
 * policy. `instantiate()` gives a fresh, isolated instance each time;
 * `allowEndpointsOf(fields)` replaces the allow-list with exactly the
 * endpoints the component names for that config (call it before
 * `configure`; instances share the policy).
 *
 * @param {string} dir the transpile output directory
 * @param {object} options
 * @param {string[]} [options.allowedHosts] `host` / `host:port` the component may reach
 *   (default: none until `allowEndpointsOf`)
 * @param {Record<string,string>} [options.routes] host name -> loopback `127.0.0.1:PORT`
 * @param {(level: string, message: string) => void} [options.onLog] the component's log lines
 * @param {(refused: {method: string, url: string, reason: string}) => void} [options.onRefused]
 * @param {(request: {method: string, url: string}) => void} [options.onRequest] each allowed request
 * @param {number} [options.callTimeoutMs] wall-clock limit per call: past it the process is
 *   killed (lib/watchdog.mjs); none if absent
 */
export async function loadConnector(dir, options) {
  const routes = options.routes ?? {};
  let policy = new HttpPolicy(options.allowedHosts ?? [], routes);
  const onLog = options.onLog ?? stderrLog("info");
  const onRefused = options.onRefused ?? (() => {});
  const onRequest = options.onRequest ?? (() => {});
  const watchdog = options.callTimeoutMs ? startWatchdog(options.callTimeoutMs) : undefined;
  const { instantiate } = await import(pathToFileURL(join(dir, "connector.js")).href);
  const modules = new Map();
  const getCoreModule = async (name) => {
    if (!modules.has(name)) modules.set(name, WebAssembly.compile(await readFile(join(dir, name))));
    return modules.get(name);
  };

  // The handler reads the current policy on every request.
  const currentPolicy = { check: (scheme, authority) => policy.check(scheme, authority) };
  const handle = guardedHandler(currentPolicy, shimHttp.outgoingHandler.handle, { onRefused, onRequest });

  const imports = {
    "identity:connector/log": {
      log(level, message) {
        try {
          onLog(level, message);
        } catch {
          // A host's log sink must never trap the component.
        }
      },
    },
    "identity:connector/types": {},
    "wasi:clocks/monotonic-clock": shimClocks.monotonicClock,
    "wasi:http/outgoing-handler": { handle },
    "wasi:http/types": shimHttp.types,
    "wasi:io/error": shimIo.error,
    "wasi:io/poll": shimIo.poll,
    "wasi:io/streams": shimIo.streams,
  };

  const loader = {
    async instantiate() {
      const root = await instantiate(getCoreModule, imports);
      const key = Object.keys(root).find((k) => k.startsWith("identity:connector/connector@"));
      const api = root[key] ?? root.connector;
      if (!api) throw new Error("the component does not export identity:connector/connector");
      return new ConnectorInstance(api, watchdog);
    },

    /**
     * Asks a scratch instance for the config's `endpoints` and makes exactly
     * those the allow-list (routes stay). Returns the entries (`host:port`).
     */
    async allowEndpointsOf(fields) {
      const endpoints = (await loader.instantiate()).endpoints(fields);
      const entries = endpoints.map(allowListEntry);
      policy = new HttpPolicy(entries, routes);
      return entries;
    },
  };
  return loader;
}

/**
 * `wasi:http/outgoing-handler.handle` behind `policy`: a request the policy
 * refuses never reaches `inner` and fails with `HTTP-request-denied`; an
 * allowed one is rerouted if the policy says so, then handed to `inner`
 * (preview2-shim's handler).
 */
export function guardedHandler(policy, inner, { onRefused = () => {}, onRequest = () => {} } = {}) {
  return function handle(request, requestOptions) {
    const scheme = schemeName(request.scheme());
    const authority = request.authority();
    const method = methodName(request.method());
    const path = (request.pathWithQuery() ?? "/").split("?")[0];
    const decision = policy.check(scheme, authority);
    if (!decision.allow) {
      onRefused({ method, url: `${scheme}://${authority ?? ""}${path}`, reason: decision.reason });
      throw { tag: "HTTP-request-denied" };
    }
    if (decision.authority !== authority || decision.scheme !== scheme) {
      request.setScheme({ tag: decision.scheme === "http" ? "HTTP" : "HTTPS" });
      request.setAuthority(decision.authority);
    }
    onRequest({ method, url: `${scheme}://${authority}${path}` });
    return inner(request, requestOptions);
  };
}

function schemeName(scheme) {
  if (!scheme) return "https"; // preview2-shim's default
  if (scheme.tag === "HTTP") return "http";
  if (scheme.tag === "HTTPS") return "https";
  return String(scheme.val).toLowerCase();
}

function methodName(method) {
  return (method.tag === "other" ? method.val : method.tag).toUpperCase();
}

/** A log sink writing lines at `minLevel` or above to stderr. */
export function stderrLog(minLevel) {
  const min = Math.max(0, LEVELS.indexOf(minLevel));
  return (level, message) => {
    if (LEVELS.indexOf(level) >= min) process.stderr.write(`component ${level}: ${message}\n`);
  };
}
