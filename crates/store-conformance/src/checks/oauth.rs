use basic_admin_core::store::{
    AccountLink, AuthCode, CodeUse, LinkPurpose, LinkUse, RefreshToken, RefreshUse, Session, SigningKeyRecord, Store,
    TokenFamily,
};
use basic_admin_core::time::{self, Timestamp};
use chrono::Duration;
use futures_util::future::join_all;
use serde_json::json;
use uuid::Uuid;

use super::new_account;

pub async fn signing_keys_are_kept_and_retired(store: &dyn Store) {
    let at = time::now();
    let key = |kid: &str, created_at: Timestamp| SigningKeyRecord {
        kid: kid.into(),
        algorithm: "RS256".into(),
        sealed_private: vec![1, 2, 3, 0, 255],
        public_jwk: json!({"kty": "RSA", "kid": kid}),
        created_at,
        retired_at: None,
    };
    store.insert_signing_key(key("old", at)).await.unwrap();
    store.insert_signing_key(key("new", at + Duration::seconds(1))).await.unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["old", "new"], "oldest first");
    assert_eq!(keys[0].sealed_private, [1, 2, 3, 0, 255]);
    assert_eq!(keys[0].public_jwk["kty"], "RSA");

    assert_eq!(store.retire_signing_keys_except("new", at).await.unwrap(), 1);
    assert_eq!(store.retire_signing_keys_except("new", at).await.unwrap(), 0, "retired once");
    let keys = store.signing_keys().await.unwrap();
    assert!(keys[0].retired_at.is_some() && keys[1].retired_at.is_none());
}

async fn family(store: &dyn Store) -> TokenFamily {
    let account = store.create_account(new_account(&format!("{}@example.com", Uuid::new_v4()))).await.unwrap();
    TokenFamily {
        id: Uuid::new_v4(),
        account_id: account.id,
        client_id: "client".into(),
        scope: "profile admin".into(),
        created_at: time::now(),
        revoked_at: None,
    }
}

fn code(family: &TokenFamily, hash: &str) -> AuthCode {
    AuthCode {
        code_hash: hash.into(),
        family_id: family.id,
        redirect_uri: "http://localhost:8080/callback".into(),
        code_challenge: Some("challenge".into()),
        nonce: None,
        created_at: family.created_at,
        expires_at: family.created_at + Duration::seconds(60),
    }
}

pub async fn auth_codes_are_spent_once(store: &dyn Store) {
    let family = family(store).await;
    let code = code(&family, "code-hash");
    store.create_auth_code(family.clone(), code.clone()).await.unwrap();

    let first = store.use_auth_code("code-hash", time::now()).await.unwrap();
    assert_eq!(first, CodeUse::Fresh(code.clone(), family.clone()));
    let second = store.use_auth_code("code-hash", time::now()).await.unwrap();
    assert_eq!(second, CodeUse::Replayed(code, family));
    assert_eq!(store.use_auth_code("other", time::now()).await.unwrap(), CodeUse::Unknown);
}

pub async fn concurrent_code_uses_have_one_winner(store: &dyn Store) {
    let family = family(store).await;
    store.create_auth_code(family.clone(), code(&family, "raced")).await.unwrap();
    let uses = (0..8).map(|_| store.use_auth_code("raced", time::now()));
    let outcomes = join_all(uses).await;
    let fresh = outcomes.iter().filter(|o| matches!(o, Ok(CodeUse::Fresh(..)))).count();
    let replayed = outcomes.iter().filter(|o| matches!(o, Ok(CodeUse::Replayed(..)))).count();
    assert_eq!((fresh, replayed), (1, 7), "{outcomes:?}");
}

fn refresh(family: &TokenFamily, hash: &str, now: Timestamp) -> RefreshToken {
    RefreshToken {
        token_hash: hash.into(),
        family_id: family.id,
        created_at: now,
        expires_at: now + Duration::days(30),
    }
}

