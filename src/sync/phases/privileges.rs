//! Delegated-administration privileges and who holds them. The first step
//! reads `GET /api/1/privileges` (a v1 path answering a bare array; a v1
//! envelope is accepted too); each later step reads `…/{id}/users` and
//! `…/{id}/roles` for a batch of privileges, together. Needs the Delegated
//! Administration subscription: a 403/404 skips the kind. An incremental
//! sync reads the holders of the privileges whose turn it is (`rotation.rs`).

use serde_json::Value;

use crate::client::pagination::percent_encode;
use crate::client::transport::Transport;
use crate::error::Result;
use crate::logging;
use crate::identity::connector::types::AccessLevel;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::mapping;
use crate::sync::rotation;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::{id_list, id_of, RelationshipType, ACCOUNT, ASSIGNED, HAS, PRIVILEGE, ROLE, USER};

/// The `privileges` kind.
pub static PRIVILEGES: KindSpec = KindSpec {
    name: "privileges",
    description: "Delegated-administration privileges and whom they are assigned to.",
    cost: "1 call, plus 2 per privilege; incremental: 1 call, plus 2 per privilege whose turn it is (each \
           privilege's holders are re-read at least every 12 incremental syncs)",
    calls_per_user: 0,
    default_selected: true,
    requires: &[],
    required_access: AccessLevel::Manage,
};

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "privileges",
    declares: &[Kind(&PRIVILEGES)],
    feeds: &[Kind(&PRIVILEGES)],
    enter: |state| state.pending(Kind(&PRIVILEGES)),
    entities: &[&PRIVILEGE],
    relationships: &[
        RelationshipType {
            class: HAS,
            from: &ACCOUNT,
            to: &PRIVILEGE,
            description: "The account has the privilege.",
            properties: &[],
            may_dangle: false,
        },
        RelationshipType {
            class: ASSIGNED,
            from: &USER,
            to: &PRIVILEGE,
            description: "The privilege is assigned to the user.",
            properties: &[],
            may_dangle: false,
        },
        RelationshipType {
            class: HAS,
            from: &ROLE,
            to: &PRIVILEGE,
            description: "The privilege is assigned to the role.",
            properties: &[],
            may_dangle: false,
        },
    ],
};

/// Step 0 reads the list; step `1 + k` the holders of privileges `k..`.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    match at.i.checked_sub(1) {
        None => list(ctx),
        Some(k) => holders(ctx, k),
    }
}

/// The privileges list, in one call.
fn list<T: Transport>(ctx: &mut Ctx<'_, T>) -> Result<StepOutcome> {
    let (_, body) = ctx.client.get_json("/api/1/privileges")?;
    let items = items(body);
    for object in &items {
        match mapping::privilege(object) {
            Some(privilege) if ctx.first_sighting(&privilege.key) => ctx.owned(privilege),
            Some(_) => {}
            None => logging::warn("skipped a privilege without an id"),
        }
    }
    let ids = ids(&items);
    let next = ids.iter().any(|id| rotation::due_key(&ctx.state.plan, id)).then(|| Position::at_index(1));
    ctx.cache.privileges = Some(ids);
    Ok(StepOutcome::then(next, items.len()))
}

/// The items of a privileges list body.
fn items(body: Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("data") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The privilege ids of a list, each once.
fn ids(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in items.iter().filter_map(mapping::privilege_id) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Users and roles holding privileges `first..`.
fn holders<T: Transport>(ctx: &mut Ctx<'_, T>, first: usize) -> Result<StepOutcome> {
    let ids = match ctx.cache.privileges.clone() {
        Some(ids) => ids,
        None => {
            let (_, body) = ctx.client.get_json("/api/1/privileges")?;
            let ids = ids(&items(body));
            ctx.cache.privileges = Some(ids.clone());
            ids
        }
    };
    let ids: Vec<String> = ids.into_iter().filter(|id| rotation::due_key(&ctx.state.plan, id)).collect();
    let per_step = ctx.batch(2);
    let batch: Vec<&String> = ids.iter().skip(first).take(per_step).collect();
    if batch.is_empty() {
        return Ok(StepOutcome::done(0));
    }
    let paths: Vec<String> = batch
        .iter()
        .flat_map(|id| {
            let id = percent_encode(id);
            [format!("/api/1/privileges/{id}/users"), format!("/api/1/privileges/{id}/roles")]
        })
        .collect();
    // Every answer first: a failure (e.g. rate limited) emits nothing of
    // this step, so the retried step repeats no record.
    let results = ctx.client.get_json_many(&paths).into_iter().collect::<Result<Vec<_>>>()?;
    let mut read = 0;
    for (k, (_, body)) in results.into_iter().enumerate() {
        let Some(privilege_id) = batch.get(k / 2) else { continue };
        let privilege_key = PRIVILEGE.key(privilege_id);
        let (field, holder, class) = if k % 2 == 0 { ("users", &USER, ASSIGNED) } else { ("roles", &ROLE, HAS) };
        if body.get("afterCursor").and_then(Value::as_str).is_some_and(|c| !c.is_empty()) {
            logging::warn(&format!("privilege {privilege_id}: more {field} than one page; only the first is read"));
        }
        for id in linked_ids(&body, field) {
            read += 1;
            ctx.out.relationships.push(mapping::relationship(class, &holder.key(id), &privilege_key));
        }
    }
    let next = first + batch.len();
    Ok(StepOutcome::then((next < ids.len()).then(|| Position::at_index(next + 1)), read))
}

/// The ids listed under `field` of a privilege's users/roles body (ids, or
/// objects with an `id`).
fn linked_ids(body: &Value, field: &str) -> Vec<u64> {
    let list = body.get(field).or_else(|| body.get("data"));
    let mut ids = id_list(list);
    ids.extend(list.and_then(Value::as_array).into_iter().flatten().filter_map(id_of));
    ids
}
