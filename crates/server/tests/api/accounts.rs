//! A person's own account: confirming the email address, resetting a
//! forgotten password and the account page, with real letters from a test
//! SMTP server.

use basic_admin_app::crypto::token_hash;
use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};
use basic_admin_core::store::{AccountLink, LinkPurpose};
use basic_admin_core::time;
use serde_json::{Value, json};

use crate::flows::{self, Browser, Page, authorize_query, consent_redirect, token_form};
use crate::harness::{TestApp, on_both_backends};
use crate::mailbox::{Mailbox, mail, refusing_mail};

on_both_backends!(with mail;
    signing_up_mails_a_link_that_confirms_the_address,
    forgot_password_mails_a_link_that_sets_a_new_password_and_ends_every_sign_in,
    the_account_page_signs_in_and_mails_a_new_confirmation_link,
    letters_to_one_address_are_throttled,
    forms_without_their_csrf_token_are_refused,
    dead_links_say_why,
    an_invite_to_an_email_is_mailed_and_accepted_from_its_letter,
    an_address_changes_only_through_a_link_to_the_new_one,
    a_letter_waiting_for_a_retry_holds_up_no_other,
);
on_both_backends!(with refusing_mail; mail_the_smtp_server_refuses_is_counted_and_nothing_breaks);
on_both_backends!(
    without_mail_the_pages_say_so,
    the_account_page_lists_every_sign_in_and_ends_them,
    two_factor_sign_in_asks_for_a_code_or_a_recovery_code_once,
    wrong_codes_are_throttled,
    without_mail_an_address_changes_at_once_unconfirmed,
    a_confirmed_address_accepts_its_invite_without_the_token,
);
on_both_backends!(with admin_two_factor; developer_access_can_require_two_factor);

async fn sign_up<'a>(app: &'a TestApp, email: &str) -> (Browser<'a>, Value) {
    let mut browser = Browser::new(app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile admin", &[]);
    let redirect = consent_redirect(&mut browser, &query, email, false).await;
    let tokens = flows::cli_tokens(app, &flows::query_param(&redirect, "code").unwrap()).await;
    (browser, tokens)
}

async fn userinfo(app: &TestApp, tokens: &Value) -> (u16, Value) {
    app.call(tokens["access_token"].as_str().unwrap(), "GET", "/auth/userinfo", None).await
}

/// Opens a link's page and submits its one form.
async fn follow(browser: &mut Browser<'_>, link: &str, action: &str, extra: &[(&str, &str)]) -> Page {
    let page = browser.get(link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let (csrf, token) = (page.hidden("csrf"), page.hidden("token"));
    let mut form = vec![("csrf", csrf.as_str()), ("token", token.as_str())];
    form.extend_from_slice(extra);
    browser.post(action, &form).await
}

async fn signing_up_mails_a_link_that_confirms_the_address(app: TestApp) {
    let (mut browser, tokens) = sign_up(&app, "ada@example.com").await;
    let (_, before) = userinfo(&app, &tokens).await;
    assert_eq!(before["email_verified"], false);

    let letter = Mailbox::of(&app).nth_to("ada@example.com", 1).await;
    assert_eq!(letter.subject, "Confirm your email address");
    assert!(letter.from.contains("no-reply@basic.test"), "{}", letter.from);
    assert!(letter.message_id.starts_with('<') && letter.message_id.ends_with('>'), "{}", letter.message_id);
    assert!(letter.text.contains("Hello Test User,") && letter.html.contains("Hello Test User,"));
    let link = letter.link(&app.state.config.public_url, "/auth/verify-email?token=");

    // Opening the link proves nothing by itself (mail scanners open links).
    let page = browser.get(&link).await;
    assert!(page.body.contains("Confirm my email address"));
    let (_, still) = userinfo(&app, &tokens).await;
    assert_eq!(still["email_verified"], false);

    let done = follow(&mut browser, &link, "/auth/verify-email", &[]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("ada@example.com is confirmed as your email address."), "{}", done.body);
    let (_, after) = userinfo(&app, &tokens).await;
    assert_eq!(after["email_verified"], true);

    // The next sign-in's id token says so too.
    let mut again = Browser::new(&app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "openid profile admin", &[("nonce", "n")]);
    let redirect = consent_redirect(&mut again, &query, "ada@example.com", true).await;
    let tokens = flows::cli_tokens(&app, &flows::query_param(&redirect, "code").unwrap()).await;
    let id_token = tokens["id_token"].as_str().expect("an id token");
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["email_verified"], true, "{claims}");

    let reused = follow(&mut browser, &link, "/auth/verify-email", &[]).await;
    assert_eq!(reused.status, 400);
    assert!(reused.body.contains("This link has been used already."), "{}", reused.body);
}

async fn forgot_password_mails_a_link_that_sets_a_new_password_and_ends_every_sign_in(app: TestApp) {
    let (mut signed_in, tokens) = sign_up(&app, "grace@example.com").await;
    let mailbox = Mailbox::of(&app);
    mailbox.nth_to("grace@example.com", 1).await; // the confirmation

    let mut browser = Browser::new(&app);
    let form = browser.get("/auth/forgot-password").await;
    assert_eq!(form.status, 200);
    let csrf = form.hidden("csrf");
    let known = browser.post("/auth/forgot-password", &[("csrf", &csrf), ("email", "GRACE@example.com")]).await;
    let unknown = browser.post("/auth/forgot-password", &[("csrf", &csrf), ("email", "nobody@example.com")]).await;
    assert_eq!((known.status, unknown.status), (200, 200));
    let said = "If an account has this address, a link to choose a new password is on its way to it.";
    assert!(known.body.contains(said) && unknown.body.contains(said), "the same answer either way");
    assert_eq!(known.body.replace("GRACE@example.com", "X"), unknown.body.replace("nobody@example.com", "X"));

    let letter = mailbox.nth_to("grace@example.com", 2).await;
    assert_eq!(letter.subject, "Reset your password");
    assert!(letter.text.contains("60 minutes"));
    let link = letter.link(&app.state.config.public_url, "/auth/reset-password?token=");
    let short = follow(&mut browser, &link, "/auth/reset-password", &[("password", "short")]).await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("at least 8"), "{}", short.body);
    let done = follow(&mut browser, &link, "/auth/reset-password", &[("password", "a brand new password")]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("signed out everywhere"));
    assert!(mailbox.to("nobody@example.com").is_empty(), "no letter to an address without an account");

    // Every earlier sign-in is over: the browser session, the refresh token, the access token.
    let page = signed_in.get("/auth/account").await;
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/auth/login")));
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) =
        token_form(&app, &[("grant_type", "refresh_token"), ("client_id", CLI_CLIENT_ID), ("refresh_token", refresh)])
            .await;
    assert_eq!(status, 400, "the refresh token is revoked");
    assert_eq!(userinfo(&app, &tokens).await.0, 401, "the access token is refused at once on this node");

    // The new password signs in; the old one does not; the link is spent.
    let login = |password: &'static str| {
        let app = &app;
        async move {
            let mut b = Browser::new(app);
            let csrf = b.get("/auth/login").await.hidden("csrf");
            let form =
                [("csrf", csrf.as_str()), ("request", ""), ("email", "grace@example.com"), ("password", password)];
            b.post("/auth/login", &form).await.status
        }
    };
    assert_eq!(login(flows::PASSWORD).await, 401);
    assert_eq!(login("a brand new password").await, 303);
    let again = browser.get(&link).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("This link has been used already."));
    let user = app.state.app.store.account_by_email("grace@example.com").await.unwrap().unwrap();
    assert!(user.email_verified(), "the reset link reached the address");
}

