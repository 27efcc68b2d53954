//! Live sync's use-cases: a device opens a session with an app user's
//! token, sends its changes (checked against the project's latest schema,
//! conflicts resolved by [`basic_admin_core::sync`]) and reads what others
//! changed. Every node hears of new revisions through [`SyncHub`]: writes
//! made here tell it at once, writes made on other nodes arrive through the
//! store's broadcast.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use basic_admin_core::store::{Applied, Item, LogPosition, Step, StoreError, SyncBatch, SyncRefusal};
use basic_admin_core::sync::{Change, Edit, RecordLog, Resolution, Since, apply_mods, owed, resolve};
use basic_admin_core::time;
use serde_json::{Map, Value};
use tokio::sync::watch;
use uuid::Uuid;

use super::items::{latest_schema, whole_record};
use super::users;
use crate::auth::claims::{ACCESS_TYP, AccessClaims};
use crate::signing_keys::VerifyError;
use crate::{AppError, Context};

/// The limits of a sync connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncLimits {
    /// The largest message a client may send.
    pub max_frame_bytes: usize,
    /// Changes in one message, and held from `partial` messages at once.
    pub max_changes: usize,
    /// Open connections of one user on one node.
    pub connections_per_user: usize,
    /// A connection that neither sends nor answers a ping for this long is closed.
    pub idle_timeout: Duration,
}

impl Default for SyncLimits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 4 * 1024 * 1024,
            max_changes: 1000,
            connections_per_user: 20,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a sync request was refused, as the protocol's `error` tells it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SyncError {
    pub code: SyncCode,
    pub message: String,
}

/// The `code` of an `error` message. The SDK reconnects on the first two
/// (with a fresh token) and gives up on the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncCode {
    Unauthorized,
    TokenExpired,
    /// Not a message of the protocol, or not in its place.
    InvalidMessage,
    /// Changes refused (unknown table, a value the schema refuses, a full table).
    InvalidChanges,
    /// A limit of the server's.
    LimitExceeded,
    /// The server could not do it now (the database is down).
    Unavailable,
}

impl SyncCode {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncCode::Unauthorized => "UNAUTHORIZED",
            SyncCode::TokenExpired => "TOKEN_EXPIRED",
            SyncCode::InvalidMessage => "INVALID_MESSAGE",
            SyncCode::InvalidChanges => "INVALID_CHANGES",
            SyncCode::LimitExceeded => "LIMIT_EXCEEDED",
            SyncCode::Unavailable => "UNAVAILABLE",
        }
    }
}

impl std::fmt::Display for SyncCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SyncError {
    pub fn new(code: SyncCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "a sync request failed in the store");
        SyncError::new(SyncCode::Unavailable, "The server cannot store or read data right now; try again.")
    }
}

impl From<AppError> for SyncError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Store(e) => e.into(),
            other => SyncError::new(SyncCode::Unavailable, other.to_string()),
        }
    }
}

/// One device's session: whose database it synchronises, as whom.
#[derive(Debug, Clone)]
pub struct Session {
    pub project_id: Uuid,
    /// The client identity the server gave this device.
    pub client: String,
    /// Its current token's claims: the user (`sub`), the sign-in (`sid`,
    /// revoking it ends the session) and the expiry.
    pub claims: AccessClaims,
}

impl Session {
    pub fn user_did(&self) -> &str {
        &self.claims.sub
    }

    /// Why the session may not go on now, if it may not.
    pub fn check(&self, ctx: &Context) -> Result<(), SyncError> {
        if ctx.revocations.contains(self.claims.sid) {
            return Err(SyncError::new(SyncCode::Unauthorized, "This sign-in has been revoked."));
        }
        if time::now().timestamp() >= self.claims.exp {
            return Err(SyncError::new(SyncCode::TokenExpired, "The access token has expired; send a fresh one."));
        }
        Ok(())
    }
}

