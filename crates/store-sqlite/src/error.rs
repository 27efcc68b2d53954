use basic_admin_core::store::{Constraint, StoreError};

/// Translates a driver error into the store's vocabulary. A uniqueness
/// violation is named after the constraint it broke, as PostgreSQL names it,
/// so that both backends report the same conflict for the same write.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Unique(Constraint::from_name(&constraint_name(db.message())))
        }
        // ON DELETE RESTRICT fails with its own code (1811), the same message.
        sqlx::Error::Database(db)
            if db.is_foreign_key_violation() || db.message().contains("FOREIGN KEY constraint") =>
        {
            StoreError::ForeignKey
        }
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
    use super::constraint_name;

    #[test]
    fn names_constraints_like_postgres() {
        assert_eq!(constraint_name("UNIQUE constraint failed: teams.slug"), "teams_slug_key");
        assert_eq!(
            constraint_name("UNIQUE constraint failed: schema_versions.project_id, schema_versions.version"),
            "schema_versions_project_id_version_key"
        );
        assert_eq!(constraint_name("UNIQUE constraint failed: index 'accounts_email_key'"), "accounts_email_key");
    }
}
