//! Two-factor sign-in with an authenticator app (TOTP, RFC 6238: SHA-1, six
//! digits, 30-second steps, one step of drift either way) and ten single-use
//! recovery codes. The secret is sealed with the master key; each code works
//! once (the last accepted step is kept); recovery codes are kept as hashes.
//! Wrong codes are throttled per account.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use basic_admin_core::model::Account;
use basic_admin_core::store::StoreError;
use basic_admin_core::time::{self, Timestamp};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use totp_rs::{Builder, Secret, Totp};
use uuid::Uuid;

use crate::Context;
use crate::crypto::{seal, token_hash};

pub const RECOVERY_CODES: usize = 10;
/// Wrong codes for one account before it must wait [`WINDOW`].
pub const MAX_WRONG_CODES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long after the password the code may be given.
pub const PENDING_TTL: Duration = Duration::from_secs(5 * 60);
const STEP: u64 = 30;

fn seal_purpose(account: Uuid) -> String {
    format!("totp:{account}")
}

#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    #[error("That code is not right. Codes change every 30 seconds; a code works once.")]
    WrongCode,
    #[error("Too many wrong codes. Try again in {} minute(s).", .0.as_secs().div_ceil(60))]
    Throttled(Duration),
    #[error("Two-factor sign-in is on already: turn it off first to set up another authenticator.")]
    AlreadyOn,
    #[error("Start the set-up again: it was not started, or it was finished.")]
    NotStarted,
    /// A fault of ours (a secret that does not open, a QR code not drawn).
    #[error("two-factor sign-in failed on our side: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a person needs to add the account to an authenticator app.
pub struct Enrolment {
    /// The secret in base32, to type in by hand.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The QR code as an SVG drawing.
    pub qr_svg: String,
}

fn totp(secret: Vec<u8>) -> Totp {
    Builder::new().with_secret(secret).build().expect("a 160-bit secret and the RFC's defaults are valid")
}

fn now_secs() -> u64 {
    u64::try_from(time::now().timestamp()).unwrap_or_default()
}

/// Whether signing in to this account asks for a code.
pub async fn is_on(ctx: &Context, account: &Account) -> Result<bool, StoreError> {
    Ok(ctx.store.totp(account.id).await?.is_some_and(|t| t.confirmed_at.is_some()))
}

/// Starts setting up an authenticator: a new secret, not yet in force.
pub async fn begin(ctx: &Context, account: &Account, issuer: &str) -> Result<Enrolment, TwoFactorError> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    let sealed = seal::seal(&ctx.master_key, &seal_purpose(account.id), &secret);
    if !ctx.store.begin_totp(account.id, &sealed, time::now()).await? {
        return Err(TwoFactorError::AlreadyOn);
    }
    enrolment(secret, account, issuer)
}

/// The set-up begun and not finished, to show again (after a wrong code).
pub async fn unfinished(ctx: &Context, account: &Account, issuer: &str) -> Result<Enrolment, TwoFactorError> {
    match ctx.store.totp(account.id).await? {
        Some(stored) if stored.confirmed_at.is_none() => {
            let secret = seal::open(&ctx.master_key, &seal_purpose(account.id), &stored.sealed_secret)
                .map_err(|e| TwoFactorError::Internal(e.to_string()))?;
            enrolment(secret, account, issuer)
        }
        Some(_) => Err(TwoFactorError::AlreadyOn),
        None => Err(TwoFactorError::NotStarted),
    }
}

fn enrolment(secret: Vec<u8>, account: &Account, issuer: &str) -> Result<Enrolment, TwoFactorError> {
    let base32 = Secret::from(secret).to_base32();
    let label =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20");
    let uri = format!(
        "otpauth://totp/{}:{}?secret={base32}&issuer={}&algorithm=SHA1&digits=6&period={STEP}",
        label(issuer),
        label(&account.email),
        label(issuer)
    );
    let qr_svg = qrcode::QrCode::new(uri.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build())
        .map_err(|e| TwoFactorError::Internal(e.to_string()))?;
    Ok(Enrolment { secret: base32, uri, qr_svg })
}