/// An app user's access token: valid, not revoked, issued to a project's app.
async fn app_user(ctx: &Context, token: &str) -> Result<(Uuid, AccessClaims), SyncError> {
    let claims: AccessClaims = ctx.keys.verify(token, ACCESS_TYP).await.map_err(|e| match e {
        VerifyError::Expired => SyncError::new(SyncCode::TokenExpired, "The access token has expired; refresh it."),
        other => SyncError::new(SyncCode::Unauthorized, format!("The access token is not valid: {other}.")),
    })?;
    if ctx.revocations.contains(claims.sid) {
        return Err(SyncError::new(SyncCode::Unauthorized, "The access token has been revoked."));
    }
    let project = Uuid::try_parse(&claims.client_id).map_err(|_| {
        SyncError::new(
            SyncCode::Unauthorized,
            "This token was not issued to an app: sign in through the project's app.",
        )
    })?;
    if ctx.store.project_by_id(project).await?.is_none() {
        return Err(app_gone());
    }
    Ok((project, claims))
}

fn app_gone() -> SyncError {
    SyncError::new(SyncCode::Unauthorized, "The app this token was issued to no longer exists.")
}

/// Opens a session for the device that says it is `offered` (an identity
/// this server gave it earlier, or none): the user is connected to the
/// project, and the device gets its identity (the one offered when it is
/// this user's, else a new one).
pub async fn open(ctx: &Context, token: &str, offered: Option<&str>) -> Result<Session, SyncError> {
    let (project, claims) = app_user(ctx, token).await?;
    match users::connect_signed_in(ctx, project, &claims).await {
        Err(AppError::Store(StoreError::ForeignKey)) => {
            return Err(SyncError::new(SyncCode::Unauthorized, "The account this token names no longer exists."));
        }
        other => other?,
    };
    let fresh = crate::crypto::random_token();
    let client = ctx.store.sync_client(project, &claims.sub, offered, &fresh, time::now()).await?;
    Ok(Session { project_id: project, client, claims })
}

/// A fresh token for the session: it must name the same user of the same app.
pub async fn renew(ctx: &Context, session: &mut Session, token: &str) -> Result<(), SyncError> {
    let (project, claims) = app_user(ctx, token).await?;
    if project != session.project_id || claims.sub != session.claims.sub {
        return Err(SyncError::new(SyncCode::Unauthorized, "This token is another user's or another app's."));
    }
    session.claims = claims;
    Ok(())
}

/// Parses a message's changes, within the limit.
pub fn parse_changes(values: &[Value], limits: &SyncLimits) -> Result<Vec<Change>, SyncError> {
    if values.len() > limits.max_changes {
        return Err(SyncError::new(
            SyncCode::LimitExceeded,
            format!("A message carries at most {} changes; send them in several.", limits.max_changes),
        ));
    }
    values
        .iter()
        .enumerate()
        .map(|(n, v)| {
            Change::parse(v).map_err(|why| SyncError::new(SyncCode::InvalidChanges, format!("Change {n}: {why}.")))
        })
        .collect()
}

