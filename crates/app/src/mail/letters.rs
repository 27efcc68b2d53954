//! The letters the server sends: each a plain-text body and the same in
//! HTML (escaped by the template).

use maud::{DOCTYPE, Markup, html};

use super::Letter;

fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) } }
            body style="font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;max-width:36rem;margin:1.5rem auto;padding:0 1rem" {
                (body)
            }
        }
    }
    .into_string()
}

fn button(link: &str, label: &str) -> Markup {
    html! {
        p { a href=(link) style="display:inline-block;padding:.6rem 1rem;background:#1a5fb4;color:#fff;border-radius:6px;text-decoration:none;font-weight:600" { (label) } }
        p style="color:#555;font-size:14px" { "Or open this address: " br; (link) }
    }
}

fn greeting(name: &str) -> String {
    match name.trim() {
        "" => "Hello,".to_owned(),
        name => format!("Hello {name},"),
    }
}

pub fn verify_email(to: &str, name: &str, link: &str, hours: u64) -> Letter {
    let subject = "Confirm your email address".to_owned();
    let text = format!(
        "{}\n\nConfirm that {to} is your email address by opening this link:\n\n{link}\n\n\
         The link works once, for {hours} hours. If you did not create an account, ignore this mail.\n",
        greeting(name)
    );
    let html = page(
        &subject,
        html! {
            p { (greeting(name)) }
            p { "Confirm that " strong { (to) } " is your email address." }
            (button(link, "Confirm my email address"))
            p { "The link works once, for " (hours) " hours. If you did not create an account, ignore this mail." }
        },
    );
    Letter { to: to.to_owned(), subject, text, html }
}

pub fn change_email(to: &str, name: &str, link: &str, hours: u64) -> Letter {
    let subject = "Confirm your new email address".to_owned();
    let text = format!(
        "{}\n\nTo make {to} your account's email address, open this link:\n\n{link}\n\n\
         The link works once, for {hours} hours. Until then your address stays as it was. \
         If you did not ask for this, ignore this mail.\n",
        greeting(name)
    );
    let html = page(
        &subject,
        html! {
            p { (greeting(name)) }
            p { "To make " strong { (to) } " your account's email address, press the button." }
            (button(link, "Use this email address"))
            p { "The link works once, for " (hours) " hours. Until then your address stays as it was. "
                "If you did not ask for this, ignore this mail." }
        },
    );
    Letter { to: to.to_owned(), subject, text, html }
}

pub fn reset_password(to: &str, name: &str, link: &str, minutes: u64) -> Letter {
    let subject = "Reset your password".to_owned();
    let text = format!(
        "{}\n\nSomeone (we hope you) asked to reset the password of the account of {to}. Choose a new one here:\n\n{link}\n\n\
         The link works once, for {minutes} minutes, and signs the account out everywhere. \
         If you did not ask, ignore this mail: your password stays as it is.\n",
        greeting(name)
    );
    let html = page(
        &subject,
        html! {
            p { (greeting(name)) }
            p { "Someone (we hope you) asked to reset the password of the account of " strong { (to) } "." }
            (button(link, "Choose a new password"))
            p { "The link works once, for " (minutes) " minutes, and signs the account out everywhere. "
                "If you did not ask, ignore this mail: your password stays as it is." }
        },
    );
    Letter { to: to.to_owned(), subject, text, html }
}

pub fn invite(to: &str, team: &str, inviter: &str, link: &str) -> Letter {
    let subject = format!("You are invited to join {team}");
    let text = format!(
        "Hello,\n\n{inviter} invites you to join the team {team}. Accept here:\n\n{link}\n\n\
         Sign in (or create an account) first if the page asks you to. If you do not know {inviter}, ignore this mail.\n"
    );
    let html = page(
        &subject,
        html! {
            p { "Hello," }
            p { strong { (inviter) } " invites you to join the team " strong { (team) } "." }
            (button(link, "Accept the invite"))
            p { "Sign in (or create an account) first if the page asks you to. If you do not know " (inviter) ", ignore this mail." }
        },
    );
    Letter { to: to.to_owned(), subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_links_are_escaped_in_html_and_whole_in_text() {
        let letter = verify_email("a@b.co", "<b>Ada</b>", "https://x.io/auth/verify-email?token=a&b", 24);
        assert!(letter.html.contains("&lt;b&gt;Ada&lt;/b&gt;") && !letter.html.contains("<b>Ada"));
        assert!(letter.html.contains("href=\"https://x.io/auth/verify-email?token=a&amp;b\""));
        assert!(letter.text.contains("https://x.io/auth/verify-email?token=a&b\n"));
        assert!(letter.text.starts_with("Hello <b>Ada</b>,") && letter.text.contains("24 hours"));
    }

    #[test]
    fn a_nameless_account_is_greeted_plainly() {
        let letter = reset_password("a@b.co", "  ", "https://x.io/r", 60);
        assert!(letter.text.starts_with("Hello,\n") && letter.text.contains("60 minutes"));
        assert_eq!(letter.subject, "Reset your password");
    }
}
