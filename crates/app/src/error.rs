//! The one error of the use-cases. It says what went wrong in the domain's
//! terms (what was not found, what is invalid, what conflicts); each caller
//! maps it to its protocol once: the HTTP layer to a status and a JSON body,
//! a sync session to an `error` message.

use std::time::Duration;

use basic_admin_core::store::StoreError;
use serde_json::Value;

/// Fields that some errors carry beside their code and message
/// (`slugified`, `valid`, `errors`, …).
pub type Details = Vec<(&'static str, Value)>;

/// What could not be found, or may not be seen by this caller (the two look
/// the same from outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thing {
    Team,
    Project,
    Key,
    Member,
    Invite,
    User,
    Item,
    /// A stored file, by its address.
    File,
    /// A project's upload of this kind (`icon`, `image`…).
    Upload(&'static str),
}

impl Thing {
    pub fn code(self) -> &'static str {
        match self {
            Thing::Team => "team_not_found",
            Thing::Project => "project_not_found",
            Thing::Key => "key_not_found",
            Thing::Member => "member_not_found",
            Thing::Invite => "invite_not_found",
            Thing::User => "user_not_found",
            Thing::Item => "item_not_found",
            Thing::File | Thing::Upload(_) => "not_found",
        }
    }

    pub fn message(self) -> String {
        match self {
            Thing::Team => "There is no team with this id that you can see.".into(),
            Thing::Project => "There is no project with this id that you can see.".into(),
            Thing::Key => "This project has no such key.".into(),
            Thing::Member => "This account is not a member of the team.".into(),
            Thing::Invite => "There is no such invite.".into(),
            Thing::User => "This project has no user with this DID.".into(),
            Thing::Item => "This table has no item with this id.".into(),
            Thing::File => "No such file.".into(),
            Thing::Upload(kind) => format!("This project has no {kind}."),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{}", .0.message())]
    NotFound(Thing),
    /// The caller's credentials are missing or not (or no longer) valid.
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    /// The caller is known and may not do this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    Invalid { code: &'static str, message: String, details: Details },
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    #[error("{message}")]
    UnsupportedType { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Too many attempts; `wait` says when to come back.
    #[error("{message}")]
    TooMany { wait: Duration, message: String },
    /// A capability that is off on this server.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String, details: Details },
    /// A provider this server relies on failed (the AI service).
    #[error("{message}")]
    Upstream { code: &'static str, message: String, details: Details },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A fault of ours; the detail is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid { code, message: message.into(), details: Details::new() }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Forbidden { code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into() }
    }

    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Unauthenticated { code, message: message.into() }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        AppError::Internal(detail.to_string())
    }

    /// Adds a field beside the code and message (for the kinds that carry
    /// details; the others have none to add to).
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        match &mut self {
            AppError::Invalid { details, .. }
            | AppError::Unavailable { details, .. }
            | AppError::Upstream { details, .. } => details.push((key, value.into())),
            _ => debug_assert!(false, "{self:?} carries no details"),
        }
        self
    }

    /// Maps a store error, naming what `NotFound` meant (the store does not
    /// know; the use-case does).
    pub fn or_not_found(thing: Thing) -> impl Fn(StoreError) -> AppError {
        move |e| match e {
            StoreError::NotFound => AppError::NotFound(thing),
            other => AppError::Store(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_not_found_becomes_the_thing_named() {
        let map = AppError::or_not_found(Thing::Key);
        assert!(matches!(map(StoreError::NotFound), AppError::NotFound(Thing::Key)));
        assert!(matches!(map(StoreError::Stale), AppError::Store(StoreError::Stale)));
    }

    #[test]
    fn details_accumulate_in_order() {
        let e = AppError::invalid("invalid_slug", "No.").with("slugified", "a-b").with("valid", false);
        let AppError::Invalid { details, .. } = e else { panic!("kind changed") };
        assert_eq!(details, vec![("slugified", Value::from("a-b")), ("valid", Value::from(false))]);
    }
}
