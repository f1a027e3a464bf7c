//! Password hashing with argon2id (OWASP Password Storage; ASVS 5.0
//! 11.4.2) at the cost of [`HashingParams`] (OWASP's by default), a random
//! 16-byte salt, stored as a PHC string.
//!
//! A hash holds its memory cost and tens of milliseconds of a core, so
//! hashing runs on a fixed set of threads of its own:
//!
//! - **Memory stays bounded.** Each thread keeps one argon2 work area and
//!   reuses it for every hash (`hash_password_into_with_memory`), so the
//!   process holds at most `threads × memory cost`, however many sign-ins
//!   arrive. Allocating the area per hash, on a pool that grows with load,
//!   let the allocator keep one set of areas per thread it ever used.
//!   A thread that has hashed nothing for [`IDLE_RELEASE`] gives its area
//!   back, so an idle server holds none.
//! - **Requests keep their cores.** The threads run at the lowest
//!   scheduling priority (`SCHED_IDLE` on Linux, see [`lowest_priority`]):
//!   they use every idle cycle, and yield the CPU at once to the threads
//!   that serve requests, and to a database on the same machine.
//! - **A hash is admitted when it starts.** [`PasswordHasher::slot`] waits
//!   for a free thread; whoever holds a slot hashes at once. A sign-in
//!   judges its throttle counters only once it holds one, so attempts that
//!   queue count as nothing until they run.
//!
//! A sign-in for an unknown login verifies against a dummy hash with the
//! same parameters, so it takes as long as a real one (ASVS 5.0 6.3.8).

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash as Phc, Salt},
};
use rand::RngCore as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::values::Password;

/// A stored password hash in PHC string format. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read back from storage.
    #[must_use]
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    #[must_use]
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// A short fingerprint of this hash (not of the password: the hash's
    /// random salt is in it), for tokens that must die when the password
    /// changes: they carry it and are checked against the current one.
    #[must_use]
    pub fn stamp(&self) -> String {
        use sha2::{Digest as _, Sha256};
        let digest = Sha256::digest(self.0.as_bytes());
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// The argon2id cost. The default is OWASP's recommendation; a unit test
/// pins it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashingParams {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

/// OWASP's equivalent minimum argon2id settings (Password Storage Cheat
/// Sheet): memory in KiB and passes, each trading one for the other.
pub const OWASP_MINIMUMS: [(u32, u32); 5] = [(47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5)];

impl HashingParams {
    /// Whether these cost at least one of [`OWASP_MINIMUMS`].
    #[must_use]
    pub fn meets_owasp_minimum(&self) -> bool {
        OWASP_MINIMUMS.iter().any(|&(memory, passes)| self.memory_kib >= memory && self.iterations >= passes)
    }
}

const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

/// Work for a hashing thread, given its reusable work area.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    slots: Arc<Semaphore>,
    jobs: flume::Sender<Job>,
    dummy: PasswordHash,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher").field("params", &self.params).finish_non_exhaustive()
    }
}

/// The right to run one hash now, on a thread that is free.
pub struct HashSlot {
    hasher: PasswordHasher,
    _permit: OwnedSemaphorePermit,
}

impl PasswordHasher {
    /// Starts `threads` hashing threads (at least one). Memory held for
    /// hashing is at most `threads` × `memory_kib`, taken by each thread on
    /// its first hash.
    ///
    /// # Errors
    /// When argon2 refuses the parameters or a thread cannot start.
    pub fn new(params: HashingParams, threads: usize) -> anyhow::Result<Self> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, Some(OUTPUT_BYTES))
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let threads = threads.max(1);
        let (jobs, queue) = flume::unbounded::<Job>();
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&queue))
                .context("starting a password hashing thread")?;
        }
        // Never matched (`verify` says so without comparing): only its
        // parameters matter, which make checking it cost a real hash.
        let dummy = phc(&params, &random_bytes::<SALT_BYTES>(), &random_bytes::<OUTPUT_BYTES>())?;
        Ok(Self { params, slots: Arc::new(Semaphore::new(threads)), jobs, dummy })
    }

    /// Waits for a free hashing thread.
    ///
    /// # Errors
    /// When the hasher is shut down.
    pub async fn slot(&self) -> anyhow::Result<HashSlot> {
        let queued = Instant::now();
        metrics::gauge!("voxport_password_hash_queue").increment(1.0);
        let permit = self.slots.clone().acquire_owned().await;
        metrics::gauge!("voxport_password_hash_queue").decrement(1.0);
        metrics::histogram!("voxport_password_hash_wait_seconds").record(queued.elapsed().as_secs_f64());
        Ok(HashSlot { hasher: self.clone(), _permit: permit.context("the password hasher is shut down")? })
    }

    /// Hashes a new password, waiting for a free thread first.
    ///
    /// # Errors
    /// When the hashing threads are gone or argon2 fails.
    pub async fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash> {
        self.slot().await?.hash(password).await
    }

    /// Whether `stored` was made with other settings than these (they were
    /// raised since): the next sign-in with the password hashes it anew.
    #[must_use]
    pub fn is_outdated(&self, stored: &PasswordHash) -> bool {
        let Ok(phc) = Phc::new(stored.as_phc()) else { return false };
        Params::try_from(&phc).is_ok_and(|p| {
            (p.m_cost(), p.t_cost(), p.p_cost()) != (self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
        })
    }

    /// Hashes a password that just matched its old hash, with the current
    /// settings (it passed the policy when it was set).
    pub(crate) async fn rehash(&self, password: &str) -> anyhow::Result<PasswordHash> {
        self.slot().await?.hash_raw(password.to_owned()).await
    }

    /// [`HashSlot::verify`], waiting for a free thread first.
    ///
    /// # Errors
    /// When the hashing threads are gone.
    pub async fn verify(&self, attempt: &str, hash: Option<&PasswordHash>) -> anyhow::Result<bool> {
        self.slot().await?.verify(attempt, hash).await
    }

    /// Runs `job` on a hashing thread and answers what it answered.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (reply, answer) = oneshot::channel();
        let span = tracing::Span::current();
        self.jobs
            .send(Box::new(move |blocks| {
                let started = Instant::now();
                let result = span.in_scope(|| job(blocks));
                metrics::histogram!("voxport_password_hash_seconds").record(started.elapsed().as_secs_f64());
                let _ = reply.send(result);
            }))
            .map_err(|_| anyhow::anyhow!("the password hashing threads are gone"))?;
        answer.await.context("a password hashing thread died")
    }
}

