//! The periodic chores: expiring idle connections (a slice of the table every second), folding
//! counters into the
//! rate estimators (every 2 s, as IPVS), freeing unused trash destinations, and keeping the real
//! servers' next hops fresh (the director never sends them traffic through the kernel, so the
//! kernel would let those neighbour entries go stale).

use std::{sync::Arc, time::Duration};

use tokio::{sync::Mutex, time::interval};

use crate::director::Director;

const SWEEP: Duration = Duration::from_secs(1);
/// Connection entries examined per sweep tick: a table up to this size is swept every second;
/// a larger one over several seconds, so that no tick holds the daemon (or its lock) for long.
const SWEEP_BUDGET: usize = 131_072;
const NEIGHBOURS: Duration = Duration::from_secs(5);

/// Runs forever; aborted at shutdown.
pub async fn run(director: Arc<Mutex<Director>>) {
    let mut sweep = interval(SWEEP);
    let mut estimate = interval(rvs_core::est::SAMPLE_INTERVAL);
    let mut neighbours = interval(NEIGHBOURS);
    loop {
        tokio::select! {
            _ = sweep.tick() => {
                let mut d = director.lock().await;
                d.sweep(SWEEP_BUDGET);
                d.reap();
            }
            _ = estimate.tick() => director.lock().await.sample(),
            _ = neighbours.tick() => director.lock().await.refresh_neighbours().await,
        }
    }
}
