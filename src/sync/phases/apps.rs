//! Applications: `GET /api/2/apps` (1000 a page).

use serde_json::Value;

use crate::client::pagination::{page_size, List, PageCursor};
use crate::client::transport::Transport;
use crate::error::Result;
use crate::logging;
use crate::sync::cache::Collecting;
use crate::identity::connector::types::AccessLevel;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::mapping;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::{id_of, RelationshipType, ACCOUNT, APPLICATION, ENTITLEMENT, HAS};

/// The `apps` kind.
pub static APPS: KindSpec = KindSpec {
    name: "apps",
    description: "Applications: connector, auth method, visibility, provisioning.",
    cost: "1 call per 1000 applications",
    calls_per_user: 0,
    default_selected: true,
    requires: &[],
    required_access: AccessLevel::Read,
};

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "applications",
    declares: &[Kind(&APPS)],
    feeds: &[Kind(&APPS)],
    enter: |state| state.pending(Kind(&APPS)),
    entities: &[&APPLICATION, &ENTITLEMENT],
    relationships: &[
        RelationshipType {
            class: HAS,
            from: &ACCOUNT,
            to: &APPLICATION,
            description: "The account has the application.",
            properties: &[],
            may_dangle: false,
        },
        RelationshipType {
            class: HAS,
            from: &APPLICATION,
            to: &ENTITLEMENT,
            description: "The application's `access` entitlement.",
            properties: &[],
            may_dangle: false,
        },
    ],
};

/// One page of apps; the instance also collects their ids (rules and
/// resumes walk them), and the plan notes whether any has provisioning.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let page = ctx.client.page(&List::v2("/api/2/apps", page_size::APPS), &at.page)?;
    ctx.out.total = page.total;
    let collected = Collecting::resume(&mut ctx.cache.apps_collecting, &at.page, &PageCursor::first());
    for object in &page.items {
        let provisioned = object.get("provisioning").and_then(|p| p.get("enabled")).and_then(Value::as_bool);
        // Unknown counts as enabled: per-app access would lose its state.
        if provisioned != Some(false) {
            ctx.state.plan.provisioning = true;
        }
        let Some(app) = mapping::application(object) else {
            logging::warn("skipped an application without a numeric id");
            continue;
        };
        if ctx.first_sighting(&app.key) {
            let (entitlement, link) = mapping::entitlement(&app, "access");
            ctx.out.entities.push(entitlement);
            ctx.out.relationships.push(link);
            ctx.owned(app);
        }
    }
    if let Some(mut so_far) = collected {
        so_far.extend(page.items.iter().filter_map(id_of));
        match &page.next {
            Some(next) => ctx.cache.apps_collecting = Some(Collecting { position: next.clone(), so_far }),
            None => {
                so_far.sort_unstable();
                so_far.dedup();
                ctx.cache.apps = Some(so_far);
            }
        }
    }
    Ok(StepOutcome::then(page.next.map(Position::at_page), page.items.len()))
}
