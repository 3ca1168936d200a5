//! Role admins: `GET /api/2/roles/{id}/admins` for every role, a batch of
//! roles per step through the sliding window; a role with more than 100
//! admins pages on alone. An incremental sync reads the roles whose turn it
//! is (`rotation.rs`).

use serde_json::Map;

use crate::client::pagination::{self, page_size, List, PageCursor};
use crate::client::transport::Transport;
use crate::error::Result;
use crate::sync::joins;
use crate::sync::kinds::Kind;
use crate::sync::mapping;
use crate::sync::rotation;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::{id_of, RelationshipType, ASSIGNED, GRANT_PROPERTIES, ROLE, USER};

use super::roles::ROLES;

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "role_admins",
    declares: &[],
    feeds: &[Kind(&ROLES)],
    enter: |state| state.pending(Kind(&ROLES)),
    entities: &[],
    relationships: &[RelationshipType {
        class: ASSIGNED,
        from: &USER,
        to: &ROLE,
        description: "A grant: the user is a member or an admin of the role (`permission`).",
        properties: &GRANT_PROPERTIES,
        may_dangle: false,
    }],
};

/// Admins of the next batch of roles (by id: all of them, or on an
/// incremental sync those whose turn it is), read together.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let size = ctx.batch(1);
    let all: Vec<u64> = joins::roles(ctx)?.iter().map(|r| r.id).collect();
    let roles: Vec<u64> = all.into_iter().filter(|id| rotation::due(&ctx.state.plan, *id)).collect();
    let total = roles.len();
    let batch: Vec<u64> = roles.iter().skip(at.i).take(size).copied().collect();
    if batch.is_empty() {
        return Ok(StepOutcome::done(0));
    }
    let paths: Vec<String> = batch.iter().map(|id| admins_path(*id)).collect();
    let first = PageCursor::first();
    let mut read = 0;
    // Every first page first: a failure (e.g. rate limited) emits nothing of
    // this step, so the retried step repeats no record.
    let results = ctx.client.get_json_many(&paths).into_iter().collect::<Result<Vec<_>>>()?;
    let mut grants = Vec::new();
    for (role_id, (response, body)) in batch.iter().zip(results) {
        let path = format!("/api/2/roles/{role_id}/admins");
        let list = List::v2(&path, page_size::ROLE_USERS);
        let page = pagination::parse_page(&list, &first, &response, body)?;
        let role_key = ROLE.key(role_id);
        ctx.client.read_rest(&list, page, |admin| {
            read += 1;
            if let Some(user_id) = id_of(&admin) {
                grants.push(mapping::grant(ASSIGNED, &USER.key(user_id), &role_key, "admin", "direct", Map::new()));
            }
        })?;
    }
    ctx.out.relationships.extend(grants);
    let next = at.i + batch.len();
    Ok(StepOutcome::then((next < total).then(|| Position::at_index(next)), read))
}

fn admins_path(role_id: u64) -> String {
    List::v2(&format!("/api/2/roles/{role_id}/admins"), page_size::ROLE_USERS).path_and_query(&PageCursor::first())
}
