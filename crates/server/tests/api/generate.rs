//! Schema suggestions, against a small OpenAI-compatible fake.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::harness::{Backend, Setup, TestApp, TestDb, json};
use crate::world;

/// What the fake answers to each request, in turn.
#[derive(Clone)]
enum Reply {
    Content(String),
    Garbage,
    Slow,
}

struct Fake {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Value>>>,
}

async fn fake(replies: Vec<Reply>) -> Fake {
    let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |axum::Json(body): axum::Json<Value>| {
            let replies = Arc::clone(&replies);
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().unwrap().push(body);
                let reply = replies.lock().unwrap().pop_front().unwrap_or(Reply::Garbage);
                match reply {
                    Reply::Content(text) => {
                        axum::Json(json!({"choices": [{"message": {"role": "assistant", "content": text}}]}))
                            .into_response_parts()
                    }
                    Reply::Garbage => "<html>not json</html>".into_response_parts(),
                    Reply::Slow => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        "late".into_response_parts()
                    }
                }
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Fake { addr, requests }
}

trait IntoParts {
    fn into_response_parts(self) -> axum::response::Response;
}

impl<T: axum::response::IntoResponse> IntoParts for T {
    fn into_response_parts(self) -> axum::response::Response {
        self.into_response()
    }
}

async fn app_with(fake: Option<&Fake>) -> Option<TestApp> {
    let db = TestDb::create(Backend::Sqlite, "generate").await?;
    let mut setup = Setup::default();
    if let Some(fake) = fake {
        setup.flags.ai_base_url = Some(format!("http://{}/v1", fake.addr));
        setup.flags.ai_timeout_secs = Some("1".into());
        setup.flags.ai_model = Some("tiny".into());
    }
    Some(TestApp::start(db, setup).await)
}

async fn ask(app: &TestApp, body: Value) -> (u16, Value) {
    let people = world::people(app).await;
    let place = world::place(app, &people, true).await;
    let path = format!("/project/{}/schema/generate", place.project);
    let (status, answer) =
        json(app.post(&path).bearer_auth(&people.member.token).json(&body).send().await.unwrap()).await;
    if status == 200 {
        assert_eq!(answer["schema"]["project_id"], place.project.to_string(), "the route's project by default");
    }
    (status, answer)
}

fn todo_schema() -> String {
    json!({"project_id": "whatever", "version": 7, "tables": {"todos": {"type": "collection", "fields": {"title": {"type": "string"}}}}}).to_string()
}

#[tokio::test]
async fn a_valid_answer_is_returned_and_nothing_stored() {
    let fake = fake(vec![Reply::Content(format!("```json\n{}\n```", todo_schema()))]).await;
    let app = app_with(Some(&fake)).await.unwrap();
    let (status, answer) = ask(&app, json!({"prompt": "A todo list"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["success"], true);
    assert_eq!(answer["schema"]["version"], 1, "a new schema starts at 1");
    assert!(answer["schema"]["tables"]["todos"].is_object());
    let request = &fake.requests.lock().unwrap()[0];
    assert_eq!(request["model"], "tiny");
    assert_eq!(request["response_format"]["type"], "json_object");
    assert!(request["messages"][1]["content"].as_str().unwrap().contains("A todo list"));
}

#[tokio::test]
async fn an_invalid_answer_is_retried_once_with_its_problems() {
    let bad = json!({"project_id": "x", "version": 1, "tables": {"todos": {"fields": {"id": {"type": "string"}}}}})
        .to_string();
    let fake = fake(vec![Reply::Content(bad), Reply::Content(todo_schema())]).await;
    let app = app_with(Some(&fake)).await.unwrap();
    let current = json!({"project_id": "p", "version": 3, "tables": {}});
    let (status, answer) = ask(&app, json!({"prompt": "Add todos", "schema": current})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["schema"]["version"], 4, "one more than the schema given");
    let requests = fake.requests.lock().unwrap();
    assert_eq!(requests.len(), 2);
    let correction =
        requests[1]["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_owned();
    assert!(correction.contains("not valid") && correction.contains("/tables/todos/fields"), "{correction}");
}

#[tokio::test]
async fn garbage_twice_is_a_500_in_the_error_shape() {
    let fake = fake(vec![Reply::Content("I cannot help with that.".into()), Reply::Garbage]).await;
    let app = app_with(Some(&fake)).await.unwrap();
    let (status, answer) = ask(&app, json!({"prompt": "Anything"})).await;
    assert_eq!(status, 500);
    assert_eq!(answer["success"], false);
    assert!(answer["error"].is_string() && answer["message"].is_string());
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let fake = fake(vec![Reply::Slow]).await;
    let app = app_with(Some(&fake)).await.unwrap();
    let (status, answer) = ask(&app, json!({"prompt": "Anything"})).await;
    assert_eq!((status, answer["error"].as_str(), answer["success"].clone()), (500, Some("ai_timeout"), json!(false)));
}

#[tokio::test]
async fn prompts_are_checked_and_no_provider_is_a_503() {
    let fake = fake(vec![]).await;
    let app = app_with(Some(&fake)).await.unwrap();
    for prompt in [json!(""), json!("   "), json!("x".repeat(1001))] {
        let (status, answer) = ask(&app, json!({"prompt": prompt})).await;
        assert_eq!(
            (status, answer["error"].as_str(), answer["success"].clone()),
            (400, Some("invalid_prompt"), json!(false))
        );
    }
    assert!(fake.requests.lock().unwrap().is_empty(), "nothing was sent");

    let off = app_with(None).await.unwrap();
    let (status, answer) = ask(&off, json!({"prompt": "A todo list"})).await;
    assert_eq!(
        (status, answer["error"].as_str(), answer["success"].clone()),
        (503, Some("ai_not_configured"), json!(false))
    );
}

#[tokio::test]
async fn the_console_fills_its_editor_with_a_suggestion() {
    let fake = fake(vec![Reply::Content(todo_schema())]).await;
    let app = app_with(Some(&fake)).await.unwrap();
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let mut browser = crate::console::console_browser(&app, people.member.id).await;
    let page = format!("/console/project/{}/schema", place.project);
    let shown = browser.get(&page).await;
    assert!(shown.body.contains("Ask for a suggestion"), "offered when a provider is set up");
    let csrf = shown.hidden("csrf");
    let suggested = browser.post(&format!("{page}/suggest"), &[("csrf", &csrf), ("prompt", "A todo list")]).await;
    assert_eq!(suggested.status, 200, "{}", suggested.body);
    assert!(suggested.body.contains("A suggestion: check it") && suggested.body.contains("&quot;todos&quot;"));
    let project = format!("&quot;project_id&quot;: &quot;{}&quot;", place.project);
    assert!(suggested.body.contains(&project), "made this project's: {}", suggested.body);
    assert!(app.state.app.store.schema_versions(place.project).await.unwrap().is_empty(), "nothing published");
}
