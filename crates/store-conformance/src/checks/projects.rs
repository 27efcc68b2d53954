use basic_admin_core::authz::TeamRole;
use basic_admin_core::model::Slug;
use basic_admin_core::store::{
    Constraint, Invite, InviteeKind, Member, NewProject, NewTeam, ProjectChanges, Store, StoreError,
};
use basic_admin_core::time;
use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::new_account;

pub(super) async fn account(store: &dyn Store) -> Uuid {
    store.create_account(new_account(&format!("{}@example.com", Uuid::new_v4()))).await.unwrap().id
}

pub(super) fn new_team(owner: Uuid, slug: &str) -> NewTeam {
    NewTeam {
        id: Uuid::new_v4(),
        name: "Team".into(),
        slug: Slug::parse(slug).unwrap(),
        owner,
        created_at: time::now(),
    }
}

pub(super) fn new_project(team_id: Uuid, slug: &str) -> NewProject {
    NewProject {
        id: Uuid::new_v4(),
        team_id,
        name: "App".into(),
        slug: Slug::parse(slug).unwrap(),
        website: Some("https://app.example".into()),
        profile: json!({"icon_url": "https://x/y.png"}),
        settings: json!({"auth": {"redirect_uris": ["https://app.example/cb"]}}),
        created_at: time::now(),
    }
}

fn assert_unique<T: std::fmt::Debug>(result: Result<T, StoreError>, constraint: Constraint) {
    match result {
        Err(StoreError::Unique(found)) => assert_eq!(found, constraint),
        other => panic!("expected {constraint} to be taken, got {other:?}"),
    }
}

