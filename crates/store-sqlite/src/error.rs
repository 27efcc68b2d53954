use basic_admin_core::store::{Constraint, StoreError};
use rusqlite::ErrorCode;
use rusqlite::ffi;

/// Translates a driver error into the store's vocabulary. A uniqueness
/// violation is named after the constraint it broke, as PostgreSQL names it,
/// so that both backends report the same conflict for the same write.
pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(failure, message) => {
            let message = message.as_deref().unwrap_or_default();
            match (failure.code, failure.extended_code) {
                (_, ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                    StoreError::Unique(Constraint::from_name(&constraint_name(message)))
                }
                // ON DELETE RESTRICT fails with its own code, the same message.
                (ErrorCode::ConstraintViolation, _) if message.contains("FOREIGN KEY constraint") => {
                    StoreError::ForeignKey
                }
                (_, ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => StoreError::ForeignKey,
                (
                    ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::CannotOpen
                    | ErrorCode::DiskFull
                    | ErrorCode::ReadOnly,
                    _,
                ) => StoreError::Unavailable(e.to_string()),
                _ => StoreError::Other(e.to_string()),
            }
        }
        _ => StoreError::Other(e.to_string()),
    }
}

/// The same, for the migrations (run by sqlx's migrator).
pub(crate) fn map_sqlx_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

/// SQLite says `UNIQUE constraint failed: teams.slug` (or `t.a, t.b`);
/// PostgreSQL says `teams_slug_key`. This gives the latter from the former.
fn constraint_name(message: &str) -> String {
    let Some(columns) = message.strip_prefix("UNIQUE constraint failed: ") else {
        return message.to_owned();
    };
    if let Some(index) = columns.strip_prefix("index '") {
        return index.trim_end_matches('\'').to_owned();
    }
    let mut table = "";
    let mut names = Vec::new();
    for column in columns.split(", ") {
        let (t, c) = column.split_once('.').unwrap_or(("", column));
        table = t;
        names.push(c);
    }
    format!("{table}_{}_key", names.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_constraints_like_postgres() {
        assert_eq!(constraint_name("UNIQUE constraint failed: teams.slug"), "teams_slug_key");
        assert_eq!(
            constraint_name("UNIQUE constraint failed: schema_versions.project_id, schema_versions.version"),
            "schema_versions_project_id_version_key"
        );
        assert_eq!(constraint_name("UNIQUE constraint failed: index 'accounts_email_key'"), "accounts_email_key");
    }

    #[test]
    fn driver_errors_become_the_stores() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; CREATE TABLE teams (id INTEGER PRIMARY KEY, slug TEXT UNIQUE); \
             CREATE TABLE members (team INTEGER NOT NULL REFERENCES teams (id)); INSERT INTO teams VALUES (1, 'a')",
        )
        .unwrap();
        let unique = conn.execute("INSERT INTO teams VALUES (2, 'a')", []).unwrap_err();
        assert!(matches!(map_err(unique), StoreError::Unique(_)));
        let key = conn.execute("INSERT INTO teams VALUES (1, 'b')", []).unwrap_err();
        assert!(matches!(map_err(key), StoreError::Unique(_)));
        let reference = conn.execute("INSERT INTO members VALUES (9)", []).unwrap_err();
        assert!(matches!(map_err(reference), StoreError::ForeignKey));
        let none = conn.query_row("SELECT 1 FROM teams WHERE id = 5", [], |_| Ok(())).unwrap_err();
        assert!(matches!(map_err(none), StoreError::NotFound));
        let syntax = conn.execute("SELEKT", []).unwrap_err();
        assert!(matches!(map_err(syntax), StoreError::Other(_)));
    }
}
