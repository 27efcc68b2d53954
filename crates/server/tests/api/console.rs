//! The developer console: signing in through the server's own provider,
//! its forms' tokens, and every console route × every kind of person.

use basic_admin_app::auth::console;
use basic_admin_app::auth::oauth_provider::{self, AuthorizeParams};
use basic_admin_core::time;
use uuid::Uuid;

use crate::flows::{self, Browser, Page};
use crate::harness::{TestApp, on_both_backends};
use crate::world::{self, AppData, People, Place};

on_both_backends!(
    signing_in_runs_the_code_flow_and_signing_out_ends_the_sign_in,
    forms_without_their_token_are_refused_and_change_nothing,
    every_console_route_has_rows_and_every_row_holds,
    the_schema_editor_checks_on_the_server_before_publishing,
    app_users_their_data_and_activity_are_shown,
    an_uploaded_icon_is_shown_and_removed,
    the_owner_hands_the_team_over_with_the_role_form,
    a_way_back_the_browser_did_not_start_is_refused,
);

/// A browser signed in to the console as `account`, the flow run in process
/// (the world's accounts have no password; the flow over HTTP has its own test).
pub async fn console_browser(app: &TestApp, account: Uuid) -> Browser<'_> {
    let ctx = &app.state.app;
    let account = ctx.store.account_by_id(account).await.unwrap().unwrap();
    let started = console::start(ctx);
    let params: AuthorizeParams = serde_urlencoded::from_str(started.authorize_url.split_once('?').unwrap().1).unwrap();
    let request =
        oauth_provider::check(ctx, &params).await.unwrap_or_else(|_| panic!("the console's request is valid"));
    let back = oauth_provider::grant(ctx, &account, &request).await.unwrap();
    let code = flows::query_param(&back, "code").unwrap();
    let state = flows::query_param(&back, "state").unwrap();
    let signed_in = console::finish(ctx, Some(&started.pending), &code, &state).await.unwrap();
    let mut browser = Browser::new(app);
    browser.set_cookie("ba_console", &signed_in.handle);
    browser
}

/// The path and query of a URL of this server (its public URL names
/// another host in the tests).
fn local(location: &str) -> String {
    match reqwest::Url::parse(location) {
        Ok(url) => format!("{}?{}", url.path(), url.query().unwrap_or_default()),
        Err(_) => location.to_owned(),
    }
}

/// Follows redirects on this server (absolute ones too), as a browser does.
async fn follow(browser: &mut Browser<'_>, mut page: Page) -> Page {
    for _ in 0..10 {
        let Some(location) = page.location.clone().filter(|_| (301..=303).contains(&page.status)) else {
            return page;
        };
        page = browser.get(&local(&location)).await;
    }
    panic!("too many redirects");
}

