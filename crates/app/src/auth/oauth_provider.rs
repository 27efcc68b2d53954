//! The authorization code flow: checking an authorization request, granting
//! a code, and exchanging codes and refresh tokens for tokens.

use std::time::Duration;

use basic_admin_core::did;
use basic_admin_core::model::Account;
use basic_admin_core::oauth::{self, Client, Scopes};
use basic_admin_core::store::{AuthCode, CodeUse, RefreshToken, RefreshUse, TokenFamily};
use basic_admin_core::time::{self, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::claims::{ACCESS_TYP, AccessClaims, ID_TYP, IdClaims};
use crate::Context;
use crate::crypto::{derived_token, random_token, token_hash};
use crate::error::AppError;
use crate::services::users;
use secrecy::ExposeSecret as _;

/// The query of `GET /auth/authorize`, carried unchanged through the pages.
/// Every field is optional here so that a missing one gets a precise error.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeParams {
    /// The CLI's client id, or a project's id (UUID, hex id or client-metadata URL)
    #[param(required = true)]
    pub client_id: Option<String>,
    /// Where to send the browser back; must be registered for the client
    #[param(required = true)]
    pub redirect_uri: Option<String>,
    /// Must be `code`
    #[param(required = true)]
    pub response_type: Option<String>,
    /// Scopes separated by spaces or commas: openid, profile, email, admin (first-party clients only), or the app's own
    #[param(required = true)]
    pub scope: Option<String>,
    /// Returned unchanged with the code
    #[param(required = true)]
    pub state: Option<String>,
    /// PKCE: base64url SHA-256 of the code verifier
    pub code_challenge: Option<String>,
    /// PKCE: only `S256`
    pub code_challenge_method: Option<String>,
    /// Copied into the id token
    pub nonce: Option<String>,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
}

/// Why a request cannot go on: answered here (no trustworthy redirect URI
/// yet), or sent back to the client's redirect URI.
#[derive(Debug)]
pub enum AuthorizeError {
    Here(AppError),
    Redirect(String),
}

fn oauth_error(code: &'static str, message: impl Into<String>) -> AppError {
    let message = message.into();
    AppError::invalid(code, message.clone()).with("error_description", message)
}

/// `uri` with `params` added to its query.
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(params).expect("strings encode");
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{query}")
}

/// The client a `client_id` names: the CLI, or a project by UUID, hex id,
/// client-metadata URL or `did:web` (as the app SDK names it).
pub async fn resolve_client(ctx: &Context, client_id: &str) -> Result<Option<Client>, AppError> {
    match client_id {
        oauth::CLI_CLIENT_ID => return Ok(Some(Client::cli())),
        oauth::CONSOLE_CLIENT_ID => return Ok(Some(Client::console(&ctx.settings.public_url))),
        _ => {}
    }
    let Some(id) = project_client_id(&ctx.settings.public_url, client_id) else {
        return Ok(None);
    };
    let Some(project) = ctx.store.project_by_id(id).await? else {
        return Ok(None);
    };
    let redirect_uris = basic_admin_core::settings::redirect_uris(&project.settings);
    Ok(Some(Client {
        id: project.id.to_string(),
        name: project.name,
        redirect_uris,
        website: project.website,
        first_party: false,
    }))
}

/// The project a client id names, in any of its forms.
fn project_client_id(public_url: &str, client_id: &str) -> Option<Uuid> {
    if let Some(id) = did::project_of_client_did(client_id, public_url) {
        return Some(id);
    }
    let metadata_prefix = format!("{public_url}/projects/");
    let id_text = client_id
        .strip_prefix(&metadata_prefix)
        .and_then(|rest| rest.strip_suffix("/client-metadata.json"))
        .unwrap_or(client_id);
    Uuid::try_parse(id_text).ok()
}

/// The longest `nonce` kept with a code and copied into the id token.
const MAX_NONCE: usize = 256;

