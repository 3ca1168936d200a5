//! Steps that read the directory in bulk: custom attribute definitions,
//! groups, roles (and their admins), apps, app rules, AWS roles, privileges
//! and events. Each step is one upstream page, or one batch of concurrent
//! per-role / per-app / per-privilege requests.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::aws;
use super::cursor::Step;
use super::joins::{self, Collecting};
use super::mapping::{self, kinds, ALLOWS, ASSIGNED, HAS};
use super::{count, page_size, Ctx};
use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::identity::connector::types::Entity;
use crate::logging;

/// What a step returns: the next step of its phase (`None` = phase done) and
/// how many objects it read.
pub type StepResult = Result<(Option<Step>, u64)>;

/// Run `step` if it is one of this module's.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, step: &Step) -> Option<StepResult> {
    Some(match step {
        Step::CustomAttributes => custom_attributes(ctx),
        Step::Groups { c } => groups(ctx, c.clone()),
        Step::Roles { c } => roles(ctx, c.clone()),
        Step::RoleAdmins { i } => role_admins(ctx, *i),
        Step::Apps { c } => apps(ctx, c.clone()),
        Step::Rules { i } => rules(ctx, *i),
        Step::AwsRoles => aws_roles(ctx),
        Step::Privileges => privileges(ctx),
        Step::PrivilegeLinks { i } => privilege_links(ctx, *i),
        Step::Events { c } => events(ctx, c.clone()),
        Step::Users { .. } | Step::EventUsers { .. } => return None,
    })
}

/// Emit an entity the account owns (account HAS it).
fn owned<T: Transport>(ctx: &mut Ctx<'_, T>, entity: Entity) {
    ctx.out.relationships.push(mapping::relationship(HAS, &ctx.account.key, &entity.key));
    ctx.out.entities.push(entity);
}

fn custom_attributes<T: Transport>(ctx: &mut Ctx<'_, T>) -> StepResult {
    let body = match ctx.client.get_json("/api/2/users/custom_attributes") {
        Ok((_, body)) => body,
        Err(error) if !error.retryable() => {
            // Definitions only label users' custom attributes; users are read without them.
            logging::warn(&format!("custom attribute definitions not read: {error}"));
            return Ok((None, 0));
        }
        Err(error) => return Err(error),
    };
    let items = body.as_array().cloned().unwrap_or_default();
    for item in &items {
        match mapping::custom_attribute(item) {
            Some(entity) => owned(ctx, entity),
            None => logging::warn("skipped a custom attribute definition without a numeric id"),
        }
    }
    Ok((None, count(items.len())))
}

fn groups<T: Transport>(ctx: &mut Ctx<'_, T>, c: Option<String>) -> StepResult {
    let page = ctx.client.v1_page("/api/1/groups", page_size::GROUPS, c.as_deref(), &[])?;
    for object in &page.items {
        let Some(group) = mapping::group(object) else {
            logging::warn("skipped a group without a numeric id");
            continue;
        };
        ctx.out.entities.push(mapping::entitlement(&group, "member"));
        owned(ctx, group);
    }
    Ok((page.next.map(|c| Step::Groups { c: Some(c) }), count(page.items.len())))
}

fn roles<T: Transport>(ctx: &mut Ctx<'_, T>, c: Option<String>) -> StepResult {
    let page = ctx.client.v2_page("/api/2/roles", page_size::ROLES, c.as_deref(), &[])?;
    ctx.out.total = page.total;
    let collected = Collecting::resume(&mut ctx.cache.roles_collecting, &c, &None);
    for object in &page.items {
        let Some(role) = mapping::role(object) else {
            logging::warn("skipped a role without a numeric id");
            continue;
        };
        for app_id in mapping::id_list(object.get("apps")) {
            let app_key = kinds::key(kinds::APPLICATION, app_id);
            let entitlement = mapping::entitlement_key(&app_key, "access");
            ctx.out.relationships.push(mapping::grant(
                ALLOWS,
                &role.key,
                &app_key,
                &entitlement,
                &role.key,
                Map::new(),
            ));
        }
        ctx.out.entities.push(mapping::entitlement(&role, "member"));
        ctx.out.entities.push(mapping::entitlement(&role, "admin"));
        owned(ctx, role);
    }
    if let Some(mut so_far) = collected {
        so_far.extend(page.items.iter().filter_map(joins::role_apps));
        match &page.next {
            Some(next) => ctx.cache.roles_collecting = Some(Collecting { position: Some(next.clone()), so_far }),
            None => {
                so_far.sort_by_key(|r| r.id);
                ctx.cache.roles = Some(so_far);
            }
        }
    }
    Ok((page.next.map(|c| Step::Roles { c: Some(c) }), count(page.items.len())))
}