pub async fn refresh_tokens_rotate_and_reuse_is_seen(store: &dyn Store) {
    let family = family(store).await;
    store.create_auth_code(family.clone(), code(&family, "c")).await.unwrap();
    let now = time::now();
    let first = refresh(&family, "r1", now);
    store.insert_refresh_token(first.clone()).await.unwrap();

    let outcome = store.rotate_refresh_token("r1", "r2", now + Duration::days(30), now).await.unwrap();
    assert_eq!(outcome, RefreshUse::Rotated(first.clone(), family.clone()));
    let outcome = store.rotate_refresh_token("r2", "r3", now + Duration::days(30), now).await.unwrap();
    assert!(matches!(outcome, RefreshUse::Rotated(ref t, _) if t.token_hash == "r2"));

    // r1 again: superseded (when, is told), and nothing new is stored.
    let later = now + Duration::seconds(5);
    let outcome = store.rotate_refresh_token("r1", "r4", now + Duration::days(30), later).await.unwrap();
    assert_eq!(outcome, RefreshUse::Superseded { token: first, family: family.clone(), rotated_at: now });
    assert!(store.live_refresh_token("r1", later).await.unwrap().is_none(), "a rotated token is not live");
    assert!(store.live_refresh_token("r2", later).await.unwrap().is_none(), "nor its rotated successor");
    let (current, of) = store.live_refresh_token("r3", later).await.unwrap().expect("the last one is live");
    assert_eq!((current.token_hash.as_str(), current.family_id), ("r3", family.id));
    assert_eq!(of, family, "with its family");
    assert!(store.live_refresh_token("r3", now + Duration::days(31)).await.unwrap().is_none(), "expired");
    assert_eq!(
        store.rotate_refresh_token("r4", "r5", now + Duration::days(30), now).await.unwrap(),
        RefreshUse::Unknown
    );

    // Once the family is revoked, even the current token counts as reused.
    store.revoke_token_family(family.id).await.unwrap();
    assert!(store.live_refresh_token("r3", later).await.unwrap().is_none(), "revoked");
    assert!(matches!(
        store.rotate_refresh_token("r3", "r6", now + Duration::days(30), now).await.unwrap(),
        RefreshUse::Reused(..)
    ));
    assert_eq!(
        store.rotate_refresh_token("nope", "r7", now + Duration::days(30), now).await.unwrap(),
        RefreshUse::Unknown
    );
}

pub async fn expired_refresh_tokens_do_not_rotate(store: &dyn Store) {
    let family = family(store).await;
    store.create_auth_code(family.clone(), code(&family, "c2")).await.unwrap();
    let past = time::now() - Duration::days(31);
    store.insert_refresh_token(refresh(&family, "old", past)).await.unwrap();
    let outcome =
        store.rotate_refresh_token("old", "new", time::now() + Duration::days(30), time::now()).await.unwrap();
    assert_eq!(outcome, RefreshUse::Unknown);
}

pub async fn revoked_families_are_listed_since_a_time(store: &dyn Store) {
    let a = family(store).await;
    let b = family(store).await;
    store.create_auth_code(a.clone(), code(&a, "ca")).await.unwrap();
    store.create_auth_code(b.clone(), code(&b, "cb")).await.unwrap();
    // Times are the database's: ask it what time it is, not this clock.
    let (none, t0) = store.revoked_token_families(time::now() - Duration::days(1)).await.unwrap();
    assert!(none.is_empty());
    store.revoke_token_family(a.id).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (_, t1) = store.revoked_token_families(t0).await.unwrap();
    assert!(t1 > t0, "the database's clock moves on");
    store.revoke_token_family(b.id).await.unwrap();
    store.revoke_token_family(b.id).await.unwrap();
    let (mut all, _) = store.revoked_token_families(t0 - Duration::seconds(1)).await.unwrap();
    all.sort();
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!(store.revoked_token_families(t1).await.unwrap().0, [b.id], "only what was revoked since");
}

