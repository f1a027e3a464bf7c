//! The mail transports behind the outbox worker: SMTP through lettre (TLS
//! and authentication from the URL), or, with no SMTP server configured,
//! `.eml` files in a directory so a newcomer sees every email without a
//! mail server. Messages are built here, plain text and HTML; lettre
//! encodes every header, and the domain's values cannot hold CR or LF.

use std::path::PathBuf;

use anyhow::Context as _;
use lettre::{
    AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
    message::{Body, Mailbox, MultiPart, header::ContentTransferEncoding},
    transport::smtp::client::{Certificate, Tls, TlsParameters},
};
use voxport_domain::{email::EmailMessage, services::Mailer};

/// Where emails go.
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `.eml` file per message in this directory.
    Files(PathBuf),
}

pub struct LettreMailer {
    from: Mailbox,
    transport: Transport,
}

/// How to reach the SMTP server.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…`
    /// (TLS from the start) or `smtp://host:25` (plain, for local relays).
    pub url: String,
    /// A PEM file of CA certificates to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    pub timeout: std::time::Duration,
}

impl LettreMailer {
    /// # Errors
    /// When `from` is not an address, or the SMTP URL or CA file is wrong.
    pub fn new(from: &str, smtp: Option<&SmtpSettings>, dir: PathBuf) -> anyhow::Result<Self> {
        let from: Mailbox = from.parse().with_context(|| format!("setting `smtp_from`: {from:?} is not an address"))?;
        let transport = match smtp {
            Some(smtp) => Transport::Smtp(smtp_transport(smtp)?),
            None => Transport::Files(dir),
        };
        Ok(Self { from, transport })
    }

    /// What the transport is, for the start-up log line (no password).
    #[must_use]
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".to_owned(),
            Transport::Files(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    fn message(&self, email: &EmailMessage) -> anyhow::Result<Message> {
        let to = Mailbox::new(
            Some(email.to_name.clone()),
            email.to.parse().with_context(|| format!("the recipient {:?}", email.to))?,
        );
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .multipart(MultiPart::alternative_plain_html(readable(&email.text), readable(&email.html)))
            .context("building an email")
    }
}

/// 7bit when the text allows it (ASCII, lines under 998 octets), so the
/// message, link included, reads as written; otherwise lettre's choice
/// (quoted-printable or base64).
fn readable(text: &str) -> Body {
    Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::SevenBit).unwrap_or_else(Body::new)
}

fn smtp_transport(smtp: &SmtpSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
        .map_err(|e| anyhow::anyhow!("setting `smtp_url`: {e}"))?
        .timeout(Some(smtp.timeout));
    if let Some(file) = &smtp.ca_file {
        let pem = std::fs::read(file).with_context(|| format!("setting `smtp_ca_file`: reading {}", file.display()))?;
        let host = smtp_host(&smtp.url).context("setting `smtp_url`: no host")?;
        let parameters = TlsParameters::builder(host)
            .add_root_certificate(Certificate::from_pem(&pem).context("setting `smtp_ca_file`: not a PEM certificate")?)
            .build_rustls()
            .context("setting `smtp_ca_file`")?;
        let tls = if smtp.url.starts_with("smtps://") { Tls::Wrapper(parameters) } else { Tls::Required(parameters) };
        builder = builder.tls(tls);
    }
    Ok(builder.build())
}

/// The host of an SMTP URL, for checking its certificate.
fn smtp_host(url: &str) -> Option<String> {
    let host = match url::Url::parse(url).ok()?.host()? {
        url::Host::Domain(name) => name.to_owned(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    (!host.is_empty()).then_some(host)
}

impl Mailer for LettreMailer {
    async fn send(&self, email: &EmailMessage) -> anyhow::Result<()> {
        let message = self.message(email)?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await.context("sending over SMTP")?;
            }
            Transport::Files(dir) => {
                tokio::fs::create_dir_all(dir).await.with_context(|| format!("creating {}", dir.display()))?;
                let path = dir.join(format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
                    uuid::Uuid::new_v4().simple()
                ));
                tokio::fs::write(&path, message.formatted())
                    .await
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(path = %path.display(), subject = %email.subject, "wrote an email (no SMTP server configured)");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_comes_out_of_any_smtp_url() {
        for (url, host) in [
            ("smtp://mail.example:587?tls=required", "mail.example"),
            ("smtps://user:p%40ss@mail.example", "mail.example"),
            ("smtp://[::1]:2525", "::1"),
            ("smtp://u:p@127.0.0.1:25/ehlo", "127.0.0.1"),
        ] {
            assert_eq!(smtp_host(url).as_deref(), Some(host), "{url}");
        }
        assert_eq!(smtp_host("smtp://"), None);
    }

    #[test]
    fn messages_have_both_parts_and_encoded_headers() {
        let mailer = LettreMailer::new("voxport <no-reply@voxport.example>", None, PathBuf::from("unused")).unwrap();
        let email = EmailMessage {
            to: "jsmith@acme.example".into(),
            to_name: "Jöhn Smith".into(),
            subject: "Willkommen bei Acme".into(),
            text: "plain body".into(),
            html: "<p>html body</p>".into(),
        };
        let raw = String::from_utf8(mailer.message(&email).unwrap().formatted()).unwrap();
        assert!(raw.contains("To: =?utf-8?b?"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain") && raw.contains("text/html"), "{raw}");
        assert!(raw.contains("Content-Transfer-Encoding: 7bit"), "ASCII bodies stay readable: {raw}");
    }
}
