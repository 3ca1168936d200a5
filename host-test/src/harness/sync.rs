//! Driving a sync: call `sync` with each page's `next-cursor` until it is
//! `none`, either collecting everything ([`sync_all`]) or handing each page
//! to a callback and keeping only the totals ([`sync_pages`], for tenants too
//! big to hold in memory).
//!
//! A sync started with [`SyncOptions::checkpoint`] is *incremental*: it
//! returns only what changed since the checkpoint, and never says what was
//! deleted. [`SyncOutput::incremental`] records which kind of sync an output
//! came from, so that [`diff::tombstones`](super::diff::tombstones) can refuse
//! to treat an incremental output as the whole tenant.

use std::collections::BTreeMap;

use super::instance::ConnectorInstance;
use super::types::{ConnectorError, Entity, KindReport, Relationship, SyncPage, SyncRequest};

/// Hard stop for [`sync_all`]: a component that never ends its cursor chain
/// is a bug, not a big tenant.
pub const MAX_PAGES: u64 = 1_000_000;

/// Everything a sync produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOutput {
    /// True when the sync started from a checkpoint: the output then holds
    /// only what changed, and the absence of an entity means nothing.
    pub incremental: bool,
    /// All entities, in the order the pages returned them.
    pub entities: Vec<Entity>,
    /// All relationships, in the order the pages returned them.
    pub relationships: Vec<Relationship>,
    /// How many pages (`sync` calls) it took.
    pub pages: u64,
    /// The per-kind report of the last page.
    pub report: Vec<KindReport>,
    /// The last page's checkpoint, for a later incremental sync.
    pub checkpoint: Option<String>,
    /// Every page's `notes`, in order: how the sync read the data.
    pub notes: Vec<String>,
}

/// What a sync asks for, besides the cursor (see `sync-request` in the WIT).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Stop a page at about this many items (0 = no hint).
    pub max_items: u32,
    /// Kinds to read (empty = the connector's defaults).
    pub kinds: Vec<String>,
    /// An earlier sync's checkpoint: read only changes.
    pub checkpoint: Option<String>,
    /// How long the component may wait for rate limits inside one call.
    pub max_wait_ms: u32,
    /// Requests in flight at once (0 = the connector's default).
    pub concurrency: u32,
}

impl SyncOptions {
    /// The request for one page: the options only go with the first page
    /// (`cursor` none); later pages carry them in the cursor.
    pub fn request(&self, cursor: Option<String>) -> SyncRequest {
        SyncRequest {
            max_items: self.max_items,
            kinds: self.kinds.clone(),
            checkpoint: self.checkpoint.clone(),
            max_wait_ms: self.max_wait_ms,
            concurrency: self.concurrency,
            cursor,
        }
    }
}

/// The entity type of a key: the part before the first `:`
/// (`onelogin_user:12` → `onelogin_user`, `aws_iam_role:arn:aws:…` →
/// `aws_iam_role`), or the whole key without one.
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

/// How a sync driven by [`sync_pages`] ended: everything of a
/// [`SyncOutput`] except the records themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncEnd {
    /// True when the sync started from a checkpoint.
    pub incremental: bool,
    /// How many pages (`sync` calls) it took.
    pub pages: u64,
    /// Entities over all pages.
    pub entities: u64,
    /// Relationships over all pages.
    pub relationships: u64,
    /// The per-kind report of the last page.
    pub report: Vec<KindReport>,
    /// The last page's checkpoint.
    pub checkpoint: Option<String>,
    /// Every page's `notes`, in order.
    pub notes: Vec<String>,
}

/// Runs a sync from the beginning (`cursor: none`) with `options`, handing
/// each page to `on_page` (by value: keep what you need) and keeping only
/// counts. Returns the component's error as soon as a page fails (resume
/// with [`ConnectorInstance::sync_page`] if that matters).
pub async fn sync_pages(
    instance: &mut ConnectorInstance,
    options: &SyncOptions,
    mut on_page: impl FnMut(SyncPage),
) -> anyhow::Result<Result<SyncEnd, ConnectorError>> {
    let mut end = SyncEnd { incremental: options.checkpoint.is_some(), ..SyncEnd::default() };
    let mut cursor = None;
    loop {
        let page = match instance.sync_page(options.request(cursor.take())).await? {
            Ok(page) => page,
            Err(error) => return Ok(Err(error)),
        };
        end.pages += 1;
        end.entities += page.entities.len() as u64;
        end.relationships += page.relationships.len() as u64;
        end.report = page.report.clone();
        end.checkpoint = page.checkpoint.clone();
        end.notes.extend(page.notes.iter().cloned());
        let next_cursor = page.next_cursor.clone();
        on_page(page);
        match next_cursor {
            None => return Ok(Ok(end)),
            Some(next) => {
                anyhow::ensure!(
                    end.pages < MAX_PAGES,
                    "the component returned more than {MAX_PAGES} pages without ending the sync"
                );
                cursor = Some(next);
            }
        }
    }
}

/// Runs a sync from the beginning (`cursor: none`) with `options`, calling
/// `on_page` after each page and collecting every record. Returns the
/// component's error as soon as a page fails (the pages before it are lost:
/// resume with [`ConnectorInstance::sync_page`] if that matters).
pub async fn sync_all(
    instance: &mut ConnectorInstance,
    options: &SyncOptions,
    mut on_page: impl FnMut(&SyncPage),
) -> anyhow::Result<Result<SyncOutput, ConnectorError>> {
    let mut entities = Vec::new();
    let mut relationships = Vec::new();
    let end = sync_pages(instance, options, |page| {
        on_page(&page);
        entities.extend(page.entities);
        relationships.extend(page.relationships);
    })
    .await?;
    Ok(end.map(|end| SyncOutput {
        incremental: end.incremental,
        entities,
        relationships,
        pages: end.pages,
        report: end.report,
        checkpoint: end.checkpoint,
        notes: end.notes,
    }))
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
            ..SyncOutput::default()
        };
        assert_eq!(output.entities_by_type()["onelogin_user"], 1);
        let by_class = output.relationships_by_class();
        assert_eq!(by_class["onelogin_account HAS onelogin_user"], 2);
        assert_eq!(by_class["onelogin_role ASSIGNED onelogin_user"], 1);
        assert_eq!(key_type("nokey"), "nokey");
        assert_eq!(key_type("aws_iam_role:arn:aws:iam::123456789012:role/path/Dev"), "aws_iam_role");
    }
}
