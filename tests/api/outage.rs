//! Taking the database away from a running server, and giving it back.
//!
//! On PostgreSQL the server reaches the database through a TCP proxy in
//! the test process; an outage closes every connection through it and
//! refuses new ones. SQLite is a file and cannot go away like that; its
//! outage is another connection holding the write lock past the server's
//! busy timeout, which is how a stuck SQLite fails in practice.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use sea_orm::{DatabaseTransaction, SqliteTransactionMode, TransactionOptions, TransactionTrait as _};
use tokio::{net::TcpListener, sync::watch};

/// A TCP proxy that can be cut.
pub struct Proxy {
    pub port: u16,
    down: Arc<AtomicBool>,
    kill: watch::Sender<u64>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let (kill, _) = watch::channel(0u64);
        let (flag, killer) = (down.clone(), kill.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let mut cut = killer.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { port, down, kill }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.kill.send_modify(|n| *n += 1);
    }

    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// Rewrites a PostgreSQL URL to go through a proxy on `port`; answers the
/// URL and the address it pointed at.
pub fn through(url: &str, port: u16) -> (String, SocketAddr) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, hostpath) = rest.rsplit_once('@').map_or(("", rest), |(u, h)| (u, h));
    let (hostport, path) = hostpath.split_once('/').unwrap();
    let hostport = if hostport.contains(':') { hostport.to_owned() } else { format!("{hostport}:5432") };
    let upstream: SocketAddr = hostport.replace("localhost", "127.0.0.1").parse().unwrap();
    let at = if userinfo.is_empty() { String::new() } else { format!("{userinfo}@") };
    (format!("{scheme}://{at}127.0.0.1:{port}/{path}"), upstream)
}

/// The SQLite write lock, held by another connection until released.
pub struct WriteLock {
    txn: DatabaseTransaction,
    db: sea_orm::DatabaseConnection,
}

impl WriteLock {
    pub async fn take(url: &str) -> Self {
        let db = sea_orm::Database::connect(url).await.unwrap();
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
            .unwrap();
        Self { txn, db }
    }

    /// Rolls back and closes the connection, so the lock is gone when this
    /// returns (dropping only queues the rollback on a pool's worker, and a
    /// request sent right after could still find the lock held).
    pub async fn release(self) {
        self.txn.rollback().await.unwrap();
        self.db.close().await.unwrap();
    }
}