async fn the_account_page_signs_in_and_mails_a_new_confirmation_link(app: TestApp) {
    sign_up(&app, "linus@example.com").await;
    let mailbox = Mailbox::of(&app);
    mailbox.nth_to("linus@example.com", 1).await;

    let mut browser = Browser::new(&app);
    let away = browser.get("/auth/account").await;
    assert_eq!((away.status, away.location.as_deref()), (303, Some("/auth/login")));
    let login = browser.get("/auth/login").await;
    assert!(login.body.contains("to your account") && login.body.contains("Forgot your password?"));
    let csrf = login.hidden("csrf");
    let form =
        [("csrf", csrf.as_str()), ("request", ""), ("email", "linus@example.com"), ("password", flows::PASSWORD)];
    let signed_in = browser.post("/auth/login", &form).await;
    assert_eq!((signed_in.status, signed_in.location.as_deref()), (303, Some("/auth/account")));

    let page = browser.get("/auth/account").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("linus@example.com") && page.body.contains("(not confirmed)"), "{}", page.body);
    let sent = browser.post("/auth/account/verify-email", &[("csrf", &page.hidden("csrf"))]).await;
    assert_eq!((sent.status, sent.location.as_deref()), (303, Some("/auth/account?done=verification-sent")));
    let told = browser.get("/auth/account?done=verification-sent").await;
    assert!(told.body.contains("A confirmation link is on its way"));

    let letter = mailbox.nth_to("linus@example.com", 2).await;
    let link = letter.link(&app.state.config.public_url, "/auth/verify-email?token=");
    let done = follow(&mut browser, &link, "/auth/verify-email", &[]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let page = browser.get("/auth/account").await;
    assert!(page.body.contains("(confirmed)") && !page.body.contains("Mail me a confirmation link"));
}