pub async fn teams_and_projects_are_stored(store: &dyn Store) {
    let owner = account(store).await;
    let team = new_team(owner, "team");
    let created = store.create_team(team.clone()).await.unwrap();
    assert_eq!((created.id, created.slug.as_str()), (team.id, "team"));
    assert_eq!(store.team_by_id(team.id).await.unwrap(), Some(created));
    assert!(store.team_slug_taken("team").await.unwrap());
    assert!(!store.team_slug_taken("other").await.unwrap());
    assert_unique(store.create_team(new_team(owner, "team")).await, Constraint::TeamSlug);

    let project = new_project(team.id, "app");
    let stored = store.create_project(project.clone()).await.unwrap();
    assert_eq!(store.project_by_id(project.id).await.unwrap(), Some(stored.clone()));
    assert_eq!(stored.settings["auth"]["redirect_uris"][0], "https://app.example/cb");
    assert_eq!(stored.profile, project.profile);
    assert_eq!(store.project_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert!(store.project_slug_taken("app").await.unwrap());
    assert_unique(store.create_project(NewProject { id: Uuid::new_v4(), ..project }).await, Constraint::ProjectSlug);
}

pub async fn memberships_list_teams_and_their_projects(store: &dyn Store) {
    let (owner, other) = (account(store).await, account(store).await);
    let a = new_team(owner, "a-team");
    let b = new_team(other, "b-team");
    store.create_team(a.clone()).await.unwrap();
    store.create_team(b.clone()).await.unwrap();
    let later = time::now() + Duration::seconds(1);
    let member = Member {
        team_id: b.id,
        account_id: owner,
        roles: TeamRole::Viewer,
        role_name: Some("Reader".into()),
        created_at: later,
    };
    store.add_member(member.clone()).await.unwrap();
    assert_unique(store.add_member(member).await, Constraint::TeamMember);

    let teams = store.teams_of(owner).await.unwrap();
    let summary: Vec<_> = teams.iter().map(|t| (t.team.slug.as_str(), t.member.roles.as_str(), t.owner_id)).collect();
    assert_eq!(summary, [("a-team", "owner", Some(owner)), ("b-team", "viewer", Some(other))]);
    assert_eq!(teams[1].member.role_name.as_deref(), Some("Reader"));

    store.create_project(new_project(a.id, "pa")).await.unwrap();
    store.create_project(NewProject { created_at: later, ..new_project(b.id, "pb") }).await.unwrap();
    let projects = store.projects_of(owner).await.unwrap();
    let slugs: Vec<_> = projects.iter().map(|p| (p.project.slug.as_str(), p.team.slug.as_str())).collect();
    assert_eq!(slugs, [("pa", "a-team"), ("pb", "b-team")]);
    assert_eq!(store.projects_of(other).await.unwrap().len(), 1);
    assert_eq!(store.projects_of_team(a.id).await.unwrap().len(), 1);
}

pub async fn members_change_roles_and_ownership_moves(store: &dyn Store) {
    let (owner, second) = (account(store).await, account(store).await);
    let team = new_team(owner, "roles");
    store.create_team(team.clone()).await.unwrap();
    store
        .add_member(Member {
            team_id: team.id,
            account_id: second,
            roles: TeamRole::Member,
            role_name: None,
            created_at: time::now(),
        })
        .await
        .unwrap();

    let changed = store
        .update_member(team.id, second, Some(TeamRole::Admin), Some(Some("Lead".into())), time::now())
        .await
        .unwrap();
    assert_eq!((changed.roles.as_str(), changed.role_name.as_deref()), ("admin", Some("Lead")));
    let kept = store.update_member(team.id, second, None, None, time::now()).await.unwrap();
    assert_eq!((kept.roles.as_str(), kept.role_name.as_deref()), ("admin", Some("Lead")), "None keeps");
    let cleared = store.update_member(team.id, second, None, Some(None), time::now()).await.unwrap();
    assert_eq!(cleared.role_name, None);
    assert!(matches!(
        store.update_member(team.id, Uuid::new_v4(), None, None, time::now()).await,
        Err(StoreError::NotFound)
    ));

    store.transfer_ownership(team.id, owner, second, time::now()).await.unwrap();
    assert_eq!(store.member(team.id, second).await.unwrap().unwrap().roles, TeamRole::Owner);
    assert_eq!(store.member(team.id, owner).await.unwrap().unwrap().roles, TeamRole::Admin);
    let not_owner = store.transfer_ownership(team.id, owner, second, time::now()).await;
    assert!(matches!(not_owner, Err(StoreError::NotFound)), "only the owner can hand over");
    assert_eq!(store.member(team.id, second).await.unwrap().unwrap().roles, TeamRole::Owner, "nothing changed");

    store.remove_member(team.id, owner).await.unwrap();
    assert_eq!(store.members(team.id).await.unwrap().len(), 1);
    assert!(matches!(store.remove_member(team.id, owner).await, Err(StoreError::NotFound)));
}

pub async fn invites_are_pending_until_accepted_once(store: &dyn Store) {
    let (owner, guest) = (account(store).await, account(store).await);
    let team = new_team(owner, "invites");
    store.create_team(team.clone()).await.unwrap();
    let now = time::now();
    let invite = |invitee: &str, expires_at| Invite {
        id: Uuid::new_v4(),
        team_id: team.id,
        invitee_kind: InviteeKind::Email,
        invitee: invitee.into(),
        roles: TeamRole::Member,
        role_name: None,
        invited_by: Some(owner),
        created_at: now,
        expires_at,
        accepted_at: None,
        token_hash: None,
    };
    let live = invite("guest@example.com", now + Duration::days(7));
    let old = invite("late@example.com", now - Duration::seconds(1));
    store.create_invite(live.clone()).await.unwrap();
    store.create_invite(old.clone()).await.unwrap();
    assert_eq!(
        store.pending_invites(team.id, now).await.unwrap(),
        std::slice::from_ref(&live),
        "expired ones are not pending"
    );
    assert_eq!(store.invite_by_id(old.id).await.unwrap(), Some(old.clone()));

    let member = store.accept_invite(&live, guest, now).await.unwrap();
    assert_eq!((member.account_id, member.roles.as_str()), (guest, "member"));
    assert!(matches!(store.accept_invite(&live, guest, now).await, Err(StoreError::NotFound)), "once");
    assert!(store.pending_invites(team.id, now).await.unwrap().is_empty());
    assert!(store.invite_by_id(live.id).await.unwrap().unwrap().accepted_at.is_some());

    store.delete_invite(team.id, old.id).await.unwrap();
    assert!(matches!(store.delete_invite(team.id, old.id).await, Err(StoreError::NotFound)));
}

pub async fn teams_with_projects_are_not_deleted(store: &dyn Store) {
    let owner = account(store).await;
    let team = new_team(owner, "keep");
    store.create_team(team.clone()).await.unwrap();
    let project = store.create_project(new_project(team.id, "keep-app")).await.unwrap();
    assert!(matches!(store.delete_team(team.id).await, Err(StoreError::ForeignKey)));
    assert!(store.team_by_id(team.id).await.unwrap().is_some());

    store.delete_project(project.id).await.unwrap();
    assert!(matches!(store.delete_project(project.id).await, Err(StoreError::NotFound)));
    store.delete_team(team.id).await.unwrap();
    assert_eq!(store.team_by_id(team.id).await.unwrap(), None);
    assert!(store.members(team.id).await.unwrap().is_empty(), "members go with the team");
}

pub async fn projects_update_and_settings_change_only_if_unchanged(store: &dyn Store) {
    let owner = account(store).await;
    let team = new_team(owner, "upd");
    store.create_team(team.clone()).await.unwrap();
    let project = store.create_project(new_project(team.id, "upd-app")).await.unwrap();

    let at = time::now() + Duration::milliseconds(5);
    let changes = ProjectChanges { name: Some("Renamed".into()), website: Some(None), ..ProjectChanges::default() };
    let updated = store.update_project(project.id, changes.clone(), project.updated_at, at).await.unwrap().unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.slug.as_str(), updated.website.as_deref()),
        ("Renamed", "upd-app", None)
    );
    assert_eq!(updated.profile, project.profile, "untouched");
    assert_eq!(updated.updated_at, at);
    let other = store.create_project(new_project(team.id, "taken")).await.unwrap();
    let clash = ProjectChanges { slug: Some(Slug::parse("taken").unwrap()), ..ProjectChanges::default() };
    let later = at + Duration::milliseconds(1);
    assert_unique(store.update_project(project.id, clash, at, later).await, Constraint::ProjectSlug);
    let stale = store.update_project(project.id, changes, project.updated_at, later).await.unwrap();
    assert_eq!(stale, None, "changed since it was read: nothing is written");
    assert_eq!(store.update_project(Uuid::new_v4(), ProjectChanges::default(), at, later).await.unwrap(), None);

    let settings = json!({"auth": {"redirect_uris": []}});
    let later = at + Duration::milliseconds(5);
    let stale = store.update_settings(project.id, &settings, project.updated_at, later).await.unwrap();
    assert_eq!(stale, None, "someone changed the project since it was read");
    let done = store.update_settings(project.id, &settings, at, later).await.unwrap().unwrap();
    assert_eq!(done.settings, settings);
    assert_eq!(store.project_by_id(other.id).await.unwrap().unwrap().settings, other.settings);
}