/// Applies a client's changes, made on top of revision `base`, as one
/// transaction (nothing taken when the conflict rules leave nothing to
/// change). Refused changes apply nothing.
pub async fn apply(ctx: &Context, session: &Session, base: i64, changes: &[Change]) -> Result<Applied, SyncError> {
    if changes.is_empty() {
        return Ok(Applied { revision: None, stored: 0 });
    }
    let schema = latest_schema(ctx, session.project_id).await?;
    let Some(schema) = schema.as_ref() else {
        // No schema: none published yet, or the project is gone.
        if ctx.store.project_by_id(session.project_id).await?.is_none() {
            return Err(app_gone());
        }
        return Err(SyncError::new(
            SyncCode::InvalidChanges,
            "This project has no published schema yet: its developer publishes one before data is stored.",
        ));
    };
    for (n, change) in changes.iter().enumerate() {
        if schema["tables"].get(change.table()).is_none_or(Value::is_null) {
            return Err(SyncError::new(
                SyncCode::InvalidChanges,
                format!(
                    "Change {n}: the project's schema (version {}) has no table {:?}.",
                    schema["version"],
                    change.table()
                ),
            ));
        }
    }
    let me = session.client.as_str();
    let decide = |change: &Change, current: Option<&Item>, log: Option<&RecordLog>| {
        let current_fields = current.and_then(|i| i.value.as_object());
        match resolve(change.clone(), &Since::of(log, base, me), current_fields) {
            Resolution::Drop => Ok(Step::Skip),
            Resolution::Apply { change, echo } => step(schema, change, current_fields, echo),
        }
    };
    let batch = || SyncBatch {
        project_id: session.project_id,
        user_did: session.user_did(),
        source: me,
        changes,
        max_records: ctx.settings.max_records_per_table,
        at: time::now(),
    };
    let mut applied = ctx.store.sync_apply(batch(), &decide).await;
    if matches!(applied, Err(StoreError::NotFound)) {
        // The user was deleted while the device was connected: back again.
        users::connect_signed_in(ctx, session.project_id, &session.claims).await?;
        applied = ctx.store.sync_apply(batch(), &decide).await;
    }
    if matches!(applied, Err(StoreError::ForeignKey)) {
        // The user's database goes with the project.
        return Err(app_gone());
    }
    match applied? {
        Ok(applied) => {
            if applied.revision.is_some() {
                ctx.sync.advanced(session.project_id, session.user_did());
            }
            Ok(applied)
        }
        Err(SyncRefusal::Invalid { index, reason }) => {
            Err(SyncError::new(SyncCode::InvalidChanges, format!("Change {index}: {reason} Nothing was applied.")))
        }
        Err(SyncRefusal::TableFull { index, table }) => Err(SyncError::new(
            SyncCode::InvalidChanges,
            format!(
                "Change {index}: table {table:?} holds the {} records a user may keep in one table. Nothing was applied.",
                ctx.settings.max_records_per_table
            ),
        )),
    }
}

/// What a resolved change stores: the record's new fields, checked whole
/// against the schema.
fn step(schema: &Value, change: Change, current: Option<&Map<String, Value>>, echo: bool) -> Result<Step, String> {
    let (table, fields, edit) = match change {
        Change::Delete { .. } => return Ok(Step::Remove { echo }),
        Change::Create { table, obj, .. } => (table, obj, Edit::Created),
        Change::Update { table, mods, .. } => {
            // An update of a record that is not (or no longer) there changes nothing.
            let Some(current) = current else { return Ok(Step::Skip) };
            let mut fields = current.clone();
            apply_mods(&mut fields, &mods);
            (table, fields, Edit::Updated(mods.keys().cloned().collect()))
        }
    };
    let value = whole_record(schema, &table, fields).map_err(|e| e.to_string())?;
    Ok(Step::Put { value, edit, echo })
}

/// What a device that has every change up to `synced` is owed, read from
/// the log after `after` up to revision `until`: up to `limit` entries are
/// read, and where to read on is returned with the changes (`None` once
/// `until` is reached).
pub async fn owed_since(
    ctx: &Context,
    session: &Session,
    synced: i64,
    after: &LogPosition,
    until: i64,
    limit: u32,
) -> Result<(Vec<Change>, Option<LogPosition>), SyncError> {
    let records = ctx.store.sync_log(session.project_id, session.user_did(), after, until, limit).await?;
    let next = (records.len() == limit as usize).then(|| records.last().map(LogPosition::after)).flatten();
    let changes = records.iter().filter(|r| owed(&r.log, synced, &session.client)).map(|r| r.change()).collect();
    Ok((changes, next))
}

pub async fn revision(ctx: &Context, session: &Session) -> Result<i64, SyncError> {
    Ok(ctx.store.sync_revision(session.project_id, session.user_did()).await?)
}

