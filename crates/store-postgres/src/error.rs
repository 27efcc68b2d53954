use basic_admin_core::store::StoreError;

/// Translates a driver error into the store's vocabulary; a uniqueness
/// violation carries the name of the constraint it broke.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.constraint().unwrap_or("unique").to_owned())
        }
        // Not named: SQLite does not say which key it was.
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Conflict("foreign_key".to_owned()),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        other => StoreError::Other(other.to_string()),
    }
}