async fn signing_in_runs_the_code_flow_and_signing_out_ends_the_sign_in(app: TestApp) {
    let mut browser = Browser::new(&app);
    // Not signed in: to the console's sign-in, which starts the flow.
    let first = browser.get("/console/team/acme").await;
    assert_eq!((first.status, first.location.as_deref()), (303, Some("/console/sign-in?next=/console/team/acme")));
    let start = browser.get(first.location.as_deref().unwrap()).await;
    let authorize = start.location.clone().unwrap();
    assert!(authorize.starts_with("/auth/authorize?client_id=basic-console&"), "{authorize}");
    assert!(authorize.contains("code_challenge_method=S256") && authorize.contains("scope=openid+profile+email+admin"));
    // Not signed in on the provider either: its sign-up page, then straight
    // back (the console asks no consent) to the callback and the page first asked for.
    let login = browser.get(&authorize).await;
    let signup_path = login.location.unwrap().replacen("/auth/login", "/auth/signup", 1);
    let form = browser.get(&signup_path).await;
    let fields = [
        ("csrf", form.hidden("csrf")),
        ("request", form.hidden("request")),
        ("email", "dev@example.com".into()),
        ("password", flows::PASSWORD.into()),
        ("name", "Dev".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signed_up = browser.post("/auth/signup", &fields).await;
    let consent = browser.get(signed_up.location.as_deref().unwrap()).await;
    let callback = consent.location.clone().unwrap();
    assert!(local(&callback).starts_with("/console/callback?code="), "{callback}");
    let landed = follow(&mut browser, consent).await;
    assert_eq!(landed.status, 404, "the team does not exist: {}", landed.body);
    assert!(landed.body.contains("Not found"), "{}", landed.body);
    assert!(browser.has_cookie("ba_console") && !browser.has_cookie("ba_console_signin"));

    // Signed in: the teams page, its stylesheet, and a team made with a form.
    let home = browser.get("/console").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Your teams") && home.body.contains("dev@example.com"));
    let style = home.body.split("href=\"/console/assets/").nth(1).unwrap().split('"').next().unwrap();
    let css = app.client.get(app.url(&format!("/console/assets/{style}"))).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["cache-control"], "public, max-age=31536000, immutable");
    let signed_out = app.client.get(app.url("/console/signed-out")).send().await.unwrap();
    let policy = signed_out.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("default-src 'none'") && policy.contains("form-action 'self'"), "{policy}");
    assert!(!policy.contains("unsafe") && policy.contains("script-src 'self'"), "our own script only: {policy}");
    let script = home.body.split("src=\"/console/assets/").nth(1).unwrap().split('"').next().unwrap();
    let js = app.client.get(app.url(&format!("/console/assets/{script}"))).send().await.unwrap();
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    let csrf = home.hidden("csrf");
    let made = browser.post("/console/teams", &[("csrf", &csrf), ("name", "Acme"), ("slug", "acme")]).await;
    assert_eq!((made.status, made.location.as_deref()), (303, Some("/console/team/acme")), "{}", made.body);
    let team = browser.get("/console/team/acme").await;
    assert_eq!(team.status, 200);
    assert!(team.body.contains("<h1>Acme</h1>") && team.body.contains("owner"));
    let taken = browser.post("/console/teams", &[("csrf", &csrf), ("name", "Again"), ("slug", "acme")]).await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert!(taken.body.contains("role=\"alert\""), "the refusal is shown above the form: {}", taken.body);

    // The account page lists the console as a sign-in.
    let account = browser.get("/auth/account").await;
    assert!(account.body.contains("Basic console"), "{}", account.body);

    // Signing out revokes the sign-in: the old handle opens nothing.
    let handle = browser.cookie("ba_console").unwrap().to_owned();
    let out = browser.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/console/signed-out")));
    assert!(!browser.has_cookie("ba_console"));
    browser.set_cookie("ba_console", &handle);
    let after = browser.get("/console").await;
    assert_eq!((after.status, after.location.as_deref()), (303, Some("/console/sign-in?next=/console")));
    let sessions = app.state.app.store.live_sign_ins_of(dev_id(&app).await, time::now()).await.unwrap();
    assert!(sessions.iter().all(|s| s.family.client_id != "basic-console"));
}

async fn dev_id(app: &TestApp) -> Uuid {
    app.state.app.store.account_by_email("dev@example.com").await.unwrap().unwrap().id
}

fn team_slug(place: &Place) -> String {
    format!("team-{}", place.team.simple())
}

fn fill(path: &str, place: &Place, people: &People, data: &AppData) -> String {
    path.replace("{slug}", &team_slug(place))
        .replace("{did}", &data.user_did.replace('%', "%25"))
        .replace("{id}", &place.project.to_string())
        .replace("{invite}", &place.invite.to_string())
        .replace("{member}", &people.target.id.to_string())
        .replace("{key}", &place.key.to_string())
        .replace("{file}", "nothing.css")
        .replace("{kind}", "icon")
}

