//! The web console's sign-in. The console is a first-party client of this
//! server's own OAuth provider: it runs the authorization-code flow with
//! PKCE like any app, and keeps the sign-in it gets on the server. The
//! browser holds only an opaque handle (the sign-in's refresh token, which
//! the console never rotates); the server holds its state (account, scope,
//! expiry, revocation) as it does for every sign-in, so the account page
//! lists the console and "sign out everywhere" ends it.

use basic_admin_core::model::Account;
use basic_admin_core::oauth::{self, CONSOLE_CALLBACK_PATH, CONSOLE_CLIENT_ID, CONSOLE_SCOPE};
use basic_admin_core::time;
use secrecy::ExposeSecret as _;

use super::oauth_provider::{self, TokenRequest};
use crate::Context;
use crate::caller::{AccountCaller, Caller};
use crate::crypto::{constant_time_eq, derived_token, random_token, token_hash};
use crate::error::{AppError, AppResult};

/// A sign-in under way: where to send the browser, and what it must bring
/// back (kept in a short-lived cookie of the console's own).
pub struct Started {
    pub authorize_url: String,
    pub pending: String,
}

/// How long a browser may take between "sign in" and the way back.
pub const PENDING_TTL_SECS: u64 = 600;

fn redirect_uri(ctx: &Context) -> String {
    format!("{}{CONSOLE_CALLBACK_PATH}", ctx.settings.public_url.trim_end_matches('/'))
}

/// Starts signing in: a fresh `state` and PKCE verifier, and the
/// authorization request that carries the state and the verifier's challenge.
pub fn start(ctx: &Context) -> Started {
    let (state, verifier) = (random_token(), random_token());
    let query = [
        ("client_id", CONSOLE_CLIENT_ID),
        ("redirect_uri", &redirect_uri(ctx)),
        ("response_type", "code"),
        ("scope", CONSOLE_SCOPE),
        ("state", &state),
        ("code_challenge", &oauth::pkce_challenge(&verifier)),
        ("code_challenge_method", "S256"),
    ];
    Started {
        authorize_url: oauth_provider::with_query("/auth/authorize", &query),
        pending: format!("{state}.{verifier}"),
    }
}

/// A finished sign-in: the handle for the browser, and how long it lives.
pub struct SignedIn {
    pub handle: String,
    pub lifetime_secs: u64,
}

/// Finishes signing in with the code the provider sent back, if `state`
/// is the one this browser started with.
pub async fn finish(ctx: &Context, pending: Option<&str>, code: &str, state: &str) -> AppResult<SignedIn> {
    let refused = || AppError::invalid("sign_in_expired", "This sign-in was not started here, or took too long.");
    let (expected, verifier) = pending.and_then(|p| p.split_once('.')).ok_or_else(refused)?;
    if !constant_time_eq(expected.as_bytes(), state.as_bytes()) {
        return Err(refused());
    }
    let tokens = oauth_provider::token(
        ctx,
        TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(code.to_owned()),
            redirect_uri: Some(redirect_uri(ctx)),
            client_id: Some(CONSOLE_CLIENT_ID.into()),
            code_verifier: Some(verifier.to_owned()),
            refresh_token: None,
        },
    )
    .await?;
    Ok(SignedIn { handle: tokens.refresh_token, lifetime_secs: ctx.settings.refresh_token_ttl.as_secs() })
}

/// Who a console handle signs in, while its sign-in is live: the caller
/// the use-cases take (with the sign-in's scopes) and the account.
pub async fn caller(ctx: &Context, handle: &str) -> AppResult<Option<(Caller, Account)>> {
    let now = time::now();
    let Some((_, family)) = ctx.store.live_refresh_token(&token_hash(handle), now).await? else {
        return Ok(None);
    };
    if family.client_id != CONSOLE_CLIENT_ID || ctx.revocations.contains(family.id) {
        return Ok(None);
    }
    let Some(account) = ctx.store.account_by_id(family.account_id).await? else {
        return Ok(None);
    };
    let claims = oauth_provider::access_claims(ctx, &family, &account, now);
    Ok(Some((Caller::Account(AccountCaller { account_id: account.id, claims }), account)))
}