async fn letters_to_one_address_are_throttled(app: TestApp) {
    let mut browser = Browser::new(&app);
    let csrf = browser.get("/auth/forgot-password").await.hidden("csrf");
    for _ in 0..basic_admin_app::auth::account_links::MAILS_PER_ADDRESS_PER_HOUR {
        let page = browser.post("/auth/forgot-password", &[("csrf", &csrf), ("email", "many@example.com")]).await;
        assert_eq!(page.status, 200);
    }
    let response = browser
        .app
        .post("/auth/forgot-password")
        .header("cookie", format!("ba_csrf={csrf}"))
        .form(&[("csrf", csrf.as_str()), ("email", "Many@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let body = response.text().await.unwrap();
    assert!(body.contains("Too many mails to this address. Try again in"), "{body}");
    let other = browser.post("/auth/forgot-password", &[("csrf", &csrf), ("email", "other@example.com")]).await;
    assert_eq!(other.status, 200, "other addresses are not held up");
}

async fn forms_without_their_csrf_token_are_refused(app: TestApp) {
    let (mut browser, _) = sign_up(&app, "csrf@example.com").await;
    let letter = Mailbox::of(&app).nth_to("csrf@example.com", 1).await;
    let link = letter.link(&app.state.config.public_url, "/auth/verify-email?token=");
    let token = flows::query_param(&link, "token").unwrap();
    // A two-factor set-up under way, so that its confirming form is shown again.
    let csrf = browser.get("/auth/account").await.hidden("csrf");
    assert_eq!(browser.post("/auth/account/two-factor", &[("csrf", &csrf)]).await.status, 303);
    let password = [("password", flows::PASSWORD)];
    for (path, extra) in [
        ("/auth/verify-email", vec![("token", token.as_str())]),
        ("/auth/change-email", vec![("token", token.as_str())]),
        ("/auth/forgot-password", vec![("email", "csrf@example.com")]),
        ("/auth/reset-password", vec![("token", "whatever"), ("password", "a long password")]),
        ("/auth/account/verify-email", vec![]),
        ("/auth/account/profile", vec![("name", "Changed"), ("username", "changed")]),
        ("/auth/account/email", vec![("email", "changed@example.com"), password[0]]),
        ("/auth/account/password", vec![("current", flows::PASSWORD), ("password", "a changed password")]),
        ("/auth/account/sessions/end", vec![("session", "x")]),
        ("/auth/account/sign-ins/end", vec![("sign_in", "x")]),
        ("/auth/account/sign-out-everywhere", vec![]),
        ("/auth/account/two-factor", vec![]),
        ("/auth/account/two-factor/confirm", vec![("code", "123456")]),
        ("/auth/account/two-factor/off", vec![("code", "123456")]),
    ] {
        for csrf in ["", "forged"] {
            let mut form = vec![("csrf", csrf)];
            form.extend(extra.iter().copied());
            let page = browser.post(path, &form).await;
            assert_eq!(page.status, 400, "{path}: {}", page.body);
            assert!(page.body.contains("This form has expired"), "{path}: {}", page.body);
        }
    }
    let user = app.state.app.store.account_by_email("csrf@example.com").await.unwrap().unwrap();
    assert!(!user.email_verified(), "nothing was done");
    assert_eq!((user.name.as_str(), user.username), ("Test User", None));
    assert!(app.state.app.store.totp(user.id).await.unwrap().is_some_and(|t| t.confirmed_at.is_none()));

    // Without a session, the account's forms send the browser to sign in and do nothing.
    let mut stranger = Browser::new(&app);
    let csrf = stranger.get("/auth/login").await.hidden("csrf");
    for path in ["/auth/account", "/auth/account/two-factor"] {
        assert_eq!(stranger.get(path).await.location.as_deref(), Some("/auth/login"), "{path}");
    }
    for path in ["/auth/account/profile", "/auth/account/sign-out-everywhere", "/auth/account/two-factor"] {
        let page = stranger.post(path, &[("csrf", csrf.as_str()), ("name", "x"), ("username", "")]).await;
        assert_eq!((page.status, page.location.as_deref()), (303, Some("/auth/login")), "{path}");
    }
}

async fn dead_links_say_why(app: TestApp) {
    let (mut browser, _) = sign_up(&app, "late@example.com").await;
    let account = app.state.app.store.account_by_email("late@example.com").await.unwrap().unwrap();
    let now = time::now();
    for (token, purpose) in [("old-verify", LinkPurpose::VerifyEmail), ("old-reset", LinkPurpose::ResetPassword)] {
        let link = AccountLink {
            token_hash: token_hash(token),
            account_id: account.id,
            purpose,
            email: account.email.clone(),
            created_at: now - chrono::Duration::days(2),
            expires_at: now - chrono::Duration::seconds(1),
        };
        app.state.app.store.create_account_link(link).await.unwrap();
    }
    let expired = follow(&mut browser, "/auth/verify-email?token=old-verify", "/auth/verify-email", &[]).await;
    assert_eq!(expired.status, 400);
    assert!(expired.body.contains("This link has expired."), "{}", expired.body);
    let expired = browser.get("/auth/reset-password?token=old-reset").await;
    assert_eq!(expired.status, 400);
    assert!(expired.body.contains("This link has expired.") && expired.body.contains("Ask for a new link"));
    for path in ["/auth/reset-password?token=made-up", "/auth/reset-password", "/auth/reset-password?token=old-verify"]
    {
        let wrong = browser.get(path).await;
        assert_eq!(wrong.status, 400, "{path}");
        assert!(wrong.body.contains("This link is not valid."), "{path}: {}", wrong.body);
    }
    let wrong = follow(&mut browser, "/auth/verify-email?token=made-up", "/auth/verify-email", &[]).await;
    assert!(wrong.body.contains("This link is not valid."), "{}", wrong.body);
}

async fn mail_the_smtp_server_refuses_is_counted_and_nothing_breaks(app: TestApp) {
    let (_, tokens) = sign_up(&app, "refused@example.com").await;
    assert_eq!(userinfo(&app, &tokens).await.0, 200, "signing up does not wait for mail");
    let mut counted = String::new();
    for _ in 0..100 {
        let metrics = app.get("/metrics").send().await.unwrap().text().await.unwrap();
        if metrics.contains("mail_failed_attempts_total 1") {
            counted = metrics;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(counted.contains("mail_sent_total 0"), "a refused letter is counted: {counted}");
    assert!(Mailbox::of(&app).to("refused@example.com").is_empty());
}

async fn without_mail_the_pages_say_so(app: TestApp) {
    let (mut browser, _) = sign_up(&app, "quiet@example.com").await;
    let forgot = browser.get("/auth/forgot-password").await;
    assert!(forgot.body.contains("This server does not send mail"), "{}", forgot.body);
    assert!(forgot.body.contains("basic-admin account reset-link"));
    let page = browser.get("/auth/account").await;
    assert!(page.body.contains("(not confirmed)") && page.body.contains("basic-admin account verify-email"));
    let csrf = page.hidden("csrf");
    let sent = browser.post("/auth/account/verify-email", &[("csrf", &csrf)]).await;
    assert_eq!(sent.status, 503);
    assert!(sent.body.contains("Mail is not set up on this server."), "{}", sent.body);
    let metrics = app.get("/metrics").send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("mail_sent_total"), "no mail figures without mail");
}

/// Signs up on the pages alone (no app asking): the browser is signed in.
async fn page_sign_up<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let csrf = browser.get("/auth/signup").await.hidden("csrf");
    let form =
        [("csrf", csrf.as_str()), ("request", ""), ("email", email), ("password", flows::PASSWORD), ("name", "")];
    let done = browser.post("/auth/signup", &form).await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/auth/account")), "{}", done.body);
    browser
}

async fn an_invite_to_an_email_is_mailed_and_accepted_from_its_letter(app: TestApp) {
    let (_, owner) = sign_up(&app, "owner@example.com").await;
    let owner = owner["access_token"].as_str().unwrap();
    let (status, team) = app.call(owner, "POST", "/team", Some(json!({"name": "Crew <1>", "slug": "crew"}))).await;
    assert_eq!(status, 201, "{team}");
    let team_id = team["data"]["id"].as_str().unwrap().to_owned();
    let invite = json!({"email": "bea@example.com", "roles": "member"});
    let (status, invited) = app.call(owner, "POST", &format!("/team/{team_id}/invite"), Some(invite)).await;
    assert_eq!(status, 201, "{invited}");

    let letter = Mailbox::of(&app).nth_to("bea@example.com", 1).await;
    assert_eq!(letter.subject, "You are invited to join Crew <1>");
    assert!(letter.text.contains("Test User invites you") && letter.html.contains("Crew &lt;1&gt;"));
    let link = letter.link(&app.state.config.public_url, "/auth/invite/");

    let mut bea = Browser::new(&app);
    let anonymous = bea.get(&link).await;
    assert_eq!(anonymous.status, 200);
    assert!(anonymous.body.contains("as member") && anonymous.body.contains("Sign in first"), "{}", anonymous.body);

    // Someone else signed in cannot take it, even with the page.
    let mut cy = page_sign_up(&app, "cy@example.com").await;
    let page = cy.get(&link).await;
    let taken = cy.post(&link, &[("csrf", &page.hidden("csrf")), ("token", "not-the-token")]).await;
    assert_eq!(taken.status, 404, "{}", taken.body);
    assert!(taken.body.contains("not for this account"));

    let mut bea = page_sign_up(&app, "bea@example.com").await;
    let page = bea.get(&link).await;
    assert!(page.body.contains("Join as bea@example.com"), "{}", page.body);
    let forged = bea.post(&link, &[("csrf", "forged"), ("token", &page.hidden("token"))]).await;
    assert_eq!(forged.status, 400);
    assert!(forged.body.contains("This form has expired"));
    let joined = bea.post(&link, &[("csrf", &page.hidden("csrf")), ("token", &page.hidden("token"))]).await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert!(joined.body.contains("You are now a member of Crew &lt;1&gt;."), "{}", joined.body);
    let (_, members) = app.call(owner, "GET", &format!("/team/{team_id}/member"), None).await;
    let bea_id = app.state.app.store.account_by_email("bea@example.com").await.unwrap().unwrap().id.to_string();
    assert!(members["data"].as_array().unwrap().iter().any(|m| m["account_id"] == bea_id.as_str()), "{members}");
    let again = bea.get(&link).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("accepted already"));
    let missing = bea.get(&format!("/auth/invite/{}?token=x", uuid::Uuid::new_v4())).await;
    assert_eq!(missing.status, 404);
}

/// Signs in on the pages alone: the browser lands on the account page.
async fn page_sign_in<'a>(app: &'a TestApp, email: &str, password: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let csrf = browser.get("/auth/login").await.hidden("csrf");
    let form = [("csrf", csrf.as_str()), ("request", ""), ("email", email), ("password", password)];
    let done = browser.post("/auth/login", &form).await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/auth/account")), "{}", done.body);
    browser
}

async fn the_account_page_lists_every_sign_in_and_ends_them(app: TestApp) {
    let email = "many@example.com";
    let (mut first, tokens) = sign_up(&app, email).await;
    let mut here = page_sign_in(&app, email, flows::PASSWORD).await;
    let page = here.get("/auth/account").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("Unknown browser").count(), 2, "{}", page.body);
    assert!(page.body.contains("(this browser)") && page.body.contains("Sign out of The basic command line"));

    // Refused without the form's token, and for what is not the account's.
    let csrf = page.hidden("csrf");
    for path in [
        "/auth/account/sessions/end",
        "/auth/account/sign-ins/end",
        "/auth/account/sign-out-everywhere",
        "/auth/account/password",
    ] {
        let fields = [("csrf", "forged"), ("session", "x"), ("sign_in", "x"), ("current", "x"), ("password", "x")];
        let refused = here.post(path, &fields).await;
        assert_eq!(refused.status, 400, "{path}");
        assert!(refused.body.contains("This form has expired"), "{path}");
    }
    let foreign = here.post("/auth/account/sessions/end", &[("csrf", &csrf), ("session", "someone-elses")]).await;
    assert_eq!(foreign.status, 404);
    for sign_in in ["not-an-id", "00000000-0000-0000-0000-000000000000"] {
        let none = here.post("/auth/account/sign-ins/end", &[("csrf", &csrf), ("sign_in", sign_in)]).await;
        assert_eq!(none.status, 404, "{sign_in}");
        assert!(none.body.contains("That sign-in is over already."));
    }

    // Ending the other browser's session signs it out there only.
    let other = page.hidden("session");
    let ended = here.post("/auth/account/sessions/end", &[("csrf", &csrf), ("session", &other)]).await;
    assert_eq!((ended.status, ended.location.as_deref()), (303, Some("/auth/account?done=signed-out")));
    assert_eq!(first.get("/auth/account").await.status, 303, "signed out there");
    assert_eq!(here.get("/auth/account").await.status, 200, "still signed in here");

    // Ending the CLI's sign-in revokes its tokens.
    let sign_in = page.hidden("sign_in");
    let ended = here.post("/auth/account/sign-ins/end", &[("csrf", &csrf), ("sign_in", &sign_in)]).await;
    assert_eq!(ended.status, 303);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) =
        token_form(&app, &[("grant_type", "refresh_token"), ("client_id", CLI_CLIENT_ID), ("refresh_token", refresh)])
            .await;
    assert_eq!(status, 400);
    assert_eq!(userinfo(&app, &tokens).await.0, 401, "revoked at once on this node");

    // A new password needs the current one, and signs out everywhere else:
    // browsers, and the CLI's access token at once.
    let mut elsewhere = page_sign_in(&app, email, flows::PASSWORD).await;
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile admin", &[]);
    let redirect = consent_redirect(&mut Browser::new(&app), &query, email, true).await;
    let cli = flows::cli_tokens(&app, &flows::query_param(&redirect, "code").unwrap()).await;
    assert_eq!(userinfo(&app, &cli).await.0, 200);
    let wrong = here
        .post("/auth/account/password", &[("csrf", &csrf), ("current", "not it"), ("password", "the next password")])
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("The current password is wrong."));
    let changed = here
        .post(
            "/auth/account/password",
            &[("csrf", &csrf), ("current", flows::PASSWORD), ("password", "the next password")],
        )
        .await;
    assert_eq!((changed.status, changed.location.as_deref()), (303, Some("/auth/account?done=password-changed")));
    assert_eq!(elsewhere.get("/auth/account").await.status, 303, "signed out elsewhere");
    assert_eq!(userinfo(&app, &cli).await.0, 401, "the CLI's token is refused at once");
    let page = here.get("/auth/account?done=password-changed").await;
    assert!(page.body.contains("Your password is changed"), "still signed in here");
    let mut later = page_sign_in(&app, email, "the next password").await;

    // A signed-in browser goes straight to consent.
    let redirect = consent_redirect(&mut later, &query, email, true).await;
    let cli = flows::cli_tokens(&app, &flows::query_param(&redirect, "code").unwrap()).await;
    let everywhere = here.post("/auth/account/sign-out-everywhere", &[("csrf", &csrf)]).await;
    assert_eq!(userinfo(&app, &cli).await.0, 401, "the CLI's token is refused at once");
    assert_eq!(everywhere.location.as_deref(), Some("/auth/account?done=signed-out-elsewhere"));
    assert_eq!(later.get("/auth/account").await.status, 303);
    assert_eq!(here.get("/auth/account").await.status, 200);
}