/// The fields a route's form needs to succeed, besides its token.
fn fields(path: &str, place: &Place) -> Vec<(&'static str, String)> {
    let unique = Uuid::new_v4().simple().to_string();
    let team = team_slug(place);
    match path.rsplit('/').next().unwrap() {
        "teams" => vec![("name", "New".into()), ("slug", format!("new-{unique}"))],
        "rename" => vec![("name", "Renamed".into()), ("slug", format!("renamed-{unique}"))],
        "projects" => vec![("name", "Made".into()), ("slug", format!("made-{unique}"))],
        "invites" => vec![("invitee", format!("new-{unique}@example.com")), ("role", "member".into())],
        "role" => vec![("role", "viewer".into())],
        "profile" => {
            vec![("name", "Renamed".into()), ("slug", format!("renamed-{unique}")), ("website", String::new())]
        }
        "redirect-uris" => vec![("uri", "https://new.example/cb".into())],
        "remove" if path.contains("redirect-uris") => vec![("uri", "https://app.example/cb".into())],
        "keys" => vec![("label", "CI".into()), ("role", "data:read".into()), ("private", "on".into())],
        "check" | "publish" => {
            let mut next = world::first_schema(place.project);
            next["version"] = 2.into();
            next["tables"]["notes"] = serde_json::json!({"type": "collection", "fields": {"body": {"type": "string"}}});
            vec![("schema", next.to_string())]
        }
        "suggest" => vec![("prompt", "A todo app".into())],
        "meta" => vec![("meta", r#"{"plan": "pro"}"#.into())],
        "delete" if path.starts_with("/console/team/") => vec![("confirm", team)],
        "delete" if path.starts_with("/console/project/{id}/keys") || path.contains("{did}") => vec![],
        "delete" => vec![("confirm", format!("app-{}", place.project.simple()))],
        _ => vec![],
    }
}

/// A team to act on, with a project (but for deleting the team) whose app
/// has a user with data.
async fn place(app: &TestApp, people: &People, path: &str) -> (Place, AppData) {
    let with_project = !path.starts_with("/console/team/{slug}/delete");
    let place = world::place(app, people, with_project).await;
    let data = match with_project {
        true => world::app_data(app, people, place.project).await,
        false => AppData { user_did: String::new(), item: basic_admin_core::model::ItemId::generate() },
    };
    (place, data)
}

/// Sends a route's form to `url` with `token`: the image uploads as
/// `multipart/form-data` (the token first, then a small PNG), the others
/// as URL-encoded forms.
async fn send(
    browser: &mut Browser<'_>,
    path: &str,
    url: &str,
    fields: Vec<(&'static str, String)>,
    token: Option<String>,
) -> Page {
    if path == "/console/project/{id}/images/{kind}" {
        let boundary = "console-test-boundary";
        let mut body = Vec::new();
        if let Some(token) = token {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n").bytes(),
            );
        }
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"i.png\"\r\nContent-Type: image/png\r\n\r\n").bytes());
        body.extend(crate::uploads::image(2, 2, image::ImageFormat::Png));
        body.extend(format!("\r\n--{boundary}--\r\n").bytes());
        return browser.post_body(url, &format!("multipart/form-data; boundary={boundary}"), body).await;
    }
    let mut form = fields;
    form.extend(token.map(|t| ("csrf", t)));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post(url, &form).await
}

/// What the owner sees of the place: unchanged by any refused form.
async fn snapshot(app: &TestApp, place: &Place) -> String {
    let store = &app.state.app.store;
    let team = store.team_by_id(place.team).await.unwrap();
    let members = store.members(place.team).await.unwrap();
    let invites = store.pending_invites(place.team, time::now()).await.unwrap();
    let projects = store.projects_of_team(place.team).await.unwrap();
    let keys = store.keys_of_project(place.project).await.unwrap();
    let secrets: Vec<_> = keys.iter().map(|k| (k.id, k.secret_hash.clone())).collect();
    let schemas = store.schema_versions(place.project).await.unwrap().len();
    let images = store.uploads(place.project).await.unwrap();
    let users = store.project_users(place.project).await.unwrap();
    format!("{team:?}{members:?}{invites:?}{projects:?}{secrets:?}{schemas}{users:?}{images:?}")
}

async fn forms_without_their_token_are_refused_and_change_nothing(app: TestApp) {
    let people = world::people(&app).await;
    for (method, path) in basic_admin_server::console::paths().into_iter().filter(|(m, _)| *m == "POST") {
        let (place, data) = place(&app, &people, path).await;
        let mut browser = console_browser(&app, people.owner.id).await;
        let other = console::form_token(&app.state.app, "another sign-in");
        let before = snapshot(&app, &place).await;
        for token in [None, Some(""), Some(other.as_str())] {
            let url = fill(path, &place, &people, &data);
            let page = send(&mut browser, path, &url, fields(path, &place), token.map(str::to_owned)).await;
            assert_eq!(page.status, 403, "{method} {path} with token {token:?}: {}", page.body);
            assert!(page.body.contains("This form has expired"), "{}", page.body);
        }
        assert_eq!(snapshot(&app, &place).await, before, "{path} changed something");
    }
}