/// Signs out: the sign-in behind the handle is revoked.
pub async fn end(ctx: &Context, handle: &str) -> AppResult<()> {
    if let Some((_, family)) = ctx.store.live_refresh_token(&token_hash(handle), time::now()).await?
        && family.client_id == CONSOLE_CLIENT_ID
    {
        oauth_provider::revoke(ctx, family.id).await?;
    }
    Ok(())
}

/// The token every console form carries: bound to the sign-in's handle, so
/// that another site, which cannot read the page, cannot forge a form.
pub fn form_token(ctx: &Context, handle: &str) -> String {
    derived_token(ctx.master_key.expose_secret(), "console form", handle)
}

pub fn form_token_ok(ctx: &Context, handle: &str, presented: &str) -> bool {
    constant_time_eq(form_token(ctx, handle).as_bytes(), presented.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oauth_provider::AuthorizeParams;
    use crate::testing::Fixture;

    /// The code the provider sends back for `started`, as `account`.
    async fn code_for(ctx: &Context, started: &Started, account: &Account) -> String {
        let query = started.authorize_url.split_once('?').unwrap().1;
        let params: AuthorizeParams = serde_urlencoded::from_str(query).unwrap();
        let request = oauth_provider::check(ctx, &params).await.unwrap_or_else(|_| panic!("a valid request"));
        assert!(request.client.is_trusted() && request.scopes.contains(oauth::ADMIN));
        let back = oauth_provider::grant(ctx, account, &request).await.unwrap();
        let back = url::Url::parse(&back).unwrap();
        assert_eq!(back.path(), CONSOLE_CALLBACK_PATH);
        back.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned()
    }

    #[tokio::test]
    async fn signing_in_gives_a_developer_caller_until_signing_out() {
        let f = Fixture::new().await;
        let account = f.account("dev@example.com").await;
        let started = start(&f.ctx);
        let code = code_for(&f.ctx, &started, &account).await;
        let state = started.pending.split_once('.').unwrap().0;
        let signed_in = finish(&f.ctx, Some(&started.pending), &code, state).await.unwrap();

        let (signed, who) = caller(&f.ctx, &signed_in.handle).await.unwrap().expect("signed in");
        assert_eq!(who.id, account.id);
        assert!(signed.developer().is_ok(), "the console acts with the admin scope");
        let live = f.ctx.store.live_sign_ins_of(account.id, time::now()).await.unwrap();
        assert_eq!(live.len(), 1, "the account page lists the console");
        assert_eq!(signed.account().unwrap().claims.sid, live[0].family.id);

        end(&f.ctx, &signed_in.handle).await.unwrap();
        assert!(caller(&f.ctx, &signed_in.handle).await.unwrap().is_none(), "signed out");
        assert!(caller(&f.ctx, "refresh_unknown").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_sign_in_needs_the_state_and_verifier_it_started_with() {
        let f = Fixture::new().await;
        let account = f.account("dev@example.com").await;
        let started = start(&f.ctx);
        let state = started.pending.split_once('.').unwrap().0.to_owned();
        let code = code_for(&f.ctx, &started, &account).await;
        let other = start(&f.ctx).pending;
        let other_state = other.split_once('.').unwrap().0.to_owned();
        for (pending, state) in [(None, state.as_str()), (Some(started.pending.as_str()), "other")] {
            let refused = finish(&f.ctx, pending, &code, state).await.err().unwrap();
            assert!(matches!(refused, AppError::Invalid { code: "sign_in_expired", .. }), "{refused:?}");
        }
        // Another browser's pending sign-in has the wrong verifier for this code.
        let refused = finish(&f.ctx, Some(&other), &code, &other_state).await.err().unwrap();
        assert!(matches!(refused, AppError::Invalid { code: "invalid_grant", .. }), "{refused:?}");
    }

    #[tokio::test]
    async fn form_tokens_belong_to_one_handle() {
        let f = Fixture::new().await;
        let token = form_token(&f.ctx, "h1");
        assert!(form_token_ok(&f.ctx, "h1", &token));
        assert!(!form_token_ok(&f.ctx, "h2", &token) && !form_token_ok(&f.ctx, "h1", ""));
    }
}
