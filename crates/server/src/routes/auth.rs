//! The `auth` tag: OAuth 2.0 authorization and token endpoints, user info,
//! discovery and keys.

use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, PRAGMA};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use basic_admin_core::did;
use basic_admin_core::oauth::{self, KNOWN_SCOPES, Scopes};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::caller::AuthError;
use crate::auth::{Caller, session};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::openapi::{ErrorBody, ServiceStatus};
use crate::rate_limit::{Group, limited};
use crate::state::AppState;
use basic_admin_app::auth::oauth_provider::{self, AuthorizeError, AuthorizeParams, TokenRequest, TokenResponse};

// The legacy route is deprecated for clients, not for us.
#[allow(deprecated)]
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(authorize))
        // A code exchange signs tokens: limited per client address.
        .merge(limited(Group::Auth, OpenApiRouter::new().routes(routes!(token))))
        .routes(routes!(userinfo))
        .routes(routes!(userinfo_legacy))
        .routes(routes!(session_state))
        .routes(routes!(openid_configuration))
        .routes(routes!(jwks))
}

/// Health check endpoint for auth service
#[utoipa::path(get, path = "/auth", tag = "auth", responses((status = 200, description = "The auth service is up", body = ServiceStatus)))]
async fn health() -> Json<ServiceStatus> {
    Json(ServiceStatus::ok())
}

pub fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(LOCATION, location.to_owned())]).into_response()
}

/// OAuth 2.0 authorization endpoint
///
/// Checks the request, then sends the browser to the sign-in page (or, when
/// it is signed in already, to the consent page). An unknown client or an
/// unregistered redirect URI is answered here with 400; other errors go back
/// to the redirect URI as `error=…&state=…`.
#[utoipa::path(
    get,
    path = "/auth/authorize",
    tag = "auth",
    params(AuthorizeParams),
    responses(
        (status = 302, description = "To the sign-in or consent page, or back to the client with an error"),
        (status = 400, description = "Unknown client or unregistered redirect URI", body = ErrorBody),
    )
)]
async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    match oauth_provider::check(&state.app, &params).await {
        Ok(_) => {
            let signed_in = session::account(&state, &headers).await.ok().flatten().is_some();
            let page = if signed_in { "/auth/consent" } else { "/auth/login" };
            found(&format!("{page}?{}", query.unwrap_or_default()))
        }
        Err(AuthorizeError::Here(error)) => ApiError::from(error).into_response(),
        Err(AuthorizeError::Redirect(url)) => found(&url),
    }
}

/// A body sent as JSON or as an HTML form (`application/x-www-form-urlencoded`).
pub struct JsonOrForm<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonOrForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            let axum::Form(value) = axum::Form::<T>::from_request(req, state).await.map_err(|e| {
                ApiError::bad_request("invalid_request", format!("The form could not be read: {}", e.body_text()))
            })?;
            Ok(Self(value))
        } else {
            let Json(value) = Json::<T>::from_request(req, state).await?;
            Ok(Self(value))
        }
    }
}

