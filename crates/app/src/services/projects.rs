//! Projects, their settings and their public profile.

use basic_admin_core::authz::Action;
use basic_admin_core::json::merge_keys;
use basic_admin_core::model::slugify;
use basic_admin_core::settings::{self, SettingsError};
use basic_admin_core::store::{Constraint, NewProject, Project, ProjectChanges, StoreError, TeamProject};
use basic_admin_core::time;
use serde_json::{Value, json};
use uuid::Uuid;

use super::access::{self, ProjectAccess};
use super::slugs;
use crate::Caller;
use crate::Context;
use crate::cache::Change;
use crate::error::{AppError, AppResult, Thing};

/// The largest profile a project may keep, serialized.
pub const MAX_PROFILE_BYTES: usize = 16 * 1024;

/// The developer's projects, or a key's own project.
pub async fn list(ctx: &Context, caller: &Caller) -> AppResult<Vec<TeamProject>> {
    if let Caller::ApiKey(key) = caller {
        let project = access::project(ctx, caller, &key.key.project_id.to_string(), Action::ViewProject).await?.project;
        let team = ctx.store.team_by_id(project.team_id).await?.ok_or(AppError::NotFound(Thing::Project))?;
        return Ok(vec![TeamProject { project, team }]);
    }
    let account_id = caller.developer()?.account_id;
    Ok(ctx.store.projects_of(account_id).await?)
}

pub async fn create(
    ctx: &Context,
    caller: &Caller,
    name: &str,
    team_id: &str,
    slug: Option<&str>,
) -> AppResult<Project> {
    let team = access::team(ctx, caller, team_id, Action::CreateProject).await?.team;
    let name = slugs::name(name)?;
    let slug = match slug.filter(|s| !s.is_empty()) {
        Some(slug) => slugs::parse(slug)?,
        None => slugify(&name).ok_or_else(|| {
            AppError::invalid("invalid_slug", "The name has no letter or digit to make a slug from; give a slug.")
        })?,
    };
    let new = NewProject {
        id: Uuid::new_v4(),
        team_id: team.id,
        name,
        slug,
        website: None,
        profile: json!({}),
        settings: json!({}),
        created_at: time::now(),
    };
    let project = ctx.store.create_project(new).await.map_err(|e| match e {
        StoreError::Unique(Constraint::ProjectSlug) => slugs::taken("project"),
        other => other.into(),
    })?;
    // Its identity key now, so that its DID document is ready; should this
    // fail, the key is made when first needed.
    if let Err(e) = super::federation::identity_key(ctx, project.id).await {
        tracing::warn!(project = %project.id, error = %e, "the project's identity key will be made later");
    }
    Ok(project)
}

pub async fn get(ctx: &Context, caller: &Caller, project_id: &str) -> AppResult<Project> {
    Ok(access::project(ctx, caller, project_id, Action::ViewProject).await?.project)
}

/// A project by UUID or hex id, for the public routes.
pub async fn public(ctx: &Context, project_id: &str) -> AppResult<Project> {
    let id = access::parse_id(project_id, Thing::Project)?;
    ctx.store.project_by_id(id).await?.ok_or(AppError::NotFound(Thing::Project))
}

#[derive(Default)]
pub struct Changes {
    pub name: Option<String>,
    pub slug: Option<String>,
    /// `Some(None)` (JSON null or "") clears the website.
    pub website: Option<Option<String>>,
    pub profile: Option<Value>,
}

fn check_website(website: &str) -> AppResult<()> {
    let rest = website.strip_prefix("https://").or_else(|| website.strip_prefix("http://"));
    let host = rest.and_then(|r| r.split(['/', '?', '#']).next()).filter(|h| !h.is_empty());
    if host.is_none() || website.len() > 2000 || website.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid("invalid_website", "The website must be an http:// or https:// URL."));
    }
    Ok(())
}

/// How often an update is tried again when the project changed meanwhile.
const MAX_ATTEMPTS: usize = 32;

pub async fn update(ctx: &Context, caller: &Caller, project_id: &str, changes: Changes) -> AppResult<Project> {
    let ProjectAccess { mut project, .. } = access::project(ctx, caller, project_id, Action::UpdateProject).await?;
    let name = changes.name.as_deref().map(slugs::name).transpose()?;
    let slug = changes.slug.as_deref().map(slugs::parse).transpose()?;
    let website = match changes.website {
        Some(Some(w)) if !w.trim().is_empty() => {
            check_website(w.trim())?;
            Some(Some(w.trim().to_owned()))
        }
        Some(_) => Some(None),
        None => None,
    };
    let patch = match changes.profile {
        Some(Value::Object(patch)) => Some(patch),
        Some(_) => return Err(AppError::invalid("invalid_profile", "profile must be a JSON object.")),
        None => None,
    };
    // The profile is merged with what is stored; a change made meanwhile (an
    // icon upload, another update) is merged with, never overwritten.
    for _ in 0..MAX_ATTEMPTS {
        let profile = match &patch {
            Some(patch) => {
                let merged = merge_keys(&project.profile, patch);
                if merged.to_string().len() > MAX_PROFILE_BYTES {
                    return Err(AppError::invalid("profile_too_large", "A profile is at most 16 KiB of JSON."));
                }
                Some(merged)
            }
            None => None,
        };
        let changes = ProjectChanges { name: name.clone(), slug: slug.clone(), website: website.clone(), profile };
        let at = time::after(project.updated_at);
        let written =
            ctx.store.update_project(project.id, changes, project.updated_at, at).await.map_err(|e| match e {
                StoreError::Unique(Constraint::ProjectSlug) => slugs::taken("project"),
                other => other.into(),
            })?;
        if let Some(updated) = written {
            republish(ctx, project.id).await;
            return Ok(updated);
        }
        // Others are writing: step aside a moment (a different one for each).
        tokio::time::sleep(std::time::Duration::from_micros(rand::random_range(0..2000))).await;
        project = ctx.store.project_by_id(project.id).await?.ok_or(AppError::NotFound(Thing::Project))?;
    }
    Err(AppError::conflict("conflict", "The project is being changed by others; try again."))
}

