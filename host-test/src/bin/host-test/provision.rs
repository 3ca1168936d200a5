//! `host-test provision`: run one provisioning action (`provision`), or with
//! `--dry-run` only plan it (the component's separate `plan` export).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Args;
use host_test::harness::action;
use host_test::harness::types::Action;
use host_test::harness::Limits;

use crate::common::{connector_failure, Session, SimulatorOptions, TargetArgs, UsageError};

/// Run one provisioning action and print its outcome as JSON.
#[derive(Args, Debug)]
pub struct ProvisionCommand {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    simulator: SimulatorOptions,
    /// The action as JSON, from FILE or `-` for stdin: a one-key object named after
    /// the action, e.g. {"grant":{"principal":"onelogin_user:1","resource":"onelogin_role:2","permission":"member"}},
    /// {"create-account":{"email":"ada@example.com"}}, {"suspend-account":"onelogin_user:1"},
    /// {"custom":{"name":"lock_user","params":{"principal":"onelogin_user:1","minutes":15}}}.
    /// README lists one example per action; `describe` lists every action's parameters.
    #[arg(long, value_name = "FILE|-")]
    action: PathBuf,
    /// Plan only (calls the component's `plan`, not `provision`): validate and
    /// read, and print the calls that would change state, without sending them.
    #[arg(long)]
    dry_run: bool,
}

/// Parses the action JSON (see `host_test::harness::action`).
fn parse_action(text: &str) -> Result<Action, UsageError> {
    action::parse_action(text).map_err(UsageError)
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
        let action = read_action(&crate::common::resolve_path(&self.action))?;
        let mut session = Session::open(component, limits, &self.target, &self.simulator).await?;
        let (what, result) = if self.dry_run {
            ("plan", session.instance.plan(action).await)
        } else {
            ("provision", session.instance.provision(action).await)
        };
        let host = session.host.clone();
        session.finish().await;
        match result? {
            Ok(outcome) => {
                // The outcome may hold an invite link meant for the caller: stdout only.
                println!("{}", serde_json::to_string_pretty(&action::outcome_json(&outcome))?);
                Ok(())
            }
            Err(error) => Err(connector_failure(what, &host, &error)),
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
