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

/// PostgreSQL ending the server's sessions (a restart or a failover, an
/// idle timeout, an operator's `pg_terminate_backend`) says so on each
/// socket before closing it, so the next statement on every pooled
/// connection reads a database error (`57P01`), not an I/O one. The first
/// request to meet one is told to come back (503, as in any outage); the
/// rest of the pool is checked before use, so no other request fails.
/// SQLite has no sessions to end: there the same requests simply succeed.
#[tokio::test]
async fn sessions_the_database_ended_fail_at_most_one_request_and_never_with_a_500() {
    use serde_json::json;

    use crate::helpers::{execute, spawn_app};

    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    let statuses = |n: usize| {
        let path = path.clone();
        let app = &app;
        let admin = c.admin.clone();
        async move {
            futures::future::join_all((0..n).map(|_| app.get(&path, &admin)))
                .await
                .into_iter()
                .map(|r| r.status.as_u16())
                .collect::<Vec<_>>()
        }
    };
    // Every pooled connection has been opened and is idle.
    let warm = statuses(16).await;
    assert!(warm.iter().all(|s| *s == 200), "{warm:?}");
    if app.settings.database_url.starts_with("postgres") {
        execute(
            &app,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
    }
    let mut one_by_one = Vec::new();
    for _ in 0..8 {
        let reply = app.get(&path, &c.admin).await;
        if reply.status != 200 {
            assert_eq!(reply.status, 503, "{:?}", reply.body);
            assert_eq!(reply.headers["retry-after"], "5");
        }
        one_by_one.push(reply.status.as_u16());
    }
    assert!(one_by_one.iter().filter(|s| **s != 200).count() <= 1, "{one_by_one:?}");
    assert!(one_by_one[1..].iter().all(|s| *s == 200), "{one_by_one:?}");
    let after = statuses(16).await;
    assert!(after.iter().all(|s| *s == 200), "{after:?}");
}
