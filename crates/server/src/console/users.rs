//! A project's app users: a searchable, paged list; a user's page (meta,
//! their tables and records, read-only) and removing them; and activity
//! over the last thirty days as a chart drawn here, with its numbers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use basic_admin_app::services::users::{self, PAGE_SIZE, Stats};
use basic_admin_app::services::{items, schemas};
use basic_admin_core::authz::Action;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use serde_json::Value;

use super::errors::{Answer, refusal};
use super::layout::{self, alert, token, when};
use super::may;
use super::projects::project_and_role;
use super::session::{Console, NoFields, Submitted};
use crate::routes::see_other;
use crate::state::AppState;

/// A DID as a path segment: its `%` escaped (a port shows as `%3A`).
fn did_segment(did: &str) -> String {
    did.replace('%', "%25")
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: usize,
}

pub async fn list(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Answer {
    let (project, _, team) = project_and_role(&state, &console, &id).await?;
    let found = users::search(&state.app, &console.caller, &id, &query.q, query.page).await?;
    let base = format!("/console/project/{}", project.id);
    let pages = found.matching.div_ceil(PAGE_SIZE).max(1);
    let link = |page: usize| {
        let q = serde_urlencoded::to_string([("q", query.q.as_str()), ("page", &page.to_string())]).unwrap_or_default();
        format!("{base}/users?{q}")
    };
    let body = html! {
        (layout::project_tabs(&base, "Users"))
        section class="card" {
            form method="get" action={ (base) "/users" } role="search" {
                label for="q" { "Search by name, email or DID" }
                div class="row" {
                    input id="q" name="q" type="search" value=(query.q);
                    button class="secondary" type="submit" { "Search" }
                }
            }
            p class="muted" role="status" { (found.matching) " user(s)" @if !query.q.is_empty() { " match" } }
            @if !found.users.is_empty() {
                table class="stack" {
                    thead { tr { th { "User" } th { "Email" } th { "Status" } th { "Last seen" } } }
                    tbody {
                        @for u in &found.users {
                            tr {
                                td { a href={ (base) "/users/" (did_segment(&u.user_did)) } {
                                    (u.account_name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&u.user_did))
                                } }
                                td data-label="Email" { (u.account_email.as_deref().unwrap_or("—")) }
                                td data-label="Status" { (u.status.as_str()) }
                                td data-label="Last seen" { (when(&u.last_seen_at)) }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav class="pages" aria-label="Pages" {
                    @if query.page > 0 { a href=(link(query.page - 1)) { "Previous" } }
                    span { "Page " (query.page + 1) " of " (pages) }
                    @if query.page + 1 < pages { a href=(link(query.page + 1)) { "Next" } }
                }
            }
        }
    };
    let crumbs = [(team.0.as_str(), team.1.clone()), (project.name.as_str(), base.clone())];
    Ok(layout::page(StatusCode::OK, &console, &format!("{} · users", project.name), &crumbs, body))
}

#[derive(Deserialize, Default)]
pub struct UserQuery {
    table: Option<String>,
    cursor: Option<String>,
}

pub async fn user(
    State(state): State<AppState>,
    console: Console,
    Path((id, did)): Path<(String, String)>,
    Query(query): Query<UserQuery>,
) -> Answer {
    user_view(&state, &console, &id, &did, query, None).await
}

async fn user_view(
    state: &AppState,
    console: &Console,
    id: &str,
    did: &str,
    query: UserQuery,
    error: Option<(StatusCode, String, String)>,
) -> Answer {
    let ctx = &state.app;
    let (project, role, team) = project_and_role(state, console, id).await?;
    let user = users::get(ctx, &console.caller, id, did).await?;
    let latest = schemas::history(ctx, &console.caller, id).await?.pop();
    let table_names: Vec<String> = latest
        .as_ref()
        .and_then(|v| v.schema["tables"].as_object())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    let shown = query.table.clone().or_else(|| table_names.first().cloned());
    let records = match &shown {
        Some(name) => {
            let table = items::table(ctx, &console.caller, id, did, name, Action::ReadData).await?;
            Some(items::list(&table, ctx, Some(20), query.cursor.as_deref(), None).await?)
        }
        None => None,
    };
    let base = format!("/console/project/{}", project.id);
    let here = format!("{base}/users/{}", did_segment(did));
    let (status, message, meta_text) = match error {
        Some((status, message, text)) => (status, Some(message), text),
        None => (StatusCode::OK, None, serde_json::to_string_pretty(&user.meta).unwrap_or_default()),
    };
    let body = html! {
        (layout::project_tabs(&base, "Users"))
        (alert(message.as_deref()))
        div class="grid" {
            section class="card" aria-labelledby="who" {
                h2 id="who" { "Who" }
                dl {
                    dt { "DID" } dd { code { (user.user_did) } }
                    dt { "Name" } dd { (user.account_name.as_deref().unwrap_or("—")) }
                    dt { "Email" } dd { (user.account_email.as_deref().unwrap_or("—")) }
                    dt { "Status" } dd { (user.status.as_str()) }
                    dt { "Connected" } dd { (when(&user.created_at)) }
                    dt { "Last seen" } dd { (when(&user.last_seen_at)) }
                }
            }
            section class="card" aria-labelledby="meta" {
                h2 id="meta" { "Meta" }
                @if may(role, Action::WriteUsers) {
                    form method="post" action={ (here) "/meta" } {
                        (token(console))
                        label for="meta-text" { "The developer's notes on this user (a JSON object)" }
                        textarea id="meta-text" name="meta" rows="6" spellcheck="false" { (meta_text) }
                        button type="submit" { "Save meta" }
                    }
                } @else {
                    pre { (meta_text) }
                }
            }
        }
        section class="card" aria-labelledby="data" {
            h2 id="data" { "Data" }
            @if table_names.is_empty() { p class="muted" { "The project has no schema yet." } }
            nav class="tabs" aria-label="Tables" {
                @for name in &table_names {
                    a href={ (here) "?" (serde_urlencoded::to_string([("table", name)]).unwrap_or_default()) }
                        aria-current=[(Some(name) == shown.as_ref()).then_some("page")] { (name) }
                }
            }
            @if let Some(page) = &records {
                @if page.items.is_empty() { p class="muted" { "No record." } }
                @for item in &page.items {
                    pre class="record" { (pretty_record(item)) }
                }
                @if let (Some(next), Some(name)) = (&page.next_cursor, &shown) {
                    a href={ (here) "?" (serde_urlencoded::to_string([("table", name), ("cursor", next)]).unwrap_or_default()) } {
                        "More records"
                    }
                }
            }
        }
        @if may(role, Action::WriteUsers) {
            section class="card" aria-labelledby="remove" {
                h2 id="remove" { "Remove the user" }
                p { "The user and everything they stored in this project go; their synced devices are told to delete their copies." }
                form method="post" action={ (here) "/delete" } data-confirm="Remove this user and all their data?" {
                    (token(console))
                    button class="danger" type="submit" { "Remove user" }
                }
            }
        }
    };
    let title = user.account_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "App user".into());
    let crumbs =
        [(team.0.as_str(), team.1.clone()), (project.name.as_str(), base.clone()), ("Users", format!("{base}/users"))];
    Ok(layout::page(status, console, &title, &crumbs, body))
}

#[derive(Deserialize)]
pub struct MetaForm {
    meta: String,
}

pub async fn update_meta(
    State(state): State<AppState>,
    Path((id, did)): Path<(String, String)>,
    Submitted { console, form }: Submitted<MetaForm>,
) -> Answer {
    let again = |status, message: String| {
        let text = form.meta.clone();
        let (state, console) = (&state, &console);
        let (id, did) = (id.clone(), did.clone());
        async move { user_view(state, console, &id, &did, UserQuery::default(), Some((status, message, text))).await }
    };
    let wanted = match serde_json::from_str::<Value>(&form.meta) {
        Ok(Value::Object(map)) => map,
        _ => return again(StatusCode::BAD_REQUEST, "Meta must be a JSON object.".into()).await,
    };
    let result = match users::get(&state.app, &console.caller, &id, &did).await {
        Ok(user) => {
            let patch = users::meta_patch(&user.meta, &wanted);
            users::update_meta(&state.app, &console.caller, &id, &did, &patch).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/console/project/{id}/users/{}", did_segment(&did)), vec![])),
        Err(e) => {
            let (status, message) = refusal(e)?;
            again(status, message).await
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Path((id, did)): Path<(String, String)>,
    Submitted { console, .. }: Submitted<NoFields>,
) -> Answer {
    match users::delete(&state.app, &console.caller, &id, &did).await {
        Ok(()) => Ok(see_other(&format!("/console/project/{id}/users"), vec![])),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let text = String::new();
            user_view(&state, &console, &id, &did, UserQuery::default(), Some((status, message, text))).await
        }
    }
}

pub async fn activity(State(state): State<AppState>, console: Console, Path(id): Path<String>) -> Answer {
    let (project, _, team) = project_and_role(&state, &console, &id).await?;
    let stats = users::stats(&state.app, &console.caller, &id).await?;
    let base = format!("/console/project/{}", project.id);
    let body = html! {
        (layout::project_tabs(&base, "Activity"))
        div class="grid figures" {
            @for (label, n) in [("Users", stats.total), ("Active today", stats.dau), ("Active in 7 days", stats.wau), ("Active in 30 days", stats.mau)] {
                section class="card" { p class="muted" { (label) } p class="figure" { (n) } }
            }
        }
        section class="card" aria-labelledby="daily" {
            h2 id="daily" { "Active users per day" }
            (chart(&stats))
            details {
                summary { "The numbers" }
                table {
                    caption class="visually-hidden" { "Active users per day, the last 30 days" }
                    thead { tr { th scope="col" { "Day" } th scope="col" { "Active users" } } }
                    tbody { @for (day, n) in &stats.series { tr { td { (day) } td { (n) } } } }
                }
            }
        }
    };
    let crumbs = [(team.0.as_str(), team.1.clone()), (project.name.as_str(), base.clone())];
    Ok(layout::page(StatusCode::OK, &console, &format!("{} · activity", project.name), &crumbs, body))
}

/// A record as the API shows it, indented for people.
fn pretty_record(item: &basic_admin_core::store::ItemText) -> String {
    let record = items::record_text(item);
    serde_json::from_str::<Value>(&record).and_then(|v| serde_json::to_string_pretty(&v)).unwrap_or(record)
}

/// A bar a day, drawn here as SVG: no script, no other host.
fn chart(stats: &Stats) -> Markup {
    let (width, height, left, bottom) = (600.0_f64, 200.0_f64, 36.0_f64, 22.0_f64);
    let top = stats.series.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let slot = (width - left) / stats.series.len().max(1) as f64;
    let plot = height - bottom - 8.0;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"chart-title\" class=\"chart\">\
         <title id=\"chart-title\">Active users per day over the last {} days; at most {top} in a day</title>\
         <line x1=\"{left}\" y1=\"{base}\" x2=\"{width}\" y2=\"{base}\" class=\"axis\"/>\
         <text x=\"{tx}\" y=\"14\" class=\"label\" text-anchor=\"end\">{top}</text>\
         <text x=\"{tx}\" y=\"{base}\" class=\"label\" text-anchor=\"end\">0</text>",
        stats.series.len(),
        base = height - bottom,
        tx = left - 6.0,
    );
    for (i, (day, n)) in stats.series.iter().enumerate() {
        let h = plot * (*n as f64) / (top as f64);
        let x = left + i as f64 * slot + slot * 0.15;
        let y = height - bottom - h;
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" class=\"bar\"><title>{day}: {n}</title></rect>",
            w = slot * 0.7
        ));
    }
    if let (Some((first, _)), Some((last, _))) = (stats.series.first(), stats.series.last()) {
        svg.push_str(&format!(
            "<text x=\"{left}\" y=\"{height}\" class=\"label\">{first}</text>\
             <text x=\"{width}\" y=\"{height}\" class=\"label\" text-anchor=\"end\">{last}</text>"
        ));
    }
    svg.push_str("</svg>");
    // Numbers and dates only: nothing from a user reaches the drawing.
    html! { (PreEscaped(svg)) }
}