/// The step a code is right for, if it is right now.
async fn step_of(ctx: &Context, account: &Account, code: &str, confirmed: bool) -> Result<Option<i64>, TwoFactorError> {
    let Some(stored) = ctx.store.totp(account.id).await? else {
        return Ok(None);
    };
    if stored.confirmed_at.is_some() != confirmed {
        return Ok(None);
    }
    let secret = seal::open(&ctx.master_key, &seal_purpose(account.id), &stored.sealed_secret)
        .map_err(|e| TwoFactorError::Internal(e.to_string()))?;
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    Ok(totp(secret).check(&code, now_secs()).and_then(|step| i64::try_from(step).ok()))
}

fn counted(ctx: &Context, account: &Account) -> Result<(), TwoFactorError> {
    ctx.two_factor_throttle.on_failure(&[(account.id, MAX_WRONG_CODES)]).map_err(TwoFactorError::Throttled)
}

fn refused_now(ctx: &Context, account: &Account) -> Result<(), TwoFactorError> {
    match ctx.two_factor_throttle.refused(&[(account.id, MAX_WRONG_CODES)]) {
        Some(wait) => Err(TwoFactorError::Throttled(wait)),
        None => Ok(()),
    }
}

/// Finishes the set-up with a first code from the app: two-factor sign-in
/// is on, and the recovery codes (shown this once) are returned.
pub async fn confirm(ctx: &Context, account: &Account, code: &str) -> Result<Vec<String>, TwoFactorError> {
    refused_now(ctx, account)?;
    if ctx.store.totp(account.id).await?.is_none_or(|t| t.confirmed_at.is_some()) {
        return Err(TwoFactorError::NotStarted);
    }
    let Some(step) = step_of(ctx, account, code, false).await? else {
        counted(ctx, account)?;
        return Err(TwoFactorError::WrongCode);
    };
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| token_hash(&normal(c))).collect();
    if !ctx.store.confirm_totp(account.id, step, &hashes, time::now()).await? {
        return Err(TwoFactorError::NotStarted);
    }
    Ok(codes)
}

/// `xxxxx-xxxxx` in lower-case base32: 50 random bits.
fn recovery_code() -> String {
    let mut bytes = [0u8; 7];
    rand::rng().fill_bytes(&mut bytes);
    let text = Secret::from(bytes.to_vec()).to_base32().to_lowercase();
    format!("{}-{}", &text[..5], &text[5..10])
}

/// A recovery code as typed: case, spaces and dashes do not matter.
fn normal(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// How a second factor was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Code,
    /// A recovery code, now spent; how many are left.
    RecoveryCode {
        left: u64,
    },
}

/// Checks the second factor at sign-in: a code from the app, or a
/// recovery code.
pub async fn check(ctx: &Context, account: &Account, given: &str) -> Result<Proof, TwoFactorError> {
    refused_now(ctx, account)?;
    let digits = given.chars().filter(|c| !c.is_whitespace()).all(|c| c.is_ascii_digit());
    if digits {
        if let Some(step) = step_of(ctx, account, given, true).await?
            && ctx.store.use_totp_step(account.id, step).await?
        {
            ctx.two_factor_throttle.clear(&account.id);
            return Ok(Proof::Code);
        }
    } else if ctx.store.use_recovery_code(account.id, &token_hash(&normal(given)), time::now()).await? {
        ctx.two_factor_throttle.clear(&account.id);
        return Ok(Proof::RecoveryCode { left: ctx.store.recovery_codes_left(account.id).await? });
    }
    counted(ctx, account)?;
    Err(TwoFactorError::WrongCode)
}

/// Turns two-factor sign-in off, given a code (or recovery code).
pub async fn turn_off(ctx: &Context, account: &Account, given: &str) -> Result<(), TwoFactorError> {
    check(ctx, account, given).await?;
    Ok(ctx.store.remove_totp(account.id).await?)
}

/// A password was right and a code is still owed: who, and until when.
/// Carried by the browser, sealed with the master key.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Pending {
    pub account_id: Uuid,
    pub until: Timestamp,
}

const PENDING_PURPOSE: &str = "second-factor-pending";

