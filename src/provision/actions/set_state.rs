//! `custom:set_state`: `PUT /api/1/users/{id}/set_state` `{"state":n}`
//! (state 3 downgrades to unlicensed, which only this operation can undo).

use serde_json::json;

use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::{ActionSpec, ValueType};
use crate::provision::attributes::STATES;
use crate::provision::context::{principal, read_user, Ctx, Outcome, Params};
use crate::provision::spec::{custom, param, user};
use crate::vocabulary::{id_value, user_state_name, USER};

/// The operation's name.
pub const NAME: &str = "set_state";

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![custom(
        NAME,
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
    )]
}

/// A validated state change.
#[derive(Debug)]
pub struct SetState {
    user: u64,
    state: u64,
}

/// Validate the parameters.
pub fn parse(params: &mut Params) -> Result<SetState> {
    let user = principal(params.take("principal")?)?;
    let state = params.take("state")?.as_u64().filter(|s| STATES.contains(s));
    Ok(SetState { user, state: state.ok_or_else(|| Error::input("state", "must be 0, 1, 2 or 3"))? })
}

/// Set the state unless it already holds.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, change: SetState) -> Result<Outcome> {
    let SetState { user, state } = change;
    let key = USER.key(user);
    let current = read_user(ctx, user)?;
    let now = current.get("state").and_then(id_value);
    if now == Some(state) {
        return Ok(Outcome::unchanged(&key, format!("{key}: state already {state}, no change")));
    }
    ctx.write(Method::Put, &format!("/api/1/users/{user}/set_state"), Some(json!({"state": state})), &[])?;
    let name = user_state_name(state);
    Ok(Outcome::changed(&key, format!("set the state of {key} to {state} ({name})"))
        .with_before_after(json!({"state": now}), json!({"state": state})))
}
