//! One module per provisioning action: each has `specs()` (its `describe`
//! entries), `parse` (validation, no calls) and `run` (the effect). The
//! dispatch table is `provision/mod.rs`.

pub mod account_status;
pub mod app_access;
pub mod apply_mappings;
pub mod create_account;
pub mod delete_account;
pub mod end_sessions;
pub mod entitlements;
pub mod group_membership;
pub mod issue_link;
pub mod lock_user;
pub mod remove_mfa_device;
pub mod rename_role;
pub mod role_membership;
pub mod set_credential;
pub mod set_role_apps;
pub mod set_state;
pub mod unlock_user;
pub mod update_account;