/// Admins of the next `concurrency` roles, read together.
fn role_admins<T: Transport>(ctx: &mut Ctx<'_, T>, i: usize) -> StepResult {
    let size = ctx.concurrency();
    let roles = joins::roles(ctx)?;
    let total = roles.len();
    let batch: Vec<u64> = roles.iter().skip(i).take(size).map(|r| r.id).collect();
    if batch.is_empty() {
        return Ok((None, 0));
    }
    let paths: Vec<String> =
        batch.iter().map(|id| format!("/api/2/roles/{id}/admins?limit={}", page_size::ROLE_USERS)).collect();
    let results = ctx.client.get_json_many(&paths);
    let mut read = 0;
    for (role_id, result) in batch.iter().zip(results) {
        let (response, body) = result?;
        let mut page = crate::client::pagination::v2_page(&response, body)
            .ok_or_else(|| Error::Upstream { status: 200, message: "role admins: expected a JSON array".into() })?;
        let path = format!("/api/2/roles/{role_id}/admins");
        loop {
            read += page.items.len();
            let role_key = kinds::key(kinds::ROLE, role_id);
            let entitlement = mapping::entitlement_key(&role_key, "admin");
            for admin in &page.items {
                let Some(user_id) = mapping::id_of(admin) else { continue };
                let extra = Map::from_iter([("permission".to_string(), json!("admin"))]);
                let user_key = kinds::key(kinds::USER, user_id);
                ctx.out.relationships.push(mapping::grant(
                    ASSIGNED,
                    &user_key,
                    &role_key,
                    &entitlement,
                    "direct",
                    extra,
                ));
            }
            match page.next.take() {
                Some(next) => page = ctx.client.v2_page(&path, page_size::ROLE_USERS, Some(&next), &[])?,
                None => break,
            }
        }
    }
    let next = i + batch.len();
    Ok(((next < total).then_some(Step::RoleAdmins { i: next }), count(read)))
}

fn apps<T: Transport>(ctx: &mut Ctx<'_, T>, c: Option<String>) -> StepResult {
    let page = ctx.client.v2_page("/api/2/apps", page_size::APPS, c.as_deref(), &[])?;
    ctx.out.total = page.total;
    let collected = Collecting::resume(&mut ctx.cache.apps_collecting, &c, &None);
    for object in &page.items {
        let Some(app) = mapping::application(object) else {
            logging::warn("skipped an application without a numeric id");
            continue;
        };
        ctx.out.entities.push(mapping::entitlement(&app, "access"));
        owned(ctx, app);
    }
    if let Some(mut so_far) = collected {
        so_far.extend(page.items.iter().filter_map(mapping::id_of));
        match &page.next {
            Some(next) => ctx.cache.apps_collecting = Some(Collecting { position: Some(next.clone()), so_far }),
            None => {
                so_far.sort_unstable();
                ctx.cache.apps = Some(so_far);
            }
        }
    }
    Ok((page.next.map(|c| Step::Apps { c: Some(c) }), count(page.items.len())))
}

/// Rules of the next apps: enabled ones (the default) and disabled ones
/// (`enabled=false`), two requests per app, read together.
fn rules<T: Transport>(ctx: &mut Ctx<'_, T>, i: usize) -> StepResult {
    let per_step = (ctx.concurrency() / 2).max(1);
    let apps = joins::apps(ctx)?;
    let total = apps.len();
    let batch: Vec<u64> = apps.iter().skip(i).take(per_step).copied().collect();
    let mut collected = Collecting::resume(&mut ctx.cache.rules_collecting, &i, &0);
    let paths: Vec<String> = batch
        .iter()
        .flat_map(|id| [format!("/api/2/apps/{id}/rules"), format!("/api/2/apps/{id}/rules?enabled=false")])
        .collect();
    let results = ctx.client.get_json_many(&paths);
    let mut read = 0;
    for (k, result) in results.into_iter().enumerate() {
        let app_id = batch.get(k / 2).copied().unwrap_or_default();
        let (_, body) = result?;
        let app_key = kinds::key(kinds::APPLICATION, app_id);
        for object in body.as_array().into_iter().flatten() {
            read += 1;
            let aws_rule = aws::parse_rule(app_id, object);
            let unevaluable = aws_rule.as_ref().map(aws::AwsRule::unevaluable);
            let Some(rule) = mapping::app_rule(app_id, object, unevaluable) else {
                logging::warn("skipped an app rule without a numeric id");
                continue;
            };
            ctx.out.relationships.push(mapping::relationship(HAS, &app_key, &rule.key));
            ctx.out.entities.push(rule);
            if let (Some(rules), Some(aws_rule)) = (collected.as_mut(), aws_rule) {
                rules.push(aws_rule);
            }
        }
    }
    let next = i + batch.len();
    if next < total {
        if let Some(so_far) = collected {
            ctx.cache.rules_collecting = Some(Collecting { position: next, so_far });
        }
        return Ok((Some(Step::Rules { i: next }), count(read)));
    }
    if let Some(rules) = collected {
        joins::remember_aws_apps(&mut ctx.cursor.plan, &rules);
        ctx.cache.rules = Some(rules);
    }
    Ok((None, count(read)))
}

