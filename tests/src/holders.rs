//! Who holds a floating address, sampled every 10 ms on a thread: the VRRP suites check with it
//! that two routers never held the address together for longer than a hand-over.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rvs_lab::Host;

/// The sampling thread; it stops when this is dropped.
pub struct HolderWatch {
    /// When, and how many of the hosts held the address.
    samples: Arc<Mutex<Vec<(Instant, usize)>>>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HolderWatch {
    /// Starts sampling which of `hosts` have `addr`.
    pub fn start(hosts: Vec<Host>, addr: Ipv4Addr) -> HolderWatch {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let running = Arc::new(AtomicBool::new(true));
        let thread = {
            let (samples, running) = (samples.clone(), running.clone());
            std::thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    let n = hosts.iter().filter(|h| h.has_ipv4(addr).unwrap_or(false)).count();
                    if let Ok(mut s) = samples.lock() {
                        s.push((Instant::now(), n));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        HolderWatch { samples, running, thread: Some(thread) }
    }

    /// Checks the samples so far: more than one holder only while one hands over to another,
    /// never for longer than `overlap` in a row. Returns the longest such time seen.
    pub fn assert_no_split_brain(&self, overlap: Duration) -> Duration {
        let samples = self.samples.lock().map(|s| s.clone()).unwrap_or_default();
        assert!(samples.len() > 10, "the watcher took {} samples", samples.len());
        let mut longest = Duration::ZERO;
        let mut since: Option<Instant> = None;
        for (at, n) in samples {
            match (n > 1, since) {
                (true, None) => since = Some(at),
                (true, Some(t)) => longest = longest.max(at - t),
                (false, _) => since = None,
            }
        }
        assert!(longest <= overlap, "two routers held the address for {longest:?} (more than {overlap:?})");
        longest
    }
}

impl Drop for HolderWatch {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
