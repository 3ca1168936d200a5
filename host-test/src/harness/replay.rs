//! Recorded responses, answered without a network: what lets the benchmark
//! time the component's own CPU work (`bench::cpu`). A [`ReplayBook`] maps
//! each request (method, path and query) to the response recorded for it;
//! a harness given one ([`Harness::replay_from`](super::Harness::replay_from))
//! answers allowed requests from it at once, and a request it does not hold
//! with a 599 (counted in [`ReplayBook::misses`]), so a replay that strays
//! from the recording shows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// One recorded response.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The HTTP status.
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

/// Responses by `"{METHOD} {path and query}"`.
#[derive(Debug, Default)]
pub struct ReplayBook {
    responses: HashMap<String, Recorded>,
    misses: AtomicU64,
}

impl ReplayBook {
    fn key(method: &str, path_and_query: &str) -> String {
        format!("{method} {path_and_query}")
    }

    /// Record the response to a request (a later one for the same request
    /// replaces it).
    pub fn record(&mut self, method: &str, path_and_query: &str, response: Recorded) {
        self.responses.insert(Self::key(method, path_and_query), response);
    }

    /// The response recorded for a request; `None` counts a miss.
    pub fn answer(&self, method: &str, path_and_query: &str) -> Option<&Recorded> {
        let found = self.responses.get(&Self::key(method, path_and_query));
        if found.is_none() {
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// Requests asked for that were never recorded.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// How many responses it holds.
    pub fn len(&self) -> usize {
        self.responses.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.responses.is_empty()
    }
}
