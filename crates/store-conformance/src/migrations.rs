//! Migrations that change stored data, checked against data written
//! before them. A backend's test gives each check a way to run the
//! migration's SQL again over what the check stored.

use basic_admin_core::model::Slug;
use basic_admin_core::store::{ApiKey, NewAccount, NewProject, NewTeam, Store};
use basic_admin_core::time;
use serde_json::json;
use uuid::Uuid;

/// 0004: public keys keep `project:read` and `schema:read` only.
pub async fn public_keys_are_narrowed(store: &dyn Store, rerun: impl AsyncFnOnce()) {
    let project = project(store).await;
    let cases = [
        ("read", false, "project:read,schema:read"),
        ("read,data:read", false, "project:read,schema:read"),
        ("project:read,users:read", false, "project:read"),
        ("schema:read,keys:read", false, "schema:read"),
        ("data:read", false, "project:read"),
        ("project:read,schema:read", false, "project:read,schema:read"),
        ("read,data:write", true, "read,data:write"),
    ];
    let mut ids = Vec::new();
    for (roles, private, _) in cases {
        ids.push(key(store, project, roles, private).await);
    }
    rerun().await;
    for (id, (before, _, after)) in ids.into_iter().zip(cases) {
        let stored = store.key_by_id(id).await.unwrap().unwrap();
        assert_eq!(stored.roles, after, "{before}");
    }
}

async fn project(store: &dyn Store) -> Uuid {
    let (owner, team, project) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let now = time::now();
    let account = NewAccount {
        id: owner,
        email: format!("{}@example.com", Uuid::new_v4()),
        username: None,
        name: "Owner".into(),
        password_hash: "x".into(),
        created_at: now,
    };
    store.create_account(account).await.unwrap();
    let new_team = NewTeam {
        id: team,
        name: "T".into(),
        slug: Slug::parse(&format!("t-{}", team.simple())).unwrap(),
        owner,
        created_at: now,
    };
    store.create_team(new_team).await.unwrap();
    let new_project = NewProject {
        id: project,
        team_id: team,
        name: "P".into(),
        slug: Slug::parse(&format!("p-{}", project.simple())).unwrap(),
        website: None,
        profile: json!({}),
        settings: json!({}),
        created_at: now,
    };
    store.create_project(new_project).await.unwrap();
    project
}

async fn key(store: &dyn Store, project: Uuid, roles: &str, is_private: bool) -> Uuid {
    let id = Uuid::new_v4();
    let now = time::now();
    let key = ApiKey {
        id,
        project_id: project,
        label: roles.into(),
        roles: roles.into(),
        is_private,
        secret_hash: vec![0; 32],
        created_at: now,
        updated_at: now,
        last_used: None,
    };
    store.create_key(key).await.unwrap();
    id
}
