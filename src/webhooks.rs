//! Sends webhooks over HTTP(S) with reqwest, guarded against SSRF: the
//! host is resolved by [`GuardedResolver`], which hands reqwest only the
//! addresses `may_deliver_to` allows, so the address checked is the one
//! connected to; an address written in the URL is checked before sending.
//! Redirects are not followed, proxies from the environment are not used,
//! and every send ends after a short timeout.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context as _, bail};
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use voxport_domain::{
    services::{SentWebhook, WebhookRequest, WebhookSender},
    webhook::may_deliver_to,
};

/// Resolves a webhook's host to the addresses it may be sent to.
struct GuardedResolver {
    plain_http: bool,
    allowed: Arc<Vec<IpNet>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let (plain_http, allowed) = (self.plain_http, self.allowed.clone());
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await.map(Iterator::collect).unwrap_or_default();
            let usable: Vec<SocketAddr> =
                found.iter().copied().filter(|a| may_deliver_to(a.ip(), plain_http, &allowed)).collect();
            // One answer whether the name is unknown or internal: the
            // tenant learns nothing of the network behind voxport.
            if usable.is_empty() {
                return Err(format!("{host} resolves to no address webhooks may be sent to").into());
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

/// The production [`WebhookSender`].
pub struct HttpWebhookSender {
    https: reqwest::Client,
    plain: reqwest::Client,
    allowed: Arc<Vec<IpNet>>,
}

impl HttpWebhookSender {
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(timeout: Duration, allowed: Vec<IpNet>) -> anyhow::Result<Self> {
        let allowed = Arc::new(allowed);
        let client = |plain_http: bool| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(3)))
                .user_agent(concat!("voxport-webhooks/", env!("CARGO_PKG_VERSION")))
                .dns_resolver(GuardedResolver { plain_http, allowed: allowed.clone() })
                .https_only(!plain_http)
                .build()
                .context("building the webhook HTTP client")
        };
        Ok(Self { https: client(false)?, plain: client(true)?, allowed })
    }
}

impl WebhookSender for HttpWebhookSender {
    async fn send(&self, request: WebhookRequest<'_>) -> anyhow::Result<SentWebhook> {
        let url = reqwest::Url::parse(request.url).context("the webhook's URL")?;
        let plain_http = match url.scheme() {
            "https" => false,
            "http" => true,
            other => bail!("the scheme {other} is not sent to"),
        };
        if plain_http && self.allowed.is_empty() {
            bail!("plain http is sent only to the allowed networks");
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && !may_deliver_to(ip, plain_http, &self.allowed)
        {
            bail!("{ip} is not an address webhooks may be sent to");
        }
        let client = if plain_http { &self.plain } else { &self.https };
        let mut builder =
            client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(request.body.to_owned());
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        // Without the URL: its path or query may carry the receiver's token.
        let response = builder.send().await.map_err(|e| anyhow::anyhow!("{}", describe(&e.without_url())))?;
        // The body is not read: only the status counts.
        Ok(SentWebhook { status: response.status().as_u16() })
    }
}

/// A reqwest error with its causes, as the deliveries list shows it.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() { "timed out".to_owned() } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