pub async fn check(ctx: &Context, p: &AuthorizeParams) -> Result<AuthorizeRequest, AuthorizeError> {
    let here = |code, message: &str| AuthorizeError::Here(oauth_error(code, message));
    let client_id = p.client_id.as_deref().ok_or_else(|| here("invalid_request", "client_id is required."))?;
    let client = resolve_client(ctx, client_id)
        .await
        .map_err(AuthorizeError::Here)?
        .ok_or_else(|| here("invalid_client", "No client has this client_id."))?;
    let redirect_uri = p.redirect_uri.as_deref().ok_or_else(|| here("invalid_request", "redirect_uri is required."))?;
    if !client.allows_redirect(redirect_uri) {
        return Err(here("invalid_redirect_uri", "This redirect_uri is not registered for the client."));
    }
    // From here on the redirect URI is trusted: errors go back to the client.
    let state_param = p.state.clone().unwrap_or_default();
    let back = |code: &str, message: &str| {
        let mut params = vec![("error", code), ("error_description", message)];
        if !state_param.is_empty() {
            params.push(("state", &state_param));
        }
        AuthorizeError::Redirect(with_query(redirect_uri, &params))
    };
    if p.response_type.as_deref() != Some("code") {
        return Err(back("unsupported_response_type", "response_type must be code"));
    }
    if state_param.is_empty() {
        return Err(back("invalid_request", "state is required"));
    }
    let scopes =
        Scopes::parse(p.scope.as_deref().unwrap_or_default()).map_err(|e| back("invalid_scope", &e.to_string()))?;
    client.check_scopes(&scopes).map_err(|e| back("invalid_scope", &e.to_string()))?;
    oauth::check_challenge_method(p.code_challenge_method.as_deref()).map_err(|e| back("invalid_request", e))?;
    if let Some(challenge) = &p.code_challenge
        && !oauth::valid_challenge(challenge)
    {
        return Err(back("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)"));
    }
    if p.code_challenge_method.is_some() && p.code_challenge.is_none() {
        return Err(back("invalid_request", "code_challenge_method without code_challenge"));
    }
    if ctx.settings.require_pkce && p.code_challenge.is_none() {
        return Err(back(
            "invalid_request",
            "this server requires PKCE: send code_challenge with code_challenge_method=S256",
        ));
    }
    if let Some(nonce) = &p.nonce
        && nonce.len() > MAX_NONCE
    {
        return Err(back("invalid_request", "nonce is at most 256 characters"));
    }
    Ok(AuthorizeRequest {
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state: state_param.clone(),
        code_challenge: p.code_challenge.clone(),
        nonce: p.nonce.clone(),
        client,
    })
}

/// Grants a code for `account`: the URL to send the browser to.
pub async fn grant(ctx: &Context, account: &Account, request: &AuthorizeRequest) -> Result<String, AppError> {
    if ctx.settings.require_admin_two_factor
        && request.scopes.contains(oauth::ADMIN)
        && !super::two_factor::is_on(ctx, account).await?
    {
        return Err(AppError::Forbidden {
            code: "two_factor_required",
            message: "This server asks for two-factor sign-in for developer access: turn it on from your account \
                      page first."
                .into(),
        });
    }
    let now = time::now();
    let code = format!("{}{}", oauth::CODE_PREFIX, random_token());
    let family = TokenFamily {
        id: Uuid::new_v4(),
        account_id: account.id,
        client_id: request.client.id.clone(),
        scope: request.scopes.to_claim(),
        created_at: now,
        revoked_at: None,
    };
    let stored = AuthCode {
        code_hash: token_hash(&code),
        family_id: family.id,
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        created_at: now,
        expires_at: now + chrono_duration(ctx.settings.auth_code_ttl),
    };
    ctx.store.create_auth_code(family, stored).await?;
    Ok(with_query(&request.redirect_uri, &[("code", &code), ("state", &request.state)]))
}

/// `denied`: the URL that tells the client the user said no.
pub fn denied(request: &AuthorizeRequest) -> String {
    with_query(
        &request.redirect_uri,
        &[
            ("error", "access_denied"),
            ("error_description", "The user did not allow access."),
            ("state", &request.state),
        ],
    )
}

/// The body of `POST /auth/token`, as JSON or form fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    #[schema(pattern = "^(authorization_code|refresh_token)$")]
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub client_id: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    /// The refresh token again, under the name the app SDK's 0.5.0 reads.
    pub refresh: String,
    /// Space-separated.
    pub scope: String,
    pub id_token: String,
}

/// How much of the standard request a code exchange must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exchange {
    /// `grant_type=authorization_code` with `client_id` and `redirect_uri`.
    Standard,
    /// `{"code": …}` alone, as the app SDK's 0.5.0 sends it: the code names
    /// its client and redirect URI itself (and still needs its PKCE
    /// verifier when it was issued with a challenge).
    Bare,
}

