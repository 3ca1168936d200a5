//! `issue-link`: `POST /api/1/invites/get_invite_link` (the link comes back)
//! or `…/send_invite_link` (OneLogin emails it), for the user's email.

use serde_json::{json, Value};

use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::{ActionSpec, LinkRequest, ValueType};
use crate::provision::context::{read_user, user_id, Ctx, Outcome};
use crate::provision::spec::{action, param, user};
use crate::vocabulary::USER;

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![action(
        "issue-link",
        "Get an invite / password-reset link, or have OneLogin email it.",
        vec![
            user("The user (must have an email)."),
            param("send", "Email it instead of returning it.", ValueType::Boolean, true, &[]),
        ],
    )]
}

/// A validated link request: the user, and whether OneLogin sends it.
#[derive(Debug)]
pub struct IssueLink {
    user: u64,
    send: bool,
}

/// Validate the request.
pub fn parse(request: &LinkRequest) -> Result<IssueLink> {
    Ok(IssueLink { user: user_id(&request.principal, "principal")?, send: request.send })
}

/// Issue or send the link.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, request: IssueLink) -> Result<Outcome> {
    let IssueLink { user, send } = request;
    let key = USER.key(user);
    let current = read_user(ctx, user)?;
    let email = current.get("email").and_then(Value::as_str).filter(|e| !e.is_empty());
    let email = email.ok_or_else(|| Error::input("principal", "the user has no email to send a link to"))?.to_string();
    if send {
        ctx.write(Method::Post, "/api/1/invites/send_invite_link", Some(json!({"email": email})), &[])?;
        return Ok(Outcome::changed(&key, format!("email an invite link to {key}")));
    }
    let response = ctx.write(Method::Post, "/api/1/invites/get_invite_link", Some(json!({"email": email})), &[])?;
    let mut outcome = Outcome::changed(&key, format!("issue an invite link for {key}"));
    if let Some(response) = response {
        let link = response.get("data").and_then(|d| d.get(0)).and_then(Value::as_str);
        let link =
            link.ok_or_else(|| Error::unexpected(200, "POST /api/1/invites/get_invite_link", "a link in `data`"))?;
        outcome.link = Some(link.to_string());
    }
    Ok(outcome)
}
