//! The access-review export behind `host-test export`: one row per grant of
//! a user to a resource, read from a `host-test sync --out` file.
//!
//! A grant is a relationship from an `onelogin_user` whose properties carry
//! an `entitlement` (the access view of the WIT's `relationship`): role
//! membership and administration, application access (through a role or
//! direct) and group membership. Two more kinds of access have no
//! entitlement entity and are rows too: a user `ASSIGNED` an `aws_iam_role`
//! (permission `assume`, or `may_assume` when a rule that might give it could
//! not be evaluated; `via` the first rule that gives it) and a user `ASSIGNED`
//! an `onelogin_privilege` (permission `holder`, `direct`). Each row joins the
//! user's identity and status and the resource's name. The file is read twice, so memory holds
//! only the users and the resources' names, never the records.

use std::collections::HashMap;
use std::io::{BufRead as _, Write};
use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;
use serde_json::Value;

use crate::harness::sync::key_type;

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// RFC 4180 CSV with a header line.
    Csv,
    /// One JSON array of row objects.
    Json,
}

/// One grant, as governance tools import it for a certification campaign.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Row {
    /// The user's entity key (`onelogin_user:<id>`).
    pub user_key: String,
    /// The user's email.
    pub email: String,
    /// The user's display name.
    pub display_name: String,
    /// The user's normalized `account_status` (`active`, `suspended`, ...).
    pub account_status: String,
    /// The resource's entity type (`onelogin_role`, `onelogin_application`, `onelogin_group`).
    pub resource_type: String,
    /// The resource's entity key.
    pub resource_key: String,
    /// The resource's display name.
    pub resource_name: String,
    /// `member`, `admin`, `access`, `assume` / `may_assume` (AWS IAM roles) or
    /// `holder` (privileges).
    pub permission: String,
    /// The entitlement's key (empty for AWS IAM roles and privileges).
    pub entitlement: String,
    /// `direct`, or the key of the role (or, for AWS IAM roles, the app rule)
    /// conferring the grant.
    pub via: String,
    /// The name of the role or rule in `via` (empty for `direct`).
    pub via_name: String,
    /// Application grants: the normalized provisioning status (`active`,
    /// `staged`, `deprovisioned`, `access_created`, `discovered`).
    pub provisioning_status: String,
    /// The user's last sign-in to OneLogin.
    pub last_login: String,
    /// Application grants: the user's last login to the application (from events).
    pub app_last_login: String,
}

#[derive(Default)]
struct User {
    email: String,
    display_name: String,
    account_status: String,
    last_login: String,
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// What the rows join with: the users, and every other entity's name.
#[derive(Default)]
struct Directory {
    users: HashMap<String, User>,
    names: HashMap<String, String>,
}

/// Calls `each` with every JSON record of the file (the `sync` line included).
fn for_each_record(path: &Path, mut each: impl FnMut(Value) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Value = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a `host-test sync --out` record", path.display(), number + 1))?;
        each(record)?;
    }
    Ok(())
}

