//! Accounts and the OAuth 2.0 / OpenID Connect provider.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::flows::{
    self, Browser, authorize_query, challenge, consent_redirect, query_param, seed_project, token_form,
};
use crate::harness::{Setup, TestApp, json, on_both_backends};

on_both_backends!(
    the_cli_flow_works_as_the_cli_performs_it,
    a_signed_in_browser_goes_straight_to_consent,
    refusing_consent_tells_the_client,
    a_project_app_signs_in_with_pkce,
    an_app_page_under_a_registered_origin_gets_the_code,
    authorize_rejects_bad_clients_and_redirects_here,
    authorize_sends_other_errors_back_to_the_client,
    codes_are_single_use_and_bound,
    token_endpoint_rejects_bad_requests,
    wrong_passwords_are_refused_alike_and_throttled,
    forms_need_their_csrf_token,
    sign_up_checks_its_fields,
    bad_tokens_are_401s,
    discovery_and_keys_describe_the_provider,
    tokens_verify_against_the_published_keys,
    nodes_share_keys_and_rotations_reach_them_all,
);

on_both_backends!(with short_codes; expired_codes_are_refused);
on_both_backends!(with developer_route; only_admin_tokens_reach_developer_routes);
on_both_backends!(with short_tokens; expired_access_tokens_are_401s);
on_both_backends!(with no_refresh_grace; rotated_refresh_tokens_revoke_their_chain_when_reused);

/// Reuse detection on its own: no window for a second tab.
fn no_refresh_grace() -> Setup {
    let mut setup = Setup::default();
    setup.flags.refresh_grace_secs = Some("0".into());
    setup
}

fn short_codes() -> Setup {
    let mut setup = Setup::default();
    setup.flags.auth_code_ttl_secs = Some("1".into());
    setup
}

/// A route guarded as every developer endpoint is.
fn developer_route() -> Setup {
    use axum::routing::get;
    use basic_admin_server::auth::Caller;
    use basic_admin_server::error::ApiError;
    async fn whoami(caller: Caller) -> Result<String, ApiError> {
        Ok(caller.developer()?.account_id.to_string())
    }
    Setup { extra_routes: Some(axum::Router::new().route("/test/developer", get(whoami))), ..Setup::default() }
}

fn short_tokens() -> Setup {
    let mut setup = Setup::default();
    setup.flags.access_token_ttl_secs = Some("1".into());
    setup
}

fn exchange(code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "authorization_code".into()),
        ("client_id", CLI_CLIENT_ID.into()),
        ("code", code.into()),
        ("redirect_uri", CLI_REDIRECT_URI.into()),
    ]
}

async fn post_form(app: &TestApp, form: &[(&'static str, String)]) -> (u16, Value) {
    json(app.post("/auth/token").form(form).send().await.unwrap()).await
}

async fn userinfo(app: &TestApp, token: &str) -> (u16, Value) {
    json(app.get("/auth/userinfo").bearer_auth(token).send().await.unwrap()).await
}

async fn the_cli_flow_works_as_the_cli_performs_it(app: TestApp) {
    let mut browser = Browser::new(&app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile,admin", &[]);

    let start = browser.get(&format!("/auth/authorize?{query}")).await;
    assert_eq!(start.status, 302);
    assert_eq!(start.location.as_deref(), Some(format!("/auth/login?{query}").as_str()));
    let sign_in = browser.get(start.location.as_deref().unwrap()).await;
    assert_eq!(sign_in.status, 200);
    assert!(sign_in.body.contains("Basic CLI") && sign_in.body.contains("<label for=\"password\">"));
    assert!(browser.has_cookie("ba_csrf"));

    let redirect = consent_redirect(&mut browser, &query, "dev@example.com", false).await;
    assert!(redirect.starts_with("http://localhost:8080/callback?"), "{redirect}");
    assert_eq!(query_param(&redirect, "state").as_deref(), Some("state-123"));
    let code = query_param(&redirect, "code").unwrap();

    // The CLI exchanges the code form-encoded, without PKCE.
    let response = app.post("/auth/token").form(&exchange(&code)).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, tokens) = json(response).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "profile admin");
    for field in ["access_token", "refresh_token", "id_token"] {
        assert!(tokens[field].as_str().is_some_and(|t| t.len() > 20), "{field}");
    }

    // The old spelling answers the same, without a redirect (which would lose the bearer).
    let access = tokens["access_token"].as_str().unwrap();
    let (status, old) = json(app.get("/auth/userInfo").bearer_auth(access).send().await.unwrap()).await;
    assert_eq!(status, 200, "{old}");
    assert_eq!(old, userinfo(&app, access).await.1);
    let (status, me) = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "dev@example.com");
    assert_eq!(me["name"], "Test User");
    let id = me["id"].as_str().unwrap();
    assert_eq!(me["sub"], format!("did:web:localhost%3A3003:users:{}", Uuid::parse_str(id).unwrap().simple()));

    // It refreshes with the refresh token in `code`.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, renewed) = token_form(&app, &[("grant_type", "refresh_token"), ("code", refresh)]).await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["refresh_token"], tokens["refresh_token"], "rotated");
    assert_eq!(userinfo(&app, renewed["access_token"].as_str().unwrap()).await.0, 200);
    // And with the standard field too.
    let next = renewed["refresh_token"].as_str().unwrap();
    let (status, _) =
        token_form(&app, &[("grant_type", "refresh_token"), ("refresh_token", next), ("client_id", CLI_CLIENT_ID)])
            .await;
    assert_eq!(status, 200);
}

