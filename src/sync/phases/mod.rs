//! The phase registry: every phase of a sync, in the order a sync runs them,
//! each a module with a [`PhaseSpec`] record (`PHASE`) and a `run` function.
//!
//! The one list below generates the [`Phase`] enum, its order, and the
//! exhaustive dispatch to each module, so a phase cannot be declared without
//! being run, or run out of order. The sync kinds, and `describe`'s entity,
//! relationship and sync kinds, are all read from the phases' records.
//!
//! To add a phase: write its module (see `groups.rs` for the smallest one
//! that pages a list) and add one line here.

use serde::{Deserialize, Serialize};

use super::kinds::Kind;
use super::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::client::transport::Transport;
use crate::error::Result;

macro_rules! registry {
    ($($phase:ident => $module:ident,)*) => {
        $(pub mod $module;)*

        /// A sync phase. The order of the cases is the order a sync runs them in.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Phase {
            $(
                #[doc = concat!("See `", stringify!($module), ".rs`.")]
                $phase,
            )*
        }

        impl Phase {
            /// Every phase, in order.
            pub const ALL: &'static [Phase] = &[$(Phase::$phase),*];

            /// The phase's record.
            pub fn spec(self) -> &'static PhaseSpec {
                match self {
                    $(Phase::$phase => &$module::PHASE,)*
                }
            }

            /// Run one step of the phase at `at`.
            pub fn run<T: Transport>(self, ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
                match self {
                    $(Phase::$phase => $module::run(ctx, at),)*
                }
            }
        }
    };
}

registry! {
    CustomAttributes => custom_attributes,
    Groups => groups,
    Roles => roles,
    RoleAdmins => role_admins,
    Apps => apps,
    AppRules => app_rules,
    AwsRoles => aws_roles,
    Privileges => privileges,
    Events => events,
    AppLogins => app_logins,
    Users => users,
    ChangedUsers => changed_users,
}

impl Phase {
    /// The phase after this one.
    pub fn following(self) -> impl Iterator<Item = Phase> {
        Phase::ALL.iter().copied().filter(move |p| *p > self)
    }
}

/// Every sync kind, in the order the phases declare them.
pub fn kinds() -> Vec<Kind> {
    Phase::ALL.iter().flat_map(|p| p.spec().declares.iter().copied()).collect()
}

/// The last phase that reads data of `kind` (a kind is complete once it is
/// passed).
pub fn last_phase(kind: Kind) -> Option<Phase> {
    Phase::ALL.iter().rev().copied().find(|p| p.spec().feeds.contains(&kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_declared_once_fed_by_some_phase_and_requires_only_kinds() {
        let all = kinds();
        for (i, kind) in all.iter().enumerate() {
            assert!(!all[..i].contains(kind), "{} declared twice", kind.name);
            let last = last_phase(*kind).unwrap_or_else(|| panic!("no phase reads {}", kind.name));
            let first = Phase::ALL.iter().find(|p| p.spec().declares.contains(kind)).unwrap();
            assert!(last >= *first, "{} is read before the phase declaring it", kind.name);
            for required in kind.requires {
                assert!(all.contains(required), "{} requires an undeclared kind", kind.name);
            }
        }
        for phase in Phase::ALL {
            for kind in phase.spec().feeds {
                assert!(all.contains(kind), "{phase:?} feeds an undeclared kind");
            }
        }
    }

    #[test]
    fn requirements_are_listed_whole() {
        // A selection adds one level of requirements, so each kind lists what
        // its requirements require too.
        for kind in kinds() {
            for required in kind.requires {
                for deeper in required.requires {
                    assert!(
                        kind.requires.contains(deeper),
                        "{} needs {} (for {})",
                        kind.name,
                        deeper.name,
                        required.name
                    );
                }
            }
        }
    }

    #[test]
    fn phases_are_in_declaration_order_and_named_in_the_cursor_by_snake_case() {
        assert!(Phase::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(serde_json::to_value(Phase::AppRules).unwrap(), "app_rules");
    }
}