pub async fn token(ctx: &Context, request: TokenRequest) -> Result<TokenResponse, AppError> {
    match request.grant_type.as_deref() {
        Some("authorization_code") => exchange_code(ctx, request, Exchange::Standard).await,
        Some("refresh_token") => refresh(ctx, request).await,
        Some(other) => {
            Err(oauth_error("unsupported_grant_type", format!("The grant type {other:?} is not supported.")))
        }
        None => match request.code.as_deref() {
            Some(code) if code.starts_with(oauth::REFRESH_PREFIX) => refresh(ctx, request).await,
            Some(_) => exchange_code(ctx, request, Exchange::Bare).await,
            None => Err(oauth_error("invalid_request", "grant_type is required.")),
        },
    }
}

/// A new refresh token.
fn new_refresh_token() -> String {
    format!("{}{}", oauth::REFRESH_PREFIX, random_token())
}

/// The successor of a refresh token: derived from it, so that presenting
/// it again within the grace window finds the same one without storing it.
fn successor(ctx: &Context, presented: &str) -> String {
    let derived = derived_token(ctx.master_key.expose_secret(), "refresh token successor", presented);
    format!("{}{derived}", oauth::REFRESH_PREFIX)
}

pub(crate) async fn revoke(ctx: &Context, family: Uuid) -> Result<(), AppError> {
    ctx.store.revoke_token_family(family).await?;
    ctx.revocations.insert(family, time::now());
    Ok(())
}

async fn exchange_code(ctx: &Context, r: TokenRequest, exchange: Exchange) -> Result<TokenResponse, AppError> {
    let code = r.code.as_deref().ok_or_else(|| oauth_error("invalid_request", "code is required."))?;
    if exchange == Exchange::Standard && r.client_id.is_none() {
        return Err(oauth_error("invalid_request", "client_id is required."));
    }
    let now = time::now();
    let (code, family) = match ctx.store.use_auth_code(&token_hash(code), now).await? {
        CodeUse::Fresh(code, family) => (code, family),
        CodeUse::Replayed(_, family) => {
            revoke(ctx, family.id).await?;
            tracing::warn!(family = %family.id, "an authorization code was used twice; its tokens are revoked");
            return Err(oauth_error(
                "invalid_grant",
                "This code was already used; the tokens issued for it are revoked.",
            ));
        }
        CodeUse::Unknown => return Err(oauth_error("invalid_grant", "This code is not valid.")),
    };
    if code.expires_at <= now {
        return Err(oauth_error("invalid_grant", "This code has expired."));
    }
    if let Some(client_id) = r.client_id.as_deref() {
        let client = resolve_client(ctx, client_id).await?;
        if client.is_none_or(|c| c.id != family.client_id) {
            return Err(oauth_error("invalid_grant", "This code was issued to another client."));
        }
    }
    let redirect_ok = match r.redirect_uri.as_deref() {
        Some(uri) => uri == code.redirect_uri,
        None => exchange == Exchange::Bare,
    };
    if !redirect_ok {
        return Err(oauth_error("invalid_grant", "redirect_uri must be the one the code was issued for."));
    }
    match (&code.code_challenge, r.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if oauth::verify_pkce(verifier, challenge) => {}
        (Some(_), Some(_)) => {
            return Err(oauth_error("invalid_grant", "The code_verifier does not match."));
        }
        (Some(_), None) => {
            return Err(oauth_error("invalid_grant", "code_verifier is required for this code."));
        }
        (None, Some(_)) => {
            return Err(oauth_error("invalid_grant", "This code was issued without a code_challenge."));
        }
        (None, None) => {}
    }
    let refresh = new_refresh_token();
    ctx.store
        .insert_refresh_token(RefreshToken {
            token_hash: token_hash(&refresh),
            family_id: family.id,
            created_at: now,
            expires_at: now + chrono_duration(ctx.settings.refresh_token_ttl),
        })
        .await?;
    issue(ctx, &family, code.nonce, refresh, now).await
}