impl HashSlot {
    /// Hashes a new password with a fresh salt.
    ///
    /// # Errors
    /// When the hashing threads are gone or argon2 fails.
    pub async fn hash(self, password: &Password) -> anyhow::Result<PasswordHash> {
        self.hash_raw(password.expose().to_owned()).await
    }

    async fn hash_raw(self, secret: String) -> anyhow::Result<PasswordHash> {
        let params = self.hasher.params.clone();
        let secret = crate::values::Secret::new(secret);
        self.hasher
            .run(move |blocks| {
                let salt = random_bytes::<SALT_BYTES>();
                let mut out = [0u8; OUTPUT_BYTES];
                argon2(&params, secret.expose().as_bytes(), &salt, &mut out, blocks)?;
                phc(&params, &salt, &out)
            })
            .await?
    }

    /// Whether `attempt` matches `hash`; with no hash (unknown login, or a
    /// user who never set a password) it checks the dummy and answers
    /// false, in the same time. The slot stays taken until it is dropped,
    /// so a sign-in can record its failure before the next one is judged.
    ///
    /// # Errors
    /// When the hashing threads are gone.
    pub async fn verify(&self, attempt: &str, hash: Option<&PasswordHash>) -> anyhow::Result<bool> {
        let real = hash.is_some();
        let stored = hash.unwrap_or(&self.hasher.dummy).clone();
        let attempt = attempt.to_owned();
        let matches = self.hasher.run(move |blocks| matches(&attempt, &stored, blocks)).await?;
        Ok(real && matches)
    }
}

/// Puts the calling thread below every thread that serves requests, this
/// process's or another's. On Linux that is `SCHED_IDLE`: a thread that
/// wakes preempts it at once, and a core running only such threads counts
/// as idle when a waking thread is placed. The lowest nice value (19) is
/// not enough when the database runs on the same machine: nice weighs
/// threads only against their own scheduling group (a session's
/// autogroup, a container's cgroup), so a group that holds nothing but
/// busy hashing threads still takes its full share of the cores from
/// PostgreSQL's group. Measured on 2 cores, reads of `GET /v1/users/{id}`
/// during a sign-in flood on PostgreSQL: p99 143 and 366 ms at nice 19
/// against 101 and 99 ms with `SCHED_IDLE`, at 2,412 and 2,558 against
/// 3,369 and 3,563 reads a second. Elsewhere, the lowest priority.
fn lowest_priority() -> Result<(), thread_priority::Error> {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy};
        thread_priority::set_thread_priority_and_policy(
            thread_priority::thread_native_id(),
            ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        )
    }
    #[cfg(not(target_os = "linux"))]
    thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
}

/// How long a hashing thread keeps its work area without hashing: long
/// enough that a sign-in storm reuses it, short enough that an idle server
/// holds none.
const IDLE_RELEASE: Duration = Duration::from_secs(10);

