//! A real SMTP server in the test process (mailin-embedded): the tests hold
//! an SMTP conversation with the server under test and read what arrived.

use std::{
    io,
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use mailin_embedded::{AuthMechanism, Handler, Response, Server, SslConfig, response};

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message, headers and body.
    pub data: String,
}

impl Received {
    /// The message with quoted-printable soft line breaks and `=3D` undone,
    /// so a long link can be searched for.
    pub fn unfolded(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The set-password token of a welcome email.
    pub fn token(&self) -> String {
        let text = self.unfolded();
        let start = text.find("token=").expect("the email carries a link") + "token=".len();
        text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
    }
}

#[derive(Clone)]
struct Sink {
    received: Arc<Mutex<Vec<Received>>>,
    /// The credentials AUTH PLAIN accepts, when authentication is on.
    credentials: Option<(String, String)>,
    envelope: Option<(String, Vec<String>)>,
    data: Vec<u8>,
}

impl Handler for Sink {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.envelope = Some((from.to_owned(), to.to_vec()));
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some((from, to)) = self.envelope.take() {
            let data = String::from_utf8_lossy(&self.data).into_owned();
            self.received.lock().unwrap().push(Received { from, to, data });
        }
        response::OK
    }

    fn auth_plain(&mut self, _authorization_id: &str, authentication_id: &str, password: &str) -> Response {
        match &self.credentials {
            Some((user, pass)) if user == authentication_id && pass == password => response::AUTH_OK,
            _ => response::INVALID_CREDENTIALS,
        }
    }
}

pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

/// TLS for the server: its certificate and key files.
pub struct Tls {
    pub cert_path: String,
    pub key_path: String,
    pub user: String,
    pub password: String,
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl SmtpServer {
    /// A plain SMTP server on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port(), None)
    }

    /// A server on `port`, with STARTTLS and AUTH PLAIN when `tls` is given.
    pub fn start_on(port: u16, tls: Option<Tls>) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("the SMTP port is free");
        let sink = Sink {
            received: received.clone(),
            credentials: tls.as_ref().map(|t| (t.user.clone(), t.password.clone())),
            envelope: None,
            data: Vec::new(),
        };
        let mut server = Server::new(sink);
        server.with_name("smtp.test").with_tcp_listener(listener).with_num_threads(2);
        if let Some(tls) = tls {
            // Both rustls back ends are linked into the tests; mailin's
            // server asks for the process default.
            let _ = rustls::crypto::ring::default_provider().install_default();
            server
                .with_ssl(SslConfig::SelfSigned { cert_path: tls.cert_path, key_path: tls.key_path })
                .expect("the certificate loads")
                .with_auth(AuthMechanism::Plain);
        }
        std::thread::spawn(move || {
            if let Err(e) = server.serve() {
                eprintln!("the test SMTP server stopped: {e}");
            }
        });
        Self { port, received }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` messages arrived (the background worker sends on
    /// its own time), or fails after 20 s.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} messages, got {:?}", self.messages());
    }
}
