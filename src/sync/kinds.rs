//! Sync kinds: the units a host selects in `sync-request.kinds`, each with
//! its API cost and the kinds it needs. Each kind is declared, as a
//! [`KindSpec`] static, by the phase module whose data completes it (see
//! `phases/`); this module only says what a kind is and how a selection works.

use crate::error::{Error, Result};
use crate::identity::connector::types::{AccessLevel, SyncKind};

/// What `describe` says of a kind, and what a sync needs to know of it.
#[derive(Debug)]
pub struct KindSpec {
    /// The name in `sync-request.kinds`, the report and the cursor.
    pub name: &'static str,
    /// One sentence for `describe`.
    pub description: &'static str,
    /// The API cost in words, e.g. `1 call per 50 groups`.
    pub cost: &'static str,
    /// Calls per user on a full sync (0 = read in bulk).
    pub calls_per_user: u32,
    /// Read when a request names no kinds.
    pub default_selected: bool,
    /// Kinds read too whenever this one is selected (its joins).
    pub requires: &'static [Kind],
    /// The least access the credentials need to read it: `Manage` for the
    /// reads OneLogin's current docs reserve for Manage All (app rules, a
    /// user's MFA devices, privileges), else `Read`.
    pub required_access: AccessLevel,
}

/// A handle on a declared [`KindSpec`]; two handles are equal when they name
/// the same kind.
#[derive(Debug, Clone, Copy)]
pub struct Kind(pub &'static KindSpec);

impl PartialEq for Kind {
    fn eq(&self, other: &Kind) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Kind {}

impl std::ops::Deref for Kind {
    type Target = KindSpec;

    fn deref(&self) -> &KindSpec {
        self.0
    }
}

impl Kind {
    /// The WIT description.
    pub fn spec(self) -> SyncKind {
        SyncKind {
            name: self.name.into(),
            description: self.description.into(),
            default_selected: self.default_selected,
            calls_per_user: self.calls_per_user,
            cost: self.cost.into(),
            requires: self.requires.iter().map(|k| k.name.to_string()).collect(),
            required_access: self.required_access,
        }
    }

    /// Whether credentials with `access` may read this kind.
    pub fn readable_with(self, access: AccessLevel) -> bool {
        match self.required_access {
            AccessLevel::Manage => access == AccessLevel::Manage,
            AccessLevel::Read | AccessLevel::AuthenticateOnly => true,
        }
    }
}

/// The kinds of one sync, in the order of `all` (the registry's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection(Vec<Kind>);

impl Selection {
    /// The kinds named in a request, with what they require; empty = the
    /// default-selected ones. An unknown name is an input error listing the
    /// known ones.
    pub fn parse(names: &[String], all: &[Kind]) -> Result<Selection> {
        if names.is_empty() {
            return Ok(Selection(all.iter().copied().filter(|k| k.default_selected).collect()));
        }
        let mut wanted: Vec<Kind> = Vec::new();
        for name in names {
            let kind = all.iter().find(|k| k.name == name.trim()).ok_or_else(|| {
                let known: Vec<&str> = all.iter().map(|k| k.name).collect();
                Error::input("kinds", format!("unknown kind `{}`; known: {}", name.trim(), known.join(", ")))
            })?;
            wanted.push(*kind);
            wanted.extend(kind.requires.iter().copied());
        }
        Ok(Selection(all.iter().copied().filter(|k| wanted.contains(k)).collect()))
    }

    /// Rebuild a selection from kind names (a decoded cursor); `None` when a
    /// name is not a kind of `all`.
    pub fn from_names<'n>(names: impl IntoIterator<Item = &'n str>, all: &[Kind]) -> Option<Selection> {
        let mut kinds = Vec::new();
        for name in names {
            kinds.push(*all.iter().find(|k| k.name == name)?);
        }
        Some(Selection(kinds))
    }

    /// The selected kinds, in order.
    pub fn kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn kind(name: &'static str, default_selected: bool, requires: &'static [Kind]) -> KindSpec {
        KindSpec {
            name,
            description: "",
            cost: "",
            calls_per_user: 0,
            default_selected,
            requires,
            required_access: AccessLevel::Read,
        }
    }

    static A: KindSpec = kind("a", true, &[]);
    static B: KindSpec = kind("b", true, &[Kind(&A)]);
    static C: KindSpec = kind("c", false, &[]);

    #[test]
    fn selection_adds_requirements_keeps_order_and_refuses_unknown_kinds() {
        let all = [Kind(&A), Kind(&B), Kind(&C)];
        let selection = Selection::parse(&["c".into(), "b".into()], &all).unwrap();
        let names: Vec<&str> = selection.kinds().map(|k| k.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(matches!(Selection::parse(&["people".into()], &all), Err(Error::InvalidInput { .. })));
        let defaults: Vec<&str> = Selection::parse(&[], &all).unwrap().kinds().map(|k| k.name).collect();
        assert_eq!(defaults, ["a", "b"], "c is not selected by default");
        assert_eq!(Selection::from_names(["c"], &all), Some(Selection(vec![Kind(&C)])));
        assert_eq!(Selection::from_names(["z"], &all), None);
    }
}