pub async fn schema_versions_are_kept_in_order_and_unique(store: &dyn Store) {
    use basic_admin_core::store::SchemaVersion;
    let owner = account(store).await;
    let team = new_team(owner, "schemas");
    store.create_team(team.clone()).await.unwrap();
    let project = store.create_project(new_project(team.id, "schema-app")).await.unwrap();
    assert_eq!(store.latest_schema(project.id).await.unwrap(), None);
    let v = |n: i64| SchemaVersion {
        id: Uuid::new_v4(),
        project_id: project.id,
        version: n,
        schema: json!({"project_id": project.id, "version": n, "tables": {"t": {"fields": {}}}}),
        created_at: time::now(),
    };
    let (v1, v2) = (v(1), v(2));
    store.publish_schema(v2.clone()).await.unwrap();
    store.publish_schema(v1.clone()).await.unwrap();
    assert_eq!(store.latest_schema(project.id).await.unwrap(), Some(v2.clone()));
    assert_eq!(store.schema_version(project.id, 1).await.unwrap(), Some(v1.clone()));
    assert_eq!(store.schema_version(project.id, 3).await.unwrap(), None);
    assert_eq!(store.schema_versions(project.id).await.unwrap(), [v1, v2]);
    assert_unique(store.publish_schema(v(2)).await, Constraint::SchemaVersion);
    store.delete_project(project.id).await.unwrap();
    assert!(store.schema_versions(project.id).await.unwrap().is_empty(), "versions go with their project");
}

pub async fn api_keys_are_kept_changed_and_touched(store: &dyn Store) {
    use basic_admin_core::store::ApiKey;
    let owner = account(store).await;
    let team = new_team(owner, "keys");
    store.create_team(team.clone()).await.unwrap();
    let project = store.create_project(new_project(team.id, "keys-app")).await.unwrap();
    let other = store.create_project(new_project(team.id, "keys-other")).await.unwrap();
    let now = time::now();
    let k = ApiKey {
        id: Uuid::new_v4(),
        project_id: project.id,
        label: "CI".into(),
        roles: "read".into(),
        is_private: true,
        secret_hash: vec![9; 32],
        created_at: now,
        updated_at: now,
        last_used: None,
    };
    store.create_key(k.clone()).await.unwrap();
    assert_eq!(store.key_by_id(k.id).await.unwrap(), Some(k.clone()));
    assert_eq!(store.keys_of_project(project.id).await.unwrap(), std::slice::from_ref(&k));
    assert!(store.keys_of_project(other.id).await.unwrap().is_empty());

    let later = now + Duration::seconds(1);
    let changed = store.update_key(project.id, k.id, None, Some("admin".into()), later).await.unwrap();
    assert_eq!((changed.label.as_str(), changed.roles.as_str(), changed.updated_at), ("CI", "admin", later));
    let missing = store.update_key(other.id, k.id, Some("x".into()), None, later).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "a key belongs to one project");
    let fresh = store.replace_key_secret(project.id, k.id, &[7; 32], later).await.unwrap();
    assert_eq!(fresh.secret_hash, vec![7; 32]);

    store.touch_keys(&[(k.id, later), (Uuid::new_v4(), later)]).await.unwrap();
    store.touch_keys(&[(k.id, now)]).await.unwrap();
    assert_eq!(store.key_by_id(k.id).await.unwrap().unwrap().last_used, Some(later), "never goes back");

    assert!(matches!(store.delete_key(other.id, k.id).await, Err(StoreError::NotFound)));
    store.delete_key(project.id, k.id).await.unwrap();
    assert_eq!(store.key_by_id(k.id).await.unwrap(), None);
    let again = ApiKey { id: Uuid::new_v4(), ..k };
    store.create_key(again.clone()).await.unwrap();
    store.delete_project(project.id).await.unwrap();
    assert_eq!(store.key_by_id(again.id).await.unwrap(), None, "keys go with their project");
}
