//! `GET /ws`: live sync over a WebSocket, as the app SDK speaks it
//! (Dexie.Syncable's protocol, JSON text frames). The rules are the
//! use-cases' (`services::sync`); this module reads frames, keeps the
//! connection's state and writes frames.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{
    CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use basic_admin_app::services::sync::{self, Session, SyncCode, SyncError, Watch};
use basic_admin_core::store::LogPosition;
use basic_admin_core::sync::Change;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::metrics::SyncMetrics;
use crate::state::AppState;

/// Log entries read at once when catching a device up; also the most
/// changes one `changes` message carries to it.
const CHUNK: u32 = 500;
/// Bytes read from or gathered for the socket at once.
const IO_BUFFER: usize = 4 * 1024;
/// How often the session is checked (expiry, revocation) and silence measured.
const TICK: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

async fn upgrade(State(state): State<AppState>, ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            return ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "websocket_required",
                format!("/ws is live sync over a WebSocket: {rejection}."),
            )
            .into_response();
        }
    };
    let limit = state.app.settings.sync.max_frame_bytes;
    // Frames up to twice the limit are read and refused with a message;
    // larger ones end the socket at once. Small buffers (the default is
    // 128 KiB each way, per socket) keep an idle socket cheap; messages
    // larger than them are still read and written whole.
    let ws = ws.max_message_size(limit.saturating_mul(2)).max_frame_size(limit.saturating_mul(2));
    ws.read_buffer_size(IO_BUFFER).write_buffer_size(IO_BUFFER).on_upgrade(move |socket| async move {
        let metrics = state.metrics.sync.clone();
        metrics.sockets.inc();
        let (sink, stream) = socket.split();
        let mut connection = Connection { state, sink, stream, metrics: metrics.clone() };
        let reason = connection.run().await;
        metrics.closed.with_label_values(&[reason]).inc();
        metrics.sockets.dec();
    })
}

struct Connection {
    state: AppState,
    sink: SplitSink<WebSocket, Message>,
    stream: SplitStream<WebSocket>,
    metrics: SyncMetrics,
}

/// What the device has been sent, once it subscribed.
struct Subscription {
    /// The revision the device has every change up to.
    synced: i64,
}

/// The session's state between messages.
struct Live<'a> {
    session: Session,
    watch: Watch<'a>,
    subscription: Option<Subscription>,
    /// Changes of `partial` messages, held until the set is complete.
    held: Vec<Change>,
}

/// Why a connection ends.
enum Stop {
    /// The device is told (an `error`, with the request it concerns), then
    /// the socket closed.
    Refuse(SyncError, Value),
    /// It is over already; the reason, for the metrics.
    Ended(&'static str),
}

impl From<SyncError> for Stop {
    fn from(e: SyncError) -> Self {
        Stop::Refuse(e, Value::Null)
    }
}

impl Connection {
    /// Serves the socket until it ends; returns why it ended.
    async fn run(&mut self) -> &'static str {
        let Err(stop) = self.serve().await;
        match stop {
            Stop::Ended(reason) => reason,
            Stop::Refuse(e, request_id) => {
                let mut error = json!({"type": "error", "code": e.code.as_str(), "message": e.message});
                if !request_id.is_null() {
                    error["requestId"] = request_id;
                }
                if self.send("error", &error).await.is_ok() {
                    let close = CloseFrame { code: 1008, reason: Utf8Bytes::from_static("error") };
                    let _ = self.sink.send(Message::Close(Some(close))).await;
                }
                e.code.as_str()
            }
        }
    }

