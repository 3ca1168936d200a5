#!/usr/bin/env python3
"""Reads the OneLogin API simulator with OneLogin's official Python SDK.

Usage: check_simulator.py BASE_URL CLIENT_ID CLIENT_SECRET [--keep-going]

Every operation goes through the SDK's typed API methods (the `*_with_http_info`
variants, which return the parsed model together with the status and headers), so the
SDK's pydantic models validate every response. One line per operation:

    ok    <operation>: <what came back>
    skip  <operation>: <why>          (the SDK has no such operation)
    note  <operation>: <remark>       (informational, never a failure)
    FAIL  <operation>: <SDK error>

Exits 1 on the first failure (or, with --keep-going or PY_SDK_KEEP_GOING=1, after
running everything and listing all failures), 2 on bad usage. Never prints the client secret or the token.

Operations marked "extra" are ones the connector uses but that were not part of the
original list; for those a 404 (endpoint not served) is a note, not a failure, while a
response the SDK cannot parse still fails.
"""

import json
import os
import sys
import time

import onelogin
from onelogin.exceptions import ApiException, NotFoundException
from onelogin.models import (
    Connector,
    Error,
    GenerateTokenRequest,
    GetUserApps200ResponseInner,
    ListMappingActionValues200ResponseInner,
    LockAccountUserRequest,
    SetUserStateRequest,
    User,
)

from pydantic import ValidationError  # pydantic v2, a dependency of the SDK

EPOCH = "2000-01-01T00:00:00Z"
PROBE = "py-sdk-check"


class Skip(Exception):
    """The SDK lacks the operation."""


class Failure(Exception):
    """A check on the parsed data did not hold."""


class Checker:
    def __init__(self, secrets, keep_going):
        self.secrets = [s for s in secrets if s]
        self.keep_going = keep_going
        self.failures = []
        self.results = {}

    def redact(self, text):
        text = str(text)
        for s in self.secrets:
            text = text.replace(s, "<redacted>")
        return text

    def say(self, tag, name, text):
        print(f"{tag:<5} {name}: {self.redact(text)}", flush=True)

    def describe(self, err):
        if isinstance(err, ApiException):
            body = err.body
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            body = (body or "").strip().replace("\n", " ")
            if len(body) > 400:
                body = body[:400] + "..."
            return f"{type(err).__name__}: HTTP {err.status} {err.reason}; body: {body}"
        if isinstance(err, SdkParseError):
            body = json.dumps(err.raw)
            if len(body) > 600:
                body = body[:600] + "..."
            return f"the SDK model rejected the response: {one_line(err.err)}; body: {body}"
        if isinstance(err, ValidationError):
            return f"pydantic ValidationError: {one_line(err)}"
        return f"{type(err).__name__}: {one_line(err)}"

    def run(self, name, fn, extra=False):
        """Runs one operation; `fn` returns a summary string."""
        try:
            summary = fn()
        except Skip as s:
            self.say("skip", name, s)
            self.results[name] = "skip"
            return None
        except NotFoundException as e:
            if extra:
                self.say("note", name, "not served by the simulator (404); " + self.describe(e))
                self.results[name] = "not served"
                return None
            return self.fail(name, e)
        except Exception as e:  # noqa: BLE001: every error is a finding
            return self.fail(name, e)
        self.say("ok", name, summary)
        self.results[name] = "ok"
        return summary

    def fail(self, name, err):
        self.say("FAIL", name, self.describe(err))
        self.failures.append(name)
        self.results[name] = "FAIL"
        if not self.keep_going:
            sys.exit(1)
        return None


class SdkParseError(Exception):
    """The SDK's declared response model rejected a response the server did send."""

    def __init__(self, method, err, raw):
        super().__init__(f"{method}: {err}")
        self.err = err
        self.raw = raw


def call(api, method, *args, **kwargs):
    """Calls `api.<method>_with_http_info`: returns (parsed data, status, headers, raw JSON).

    A pydantic error raised while parsing the response (as opposed to validating our
    arguments) becomes SdkParseError carrying the raw body, so an operation whose SDK
    spec is known to disagree with the real API can validate the parts it can."""
    fn = getattr(api, method + "_with_http_info", None)
    if fn is None:
        raise Skip(f"the SDK has no {type(api).__name__}.{method}")
    before = getattr(api.api_client, "last_response", None)
    try:
        resp = fn(*args, **kwargs)
    except ValidationError as err:
        last = getattr(api.api_client, "last_response", None)
        if last is None or last is before:
            raise  # our arguments, not the response
        raise SdkParseError(method, err, parse_json(last.data)) from None
    return resp.data, resp.status_code, resp.headers, parse_json(resp.raw_data)