/// The user database a broadcast says moved on to a new revision, if it is
/// a sync message: `sync:<project>:<revision>:<user>` (the user last, as
/// DIDs hold colons). The store sends it with every commit that takes a
/// revision (PostgreSQL: a trigger; one node needs none).
pub fn heard(message: &str) -> Option<(Uuid, &str)> {
    let rest = message.strip_prefix("sync:")?;
    let (project, rest) = rest.split_once(':')?;
    let (revision, user_did) = rest.split_once(':')?;
    revision.parse::<i64>().ok()?;
    Some((Uuid::try_parse(project).ok()?, user_did))
}

/// Each watched user database: when this node last heard it changed.
#[derive(Default)]
pub struct SyncHub {
    watched: Mutex<HashMap<(Uuid, String), watch::Sender<Instant>>>,
}

/// A connection's view of its user's database (and its place in the count
/// of the user's connections, given back when dropped).
pub struct Watch<'a> {
    pub changes: watch::Receiver<Instant>,
    hub: &'a SyncHub,
    key: (Uuid, String),
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        let mut watched = self.hub.watched.lock().expect("sync hub lock");
        // This receiver still counts until it is dropped itself.
        if watched.get(&self.key).is_some_and(|tx| tx.receiver_count() <= 1) {
            watched.remove(&self.key);
        }
    }
}

impl SyncHub {
    /// Watches the user's database, unless the user has `most` connections here already.
    pub fn watch(&self, project: Uuid, user_did: &str, most: usize) -> Option<Watch<'_>> {
        let key = (project, user_did.to_owned());
        let mut watched = self.watched.lock().expect("sync hub lock");
        let sender = watched.entry(key.clone()).or_insert_with(|| watch::channel(Instant::now()).0);
        if sender.receiver_count() >= most {
            return None;
        }
        Some(Watch { changes: sender.subscribe(), hub: self, key })
    }

    /// The user's database changed (a write made here, or a broadcast
    /// heard): their connections here read the log.
    pub fn advanced(&self, project: Uuid, user_did: &str) {
        let watched = self.watched.lock().expect("sync hub lock");
        if let Some(sender) = watched.get(&(project, user_did.to_owned())) {
            sender.send_replace(Instant::now());
        }
    }

    /// Every connection here reads the log (broadcasts may have been lost).
    pub fn wake_all(&self) {
        let now = Instant::now();
        for sender in self.watched.lock().expect("sync hub lock").values() {
            sender.send_replace(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_broadcasts_name_the_project_and_the_user() {
        let project = Uuid::new_v4();
        let did = "did:web:basic.test%3A8080:users:1";
        assert_eq!(heard(&format!("sync:{project}:7:{did}")), Some((project, did)));
        assert_eq!(heard(&format!("sync:{project}::{did}")), None, "a revision");
        assert_eq!(heard("schema:x"), None);
        assert_eq!(heard("sync:not-a-uuid:1:did"), None);
    }

    #[test]
    fn a_user_has_at_most_so_many_connections_and_each_hears_of_changes() {
        let hub = SyncHub::default();
        let project = Uuid::new_v4();
        let mut first = hub.watch(project, "u", 2).unwrap();
        let second = hub.watch(project, "u", 2).unwrap();
        assert!(hub.watch(project, "u", 2).is_none(), "a third is refused");
        assert!(hub.watch(project, "other", 2).is_some());
        hub.advanced(project, "u");
        assert!(first.changes.has_changed().unwrap());
        first.changes.mark_unchanged();
        drop(second);
        assert!(hub.watch(project, "u", 2).is_some(), "a place is free again");
        hub.wake_all();
        assert!(first.changes.has_changed().unwrap(), "woken when broadcasts may have been lost");
        drop(first);
        assert!(hub.watched.lock().unwrap().is_empty(), "nothing is kept for users without connections");
    }
}
