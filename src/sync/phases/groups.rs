//! Groups: `GET /api/1/groups` (v1, body cursor, 50 a page). Membership is
//! each user's `group_id`, emitted with the users.

use crate::client::pagination::{page_size, List};
use crate::client::transport::Transport;
use crate::error::Result;
use crate::logging;
use crate::identity::connector::types::AccessLevel;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::mapping;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::{RelationshipType, ACCOUNT, ENTITLEMENT, GROUP, HAS};

/// The `groups` kind.
pub static GROUPS: KindSpec = KindSpec {
    name: "groups",
    description: "Groups and group membership (a user's one group).",
    cost: "1 call per 50 groups",
    calls_per_user: 0,
    default_selected: true,
    requires: &[],
    required_access: AccessLevel::Read,
};

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "groups",
    declares: &[Kind(&GROUPS)],
    feeds: &[Kind(&GROUPS)],
    enter: |state| state.pending(Kind(&GROUPS)),
    entities: &[&GROUP, &ENTITLEMENT],
    relationships: &[
        RelationshipType {
            class: HAS,
            from: &ACCOUNT,
            to: &GROUP,
            description: "The account has the group.",
            properties: &[],
            may_dangle: false,
        },
        RelationshipType {
            class: HAS,
            from: &GROUP,
            to: &ENTITLEMENT,
            description: "The group's `member` entitlement.",
            properties: &[],
            may_dangle: false,
        },
    ],
};

/// One page of groups.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let page = ctx.client.page(&List::v1("/api/1/groups", page_size::GROUPS), &at.page)?;
    for object in &page.items {
        let Some(group) = mapping::group(object) else {
            logging::warn("skipped a group without a numeric id");
            continue;
        };
        if ctx.first_sighting(&group.key) {
            let (entitlement, link) = mapping::entitlement(&group, "member");
            ctx.out.entities.push(entitlement);
            ctx.out.relationships.push(link);
            ctx.owned(group);
        }
    }
    Ok(StepOutcome::then(page.next.map(Position::at_page), page.items.len()))
}
