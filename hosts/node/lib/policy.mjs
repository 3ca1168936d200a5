// The Node host's outgoing-HTTP policy: which hosts the component may reach,
// and where. The same rules as the wasmtime harness (host-test/src/harness/policy.rs):
//
// * The host must be on the allow-list the host was given. The CLI builds it
//   before `configure` from the component's `endpoints` export for the config
//   (`allowListEntry`), or takes `--allow`; nothing the component sends at run
//   time can widen it. An entry without a port allows only the scheme's
//   default port (443 for https, 80 for http).
// * `https` to an allowed host; plain `http` only to a loopback address
//   (`127.0.0.0/8`, `::1`, `localhost`) that is itself on the list.
// * A route (`host name -> 127.0.0.1:PORT`) sends an allowed `https` request
//   for that host to the loopback address over plain http (for tests against
//   the simulator: the component's production URL logic still runs).
//
// preview2-shim has no allow-list of its own: without this check a component
// could reach any host the Node process can.

import { isIP } from "node:net";

/** Lower-cases a host, strips IPv6 brackets and one trailing dot. */
export function normalizeHost(host) {
  let h = String(host);
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h.toLowerCase();
}

/** Whether a host names the local machine: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host) {
  const h = normalizeHost(host);
  if (h === "localhost") return true;
  const kind = isIP(h);
  if (kind === 4) return h.split(".")[0] === "127";
  if (kind === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1";
  return false;
}

/**
 * Splits `host`, `host:port`, `[v6]` or `[v6]:port` into `{ host, port }`
 * (port `undefined` when absent). Returns `null` for anything else.
 */
export function parseAuthority(authority) {
  const text = String(authority ?? "").trim();
  if (text === "" || /[\s/@?#]/.test(text)) return null;
  let host;
  let port;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return null;
    host = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return null;
      port = rest.slice(1);
    }
    if (isIP(host) !== 6) return null;
  } else {
    const parts = text.split(":");
    if (parts.length > 2) return null;
    [host, port] = parts;
  }
  if (port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) return null;
    port = Number(port);
  }
  host = normalizeHost(host);
  if (host === "") return null;
  return { host, port };
}

/**
 * The allow-list entry (`host:port`, IPv6 in brackets) of an `endpoint` the
 * component's `endpoints` export returned (`{ scheme, host, port }`). The
 * policy adds the scheme rules (plain http only to loopback).
 */
export function allowListEntry(endpoint) {
  const host = String(endpoint.host);
  const port = Number(endpoint.port);
  if (host === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`the component named an invalid endpoint ${JSON.stringify(endpoint)}`);
  }
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A config problem found by the host (exit status 2 in the CLI). */
export class ConfigError extends Error {}

/**
 * The allow-list and route map. `check(scheme, authority)` says whether a
 * request may go out, and where.
 */
export class HttpPolicy {
  #allowed;
  #routes;

  /**
   * @param {string[]} allowedHosts `host` or `host:port` entries
   * @param {Record<string, string>} routes host name -> `127.0.0.1:PORT`
   */
  constructor(allowedHosts, routes = {}) {
    this.#allowed = allowedHosts.map((entry) => {
      const parsed = parseAuthority(entry);
      if (!parsed) throw new ConfigError(`invalid allowed host ${JSON.stringify(entry)}`);
      return parsed;
    });
    this.#routes = new Map();
    for (const [host, target] of Object.entries(routes)) {
      const parsed = parseAuthority(target);
      if (!parsed || parsed.port === undefined || !isLoopbackHost(parsed.host)) {
        throw new ConfigError(`route for ${JSON.stringify(host)} must point to a loopback host:port, not ${JSON.stringify(target)}`);
      }
      this.#routes.set(normalizeHost(host), target);
    }
  }

  #isAllowed(host, port, defaultPort) {
    return this.#allowed.some((e) => e.host === host && (e.port ?? defaultPort) === port);
  }

  /**
   * @param {"https"|"http"|string} scheme
   * @param {string|undefined} authority the request's `host[:port]`
   * @returns {{ allow: true, scheme: string, authority: string } | { allow: false, reason: string }}
   */
  check(scheme, authority) {
    const refuse = (reason) => ({ allow: false, reason });
    if (scheme !== "https" && scheme !== "http") return refuse(`scheme ${scheme} is not allowed`);
    const parsed = parseAuthority(authority);
    if (!parsed) return refuse(`request has no valid host (${JSON.stringify(authority ?? "")})`);
    const { host } = parsed;
    if (scheme === "https") {
      const port = parsed.port ?? 443;
      if (!this.#isAllowed(host, port, 443)) return refuse(`host ${host}:${port} is not on the allow-list`);
      const route = port === 443 ? this.#routes.get(host) : undefined;
      if (route) return { allow: true, scheme: "http", authority: route };
      return { allow: true, scheme: "https", authority };
    }
    const port = parsed.port ?? 80;
    if (!isLoopbackHost(host)) return refuse(`plain http is only allowed to loopback addresses, not ${host}`);
    if (!this.#isAllowed(host, port, 80)) return refuse(`host ${host}:${port} is not on the allow-list`);
    return { allow: true, scheme: "http", authority };
  }
}