/// The code an authenticator app with this base32 key shows `steps` steps from now.
pub fn authenticator_code(key: &str, steps: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(key).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret.to_vec()).build().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    totp.generate(now.saturating_add_signed(steps * 30)).to_string()
}

pub fn between<'a>(text: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    text.split(start).skip(1).filter_map(|rest| rest.split(end).next()).collect()
}

/// Password, then the code page: what the code page answers to `code`.
async fn sign_in_with_code(app: &TestApp, email: &str, password: &str, code: &str) -> Page {
    let mut browser = Browser::new(app);
    let csrf = browser.get("/auth/login").await.hidden("csrf");
    let form = [("csrf", csrf.as_str()), ("request", ""), ("email", email), ("password", password)];
    let asked = browser.post("/auth/login", &form).await;
    assert_eq!((asked.status, asked.location.as_deref()), (303, Some("/auth/login/code?")), "{}", asked.body);
    assert!(!browser.has_cookie("ba_session"), "no session before the code");
    let page = browser.get("/auth/login/code?").await;
    assert_eq!(page.status, 200);
    let answer =
        browser.post("/auth/login/code", &[("csrf", &page.hidden("csrf")), ("request", ""), ("code", code)]).await;
    if answer.status == 303 {
        assert!(browser.has_cookie("ba_session") && !browser.has_cookie("ba_2fa"));
    }
    answer
}