#[derive(Clone, Copy, Debug)]
enum Person {
    Anonymous,
    Outsider,
    Viewer,
    Member,
    Admin,
    Owner,
}

const PEOPLE: [Person; 6] =
    [Person::Anonymous, Person::Outsider, Person::Viewer, Person::Member, Person::Admin, Person::Owner];

/// Every console route and what each person gets, in the order of [`PEOPLE`].
fn rows() -> Vec<(&'static str, &'static str, [u16; 6])> {
    let s = 303;
    let view_team = [s, 404, 200, 200, 200, 200];
    let admin_team = [s, 404, 403, 403, s, s];
    let member_project = [s, 404, 403, s, s, s];
    let admin_project = [s, 404, 403, 403, s, s];
    vec![
        ("GET", "/console", [s, 200, 200, 200, 200, 200]),
        ("GET", "/console/sign-in", [s; 6]),
        ("GET", "/console/callback", [400; 6]),
        ("POST", "/console/sign-out", [s; 6]),
        ("GET", "/console/signed-out", [200; 6]),
        ("GET", "/console/assets/{file}", [404; 6]),
        ("POST", "/console/teams", [s; 6]),
        ("GET", "/console/team/{slug}", view_team),
        ("POST", "/console/team/{slug}/rename", admin_team),
        ("POST", "/console/team/{slug}/delete", [s, 404, 403, 403, 403, s]),
        ("POST", "/console/team/{slug}/projects", [s, 404, 403, s, s, s]),
        // A new invite's link is shown on the page at once.
        ("POST", "/console/team/{slug}/invites", [s, 404, 403, 403, 200, 200]),
        ("POST", "/console/team/{slug}/invites/{invite}/revoke", admin_team),
        ("POST", "/console/team/{slug}/members/{member}/role", admin_team),
        ("POST", "/console/team/{slug}/members/{member}/remove", admin_team),
        ("GET", "/console/project/{id}", view_team),
        ("POST", "/console/project/{id}/profile", member_project),
        ("POST", "/console/project/{id}/redirect-uris", admin_project),
        ("POST", "/console/project/{id}/redirect-uris/remove", admin_project),
        // A new or regenerated key's secret is shown on the page at once.
        ("POST", "/console/project/{id}/keys", [s, 404, 403, 403, 200, 200]),
        ("POST", "/console/project/{id}/keys/{key}/regenerate", [s, 404, 403, 403, 200, 200]),
        ("POST", "/console/project/{id}/keys/{key}/delete", admin_project),
        ("POST", "/console/project/{id}/delete", admin_project),
        ("POST", "/console/project/{id}/images/{kind}", member_project),
        // The project has no icon to remove: 404 for those who may.
        ("POST", "/console/project/{id}/images/{kind}/delete", [s, 404, 403, 404, 404, 404]),
        ("GET", "/console/project/{id}/schema", view_team),
        // Checking publishes nothing: whoever sees the project may.
        ("POST", "/console/project/{id}/schema/check", view_team),
        ("POST", "/console/project/{id}/schema/publish", member_project),
        // No AI provider is set up in the tests: 503, said above the editor.
        ("POST", "/console/project/{id}/schema/suggest", [s, 404, 403, 503, 503, 503]),
        ("GET", "/console/project/{id}/users", view_team),
        ("GET", "/console/project/{id}/users/{did}", view_team),
        ("POST", "/console/project/{id}/users/{did}/meta", member_project),
        ("POST", "/console/project/{id}/users/{did}/delete", member_project),
        ("GET", "/console/project/{id}/activity", view_team),
    ]
}

