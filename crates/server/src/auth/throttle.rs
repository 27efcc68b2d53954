//! Slows down password guessing: after a few failed sign-ins for one email
//! address, or many from one client address, further attempts are refused
//! for a while. Counts are kept per node, in memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const MAX_PER_ACCOUNT: u32 = 5;
pub const MAX_PER_ADDRESS: u32 = 20;
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

fn keys(email: &str, ip: IpAddr) -> [(String, u32); 2] {
    [(format!("email:{}", email.trim().to_lowercase()), MAX_PER_ACCOUNT), (format!("ip:{ip}"), MAX_PER_ADDRESS)]
}

impl Throttle {
    /// `Some(wait)` when attempts for this email or from this address are
    /// refused for now.
    pub fn refused(&self, email: &str, ip: IpAddr) -> Option<Duration> {
        let failures = self.failures.lock().expect("throttle lock");
        keys(email, ip)
            .iter()
            .filter_map(|(key, max)| {
                let (count, since) = failures.get(key)?;
                let left = WINDOW.checked_sub(since.elapsed())?;
                (count >= max).then_some(left)
            })
            .max()
    }

    pub fn failed(&self, email: &str, ip: IpAddr) {
        let mut failures = self.failures.lock().expect("throttle lock");
        if failures.len() >= MAX_ENTRIES {
            failures.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        for (key, _) in keys(email, ip) {
            let entry = failures.entry(key).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    /// A successful sign-in clears its account's count (not the address's).
    pub fn succeeded(&self, email: &str) {
        let key = format!("email:{}", email.trim().to_lowercase());
        self.failures.lock().expect("throttle lock").remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_per_account_then_clears_on_success() {
        let t = Throttle::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..MAX_PER_ACCOUNT {
            assert_eq!(t.refused("a@x.io", ip), None);
            t.failed("A@x.io", ip);
        }
        assert!(t.refused("a@x.io", ip).is_some_and(|d| d <= WINDOW));
        assert_eq!(t.refused("b@x.io", ip), None, "other accounts are not locked");
        t.succeeded("a@x.io");
        assert_eq!(t.refused("a@x.io", ip), None);
    }

    #[test]
    fn refuses_an_address_that_tries_many_accounts() {
        let t = Throttle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..MAX_PER_ADDRESS {
            t.failed(&format!("user{i}@x.io"), ip);
        }
        assert!(t.refused("new@x.io", ip).is_some());
        assert_eq!(t.refused("new@x.io", "10.0.0.2".parse().unwrap()), None);
    }
}
