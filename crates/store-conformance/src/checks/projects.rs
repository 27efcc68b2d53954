use basic_admin_core::store::{NewProject, NewTeam, Store, StoreError};
use basic_admin_core::time;
use serde_json::json;
use uuid::Uuid;

use super::new_account;

pub async fn teams_and_projects_are_stored(store: &dyn Store) {
    let owner = store.create_account(new_account("owner@example.com")).await.unwrap();
    let team = NewTeam {
        id: Uuid::new_v4(),
        name: "Team".into(),
        slug: "team".into(),
        owner: owner.id,
        created_at: time::now(),
    };
    let created = store.create_team(team.clone()).await.unwrap();
    assert_eq!((created.id, created.slug.as_str()), (team.id, "team"));

    match store.create_team(NewTeam { id: Uuid::new_v4(), owner: owner.id, ..team.clone() }).await {
        Err(StoreError::Conflict(name)) => assert_eq!(name, "teams_slug_key"),
        other => panic!("expected a slug conflict, got {other:?}"),
    }

    let project = NewProject {
        id: Uuid::new_v4(),
        team_id: team.id,
        name: "App".into(),
        slug: "app".into(),
        website: Some("https://app.example".into()),
        profile: json!({"icon_url": "https://x/y.png"}),
        settings: json!({"auth": {"redirect_uris": ["https://app.example/cb"]}}),
        created_at: time::now(),
    };
    let stored = store.create_project(project.clone()).await.unwrap();
    assert_eq!(store.project_by_id(project.id).await.unwrap(), Some(stored.clone()));
    assert_eq!(stored.settings["auth"]["redirect_uris"][0], "https://app.example/cb");
    assert_eq!(stored.profile, project.profile);
    assert_eq!(store.project_by_id(Uuid::new_v4()).await.unwrap(), None);

    match store.create_project(NewProject { id: Uuid::new_v4(), ..project }).await {
        Err(StoreError::Conflict(name)) => assert_eq!(name, "projects_slug_key"),
        other => panic!("expected a slug conflict, got {other:?}"),
    }
}