pub fn pending(ctx: &Context, account: &Account) -> String {
    let until = time::now() + chrono::Duration::from_std(PENDING_TTL).expect("minutes");
    let json = serde_json::to_vec(&Pending { account_id: account.id, until }).expect("serialisable");
    URL_SAFE_NO_PAD.encode(seal::seal(&ctx.master_key, PENDING_PURPOSE, &json))
}

/// The account a pending sign-in is for, if the token is ours and fresh.
pub fn pending_account(ctx: &Context, token: &str) -> Option<Uuid> {
    let sealed = URL_SAFE_NO_PAD.decode(token).ok()?;
    let json = seal::open(&ctx.master_key, PENDING_PURPOSE, &sealed).ok()?;
    let pending: Pending = serde_json::from_slice(&json).ok()?;
    (pending.until > time::now()).then_some(pending.account_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Fixture;

    fn code_now(enrolment: &Enrolment, offset_steps: i64) -> String {
        let secret = Secret::try_from_base32(&enrolment.secret).unwrap();
        let at = now_secs().saturating_add_signed(offset_steps * STEP as i64);
        totp(secret.to_vec()).generate(at).to_string()
    }

    #[tokio::test]
    async fn enrolment_confirms_with_a_code_and_then_each_code_and_recovery_code_works_once() {
        let f = Fixture::new().await;
        let account = f.account("two@example.com").await;
        assert!(!is_on(&f.ctx, &account).await.unwrap());
        let enrolment = begin(&f.ctx, &account, "Basic <test>").await.unwrap();
        assert!(enrolment.uri.starts_with("otpauth://totp/Basic%20%3Ctest%3E:two%40example.com?secret="));
        assert!(enrolment.qr_svg.contains("<svg") && !enrolment.qr_svg.contains("<script"));
        assert!(matches!(confirm(&f.ctx, &account, "000000x").await, Err(TwoFactorError::WrongCode)));
        assert_eq!(unfinished(&f.ctx, &account, "Basic <test>").await.unwrap().secret, enrolment.secret);
        let codes = confirm(&f.ctx, &account, &code_now(&enrolment, 0)).await.unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(is_on(&f.ctx, &account).await.unwrap());
        assert!(matches!(begin(&f.ctx, &account, "Basic").await, Err(TwoFactorError::AlreadyOn)));

        // The confirming code is spent; the next step's code works once.
        assert!(matches!(check(&f.ctx, &account, &code_now(&enrolment, 0)).await, Err(TwoFactorError::WrongCode)));
        assert_eq!(check(&f.ctx, &account, &code_now(&enrolment, 1)).await.unwrap(), Proof::Code);
        assert!(matches!(check(&f.ctx, &account, &code_now(&enrolment, 1)).await, Err(TwoFactorError::WrongCode)));
        let typed = codes[3].to_uppercase().replace('-', " ");
        assert_eq!(check(&f.ctx, &account, &typed).await.unwrap(), Proof::RecoveryCode { left: 9 });
        assert!(matches!(check(&f.ctx, &account, &codes[3]).await, Err(TwoFactorError::WrongCode)));
    }

    #[tokio::test]
    async fn wrong_codes_are_throttled_per_account() {
        let f = Fixture::new().await;
        let account = f.account("guess@example.com").await;
        let enrolment = begin(&f.ctx, &account, "Basic").await.unwrap();
        confirm(&f.ctx, &account, &code_now(&enrolment, 0)).await.unwrap();
        for _ in 0..MAX_WRONG_CODES {
            assert!(matches!(check(&f.ctx, &account, "123456").await, Err(TwoFactorError::WrongCode)));
        }
        let right = code_now(&enrolment, 1);
        assert!(matches!(check(&f.ctx, &account, &right).await, Err(TwoFactorError::Throttled(_))));
    }

    #[tokio::test]
    async fn a_pending_sign_in_is_ours_and_short_lived() {
        let f = Fixture::new().await;
        let account = f.account("pending@example.com").await;
        let token = pending(&f.ctx, &account);
        assert_eq!(pending_account(&f.ctx, &token), Some(account.id));
        assert_eq!(pending_account(&f.ctx, "garbage"), None);
        let mut tampered = URL_SAFE_NO_PAD.decode(&token).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(pending_account(&f.ctx, &URL_SAFE_NO_PAD.encode(tampered)), None);
    }
}
