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

/// What every letter is made of, written once for both bodies: a greeting,
/// a lead sentence with one part in bold, a button to the link, a footer.
struct Parts<'a> {
    to: &'a str,
    subject: String,
    greeting: String,
    /// Before the bold part, the bold part, after it.
    lead: [&'a str; 3],
    link: &'a str,
    button: &'a str,
    footer: String,
}

fn compose(p: Parts) -> Letter {
    let [before, bold, after] = p.lead;
    let text = format!("{}\n\n{before}{bold}{after}\n\n{}:\n{}\n\n{}\n", p.greeting, p.button, p.link, p.footer);
    let html = page(
        &p.subject,
        html! {
            p { (p.greeting) }
            p { (before) strong { (bold) } (after) }
            (button(p.link, p.button))
            p { (p.footer) }
        },
    );
    Letter { to: p.to.to_owned(), subject: p.subject, text, html }
}

pub fn verify_email(to: &str, name: &str, link: &str, hours: u64) -> Letter {
    compose(Parts {
        to,
        subject: "Confirm your email address".into(),
        greeting: greeting(name),
        lead: ["Confirm that ", to, " is your email address."],
        link,
        button: "Confirm my email address",
        footer: format!("The link works once, for {hours} hours. If you did not create an account, ignore this mail."),
    })
}

pub fn change_email(to: &str, name: &str, link: &str, hours: u64) -> Letter {
    compose(Parts {
        to,
        subject: "Confirm your new email address".into(),
        greeting: greeting(name),
        lead: ["To make ", to, " your account's email address, open the link."],
        link,
        button: "Use this email address",
        footer: format!(
            "The link works once, for {hours} hours. Until then your address stays as it was. \
             If you did not ask for this, ignore this mail."
        ),
    })
}

pub fn reset_password(to: &str, name: &str, link: &str, minutes: u64) -> Letter {
    compose(Parts {
        to,
        subject: "Reset your password".into(),
        greeting: greeting(name),
        lead: ["Someone (we hope you) asked to reset the password of the account of ", to, "."],
        link,
        button: "Choose a new password",
        footer: format!(
            "The link works once, for {minutes} minutes, and signs the account out everywhere. \
             If you did not ask, ignore this mail: your password stays as it is."
        ),
    })
}

pub fn invite(to: &str, team: &str, inviter: &str, link: &str) -> Letter {
    let lead = format!("{inviter} invites you to join the team ");
    compose(Parts {
        to,
        subject: format!("You are invited to join {team}"),
        greeting: "Hello,".into(),
        lead: [&lead, team, "."],
        link,
        button: "Accept the invite",
        footer: format!(
            "Sign in (or create an account) first if the page asks you to. If you do not know {inviter}, ignore this mail."
        ),
    })
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