    async fn serve(&mut self) -> Result<Infallible, Stop> {
        let ctx = self.state.app.clone();
        let limits = ctx.settings.sync;
        // The device speaks first: who it is.
        let hello = loop {
            let Ok(frame) = tokio::time::timeout(limits.idle_timeout, self.stream.next()).await else {
                return Err(SyncError::new(SyncCode::Unauthorized, "No clientIdentity message came.").into());
            };
            if let Some(text) = self.text_of(frame)? {
                break text;
            }
        };
        let session = self.open(&hello).await?;
        let Some(watch) = ctx.sync.watch(session.project_id, session.user_did(), limits.connections_per_user) else {
            let message = format!("A user has at most {} sync connections open at once.", limits.connections_per_user);
            return Err(SyncError::new(SyncCode::LimitExceeded, message).into());
        };
        self.send("clientIdentity", &json!({"type": "clientIdentity", "clientIdentity": session.client})).await?;
        let mut live = Live { session, watch, subscription: None, held: Vec::new() };
        let mut last_heard = Instant::now();
        let mut pinged = false;
        let mut ticks = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                frame = self.stream.next() => {
                    last_heard = Instant::now();
                    pinged = false;
                    if let Some(text) = self.text_of(frame)? {
                        self.handle(&mut live, &text).await?;
                    }
                }
                changed = live.watch.changes.changed(), if live.subscription.is_some() => {
                    if changed.is_err() {
                        return Err(Stop::Ended("shutdown"));
                    }
                    let heard = *live.watch.changes.borrow_and_update();
                    self.push(&mut live, false).await?;
                    self.metrics.push_latency.observe(heard.elapsed().as_secs_f64());
                }
                _ = ticks.tick() => {
                    live.session.check(&ctx)?;
                    let silent = last_heard.elapsed();
                    if silent >= limits.idle_timeout {
                        let close = CloseFrame { code: 1001, reason: Utf8Bytes::from_static("idle") };
                        let _ = self.sink.send(Message::Close(Some(close))).await;
                        return Err(Stop::Ended("idle"));
                    }
                    if silent >= limits.idle_timeout / 2 && !pinged {
                        pinged = true;
                        self.send_frame(Message::Ping(Default::default())).await?;
                    }
                }
            }
        }
    }

    /// The text of a frame read; `None` for pings and pongs.
    fn text_of(&self, frame: Option<Result<Message, axum::Error>>) -> Result<Option<Utf8Bytes>, Stop> {
        match frame {
            None | Some(Ok(Message::Close(_))) => Err(Stop::Ended("client")),
            // What the reader refuses is, but for a broken connection, a frame over the size limit.
            Some(Err(_)) => Err(too_large(self.state.app.settings.sync.max_frame_bytes).into()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(None),
            Some(Ok(Message::Binary(_))) => Err(invalid("Messages are JSON text frames.").into()),
            Some(Ok(Message::Text(text))) => Ok(Some(text)),
        }
    }

    /// The first message: `clientIdentity` with the user's token.
    async fn open(&mut self, text: &str) -> Result<Session, SyncError> {
        let message = self.parse(text)?;
        if message["type"] != "clientIdentity" {
            return Err(invalid("The first message is clientIdentity, with the user's authToken."));
        }
        let Some(token) = message["authToken"].as_str() else {
            return Err(SyncError::new(
                SyncCode::Unauthorized,
                "clientIdentity carries the user's access token as authToken.",
            ));
        };
        let offered = match &message["clientIdentity"] {
            Value::String(id) => Some(id.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        sync::open(&self.state.app, token, offered.as_deref()).await
    }

    fn parse(&self, text: &str) -> Result<Value, SyncError> {
        let limit = self.state.app.settings.sync.max_frame_bytes;
        if text.len() > limit {
            return Err(too_large(limit));
        }
        let message: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("A message is a JSON object: {e}.")))?;
        let kind = message["type"].as_str().unwrap_or("unknown");
        self.metrics.messages.with_label_values(&["in", known_type(kind)]).inc();
        if !message.is_object() {
            return Err(invalid("A message is a JSON object with a type."));
        }
        Ok(message)
    }

    async fn handle(&mut self, live: &mut Live<'_>, text: &str) -> Result<(), Stop> {
        let ctx = self.state.app.clone();
        let message = self.parse(text)?;
        match message["type"].as_str() {
            Some("changes") => {
                let request_id = message.get("requestId").cloned().unwrap_or(Value::Null);
                if let Err(e) = self.changes(live, &message).await {
                    return Err(Stop::Refuse(e, request_id));
                }
                self.send("ack", &json!({"type": "ack", "requestId": request_id})).await
            }
            Some("subscribe") => {
                if live.subscription.is_some() {
                    return Err(invalid("subscribe comes once per connection.").into());
                }
                let synced = revision_field(&message["syncedRevision"], "syncedRevision")?;
                live.subscription = Some(Subscription { synced });
                live.watch.changes.mark_unchanged();
                self.push(live, true).await
            }
            Some("tokenUpdate") => {
                let renewed = match message["authToken"].as_str() {
                    None => {
                        Err(SyncError::new(SyncCode::Unauthorized, "tokenUpdate carries the new token as authToken."))
                    }
                    Some(token) => sync::renew(&ctx, &mut live.session, token).await,
                };
                let ack = match renewed {
                    Ok(()) => json!({"type": "tokenUpdateAck", "ok": true}),
                    Err(e) => {
                        json!({"type": "tokenUpdateAck", "ok": false, "code": e.code.as_str(), "message": e.message})
                    }
                };
                self.send("tokenUpdateAck", &ack).await
            }
            Some("clientIdentity") => Err(invalid("clientIdentity comes once, first.").into()),
            Some(other) => Err(invalid(format!("There is no message of type {other:?}.")).into()),
            None => Err(invalid("A message has a type.").into()),
        }
    }

    /// A `changes` message: held while `partial`, applied with those held
    /// once the set is complete.
    async fn changes(&mut self, live: &mut Live<'_>, message: &Value) -> Result<(), SyncError> {
        let ctx = self.state.app.clone();
        let limits = ctx.settings.sync;
        let Some(values) = message["changes"].as_array() else {
            return Err(SyncError::new(SyncCode::InvalidChanges, "A changes message carries an array of changes."));
        };
        let base = revision_field(&message["baseRevision"], "baseRevision")?;
        let mut changes = sync::parse_changes(values, &limits)?;
        if live.held.len() + changes.len() > limits.max_changes {
            return Err(SyncError::new(
                SyncCode::LimitExceeded,
                format!("A set of partial messages holds at most {} changes.", limits.max_changes),
            ));
        }
        if message["partial"].as_bool() == Some(true) {
            live.held.append(&mut changes);
            return Ok(());
        }
        let mut all = std::mem::take(&mut live.held);
        all.append(&mut changes);
        let applied = sync::apply(&ctx, &live.session, base, &all).await?;
        self.metrics.changes_applied.inc_by(applied.stored as u64);
        Ok(())
    }

    /// Sends the device what it is owed since its revision, in chunks; the
    /// first time (`always`) even when that is nothing, so that it knows it
    /// is up to date.
    async fn push(&mut self, live: &mut Live<'_>, always: bool) -> Result<(), Stop> {
        let ctx = self.state.app.clone();
        let Some(subscription) = live.subscription.as_mut() else { return Ok(()) };
        let synced = subscription.synced;
        let until = sync::revision(&ctx, &live.session).await?;
        if until <= synced && !always {
            return Ok(());
        }
        let mut position = LogPosition::at(synced);
        let mut pending: Vec<Value> = Vec::new();
        loop {
            let (changes, next) = sync::owed_since(&ctx, &live.session, synced, &position, until, CHUNK).await?;
            pending.extend(changes.iter().map(Change::to_json));
            let Some(next) = next else { break };
            position = next;
            if pending.len() >= CHUNK as usize {
                let chunk = json!({"type": "changes", "changes": pending, "currentRevision": until, "partial": true});
                self.send("changes", &chunk).await?;
                pending = Vec::new();
            }
        }
        let last = json!({"type": "changes", "changes": pending, "currentRevision": until, "partial": false});
        self.send("changes", &last).await?;
        subscription.synced = until;
        Ok(())
    }

    async fn send(&mut self, kind: &'static str, message: &Value) -> Result<(), Stop> {
        self.metrics.messages.with_label_values(&["out", kind]).inc();
        self.send_frame(Message::Text(message.to_string().into())).await
    }

    /// Sends a frame, or gives up on a device that does not take it within
    /// half the idle timeout (as long as it has to answer a ping): a slow
    /// consumer is disconnected rather than buffered for.
    async fn send_frame(&mut self, frame: Message) -> Result<(), Stop> {
        let patience = self.state.app.settings.sync.idle_timeout / 2;
        match tokio::time::timeout(patience, self.sink.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Stop::Ended("client")),
            Err(_) => Err(Stop::Ended("slow")),
        }
    }
}

fn too_large(limit: usize) -> SyncError {
    SyncError::new(SyncCode::LimitExceeded, format!("A message is at most {limit} bytes."))
}

fn invalid(message: impl Into<String>) -> SyncError {
    SyncError::new(SyncCode::InvalidMessage, message)
}

/// A revision as clients send it: a whole number, `null` or absent for 0.
fn revision_field(value: &Value, name: &str) -> Result<i64, SyncError> {
    match value {
        Value::Null => Ok(0),
        Value::Number(n) => n.as_i64().filter(|r| *r >= 0).ok_or_else(|| invalid(format!("{name} is a whole number."))),
        _ => Err(invalid(format!("{name} is a whole number."))),
    }
}

/// The label for a message type: the protocol's, or `unknown` (labels stay few).
fn known_type(kind: &str) -> &'static str {
    match kind {
        "clientIdentity" => "clientIdentity",
        "changes" => "changes",
        "subscribe" => "subscribe",
        "tokenUpdate" => "tokenUpdate",
        _ => "unknown",
    }
}