pub async fn sessions_expire_and_end(store: &dyn Store) {
    let family = family(store).await;
    let now = time::now();
    let live = Session {
        id_hash: "live".into(),
        account_id: family.account_id,
        device: Some("Firefox on Linux".into()),
        created_at: now,
        last_used_at: now,
        expires_at: now + Duration::hours(1),
    };
    let dead = Session { id_hash: "dead".into(), expires_at: now - Duration::seconds(1), ..live.clone() };
    store.create_session(live.clone()).await.unwrap();
    store.create_session(dead).await.unwrap();
    assert_eq!(store.session("live", now).await.unwrap(), Some(live));
    assert_eq!(store.session("dead", now).await.unwrap(), None, "expired");
    store.delete_session("live").await.unwrap();
    assert_eq!(store.session("live", now).await.unwrap(), None, "signed out");
}

pub async fn expired_sign_ins_are_purged_in_batches(store: &dyn Store) {
    let now = time::now();
    let long_ago = now - Duration::days(40);
    // A family long over: its code and refresh tokens expired.
    let over = TokenFamily { created_at: long_ago, ..family(store).await };
    let old_code = AuthCode { expires_at: long_ago + Duration::seconds(60), ..code(&over, "old-code") };
    store.create_auth_code(over.clone(), old_code).await.unwrap();
    for n in 0..5 {
        store.insert_refresh_token(refresh(&over, &format!("old-{n}"), long_ago)).await.unwrap();
    }
    // A family in use: its current refresh token is live.
    let live = family(store).await;
    store.create_auth_code(live.clone(), code(&live, "live-code")).await.unwrap();
    store.insert_refresh_token(refresh(&live, "live", now)).await.unwrap();
    for (id, expires_at) in
        [("gone-1", now - Duration::seconds(1)), ("gone-2", long_ago), ("here", now + Duration::hours(1))]
    {
        let session = Session {
            id_hash: id.into(),
            account_id: live.account_id,
            device: None,
            created_at: long_ago,
            last_used_at: long_ago,
            expires_at,
        };
        store.create_session(session).await.unwrap();
    }

    let account = store.account_by_id(live.account_id).await.unwrap().unwrap();
    for (hash, expires_at) in [("old-link", now - Duration::seconds(1)), ("live-link", now + Duration::hours(1))] {
        let link = AccountLink {
            token_hash: hash.into(),
            account_id: account.id,
            purpose: LinkPurpose::ResetPassword,
            email: account.email.clone(),
            created_at: long_ago,
            expires_at,
        };
        store.create_account_link(link).await.unwrap();
    }

    // Batches of two: every expired row goes, over several statements.
    let purged = store.purge_expired_sign_ins(now, now - Duration::days(1), 2).await.unwrap();
    assert_eq!(purged, 1 + 2 + 1 + 5 + 1, "a link, two sessions, one code, five refresh tokens, one family");
    assert_eq!(store.account_link("old-link", LinkPurpose::ResetPassword, now).await.unwrap(), LinkUse::Unknown);
    assert!(matches!(
        store.account_link("live-link", LinkPurpose::ResetPassword, now).await.unwrap(),
        LinkUse::Fresh(_)
    ));
    assert_eq!(store.purge_expired_sign_ins(now, now - Duration::days(1), 2).await.unwrap(), 0, "nothing left");
    assert!(store.session("here", now).await.unwrap().is_some());
    assert!(matches!(
        store.rotate_refresh_token("live", "live-2", now + Duration::days(30), now).await.unwrap(),
        RefreshUse::Rotated(..)
    ));
    // The live family's code expires in a minute: once it has, the family
    // stays while its refresh token does.
    let later = now + Duration::minutes(5);
    assert_eq!(store.purge_expired_sign_ins(later, later, 100).await.unwrap(), 1, "the spent code");
    assert!(matches!(
        store.rotate_refresh_token("live-2", "live-3", now + Duration::days(30), later).await.unwrap(),
        RefreshUse::Rotated(..)
    ));
}
