//! Who may do what in a team and its projects: the permission table, in one
//! place. Every service asks [`decide`]; no handler decides on its own.
//!
//! | action                                   | owner | admin | member | viewer |
//! |------------------------------------------|:-----:|:-----:|:------:|:------:|
//! | see the team, its members, projects      |   ✓   |   ✓   |   ✓    |   ✓    |
//! | see invites, settings, key list          |   ✓   |   ✓   |   ✓    |   ✓    |
//! | rename the team, change its slug         |   ✓   |   ✓   |        |        |
//! | delete the team, transfer ownership      |   ✓   |       |        |        |
//! | invite, change or remove members         |   ✓   |   ✓   |        |        |
//! | create and update projects               |   ✓   |   ✓   |   ✓    |        |
//! | delete projects, change settings         |   ✓   |   ✓   |        |        |
//! | read a key                               |   ✓   |   ✓   |   ✓    |        |
//! | create, change, regenerate, delete keys  |   ✓   |   ✓   |        |        |
//! | publish schemas, write user data, upload |   ✓   |   ✓   |   ✓    |        |
//! | read users, user data                    |   ✓   |   ✓   |   ✓    |   ✓    |
//!
//! Anyone may leave a team (remove themselves), except its owner. A caller
//! who is not a member of the team cannot see it: that is a 404, never a 403.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TeamRole {
    Viewer,
    Member,
    Admin,
    Owner,
}

impl TeamRole {
    pub const ALL: [TeamRole; 4] = [TeamRole::Owner, TeamRole::Admin, TeamRole::Member, TeamRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Owner => "owner",
            TeamRole::Admin => "admin",
            TeamRole::Member => "member",
            TeamRole::Viewer => "viewer",
        }
    }
}

impl fmt::Display for TeamRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("roles must be one of owner, admin, member or viewer")]
pub struct RoleError;

impl FromStr for TeamRole {
    type Err = RoleError;

    /// One role name, ignoring case and surrounding space.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(TeamRole::Owner),
            "admin" => Ok(TeamRole::Admin),
            "member" => Ok(TeamRole::Member),
            "viewer" => Ok(TeamRole::Viewer),
            _ => Err(RoleError),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ViewTeam,
    UpdateTeam,
    DeleteTeam,
    TransferOwnership,
    ManageMembers,
    CreateProject,
    ViewProject,
    UpdateProject,
    DeleteProject,
    UpdateSettings,
    ListKeys,
    ReadKey,
    ManageKeys,
    PublishSchema,
    ReadUsers,
    WriteUsers,
    Upload,
}

/// What a team member asking for `action` gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Visible but not permitted: 403.
    Deny,
}

pub fn decide(role: TeamRole, action: Action) -> Decision {
    use Action::*;
    let minimum = match action {
        ViewTeam | ViewProject | ListKeys | ReadUsers => TeamRole::Viewer,
        CreateProject | UpdateProject | ReadKey | PublishSchema | WriteUsers | Upload => TeamRole::Member,
        UpdateTeam | ManageMembers | DeleteProject | UpdateSettings | ManageKeys => TeamRole::Admin,
        DeleteTeam | TransferOwnership => TeamRole::Owner,
    };
    if role >= minimum { Decision::Allow } else { Decision::Deny }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_order() {
        assert_eq!(" Admin ".parse::<TeamRole>(), Ok(TeamRole::Admin));
        assert!("superuser".parse::<TeamRole>().is_err());
        assert!(TeamRole::Owner > TeamRole::Admin && TeamRole::Member > TeamRole::Viewer);
    }

    #[test]
    fn the_table() {
        use Action::*;
        use Decision::*;
        let rows: [(Action, [Decision; 4]); 17] = [
            //                      owner  admin  member viewer
            (ViewTeam, [Allow, Allow, Allow, Allow]),
            (UpdateTeam, [Allow, Allow, Deny, Deny]),
            (DeleteTeam, [Allow, Deny, Deny, Deny]),
            (TransferOwnership, [Allow, Deny, Deny, Deny]),
            (ManageMembers, [Allow, Allow, Deny, Deny]),
            (CreateProject, [Allow, Allow, Allow, Deny]),
            (ViewProject, [Allow, Allow, Allow, Allow]),
            (UpdateProject, [Allow, Allow, Allow, Deny]),
            (DeleteProject, [Allow, Allow, Deny, Deny]),
            (UpdateSettings, [Allow, Allow, Deny, Deny]),
            (ListKeys, [Allow, Allow, Allow, Allow]),
            (ReadKey, [Allow, Allow, Allow, Deny]),
            (ManageKeys, [Allow, Allow, Deny, Deny]),
            (PublishSchema, [Allow, Allow, Allow, Deny]),
            (ReadUsers, [Allow, Allow, Allow, Allow]),
            (WriteUsers, [Allow, Allow, Allow, Deny]),
            (Upload, [Allow, Allow, Allow, Deny]),
        ];
        for (action, expected) in rows {
            for (role, want) in TeamRole::ALL.into_iter().zip(expected) {
                assert_eq!(decide(role, action), want, "{role} {action:?}");
            }
        }
    }
}
