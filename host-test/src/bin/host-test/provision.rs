//! `host-test provision`: run one grant or revoke action.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Args;
use host_test::harness::types::{Action, EntitlementChange};
use host_test::harness::Limits;
use serde::Deserialize;
use serde_json::json;

use crate::common::{connector_failure, Session, SimulatorOptions, TargetArgs, UsageError};

/// Run one provisioning action and print its outcome as JSON.
#[derive(Args, Debug)]
pub struct ProvisionCommand {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    simulator: SimulatorOptions,
    /// The action as JSON, from FILE or `-` for stdin:
    /// {"grant":{"principal":"onelogin_user:1","resource":"onelogin_role:2","permission":"member"}}
    /// or the same with "revoke".
    #[arg(long, value_name = "FILE|-")]
    action: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeJson {
    principal: String,
    resource: String,
    permission: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum ActionJson {
    Grant(ChangeJson),
    Revoke(ChangeJson),
}

/// Parses the action JSON.
fn parse_action(text: &str) -> Result<Action, UsageError> {
    let parsed: ActionJson = serde_json::from_str(text).map_err(|e| {
        UsageError(format!(
            "invalid action JSON ({e}); expected {{\"grant\":{{\"principal\":…,\"resource\":…,\"permission\":…}}}} or the same with \"revoke\""
        ))
    })?;
    let change =
        |c: ChangeJson| EntitlementChange { principal: c.principal, resource: c.resource, permission: c.permission };
    Ok(match parsed {
        ActionJson::Grant(c) => Action::Grant(change(c)),
        ActionJson::Revoke(c) => Action::Revoke(change(c)),
    })
}

fn read_action(path: &Path) -> Result<Action, UsageError> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| UsageError(format!("cannot read the action from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?
    };
    parse_action(&text)
}

impl ProvisionCommand {
    /// Runs the subcommand.
    pub async fn run(self, component: &Path, limits: Limits) -> anyhow::Result<()> {
        // Read the action first: a usage error should not cost a login.
        let action = read_action(&self.action)?;
        let mut session = Session::open(component, limits, &self.target, &self.simulator).await?;
        let result = session.instance.provision(action).await;
        session.finish().await;
        match result? {
            Ok(outcome) => {
                let printed = json!({ "changed": outcome.changed, "summary": outcome.summary });
                println!("{}", serde_json::to_string_pretty(&printed)?);
                Ok(())
            }
            Err(error) => Err(connector_failure("provision", &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grant_and_revoke() {
        let grant = parse_action(
            r#"{"grant":{"principal":"onelogin_user:1","resource":"onelogin_role:2","permission":"member"}}"#,
        )
        .unwrap();
        assert!(matches!(grant, Action::Grant(ref c) if c.resource == "onelogin_role:2"));
        let revoke = parse_action(
            r#"{"revoke":{"principal":"onelogin_user:1","resource":"onelogin_role:2","permission":"admin"}}"#,
        )
        .unwrap();
        assert!(matches!(revoke, Action::Revoke(ref c) if c.permission == "admin"));
        assert!(parse_action(r#"{"delete":{}}"#).is_err());
        assert!(parse_action(r#"{"grant":{"principal":"x"}}"#).is_err());
    }
}
