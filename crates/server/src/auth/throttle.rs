//! Slows down guessing: failures are counted per key (an email address, a
//! client address, a project) within a window, and once a key has reached
//! its limit further attempts are refused until the window has passed.
//! Counts are kept per node, in memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

const MAX_ENTRIES: usize = 100_000;

pub struct Throttle<K> {
    window: Duration,
    failures: Mutex<HashMap<K, (u32, Instant)>>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub fn new(window: Duration) -> Self {
        Self { window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Some(wait)` when any of `limits` (a key and its most failures) has
    /// been reached.
    pub fn refused(&self, limits: &[(K, u32)]) -> Option<Duration> {
        let failures = self.failures.lock().expect("throttle lock");
        if failures.is_empty() {
            return None;
        }
        limits
            .iter()
            .filter_map(|(key, max)| {
                let (count, since) = failures.get(key)?;
                let left = self.window.checked_sub(since.elapsed())?;
                (count >= max).then_some(left)
            })
            .max()
    }

    pub fn failed(&self, limits: &[(K, u32)]) {
        let mut failures = self.failures.lock().expect("throttle lock");
        if failures.len() >= MAX_ENTRIES {
            failures.retain(|_, (_, since)| since.elapsed() < self.window);
        }
        for (key, _) in limits {
            let entry = failures.entry(key.clone()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= self.window {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    pub fn clear(&self, key: &K) {
        self.failures.lock().expect("throttle lock").remove(key);
    }
}

/// Password guessing: 5 failed sign-ins per email address, or 20 from one
/// client address, within 15 minutes.
pub mod sign_in {
    use super::*;

    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    pub const MAX_PER_ACCOUNT: u32 = 5;
    pub const MAX_PER_ADDRESS: u32 = 20;

    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum Key {
        Email(String),
        Address(IpAddr),
    }

    pub fn email(email: &str) -> Key {
        Key::Email(email.trim().to_lowercase())
    }

    pub fn limits(email: &str, from: IpAddr) -> [(Key, u32); 2] {
        [(self::email(email), MAX_PER_ACCOUNT), (Key::Address(from), MAX_PER_ADDRESS)]
    }

    pub fn throttle() -> Throttle<Key> {
        Throttle::new(WINDOW)
    }
}

/// API-key guessing: 20 failed key checks (a `verify` that answers
/// `is_valid: false`, or a bearer key that is refused) from one client
/// address, or 200 against one project, within a minute.
pub mod api_keys {
    use super::*;

    pub const WINDOW: Duration = Duration::from_secs(60);
    pub const MAX_PER_ADDRESS: u32 = 20;
    pub const MAX_PER_PROJECT: u32 = 200;

    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum Key {
        Address(IpAddr),
        Project(Uuid),
    }

    pub fn limits(from: IpAddr, project: Option<Uuid>) -> Vec<(Key, u32)> {
        let mut limits = vec![(Key::Address(from), MAX_PER_ADDRESS)];
        limits.extend(project.map(|p| (Key::Project(p), MAX_PER_PROJECT)));
        limits
    }

    pub fn throttle() -> Throttle<Key> {
        Throttle::new(WINDOW)
    }
}

/// Token guessing at `user/connect`: 20 refused tokens from one client
/// address within a minute.
pub mod connect {
    use super::*;

    pub const WINDOW: Duration = Duration::from_secs(60);
    pub const MAX_PER_ADDRESS: u32 = 20;

    pub fn limits(from: IpAddr) -> [(IpAddr, u32); 1] {
        [(from, MAX_PER_ADDRESS)]
    }

    pub fn throttle() -> Throttle<IpAddr> {
        Throttle::new(WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_per_account_then_clears_on_success() {
        let t = sign_in::throttle();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..sign_in::MAX_PER_ACCOUNT {
            assert_eq!(t.refused(&sign_in::limits("a@x.io", ip)), None);
            t.failed(&sign_in::limits("A@x.io", ip));
        }
        assert!(t.refused(&sign_in::limits("a@x.io", ip)).is_some_and(|d| d <= sign_in::WINDOW));
        assert_eq!(t.refused(&sign_in::limits("b@x.io", ip)), None, "other accounts are not locked");
        t.clear(&sign_in::email("a@x.io"));
        assert_eq!(t.refused(&sign_in::limits("a@x.io", ip)), None);
    }

    #[test]
    fn refuses_an_address_that_tries_many_accounts() {
        let t = sign_in::throttle();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..sign_in::MAX_PER_ADDRESS {
            t.failed(&sign_in::limits(&format!("user{i}@x.io"), ip));
        }
        assert!(t.refused(&sign_in::limits("new@x.io", ip)).is_some());
        assert_eq!(t.refused(&sign_in::limits("new@x.io", "10.0.0.2".parse().unwrap())), None);
    }

    #[test]
    fn refuses_a_project_guessed_at_from_many_addresses() {
        let t = api_keys::throttle();
        let project = Uuid::new_v4();
        for i in 0..api_keys::MAX_PER_PROJECT {
            let from = IpAddr::from([10, 0, (i / 250) as u8, (i % 250) as u8]);
            assert_eq!(t.refused(&api_keys::limits(from, Some(project))), None);
            t.failed(&api_keys::limits(from, Some(project)));
        }
        let fresh: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(t.refused(&api_keys::limits(fresh, Some(project))).is_some());
        assert_eq!(t.refused(&api_keys::limits(fresh, Some(Uuid::new_v4()))), None);
    }
}