async fn every_console_route_has_rows_and_every_row_holds(app: TestApp) {
    let declared = basic_admin_server::console::paths();
    let rows = rows();
    for (method, path) in &declared {
        assert!(rows.iter().any(|(m, p, _)| m == method && p == path), "no row for {method} {path}");
    }
    assert_eq!(rows.len(), declared.len(), "a row for a route that is not declared");
    let people = world::people(&app).await;
    let mut failures = Vec::new();
    for (method, path, expect) in rows {
        for (person, expected) in PEOPLE.into_iter().zip(expect) {
            let (place, data) = place(&app, &people, path).await;
            let actor = match person {
                Person::Anonymous => None,
                Person::Outsider => Some(&people.outsider),
                Person::Viewer => Some(&people.viewer),
                Person::Member => Some(&people.member),
                Person::Admin => Some(&people.admin),
                Person::Owner => Some(&people.owner),
            };
            let mut browser = match actor {
                Some(actor) => console_browser(&app, actor.id).await,
                None => Browser::new(&app),
            };
            let url = fill(path, &place, &people, &data);
            let before = snapshot(&app, &place).await;
            let page = if method == "GET" {
                browser.get(&url).await
            } else {
                let token = browser.cookie("ba_console").map(|h| console::form_token(&app.state.app, h));
                send(&mut browser, path, &url, fields(path, &place), token).await
            };
            if page.status != expected {
                failures.push(format!("{method} {path} as {person:?}: {} (expected {expected})", page.status));
            }
            let refused = page.status >= 400 || (page.status == 303 && actor.is_none());
            if refused && method == "POST" && snapshot(&app, &place).await != before {
                failures.push(format!("{method} {path} as {person:?} was refused but changed something"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn the_schema_editor_checks_on_the_server_before_publishing(app: TestApp) {
    let people = world::people(&app).await;
    let (place, _) = place(&app, &people, "").await;
    let mut browser = console_browser(&app, people.owner.id).await;
    let page = format!("/console/project/{}/schema", place.project);
    let shown = browser.get(&page).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("Version 1") && shown.body.contains("<code>title</code>"), "{}", shown.body);
    let csrf = shown.hidden("csrf");

    let not_json = browser.post(&format!("{page}/check"), &[("csrf", &csrf), ("schema", "{nope")]).await;
    assert_eq!(not_json.status, 400);
    assert!(not_json.body.contains("This is not JSON") && not_json.body.contains("{nope"), "the text stays");

    let mut wrong = world::first_schema(place.project);
    wrong["version"] = 2.into();
    wrong["tables"]["todos"]["fields"]["title"]["type"] = "strng".into();
    let checked = browser.post(&format!("{page}/check"), &[("csrf", &csrf), ("schema", &wrong.to_string())]).await;
    assert_eq!(checked.status, 200);
    assert!(
        checked.body.contains("problem(s)") && checked.body.contains("/tables/todos/fields/title"),
        "{}",
        checked.body
    );
    let refused = browser.post(&format!("{page}/publish"), &[("csrf", &csrf), ("schema", &wrong.to_string())]).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(app.state.app.store.schema_versions(place.project).await.unwrap().len(), 1, "nothing published");

    let mut next = world::first_schema(place.project);
    next["version"] = 2.into();
    next["tables"]["notes"] = serde_json::json!({"type": "collection", "fields": {"body": {"type": "string"}}});
    let verdict = browser.post(&format!("{page}/check"), &[("csrf", &csrf), ("schema", &next.to_string())]).await;
    assert!(verdict.body.contains("The schema is valid") && verdict.body.contains("What publishing it changes"));
    let published = browser.post(&format!("{page}/publish"), &[("csrf", &csrf), ("schema", &next.to_string())]).await;
    assert_eq!((published.status, published.location.as_deref()), (303, Some(page.as_str())), "{}", published.body);
    let shown = browser.get(&page).await;
    assert!(shown.body.contains("Version 2") && shown.body.contains("what changed from 1"), "{}", shown.body);
    let diff = browser.get(&format!("{page}?from=1&to=2")).await;
    assert_eq!(diff.status, 200);
    assert!(diff.body.contains("From version 1 to 2") && diff.body.contains(">notes</td>"), "{}", diff.body);
    let missing = browser.get(&format!("{page}?from=1&to=9")).await;
    assert_eq!(missing.status, 400, "{}", missing.body);
}

async fn app_users_their_data_and_activity_are_shown(app: TestApp) {
    let people = world::people(&app).await;
    let (place, data) = place(&app, &people, "").await;
    let mut browser = console_browser(&app, people.owner.id).await;
    let base = format!("/console/project/{}", place.project);
    // Any case, any part of the DID.
    let part = people.app_user.id.simple().to_string()[..12].to_uppercase();
    let listed = browser.get(&format!("{base}/users?q={part}")).await;
    assert_eq!(listed.status, 200);
    assert!(listed.body.contains("1 user(s) match"), "{}", listed.body);
    assert!(listed.body.contains(&format!("/users/{}", data.user_did.replace('%', "%25"))), "{}", listed.body);
    let none = browser.get(&format!("{base}/users?q=nobody-here")).await;
    assert!(none.body.contains("0 user(s) match"));

    let user_page = format!("{base}/users/{}", data.user_did.replace('%', "%25"));
    let user = browser.get(&user_page).await;
    assert_eq!(user.status, 200, "{}", user.body);
    assert!(user.body.contains("&quot;title&quot;: &quot;World&quot;"), "the record, as JSON: {}", user.body);
    let csrf = user.hidden("csrf");
    let saved = browser.post(&format!("{user_page}/meta"), &[("csrf", &csrf), ("meta", r#"{"plan": "pro"}"#)]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored = app.state.app.store.project_user(place.project, &data.user_did).await.unwrap().unwrap();
    assert_eq!(stored.meta, serde_json::json!({"plan": "pro"}));
    let bad = browser.post(&format!("{user_page}/meta"), &[("csrf", &csrf), ("meta", "[1]")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Meta must be a JSON object") && bad.body.contains("[1]"));

    // Records come 20 a page.
    for n in 0..20 {
        let now = time::now();
        let item = basic_admin_core::store::Item {
            id: basic_admin_core::model::ItemId::parse(&format!("more-{n:02}")).unwrap(),
            seq: 0,
            project_id: place.project,
            user_did: data.user_did.clone(),
            table: "todos".into(),
            value: serde_json::json!({"title": format!("Record {n}")}),
            created_at: now,
            updated_at: now,
        };
        app.state.app.store.create_item(item, 100).await.unwrap();
    }
    let first = browser.get(&user_page).await;
    assert_eq!(first.body.matches("<pre class=\"record\">").count(), 20);
    let more =
        first.body.split("href=\"").find(|h| h.contains("cursor=")).expect("a link to more").split('"').next().unwrap();
    let second = browser.get(&more.replace("&amp;", "&")).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body.matches("<pre class=\"record\">").count(), 1, "the 21st");
    assert!(second.body.contains("Record 19") && !second.body.contains("cursor="), "{}", second.body);

    let activity = browser.get(&format!("{base}/activity")).await;
    assert_eq!(activity.status, 200);
    assert!(activity.body.contains("<svg") && activity.body.contains("class=\"bar\""), "{}", activity.body);
    let today = time::now().date_naive().to_string();
    assert!(activity.body.contains(&format!("<td>{today}</td><td>1</td>")), "today's count in the table");

    let removed = browser.post(&format!("{user_page}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!((removed.status, removed.location), (303, Some(format!("{base}/users"))));
    assert!(app.state.app.store.project_user(place.project, &data.user_did).await.unwrap().is_none());
}

async fn an_uploaded_icon_is_shown_and_removed(app: TestApp) {
    let people = world::people(&app).await;
    let (place, _) = place(&app, &people, "").await;
    let mut browser = console_browser(&app, people.owner.id).await;
    let base = format!("/console/project/{}", place.project);
    let token = console::form_token(&app.state.app, browser.cookie("ba_console").unwrap());
    let path = "/console/project/{id}/images/{kind}";
    let uploaded = send(&mut browser, path, &format!("{base}/images/icon"), vec![], Some(token.clone())).await;
    assert_eq!((uploaded.status, uploaded.location.as_deref()), (303, Some(base.as_str())), "{}", uploaded.body);
    let page = browser.get(&base).await;
    for document in [
        format!("/projects/{}/did.json", place.project.simple()),
        format!("/projects/{}/client-metadata.json", place.project),
    ] {
        assert!(page.body.contains(&format!("href=\"{document}\"")), "{document} is linked");
        let fetched = app.client.get(app.url(&document)).send().await.unwrap();
        assert_eq!(fetched.status(), 200, "{document}");
    }
    let src = page.body.split("class=\"preview icon\" src=\"").nth(1).expect("a preview").split('"').next().unwrap();
    let image = app.client.get(app.url(src)).send().await.unwrap();
    assert_eq!((image.status().as_u16(), image.headers()["content-type"].to_str().unwrap()), (200, "image/png"));
    let not_image = browser.post_body(&format!("{base}/images/icon"), "text/plain", b"x".to_vec()).await;
    assert_eq!(not_image.status, 400, "{}", not_image.body);
    assert!(not_image.body.contains("<!DOCTYPE html>"), "a page, not plain text");
    let removed = browser.post(&format!("{base}/images/icon/delete"), &[("csrf", &token)]).await;
    assert_eq!(removed.status, 303);
    assert!(!browser.get(&base).await.body.contains("preview icon"));
}

async fn the_owner_hands_the_team_over_with_the_role_form(app: TestApp) {
    let people = world::people(&app).await;
    let (place, _) = place(&app, &people, "").await;
    let team_page = format!("/console/team/{}", team_slug(&place));
    let mut admin = console_browser(&app, people.admin.id).await;
    let page = admin.get(&team_page).await;
    assert!(!page.body.contains("<option value=\"owner\""), "only the owner is offered to hand the team over");
    let mut owner = console_browser(&app, people.owner.id).await;
    let page = owner.get(&team_page).await;
    assert!(page.body.contains("<option value=\"owner\""), "{}", page.body);
    let csrf = page.hidden("csrf");
    let form = [("csrf", csrf.as_str()), ("role", "owner")];
    let handed = owner.post(&format!("{team_page}/members/{}/role", people.target.id), &form).await;
    assert_eq!(handed.status, 303, "{}", handed.body);
    let members = app.state.app.store.members(place.team).await.unwrap();
    let role_of = |id: Uuid| members.iter().find(|m| m.account_id == id).unwrap().roles.to_string();
    assert_eq!((role_of(people.target.id), role_of(people.owner.id)), ("owner".into(), "admin".into()));
}

async fn a_way_back_the_browser_did_not_start_is_refused(app: TestApp) {
    let mut browser = Browser::new(&app);
    let cancelled = browser.get("/console/callback?error=access_denied&state=x").await;
    assert_eq!(cancelled.status, 403);
    assert!(cancelled.body.contains("Signing in was cancelled") && cancelled.body.contains("/console/sign-in"));

    // A real code, brought back by a browser that never started this sign-in
    // (login CSRF), or with another state than the one it started with.
    let people = world::people(&app).await;
    let ctx = &app.state.app;
    let account = ctx.store.account_by_id(people.owner.id).await.unwrap().unwrap();
    let started = console::start(ctx);
    let params: AuthorizeParams = serde_urlencoded::from_str(started.authorize_url.split_once('?').unwrap().1).unwrap();
    let request = oauth_provider::check(ctx, &params).await.unwrap_or_else(|_| panic!("a valid request"));
    let back = local(&oauth_provider::grant(ctx, &account, &request).await.unwrap());
    let stranger = browser.get(&back).await;
    assert_eq!(stranger.status, 400, "{}", stranger.body);
    assert!(stranger.body.contains("was not started here") && !browser.has_cookie("ba_console"));

    let mut starter = Browser::new(&app);
    starter.set_cookie("ba_console_signin", &started.pending);
    let forged = starter.get(&back.replace("state=", "state=x")).await;
    assert_eq!(forged.status, 400);
    assert!(!starter.has_cookie("ba_console"), "no sign-in from a state that does not match");
    let right = starter.get(&back).await;
    assert_eq!((right.status, right.location.as_deref()), (303, Some("/console")), "{}", right.body);
    assert!(starter.has_cookie("ba_console"));
}
