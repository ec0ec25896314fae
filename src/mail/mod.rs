//! Email: composing digests from templates, and delivering the outbox over
//! SMTP with lettre.

pub mod digest;
pub mod notice;

use std::time::Duration;

use anyhow::Context;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    message::{
        Mailbox, MultiPart,
        header::{HeaderName, HeaderValue},
    },
};

use crate::{config::MailConfig, store::outbox::Message};

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Delivers messages, or (without an SMTP server configured) does not.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer of the configuration: `smtp://host:port` (no TLS),
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS),
    /// with `user:password@` before the host when the server wants them.
    pub fn new(config: &MailConfig) -> anyhow::Result<Mailer> {
        let from: Mailbox = config.mail_from.parse().with_context(|| {
            format!("DEBRIEF_MAIL_FROM is not an address: {}", config.mail_from)
        })?;
        let transport = match &config.smtp_url {
            None => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("DEBRIEF_SMTP_URL is not a valid SMTP URL")?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
        };
        Ok(Mailer { transport, from })
    }

    pub fn is_on(&self) -> bool {
        self.transport.is_some()
    }

    /// Sends one outbox message; the error is what to record and show.
    pub async fn deliver(&self, message: &Message) -> Result<(), String> {
        let Some(transport) = &self.transport else {
            return Err("mail is off: DEBRIEF_SMTP_URL is not set".to_owned());
        };
        let to: Mailbox = message
            .email
            .parse()
            .map_err(|error| format!("bad recipient address: {error}"))?;
        let header = |name: &'static str, value: String| {
            HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
        };
        // One Message-ID per outbox row: a message sent again after a crash
        // is recognisably the same one (and mail clients fold the two).
        let message_id = format!("<outbox-{}@{}>", message.id, self.from.email.domain());
        let email = lettre::Message::builder()
            .message_id(Some(message_id))
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .raw_header(header(
                "List-Unsubscribe",
                format!("<{}>", message.unsubscribe_url),
            ))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                message.text_body.clone(),
                message.html_body.clone(),
            ))
            .map_err(|error| format!("could not build the message: {error}"))?;
        match transport.send(email).await {
            Ok(_) => {
                crate::metrics::METRICS.mail_sent.inc();
                Ok(())
            }
            Err(error) => {
                crate::metrics::METRICS.mail_failed.inc();
                Err(format!("SMTP: {error}"))
            }
        }
    }
}
