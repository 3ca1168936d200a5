//! Roles: `GET /api/2/roles` (650 a page), with the apps each gives inline.
//! Members come from each user's `role_ids` (users phase); admins from the
//! role admins phase.

use serde_json::Map;

use crate::client::pagination::{page_size, List, PageCursor};
use crate::client::transport::Transport;
use crate::error::Result;
use crate::logging;
use crate::sync::cache::Collecting;
use crate::identity::connector::types::AccessLevel;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::mapping;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::{
    id_list, RelationshipType, RoleApps, ACCOUNT, ALLOWS, APPLICATION, ENTITLEMENT, GRANT_PROPERTIES, HAS, ROLE,
};

/// The `roles` kind.
pub static ROLES: KindSpec = KindSpec {
    name: "roles",
    description: "Roles, the applications each grants, and role admins.",
    cost: "1 call per 650 roles, plus 1 per role (admins; 1 more per 100 admins); where OneLogin lists users \
           without role_ids, 1 more per role (members; 1 more per 100 members); incremental: the admins of the \
           roles whose turn it is (each role's admins are re-read at least every 12 incremental syncs)",
    calls_per_user: 0,
    default_selected: true,
    requires: &[],
    required_access: AccessLevel::Read,
};

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "roles",
    declares: &[Kind(&ROLES)],
    feeds: &[Kind(&ROLES)],
    enter: |state| state.pending(Kind(&ROLES)),
    entities: &[&ROLE, &ENTITLEMENT],
    relationships: &[
        RelationshipType {
            class: HAS,
            from: &ACCOUNT,
            to: &ROLE,
            description: "The account has the role.",
            properties: &[],
            may_dangle: false,
        },
        RelationshipType {
            class: HAS,
            from: &ROLE,
            to: &ENTITLEMENT,
            description: "The role's `member` and `admin` entitlements.",
            properties: &[],
            may_dangle: false,
        },
        RelationshipType {
            class: ALLOWS,
            from: &ROLE,
            to: &APPLICATION,
            description: "A grant: the role gives its members the application (`permission` access, `via` the role).",
            properties: &GRANT_PROPERTIES,
            may_dangle: false,
        },
    ],
};

/// One page of roles; the instance also collects each role's apps (the
/// users phase joins them).
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let page = ctx.client.page(&List::v2("/api/2/roles", page_size::ROLES), &at.page)?;
    ctx.out.total = page.total;
    let collected = Collecting::resume(&mut ctx.cache.roles_collecting, &at.page, &PageCursor::first());
    for object in &page.items {
        let Some(role) = mapping::role(object) else {
            logging::warn("skipped a role without a numeric id");
            continue;
        };
        if !ctx.first_sighting(&role.key) {
            continue;
        }
        for app_id in id_list(object.get("apps")) {
            let app_key = APPLICATION.key(app_id);
            let grant = mapping::grant(ALLOWS, &role.key, &app_key, "access", &role.key, Map::new());
            ctx.out.relationships.push(grant);
        }
        for permission in ["member", "admin"] {
            let (entitlement, link) = mapping::entitlement(&role, permission);
            ctx.out.entities.push(entitlement);
            ctx.out.relationships.push(link);
        }
        ctx.owned(role);
    }
    if let Some(mut so_far) = collected {
        so_far.extend(page.items.iter().filter_map(RoleApps::from_role));
        match &page.next {
            Some(next) => ctx.cache.roles_collecting = Some(Collecting { position: next.clone(), so_far }),
            None => {
                so_far.sort_by_key(|r| r.id);
                so_far.dedup_by_key(|r| r.id);
                ctx.cache.roles = Some(so_far);
            }
        }
    }
    Ok(StepOutcome::then(page.next.map(Position::at_page), page.items.len()))
}
