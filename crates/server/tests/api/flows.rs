//! A browser that signs in through the server's pages, and the OAuth flows
//! built on it, for the tests of every area that needs a signed-in caller.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use basic_admin_core::model::Slug;
use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};
use basic_admin_core::store::{NewAccount, NewProject, NewTeam};
use basic_admin_core::time;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::harness::{Remote, TestApp};

/// Keeps cookies and does not follow redirects, so each step can be checked.
pub struct Browser<'a> {
    pub app: &'a Remote,
    cookies: HashMap<String, String>,
    /// Sent as `X-Forwarded-For`: a client behind a proxy.
    forwarded_for: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of the hidden input `name`.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start =
            self.body.find(&marker).unwrap_or_else(|| panic!("no {name} field in:\n{}", self.body)) + marker.len();
        let end = start + self.body[start..].find('"').unwrap();
        html_unescape(&self.body[start..end])
    }
}

fn html_unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a Remote) -> Self {
        Self { app, cookies: HashMap::new(), forwarded_for: None }
    }

    /// A browser at `client`, reaching the server through a proxy.
    pub fn behind_proxy(app: &'a Remote, client: &str) -> Self {
        Self { forwarded_for: Some(client.to_owned()), ..Self::new(app) }
    }

    fn request(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = request.header("cookie", self.cookie_header());
        match &self.forwarded_for {
            Some(client) => request.header("x-forwarded-for", client),
            None => request,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        Page { status, location, body: response.text().await.unwrap() }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self.request(self.app.get(path)).send().await.unwrap();
        self.keep(response).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self.request(self.app.post(path)).form(form).send().await.unwrap();
        self.keep(response).await
    }

    /// Sends `body` as it is, with its `content_type` (a multipart form).
    pub async fn post_body(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let request = self.app.post(path).header("content-type", content_type).body(body);
        let response = self.request(request).send().await.unwrap();
        self.keep(response).await
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }
}

/// The query of an authorization request.
pub fn authorize_query(client_id: &str, redirect_uri: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", scope),
        ("state", "state-123"),
    ];
    params.extend_from_slice(extra);
    serde_urlencoded::to_string(&params).unwrap()
}

pub const PASSWORD: &str = "correct horse battery";

/// Signs up (or, when `sign_in`, signs in) through the pages and allows
/// access: the redirect the browser is finally sent to.
pub async fn consent_redirect(browser: &mut Browser<'_>, query: &str, email: &str, sign_in: bool) -> String {
    let start = browser.get(&format!("/auth/authorize?{query}")).await;
    assert_eq!(start.status, 302, "{}", start.body);
    let mut next = start.location.unwrap();
    if next.starts_with("/auth/login") {
        let (page, action) = if sign_in { ("/auth/login", "/auth/login") } else { ("/auth/signup", "/auth/signup") };
        let form = browser.get(&next.replacen("/auth/login", page, 1)).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let (csrf, request) = (form.hidden("csrf"), form.hidden("request"));
        let fields = [
            ("csrf", csrf.as_str()),
            ("request", &request),
            ("email", email),
            ("password", PASSWORD),
            ("name", "Test User"),
        ];
        let done = browser.post(action, &fields).await;
        assert_eq!(done.status, 303, "{}", done.body);
        next = done.location.unwrap();
    }
    assert!(next.starts_with("/auth/consent?"), "{next}");
    let consent = browser.get(&next).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    let (csrf, request) = (consent.hidden("csrf"), consent.hidden("request"));
    let allowed = browser.post("/auth/consent", &[("csrf", &csrf), ("request", &request), ("decision", "allow")]).await;
    assert_eq!(allowed.status, 303, "{}", allowed.body);
    allowed.location.unwrap()
}

/// The value of `name` in a URL's query.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A code for the CLI, for a new account with this email.
pub async fn cli_code(app: &Remote, email: &str) -> String {
    let mut browser = Browser::new(app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile,admin", &[]);
    let redirect = consent_redirect(&mut browser, &query, email, false).await;
    query_param(&redirect, "code").expect("a code")
}

/// `POST /auth/token` as the CLI sends it: form-encoded.
pub async fn token_form(app: &Remote, form: &[(&str, &str)]) -> (u16, Value) {
    crate::harness::json(app.post("/auth/token").form(form).send().await.unwrap()).await
}

/// Tokens for the CLI, for a new developer account with this email.
pub async fn developer_tokens(app: &Remote, email: &str) -> Value {
    cli_tokens(app, &cli_code(app, email).await).await
}

/// Exchanges a code the CLI received for its tokens.
pub async fn cli_tokens(app: &Remote, code: &str) -> Value {
    let (status, tokens) = token_form(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLI_CLIENT_ID),
            ("code", code),
            ("redirect_uri", CLI_REDIRECT_URI),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// A project whose app signs its users in here, with these redirect URIs.
pub async fn seed_project(app: &TestApp, redirect_uris: &[&str]) -> Uuid {
    let store = &app.state.app.store;
    let owner = store
        .create_account(NewAccount {
            id: Uuid::new_v4(),
            email: format!("owner-{}@example.com", Uuid::new_v4()),
            username: None,
            name: "Owner".into(),
            password_hash: "unused".into(),
            created_at: time::now(),
        })
        .await
        .unwrap();
    let team_id = Uuid::new_v4();
    let slug = format!("t-{}", team_id.simple());
    store
        .create_team(NewTeam {
            id: team_id,
            name: "Team".into(),
            slug: Slug::parse(&slug).unwrap(),
            owner: owner.id,
            created_at: time::now(),
        })
        .await
        .unwrap();
    let project_id = Uuid::new_v4();
    store
        .create_project(NewProject {
            id: project_id,
            team_id,
            name: "Todo App".into(),
            slug: Slug::parse(&format!("p-{}", project_id.simple())).unwrap(),
            website: Some("https://todo.example".into()),
            profile: json!({}),
            settings: json!({"auth": {"redirect_uris": redirect_uris}}),
            created_at: time::now(),
        })
        .await
        .unwrap();
    project_id
}

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}