/// OAuth 2.0 token endpoint
///
/// `grant_type=authorization_code` (with `code`, `redirect_uri`, `client_id`
/// and, for PKCE, `code_verifier`) or `grant_type=refresh_token` (the token in
/// `refresh_token` or in `code`). Refresh tokens rotate on every use.
#[utoipa::path(
    post,
    path = "/auth/token",
    tag = "auth",
    request_body(content(
        (TokenRequest = "application/json"),
        (TokenRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, invalid_client or unsupported_grant_type", body = ErrorBody),
    )
)]
async fn token(State(state): State<AppState>, JsonOrForm(request): JsonOrForm<TokenRequest>) -> Response {
    let no_store = [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")];
    match oauth_provider::token(&state.app, request).await {
        Ok(tokens) => (no_store, Json(tokens)).into_response(),
        Err(error) => (no_store, ApiError::from(error)).into_response(),
    }
}

/// The signed-in account, as far as the token's consent goes: `email`
/// with the `email` scope, `name` and `username` with `profile` (the CLI
/// sees all of its own account).
#[derive(Serialize, ToSchema)]
struct UserInfo {
    /// The account's DID.
    sub: String,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    email: Option<String>,
    /// Whether the email has been proven to reach the account (not yet possible here)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    username: Option<String>,
}

/// Get user information from access token
#[utoipa::path(
    get,
    path = "/auth/userinfo",
    tag = "auth",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The signed-in account", body = UserInfo),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
async fn userinfo(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<UserInfo>> {
    let signed_in = caller.account()?;
    let (account_id, claims) = (signed_in.account_id, &signed_in.claims);
    let shown = oauth::Disclosure::of(&claims.client_id, &Scopes::parse(&claims.scope).unwrap_or_default());
    let account = state
        .app
        .store
        .account_by_id(account_id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", "The account no longer exists."))?;
    let email_verified = shown.email.then(|| account.email_verified());
    Ok(Json(UserInfo {
        sub: account.did(&did::web_host(&state.config.public_url)),
        id: account.id.to_string(),
        name: shown.profile.then_some(account.name),
        email_verified,
        email: shown.email.then_some(account.email),
        username: account.username.filter(|_| shown.profile),
    }))
}

/// User information, under its older spelling
///
/// Answers as `/auth/userinfo` does, rather than redirecting: the app SDK's
/// 0.5.0 calls this spelling from the browser, where a redirect across the
/// CORS boundary loses its bearer token.
#[utoipa::path(
    get,
    path = "/auth/userInfo",
    tag = "auth",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The signed-in account", body = UserInfo),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
#[deprecated(note = "use GET /auth/userinfo")]
async fn userinfo_legacy(state: State<AppState>, caller: Caller) -> ApiResult<Json<UserInfo>> {
    userinfo(state, caller).await
}

/// The state of a sign-in, as the app SDK checks it.
#[derive(Serialize, ToSchema)]
struct SessionState {
    /// Always `true`: a sign-in that is not active is answered 401.
    active: bool,
    /// Space-separated.
    scope: String,
    client_id: String,
    account_did: String,
    /// When the access token expires (RFC 3339).
    expires_at: String,
}

/// Whether the bearer's sign-in is still active
///
/// A revoked sign-in or an expired token is answered 401 with
/// `reauth_required: true`: refreshing cannot help, the user must sign in
/// again (an expired access token may still be refreshed first).
#[utoipa::path(
    get,
    path = "/auth/session",
    tag = "auth",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The sign-in is active", body = SessionState),
        (status = 401, description = "`invalid_token`, with `reauth_required: true`", body = ErrorBody),
        (status = 403, description = "An API key has no sign-in", body = ErrorBody),
    )
)]
async fn session_state(caller: Result<Caller, AuthError>) -> ApiResult<Json<SessionState>> {
    let caller = caller.map_err(|AuthError(e)| match e.status {
        StatusCode::UNAUTHORIZED => {
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", e.message).with("reauth_required", true)
        }
        _ => e,
    })?;
    let claims = &caller.account()?.claims;
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default();
    Ok(Json(SessionState {
        active: true,
        scope: claims.scope.clone(),
        client_id: claims.client_id.clone(),
        account_did: claims.sub.clone(),
        expires_at: basic_admin_core::time::format(&expires_at),
    }))
}

/// The OpenID Connect discovery document (also served at `/.well-known/openid-configuration`).
pub fn discovery(state: &AppState) -> Value {
    let base = &state.config.public_url;
    json!({
        "issuer": state.app.keys.issuer(),
        "authorization_endpoint": format!("{base}/auth/authorize"),
        "token_endpoint": format!("{base}/auth/token"),
        "userinfo_endpoint": format!("{base}/auth/userinfo"),
        "jwks_uri": format!("{base}/auth/.well-known/jwks.json"),
        "scopes_supported": KNOWN_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified", "name", "preferred_username"],
    })
}

#[derive(Serialize, ToSchema)]
struct OpenIdConfiguration {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    scopes_supported: Vec<String>,
    response_types_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    subject_types_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
}

/// OpenID Connect Discovery Document
#[utoipa::path(
    get,
    path = "/auth/.well-known/openid-configuration",
    tag = "auth",
    responses((status = 200, description = "How to sign in with this server", body = OpenIdConfiguration))
)]
async fn openid_configuration(State(state): State<AppState>) -> impl IntoResponse {
    ([(CACHE_CONTROL, "public, max-age=3600")], Json(discovery(&state)))
}

#[derive(Serialize, ToSchema)]
struct Jwk {
    kty: String,
    #[serde(rename = "use")]
    use_: String,
    alg: String,
    kid: String,
    n: String,
    e: String,
}

#[derive(Serialize, ToSchema)]
struct Jwks {
    keys: Vec<Jwk>,
}

/// JSON Web Key Set
///
/// The public keys that verify this server's tokens, including recently
/// rotated ones whose tokens may still be valid.
#[utoipa::path(
    get,
    path = "/auth/.well-known/jwks.json",
    tag = "auth",
    responses((status = 200, description = "The signing keys", body = Jwks))
)]
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    ([(CACHE_CONTROL, "public, max-age=300")], Json(state.app.keys.jwks().await))
}
