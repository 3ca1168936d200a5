//! `sync`: reads the tenant one unit of work at a time and maps it.
//!
//! Order and OneLogin calls (each step is one request):
//!
//! | step | request | emits |
//! |---|---|---|
//! | start | none (account id from the token) | account |
//! | users | `GET /api/2/users` (v2, `After-Cursor`) | users; account HAS user; group HAS user |
//! | groups | `GET /api/1/groups` (v1, body cursor) | groups; account HAS group |
//! | roles | `GET /api/2/roles` | roles; account HAS role |
//! | role members | `GET /api/2/roles/{id}/users`, per role | user ASSIGNED role |
//! | apps | `GET /api/2/apps` | applications; account HAS application |
//!
//! A page holds whole steps until `max-items` is reached. The cursor records
//! the next step (see `cursor.rs`), so a fresh instance resumes exactly where
//! the last page ended. Role members need the roles page they belong to: an
//! instance keeps the current one, and a resumed instance reads it again (one
//! extra request, no duplicate output).

pub mod cursor;
pub mod mapping;

use serde_json::{json, Value};

use self::cursor::{Cursor, Step};
use self::mapping::{kinds, ASSIGNED, HAS};
use crate::client::pagination::Page;
use crate::client::transport::Transport;
use crate::client::Client;
use crate::error::Result;
use crate::identity::connector::types::{Entity, Relationship, SyncPage, SyncProgress, SyncRequest};
use crate::logging;

/// Page sizes requested per endpoint: the largest each one documents. The
/// server may cap them lower; pagination follows its cursors either way.
pub mod page_size {
    /// `GET /api/2/users`: py-sdk spec max 100 (the docs say 50 per page).
    pub const USERS: usize = 100;
    /// `GET /api/1/groups`: 50.
    pub const GROUPS: usize = 50;
    /// `GET /api/2/roles`: 650.
    pub const ROLES: usize = 650;
    /// `GET /api/2/roles/{id}/users`: 100.
    pub const ROLE_USERS: usize = 100;
    /// `GET /api/2/apps`: 1000.
    pub const APPS: usize = 1000;
}

/// The account a sync belongs to.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub key: String,
    pub api_base_url: String,
    pub host: String,
}

/// What an instance remembers between `sync` calls (an optimisation only:
/// everything needed to resume is in the cursor).
#[derive(Debug, Default)]
pub struct SyncCache {
    /// The roles page whose members are being read, by its OneLogin cursor.
    roles_page: Option<(Option<String>, Page)>,
}

/// Entities and relationships of one page, and the progress so far.
struct Output {
    entities: Vec<Entity>,
    relationships: Vec<Relationship>,
    total: Option<u64>,
}

impl Output {
    fn len(&self) -> usize {
        self.entities.len() + self.relationships.len()
    }
}

/// Produce one sync page.
pub fn sync_page<T: Transport>(
    client: &mut Client<T>,
    account: &Account,
    cache: &mut SyncCache,
    request: &SyncRequest,
) -> Result<SyncPage> {
    let mut out = Output { entities: Vec::new(), relationships: Vec::new(), total: None };
    let (mut step, mut done) = match &request.cursor {
        Some(text) => {
            let cursor = Cursor::decode(text, &account.id)?;
            (cursor.step, cursor.done)
        }
        None => {
            *cache = SyncCache::default();
            out.entities.push(mapping::account(&account.id, &account.api_base_url, &account.host));
            (Step::Users { c: None }, 0)
        }
    };
    let max_items = usize::try_from(request.max_items).unwrap_or(usize::MAX);
    loop {
        let phase = step.phase();
        let (next, read) = run_step(client, account, cache, step, &mut out)?;
        done += read;
        let progress = SyncProgress { phase: phase.to_string(), done, total: out.total };
        let Some(next) = next else {
            logging::info(&format!("sync complete ({phase}: {done})"));
            return Ok(SyncPage {
                entities: out.entities,
                relationships: out.relationships,
                next_cursor: None,
                progress,
            });
        };
        if next.phase() != phase {
            done = 0;
            out.total = None;
        }
        step = next;
        if max_items == 0 || out.len() >= max_items {
            let cursor = Cursor::new(&account.id, step, done).encode();
            return Ok(SyncPage {
                entities: out.entities,
                relationships: out.relationships,
                next_cursor: Some(cursor),
                progress,
            });
        }
    }
}