async fn two_factor_sign_in_asks_for_a_code_or_a_recovery_code_once(app: TestApp) {
    let email = "totp@example.com";
    let mut browser = page_sign_up(&app, email).await;
    let page = browser.get("/auth/account").await;
    assert!(page.body.contains("Off: a password alone signs you in."));
    let started = browser.post("/auth/account/two-factor", &[("csrf", &page.hidden("csrf"))]).await;
    assert_eq!((started.status, started.location.as_deref()), (303, Some("/auth/account/two-factor")));
    let setup = browser.get("/auth/account/two-factor").await;
    assert_eq!(setup.status, 200);
    assert!(setup.body.contains("<svg") && !setup.body.contains("<img"), "a QR code drawn by the server");
    let key = between(&setup.body, "<code class=\"secret\">", "</code>")[0].to_owned();
    let csrf = setup.hidden("csrf");

    let wrong = browser.post("/auth/account/two-factor/confirm", &[("csrf", &csrf), ("code", "000000")]).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("That code is not right.") && wrong.body.contains(&key), "the same key again");
    let on = browser
        .post("/auth/account/two-factor/confirm", &[("csrf", &csrf), ("code", &authenticator_code(&key, 0))])
        .await;
    assert_eq!(on.status, 200, "{}", on.body);
    let recovery: Vec<String> = between(&on.body, "<li><code>", "</code>").into_iter().map(str::to_owned).collect();
    assert_eq!(recovery.len(), 10, "{}", on.body);
    assert!(browser.get("/auth/account").await.body.contains("10 recovery codes left"));
    let account = app.state.app.store.account_by_email(email).await.unwrap().unwrap();
    let stored = app.state.app.store.totp(account.id).await.unwrap().unwrap();
    let raw = totp_rs::Secret::try_from_base32(&key).unwrap().to_vec();
    assert!(!stored.sealed_secret.windows(raw.len()).any(|w| w == raw.as_slice()), "the secret is sealed");

    // The password alone no longer signs in; a wrong code, then the right one.
    let wrong = sign_in_with_code(&app, email, flows::PASSWORD, "123456").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("That code is not right."));
    let next = authenticator_code(&key, 1);
    let signed_in = sign_in_with_code(&app, email, flows::PASSWORD, &next).await;
    assert_eq!((signed_in.status, signed_in.location.as_deref()), (303, Some("/auth/account")));
    let replayed = sign_in_with_code(&app, email, flows::PASSWORD, &next).await;
    assert_eq!(replayed.status, 401, "a code works once");

    // A recovery code, typed loosely, works once.
    let typed = recovery[0].to_uppercase().replace('-', " ");
    assert_eq!(sign_in_with_code(&app, email, flows::PASSWORD, &typed).await.status, 303);
    let again = sign_in_with_code(&app, email, flows::PASSWORD, &recovery[0]).await;
    assert_eq!(again.status, 401);
    assert!(again.body.contains("That code is not right."));

    // A forged form on the code page changes nothing.
    let mut forger = Browser::new(&app);
    let csrf = forger.get("/auth/login").await.hidden("csrf");
    let form = [("csrf", csrf.as_str()), ("request", ""), ("email", email), ("password", flows::PASSWORD)];
    assert_eq!(forger.post("/auth/login", &form).await.status, 303);
    let forged = forger.post("/auth/login/code", &[("csrf", "forged"), ("request", ""), ("code", &recovery[2])]).await;
    assert_eq!(forged.status, 400);
    assert!(forged.body.contains("This form has expired") && !forger.has_cookie("ba_session"));

    // The code page without a password given just now sends back to sign in.
    let mut stranger = Browser::new(&app);
    assert_eq!(stranger.get("/auth/login/code?").await.location.as_deref(), Some("/auth/login?"));
    let csrf = stranger.get("/auth/login").await.hidden("csrf");
    let forged = [("csrf", csrf.as_str()), ("request", ""), ("code", "123456")];
    let late = stranger.post("/auth/login/code", &forged).await;
    assert_eq!(late.status, 401);
    assert!(late.body.contains("sign in with your password again"));

    // Turning it off takes a code; then the password alone signs in again.
    let page = browser.get("/auth/account").await;
    assert!(page.body.contains("9 recovery codes left"), "{}", page.body);
    assert_eq!(browser.get("/auth/account/two-factor").await.location.as_deref(), Some("/auth/account"), "on already");
    let wrong =
        browser.post("/auth/account/two-factor/off", &[("csrf", &page.hidden("csrf")), ("code", "000000")]).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("That code is not right.") && wrong.body.contains("9 recovery codes left"));
    let off =
        browser.post("/auth/account/two-factor/off", &[("csrf", &page.hidden("csrf")), ("code", &recovery[1])]).await;
    assert_eq!(off.location.as_deref(), Some("/auth/account?done=two-factor-off"));
    page_sign_in(&app, email, flows::PASSWORD).await;
}

