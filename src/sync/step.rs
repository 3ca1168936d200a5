//! One step of a sync phase: what it works with ([`Ctx`]), where it starts
//! ([`Position`]), what it returns ([`StepOutcome`]), and the record every
//! phase declares about itself ([`PhaseSpec`]).

use serde::{Deserialize, Serialize};

use super::cache::SyncCache;
use super::kinds::Kind;
use super::state::{SyncState, Topic};
use crate::client::pagination::PageCursor;
use crate::client::transport::Transport;
use crate::client::Client;
use crate::identity::connector::types::{Entity, Relationship};
use crate::logging;
use crate::vocabulary::{EntityType, RelationshipType, HAS};

/// A step that fans out keeps the sliding window full for about this many
/// rounds (`concurrency` requests each): the window drains only at the end
/// of a step, so longer steps lose less, while a step still fits well within
/// a call's network-time budget at concurrency 1.
pub const ROUNDS_PER_STEP: usize = 16;

/// What a phase is: the registry (`phases/mod.rs`) holds one per phase, and
/// `describe` and the sync engine derive everything from them.
pub struct PhaseSpec {
    /// The phase name shown in progress, e.g. `users`.
    pub name: &'static str,
    /// The kinds this phase declares (the ones its data completes), in the
    /// order `describe` and the report list them.
    pub declares: &'static [Kind],
    /// The kinds whose data this phase reads; the first is the one settled
    /// when the phase fails. A kind is complete once the last phase feeding
    /// it is passed.
    pub feeds: &'static [Kind],
    /// Whether the engine enters the phase, given the sync so far.
    pub enter: fn(&SyncState) -> bool,
    /// The entity types it emits.
    pub entities: &'static [&'static EntityType],
    /// The relationship types it emits.
    pub relationships: &'static [RelationshipType],
}

impl PhaseSpec {
    /// The kind a failure of this phase is reported on.
    pub fn kind(&self) -> Option<Kind> {
        self.feeds.first().copied()
    }
}

/// Where a step starts: OneLogin's page (for phases that page a list) and an
/// index (into that page, or into a list an earlier phase read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The upstream page.
    #[serde(flatten)]
    pub page: PageCursor,
    /// The index of the next item to handle.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub i: usize,
    /// Lists read in parallel lanes, each where it stands (the time slices
    /// of the events and app logins phases: see `lanes.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lanes: Vec<Lane>,
}

/// One slice of a list read in parallel with others: its bounds (unix
/// seconds, `since` inclusive, `until` exclusive), its page, and the id up to
/// which items were already read elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lane {
    /// From (inclusive).
    pub since: i64,
    /// To (exclusive).
    pub until: i64,
    /// The page to read.
    pub at: PageCursor,
    /// Items with ids up to this were read before the lanes began.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub after_id: u64,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

impl Position {
    /// A phase's first step.
    pub fn start() -> Self {
        Position::default()
    }

    /// The step at `page` (index 0).
    pub fn at_page(page: PageCursor) -> Self {
        Position { page, ..Position::default() }
    }

    /// The step at index `i` (no upstream page).
    pub fn at_index(i: usize) -> Self {
        Position { i, ..Position::default() }
    }
}

/// What a step did.
#[derive(Debug)]
pub struct StepOutcome {
    /// Where the phase goes on; `None` when the phase is done.
    pub next: Option<Position>,
    /// How many objects the step read (for progress).
    pub read: u64,
}

impl StepOutcome {
    /// The phase is done.
    pub fn done(read: usize) -> Self {
        StepOutcome { next: None, read: count(read) }
    }

    /// The phase goes on at `next` (or is done when `None`).
    pub fn then(next: Option<Position>, read: usize) -> Self {
        StepOutcome { next, read: count(read) }
    }
}

/// A count as the WIT's u64.
pub fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The account a sync belongs to.
#[derive(Debug, Clone)]
pub struct Account {
    /// OneLogin's account id.
    pub id: String,
    /// The account entity's key.
    pub key: String,
    /// The API base URL (no credentials).
    pub api_base_url: String,
    /// The API host.
    pub host: String,
    /// What the credentials may do (probed by `configure`): kinds that need
    /// more are skipped without a call.
    pub access: crate::identity::connector::types::AccessLevel,
}

/// Entities and relationships of one page.
#[derive(Default)]
pub struct Output {
    /// Entities so far.
    pub entities: Vec<Entity>,
    /// Relationships so far.
    pub relationships: Vec<Relationship>,
    /// The total of the current phase, when OneLogin says.
    pub total: Option<u64>,
    /// Notes for the host (`sync-page.notes`).
    pub notes: Vec<String>,
}

impl Output {
    /// Records on the page so far.
    pub fn len(&self) -> usize {
        self.entities.len() + self.relationships.len()
    }
}

/// What a step works with.
pub struct Ctx<'a, T: Transport> {
    /// The OneLogin client.
    pub client: &'a mut Client<T>,
    /// The account synced.
    pub account: &'a Account,
    /// The instance's memory of this sync.
    pub cache: &'a mut SyncCache,
    /// The plan and the report.
    pub state: &'a mut SyncState,
    /// This page's output.
    pub out: &'a mut Output,
}

impl<T: Transport> Ctx<'_, T> {
    /// Requests to keep in flight at once.
    pub fn concurrency(&self) -> usize {
        usize::try_from(self.state.plan.concurrency).unwrap_or(1).max(1)
    }

    /// How many items one step handles when each costs `calls` requests:
    /// enough to keep the sliding window full for [`ROUNDS_PER_STEP`] rounds.
    /// A step is also kept to half a rate window's calls, so that a step
    /// (which is done whole or not at all) always fits in a fresh window.
    /// The rounds are at the limit in effect (lower while OneLogin
    /// throttles), so a throttled step still fits in a call's budget.
    pub fn batch(&self, calls: usize) -> usize {
        let requests = self.concurrency().min(self.client.concurrency_limit()).max(1) * ROUNDS_PER_STEP;
        let window =
            self.client.rate_window_calls().map_or(usize::MAX, |n| usize::try_from(n / 2).unwrap_or(usize::MAX));
        (requests.min(window) / calls.max(1)).max(1)
    }

    /// Whether a kind is selected and still being read.
    pub fn pending(&self, kind: Kind) -> bool {
        self.state.pending(kind)
    }

    /// Whether the object keyed `key` is new in this sync; a repeat is logged
    /// and should be skipped with everything mapped from it.
    pub fn first_sighting(&mut self, key: &str) -> bool {
        let new = self.cache.first_sighting(key);
        if !new {
            logging::warn(&format!("OneLogin listed {key} twice; emitted once"));
        }
        new
    }

    /// Tell the host `text` (`sync-page.notes`, and the log), unless this
    /// sync already gave a note about `topic`. The cursor remembers it, so a
    /// step repeated after a failure does not say it again; a page the host
    /// never received takes its notes with it.
    pub fn note(&mut self, topic: Topic, text: String) {
        if self.state.plan.noted.contains(&topic) {
            return;
        }
        logging::info(&text);
        self.state.plan.noted.push(topic);
        self.out.notes.push(text);
    }

    /// Emit an entity the account owns (account HAS it).
    pub fn owned(&mut self, entity: Entity) {
        self.out.relationships.push(super::mapping::relationship(HAS, &self.account.key, &entity.key));
        self.out.entities.push(entity);
    }
}
