//! Mail to people: letters composed in [`letters`], sent over SMTP off the
//! request path. The queue is in memory and bounded: a crash loses the
//! letters the SMTP server had not accepted yet (the README says so), and a
//! full queue refuses new ones rather than growing.

pub mod letters;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;

/// Letters waiting to be sent, at most.
pub const QUEUE: usize = 1_000;
/// The waits before each retry of a letter the SMTP server did not take.
pub const RETRY_AFTER: [Duration; 3] = [Duration::from_secs(2), Duration::from_secs(15), Duration::from_secs(60)];
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// Letters being sent (or waiting for a retry) at once.
const AT_ONCE: usize = 8;

/// Where mail goes out.
#[derive(Clone)]
pub struct MailSettings {
    /// `smtp://` (plain, or STARTTLS with `?tls=required`) or `smtps://`,
    /// with credentials if the server wants them.
    pub smtp_url: SecretString,
    /// The sender, as `Name <address>` or a bare address.
    pub from: String,
}

/// One letter: a plain-text body and the same in HTML.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What became of letters, for `/metrics`.
#[derive(Debug, Default)]
pub struct MailStats {
    /// Accepted by the SMTP server.
    pub sent: AtomicU64,
    /// Attempts the SMTP server refused or that failed to reach it.
    pub failed_attempts: AtomicU64,
    /// Letters given up on: refused for good, out of retries, or not queued.
    pub undelivered: AtomicU64,
    /// Letters waiting now.
    pub queued: AtomicU64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    #[error("mail is not set up on this server")]
    Off,
    #[error("too much mail is waiting to be sent; try again in a minute")]
    Busy,
}

#[derive(Debug, thiserror::Error)]
#[error("mail: {0}")]
pub struct MailSetupError(String);

/// Sends letters in the background. Dropping it stops the sender once the
/// queue is empty.
pub struct Mailer {
    queue: mpsc::Sender<Letter>,
    pub stats: Arc<MailStats>,
}

impl Mailer {
    /// Checks the settings and starts the sender; `host` names the
    /// messages' ids (`<uuid@host>`).
    pub fn start(settings: &MailSettings, host: &str) -> Result<Self, MailSetupError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.smtp_url.expose_secret())
            .map_err(|e| MailSetupError(format!("the SMTP URL is not usable: {e}")))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| MailSetupError(format!("the sender {:?} is not an address: {e}", settings.from)))?;
        let (queue, letters) = mpsc::channel(QUEUE);
        let stats = Arc::new(MailStats::default());
        let sender = Sender { transport, from, host: host.to_owned(), stats: Arc::clone(&stats) };
        tokio::spawn(sender.run(letters));
        Ok(Self { queue, stats })
    }

    /// Queues a letter; it is sent soon after.
    pub fn send(&self, letter: Letter) -> Result<(), MailError> {
        match self.queue.try_send(letter) {
            Ok(()) => {
                self.stats.queued.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(_) => {
                self.stats.undelivered.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("mail queue full: a letter was not sent");
                Err(MailError::Busy)
            }
        }
    }
}

struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    stats: Arc<MailStats>,
}

impl Sender {
    /// Sends up to [`AT_ONCE`] letters side by side, so that one waiting
    /// to be retried holds up no other.
    async fn run(self, mut letters: mpsc::Receiver<Letter>) {
        let this = Arc::new(self);
        let slots = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
        while let Some(letter) = letters.recv().await {
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
            let this = Arc::clone(&this);
            tokio::spawn(async move {
                this.deliver(letter).await;
                this.stats.queued.fetch_sub(1, Ordering::Relaxed);
                drop(slot);
            });
        }
    }

    async fn deliver(&self, letter: Letter) {
        let id = format!("<{}@{}>", uuid::Uuid::new_v4(), self.host);
        let message = match self.message(&letter, &id) {
            Ok(message) => message,
            Err(e) => {
                self.stats.undelivered.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(message_id = %id, error = %e, "mail not sent: the letter is not valid");
                return;
            }
        };
        // Bodies carry links that act for their reader: never logged.
        for (attempt, wait) in std::iter::once(Duration::ZERO).chain(RETRY_AFTER).enumerate() {
            tokio::time::sleep(wait).await;
            match self.transport.send(message.clone()).await {
                Ok(_) => {
                    self.stats.sent.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(message_id = %id, subject = %letter.subject, "mail sent");
                    return;
                }
                Err(e) => {
                    self.stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(message_id = %id, attempt = attempt + 1, error = %e, "mail not accepted");
                    if e.is_permanent() {
                        break;
                    }
                }
            }
        }
        self.stats.undelivered.fetch_add(1, Ordering::Relaxed);
        tracing::error!(message_id = %id, subject = %letter.subject, "mail given up");
    }

    fn message(&self, letter: &Letter, id: &str) -> Result<Message, String> {
        let to: Mailbox = letter.to.parse().map_err(|e| format!("recipient: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.subject.clone())
            .message_id(Some(id.to_owned()))
            .multipart(MultiPart::alternative_plain_html(letter.text.clone(), letter.html.clone()))
            .map_err(|e| e.to_string())
    }
}
