//! Who may do what in a team and its projects: the permission table, in one
//! place. Every service asks [`decide`]; no handler decides on its own.
//!
//! | action                                   | owner | admin | member | viewer |
//! |------------------------------------------|:-----:|:-----:|:------:|:------:|
//! | see the team, its members, projects      |   ✓   |   ✓   |   ✓    |   ✓    |
//! | see settings, key list                   |   ✓   |   ✓   |   ✓    |   ✓    |
//! | see pending invites                      |   ✓   |   ✓   |        |        |
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
//! An API key reaches its own project only (any other is a 404) and never a
//! team; within its project each action needs one key role ([`key_role`]):
//! `admin` holds them all, `read` every read.
//!
//! Anyone may leave a team (remove themselves), except its owner. A caller
//! who is not a member of the team cannot see it: that is a 404, never a 403.

use std::fmt;
use std::str::FromStr;

use crate::model::api_key::{KeyRole, KeyRoles};

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

impl TeamRole {
    /// The role as people read it, where a member has no label of its own.
    pub fn label(self) -> &'static str {
        match self {
            TeamRole::Owner => "Owner",
            TeamRole::Admin => "Admin",
            TeamRole::Member => "Member",
            TeamRole::Viewer => "Viewer",
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
    /// Pending invites: only those who may invite see them (others get an
    /// empty list), since an invite's id and addressee are worth keeping.
    ViewInvites,
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
    ReadData,
    WriteData,
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
        ViewTeam | ViewProject | ListKeys | ReadUsers | ReadData => TeamRole::Viewer,
        CreateProject | UpdateProject | ReadKey | PublishSchema | WriteUsers | WriteData | Upload => TeamRole::Member,
        ViewInvites | UpdateTeam | ManageMembers | DeleteProject | UpdateSettings | ManageKeys => TeamRole::Admin,
        DeleteTeam | TransferOwnership => TeamRole::Owner,
    };
    if role >= minimum { Decision::Allow } else { Decision::Deny }
}

/// The key role that allows `action` in the key's own project; `None` for
/// what no key may do (anything about teams, creating projects).
pub fn key_role(action: Action) -> Option<KeyRole> {
    use Action::*;
    Some(match action {
        ViewTeam | ViewInvites | UpdateTeam | DeleteTeam | TransferOwnership | ManageMembers | CreateProject => {
            return None;
        }
        ViewProject => KeyRole::ProjectRead,
        UpdateProject | UpdateSettings => KeyRole::ProjectWrite,
        DeleteProject => KeyRole::Admin,
        ListKeys | ReadKey => KeyRole::KeysRead,
        ManageKeys => KeyRole::KeysWrite,
        PublishSchema => KeyRole::SchemaWrite,
        ReadUsers => KeyRole::UsersRead,
        WriteUsers => KeyRole::UsersWrite,
        ReadData => KeyRole::DataRead,
        WriteData => KeyRole::DataWrite,
        Upload => KeyRole::UploadWrite,
    })
}

/// What an API key holding `roles` gets for `action` in its own project.
pub fn decide_key(roles: &KeyRoles, action: Action) -> Decision {
    let allowed = key_role(action).is_some_and(|needed| roles.holds(needed));
    if allowed { Decision::Allow } else { Decision::Deny }
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
        let rows: [(Action, [Decision; 4]); 20] = [
            //                      owner  admin  member viewer
            (ViewTeam, [Allow, Allow, Allow, Allow]),
            (ViewInvites, [Allow, Allow, Deny, Deny]),
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
            (ReadData, [Allow, Allow, Allow, Allow]),
            (WriteData, [Allow, Allow, Allow, Deny]),
            (Upload, [Allow, Allow, Allow, Deny]),
        ];
        for (action, expected) in rows {
            for (role, want) in TeamRole::ALL.into_iter().zip(expected) {
                assert_eq!(decide(role, action), want, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn the_key_table() {
        use Action::*;
        use Decision::*;
        let keys = |roles: &str| KeyRoles::parse(roles, true).unwrap();
        // (action, roles that allow it, roles that do not)
        let rows: [(Action, &[&str], &[&str]); 20] = [
            (ViewTeam, &[], &["admin", "read"]),
            (ViewInvites, &[], &["admin", "read"]),
            (UpdateTeam, &[], &["admin"]),
            (DeleteTeam, &[], &["admin"]),
            (TransferOwnership, &[], &["admin"]),
            (ManageMembers, &[], &["admin"]),
            (CreateProject, &[], &["admin", "project:write"]),
            (ViewProject, &["admin", "read", "project:read"], &["project:write", "keys:read"]),
            (UpdateProject, &["admin", "project:write"], &["read", "project:read"]),
            (DeleteProject, &["admin"], &["project:write", "read"]),
            (UpdateSettings, &["admin", "project:write"], &["read"]),
            (ListKeys, &["admin", "read", "keys:read"], &["keys:write", "project:read"]),
            (ReadKey, &["admin", "read", "keys:read"], &["users:read"]),
            (ManageKeys, &["admin", "keys:write"], &["read", "keys:read"]),
            (PublishSchema, &["admin", "schema:write"], &["read", "schema:read", "project:write"]),
            (ReadUsers, &["admin", "read", "users:read"], &["data:read", "users:write"]),
            (WriteUsers, &["admin", "users:write"], &["read", "data:write"]),
            (ReadData, &["admin", "read", "data:read"], &["users:read"]),
            (WriteData, &["admin", "data:write"], &["read", "users:write"]),
            (Upload, &["admin", "upload:write"], &["read", "project:write"]),
        ];
        for (action, allowed, denied) in rows {
            for roles in allowed {
                assert_eq!(decide_key(&keys(roles), action), Allow, "{roles} {action:?}");
            }
            for roles in denied {
                assert_eq!(decide_key(&keys(roles), action), Deny, "{roles} {action:?}");
            }
        }
    }
}