fn directory(path: &Path) -> anyhow::Result<Directory> {
    let mut directory = Directory::default();
    let mut seen_sync = false;
    for_each_record(path, |record| {
        match record.get("record").and_then(Value::as_str) {
            Some("sync") => seen_sync = true,
            Some("entity") => {
                let key = text(record.get("key"));
                let props = record.get("properties");
                let field = |name: &str| text(props.and_then(|p| p.get(name)));
                if record.get("entity_type").and_then(Value::as_str) == Some("onelogin_user") {
                    let user = User {
                        email: field("email"),
                        display_name: text(record.get("display_name")),
                        account_status: field("account_status"),
                        last_login: field("last_login"),
                    };
                    directory.users.insert(key, user);
                } else if record.get("entity_type").and_then(Value::as_str) != Some("onelogin_event") {
                    directory.names.insert(key, text(record.get("display_name")));
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    anyhow::ensure!(seen_sync, "{} is not a `host-test sync --out` file (no sync line)", path.display());
    Ok(directory)
}

/// The permission and `via` of a relationship that grants a user access, or
/// `None` when it is not a grant (see the module docs).
pub fn grant_of(class: &str, from: &str, to: &str, props: &Value) -> Option<(String, String)> {
    if key_type(from) != "onelogin_user" {
        return None;
    }
    if props.get("entitlement").is_some() {
        return Some((text(props.get("permission")), text(props.get("via"))));
    }
    if class != "ASSIGNED" {
        return None;
    }
    match key_type(to) {
        "aws_iam_role" => {
            let determined = props.get("determined").and_then(Value::as_bool) == Some(true);
            let rules = props.get(if determined { "rule_ids" } else { "undetermined_rule_ids" });
            let rule = rules.and_then(Value::as_array).and_then(|ids| ids.first()).map(|id| text(Some(id)));
            let via = rule.map_or_else(|| "direct".to_string(), |id| format!("onelogin_application_rule:{id}"));
            Some((if determined { "assume" } else { "may_assume" }.to_string(), via))
        }
        "onelogin_privilege" => Some(("holder".to_string(), "direct".to_string())),
        _ => None,
    }
}

fn row(directory: &Directory, from: &str, to: &str, props: &Value, grant: (String, String)) -> Row {
    let user = directory.users.get(from);
    let field = |name: &str| text(props.get(name));
    let (permission, via) = grant;
    let via_name = if via == "direct" { String::new() } else { directory.names.get(&via).cloned().unwrap_or_default() };
    let is_app = key_type(to) == "onelogin_application";
    Row {
        user_key: from.to_string(),
        email: user.map(|u| u.email.clone()).unwrap_or_default(),
        display_name: user.map(|u| u.display_name.clone()).unwrap_or_default(),
        account_status: user.map(|u| u.account_status.clone()).unwrap_or_default(),
        resource_type: key_type(to).to_string(),
        resource_key: to.to_string(),
        resource_name: directory.names.get(to).cloned().unwrap_or_default(),
        permission,
        entitlement: field("entitlement"),
        via,
        via_name,
        provisioning_status: if is_app { field("status") } else { String::new() },
        last_login: user.map(|u| u.last_login.clone()).unwrap_or_default(),
        app_last_login: if is_app { field("last_login") } else { String::new() },
    }
}

/// Calls `each` with the row of every user grant of the file, in file order.
fn for_each_row(input: &Path, mut each: impl FnMut(Row) -> anyhow::Result<()>) -> anyhow::Result<u64> {
    let directory = directory(input)?;
    let mut rows = 0u64;
    for_each_record(input, |record| {
        if record.get("record").and_then(Value::as_str) != Some("relationship") {
            return Ok(());
        }
        let (from, to) = (text(record.get("from_key")), text(record.get("to_key")));
        let props = record.get("properties").cloned().unwrap_or(Value::Null);
        let Some(grant) = grant_of(&text(record.get("class")), &from, &to, &props) else {
            return Ok(());
        };
        rows += 1;
        each(row(&directory, &from, &to, &props, grant))
    })?;
    Ok(rows)
}

/// Writes the export of the sync output at `input` to `out`; returns the
/// number of rows.
pub fn export(input: &Path, format: Format, out: &mut dyn Write) -> anyhow::Result<u64> {
    match format {
        Format::Csv => {
            let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(out);
            writer.write_record(CSV_HEADER)?;
            let rows = for_each_row(input, |row| Ok(writer.serialize(row)?))?;
            writer.flush()?;
            Ok(rows)
        }
        Format::Json => {
            out.write_all(b"[")?;
            let mut first = true;
            let rows = for_each_row(input, |row| {
                let separator: &[u8] = if first { b"\n" } else { b",\n" };
                out.write_all(separator)?;
                first = false;
                Ok(serde_json::to_writer(&mut *out, &row)?)
            })?;
            out.write_all(b"\n]\n")?;
            Ok(rows)
        }
    }
}

/// The CSV columns, in order (the [`Row`] fields).
pub const CSV_HEADER: [&str; 14] = [
    "user_key",
    "email",
    "display_name",
    "account_status",
    "resource_type",
    "resource_key",
    "resource_name",
    "permission",
    "entitlement",
    "via",
    "via_name",
    "provisioning_status",
    "last_login",
    "app_last_login",
];