/// The project's public documents (client metadata: name, website, icon,
/// redirect URIs) are rendered anew, on every node.
async fn republish(ctx: &Context, project: Uuid) {
    crate::cache::invalidate(ctx, Change::Project(project)).await;
}

pub async fn delete(ctx: &Context, caller: &Caller, project_id: &str) -> AppResult<()> {
    let ProjectAccess { project, .. } = access::project(ctx, caller, project_id, Action::DeleteProject).await?;
    let files = ctx.store.uploads(project.id).await?;
    ctx.store.delete_project(project.id).await?;
    republish(ctx, project.id).await;
    for file in files {
        super::uploads::remove_file(ctx, &file.object_key).await;
    }
    Ok(())
}

pub async fn settings(ctx: &Context, caller: &Caller, project_id: &str) -> AppResult<Value> {
    let project = access::project(ctx, caller, project_id, Action::ViewProject).await?.project;
    Ok(settings::normalized(&project.settings))
}

fn invalid(e: SettingsError) -> AppError {
    AppError::invalid("invalid_settings", format!("The settings are not valid ({}).", e.field))
        .with("details", json!({"field": e.field, "validation_errors": e.validation_errors}))
}

/// What a settings change does with the redirect URIs it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsEdit {
    Add,
    Remove,
}

/// Adds or removes the redirect URIs a change body names, without losing a
/// concurrent change.
pub async fn change_settings(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    body: &Value,
    change: SettingsEdit,
) -> AppResult<Value> {
    let ProjectAccess { mut project, .. } = access::project(ctx, caller, project_id, Action::UpdateSettings).await?;
    let uris = settings::parse_change(body).map_err(invalid)?;
    for _ in 0..5 {
        let changed = match change {
            SettingsEdit::Remove => settings::remove_redirect_uris(&project.settings, &uris),
            SettingsEdit::Add => settings::add_redirect_uris(&project.settings, &uris).map_err(invalid)?,
        };
        let at = time::after(project.updated_at);
        match ctx.store.update_settings(project.id, &changed, project.updated_at, at).await? {
            Some(updated) => {
                republish(ctx, project.id).await;
                return Ok(settings::normalized(&updated.settings));
            }
            None => project = ctx.store.project_by_id(project.id).await?.ok_or(AppError::NotFound(Thing::Project))?,
        }
    }
    Err(AppError::conflict("conflict", "The settings keep changing; try again."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Fixture;

    #[tokio::test]
    async fn settings_changed_at_once_all_land() {
        let f = Fixture::new().await;
        let owner = f.developer("owner").await;
        let project = f.project(&owner, "app").await.to_string();
        let add = |uri: &'static str| {
            let (f, owner, project) = (&f, &owner, &project);
            async move {
                let body = json!({"auth": {"redirect_uris": [uri]}});
                change_settings(&f.ctx, owner, project, &body, SettingsEdit::Add).await
            }
        };
        let (a, b, c) =
            tokio::join!(add("https://a.example/"), add("https://b.example/"), add("http://localhost:3000/"));
        for result in [a, b, c] {
            result.unwrap();
        }
        let now = settings(&f.ctx, &owner, &project).await.unwrap();
        let mut uris: Vec<&str> =
            now["auth"]["redirect_uris"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        uris.sort_unstable();
        assert_eq!(uris, ["http://localhost:3000/", "https://a.example/", "https://b.example/"]);

        let body = json!({"auth": {"redirect_uris": ["https://a.example/"]}});
        let left = change_settings(&f.ctx, &owner, &project, &body, SettingsEdit::Remove).await.unwrap();
        assert_eq!(left["auth"]["redirect_uris"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_slug_taken_is_said_so_and_a_bad_one_gets_a_suggestion() {
        let f = Fixture::new().await;
        let owner = f.developer("owner").await;
        let project = f.project(&owner, "app").await;
        let team = f.ctx.store.project_by_id(project).await.unwrap().unwrap().team_id.to_string();
        let taken = create(&f.ctx, &owner, "Other", &team, Some("app")).await;
        assert!(matches!(taken, Err(AppError::Conflict { code: "slug_taken", .. })));
        let AppError::Invalid { code, details, .. } =
            create(&f.ctx, &owner, "X", &team, Some("My App")).await.unwrap_err()
        else {
            panic!("a bad slug is invalid")
        };
        assert_eq!(code, "invalid_slug");
        assert_eq!(details, vec![("slugified", json!("my-app"))]);
    }
}
