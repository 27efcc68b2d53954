//! Several nodes on one PostgreSQL database behave as one server: what one
//! node changes, the others honour within a second; a node killed under load
//! takes nothing acknowledged with it.

use std::future::Future;
use std::time::{Duration, Instant};

use basic_admin_app::signing_keys::KeyRing;
use serde_json::{Value, json};

use crate::harness::{Backend, Setup, TestApp, TestDb, http, json};
use crate::lifecycle::Process;
use crate::world;

/// Waits until `check` holds, for at most a second.
async fn within_a_second<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(1), "not within a second: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A key made through `node`: its id and value.
async fn new_key(node: &TestApp, owner: &str, keys: &str) -> (String, String) {
    let (_, key) = node.call(owner, "POST", keys, Some(json!({"label": "k", "roles": "read,data:write"}))).await;
    (key["key"]["id"].as_str().unwrap().to_owned(), key["key"]["value"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_behave_as_one() {
    let Some(db) = TestDb::create(Backend::Postgres, "cluster::three_nodes").await else { return };
    let a = TestApp::start(db, Setup::default()).await;
    let b = a.sibling(Setup::default()).await;
    let c = a.sibling(Setup::default()).await;
    let people = world::people(&a).await;
    let place = world::place(&a, &people, true).await;
    let owner = &people.owner.token;
    let project = format!("/project/{}", place.project);

    // JWTs issued by one node verify on all (one set of signing keys).
    for node in [&b, &c] {
        assert_eq!(node.call(owner, "GET", "/auth/userinfo", None).await.0, 200);
    }

    // A key made on A works on B and C; deleted on B, it is refused everywhere.
    let keys = format!("{project}/key");
    let (id, value) = new_key(&a, owner, &keys).await;
    for node in [&b, &c] {
        assert_eq!(node.call(&value, "GET", &project, None).await.0, 200);
    }
    assert_eq!(b.call(owner, "DELETE", &format!("{keys}/{id}"), None).await.0, 200);
    for node in [&a, &c] {
        within_a_second("a deleted key refused", || async { node.call(&value, "GET", &project, None).await.0 == 401 })
            .await;
    }
    // Regenerated on C: the old secret is refused on A and B, the new one works there.
    let (id, value) = new_key(&a, owner, &keys).await;
    for node in [&a, &b] {
        assert_eq!(node.call(&value, "GET", &project, None).await.0, 200);
    }
    let (_, fresh) = c.call(owner, "POST", &format!("{keys}/{id}/regenerate"), None).await;
    for node in [&a, &b] {
        within_a_second("a regenerated secret refused", || async {
            node.call(&value, "GET", &project, None).await.0 == 401
        })
        .await;
        assert_eq!(node.call(fresh["key"]["value"].as_str().unwrap(), "GET", &project, None).await.0, 200);
    }

    // A schema published on A is served by B and C (which had cached "none").
    let schema_path = format!("{project}/schema");
    for node in [&b, &c] {
        assert_eq!(json(node.get(&schema_path).send().await.unwrap()).await.1["data"], json!([]));
    }
    let schema = world::first_schema(place.project);
    assert_eq!(a.call(owner, "POST", &schema_path, Some(json!({"schema": schema}))).await.0, 200);
    for node in [&b, &c] {
        within_a_second("a published schema served", || async {
            json(node.get(&schema_path).send().await.unwrap()).await.1["data"][0]["schema"]["version"] == 1
        })
        .await;
    }

    // An item written through B is read through C.
    let token = world::token_for(&a, people.app_user.id, "openid", &place.project.to_string()).await;
    let (_, connected) =
        json(b.post(&format!("{project}/user/connect")).json(&json!({"token": token})).send().await.unwrap()).await;
    let table = format!("{project}/user/{}/db/todos", connected["user_did"].as_str().unwrap().replace('%', "%25"));
    let (status, item) = b.call(owner, "POST", &table, Some(json!({"value": {"title": "shared"}}))).await;
    assert_eq!(status, 200, "{item}");
    let (status, read) = c.call(owner, "GET", &format!("{table}/{}", item["data"]["id"].as_str().unwrap()), None).await;
    assert_eq!((status, read["data"].clone()), (200, item["data"].clone()));

    // A key rotation (as `basic-admin keys rotate` does) is honoured everywhere:
    // tokens of the new key verify on every node, those of the old one still do.
    let kid = KeyRing::rotate(&*c.state.app.store, &c.state.app.master_key).await.unwrap();
    let signed_with = |node: &TestApp| {
        let (node, owner_id, kid) = (node.state.clone(), people.owner.id, kid.clone());
        async move {
            let token = world::sign(&node, owner_id, "profile admin", "test").await;
            jsonwebtoken::decode_header(&token).unwrap().kid == Some(kid)
        }
    };
    for node in [&a, &b] {
        within_a_second("nodes sign with the new key", || signed_with(node)).await;
    }
    let rotated = world::token(&b, people.owner.id, "profile admin").await;
    for node in [&a, &b, &c] {
        assert_eq!(node.call(&rotated, "GET", "/auth/userinfo", None).await.0, 200);
        assert_eq!(node.call(owner, "GET", "/auth/userinfo", None).await.0, 200, "older tokens still verify");
    }
}

/// Three real server processes on one database; one is killed with SIGKILL
/// while items are being written through all three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_load_loses_nothing_acknowledged() {
    let Some(db) = TestDb::create(Backend::Postgres, "cluster::killed_mid_load").await else { return };
    let seed = TestApp::start(db, Setup::default()).await;
    let people = world::people(&seed).await;
    let place = world::place(&seed, &people, true).await;
    let data = world::app_data(&seed, &people, place.project).await;
    let key = format!("Bearer {}", world::key(&seed, place.project, "data:read,data:write").await);
    let table = format!("/project/{}/user/{}/db/todos", place.project, data.user_did.replace('%', "%25"));
    let dir = seed.state.config.data_dir.display().to_string();
    let args = ["--data-dir", dir.as_str(), "--database-url", seed.database_url()];
    let mut nodes: Vec<Process> = (0..3).map(|_| Process::start(std::path::Path::new(&dir), &args)).collect();
    let urls: Vec<String> = nodes.iter().map(|n| format!("http://{}{table}", n.addr)).collect();

    let client = http();
    let writer = |url: String, survivor: bool| {
        let (client, key) = (client.clone(), key.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let started = Instant::now();
            let mut n = 0;
            while started.elapsed() < Duration::from_millis(1500) {
                n += 1;
                let body = json!({"value": {"title": format!("write {n}")}});
                let sent = client.post(&url).header("authorization", &key).json(&body).send().await;
                match sent {
                    Ok(response) if response.status() == 200 => {
                        let record: Value = response.json().await.unwrap();
                        acknowledged.push(record["data"]["id"].as_str().unwrap().to_owned());
                    }
                    Ok(response) if survivor => panic!("a surviving node answered {}", response.status()),
                    Err(e) if survivor => panic!("a surviving node failed: {e}"),
                    _ => {}
                }
            }
            acknowledged
        })
    };
    let writers = vec![writer(urls[0].clone(), false), writer(urls[1].clone(), true), writer(urls[2].clone(), true)];
    tokio::time::sleep(Duration::from_millis(500)).await;
    nodes[0].child.kill().unwrap(); // SIGKILL
    nodes[0].child.wait().unwrap();

    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.expect("survivors answer every request"));
    }
    assert!(acknowledged.len() > 10, "the load ran: {}", acknowledged.len());
    let reader = &urls[1];
    for id in &acknowledged {
        let response = client.get(format!("{reader}/{id}")).header("authorization", &key).send().await.unwrap();
        assert_eq!(response.status(), 200, "acknowledged item {id} is gone");
    }
    for node in nodes.iter_mut().skip(1) {
        node.child.kill().unwrap();
        node.child.wait().unwrap();
    }
}
