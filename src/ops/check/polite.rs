//! Asking politely: at most [`PER_HOST`] requests in flight to one host and [`AT_ONCE`] over all
//! hosts, and a wait a rate limit asks for (GitHub's `retry-after`, or its hour's reset) honoured
//! once, where it ends within the check's time budget ([`BUDGET`]); beyond it, the question is
//! not asked again and its input says why. Once GitHub has said a caller has no requests left this
//! hour (`x-ratelimit-remaining: 0`), no more questions go to that host with that credential: they
//! get the answer GitHub would give. Waits last [`crate::time::pause`] of their length.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::git::TIMEOUT;

/// The most requests in flight to one host at once.
pub const PER_HOST: usize = 16;

/// The most requests in flight at once over all hosts.
pub const AT_ONCE: usize = 128;

/// How long the whole check may take, waits for rate limits included.
pub const BUDGET: Duration = Duration::from_secs(60);

/// The limits every question of one check shares.
pub struct Limits {
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// The hourly limit of each host and credential GitHub said has no request left.
    used_up: Mutex<HashMap<String, u64>>,
    all: Arc<Semaphore>,
    started: Instant,
}

/// A place among the requests in flight, at a host and over all; given back when dropped.
pub struct Slot {
    _host: OwnedSemaphorePermit,
    _all: OwnedSemaphorePermit,
}

impl Limits {
    pub fn new() -> Self {
        Limits {
            hosts: Mutex::new(HashMap::new()),
            used_up: Mutex::new(HashMap::new()),
            all: Arc::new(Semaphore::new(AT_ONCE)),
            started: Instant::now(),
        }
    }

    /// Waits for a place at `host` (the host's own limit first, then the overall one).
    pub async fn slot(&self, host: &str) -> Slot {
        let at_host = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            hosts
                .entry(host.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST)))
                .clone()
        };
        let host = at_host.acquire_owned().await.expect("never closed");
        let all = self
            .all
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        Slot {
            _host: host,
            _all: all,
        }
    }

    /// Notes what GitHub said is left (`(remaining, limit)`) to the caller `who` (a host and a
    /// credential's fingerprint).
    pub fn note_left(&self, who: &str, left: Option<(u64, u64)>) {
        if let Some((0, limit)) = left {
            let mut used_up = self.used_up.lock().unwrap_or_else(|e| e.into_inner());
            used_up.insert(who.to_owned(), limit);
        }
    }

    /// The hourly limit `who` has used up, if GitHub said so.
    pub fn used_up(&self, who: &str) -> Option<u64> {
        let used_up = self.used_up.lock().unwrap_or_else(|e| e.into_inner());
        used_up.get(who).copied()
    }

    /// Whether a wait of `secs` seconds, and one more question after it, end within [`BUDGET`].
    pub fn grants(&self, secs: u64) -> bool {
        self.started.elapsed() + Duration::from_secs(secs) + TIMEOUT <= BUDGET
    }
}

/// Waits as a rate limit asked (scaled, see [`crate::time::pause`]).
pub async fn pause(secs: u64) {
    tokio::time::sleep(crate::time::pause(Duration::from_secs(secs))).await;
}

/// The reason for a question a rate limit refused, once there is no time left to ask again:
/// `asked_again` when it was, after waiting `secs` seconds.
pub fn out_of_time(why: &str, secs: u64, asked_again: bool) -> String {
    match asked_again {
        true => format!("{why}, again after waiting {secs} seconds: not checked"),
        false => format!(
            "{why} and asks for a wait of {secs} seconds, more than the check's time budget ({} seconds) leaves: not checked",
            BUDGET.as_secs()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_fit_in_the_budget_or_are_not_made() {
        let limits = Limits::new();
        assert!(limits.grants(1));
        assert!(limits.grants(BUDGET.as_secs() - TIMEOUT.as_secs() - 1));
        assert!(!limits.grants(BUDGET.as_secs()));
        assert!(!limits.grants(3600));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn no_more_than_sixteen_at_one_host() {
        let limits = Arc::new(Limits::new());
        let mut held = Vec::new();
        for _ in 0..PER_HOST {
            held.push(limits.slot("api.github.com").await);
        }
        // Another host still gets its place; the first is full until one is given back.
        let _other = limits.slot("gitlab.com").await;
        let more = tokio::time::timeout(Duration::ZERO, limits.slot("api.github.com")).await;
        assert!(more.is_err());
        held.pop();
        let more = tokio::time::timeout(Duration::ZERO, limits.slot("api.github.com")).await;
        assert!(more.is_ok());
    }
}
