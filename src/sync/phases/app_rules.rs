//! App rules: `GET /api/2/apps/{id}/rules` (enabled rules, the default) and
//! `…/rules?enabled=false` (disabled ones): two calls per app, not paged.
//! The instance also collects the rules that grant AWS roles. An incremental
//! sync reads the rules of the apps whose turn it is (`rotation.rs`).

use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::logging;
use crate::sync::aws;
use crate::sync::cache::Collecting;
use crate::sync::joins;
use crate::identity::connector::types::AccessLevel;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::mapping;
use crate::sync::rotation;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::{RelationshipType, APPLICATION, APP_RULE, HAS};

use super::apps::APPS;

/// The `app_rules` kind.
pub static APP_RULES: KindSpec = KindSpec {
    name: "app_rules",
    description: "Application rules (enabled and disabled) as configuration entities.",
    cost: "2 calls per application (enabled rules, disabled rules); incremental: 2 per application whose turn \
           it is (each application's rules are re-read at least every 12 incremental syncs)",
    calls_per_user: 0,
    default_selected: true,
    requires: &[Kind(&APPS)],
    required_access: AccessLevel::Manage,
};

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "app_rules",
    declares: &[Kind(&APP_RULES)],
    feeds: &[Kind(&APP_RULES)],
    enter: |state| state.pending(Kind(&APP_RULES)),
    entities: &[&APP_RULE],
    relationships: &[RelationshipType {
        class: HAS,
        from: &APPLICATION,
        to: &APP_RULE,
        description: "The application has the rule.",
        properties: &[],
        may_dangle: false,
    }],
};

/// Rules of the next apps, two requests per app, read together.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let per_step = ctx.batch(2);
    let all = joins::apps(ctx)?.to_vec();
    let apps: Vec<u64> = all.into_iter().filter(|id| rotation::due(&ctx.state.plan, *id)).collect();
    let total = apps.len();
    let batch: Vec<u64> = apps.iter().skip(at.i).take(per_step).copied().collect();
    let mut collected = Collecting::resume(&mut ctx.cache.rules_collecting, &at.i, &0);
    let paths: Vec<String> = batch
        .iter()
        .flat_map(|id| [format!("/api/2/apps/{id}/rules"), format!("/api/2/apps/{id}/rules?enabled=false")])
        .collect();
    // Every answer first: a failure (e.g. rate limited) emits nothing of
    // this step, so the retried step repeats no record.
    let results = ctx.client.get_json_many(&paths).into_iter().collect::<Result<Vec<_>>>()?;
    let mut read = 0;
    for (app_id, (response, body)) in results.into_iter().enumerate().map(|(k, r)| (batch.get(k / 2), r)) {
        let Some(&app_id) = app_id else { continue };
        let Some(rules) = body.as_array() else {
            return Err(Error::unexpected(response.status, &format!("GET /api/2/apps/{app_id}/rules"), "a JSON array"));
        };
        let app_key = APPLICATION.key(app_id);
        for object in rules {
            read += 1;
            let aws_rule = aws::parse_rule(app_id, object);
            let unevaluable = aws_rule.as_ref().map(aws::AwsRule::unevaluable);
            let Some(rule) = mapping::app_rule(app_id, object, unevaluable) else {
                logging::warn("skipped an app rule without a numeric id");
                continue;
            };
            if !ctx.first_sighting(&rule.key) {
                continue;
            }
            ctx.out.relationships.push(mapping::relationship(HAS, &app_key, &rule.key));
            ctx.out.entities.push(rule);
            if let (Some(rules), Some(aws_rule)) = (collected.as_mut(), aws_rule) {
                rules.push(aws_rule);
            }
        }
    }
    let next = at.i + batch.len();
    if next < total {
        if let Some(so_far) = collected {
            ctx.cache.rules_collecting = Some(Collecting { position: next, so_far });
        }
        return Ok(StepOutcome::then(Some(Position::at_index(next)), read));
    }
    finish(ctx, &apps, collected);
    Ok(StepOutcome::done(read))
}

/// The phase is done: keep the AWS rules collected from `apps` (`None`: this
/// instance missed some steps).
fn finish<T: Transport>(ctx: &mut Ctx<'_, T>, apps: &[u64], collected: Option<Vec<aws::AwsRule>>) {
    match (collected, ctx.state.plan.since.is_some()) {
        (Some(rules), false) => {
            joins::remember_aws_apps(&mut ctx.state.plan, &rules);
            ctx.cache.rules = Some(rules);
        }
        // An incremental sync read the rules of some apps only: the apps
        // known to hold AWS rules are updated with what those say, and the
        // AWS rules are read from them when needed (`joins::aws_rules`).
        (Some(rules), true) => {
            update_aws_apps(&mut ctx.state.plan, apps, &rules);
            ctx.cache.rotated_rules = Some(rules);
        }
        // A resumed instance missed some apps' rules: read every app's
        // when needed.
        (None, true) => ctx.state.plan.aws_apps = None,
        (None, false) => {}
    }
}

/// After an incremental sync read the rules of `read` apps: the apps known
/// to hold AWS rules lose those of `read` that no longer do and gain those
/// that now do.
fn update_aws_apps(plan: &mut crate::sync::state::Plan, read: &[u64], rules: &[aws::AwsRule]) {
    let Some(known) = plan.aws_apps.take() else { return };
    let mut apps: Vec<u64> = known.into_iter().filter(|id| !read.contains(id)).collect();
    apps.extend(rules.iter().map(|rule| rule.app_id));
    apps.sort_unstable();
    apps.dedup();
    plan.aws_apps = (apps.len() <= joins::MAX_AWS_APPS).then_some(apps);
}
