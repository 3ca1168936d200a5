//! Driving a full sync: call `sync` with each page's `next-cursor` until it
//! is `none`, collecting everything.

use std::collections::BTreeMap;

use super::instance::ConnectorInstance;
use super::types::{ConnectorError, Entity, Relationship, SyncPage, SyncRequest};

/// Hard stop for [`sync_all`]: a component that never ends its cursor chain
/// is a bug, not a big tenant.
pub const MAX_PAGES: u64 = 1_000_000;

/// Everything a full sync produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOutput {
    /// All entities, in the order the pages returned them.
    pub entities: Vec<Entity>,
    /// All relationships, in the order the pages returned them.
    pub relationships: Vec<Relationship>,
    /// How many pages (`sync` calls) it took.
    pub pages: u64,
}

/// The entity type of a key: the part before the first `:`
/// (`onelogin_user:12` → `onelogin_user`), or the whole key without one.
pub fn key_type(key: &str) -> &str {
    key.split_once(':').map_or(key, |(prefix, _)| prefix)
}

impl SyncOutput {
    /// Entity count per `entity-type`.
    pub fn entities_by_type(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for entity in &self.entities {
            *counts.entry(entity.entity_type.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Relationship count per `"{from_type} {CLASS} {to_type}"`, the types
    /// taken from the keys' prefixes (e.g. `onelogin_account HAS onelogin_user`).
    pub fn relationships_by_class(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for rel in &self.relationships {
            let label = format!("{} {} {}", key_type(&rel.from_key), rel.class, key_type(&rel.to_key));
            *counts.entry(label).or_insert(0) += 1;
        }
        counts
    }
}

/// Runs a full sync from the beginning (`cursor: none`), passing `max_items`
/// as each page's hint and calling `on_page` after each page. Returns the
/// component's error as soon as a page fails (the pages before it are lost:
/// resume with [`ConnectorInstance::sync_page`] if that matters).
pub async fn sync_all(
    instance: &mut ConnectorInstance,
    max_items: u32,
    mut on_page: impl FnMut(&SyncPage),
) -> anyhow::Result<Result<SyncOutput, ConnectorError>> {
    let mut output = SyncOutput::default();
    let mut cursor = None;
    loop {
        let page = match instance.sync_page(SyncRequest { cursor: cursor.take(), max_items }).await? {
            Ok(page) => page,
            Err(error) => return Ok(Err(error)),
        };
        output.pages += 1;
        on_page(&page);
        let SyncPage { entities, relationships, next_cursor, progress: _ } = page;
        output.entities.extend(entities);
        output.relationships.extend(relationships);
        match next_cursor {
            None => return Ok(Ok(output)),
            Some(next) => {
                anyhow::ensure!(
                    output.pages < MAX_PAGES,
                    "the component returned more than {MAX_PAGES} pages without ending the sync"
                );
                cursor = Some(next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(class: &str, from: &str, to: &str) -> Relationship {
        Relationship { class: class.into(), from_key: from.into(), to_key: to.into(), properties: "{}".into() }
    }

    #[test]
    fn counts_by_type_and_class() {
        let output = SyncOutput {
            entities: vec![Entity {
                key: "onelogin_user:1".into(),
                entity_type: "onelogin_user".into(),
                classes: vec!["User".into()],
                display_name: "Ada".into(),
                properties: "{}".into(),
            }],
            relationships: vec![
                rel("HAS", "onelogin_account:acme", "onelogin_user:1"),
                rel("HAS", "onelogin_account:acme", "onelogin_user:2"),
                rel("ASSIGNED", "onelogin_role:3", "onelogin_user:1"),
            ],
            pages: 1,
        };
        assert_eq!(output.entities_by_type()["onelogin_user"], 1);
        let by_class = output.relationships_by_class();
        assert_eq!(by_class["onelogin_account HAS onelogin_user"], 2);
        assert_eq!(by_class["onelogin_role ASSIGNED onelogin_user"], 1);
        assert_eq!(key_type("nokey"), "nokey");
    }
}