async fn wrong_codes_are_throttled(app: TestApp) {
    let email = "guesser@example.com";
    let mut browser = page_sign_up(&app, email).await;
    let csrf = browser.get("/auth/account").await.hidden("csrf");
    browser.post("/auth/account/two-factor", &[("csrf", &csrf)]).await;
    let setup = browser.get("/auth/account/two-factor").await;
    let key = between(&setup.body, "<code class=\"secret\">", "</code>")[0].to_owned();
    let code = authenticator_code(&key, 0);
    assert_eq!(browser.post("/auth/account/two-factor/confirm", &[("csrf", &csrf), ("code", &code)]).await.status, 200);
    for _ in 0..basic_admin_app::auth::two_factor::MAX_WRONG_CODES {
        assert_eq!(sign_in_with_code(&app, email, flows::PASSWORD, "000000").await.status, 401);
    }
    let locked = sign_in_with_code(&app, email, flows::PASSWORD, &authenticator_code(&key, 1)).await;
    assert_eq!(locked.status, 429);
    assert!(locked.body.contains("Too many wrong codes. Try again in 15 minute(s)."), "{}", locked.body);
}

pub fn admin_two_factor() -> crate::harness::Setup {
    let mut setup = crate::harness::Setup::default();
    setup.flags.require_admin_two_factor = Some("true".into());
    setup
}