async fn a_signed_in_browser_goes_straight_to_consent(app: TestApp) {
    let mut browser = Browser::new(&app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile admin", &[]);
    consent_redirect(&mut browser, &query, "again@example.com", false).await;
    let again = browser.get(&format!("/auth/authorize?{query}")).await;
    assert_eq!(again.location.as_deref(), Some(format!("/auth/consent?{query}").as_str()));
    // Signing out ends the session.
    let consent = browser.get(again.location.as_deref().unwrap()).await;
    let (csrf, request) = (consent.hidden("csrf"), consent.hidden("request"));
    let out = browser.post("/auth/logout", &[("csrf", &csrf), ("request", &request)]).await;
    assert_eq!(out.status, 303);
    let after = browser.get(&format!("/auth/authorize?{query}")).await;
    assert!(after.location.unwrap().starts_with("/auth/login?"));
}

async fn refusing_consent_tells_the_client(app: TestApp) {
    let mut browser = Browser::new(&app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile", &[]);
    consent_redirect(&mut browser, &query, "no@example.com", false).await;
    let consent = browser.get(&format!("/auth/consent?{query}")).await;
    let (csrf, request) = (consent.hidden("csrf"), consent.hidden("request"));
    let denied = browser.post("/auth/consent", &[("csrf", &csrf), ("request", &request), ("decision", "deny")]).await;
    let location = denied.location.unwrap();
    assert!(location.starts_with(CLI_REDIRECT_URI));
    assert_eq!(query_param(&location, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&location, "state").as_deref(), Some("state-123"));
    assert_eq!(query_param(&location, "code"), None);
}

async fn a_project_app_signs_in_with_pkce(app: TestApp) {
    let project = seed_project(&app, &["https://todo.example/callback"]).await;
    let verifier = "a-verifier-of-at-least-forty-three-characters-1234567890";
    let pkce = [("code_challenge", challenge(verifier)), ("code_challenge_method", "S256".to_owned())];
    let pkce: Vec<(&str, &str)> = pkce.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The client id may be the project's UUID or its hex form.
    for client_id in [project.to_string(), project.simple().to_string()] {
        let mut browser = Browser::new(&app);
        let query = authorize_query(&client_id, "https://todo.example/callback", "openid profile email", &pkce);
        let redirect =
            consent_redirect(&mut browser, &query, &format!("{}@users.example", Uuid::new_v4()), false).await;
        let code = query_param(&redirect, "code").unwrap();
        let body = json!({"grant_type": "authorization_code", "client_id": client_id, "code": code,
            "redirect_uri": "https://todo.example/callback", "code_verifier": verifier});
        let (status, tokens) = json(app.post("/auth/token").json(&body).send().await.unwrap()).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["scope"], "openid profile email");
        // An app user's token does not open developer endpoints, but does read the user.
        assert_eq!(userinfo(&app, tokens["access_token"].as_str().unwrap()).await.0, 200);
    }

    // Without the verifier, or with another one, the code is refused.
    for bad in [None, Some("another-verifier-of-at-least-forty-three-characters-00")] {
        let mut browser = Browser::new(&app);
        let query = authorize_query(&project.to_string(), "https://todo.example/callback", "profile", &pkce);
        let redirect =
            consent_redirect(&mut browser, &query, &format!("{}@users.example", Uuid::new_v4()), false).await;
        let code = query_param(&redirect, "code").unwrap();
        let mut body = json!({"grant_type": "authorization_code", "client_id": project.to_string(), "code": code,
            "redirect_uri": "https://todo.example/callback"});
        if let Some(v) = bad {
            body["code_verifier"] = json!(v);
        }
        let (status, error) = json(app.post("/auth/token").json(&body).send().await.unwrap()).await;
        assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")), "{error}");
    }
}

/// The SDK sends its whole page URL as the redirect URI: a registered
/// origin admits every page of it, and the code goes back to that page.
async fn an_app_page_under_a_registered_origin_gets_the_code(app: TestApp) {
    let project = seed_project(&app, &["https://todo.example/"]).await;
    let page = "https://todo.example/lists/home?tab=2";
    let mut browser = Browser::new(&app);
    let query = authorize_query(&project.to_string(), page, "openid", &[]);
    let redirect = consent_redirect(&mut browser, &query, &format!("{}@users.example", Uuid::new_v4()), false).await;
    assert!(redirect.starts_with("https://todo.example/lists/home?tab=2&code="), "{redirect}");
    let code = query_param(&redirect, "code").unwrap();
    let body = json!({"grant_type": "authorization_code", "client_id": project.to_string(), "code": code,
        "redirect_uri": page});
    let (status, tokens) = json(app.post("/auth/token").json(&body).send().await.unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
    // Another page of the origin fits too; another host never does.
    let query = authorize_query(&project.to_string(), "https://todo.example/lists/away", "openid", &[]);
    assert_eq!(app.get(&format!("/auth/authorize?{query}")).send().await.unwrap().status(), 302);
    let query = authorize_query(&project.to_string(), "https://todo.example.evil.com/", "openid", &[]);
    let (status, body) = json(app.get(&format!("/auth/authorize?{query}")).send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_redirect_uri")));
    // A code is still bound to the page it was sent to.
    let redirect = consent_redirect(
        &mut Browser::new(&app),
        &authorize_query(&project.to_string(), page, "openid", &[]),
        &format!("{}@users.example", Uuid::new_v4()),
        false,
    )
    .await;
    let body = json!({"grant_type": "authorization_code", "client_id": project.to_string(),
        "code": query_param(&redirect, "code").unwrap(), "redirect_uri": "https://todo.example/lists/away"});
    let (status, error) = json(app.post("/auth/token").json(&body).send().await.unwrap()).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")), "{error}");
}

async fn authorize_rejects_bad_clients_and_redirects_here(app: TestApp) {
    let project = seed_project(&app, &["https://todo.example/callback"]).await;
    let cases = [
        ("unknown client", authorize_query("no-such-client", CLI_REDIRECT_URI, "profile", &[]), "invalid_client"),
        (
            "unknown project",
            authorize_query(&Uuid::new_v4().to_string(), "https://todo.example/callback", "profile", &[]),
            "invalid_client",
        ),
        (
            "unregistered redirect",
            authorize_query(CLI_CLIENT_ID, "https://evil.example/cb", "profile", &[]),
            "invalid_redirect_uri",
        ),
        (
            "another app's redirect",
            authorize_query(&project.to_string(), CLI_REDIRECT_URI, "profile", &[]),
            "invalid_redirect_uri",
        ),
        (
            "no client",
            "redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&response_type=code&scope=profile&state=s".into(),
            "invalid_request",
        ),
        (
            "no redirect",
            format!("client_id={CLI_CLIENT_ID}&response_type=code&scope=profile&state=s"),
            "invalid_request",
        ),
    ];
    for (case, query, code) in cases {
        for page in ["/auth/authorize", "/auth/login", "/auth/consent"] {
            let response = app.get(&format!("{page}?{query}")).send().await.unwrap();
            assert!(response.headers().get("location").is_none(), "{case}: never a redirect ({page})");
            let (status, body) = json(response).await;
            assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{case} ({page}): {body}");
        }
    }
}

async fn authorize_sends_other_errors_back_to_the_client(app: TestApp) {
    let project = seed_project(&app, &["https://todo.example/callback"]).await;
    let cases = [
        (
            "plain PKCE",
            authorize_query(
                CLI_CLIENT_ID,
                CLI_REDIRECT_URI,
                "profile",
                &[("code_challenge", "x"), ("code_challenge_method", "plain")],
            ),
            "invalid_request",
        ),
        (
            "bad challenge",
            authorize_query(
                CLI_CLIENT_ID,
                CLI_REDIRECT_URI,
                "profile",
                &[("code_challenge", "short"), ("code_challenge_method", "S256")],
            ),
            "invalid_request",
        ),
        (
            "token flow",
            authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile", &[])
                .replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        ("no scope", authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "", &[]), "invalid_scope"),
        (
            "admin for an app",
            authorize_query(&project.to_string(), "https://todo.example/callback", "profile admin", &[]),
            "invalid_scope",
        ),
    ];
    for (case, query, code) in cases {
        let response = app.get(&format!("/auth/authorize?{query}")).send().await.unwrap();
        assert_eq!(response.status(), 302, "{case}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(query_param(&location, "error").as_deref(), Some(code), "{case}: {location}");
        assert_eq!(query_param(&location, "state").as_deref(), Some("state-123"), "{case}");
    }
}

async fn codes_are_single_use_and_bound(app: TestApp) {
    // A replayed code fails, and revokes what the first exchange issued.
    let code = flows::cli_code(&app, "replay@example.com").await;
    let (status, first) = post_form(&app, &exchange(&code)).await;
    assert_eq!(status, 200);
    let (status, error) = post_form(&app, &exchange(&code)).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(userinfo(&app, first["access_token"].as_str().unwrap()).await.0, 401, "access token revoked");
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(token_form(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await.0, 400);

    // A code is bound to its redirect URI and its client.
    let code = flows::cli_code(&app, "bound@example.com").await;
    let mut wrong_redirect = exchange(&code);
    wrong_redirect[3].1 = "http://localhost:8080/other".into();
    assert_eq!(post_form(&app, &wrong_redirect).await.1["error"], "invalid_grant");
    let code = flows::cli_code(&app, "bound2@example.com").await;
    let mut wrong_client = exchange(&code);
    wrong_client[1].1 = seed_project(&app, &[CLI_REDIRECT_URI]).await.to_string();
    assert_eq!(post_form(&app, &wrong_client).await.1["error"], "invalid_grant");
    let (status, error) = post_form(&app, &exchange("made-up-code")).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")));
}

async fn expired_codes_are_refused(app: TestApp) {
    let code = flows::cli_code(&app, "slow@example.com").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, error) = post_form(&app, &exchange(&code)).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("expired"));
}

async fn rotated_refresh_tokens_revoke_their_chain_when_reused(app: TestApp) {
    let tokens = flows::developer_tokens(&app, "chain@example.com").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (_, second) = token_form(&app, &[("grant_type", "refresh_token"), ("refresh_token", first)]).await;
    let latest = second["refresh_token"].as_str().unwrap();

    // The rotated token comes back: a thief or a bug. The whole chain dies.
    let (status, error) = token_form(&app, &[("grant_type", "refresh_token"), ("refresh_token", first)]).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _) = token_form(&app, &[("grant_type", "refresh_token"), ("refresh_token", latest)]).await;
    assert_eq!(status, 400, "the latest token is revoked too");
    assert_eq!(userinfo(&app, second["access_token"].as_str().unwrap()).await.0, 401);
}

async fn token_endpoint_rejects_bad_requests(app: TestApp) {
    let cases: [(&[(&str, &str)], &str); 5] = [
        // A code alone is the app SDK's exchange (see sdk.rs): this one is unknown.
        (&[("code", "x")], "invalid_grant"),
        (&[("client_id", CLI_CLIENT_ID)], "invalid_request"),
        (&[("grant_type", "password"), ("username", "a"), ("password", "b")], "unsupported_grant_type"),
        (&[("grant_type", "authorization_code"), ("client_id", CLI_CLIENT_ID)], "invalid_request"),
        (&[("grant_type", "refresh_token")], "invalid_request"),
    ];
    for (form, code) in cases {
        let (status, body) = token_form(&app, form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{form:?}: {body}");
        assert!(body["message"].is_string());
    }
    let (status, body) =
        json(app.post("/auth/token").header("content-type", "application/json").body("{").send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("malformed_json")));
}

async fn wrong_passwords_are_refused_alike_and_throttled(app: TestApp) {
    let mut browser = Browser::new(&app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile", &[]);
    consent_redirect(&mut browser, &query, "victim@example.com", false).await;

    let attempt = async |email: &str, password: &str| {
        let mut fresh = Browser::new(&app);
        let form = fresh.get(&format!("/auth/login?{query}")).await;
        let (csrf, request) = (form.hidden("csrf"), form.hidden("request"));
        fresh
            .post("/auth/login", &[("csrf", &csrf), ("request", &request), ("email", email), ("password", password)])
            .await
    };
    let wrong = attempt("victim@example.com", "not the password").await;
    let unknown = attempt("nobody@example.com", "not the password").await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert!(wrong.body.contains("Wrong email or password.") && unknown.body.contains("Wrong email or password."));
    assert!(wrong.body.contains("value=\"victim@example.com\""), "the email is kept in the form");

    for _ in 0..4 {
        attempt("victim@example.com", "still wrong").await;
    }
    let throttled = attempt("victim@example.com", flows::PASSWORD).await;
    assert_eq!(throttled.status, 429, "even the right password waits");
    assert!(throttled.body.contains("Too many failed attempts"));
    // Another account from the same address is not locked yet.
    let other = attempt("nobody2@example.com", "x").await;
    assert_eq!(other.status, 401);
}

async fn forms_need_their_csrf_token(app: TestApp) {
    let mut browser = Browser::new(&app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile", &[]);
    let form = browser.get(&format!("/auth/signup?{query}")).await;
    let request = form.hidden("request");
    let forged = browser
        .post(
            "/auth/signup",
            &[
                ("csrf", "forged-token"),
                ("request", &request),
                ("email", "csrf@example.com"),
                ("password", flows::PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 400);
    assert!(forged.body.contains("expired"));
    assert!(app.state.app.store.account_by_email("csrf@example.com").await.unwrap().is_none(), "nothing was created");
}

async fn sign_up_checks_its_fields(app: TestApp) {
    let mut browser = Browser::new(&app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile", &[]);
    consent_redirect(&mut browser, &query, "taken@example.com", false).await;
    let cases = [
        ("not-an-email", flows::PASSWORD, "valid email"),
        ("short@example.com", "short", "at least 8"),
        ("TAKEN@example.com", flows::PASSWORD, "already exists"),
    ];
    for (email, password, message) in cases {
        let mut fresh = Browser::new(&app);
        let form = fresh.get(&format!("/auth/signup?{query}")).await;
        let (csrf, request) = (form.hidden("csrf"), form.hidden("request"));
        let page = fresh
            .post("/auth/signup", &[("csrf", &csrf), ("request", &request), ("email", email), ("password", password)])
            .await;
        assert_eq!(page.status, 400, "{email}");
        assert!(page.body.contains(message), "{email}: {message} in {}", page.body);
        assert_eq!(page.hidden("request"), request, "the flow goes on after a correction");
    }
}

async fn bad_tokens_are_401s(app: TestApp) {
    let tokens = flows::developer_tokens(&app, "tokens@example.com").await;
    let access = tokens["access_token"].as_str().unwrap();

    let mut tampered: Vec<String> = access.split('.').map(str::to_owned).collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&tampered[1]).unwrap()).unwrap();
    claims["scope"] = json!("profile admin superuser");
    tampered[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = tampered.join(".");

    // The same claims signed by a key this server never had.
    let foreign_key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    let der = foreign_key.to_pkcs1_der().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("someone-elses-key".into());
    header.typ = Some("at+jwt".into());
    let foreign =
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes())).unwrap();

    let id_token = tokens["id_token"].as_str().unwrap();
    for (case, header) in [
        ("tampered", format!("Bearer {tampered}")),
        ("foreign key", format!("Bearer {foreign}")),
        ("an id token", format!("Bearer {id_token}")),
        ("garbage", "Bearer not-a-token".into()),
        ("not bearer", format!("Basic {access}")),
    ] {
        let response = app.get("/auth/userinfo").header("authorization", header).send().await.unwrap();
        assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"), "{case}");
        let (status, body) = json(response).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "{case}: {body}");
    }
    let (status, body) = json(app.get("/auth/userinfo").send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
    assert_eq!(userinfo(&app, access).await.0, 200, "the genuine token still works");
}

async fn expired_access_tokens_are_401s(app: TestApp) {
    let tokens = flows::developer_tokens(&app, "expiry@example.com").await;
    assert_eq!(tokens["expires_in"], 1);
    let access = tokens["access_token"].as_str().unwrap();
    let mut claims: basic_admin_app::auth::claims::AccessClaims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(access.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims.exp - claims.iat, 1);
    // The same token as it will be once its time (and the leeway for clock skew) is over.
    claims.exp -= 120;
    claims.iat -= 120;
    let expired = app.state.app.keys.sign("at+jwt", &claims).await;
    let (status, body) = userinfo(&app, &expired).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
    assert!(body["message"].as_str().unwrap().contains("expired"), "{body}");
    // The SDK's session check tells it to sign in again.
    let (status, session) = json(app.get("/auth/session").bearer_auth(&expired).send().await.unwrap()).await;
    assert_eq!((status, &session["error"], &session["reauth_required"]), (401, &json!("invalid_token"), &json!(true)));
}

async fn discovery_and_keys_describe_the_provider(app: TestApp) {
    let (status, doc) = json(app.get("/auth/.well-known/openid-configuration").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(doc["issuer"], "http://localhost:3003");
    assert_eq!(doc["authorization_endpoint"], "http://localhost:3003/auth/authorize");
    assert_eq!(doc["token_endpoint"], "http://localhost:3003/auth/token");
    assert_eq!(doc["userinfo_endpoint"], "http://localhost:3003/auth/userinfo");
    assert_eq!(doc["jwks_uri"], "http://localhost:3003/auth/.well-known/jwks.json");
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["grant_types_supported"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(doc["token_endpoint_auth_methods_supported"], json!(["none"]));
    for scope in ["openid", "profile", "email", "admin"] {
        assert!(doc["scopes_supported"].as_array().unwrap().contains(&json!(scope)));
    }
    let (_, root) = json(app.get("/.well-known/openid-configuration").send().await.unwrap()).await;
    assert_eq!(root, doc, "also where OpenID Connect clients look for the issuer");

    let (status, jwks) = json(app.get("/auth/.well-known/jwks.json").send().await.unwrap()).await;
    assert_eq!(status, 200);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    for field in ["kty", "use", "alg", "kid", "n", "e"] {
        assert!(keys[0][field].is_string(), "{field}");
    }
    assert_eq!(
        (keys[0]["kty"].as_str(), keys[0]["use"].as_str(), keys[0]["alg"].as_str()),
        (Some("RSA"), Some("sig"), Some("RS256"))
    );
    assert!(keys[0].get("d").is_none(), "no private part");
}

async fn tokens_verify_against_the_published_keys(app: TestApp) {
    let tokens = flows::developer_tokens(&app, "verify@example.com").await;
    let (_, jwks) = json(app.get("/auth/.well-known/jwks.json").send().await.unwrap()).await;
    for (field, typ) in [("access_token", "at+jwt"), ("id_token", "JWT")] {
        let token = tokens[field].as_str().unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.typ.as_deref(), Some(typ));
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| Some(k["kid"].as_str().unwrap()) == header.kid.as_deref())
            .unwrap();
        let key =
            jsonwebtoken::DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
                .unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[CLI_CLIENT_ID]);
        validation.set_issuer(&["http://localhost:3003"]);
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap().claims;
        assert!(claims["sub"].as_str().unwrap().starts_with("did:web:localhost%3A3003:users:"));
        if field == "access_token" {
            assert_eq!(claims["scope"], "profile admin");
            assert_eq!(claims["client_id"], CLI_CLIENT_ID);
        } else {
            assert_eq!(claims["name"], "Test User", "profile scope: name in the id token");
            // The CLI acts for the account's own owner: it sees the email without the scope.
            assert_eq!(claims["email"], "verify@example.com", "first-party client");
            assert_eq!(claims["email_verified"], false, "no address is verified yet");
        }
    }
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let (_, jwks) = json(app.get("/auth/.well-known/jwks.json").send().await.unwrap()).await;
    let mut kids: Vec<String> =
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
    kids.sort();
    kids
}

fn kid(token: &Value) -> String {
    jsonwebtoken::decode_header(token["access_token"].as_str().unwrap()).unwrap().kid.unwrap()
}

async fn nodes_share_keys_and_rotations_reach_them_all(a: TestApp) {
    // The first node makes the first key (in the background) before the second starts.
    a.state.app.keys.jwks().await;
    let b = a.sibling(Setup::default()).await;
    assert_eq!(jwks_kids(&a).await, jwks_kids(&b).await, "one key set for every node");
    let before = flows::developer_tokens(&a, "nodes@example.com").await;
    assert_eq!(userinfo(&b, before["access_token"].as_str().unwrap()).await.0, 200, "A's token works on B");

    // `basic-admin keys rotate`, then node B's periodic reload.
    let new_kid =
        basic_admin_app::signing_keys::KeyRing::rotate(&*b.state.app.store, &b.state.app.master_key).await.unwrap();
    b.state.app.keys.reload().await.unwrap();
    let after = flows::developer_tokens(&b, "nodes2@example.com").await;
    assert_eq!(kid(&after), new_kid, "B signs with the new key");
    assert_ne!(kid(&before), new_kid);

    // A has not reloaded yet: the unknown kid makes it look again.
    assert_eq!(userinfo(&a, after["access_token"].as_str().unwrap()).await.0, 200, "B's new token works on A");
    // Tokens of the retired key stay valid until they expire.
    assert_eq!(userinfo(&a, before["access_token"].as_str().unwrap()).await.0, 200);
    assert_eq!(userinfo(&b, before["access_token"].as_str().unwrap()).await.0, 200);
    let kids = jwks_kids(&a).await;
    assert_eq!(kids.len(), 2, "the retired key is still published: {kids:?}");
    assert_eq!(kids, jwks_kids(&b).await);
    // And A now signs with the new key too.
    assert_eq!(kid(&flows::developer_tokens(&a, "nodes3@example.com").await), new_kid);
}

async fn only_admin_tokens_reach_developer_routes(app: TestApp) {
    let developer = flows::developer_tokens(&app, "admin-scope@example.com").await;
    let response =
        app.get("/test/developer").bearer_auth(developer["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(response.status(), 200);

    // An app user's token (no admin scope) is recognised, but refused: 403.
    let project = seed_project(&app, &["https://todo.example/callback"]).await;
    let metadata_url = format!("http://localhost:3003/projects/{project}/client-metadata.json");
    let mut browser = Browser::new(&app);
    let query = authorize_query(&metadata_url, "https://todo.example/callback", "profile", &[]);
    let redirect = consent_redirect(&mut browser, &query, "app-user@example.com", false).await;
    let code = query_param(&redirect, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", metadata_url.as_str()),
        ("code", &code),
        ("redirect_uri", "https://todo.example/callback"),
    ];
    let (status, user) = token_form(&app, &form).await;
    assert_eq!(status, 200, "a project's client-metadata URL is its client id too: {user}");
    let response = app.get("/test/developer").bearer_auth(user["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
    let (_, body) = json(response).await;
    assert_eq!(body["error"], "insufficient_scope");

    let (status, _) = json(app.get("/test/developer").send().await.unwrap()).await;
    assert_eq!(status, 401);
}
