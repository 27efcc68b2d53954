//! The cost of authenticating a request: the `Caller` extractor on a valid
//! access token, and on an API key it has seen. Neither may touch the
//! database, so the store is closed before measuring.
//!
//! `cargo bench -p basic-admin-server --bench auth`

use axum::extract::FromRequestParts as _;
use axum::http::Request;
use basic_admin_app::auth::api_keys::secret_hash;
use basic_admin_app::auth::claims::{ACCESS_TYP, AccessClaims};
use basic_admin_core::model::Slug;
use basic_admin_core::model::api_key::PresentedKey;
use basic_admin_core::store::{ApiKey, NewAccount, NewProject, NewTeam};
use basic_admin_core::time;
use basic_admin_server::App;
use basic_admin_server::auth::Caller;
use basic_admin_server::config::{Config, Flags};
use basic_admin_server::state::AppState;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uuid::Uuid;

fn jwt_extractor(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flags =
        Flags { data_dir: Some(dir.path().display().to_string()), log: Some("warn".into()), ..Flags::default() };
    let app = runtime.block_on(App::build(Config::resolve(flags, &|_| None).unwrap())).unwrap();
    let state = app.state().clone();
    let now = time::now().timestamp();
    let claims = AccessClaims {
        iss: state.app.keys.issuer().to_owned(),
        sub: format!("did:web:localhost%3A3003:users:{}", Uuid::new_v4().simple()),
        aud: "client".into(),
        exp: now + 3600,
        iat: now,
        jti: "bench".into(),
        scope: "profile admin".into(),
        client_id: "client".into(),
        sid: Uuid::new_v4(),
    };
    let bearer = format!("Bearer {}", runtime.block_on(state.app.keys.sign(ACCESS_TYP, &claims)));
    let api_key = format!("Bearer {}", runtime.block_on(seed_key(&state)));

    let extract = |bearer: String| {
        let state = state.clone();
        async move {
            let request = Request::builder().header("authorization", bearer).body(()).unwrap();
            let (mut parts, ()) = request.into_parts();
            Caller::from_request_parts(&mut parts, &state).await
        }
    };
    let authenticate_with = |bearer: String| {
        let extract = &extract;
        async move {
            match extract(bearer).await {
                Ok(Caller::Account(account)) => account,
                other => panic!("the token must verify without the database: {other:?}"),
            }
        }
    };
    let authenticate = || authenticate_with(bearer.clone());
    let authenticate_key = || async {
        match extract(api_key.clone()).await {
            Ok(Caller::ApiKey(key)) => key,
            other => panic!("a cached key must verify without the database: {other:?}"),
        }
    };
    runtime.block_on(authenticate_key());

    // No database from here on: a valid token, or a key seen once, must not need one.
    app.stop_background();
    runtime.block_on(state.app.store.close());
    runtime.block_on(authenticate());

    let mut group = c.benchmark_group("auth");
    group.throughput(Throughput::Elements(1));
    // The same token again and again: what a client does for an hour.
    group.bench_function("jwt_extractor_repeated_token", |b| b.to_async(&runtime).iter(authenticate));
    // A token this node has not seen: the full RS256 verification.
    group.bench_function("jwt_extractor_new_token", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                state.app.verified.clear();
                bearer.clone()
            },
            authenticate_with,
            criterion::BatchSize::PerIteration,
        )
    });
    // An API key this node has seen: a SHA-256 and a constant-time comparison.
    group.bench_function("api_key_extractor_cached", |b| b.to_async(&runtime).iter(authenticate_key));
    group.finish();
}

/// A developer, team, project and `read` key in the store: the key's value.
async fn seed_key(state: &AppState) -> String {
    let now = time::now();
    let (account, team, project) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let store = &state.app.store;
    let new_account = NewAccount {
        id: account,
        email: "bench@example.com".into(),
        username: None,
        name: "Bench".into(),
        password_hash: "unused".into(),
        created_at: now,
    };
    store.create_account(new_account).await.unwrap();
    let new_team = NewTeam {
        id: team,
        name: "Bench".into(),
        slug: Slug::parse("bench").unwrap(),
        owner: account,
        created_at: now,
    };
    store.create_team(new_team).await.unwrap();
    let new_project = NewProject {
        id: project,
        team_id: team,
        name: "Bench".into(),
        slug: Slug::parse("bench").unwrap(),
        website: None,
        profile: serde_json::json!({}),
        settings: serde_json::json!({}),
        created_at: now,
    };
    store.create_project(new_project).await.unwrap();
    let presented = PresentedKey::generate(Uuid::new_v4(), rand::random::<u8>);
    let key = ApiKey {
        id: presented.id,
        project_id: project,
        label: "bench".into(),
        roles: "read".into(),
        is_private: true,
        secret_hash: secret_hash(&presented),
        created_at: now,
        updated_at: now,
        last_used: None,
    };
    store.create_key(key).await.unwrap();
    presented.reveal()
}

criterion_group!(benches, jwt_extractor);
criterion_main!(benches);
