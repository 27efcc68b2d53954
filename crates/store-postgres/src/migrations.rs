//! The migrations, compiled into the binary so that it needs no files beside it.

use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "oauth", include_str!("../migrations/0002_oauth.sql")),
    (3, "users", include_str!("../migrations/0003_users.sql")),
    (4, "public keys", include_str!("../migrations/0004_public_keys.sql")),
    (5, "invite tokens", include_str!("../migrations/0005_invite_tokens.sql")),
];

pub fn migrator() -> Migrator {
    let migrations = MIGRATIONS.iter().map(|&(version, name, sql)| {
        Migration::new(version, name.into(), MigrationType::Simple, sql.into_sql_str(), false)
    });
    Migrator::with_migrations(migrations.collect())
}
