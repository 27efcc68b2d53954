//! A seeded world for authorization tests: accounts in every role of one
//! team, an outsider, an app user, and the team's project, member and invite
//! to act on. Accounts are stored directly and their tokens signed with the
//! server's own key: the sign-in flow has tests of its own.

use basic_admin_app::auth::api_keys::secret_hash;
use basic_admin_app::auth::claims::{ACCESS_TYP, AccessClaims};
use basic_admin_core::did;
use basic_admin_core::model::ItemId;
use basic_admin_core::model::Slug;
use basic_admin_core::model::api_key::PresentedKey;
use basic_admin_core::store::{
    ApiKey, Connection, Invite, Item, Member, NewAccount, NewProject, NewTeam, SchemaVersion,
};
use basic_admin_core::time;
use basic_admin_server::state::AppState;
use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use crate::harness::TestApp;

#[derive(Clone)]
pub struct Actor {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

/// Who calls, in the order of the matrix's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Anonymous,
    InvalidToken,
    /// Signed in to an app: a token without the admin scope.
    AppUser,
    /// A developer of another team.
    Outsider,
    Viewer,
    Member,
    Admin,
    Owner,
    /// An API key of the project holding the role the operation needs.
    KeyWithRole,
    /// An API key of the project holding every other role (not `admin`).
    KeyWithoutRole,
    /// An `admin` API key of another project.
    KeyOfOtherProject,
}

pub const EVERYONE: [Who; 11] = [
    Who::Anonymous,
    Who::InvalidToken,
    Who::AppUser,
    Who::Outsider,
    Who::Viewer,
    Who::Member,
    Who::Admin,
    Who::Owner,
    Who::KeyWithRole,
    Who::KeyWithoutRole,
    Who::KeyOfOtherProject,
];

pub struct People {
    pub owner: Actor,
    pub admin: Actor,
    pub member: Actor,
    pub viewer: Actor,
    pub outsider: Actor,
    pub app_user: Actor,
    /// A member to act on (never a caller).
    pub target: Actor,
}

impl People {
    pub fn actor(&self, who: Who) -> Option<&Actor> {
        match who {
            Who::Anonymous | Who::InvalidToken | Who::KeyWithRole | Who::KeyWithoutRole | Who::KeyOfOtherProject => {
                None
            }
            Who::AppUser => Some(&self.app_user),
            Who::Outsider => Some(&self.outsider),
            Who::Viewer => Some(&self.viewer),
            Who::Member => Some(&self.member),
            Who::Admin => Some(&self.admin),
            Who::Owner => Some(&self.owner),
        }
    }

    /// The `Authorization` header for a developer or app user `who`, if any
    /// (keys belong to a place: see [`key`]).
    pub fn authorization(&self, who: Who) -> Option<String> {
        match who {
            Who::Anonymous => None,
            Who::InvalidToken => Some("Bearer invalid.jwt.token".into()),
            other => self.actor(other).map(|actor| format!("Bearer {}", actor.token)),
        }
    }
}

/// The DID of the account `account_id` on this server.
pub fn user_did(state: &AppState, account_id: Uuid) -> String {
    format!("did:web:{}:users:{}", did::web_host(&state.config.public_url), account_id.simple())
}

/// A token for `account_id` as if it had signed in, with `scope`.
pub async fn token(app: &TestApp, account_id: Uuid, scope: &str) -> String {
    token_for(app, account_id, scope, "test").await
}

/// [`token`], issued to `client_id` (a project's id, for its app's users).
pub async fn token_for(app: &TestApp, account_id: Uuid, scope: &str, client_id: &str) -> String {
    sign(&app.state, account_id, scope, client_id).await
}

/// [`token_for`] with a server's state (any node's).
pub async fn sign(state: &AppState, account_id: Uuid, scope: &str, client_id: &str) -> String {
    let now = time::now().timestamp();
    let claims = AccessClaims {
        iss: state.app.keys.issuer().to_owned(),
        sub: user_did(state, account_id),
        aud: client_id.into(),
        exp: now + 600,
        iat: now,
        jti: Uuid::new_v4().to_string(),
        scope: scope.into(),
        client_id: client_id.into(),
        sid: Uuid::new_v4(),
    };
    state.app.keys.sign(ACCESS_TYP, &claims).await
}

pub async fn actor(app: &TestApp, label: &str, scope: &str) -> Actor {
    let id = Uuid::new_v4();
    let email = format!("{label}-{}@example.com", id.simple());
    app.state
        .app
        .store
        .create_account(NewAccount {
            id,
            email: email.clone(),
            username: Some(format!("{label}{}", &id.simple().to_string()[..8])),
            name: label.to_owned(),
            password_hash: "not used".into(),
            created_at: time::now(),
        })
        .await
        .unwrap();
    Actor { id, email, token: token(app, id, scope).await }
}

pub async fn people(app: &TestApp) -> People {
    let developer = "profile admin";
    People {
        owner: actor(app, "owner", developer).await,
        admin: actor(app, "admin", developer).await,
        member: actor(app, "member", developer).await,
        viewer: actor(app, "viewer", developer).await,
        outsider: actor(app, "outsider", developer).await,
        app_user: actor(app, "appuser", "profile").await,
        target: actor(app, "target", developer).await,
    }
}