/// A hashing thread: lowest priority, one work area while it is busy.
fn work(queue: &flume::Receiver<Job>) {
    if let Err(e) = lowest_priority() {
        tracing::warn!(error = ?e, "a password hashing thread keeps normal priority");
    }
    let mut blocks = Vec::new();
    loop {
        let job = if blocks.is_empty() {
            queue.recv().map_err(|_| flume::RecvTimeoutError::Disconnected)
        } else {
            queue.recv_timeout(IDLE_RELEASE)
        };
        match job {
            Ok(job) => job(&mut blocks),
            Err(flume::RecvTimeoutError::Timeout) => blocks = Vec::new(),
            Err(flume::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Hashes into `out`, growing the work area when `params` need more.
fn argon2(
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    blocks: &mut Vec<Block>,
) -> anyhow::Result<()> {
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `attempt` hashes to `stored` (compared in constant time). A
/// stored string that does not parse matches nothing.
fn matches(attempt: &str, stored: &PasswordHash, blocks: &mut Vec<Block>) -> bool {
    let Ok(phc) = Phc::new(stored.as_phc()) else { return false };
    let (Some(salt), Some(expected), Ok(params)) = (&phc.salt, &phc.hash, Params::try_from(&phc)) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if argon2(&params, attempt.as_bytes(), salt.as_ref(), &mut out, blocks).is_err() {
        return false;
    }
    Output::new(&out).is_ok_and(|computed| computed == *expected)
}

fn phc(params: &Params, salt: &[u8], out: &[u8]) -> anyhow::Result<PasswordHash> {
    let phc = Phc {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?,
        salt: Some(Salt::new(salt).map_err(|e| anyhow::anyhow!("a salt: {e}"))?),
        hash: Some(Output::new(out).map_err(|e| anyhow::anyhow!("a hash: {e}"))?),
    };
    Ok(PasswordHash(phc.to_string()))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::PasswordPolicy;

    #[tokio::test]
    async fn default_parameters_are_owasps_argon2id() {
        let hasher = PasswordHasher::new(HashingParams::default(), 2).unwrap();
        let pw = PasswordPolicy::default().generate();
        let hash = hasher.hash(&pw).await.unwrap();
        let phc = hash.as_phc();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // 16-byte salt: 22 characters of unpadded base64.
        let salt = phc.split('$').nth(4).unwrap();
        assert_eq!(salt.len(), 22, "{phc}");
        assert!(hasher.verify(pw.expose(), Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn verifies_the_right_password_only() {
        let hasher = PasswordHasher::new(HashingParams { memory_kib: 64, iterations: 1, parallelism: 1 }, 1).unwrap();
        let pw = PasswordPolicy::default().generate();
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(hasher.verify(pw.expose(), Some(&hash)).await.unwrap());
        assert!(!hasher.verify("not the password", Some(&hash)).await.unwrap());
        assert!(!hasher.verify(pw.expose(), None).await.unwrap(), "no hash never matches");
        let garbage = PasswordHash::from_phc("not a phc string".into());
        assert!(!hasher.verify(pw.expose(), Some(&garbage)).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_verify_and_the_other_way_round() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let params = HashingParams { memory_kib: 256, iterations: 1, parallelism: 1 };
        let hasher = PasswordHasher::new(params, 1).unwrap();
        let theirs =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(256, 1, 1, Some(OUTPUT_BYTES)).unwrap());
        let phc = theirs.hash_password(b"correct horse battery").unwrap().to_string();
        assert!(hasher.verify("correct horse battery", Some(&PasswordHash::from_phc(phc))).await.unwrap());
        let pw = PasswordPolicy::default().generate();
        let ours = hasher.hash(&pw).await.unwrap();
        assert!(theirs.verify_password(pw.expose().as_bytes(), ours.as_phc()).is_ok());
    }

    #[tokio::test]
    async fn a_stored_hash_of_another_cost_still_verifies() {
        let small = PasswordHasher::new(HashingParams { memory_kib: 64, iterations: 1, parallelism: 1 }, 1).unwrap();
        let large = PasswordHasher::new(HashingParams { memory_kib: 512, iterations: 1, parallelism: 1 }, 1).unwrap();
        let pw = PasswordPolicy::default().generate();
        let made_large = large.hash(&pw).await.unwrap();
        assert!(small.verify(pw.expose(), Some(&made_large)).await.unwrap(), "the work area grows");
    }

    #[test]
    fn debug_never_shows_the_hash() {
        let hash = PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
        assert!(!format!("{hash:?}").contains("argon2"));
    }

    /// `SCHED_IDLE` is policy 5 (`sched.h`); `/proc/thread-self/stat`'s
    /// 41st field is the thread's policy (proc(5)).
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_only_on_idle_cores() {
        let hasher = PasswordHasher::new(HashingParams { memory_kib: 64, iterations: 1, parallelism: 1 }, 2).unwrap();
        for _ in 0..4 {
            let stat = hasher.run(|_| std::fs::read_to_string("/proc/thread-self/stat").unwrap()).await.unwrap();
            let (name, after) = stat.split_once(") ").unwrap();
            assert!(name.ends_with("(argon2-0") || name.ends_with("(argon2-1"), "{name}");
            // Fields from the third on; the policy is the 41st.
            let policy: u32 = after.split(' ').nth(41 - 3).unwrap().parse().unwrap();
            assert_eq!(policy, 5, "{stat}");
        }
    }
}
