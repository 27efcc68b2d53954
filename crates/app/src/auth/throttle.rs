//! Slows down guessing: failures are counted per key (an account and a
//! client address, a client address, a project) within a window, and once a
//! key has reached its limit further failures are answered 429 until the
//! window has passed. Counts are kept per node, in memory.
//!
//! Valid credentials are never refused for failures counted against their
//! client address or project: the credential is checked first, and only a
//! failed check meets the throttle. The one exception is the pair of an
//! account and an address, locked after a few wrong passwords whatever
//! comes next (else guessing could go on until it succeeds); it locks no one
//! else out, neither the account's owner elsewhere nor others behind the
//! same address.

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

    /// A failed attempt: `Err(wait)` when a limit had been reached already
    /// (answer 429), otherwise counted.
    pub fn on_failure(&self, limits: &[(K, u32)]) -> Result<(), Duration> {
        match self.refused(limits) {
            Some(wait) => Err(wait),
            None => {
                self.failed(limits);
                Ok(())
            }
        }
    }

    pub fn clear(&self, key: &K) {
        self.failures.lock().expect("throttle lock").remove(key);
    }
}

/// Password guessing, within 15 minutes: an account and a client address
/// are locked together after `sign_in_per_account` wrong passwords (5); a
/// client address's wrong passwords for any account are answered 429 after
/// `sign_in_per_address` (20), while its right ones still sign in.
pub mod sign_in {
    use super::*;
    use crate::settings::Throttles;

    pub const WINDOW: Duration = Duration::from_secs(15 * 60);

    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum Key {
        AccountFrom(String, IpAddr),
        Address(IpAddr),
    }

    impl Key {
        /// An account (by its email) at one client address.
        pub fn account(email: &str, from: IpAddr) -> Self {
            Key::AccountFrom(email.trim().to_lowercase(), from)
        }
    }

    pub fn account(email: &str, from: IpAddr, max: &Throttles) -> [(Key, u32); 1] {
        [(Key::account(email, from), max.sign_in_per_account)]
    }

    /// Both limits a wrong password counts against.
    pub fn limits(email: &str, from: IpAddr, max: &Throttles) -> [(Key, u32); 2] {
        let [account] = account(email, from, max);
        [account, (Key::Address(from), max.sign_in_per_address)]
    }

    pub fn throttle() -> Throttle<Key> {
        Throttle::new(WINDOW)
    }
}

/// API-key guessing: failed key checks (a `verify` that answers
/// `is_valid: false`, or a bearer key that is refused) from one client
/// address (`keys_per_address`, 20), or 200 against one project, within a
/// minute; beyond them further wrong keys are answered 429.
pub mod api_keys {
    use super::*;

    pub const WINDOW: Duration = Duration::from_secs(60);
    pub const MAX_PER_PROJECT: u32 = 200;

    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum Key {
        Address(IpAddr),
        Project(Uuid),
    }

    pub fn limits(from: IpAddr, project: Option<Uuid>, per_address: u32) -> Vec<(Key, u32)> {
        let mut limits = vec![(Key::Address(from), per_address)];
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

/// Invites sent by one account: counted per hour, so that no one mails the
/// world from a team.
pub mod invites {
    use super::*;

    pub fn throttle() -> Throttle<Uuid> {
        Throttle::new(Duration::from_secs(3600))
    }
}

pub mod mail {
    use super::*;

    /// Letters per address (lower case), counted whether or not they went out.
    pub fn throttle() -> Throttle<String> {
        Throttle::new(Duration::from_secs(3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::settings::Throttles;

    #[test]
    fn locks_an_account_at_one_address_only() {
        let t = sign_in::throttle();
        let max = Throttles::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let elsewhere: IpAddr = "192.0.2.9".parse().unwrap();
        for _ in 0..max.sign_in_per_account {
            assert_eq!(t.on_failure(&sign_in::limits("A@x.io", ip, &max)), Ok(()));
        }
        assert!(t.refused(&sign_in::account("a@x.io", ip, &max)).is_some_and(|d| d <= sign_in::WINDOW));
        assert_eq!(t.refused(&sign_in::account("a@x.io", elsewhere, &max)), None, "the owner elsewhere is not locked");
        assert_eq!(t.refused(&sign_in::account("b@x.io", ip, &max)), None, "other accounts are not locked");
        t.clear(&sign_in::Key::account("a@x.io", ip));
        assert_eq!(t.refused(&sign_in::account("a@x.io", ip, &max)), None);
    }

    #[test]
    fn an_address_that_tries_many_accounts_gets_429_for_wrong_passwords() {
        let t = sign_in::throttle();
        let max = Throttles::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..max.sign_in_per_address {
            assert_eq!(t.on_failure(&sign_in::limits(&format!("user{i}@x.io"), ip, &max)), Ok(()));
        }
        assert!(t.on_failure(&sign_in::limits("new@x.io", ip, &max)).is_err());
        assert_eq!(t.refused(&sign_in::account("new@x.io", ip, &max)), None, "a right password would still pass");
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(t.on_failure(&sign_in::limits("new@x.io", other, &max)), Ok(()));
    }

    #[test]
    fn refuses_a_project_guessed_at_from_many_addresses() {
        let t = api_keys::throttle();
        let project = Uuid::new_v4();
        for i in 0..api_keys::MAX_PER_PROJECT {
            let from = IpAddr::from([10, 0, (i / 250) as u8, (i % 250) as u8]);
            assert_eq!(t.on_failure(&api_keys::limits(from, Some(project), 20)), Ok(()));
        }
        let fresh: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(t.on_failure(&api_keys::limits(fresh, Some(project), 20)).is_err());
        assert_eq!(t.refused(&api_keys::limits(fresh, Some(Uuid::new_v4()), 20)), None);
    }
}
