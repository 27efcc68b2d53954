//! The cost of authenticating a request with a JWT: the `Caller` extractor on
//! a valid access token. It must not touch the database, so the store is
//! closed before measuring.
//!
//! `cargo bench -p basic-admin-server --bench auth`

use axum::extract::FromRequestParts as _;
use axum::http::Request;
use basic_admin_core::time;
use basic_admin_server::App;
use basic_admin_server::auth::Caller;
use basic_admin_server::auth::claims::{ACCESS_TYP, AccessClaims};
use basic_admin_server::config::{Config, Flags};
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
        iss: state.keys.issuer().to_owned(),
        sub: format!("did:web:localhost%3A3003:users:{}", Uuid::new_v4().simple()),
        aud: "client".into(),
        exp: now + 3600,
        iat: now,
        jti: "bench".into(),
        scope: "profile admin".into(),
        client_id: "client".into(),
        sid: Uuid::new_v4(),
    };
    let bearer = format!("Bearer {}", runtime.block_on(state.keys.sign(ACCESS_TYP, &claims)));

    // No database from here on: a valid token must not need one.
    app.stop_background();
    runtime.block_on(state.store.close());
    let authenticate_with = |bearer: String| {
        let state = state.clone();
        async move {
            let request = Request::builder().header("authorization", bearer).body(()).unwrap();
            let (mut parts, ()) = request.into_parts();
            match Caller::from_request_parts(&mut parts, &state).await {
                Ok(Caller::Account(account)) => account,
                other => panic!("the token must verify without the database: {other:?}"),
            }
        }
    };
    let authenticate = || async {
        let request = Request::builder().header("authorization", &bearer).body(()).unwrap();
        let (mut parts, ()) = request.into_parts();
        match Caller::from_request_parts(&mut parts, &state).await {
            Ok(Caller::Account(account)) => account,
            other => panic!("the token must verify without the database: {other:?}"),
        }
    };
    runtime.block_on(authenticate());

    let mut group = c.benchmark_group("auth");
    group.throughput(Throughput::Elements(1));
    // The same token again and again: what a client does for an hour.
    group.bench_function("jwt_extractor_repeated_token", |b| b.to_async(&runtime).iter(authenticate));
    // A token this node has not seen: the full RS256 verification.
    group.bench_function("jwt_extractor_new_token", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                state.verified.clear();
                bearer.clone()
            },
            authenticate_with,
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, jwt_extractor);
criterion_main!(benches);