/// A new API key of `project` holding `roles`: its full value.
pub async fn key(app: &TestApp, project: Uuid, roles: &str) -> String {
    let presented = PresentedKey::generate(Uuid::new_v4(), rand::random::<u8>);
    let now = time::now();
    let key = ApiKey {
        id: presented.id,
        project_id: project,
        label: "Matrix".into(),
        roles: roles.into(),
        is_private: true,
        secret_hash: secret_hash(&presented),
        created_at: now,
        updated_at: now,
        last_used: None,
    };
    app.state.app.store.create_key(key).await.unwrap();
    presented.reveal()
}

/// One team with everyone in their role, and what to act on in it.
pub struct Place {
    pub team: Uuid,
    pub project: Uuid,
    pub invite: Uuid,
    /// An API key of the project (when it has one).
    pub key: Uuid,
}

/// What a project's app keeps: a user (the app user) with one item in `todos`.
pub struct AppData {
    pub user_did: String,
    pub item: ItemId,
}

/// Publishes [`first_schema`] for `project`, connects the app user and gives
/// them an item.
pub async fn app_data(app: &TestApp, people: &People, project: Uuid) -> AppData {
    let store = &app.state.app.store;
    let now = time::now();
    let user_did = user_did(&app.state, people.app_user.id);
    let item = ItemId::generate();
    let schema = SchemaVersion {
        id: Uuid::new_v4(),
        project_id: project,
        version: 1,
        schema: first_schema(project),
        created_at: now,
    };
    store.publish_schema(schema).await.unwrap();
    let connection = Connection {
        id: Uuid::new_v4(),
        project_id: project,
        user_did: user_did.clone(),
        pds_url: app.state.config.public_url.clone(),
        account_id: Some(people.app_user.id),
        scopes: "openid profile".into(),
        at: now,
    };
    store.connect_user(connection).await.unwrap();
    let todo = Item {
        id: item.clone(),
        seq: 0,
        project_id: project,
        user_did: user_did.clone(),
        table: "todos".into(),
        value: json!({"title": "World"}),
        created_at: now,
        updated_at: now,
    };
    store.create_item(todo, 100).await.unwrap();
    AppData { user_did, item }
}

/// The project's first schema: one table, `todos`, with a `title`.
pub fn first_schema(project: Uuid) -> serde_json::Value {
    json!({"project_id": project, "version": 1, "tables": {"todos": {"type": "collection", "fields": {"title": {"type": "string"}}}}})
}

pub async fn place(app: &TestApp, people: &People, with_project: bool) -> Place {
    let store = &app.state.app.store;
    let team = Uuid::new_v4();
    let now = time::now();
    store
        .create_team(NewTeam {
            id: team,
            name: "Team".into(),
            slug: Slug::parse(&format!("team-{}", team.simple())).unwrap(),
            owner: people.owner.id,
            created_at: now,
        })
        .await
        .unwrap();
    use basic_admin_core::authz::TeamRole;
    for (actor, role) in [
        (&people.admin, TeamRole::Admin),
        (&people.member, TeamRole::Member),
        (&people.viewer, TeamRole::Viewer),
        (&people.target, TeamRole::Member),
    ] {
        let member = Member { team_id: team, account_id: actor.id, roles: role, role_name: None, created_at: now };
        store.add_member(member).await.unwrap();
    }
    let outsiders_team = Uuid::new_v4();
    let slug = format!("other-{}", outsiders_team.simple());
    store
        .create_team(NewTeam {
            id: outsiders_team,
            name: "Other".into(),
            slug: Slug::parse(&slug).unwrap(),
            owner: people.outsider.id,
            created_at: now,
        })
        .await
        .unwrap();
    let project = Uuid::new_v4();
    if with_project {
        store
            .create_project(NewProject {
                id: project,
                team_id: team,
                name: "App".into(),
                slug: Slug::parse(&format!("app-{}", project.simple())).unwrap(),
                website: None,
                profile: json!({}),
                settings: json!({"auth": {"redirect_uris": ["https://app.example/cb"]}}),
                created_at: now,
            })
            .await
            .unwrap();
    }
    let key = Uuid::new_v4();
    if with_project {
        let api_key = ApiKey {
            id: key,
            project_id: project,
            label: "World".into(),
            // Within the roles of the matrix's `keys:write` key, which manages it.
            roles: "keys:write".into(),
            is_private: true,
            secret_hash: vec![0; 64],
            created_at: now,
            updated_at: now,
            last_used: None,
        };
        store.create_key(api_key).await.unwrap();
    }
    let invite = Uuid::new_v4();
    store
        .create_invite(Invite {
            id: invite,
            team_id: team,
            invitee_kind: basic_admin_core::store::InviteeKind::Email,
            invitee: format!("invited-{}@example.com", invite.simple()),
            roles: basic_admin_core::authz::TeamRole::Member,
            role_name: None,
            invited_by: Some(people.owner.id),
            created_at: now,
            expires_at: now + Duration::days(7),
            accepted_at: None,
            token_hash: None,
        })
        .await
        .unwrap();
    Place { team, project, invite, key }
}