/// Run one step: returns the next step (`None` = sync done) and how many
/// objects of the phase it read.
fn run_step<T: Transport>(
    client: &mut Client<T>,
    account: &Account,
    cache: &mut SyncCache,
    step: Step,
    out: &mut Output,
) -> Result<(Option<Step>, u64)> {
    match step {
        Step::Users { c } => {
            let page = client.v2_page("/api/2/users", page_size::USERS, c.as_deref(), &[])?;
            out.total = page.total;
            for object in &page.items {
                let Some(user) = mapping::user(object) else {
                    logging::warn("skipped a user without a numeric id");
                    continue;
                };
                out.relationships.push(mapping::relationship(HAS, &account.key, &user.key));
                if let Some(group_id) = mapping::user_group_id(object) {
                    out.relationships.push(mapping::relationship(HAS, &kinds::key(kinds::GROUP, group_id), &user.key));
                }
                out.entities.push(user);
            }
            let read = count(&page);
            let next = match page.next {
                Some(c) => Step::Users { c: Some(c) },
                None => Step::Groups { c: None },
            };
            Ok((Some(next), read))
        }
        Step::Groups { c } => {
            let page = client.v1_page("/api/1/groups", page_size::GROUPS, c.as_deref())?;
            emit_owned(account, &page, mapping::group, "group", out);
            let read = count(&page);
            let next = match page.next {
                Some(c) => Step::Groups { c: Some(c) },
                None => Step::Roles { c: None },
            };
            Ok((Some(next), read))
        }
        Step::Roles { c } => {
            let page = client.v2_page("/api/2/roles", page_size::ROLES, c.as_deref(), &[])?;
            out.total = page.total;
            emit_owned(account, &page, mapping::role, "role", out);
            let read = count(&page);
            cache.roles_page = Some((c.clone(), page));
            Ok((Some(Step::RoleMembers { r: c, i: 0, c: None }), read))
        }
        Step::RoleMembers { r, i, c } => {
            let page = match cache.roles_page.take() {
                Some((key, page)) if key == r => page,
                _ => client.v2_page("/api/2/roles", page_size::ROLES, r.as_deref(), &[])?,
            };
            // `None`: past the last role of the page; `Some(None)`: a role without a usable id.
            let role_id = page.items.get(i).map(mapping::id_of);
            let next_roles = page.next.clone();
            cache.roles_page = Some((r.clone(), page));
            let role_id = match role_id {
                None => {
                    cache.roles_page = None;
                    let next = match next_roles {
                        Some(c) => Step::Roles { c: Some(c) },
                        None => Step::Apps { c: None },
                    };
                    return Ok((Some(next), 0));
                }
                Some(None) => return Ok((Some(Step::RoleMembers { r, i: i + 1, c: None }), 0)),
                Some(Some(id)) => id,
            };
            let path = format!("/api/2/roles/{role_id}/users");
            let members = client.v2_page(&path, page_size::ROLE_USERS, c.as_deref(), &[])?;
            let role_key = kinds::key(kinds::ROLE, role_id);
            for member in &members.items {
                match mapping::id_of(member) {
                    Some(user_id) => out.relationships.push(mapping::relationship_with(
                        ASSIGNED,
                        &kinds::key(kinds::USER, user_id),
                        &role_key,
                        json!({"permission": "member"}),
                    )),
                    None => logging::warn("skipped a role member without a numeric id"),
                }
            }
            let read = count(&members);
            let next = match members.next {
                Some(c) => Step::RoleMembers { r, i, c: Some(c) },
                None => Step::RoleMembers { r, i: i + 1, c: None },
            };
            Ok((Some(next), read))
        }
        Step::Apps { c } => {
            let page = client.v2_page("/api/2/apps", page_size::APPS, c.as_deref(), &[])?;
            out.total = page.total;
            emit_owned(account, &page, mapping::application, "application", out);
            Ok((page.next.clone().map(|c| Step::Apps { c: Some(c) }), count(&page)))
        }
    }
}

/// Map each item and link it to the account (account HAS it).
fn emit_owned(account: &Account, page: &Page, map: fn(&Value) -> Option<Entity>, what: &str, out: &mut Output) {
    for object in &page.items {
        match map(object) {
            Some(entity) => {
                out.relationships.push(mapping::relationship(HAS, &account.key, &entity.key));
                out.entities.push(entity);
            }
            None => logging::warn(&format!("skipped a {what} without a numeric id")),
        }
    }
}

fn count(page: &Page) -> u64 {
    u64::try_from(page.items.len()).unwrap_or(u64::MAX)
}