async fn developer_access_can_require_two_factor(app: TestApp) {
    let email = "dev2fa@example.com";
    let mut browser = page_sign_up(&app, email).await;
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile admin", &[]);
    let consent = browser.get(&format!("/auth/consent?{query}")).await;
    assert_eq!(consent.status, 200);
    let (csrf, request) = (consent.hidden("csrf"), consent.hidden("request"));
    let allow = [("csrf", csrf.as_str()), ("request", request.as_str()), ("decision", "allow")];
    let refused = browser.post("/auth/consent", &allow).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("two-factor sign-in for developer access"), "{}", refused.body);

    browser.post("/auth/account/two-factor", &[("csrf", &csrf)]).await;
    let setup = browser.get("/auth/account/two-factor").await;
    let key = between(&setup.body, "<code class=\"secret\">", "</code>")[0].to_owned();
    let code = authenticator_code(&key, 0);
    assert_eq!(browser.post("/auth/account/two-factor/confirm", &[("csrf", &csrf), ("code", &code)]).await.status, 200);
    let granted = browser.post("/auth/consent", &allow).await;
    assert_eq!(granted.status, 303);
    assert!(granted.location.unwrap().contains("code="));
}

async fn an_address_changes_only_through_a_link_to_the_new_one(app: TestApp) {
    page_sign_up(&app, "someone-else@example.com").await;
    let mut browser = page_sign_up(&app, "old@example.com").await;
    let page = browser.get("/auth/account").await;
    let csrf = page.hidden("csrf");
    let ask = |email: &'static str, password: &'static str| {
        [("csrf", csrf.clone()), ("email", email.into()), ("password", password.into())]
    };
    let wrong = browser
        .post(
            "/auth/account/email",
            &ask("new@example.com", "not my password").each_ref().map(|(k, v)| (*k, v.as_str())),
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("The current password is wrong."));
    let taken = browser
        .post(
            "/auth/account/email",
            &ask("Someone-Else@example.com", flows::PASSWORD).each_ref().map(|(k, v)| (*k, v.as_str())),
        )
        .await;
    assert_eq!(taken.status, 400);
    assert!(taken.body.contains("Another account has this email address."));
    let asked = browser
        .post("/auth/account/email", &ask("new@example.com", flows::PASSWORD).each_ref().map(|(k, v)| (*k, v.as_str())))
        .await;
    assert_eq!(asked.location.as_deref(), Some("/auth/account?done=email-link-sent"));
    let still = app.state.app.store.account_by_email("old@example.com").await.unwrap();
    assert!(still.is_some(), "nothing changes before the link is used");

    let letter = Mailbox::of(&app).nth_to("new@example.com", 1).await;
    assert_eq!(letter.subject, "Confirm your new email address");
    let link = letter.link(&app.state.config.public_url, "/auth/change-email?token=");
    let done = follow(&mut browser, &link, "/auth/change-email", &[]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("new@example.com is confirmed as your email address."));
    let account = app.state.app.store.account_by_email("new@example.com").await.unwrap().unwrap();
    assert!(account.email_verified());
    assert!(app.state.app.store.account_by_email("old@example.com").await.unwrap().is_none());
    let again = follow(&mut browser, &link, "/auth/change-email", &[]).await;
    assert!(again.body.contains("used already"));

    // The profile: name and username, by the sign-up rules.
    let saved =
        browser.post("/auth/account/profile", &[("csrf", &csrf), ("name", "New Name"), ("username", "newname")]).await;
    assert_eq!(saved.location.as_deref(), Some("/auth/account?done=profile-saved"));
    let page = browser.get("/auth/account?done=profile-saved").await;
    assert!(
        page.body.contains("value=\"New Name\"")
            && page.body.contains("value=\"newname\"")
            && page.body.contains("Saved.")
    );
    let bad = browser
        .post("/auth/account/profile", &[("csrf", &csrf), ("name", "x"), ("username", "no spaces please")])
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

async fn without_mail_an_address_changes_at_once_unconfirmed(app: TestApp) {
    let mut browser = page_sign_up(&app, "plain@example.com").await;
    let csrf = browser.get("/auth/account").await.hidden("csrf");
    let form = [("csrf", csrf.as_str()), ("email", "plainer@example.com"), ("password", flows::PASSWORD)];
    let changed = browser.post("/auth/account/email", &form).await;
    assert_eq!(changed.location.as_deref(), Some("/auth/account?done=email-changed"));
    let page = browser.get("/auth/account?done=email-changed").await;
    assert!(page.body.contains("plainer@example.com") && page.body.contains("it is not confirmed"), "{}", page.body);
}

async fn a_confirmed_address_accepts_its_invite_without_the_token(app: TestApp) {
    let (_, owner) = sign_up(&app, "lead@example.com").await;
    let (_, guest) = sign_up(&app, "guest@example.com").await;
    let (owner, guest) = (owner["access_token"].as_str().unwrap(), guest["access_token"].as_str().unwrap());
    let (_, team) = app.call(owner, "POST", "/team", Some(json!({"name": "Crew", "slug": "crew-x"}))).await;
    let team_id = team["data"]["id"].as_str().unwrap().to_owned();
    let invite = json!({"email": "GUEST@example.com", "roles": "viewer"});
    let (_, invited) = app.call(owner, "POST", &format!("/team/{team_id}/invite"), Some(invite)).await;
    let accept = json!({"invite_id": invited["data"]["id"]});

    let (status, body) = app.call(guest, "POST", "/team/accept-invite", Some(accept.clone())).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invite_token_required")), "{body}");
    let account = app.state.app.store.account_by_email("guest@example.com").await.unwrap().unwrap();
    app.state.app.store.mark_email_verified(account.id, &account.email, time::now()).await.unwrap();
    let (status, body) = app.call(guest, "POST", "/team/accept-invite", Some(accept)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["roles"], "viewer");
}

async fn a_letter_waiting_for_a_retry_holds_up_no_other(app: TestApp) {
    sign_up(&app, "refused-first@example.com").await;
    sign_up(&app, "second@example.com").await;
    // The first is retried in seconds (and again for over a minute); the second comes at once.
    let letter = Mailbox::of(&app).nth_to("second@example.com", 1).await;
    assert_eq!(letter.subject, "Confirm your email address");
    assert!(Mailbox::of(&app).to("refused-first@example.com").is_empty());
}