async fn refresh(ctx: &Context, r: TokenRequest) -> Result<TokenResponse, AppError> {
    // The CLI sends the refresh token in `code`.
    let presented = r
        .refresh_token
        .as_deref()
        .or(r.code.as_deref())
        .ok_or_else(|| oauth_error("invalid_request", "refresh_token is required."))?;
    let now = time::now();
    let next = successor(ctx, presented);
    let expires_at = now + chrono_duration(ctx.settings.refresh_token_ttl);
    let family = match ctx
        .store
        .rotate_refresh_token(&token_hash(presented), &token_hash(&next), expires_at, now)
        .await?
    {
        RefreshUse::Rotated(_, family) => family,
        // Another tab or process refreshed with the same token a moment
        // ago: the same successor, while it is still the current one.
        RefreshUse::Superseded { family, rotated_at, .. }
            if now - rotated_at <= chrono_duration(ctx.settings.refresh_grace)
                && ctx.store.live_refresh_token(&token_hash(&next), now).await?.is_some() =>
        {
            family
        }
        RefreshUse::Superseded { family, .. } | RefreshUse::Reused(_, family) => {
            revoke(ctx, family.id).await?;
            tracing::warn!(family = %family.id, "a rotated refresh token was presented again; its sign-in is revoked");
            return Err(oauth_error(
                "invalid_grant",
                "This refresh token was already used; every token of this sign-in is now revoked.",
            ));
        }
        RefreshUse::Unknown => {
            return Err(oauth_error("invalid_grant", "This refresh token is not valid or has expired."));
        }
    };
    if let Some(client_id) = r.client_id.as_deref() {
        let client = resolve_client(ctx, client_id).await?;
        if client.is_none_or(|c| c.id != family.client_id) {
            revoke(ctx, family.id).await?;
            return Err(oauth_error("invalid_grant", "This refresh token was issued to another client."));
        }
    }
    issue(ctx, &family, None, next, now).await
}

async fn issue(
    ctx: &Context,
    family: &TokenFamily,
    nonce: Option<String>,
    refresh_token: String,
    now: Timestamp,
) -> Result<TokenResponse, AppError> {
    let account = ctx
        .store
        .account_by_id(family.account_id)
        .await?
        .ok_or_else(|| oauth_error("invalid_grant", "The account of this grant no longer exists."))?;
    let ttl = ctx.settings.access_token_ttl.as_secs() as i64;
    let access = access_claims(ctx, family, &account, now);
    let (iat, exp) = (access.iat, access.exp);
    let shown = oauth::Disclosure::of(&family.client_id, &Scopes::parse(&family.scope).unwrap_or_default());
    let id = IdClaims {
        iss: ctx.keys.issuer().to_owned(),
        sub: access.sub.clone(),
        aud: family.client_id.clone(),
        exp,
        iat,
        nonce,
        email: shown.email.then(|| account.email.clone()),
        email_verified: shown.email.then(|| account.email_verified()),
        name: shown.profile.then(|| account.name.clone()),
        preferred_username: if shown.profile { account.username.clone() } else { None },
    };
    if let Some(project) = project_client_id(&ctx.settings.public_url, &family.client_id)
        && !oauth::is_first_party(&family.client_id)
    {
        connect_app_user(ctx, project, &access).await;
    }
    Ok(TokenResponse {
        access_token: ctx.keys.sign(ACCESS_TYP, &access).await,
        token_type: "Bearer".into(),
        expires_in: ttl,
        refresh: refresh_token.clone(),
        refresh_token,
        scope: family.scope.clone(),
        id_token: ctx.keys.sign(ID_TYP, &id).await,
    })
}

/// What an access token issued `now` for `family` says.
pub(crate) fn access_claims(ctx: &Context, family: &TokenFamily, account: &Account, now: Timestamp) -> AccessClaims {
    let iat = now.timestamp();
    AccessClaims {
        iss: ctx.keys.issuer().to_owned(),
        sub: account.did(&did::web_host(&ctx.settings.public_url)),
        aud: family.client_id.clone(),
        exp: iat + ctx.settings.access_token_ttl.as_secs() as i64,
        iat,
        jti: random_token(),
        scope: family.scope.clone(),
        client_id: family.client_id.clone(),
        sid: family.id,
    }
}

/// Signing in to a project's app makes the account a user of the project
/// (and counts the day's activity), as `user/connect` does. Should that
/// fail, signing in does not: the app's first data call connects again.
async fn connect_app_user(ctx: &Context, project: Uuid, access: &AccessClaims) {
    if let Err(e) = users::connect_signed_in(ctx, project, access).await {
        tracing::warn!(%project, error = %e, "could not record the app user on sign-in");
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
