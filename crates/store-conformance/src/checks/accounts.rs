use basic_admin_core::store::{Constraint, NewAccount, Store, StoreError};
use basic_admin_core::time;
use uuid::Uuid;

/// A new account with a unique email, for checks that need one.
pub fn new_account(email: &str) -> NewAccount {
    NewAccount {
        id: Uuid::new_v4(),
        email: email.to_owned(),
        username: None,
        name: "Ada Lovelace".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        created_at: time::now(),
    }
}

pub async fn accounts_are_stored_and_found(store: &dyn Store) {
    let new = NewAccount { username: Some("Ada".into()), ..new_account("Ada@Example.com") };
    let created = store.create_account(new.clone()).await.unwrap();
    assert_eq!(
        (created.id, created.email.as_str(), created.username.as_deref()),
        (new.id, "Ada@Example.com", Some("Ada"))
    );
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(created.created_at.timestamp_millis(), new.created_at.timestamp_millis());

    assert_eq!(store.account_by_id(new.id).await.unwrap(), Some(created.clone()));
    assert_eq!(store.account_by_email("ada@example.COM").await.unwrap(), Some(created.clone()));
    assert_eq!(store.account_by_username("ADA").await.unwrap(), Some(created));
    assert_eq!(store.account_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(store.account_by_email("nobody@example.com").await.unwrap(), None);
}

pub async fn account_emails_and_usernames_are_unique_ignoring_case(store: &dyn Store) {
    let first = NewAccount { username: Some("grace".into()), ..new_account("grace@example.com") };
    store.create_account(first).await.unwrap();

    let same_email = new_account("GRACE@example.com");
    match store.create_account(same_email).await {
        Err(StoreError::Unique(taken)) => assert_eq!(taken, Constraint::AccountEmail),
        other => panic!("expected a conflict on the email, got {other:?}"),
    }
    let same_username = NewAccount { username: Some("Grace".into()), ..new_account("other@example.com") };
    match store.create_account(same_username).await {
        Err(StoreError::Unique(taken)) => assert_eq!(taken, Constraint::AccountUsername),
        other => panic!("expected a conflict on the username, got {other:?}"),
    }
    // Accounts without usernames do not collide with each other.
    store.create_account(new_account("a1@example.com")).await.unwrap();
    store.create_account(new_account("a2@example.com")).await.unwrap();
}
