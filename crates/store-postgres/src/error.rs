use basic_admin_core::store::{Constraint, StoreError};

/// Translates a driver error into the store's vocabulary; a uniqueness
/// violation carries the name of the constraint it broke.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Unique(Constraint::from_name(db.constraint().unwrap_or("unique")))
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::ForeignKey,
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        // The server going away under a connection (a restart: "terminating
        // connection due to administrator command") or not taking one yet.
        sqlx::Error::Database(ref db) if db.code().is_some_and(|code| is_unavailable(&code)) => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

/// SQLSTATE classes 08 (connection exception) and 57P (the server shutting
/// down, crashed, or not yet accepting connections).
fn is_unavailable(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P")
}

#[cfg(test)]
mod tests {
    use super::is_unavailable;

    #[test]
    fn a_server_going_away_is_unavailable_and_a_bad_query_is_not() {
        for code in ["57P01", "57P02", "57P03", "08006", "08003"] {
            assert!(is_unavailable(code), "{code}");
        }
        for code in ["23505", "42P01", "40001", "57014"] {
            assert!(!is_unavailable(code), "{code}");
        }
    }
}
