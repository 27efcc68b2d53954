//! A small SMTP server for the tests: it takes every letter (or, refusing,
//! none) and keeps them for the test to read, parse and follow.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mailparse::MailHeaderMap as _;

use crate::harness::{Setup, TestApp};

type Inbox = Arc<Mutex<Vec<String>>>;

/// Every test SMTP server of this process, by port.
fn inboxes() -> &'static Mutex<HashMap<u16, Inbox>> {
    static INBOXES: OnceLock<Mutex<HashMap<u16, Inbox>>> = OnceLock::new();
    INBOXES.get_or_init(Default::default)
}

/// Starts an SMTP server on a free port; `refuse` answers every recipient
/// (else those whose address starts `refused-`) with a temporary failure.
pub fn start(refuse: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().unwrap().port();
    let inbox = Inbox::default();
    inboxes().lock().unwrap().insert(port, inbox.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let inbox = inbox.clone();
            std::thread::spawn(move || {
                let _ = converse(stream, &inbox, refuse);
            });
        }
    });
    port
}

fn converse(stream: TcpStream, inbox: &Inbox, refuse: bool) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 mail.test ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 mail.test\r\n",
            "MAIL" | "RSET" | "NOOP" => b"250 OK\r\n",
            // Addresses starting `refused-` are refused by every server.
            "RCPT" if refuse || line.contains("<refused-") => b"451 4.3.0 try again later\r\n",
            "RCPT" => b"250 OK\r\n",
            "DATA" => {
                out.write_all(b"354 end with .\r\n")?;
                let mut message = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    message.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                inbox.lock().unwrap().push(message);
                b"250 OK queued\r\n"
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        out.write_all(reply)?;
    }
}

fn with_smtp(refuse: bool) -> Setup {
    let mut setup = Setup::default();
    setup.flags.smtp_url = Some(format!("smtp://127.0.0.1:{}", start(refuse)));
    setup.flags.mail_from = Some("Basic Test <no-reply@basic.test>".into());
    setup
}

/// A server that sends mail to a test SMTP server.
pub fn mail() -> Setup {
    with_smtp(false)
}

/// A server whose SMTP server refuses every letter for now.
pub fn refusing_mail() -> Setup {
    with_smtp(true)
}

/// A letter as its reader sees it.
#[derive(Debug)]
pub struct Letter {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    pub text: String,
    pub html: String,
}

impl Letter {
    fn parse(raw: &str) -> Self {
        let mail = mailparse::parse_mail(raw.as_bytes()).expect("a letter parses");
        let header = |name: &str| mail.headers.get_first_value(name).unwrap_or_default();
        let part = |kind: &str| {
            mail.subparts
                .iter()
                .find(|p| p.ctype.mimetype == kind)
                .unwrap_or_else(|| panic!("no {kind} part in\n{raw}"))
                .get_body()
                .unwrap()
        };
        Self {
            to: header("To"),
            from: header("From"),
            subject: header("Subject"),
            message_id: header("Message-ID"),
            text: part("text/plain"),
            html: part("text/html"),
        }
    }

    /// The path and query of the first link to this server's `path`, as the
    /// plain-text body gives it.
    pub fn link(&self, base: &str, path: &str) -> String {
        let start = format!("{base}{path}");
        let at = self.text.find(&start).unwrap_or_else(|| panic!("no link to {start} in\n{}", self.text));
        let link: String = self.text[at..].chars().take_while(|c| !c.is_whitespace()).collect();
        assert!(self.html.contains(&link.replace('&', "&amp;")), "the HTML body has the same link");
        link[base.len()..].to_owned()
    }
}

/// The letters a server's SMTP server received.
pub struct Mailbox {
    inbox: Inbox,
}

impl Mailbox {
    pub fn of(app: &TestApp) -> Self {
        let mail = app.state.config.mail.as_ref().expect("mail is set up");
        let url = secrecy::ExposeSecret::expose_secret(&mail.smtp_url).to_owned();
        Self::at(url.rsplit(':').next().unwrap().parse().unwrap())
    }

    /// The letters of the test SMTP server on `port`.
    pub fn at(port: u16) -> Self {
        Self { inbox: inboxes().lock().unwrap()[&port].clone() }
    }

    fn received(&self) -> Vec<Letter> {
        self.inbox.lock().unwrap().iter().map(|raw| Letter::parse(raw)).collect()
    }

    /// Letters to `to` so far.
    pub fn to(&self, to: &str) -> Vec<Letter> {
        self.received().into_iter().filter(|l| l.to.contains(to)).collect()
    }

    /// Waits (at most 10 s) for letter number `n` (from 1) to `to`.
    pub async fn nth_to(&self, to: &str, n: usize) -> Letter {
        for _ in 0..200 {
            if let Some(letter) = self.to(to).into_iter().nth(n - 1) {
                return letter;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no letter {n} to {to}; received: {:?}", self.received());
    }
}
