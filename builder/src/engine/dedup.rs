//! One run per step per build. Instances that share leading steps (a build
//! stage before its `ARG TARGETPLATFORM`, serving every target) reach the
//! same step key at the same time: the first claims it and runs it, the
//! others wait for it and then find its result in the step cache. Under
//! `--no-cache` the cache still serves steps this build ran itself.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex};

/// Step keys being run now, and the ones this build has run.
#[derive(Debug, Default)]
pub struct InFlight {
    running: Mutex<BTreeSet<String>>,
    finished: Condvar,
    ran: Mutex<BTreeSet<String>>,
    /// Keys whose line progress has shown in this build.
    shown: Mutex<BTreeSet<String>>,
}

/// A claim on a step key; released (waking waiters) on drop, on every exit
/// path of the step.
#[derive(Debug)]
pub struct Claim<'a> {
    owner: &'a InFlight,
    key: Option<String>,
}

impl Claim<'_> {
    /// True if this caller runs the step; false if another instance ran it
    /// meanwhile (its result is in the cache now) or waiting failed.
    pub fn is_ours(&self) -> bool {
        self.key.is_some()
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            if let Ok(mut set) = self.owner.running.lock() {
                set.remove(&k);
            }
            self.owner.finished.notify_all();
        }
    }
}

impl InFlight {
    /// Claims `key`; if another worker holds it, waits until it is released
    /// and returns a claim that is not ours.
    pub fn claim(&self, key: &str) -> Claim<'_> {
        let ours = |key: Option<String>| Claim { owner: self, key };
        let Ok(mut set) = self.running.lock() else {
            return ours(Some(key.to_string()));
        };
        if set.insert(key.to_string()) {
            return ours(Some(key.to_string()));
        }
        while set.contains(key) {
            set = match self.finished.wait(set) {
                Ok(s) => s,
                Err(_) => return ours(None),
            };
        }
        ours(None)
    }

    /// Records that this build ran `key`.
    pub fn mark_ran(&self, key: &str) {
        if let Ok(mut set) = self.ran.lock() {
            set.insert(key.to_string());
        }
    }

    /// Whether this build ran `key`.
    pub fn ran(&self, key: &str) -> bool {
        self.ran.lock().is_ok_and(|set| set.contains(key))
    }

    /// True the first time it is asked for `key` in this build: a step
    /// several instances reach is shown (and counted as run or cached)
    /// once; the others share it.
    pub fn first_showing(&self, key: &str) -> bool {
        self.shown
            .lock()
            .is_ok_and(|mut set| set.insert(key.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn one_of_many_claimants_runs_the_step() {
        let f = InFlight::default();
        let runs = AtomicUsize::new(0);
        let barrier = std::sync::Barrier::new(6);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    barrier.wait();
                    let c = f.claim("k");
                    if c.is_ours() && !f.ran("k") {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        runs.fetch_add(1, Ordering::SeqCst);
                        f.mark_ran("k");
                    }
                });
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(f.claim("k").is_ours(), "released after use");
    }

    #[test]
    fn a_key_is_shown_once() {
        let f = InFlight::default();
        assert!(f.first_showing("k"));
        assert!(!f.first_showing("k"));
        assert!(f.first_showing("other"));
    }
}
