//! AWS IAM roles: the role ARNs the enabled app rules name, once each. Who
//! can reach the apps holding them (`GET /api/2/apps/{id}/users`) is read by
//! the users phase (`joins::aws_app_users`), where each user's rules are
//! evaluated.

use std::collections::BTreeSet;

use crate::client::transport::Transport;
use crate::error::Result;
use crate::sync::joins;
use crate::sync::kinds::Kind;
use crate::sync::mapping;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::AWS_IAM_ROLE;

use super::users::AWS_IAM_ROLES;

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "aws_iam_roles",
    declares: &[],
    feeds: &[Kind(&AWS_IAM_ROLES)],
    enter: |state| state.pending(Kind(&AWS_IAM_ROLES)),
    entities: &[&AWS_IAM_ROLE],
    relationships: &[],
};

/// The ARNs, and the users of the apps with AWS rules.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, _at: &Position) -> Result<StepOutcome> {
    if ctx.state.plan.since.is_some() {
        // An incremental sync names the roles of the rules it re-read on
        // their turn (all of them within the rotation); the users phases
        // read every AWS rule only if a user changed.
        let rules = ctx.cache.rotated_rules.take().unwrap_or_default();
        let arns: BTreeSet<&str> = rules.iter().flat_map(|r| r.arns.iter().map(String::as_str)).collect();
        for arn in &arns {
            ctx.out.entities.push(mapping::aws_iam_role(arn));
        }
        return Ok(StepOutcome::done(arns.len()));
    }
    let rules = joins::aws_rules(ctx)?.to_vec();
    if ctx.state.plan.aws_apps.is_none() {
        joins::remember_aws_apps(&mut ctx.state.plan, &rules);
    }
    let arns: BTreeSet<&str> = rules.iter().flat_map(|r| r.arns.iter().map(String::as_str)).collect();
    for arn in &arns {
        ctx.out.entities.push(mapping::aws_iam_role(arn));
    }
    // Who can reach the AWS apps is read when the users phases first need
    // it (an incremental sync: only if a user changed).
    Ok(StepOutcome::done(arns.len()))
}
