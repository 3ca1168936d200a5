//! `plan` and `provision`: validate an action, read the current state, then
//! make (`provision`) or only record (`plan`) the state-changing calls.
//!
//! One module per action under `actions/`, each owning its parsing, its
//! `describe` entry and its effect; this file holds the only dispatch table
//! ([`Request`], [`parse`], [`execute`], [`actions`]). `context.rs` is what
//! every action works with; `attributes.rs` validates user attributes;
//! `spec.rs` builds describe entries.
//!
//! Every action is idempotent: when the target state already holds, nothing
//! is written and the outcome says `changed: false`. Writes are never retried
//! blindly (see `Client::request`); a create whose response was lost is
//! looked up before it is retried (`actions/create_account.rs`).

mod actions;
mod attributes;
mod context;
mod spec;

use self::actions::{
    account_status, app_access, apply_mappings, create_account, delete_account, end_sessions, entitlements,
    group_membership, issue_link, lock_user, remove_mfa_device, rename_role, role_membership, set_credential,
    set_role_apps, set_state, unlock_user, update_account,
};
pub use self::context::Mode;
use self::context::{Ctx, Outcome, Params};
use crate::client::transport::Transport;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::connector::types::{AccessLevel, Action, ActionOutcome, ActionSpec};

/// A validated action, ready to run.
#[derive(Debug)]
enum Request {
    CreateAccount(attributes::UserAttributes),
    UpdateAccount(update_account::Update),
    DeleteAccount(u64),
    SetStatus(account_status::SetStatus),
    EndSessions(u64),
    SetCredential(set_credential::SetPassword),
    IssueLink(issue_link::IssueLink),
    Entitlement(entitlements::Change),
    LockUser(lock_user::Lock),
    UnlockUser(u64),
    SetState(set_state::SetState),
    ApplyMappings(u64),
    RenameRole(rename_role::Rename),
    SetRoleApps(set_role_apps::SetApps),
    RemoveMfaDevice(remove_mfa_device::RemoveDevice),
}

/// Every supported action, for `describe`. All need the Manage All scope;
/// all are idempotent.
pub fn actions() -> Vec<ActionSpec> {
    [
        create_account::specs(),
        update_account::specs(),
        delete_account::specs(),
        account_status::specs(),
        entitlements::specs(),
        set_credential::specs(),
        issue_link::specs(),
        end_sessions::specs(),
        lock_user::specs(),
        unlock_user::specs(),
        set_state::specs(),
        apply_mappings::specs(),
        rename_role::specs(),
        set_role_apps::specs(),
        remove_mfa_device::specs(),
    ]
    .concat()
}

/// The permissions `grant` and `revoke` accept per resource type, for `describe`.
pub fn permissions() -> Vec<crate::identity::connector::types::ResourcePermissions> {
    entitlements::permissions()
}

/// Validate an action's arguments. Makes no call.
fn parse(action: &Action) -> Result<Request> {
    Ok(match action {
        Action::CreateAccount(attributes) => Request::CreateAccount(create_account::parse(attributes)?),
        Action::UpdateAccount(patch) => Request::UpdateAccount(update_account::parse(patch)?),
        Action::DeleteAccount(key) => Request::DeleteAccount(delete_account::parse(key)?),
        Action::SuspendAccount(key) => Request::SetStatus(account_status::parse(key, true)?),
        Action::ResumeAccount(key) => Request::SetStatus(account_status::parse(key, false)?),
        Action::EndSessions(key) => Request::EndSessions(end_sessions::parse(key)?),
        Action::SetCredential(change) => Request::SetCredential(set_credential::parse(change)?),
        Action::IssueLink(request) => Request::IssueLink(issue_link::parse(request)?),
        Action::Grant(change) => Request::Entitlement(entitlements::parse(change, true)?),
        Action::Revoke(change) => Request::Entitlement(entitlements::parse(change, false)?),
        Action::Custom(custom) => {
            let mut params = Params::parse(&custom.params)?;
            let request = match custom.name.as_str() {
                lock_user::NAME => Request::LockUser(lock_user::parse(&mut params)?),
                unlock_user::NAME => Request::UnlockUser(unlock_user::parse(&mut params)?),
                set_state::NAME => Request::SetState(set_state::parse(&mut params)?),
                apply_mappings::NAME => Request::ApplyMappings(apply_mappings::parse(&mut params)?),
                rename_role::NAME => Request::RenameRole(rename_role::parse(&mut params)?),
                set_role_apps::NAME => Request::SetRoleApps(set_role_apps::parse(&mut params)?),
                remove_mfa_device::NAME => Request::RemoveMfaDevice(remove_mfa_device::parse(&mut params)?),
                other => return Err(Error::input("name", format!("unknown custom operation `{other}`"))),
            };
            params.finish()?;
            request
        }
    })
}

/// Run a validated request.
fn execute<T: Transport>(ctx: &mut Ctx<'_, T>, request: Request) -> Result<Outcome> {
    match request {
        Request::CreateAccount(attributes) => create_account::run(ctx, attributes),
        Request::UpdateAccount(update) => update_account::run(ctx, update),
        Request::DeleteAccount(user) => delete_account::run(ctx, user),
        Request::SetStatus(change) => account_status::run(ctx, change),
        Request::EndSessions(user) => end_sessions::run(ctx, user),
        Request::SetCredential(change) => set_credential::run(ctx, change),
        Request::IssueLink(request) => issue_link::run(ctx, request),
        Request::Entitlement(entitlements::Change::Role(change)) => role_membership::run(ctx, &change),
        Request::Entitlement(entitlements::Change::Group(change)) => group_membership::run(ctx, &change),
        Request::Entitlement(entitlements::Change::App(change)) => app_access::run(ctx, &change),
        Request::LockUser(lock) => lock_user::run(ctx, lock),
        Request::UnlockUser(user) => unlock_user::run(ctx, user),
        Request::SetState(change) => set_state::run(ctx, change),
        Request::ApplyMappings(user) => apply_mappings::run(ctx, user),
        Request::RenameRole(rename) => rename_role::run(ctx, rename),
        Request::SetRoleApps(change) => set_role_apps::run(ctx, change),
        Request::RemoveMfaDevice(removal) => remove_mfa_device::run(ctx, removal),
    }
}

/// Plan or run `action` with a client whose credentials have `access`.
pub fn run<T: Transport>(
    client: &mut Client<T>,
    access: AccessLevel,
    action: &Action,
    mode: Mode,
) -> Result<ActionOutcome> {
    // Validate the arguments before anything else, then the scope, then call.
    let request = parse(action)?;
    if access != AccessLevel::Manage {
        return Err(Error::InsufficientScope("provisioning needs an API credential with the Manage All scope".into()));
    }
    let mut ctx = Ctx { client, mode, calls: Vec::new() };
    let outcome = execute(&mut ctx, request)?;
    let planned = mode == Mode::Plan;
    let changed = outcome.changed && !planned;
    let summary = if planned && outcome.changed { format!("plan: would {}", outcome.summary) } else { outcome.summary };
    Ok(ActionOutcome {
        changed,
        summary,
        key: outcome.key,
        before: outcome.before.map(|v| v.to_string()),
        after: outcome.after.map(|v| v.to_string()),
        calls: ctx.calls,
        link: outcome.link,
        notes: outcome.notes,
    })
}