def parse_json(body):
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body


def one_line(err):
    lines = (line.strip() for line in str(err).splitlines())
    return " | ".join(line for line in lines if line and not line.startswith("For further information"))


def expect(cond, msg):
    if not cond:
        raise Failure(msg)


def expect_list(data, what, nonempty=True):
    expect(isinstance(data, list), f"{what}: expected a list, the SDK returned {type(data).__name__}")
    if nonempty:
        expect(len(data) > 0, f"{what}: expected at least one item, got none")
    return data


def unknown_keys(raw, model):
    """Keys in the raw JSON object(s) that `model` does not declare (informational)."""
    fields = set()
    for fname, f in model.model_fields.items():
        fields.add(f.alias or fname)
        fields.add(fname)
    items = raw if isinstance(raw, list) else [raw]
    extra = set()
    for item in items:
        if isinstance(item, dict):
            extra |= set(item) - fields
    return sorted(extra)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    base_url, client_id, client_secret = args
    keep_going = "--keep-going" in argv or os.environ.get("PY_SDK_KEEP_GOING") == "1"
    ck = Checker([client_secret], keep_going=keep_going)
    print(f"onelogin SDK {onelogin.__version__} against {base_url}", flush=True)
    notes = []

    def note(name, text):
        notes.append((name, text))
        ck.say("note", name, text)

    def note_unknown(name, raw, model):
        extra = unknown_keys(raw, model)
        if extra:
            note(name, f"keys not in the SDK model {model.__name__}: {', '.join(extra)}")

    deviations = []

    def sdk_deviation(name, err, declared, actual):
        """Records a response the SDK's declared model rejects although it has the shape
        the real API documents (developers.onelogin.com); the caller then validates the parts
        with the SDK's own models."""
        if name in deviations:
            return
        deviations.append(name)
        ck.say("note", name, f"SDK spec bug: declares {declared}, but the API returns {actual}; "
               f"validated the parts with the SDK models instead (SDK error: {one_line(err.err)[:300]})")

    def v1_status(name, err, declared):
        """Fallback for v1 actions whose SDK spec declares a bare Error body."""
        raw = err.raw
        if not (isinstance(raw, dict) and isinstance(raw.get("status"), dict)):
            raise err
        sdk_deviation(name, err, declared, 'the v1 envelope {"status": {...}}')
        status = Error.from_dict(raw["status"])
        expect(status.code == 200 and status.error is False, f"status {status!r}")
        return status

    # ---------------- OAuth2 token, through the SDK ----------------
    # Configuration(host=...) replaces the default https://your-api-subdomain.onelogin.com
    # (the SDK sets server_index=None, so `host` is used verbatim as the base URL).
    # generate_token uses HTTP basic auth from Configuration.username/password.
    token_conf = onelogin.Configuration(host=base_url, username=client_id, password=client_secret)
    token_client = onelogin.ApiClient(token_conf)
    state = {}

    def token():
        try:
            request = GenerateTokenRequest(grant_type="client_credentials")
            data, status, _, raw = call(onelogin.OAuth2Api(token_client), "generate_token", request)
        except SdkParseError as err:
            # Keep the token out of the failure message.
            if isinstance(err.raw, dict):
                ck.secrets += [str(err.raw[k]) for k in ("access_token", "refresh_token") if err.raw.get(k)]
            raise
        expect(status == 200, f"status {status}")
        expect(data.access_token, "no access_token in the parsed OauthToken")
        ck.secrets.append(data.access_token)
        state["token"] = data.access_token
        note_unknown("generate_token", raw, type(data))
        return f"token_type={data.token_type} expires_in={data.expires_in} account_id={data.account_id}"

    ck.run("oauth2 generate_token (POST /auth/oauth2/v2/token)", token)
    if "token" not in state:
        return 1

    conf = onelogin.Configuration(host=base_url)
    # The constructor's access_token argument is overwritten with None by this SDK
    # version, so set the attribute afterwards.
    conf.access_token = state["token"]
    client = onelogin.ApiClient(conf)
    oauth = onelogin.OAuth2Api(client)
    users2 = onelogin.UsersV2Api(client)
    users1 = onelogin.UsersV1Api(client)
    roles = onelogin.RolesApi(client)
    apps = onelogin.AppsApi(client)
    rules = onelogin.AppRulesApi(client)
    mfa = onelogin.MultiFactorAuthenticationApi(client)
    groups = onelogin.GroupsApi(client)
    events = onelogin.EventsApi(client)
    privileges = onelogin.PrivilegesApi(client)
    invites = onelogin.InviteLinksApi(client)
    bearer_header = {"Authorization": "Bearer " + state["token"]}

    def rate_limit():
        data, _, _, _ = call(oauth, "get_rate_limit")
        expect(data.data is not None, "no data")
        return f"limit={data.data.x_rate_limit_limit} remaining={data.data.x_rate_limit_remaining}"

    ck.run("extra: oauth2 get_rate_limit (GET /auth/rate_limit)", rate_limit, extra=True)

    # ---------------- v2 users ----------------
    def list_users_pages():
        data, _, headers, raw = call(users2, "list_users2", limit=20)
        expect_list(data, "page 1")
        expect(len(data) == 20, f"page 1 has {len(data)} users, asked for 20")
        expect(all(u.id for u in data), "a user without id")
        note_unknown("list_users2", raw, User)
        total = headers.get("Total-Count")
        ids = [u.id for u in data]
        cursor = headers.get("After-Cursor")
        expect(cursor, "no After-Cursor header on page 1")
        pages = 1
        while cursor:
            # The cursor alone: with `limit` the real API answers 400 (FIDELITY.md F-PAGE-3).
            data, _, headers, _ = call(users2, "list_users2", cursor=cursor)
            expect_list(data, f"page {pages + 1}")
            ids += [u.id for u in data]
            pages += 1
            cursor = headers.get("After-Cursor")
            expect(pages < 50, "more than 50 pages")
        expect(len(ids) == len(set(ids)), "the same user on two pages")
        if total is not None:
            expect(int(total) == len(ids), f"Total-Count {total} but {len(ids)} users paged")
        state["user_ids"] = ids
        return f"{len(ids)} users in {pages} pages of 20 via After-Cursor (Total-Count={total})"

    ck.run("v2 list_users2 (limit + After-Cursor pages)", list_users_pages)
    user_ids = state.get("user_ids") or [1]

    def get_user():
        data, _, _, raw = call(users2, "get_user2", user_ids[0])
        expect(data.id == user_ids[0], f"asked for {user_ids[0]}, got {data.id}")
        note_unknown("get_user2", raw, User)
        state["user"] = data
        return f"id={data.id} username={data.username!r} status={data.status} state={data.state}"

    ck.run("v2 get_user2 (GET /api/2/users/{id})", get_user)

    def updated_since():
        data, _, headers, _ = call(users2, "list_users2", updated_since=EPOCH, limit=50)
        expect_list(data, f"updated_since={EPOCH}")
        recent, _, _, _ = call(users2, "list_users2", updated_since="2999-01-01T00:00:00Z")
        expect_list(recent, "updated_since=2999", nonempty=False)
        return (
            f"since {EPOCH}: {len(data)} users on page 1 (Total-Count={headers.get('Total-Count')}); "
            f"since 2999: {len(recent)}"
        )

    ck.run("v2 list_users2 updated_since", updated_since)

    def user_apps2():
        seen = 0
        total = 0
        for uid in user_ids[:20]:
            data, _, _, raw = call(users2, "get_user_apps2", uid)
            expect_list(data, f"user {uid} apps", nonempty=False)
            seen += 1
            total += len(data)
            if data:
                expect(all(a.id and a.name for a in data), "an app without id or name")
                note_unknown("get_user_apps2", raw, type(data[0]))
                state["user_with_apps"] = uid
                break
        expect(total > 0, f"none of {seen} users has apps")
        return f"user {state['user_with_apps']}: {total} apps (after {seen} users)"

    ck.run("v2 get_user_apps2 (GET /api/2/users/{id}/apps)", user_apps2)

    def custom_attributes_v2():
        raise Skip(
            "the SDK has no GET /api/2/users/custom_attributes operation "
            "(only UsersV1Api.get_custom_attributes, GET /api/1/users/custom_attributes)"
        )

    ck.run("v2 custom attributes (GET /api/2/users/custom_attributes)", custom_attributes_v2)

    def custom_attributes_v1():
        data, _, _, _ = call(users1, "get_custom_attributes")
        return f"data={data.data!r}"

    ck.run("extra: v1 get_custom_attributes (GET /api/1/users/custom_attributes)", custom_attributes_v1, extra=True)

    stamp = str(int(time.time() * 1000))

    def create_user():
        new = User(
            firstname="Py",
            lastname="Sdk",
            email=f"{PROBE}-{stamp}@example.com",
            username=f"{PROBE}-{stamp}",
        )
        data, status, _, raw = call(users2, "create_user2", user=new)
        expect(status in (200, 201), f"status {status}")
        expect(data is not None and data.id, "no id in the created user")
        expect(data.username == new.username, f"username {data.username!r}")
        note_unknown("create_user2", raw, User)
        state["new_user"] = data.id
        return f"HTTP {status} id={data.id} status={data.status}"

    ck.run("v2 create_user2 (POST /api/2/users)", create_user)

    def update_user():
        uid = state["new_user"]
        data, status, _, _ = call(users2, "update_user2", uid, mappings="sync", user=User(title="SDK checked"))
        expect(data is not None and data.id == uid, "wrong or no user returned")
        expect(data.title == "SDK checked", f"title {data.title!r}")
        return f"HTTP {status} id={data.id} title={data.title!r}"

    ck.run("v2 update_user2 (PUT /api/2/users/{id}?mappings=sync)", update_user)

    # ---------------- v2 roles ----------------
    def list_roles():
        data, _, headers, raw = call(roles, "list_roles")
        expect_list(data, "roles")
        expect(all(r.id for r in data), "a role without id")
        note_unknown("list_roles", raw, type(data[0]))
        paged, _, h2, _ = call(roles, "list_roles", limit=2)
        expect_list(paged, "roles limit=2")
        expect(len(paged) <= 2, f"limit=2 gave {len(paged)}")
        state["roles"] = [r.id for r in data]
        after = "set" if h2.get("After-Cursor") else "absent"
        return f"{len(data)} roles; limit=2 -> {len(paged)} (After-Cursor {after})"

    ck.run("v2 list_roles", list_roles)
    role_ids = state.get("roles") or [1]

    def get_role():
        data, _, _, raw = call(roles, "get_role", str(role_ids[0]))
        expect(data.id == role_ids[0], f"asked for {role_ids[0]}, got {data.id}")
        note_unknown("get_role", raw, type(data))
        return f"id={data.id} name={data.name!r}"

    ck.run("v2 get_role (GET /api/2/roles/{id})", get_role)

    def role_members(method, what):
        def check():
            total = 0
            busiest = None
            for rid in role_ids[:10]:
                data, _, _, raw = call(roles, method, str(rid))
                expect_list(data, f"role {rid} {what}", nonempty=False)
                expect(all(x.id for x in data), f"a {what} item without id")
                if data and busiest is None:
                    busiest = rid
                    note_unknown(method, raw, type(data[0]))
                total += len(data)
            expect(total > 0, f"no {what} in the first {min(10, len(role_ids))} roles")
            return f"{total} {what} over {min(10, len(role_ids))} roles"

        return check

    ck.run("v2 get_role_users (GET /api/2/roles/{id}/users)", role_members("get_role_users", "users"))
    ck.run("v2 get_role_admins (GET /api/2/roles/{id}/admins)", role_members("get_role_admins", "admins"))
    ck.run("v2 get_role_apps (GET /api/2/roles/{id}/apps)", role_members("get_role_apps", "apps"))

    def add_role_users():
        rid, uid = str(role_ids[0]), state["new_user"]
        data, status, _, _ = call(roles, "add_role_users", rid, [uid])
        expect_list(data, "add_role_users result")
        expect([x.id for x in data] == [uid], f"returned {[x.id for x in data]}")
        members, _, _, _ = call(roles, "get_role_users", rid, limit=100)
        ids = [m.id for m in members]
        expect(uid in ids or len(ids) >= 100, f"user {uid} not listed in role {rid} users")
        return f"HTTP {status} {data!r}"

    ck.run("v2 add_role_users (POST /api/2/roles/{id}/users)", add_role_users)

    def remove_role_users():
        rid, uid = str(role_ids[0]), state["new_user"]
        data, status, _, _ = call(roles, "remove_role_users", rid, [uid])
        expect(status in (200, 204), f"status {status}")
        after, _, _, _ = call(users2, "get_user2", uid)
        expect(rid not in [str(r) for r in (after.role_ids or [])], f"role {rid} still in role_ids")
        return f"HTTP {status}"

    ck.run("v2 remove_role_users (DELETE /api/2/roles/{id}/users)", remove_role_users)

    # ---------------- v2 apps ----------------
    def list_apps():
        data, _, _, raw = call(apps, "list_apps")
        expect_list(data, "apps")
        expect(all(a.id for a in data), "an app without id")
        note_unknown("list_apps", raw, type(data[0]))
        state["apps"] = [a.id for a in data]
        return f"{len(data)} apps"

    ck.run("v2 list_apps", list_apps)
    app_ids = state.get("apps") or [1]

    def get_app():
        data, _, _, raw = call(apps, "get_app", app_ids[0])
        expect(data.id == app_ids[0], f"asked for {app_ids[0]}, got {data.id}")
        note_unknown("get_app", raw, type(data))
        return f"id={data.id} name={data.name!r} connector_id={data.connector_id}"

    ck.run("extra: v2 get_app (GET /api/2/apps/{id})", get_app, extra=True)

    def app_users():
        data, _, _, _ = call(apps, "get_app_users", app_ids[0])
        expect_list(data, "app users", nonempty=False)
        return f"app {app_ids[0]}: {len(data)} users"

    ck.run("extra: v2 get_app_users (GET /api/2/apps/{id}/users)", app_users, extra=True)

    def app_rules(enabled):
        def check():
            total = 0
            disabled = 0
            apps_with = 0
            kwargs = {} if enabled is None else {"enabled": enabled}
            for aid in app_ids[:15]:
                data, _, _, raw = call(rules, "list_app_rules", aid, **kwargs)
                expect_list(data, f"app {aid} rules", nonempty=False)
                if data:
                    apps_with += 1
                    expect(all(r.id and r.match and r.actions is not None for r in data), "rule lacks id/match/actions")
                    disabled += sum(1 for r in data if r.enabled is False)
                    if total == 0:
                        note_unknown("list_app_rules", raw, type(data[0]))
                total += len(data)
            shown = "default" if enabled is None else f"enabled={str(enabled).lower()}"
            return f"{shown}: {total} rules ({disabled} disabled) in {apps_with} of {min(15, len(app_ids))} apps"

        return check

    ck.run("v2 list_app_rules (GET /api/2/apps/{id}/rules)", app_rules(None))
    ck.run("v2 list_app_rules enabled=false", app_rules(False))

    # The rule catalogues: the connector does not read them, the simulator serves them
    # (FIDELITY.md F-RULE-14), so a 404 here is a failure.
    def rule_conditions():
        data, _, _, raw = call(rules, "list_conditions", app_ids[0])
        expect_list(data, "conditions")
        values = [c.value for c in data]
        expect("member_of" in values and "has_role" in values, f"member_of and has_role listed: {values}")
        expect(any(v.startswith("custom_attribute_") for v in values), "custom attributes listed")
        note_unknown("list_conditions", raw, type(data[0]))
        return f"{len(data)} conditions"

    ck.run("v2 list_conditions (GET /api/2/apps/{id}/rules/conditions)", rule_conditions)

    def rule_operators():
        data, _, _, _ = call(rules, "list_condition_operators", app_ids[0], "member_of")
        expect_list(data, "member_of operators")
        got = [o.value for o in data]
        expect(got == ["=", "!=", "~", "!~", "bw", "ew"], f"member_of operators {got}")
        return "member_of: " + " ".join(got)

    ck.run("v2 list_condition_operators (GET …/rules/conditions/{v}/operators)", rule_operators)

    def role_values(method, name, sdk_says):
        """The roles a catalogue lists for `name` (condition or action): `[{name, value: <int
        id>}]` as the docs' samples show, validated with the SDK's `{name, value: int}` model;
        the SDK's own declaration (`sdk_says`) is logged as a deviation when it fails to parse."""
        try:
            _, _, _, raw = call(rules, method, app_ids[0], name)
        except SdkParseError as err:
            sdk_deviation(method, err, sdk_says, "a list of roles {name, value: <int id>}")
            raw = err.raw
        expect(isinstance(raw, list) and raw, f"{name} values: a non-empty list, got {raw!r}")
        items = [ListMappingActionValues200ResponseInner.from_dict(i) for i in raw]
        expect(all(i.name and isinstance(i.value, int) for i in items), f"{name} values: name and integer id")
        return f"{name}: {len(items)} roles"

    ck.run("v2 list_condition_values (GET …/rules/conditions/{v}/values)",
           lambda: role_values("list_condition_values", "has_role", "one RuleCondition {name, value: str}"))

    def rule_actions():
        data, _, _, _ = call(rules, "list_actions", app_ids[0])
        expect_list(data, "actions")
        values = [a.value for a in data]
        expect("set_status" in values and "add_role" in values, f"set_status and add_role listed: {values}")
        return f"{len(data)} actions"

    ck.run("v2 list_actions (GET /api/2/apps/{id}/rules/actions)", rule_actions)

    ck.run("v2 list_action_valies (GET …/rules/actions/{v}/values)",
           lambda: role_values("list_action_valies", "add_role", "RuleAction items {name, value: str}"))

    def documented_filters():
        """The list filters through the SDK's own parameter names (FIDELITY.md row 23)."""
        users, _, _, _ = call(users2, "list_users2", samaccountname="*", limit=100)
        expect(all(u.samaccountname for u in users), "samaccountname=* kept a user without one")
        logged, _, _, _ = call(users2, "list_users2", last_login_since="2000-01-01T00:00:00Z", limit=100)
        expect(all(u.last_login for u in logged), "last_login_since kept a user who never logged in")
        rid = str(role_ids[0])
        members, _, _, raw = call(roles, "get_role_users", rid, include_unassigned=True, limit=100)
        flags = {item.get("assigned") for item in raw}
        expect(False in flags, f"include_unassigned=true listed no unassigned user (flags {flags})")
        held, _, _, _ = call(roles, "get_role_apps", rid)
        others, _, _, _ = call(roles, "get_role_apps", rid, assigned=False)
        expect(not {a.id for a in held} & {a.id for a in others}, "assigned=false listed an app the role holds")
        with_role = 0
        for aid in app_ids[:15]:
            data, _, _, _ = call(rules, "list_app_rules", aid, has_condition="has_role:*")
            expect(all(any(c.source == "has_role" for c in r.conditions) for r in data), "has_condition kept a rule")
            with_role += len(data)
        evts, _, _, _ = call(events, "get_events", client_id=1)
        expect(not evts.data, "client_id=1 answered events")
        return (
            f"samaccountname=*: {len(users)}; last_login_since: {len(logged)}; role {rid} with unassigned: "
            f"{len(members)}, apps held/not: {len(held)}/{len(others)}; has_role rules: {with_role}"
        )

    ck.run("v2/v1 documented list filters (samaccountname, last_login_since, include_unassigned, assigned, "
           "has_condition, client_id)", documented_filters)

    # ---------------- v2 MFA ----------------
    def mfa_devices():
        total = 0
        seen = 0
        for uid in user_ids[:30]:
            data, _, _, raw = call(mfa, "get_authentication_devices", uid)
            expect_list(data, f"user {uid} devices", nonempty=False)
            seen += 1
            if data:
                expect(all(d.device_id and d.auth_factor_name for d in data), "a device without id or factor")
                if total == 0:
                    note_unknown("get_authentication_devices", raw, type(data[0]))
                    state["mfa"] = (uid, data[0].device_id)
                total += len(data)
        expect(total > 0, f"no MFA devices for {seen} users")
        return f"{total} devices over {seen} users"

    ck.run("v2 get_authentication_devices (GET /api/2/mfa/users/{id}/devices)", mfa_devices)

    def mfa_delete():
        if "mfa" not in state:
            raise Skip("no device found to delete")
        uid, device_id = state["mfa"]
        _, status, _, _ = call(mfa, "delete_enrolled_factor", uid, device_id)
        expect(status in (200, 204), f"status {status}")
        return f"HTTP {status}"

    ck.run(
        "extra: v2 delete_enrolled_factor (DELETE /api/2/mfa/users/{id}/devices/{device_id})", mfa_delete, extra=True
    )

    # ---------------- v1 ----------------
    def list_groups():
        data, _, _, raw = call(groups, "get_groups")
        items = expect_list(data.data, "groups data")
        expect(all(g.id and g.name for g in items), "a group without id or name")
        expect(data.status is not None and data.status.code == 200, f"status envelope {data.status!r}")
        if isinstance(raw, dict) and raw.get("data"):
            note_unknown("get_groups", raw["data"], type(items[0]))
        state["group"] = items[0].id
        return f"{len(items)} groups on page 1 (the SDK has no after_cursor parameter)"

    ck.run("v1 get_groups (GET /api/1/groups)", list_groups)

    def group_by_id():
        data, _, _, _ = call(groups, "get_group_by_id", str(state.get("group", 1)))
        items = expect_list(data.data, "group data")
        return f"id={items[0].id} name={items[0].name!r}"

    ck.run("extra: v1 get_group_by_id (GET /api/1/groups/{id})", group_by_id, extra=True)

    def list_events():
        data, _, _, raw = call(events, "get_events", since=EPOCH)
        items = expect_list(data.data, "events data")
        expect(all(e.id and e.event_type_id is not None and e.created_at for e in items), "an event lacks id/type/date")
        expect(data.status is not None and data.status.code == 200, f"status envelope {data.status!r}")
        if isinstance(raw, dict):
            note_unknown("get_events", raw.get("data"), type(items[0]))
        ids = [e.id for e in items]
        pages = 1
        cursor = data.pagination.after_cursor if data.pagination else None
        # The SDK's get_events has no after_cursor parameter: follow the cursor with the
        # SDK's own ApiClient.call_api and the same response model (GetEvents200Response).
        while cursor and pages < 20:
            resp = client.call_api(
                "/api/1/events",
                "GET",
                query_params=[("since", EPOCH), ("after_cursor", cursor)],
                header_params={"Accept": "application/json"},
                response_types_map={"200": "GetEvents200Response"},
                auth_settings=["OAuth2"],
                _return_http_data_only=True,
            )
            page = expect_list(resp.data, f"events page {pages + 1}", nonempty=False)
            ids += [e.id for e in page]
            pages += 1
            cursor = resp.pagination.after_cursor if resp.pagination else None
        expect(len(ids) == len(set(ids)), "the same event on two pages")
        return f"{len(ids)} events in {pages} pages (since={EPOCH}, after_cursor via call_api)"

    ck.run("v1 get_events (GET /api/1/events, since + after_cursor)", list_events)

    def event_types():
        # The SDK's spec lists no security for this operation, so the SDK sends no token
        # (and ignores _request_auth); the simulator requires one on every /api/* call.
        # Send the bearer as an explicit header.
        data, _, _, raw = call(events, "get_event_types", _headers=bearer_header)
        items = expect_list(data.data, "event types")
        expect(all(t.id is not None and t.name for t in items), "an event type without id or name")
        if isinstance(raw, dict):
            note_unknown("get_event_types", raw.get("data"), type(items[0]))
        return f"{len(items)} event types (bearer sent via _headers)"

    ck.run("v1 get_event_types (GET /api/1/events/types)", event_types)

    def list_privileges():
        data, _, _, raw = call(privileges, "list_privileges")
        expect_list(data, "privileges")
        expect(all(p.id for p in data), "a privilege without id")
        expect(all(p.privilege.statement for p in data), "a privilege without Statement")
        note_unknown("list_privileges", raw, type(data[0]))
        state["privileges"] = [p.id for p in data]
        stmts = sum(len(p.privilege.statement or []) for p in data)
        return f"{len(data)} privileges, {stmts} statements"

    ck.run("v1 list_privileges (GET /api/1/privileges)", list_privileges)

    def privilege_members(method, attr):
        def check():
            pids = state.get("privileges")
            expect(pids, "no privileges listed")
            total = 0
            for pid in pids[:10]:
                data, _, _, raw = call(privileges, method, pid)
                members = getattr(data, attr)
                expect(members is None or isinstance(members, list), f"{attr} is {type(members).__name__}")
                total += len(members or [])
                note_unknown(method, raw, type(data))
            return f"{total} {attr} over {min(10, len(pids))} privileges"

        return check

    ck.run("v1 get_assigned_user (GET /api/1/privileges/{id}/users)", privilege_members("get_assigned_user", "users"))
    ck.run(
        "v1 list_privilege_roles (GET /api/1/privileges/{id}/roles)", privilege_members("list_privilege_roles", "roles")
    )

    def user_apps_v1():
        uid = state.get("user_with_apps", user_ids[0])
        name = "v1 get_user_apps"
        try:
            data, _, _, _ = call(users1, "get_user_apps", uid)
        except SdkParseError as err:
            raw = err.raw
            if not (isinstance(raw, dict) and isinstance(raw.get("status"), dict) and "data" in raw):
                raise
            sdk_deviation(name, err, "List[GetUserApps200ResponseInner]", 'the v1 envelope {"status", "data": [...]}')
            Error.from_dict(raw["status"])
            # "data": [[]] is OneLogin's way of saying "no apps".
            data = [GetUserApps200ResponseInner.from_dict(x) for x in raw["data"] if x != []]
        expect_list(data, f"user {uid} apps")
        expect(all(a.id for a in data), "an app without id")
        return f"user {uid}: {len(data)} apps"

    ck.run("v1 get_user_apps (GET /api/1/users/{id}/apps)", user_apps_v1)

    def v1_action(method, *args):
        def check():
            uid = state["new_user"]
            try:
                data, status, _, _ = call(users1, method, uid, *args)
            except SdkParseError as err:
                data, status = v1_status(f"v1 {method}", err, "a bare Error {code, message, ...}"), 200
            expect(status == 200, f"status {status}")
            return f"HTTP {status} {data!r}"

        return check

    ck.run(
        "v1 lock_account_user (PUT /api/1/users/{id}/lock_user)",
        v1_action("lock_account_user", LockAccountUserRequest(locked_until=0)),
    )
    ck.run("v1 log_out_user (PUT /api/1/users/{id}/logout)", v1_action("log_out_user"))
    def set_state():
        # OneLogin answers 400 "user is already in this state" for a no-op change, so
        # move the user to another state and back.
        uid = state["new_user"]
        current, _, _, _ = call(users2, "get_user2", uid)
        other = 3 if current.state == 1 else 1
        first = v1_action("set_user_state", SetUserStateRequest(state=other))()
        after, _, _, _ = call(users2, "get_user2", uid)
        expect(after.state == other, f"state is {after.state} after set_state {other}")
        if current.state is not None:
            v1_action("set_user_state", SetUserStateRequest(state=current.state))()
        return f"state {current.state} -> {other} -> {current.state}: {first}"

    ck.run("v1 set_user_state (PUT /api/1/users/{id}/set_state)", set_state)

    def set_password():
        from onelogin.models import UpdatePasswordInsecureRequest

        uid = state["new_user"]
        body = UpdatePasswordInsecureRequest(
            password="Sdk-check-Passw0rd!", password_confirmation="Sdk-check-Passw0rd!", validate_policy=False
        )
        try:
            data, status, _, _ = call(users1, "update_password_insecure", uid, body)
        except SdkParseError as err:
            data, status = v1_status("v1 update_password_insecure", err, "a bare Error {code, message, ...}"), 200
        return f"HTTP {status} {data!r}"

    ck.run(
        "extra: v1 update_password_insecure (PUT /api/1/users/set_password_clear_text/{id})", set_password, extra=True
    )

    def invite_link():
        from onelogin.models import GetInviteLinkRequest

        email = state["user"].email if state.get("user") else f"{PROBE}@example.com"
        data, status, _, _ = call(invites, "get_invite_link", GetInviteLinkRequest(email=email))
        return f"HTTP {status} data={'set' if data and data.data else data!r}"

    ck.run("extra: v1 get_invite_link (POST /api/1/invites/get_invite_link)", invite_link, extra=True)

    def send_invite():
        from onelogin.models import SendInviteLinkRequest

        email = state["user"].email if state.get("user") else f"{PROBE}@example.com"
        data, status, _, _ = call(invites, "send_invite_link", SendInviteLinkRequest(email=email))
        return f"HTTP {status} {data!r}"

    ck.run("extra: v1 send_invite_link (POST /api/1/invites/send_invite_link)", send_invite, extra=True)

    # ---------------- connectors ----------------
    def list_connectors():
        try:
            data, _, _, raw = call(apps, "list_connectors")
        except SdkParseError as err:
            raw = err.raw
            if not isinstance(raw, list):
                raise
            sdk_deviation("list_connectors", err, "a single Connector", "an array of connectors")
            data = [Connector.from_dict(x) for x in raw]
        expect_list(data, "connectors")
        expect(all(c.id and c.name for c in data), "a connector without id or name")
        note_unknown("list_connectors", raw, Connector)
        return f"{len(data)} connectors"

    ck.run("v2 list_connectors (GET /api/2/connectors)", list_connectors)

    # ---------------- cleanup ----------------
    def delete_user():
        uid = state["new_user"]
        _, status, _, _ = call(users2, "delete_user2", uid)
        expect(status == 204, f"status {status}")
        try:
            call(users2, "get_user2", uid)
        except NotFoundException:
            return f"HTTP {status}; GET afterwards -> 404"
        raise Failure(f"user {uid} still readable after delete")

    ck.run("v2 delete_user2 (DELETE /api/2/users/{id})", delete_user)

    print(f"notes: {len(notes)}", flush=True)
    if deviations:
        print(f"SDK spec deviations worked around ({len(deviations)}): {'; '.join(deviations)}", flush=True)
    if ck.failures:
        print(f"FAILED operations ({len(ck.failures)}): " + "; ".join(ck.failures), flush=True)
        return 1
    print(f"all {sum(1 for r in ck.results.values() if r == 'ok')} checked operations parsed with the SDK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
