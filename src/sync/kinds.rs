//! The selectable kinds of a sync (`sync-request.kinds`), what each costs in
//! OneLogin API calls, and which other kinds each one needs.

use crate::error::{Error, Result};
use crate::identity::connector::types::SyncKind;

/// One selectable kind. The order is the order a sync reads them in. Its
/// serialized name (in the cursor) is [`Kind::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Groups,
    Roles,
    Apps,
    AppRules,
    Privileges,
    Events,
    Users,
    UserApps,
    MfaDevices,
    AwsIamRoles,
}

/// Every kind, in order.
pub const ALL: [Kind; 10] = [
    Kind::Groups,
    Kind::Roles,
    Kind::Apps,
    Kind::AppRules,
    Kind::Privileges,
    Kind::Events,
    Kind::Users,
    Kind::UserApps,
    Kind::MfaDevices,
    Kind::AwsIamRoles,
];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Groups => "groups",
            Kind::Roles => "roles",
            Kind::Apps => "apps",
            Kind::AppRules => "app_rules",
            Kind::Privileges => "privileges",
            Kind::Events => "events",
            Kind::Users => "users",
            Kind::UserApps => "user_apps",
            Kind::MfaDevices => "mfa_devices",
            Kind::AwsIamRoles => "aws_iam_roles",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// Kinds this one needs to be read first (joins).
    pub fn requires(self) -> &'static [Kind] {
        match self {
            Kind::UserApps => &[Kind::Users, Kind::Roles, Kind::Apps],
            Kind::MfaDevices => &[Kind::Users],
            Kind::AppRules => &[Kind::Apps],
            Kind::AwsIamRoles => &[Kind::Users, Kind::Apps, Kind::AppRules],
            _ => &[],
        }
    }

    /// API calls per user on a full sync (OneLogin has no bulk read).
    pub fn calls_per_user(self) -> u32 {
        match self {
            Kind::UserApps | Kind::MfaDevices => 1,
            _ => 0,
        }
    }

    fn description(self) -> &'static str {
        match self {
            Kind::Groups => "Groups and group membership (a user's one group).",
            Kind::Roles => "Roles, the applications each grants, and role admins.",
            Kind::Apps => "Applications: connector, auth method, visibility, provisioning.",
            Kind::AppRules => "Application rules (enabled and disabled) as configuration entities.",
            Kind::Privileges => "Delegated-administration privileges and whom they are assigned to.",
            Kind::Events => {
                "Events since the checkpoint (first sync: the configured lookback), and each \
                             user's last login per application."
            }
            Kind::Users => {
                "Users with every field and custom attribute, normalized account and employment \
                            status, role membership; custom attribute definitions."
            }
            Kind::UserApps => {
                "Each user's applications: through which roles or directly, and the \
                               provisioning state."
            }
            Kind::MfaDevices => "Each user's MFA devices, and an mfa_enrolled flag on users.",
            Kind::AwsIamRoles => "AWS IAM roles users get through SAML application rules (set_role).",
        }
    }

    fn cost(self) -> &'static str {
        match self {
            Kind::Groups => "1 call per 50 groups",
            Kind::Roles => "1 call per 650 roles, plus 1 per role (admins; 1 more per 100 admins)",
            Kind::Apps => "1 call per 1000 applications",
            Kind::AppRules => "2 calls per application (enabled rules, disabled rules)",
            Kind::Privileges => "1 call, plus 2 per privilege",
            Kind::Events => "1 call per 50 events in the window",
            Kind::Users => "1 call per 100 users (OneLogin may serve 50), plus 1",
            Kind::UserApps => "1 call per user (incremental: per changed user)",
            Kind::MfaDevices => "1 call per user (incremental: per changed user)",
            Kind::AwsIamRoles => "1 call per 1000 users of each app with AWS rules (who can reach it)",
        }
    }

    /// The WIT description.
    pub fn spec(self) -> SyncKind {
        SyncKind {
            name: self.name().into(),
            description: self.description().into(),
            default_selected: true,
            calls_per_user: self.calls_per_user(),
            cost: self.cost().into(),
            requires: self.requires().iter().map(|k| k.name().to_string()).collect(),
        }
    }
}

/// A set of kinds, as a bit set (it travels in the cursor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Selection(pub u16);

impl Selection {
    /// The kinds named in a request, with what they require; empty = all.
    pub fn parse(names: &[String]) -> Result<Selection> {
        if names.is_empty() {
            return Ok(Selection(ALL.iter().fold(0, |bits, kind| bits | kind.bit())));
        }
        let mut bits = 0u16;
        for name in names {
            let kind = ALL.iter().find(|k| k.name() == name.trim()).ok_or_else(|| {
                let known: Vec<&str> = ALL.iter().map(|k| k.name()).collect();
                Error::input("kinds", format!("unknown kind `{name}`; known: {}", known.join(", ")))
            })?;
            bits |= kind.bit();
            for required in kind.requires() {
                bits |= required.bit();
            }
        }
        Ok(Selection(bits))
    }

    pub fn has(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The selected kinds, in order.
    pub fn kinds(self) -> impl Iterator<Item = Kind> {
        ALL.into_iter().filter(move |k| self.has(*k))
    }

    /// Whether any per-user kind is selected.
    pub fn per_user_calls(self) -> u32 {
        self.kinds().map(Kind::calls_per_user).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_adds_requirements_and_refuses_unknown_kinds() {
        let selection = Selection::parse(&["aws_iam_roles".into()]).unwrap();
        let names: Vec<&str> = selection.kinds().map(Kind::name).collect();
        assert_eq!(names, ["apps", "app_rules", "users", "aws_iam_roles"]);
        assert!(matches!(Selection::parse(&["people".into()]), Err(Error::InvalidInput { .. })));
        assert_eq!(Selection::parse(&[]).unwrap().kinds().count(), ALL.len());
        assert_eq!(Selection::parse(&["mfa_devices".into(), "user_apps".into()]).unwrap().per_user_calls(), 2);
        for kind in ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name(), "serialized as its name");
        }
    }
}
