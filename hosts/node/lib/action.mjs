// Provisioning actions as JSON (the same format as `host-test provision`,
// host-test/src/harness/action.rs), converted to jco's `{ tag, val }` shape.
//
//   {"suspend-account": "onelogin_user:1"}
//   {"grant": {"principal": "onelogin_user:1", "resource": "onelogin_role:2", "permission": "member"}}
//   {"set-credential": {"principal": "onelogin_user:1", "password": "…", "validate_policy": true}}
//
// Unknown actions and unknown or mistyped fields are errors (jco would ignore
// them). Errors never echo the input: it may hold a password.

const STRING_CASES = ["delete-account", "suspend-account", "resume-account", "end-sessions"];

/** An error in an action's JSON (exit status 2 in the CLI). */
export class ActionError extends Error {}

function object(what, value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ActionError(`${what} must be a JSON object`);
  }
  return value;
}

/** Checks `value`'s keys: `required` must be there, `optional` may be, nothing else. */
function fields(what, value, required, optional = []) {
  object(what, value);
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) {
      throw new ActionError(`${what} has no field ${JSON.stringify(key)} (fields: ${[...required, ...optional].join(", ")})`);
    }
  }
  for (const key of required) {
    if (!(key in value)) throw new ActionError(`${what} needs ${JSON.stringify(key)}`);
  }
  return value;
}

function str(what, value) {
  if (typeof value !== "string") throw new ActionError(`${what} must be a string`);
  return value;
}

function bool(what, value) {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new ActionError(`${what} must be true or false`);
  return value;
}

/** Parses one action from JSON text into jco's `action` variant. */
export function parseAction(text) {
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ActionError("the action is not valid JSON");
  }
  object("the action", json);
  const keys = Object.keys(json);
  if (keys.length !== 1) {
    throw new ActionError("an action is an object with exactly one key: the action's name");
  }
  const [tag] = keys;
  const val = json[tag];
  if (STRING_CASES.includes(tag)) return { tag, val: str(`${tag}`, val) };
  switch (tag) {
    case "create-account":
      return { tag, val: JSON.stringify(object("create-account", val)) };
    case "update-account": {
      fields(tag, val, ["principal", "attributes"]);
      return {
        tag,
        val: { principal: str(`${tag}.principal`, val.principal), attributes: JSON.stringify(object(`${tag}.attributes`, val.attributes)) },
      };
    }
    case "grant":
    case "revoke": {
      fields(tag, val, ["principal", "resource", "permission"]);
      return {
        tag,
        val: {
          principal: str(`${tag}.principal`, val.principal),
          resource: str(`${tag}.resource`, val.resource),
          permission: str(`${tag}.permission`, val.permission),
        },
      };
    }
    case "set-credential": {
      fields(tag, val, ["principal", "password"], ["validate_policy"]);
      return {
        tag,
        val: {
          principal: str(`${tag}.principal`, val.principal),
          password: str(`${tag}.password`, val.password),
          validatePolicy: bool(`${tag}.validate_policy`, val.validate_policy),
        },
      };
    }
    case "issue-link": {
      fields(tag, val, ["principal"], ["send"]);
      return { tag, val: { principal: str(`${tag}.principal`, val.principal), send: bool(`${tag}.send`, val.send) } };
    }
    case "custom": {
      fields(tag, val, ["name"], ["params"]);
      return {
        tag,
        val: { name: str("custom.name", val.name), params: JSON.stringify(object("custom.params", val.params ?? {})) },
      };
    }
    default:
      throw new ActionError(
        "unknown action: expected one of create-account, update-account, delete-account, suspend-account, " +
          "resume-account, grant, revoke, set-credential, issue-link, end-sessions, custom",
      );
  }
}
