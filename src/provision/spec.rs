//! The action list `describe` publishes: every action and custom operation
//! with its parameters, so a host can build forms and validate.

use super::attributes::{INTEGER, MAPPINGS, TEXT};
use super::users::{custom, MAX_LOCK_MINUTES};
use crate::identity::connector::types::{ActionSpec, ParamSpec, ValueType};
use crate::sync::mapping::kinds;

fn param(name: &str, description: &str, value_type: ValueType, required: bool, allowed: &[&str]) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        description: description.into(),
        value_type,
        required,
        secret: false,
        allowed_values: allowed.iter().map(|v| v.to_string()).collect(),
    }
}

fn user(description: &str) -> ParamSpec {
    param("principal", description, ValueType::EntityKey, true, &[kinds::USER])
}

fn action(name: &str, description: &str, params: Vec<ParamSpec>) -> ActionSpec {
    ActionSpec { name: name.into(), description: description.into(), params }
}

/// User attributes as parameters (for create and update).
fn attributes(creating: bool) -> Vec<ParamSpec> {
    let mut params: Vec<ParamSpec> = TEXT
        .iter()
        .map(|name| {
            let description = match *name {
                "username" | "email" if creating => "Text; a new user needs a username or an email (or both).",
                "email" => "An email address.",
                "phone" => "A phone number: digits, spaces, + ( ) - .",
                "preferred_locale_code" => "A locale code such as `en` or `en-US`.",
                _ => "Text, or null to clear.",
            };
            param(name, description, ValueType::Text, false, &[])
        })
        .collect();
    params.extend(INTEGER.iter().map(|name| {
        let (description, allowed): (&str, &[&str]) = match *name {
            "status" => ("User status.", &["0", "1", "2", "3", "4", "5", "7", "8"]),
            "state" => ("User state (3 = unlicensed: only custom:set_state can leave it).", &["0", "1", "2", "3"]),
            "group_id" => ("The user's one group, or null.", &[]),
            _ => ("The manager's user id, or null.", &[]),
        };
        param(
            name,
            description,
            if allowed.is_empty() { ValueType::Integer } else { ValueType::Choice },
            false,
            allowed,
        )
    }));
    params.push(param(
        "custom_attributes",
        "An object of custom attribute shortname → text or null.",
        ValueType::Text,
        false,
        &[],
    ));
    params.push(param(
        "mappings",
        "Run user mappings: async (OneLogin's default), sync, or disabled.",
        ValueType::Choice,
        false,
        &MAPPINGS,
    ));
    params.push(param(
        "validate_policy",
        "Check a password against the user's policy.",
        ValueType::Boolean,
        false,
        &[],
    ));
    if creating {
        let mut password = param(
            "password",
            "An initial password; without one the user waits for a password (status 7).",
            ValueType::Text,
            false,
            &[],
        );
        password.secret = true;
        params.push(password);
    }
    params
}

fn entitlement_params() -> Vec<ParamSpec> {
    vec![
        user("The user, by its sync key."),
        param(
            "resource",
            "A role, group or application, by its sync key.",
            ValueType::EntityKey,
            true,
            &[kinds::ROLE, kinds::GROUP, kinds::APPLICATION],
        ),
        param(
            "permission",
            "onelogin_role: `member` or `admin`; onelogin_group: `member` (a user has one group: this replaces it); \
             onelogin_application: `access` (through a role that gives exactly that app).",
            ValueType::Choice,
            true,
            &["member", "admin", "access"],
        ),
    ]
}

/// Every supported action. All need the Manage All scope; all are idempotent.
pub fn actions() -> Vec<ActionSpec> {
    let role = || param("role", "The role, by its sync key.", ValueType::EntityKey, true, &[kinds::ROLE]);
    let mut password = param("password", "The new password.", ValueType::Text, true, &[]);
    password.secret = true;
    vec![
        action(
            "create-account",
            "Create a user (v2). No change if a user with that email or username exists.",
            attributes(true),
        ),
        action(
            "update-account",
            "Change a user's attributes; only those that differ are sent.",
            vec![
                user("The user."),
                param("attributes", "A JSON object of the attributes below.", ValueType::Text, true, &[]),
            ]
            .into_iter()
            .chain(attributes(false))
            .collect(),
        ),
        action("delete-account", "Delete a user.", vec![user("The user.")]),
        action("suspend-account", "Suspend a user (status 2).", vec![user("The user.")]),
        action("resume-account", "Reactivate a user (status 1).", vec![user("The user.")]),
        action("grant", "Give a user a role (member/admin), a group, or an application.", entitlement_params()),
        action("revoke", "Take it away.", entitlement_params()),
        action(
            "set-credential",
            "Set a user's password.",
            vec![
                user("The user."),
                password,
                param("validate-policy", "Check the password policy.", ValueType::Boolean, true, &[]),
            ],
        ),
        action(
            "issue-link",
            "Get an invite / password-reset link, or have OneLogin email it.",
            vec![
                user("The user (must have an email)."),
                param("send", "Email it instead of returning it.", ValueType::Boolean, true, &[]),
            ],
        ),
        action(
            "end-sessions",
            "End the user's OneLogin session (not sessions in other apps).",
            vec![user("The user.")],
        ),
        action(
            &format!("custom:{}", custom::LOCK_USER),
            "Lock a user for some minutes (status 3).",
            vec![
                user("The user."),
                param(
                    "minutes",
                    &format!("0 (the policy's lock period) to {MAX_LOCK_MINUTES}."),
                    ValueType::Integer,
                    true,
                    &[],
                ),
            ],
        ),
        action(&format!("custom:{}", custom::UNLOCK_USER), "Unlock a locked user.", vec![user("The user.")]),
        action(
            &format!("custom:{}", custom::SET_STATE),
            "Set a user's state; 3 downgrades to unlicensed, which only this operation can undo.",
            vec![
                user("The user."),
                param(
                    "state",
                    "0 unapproved, 1 approved, 2 rejected, 3 unlicensed.",
                    ValueType::Choice,
                    true,
                    &["0", "1", "2", "3"],
                ),
            ],
        ),
        action(
            &format!("custom:{}", custom::APPLY_MAPPINGS),
            "Re-run the user mappings now (mappings=sync) and report roles they added or removed.",
            vec![user("The user.")],
        ),
        action(
            &format!("custom:{}", custom::RENAME_ROLE),
            "Rename a role.",
            vec![role(), param("name", "The new name.", ValueType::Text, true, &[])],
        ),
        action(
            &format!("custom:{}", custom::SET_ROLE_APPS),
            "Set the apps a role gives (replaces the whole set).",
            vec![role(), param("apps", "A list of onelogin_application keys or ids.", ValueType::Text, true, &[])],
        ),
        action(
            &format!("custom:{}", custom::REMOVE_MFA_DEVICE),
            "Remove one of a user's MFA devices.",
            vec![user("The user."), param("device_id", "The device id.", ValueType::Text, true, &[])],
        ),
    ]
}