/// The AWS IAM roles the enabled rules name, once each; and who can reach
/// the apps holding them (read here, used by the users phase).
fn aws_roles<T: Transport>(ctx: &mut Ctx<'_, T>) -> StepResult {
    let rules = joins::aws_rules(ctx)?.to_vec();
    if ctx.plan().aws_apps.is_none() {
        joins::remember_aws_apps(&mut ctx.cursor.plan, &rules);
    }
    let arns: BTreeSet<&str> = rules.iter().flat_map(|r| r.arns.iter().map(String::as_str)).collect();
    for arn in &arns {
        ctx.out.entities.push(mapping::aws_iam_role(arn));
    }
    joins::aws_app_users(ctx)?;
    Ok((None, count(arns.len())))
}

/// The privileges list: a bare array (v1 path, v2-style body); a v1
/// envelope is accepted too.
fn privilege_items(body: Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("data") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn privileges<T: Transport>(ctx: &mut Ctx<'_, T>) -> StepResult {
    let (_, body) = ctx.client.get_json("/api/1/privileges")?;
    let items = privilege_items(body);
    for object in &items {
        match mapping::privilege(object) {
            Some(privilege) => owned(ctx, privilege),
            None => logging::warn("skipped a privilege without an id"),
        }
    }
    let ids: Vec<String> = items.iter().filter_map(mapping::privilege_id).collect();
    let any = !ids.is_empty();
    ctx.cache.privileges = Some(ids);
    Ok((any.then_some(Step::PrivilegeLinks { i: 0 }), count(items.len())))
}

/// The ids listed under `field` of a privilege's users/roles body.
fn linked_ids(body: &Value, field: &str) -> Vec<u64> {
    let list = body.get(field).or_else(|| body.get("data"));
    let mut ids = mapping::id_list(list);
    // Some shapes list objects rather than ids.
    ids.extend(list.and_then(Value::as_array).into_iter().flatten().filter_map(mapping::id_of));
    ids
}

/// Users and roles holding the next privileges, two requests each, together.
fn privilege_links<T: Transport>(ctx: &mut Ctx<'_, T>, i: usize) -> StepResult {
    let ids = match ctx.cache.privileges.clone() {
        Some(ids) => ids,
        None => {
            let (_, body) = ctx.client.get_json("/api/1/privileges")?;
            let ids: Vec<String> = privilege_items(body).iter().filter_map(mapping::privilege_id).collect();
            ctx.cache.privileges = Some(ids.clone());
            ids
        }
    };
    let per_step = (ctx.concurrency() / 2).max(1);
    let batch: Vec<&String> = ids.iter().skip(i).take(per_step).collect();
    let paths: Vec<String> = batch
        .iter()
        .flat_map(|id| {
            let id = crate::client::pagination::percent_encode(id);
            [format!("/api/1/privileges/{id}/users"), format!("/api/1/privileges/{id}/roles")]
        })
        .collect();
    let results = ctx.client.get_json_many(&paths);
    let mut read = 0;
    for (k, result) in results.into_iter().enumerate() {
        let Some(privilege_id) = batch.get(k / 2) else { continue };
        let (_, body) = result?;
        let privilege_key = kinds::key(kinds::PRIVILEGE, privilege_id);
        let (field, kind, class) =
            if k % 2 == 0 { ("users", kinds::USER, ASSIGNED) } else { ("roles", kinds::ROLE, HAS) };
        if body.get("afterCursor").and_then(Value::as_str).is_some_and(|c| !c.is_empty()) {
            logging::warn(&format!("privilege {privilege_id}: more {field} than one page; only the first is read"));
        }
        for id in linked_ids(&body, field) {
            read += 1;
            ctx.out.relationships.push(mapping::relationship(class, &kinds::key(kind, id), &privilege_key));
        }
    }
    let next = i + batch.len();
    Ok(((next < ids.len()).then_some(Step::PrivilegeLinks { i: next }), count(read)))
}

fn events<T: Transport>(ctx: &mut Ctx<'_, T>, c: Option<String>) -> StepResult {
    let Some((since, until)) = joins::event_window(ctx) else {
        return Err(Error::Upstream {
            status: 200,
            message: "OneLogin sent no Date header, so the event window cannot be set".into(),
        });
    };
    let extra = [("since", since.as_str()), ("until", until.as_str())];
    let page = ctx.client.v1_page("/api/1/events", page_size::EVENTS, c.as_deref(), &extra)?;
    let mut join = Collecting::resume(&mut ctx.cache.events_collecting, &c, &None);
    for object in &page.items {
        match mapping::event(object) {
            Some(event) => ctx.out.entities.push(event),
            None => logging::warn("skipped an event without a numeric id"),
        }
        if let Some(join) = join.as_mut() {
            join.add(object);
        }
    }
    if let Some(join) = join {
        match &page.next {
            Some(next) => ctx.cache.events_collecting = Some(Collecting { position: Some(next.clone()), so_far: join }),
            None => ctx.cache.events = Some(join),
        }
    }
    Ok((page.next.map(|c| Step::Events { c: Some(c) }), count(page.items.len())))
}
