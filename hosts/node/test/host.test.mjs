// Unit tests of the Node host's own logic: the allow-list, the guarded
// outgoing handler (on preview2-shim's real request objects), and strict
// argument checking. The component itself is exercised by tests/node_host.rs.

import assert from "node:assert/strict";
import { test } from "node:test";

import { types } from "@bytecodealliance/preview2-shim/http";

import { ActionError, parseAction } from "../lib/action.mjs";
import { ArgumentError, checkAction, guardedHandler, syncRequest } from "../lib/host.mjs";
import { allowListEntry, ConfigError, HttpPolicy, isLoopbackHost } from "../lib/policy.mjs";

test("allow-list entries come from the component's endpoints, port explicit", () => {
  assert.equal(allowListEntry({ scheme: "https", host: "acme.onelogin.com", port: 443 }), "acme.onelogin.com:443");
  assert.equal(allowListEntry({ scheme: "http", host: "127.0.0.1", port: 8080 }), "127.0.0.1:8080");
  assert.equal(allowListEntry({ scheme: "http", host: "::1", port: 9 }), "[::1]:9");
  assert.throws(() => allowListEntry({ scheme: "https", host: "", port: 443 }), ConfigError);
  assert.throws(() => allowListEntry({ scheme: "https", host: "a.example", port: 0 }), ConfigError);
  const policy = new HttpPolicy([allowListEntry({ scheme: "https", host: "acme.onelogin.com", port: 443 })]);
  assert.equal(policy.check("https", "acme.onelogin.com").allow, true);
  assert.equal(policy.check("https", "acme.onelogin.com:8443").allow, false);
});

test("only allowed hosts pass, https or loopback http, on the entry's port", () => {
  const policy = new HttpPolicy(["acme.onelogin.com", "127.0.0.1:8080"]);
  assert.equal(policy.check("https", "acme.onelogin.com").allow, true);
  assert.equal(policy.check("https", "ACME.onelogin.com.:443").allow, true);
  assert.equal(policy.check("https", "acme.onelogin.com:8443").allow, false);
  assert.equal(policy.check("https", "evil.example").allow, false);
  assert.equal(policy.check("https", "acme.onelogin.com.evil.example").allow, false);
  assert.equal(policy.check("http", "acme.onelogin.com").allow, false, "plain http only to loopback");
  assert.equal(policy.check("http", "127.0.0.1:8080").allow, true);
  assert.equal(policy.check("http", "127.0.0.1:8081").allow, false);
  assert.equal(policy.check("ftp", "acme.onelogin.com").allow, false);
  assert.equal(policy.check("https", undefined).allow, false);
  assert.equal(policy.check("https", "user@acme.onelogin.com").allow, false);
  assert.ok(isLoopbackHost("127.9.9.9") && isLoopbackHost("[::1]") && isLoopbackHost("localhost"));
  assert.ok(!isLoopbackHost("127.0.0.1.evil.example") && !isLoopbackHost("10.0.0.1"));
});

test("a route serves an allowed https host from loopback, and only to loopback", () => {
  const policy = new HttpPolicy(["acme.onelogin.com"], { "acme.onelogin.com": "127.0.0.1:4000" });
  assert.deepEqual(policy.check("https", "acme.onelogin.com"), { allow: true, scheme: "http", authority: "127.0.0.1:4000" });
  assert.throws(() => new HttpPolicy(["a.example"], { "a.example": "10.0.0.1:80" }), ConfigError);
  assert.throws(() => new HttpPolicy(["a.example/x"]), ConfigError);
});

function request(scheme, authority, path = "/api/2/users?secret=1") {
  const r = new types.OutgoingRequest(new types.Fields());
  if (scheme) r.setScheme({ tag: scheme });
  r.setAuthority(authority);
  r.setPathWithQuery(path);
  return r;
}

test("a refused request never reaches the shim and fails with HTTP-request-denied", () => {
  const sent = [];
  const refused = [];
  const handle = guardedHandler(new HttpPolicy(["acme.onelogin.com"]), (r) => sent.push(r.authority()), {
    onRefused: (r) => refused.push(r),
  });
  assert.throws(() => handle(request("HTTPS", "evil.example")), (e) => e.tag === "HTTP-request-denied");
  assert.throws(() => handle(request("HTTP", "acme.onelogin.com")), (e) => e.tag === "HTTP-request-denied");
  assert.deepEqual(sent, []);
  assert.equal(refused.length, 2);
  assert.equal(refused[0].url, "https://evil.example/api/2/users", "logged without the query");
  handle(request(undefined, "acme.onelogin.com"));
  assert.deepEqual(sent, ["acme.onelogin.com"], "no scheme is https in preview2-shim");
});

test("an allowed request with a route is rewritten to the loopback address before the shim sends it", () => {
  const sent = [];
  const handle = guardedHandler(new HttpPolicy(["acme.onelogin.com"], { "acme.onelogin.com": "127.0.0.1:4000" }), (r) =>
    sent.push([r.scheme().tag, r.authority(), r.pathWithQuery()]),
  );
  handle(request("HTTPS", "acme.onelogin.com"));
  assert.deepEqual(sent, [["HTTP", "127.0.0.1:4000", "/api/2/users?secret=1"]]);
});

test("host arguments are checked strictly: jco would silently drop an unknown field", () => {
  assert.throws(() => checkAction({ tag: "grant", val: { principal: "p", resource: "r", permission: "m", dry_run: true } }), ArgumentError);
  assert.throws(() => checkAction({ tag: "suspend-account", val: "k", dryRun: true }), ArgumentError);
  assert.throws(() => syncRequest({ max_items: 5 }), ArgumentError);
  assert.throws(() => syncRequest({ maxItems: -1 }), ArgumentError);
  assert.throws(() => syncRequest({ kinds: "users" }), ArgumentError);
  assert.deepEqual(syncRequest({ maxItems: 5 }), {
    cursor: undefined,
    maxItems: 5,
    kinds: [],
    checkpoint: undefined,
    maxWaitMs: 0,
    concurrency: 0,
  });
});

test("actions parse from host-test's JSON format into jco's variant shape", () => {
  assert.deepEqual(parseAction('{"suspend-account":"onelogin_user:1"}'), { tag: "suspend-account", val: "onelogin_user:1" });
  assert.deepEqual(parseAction('{"set-credential":{"principal":"onelogin_user:1","password":"p","validate_policy":true}}'), {
    tag: "set-credential",
    val: { principal: "onelogin_user:1", password: "p", validatePolicy: true },
  });
  assert.deepEqual(parseAction('{"custom":{"name":"lock_user","params":{"minutes":5}}}'), {
    tag: "custom",
    val: { name: "lock_user", params: '{"minutes":5}' },
  });
  assert.throws(() => parseAction('{"grant":{"principal":"onelogin_user:1","resource":"r"}}'), ActionError);
  assert.throws(() => parseAction('{"suspend-account":"a","grant":{}}'), ActionError);
  const error = (() => {
    try {
      parseAction('{"set-credential":{"principal":"onelogin_user:1","pasword":"hunter2"}}');
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.ok(error instanceof ActionError);
  assert.ok(!error.message.includes("hunter2"), error.message);
});
