//! The periodic chores: expiring idle connections (a slice of the table every second), folding
//! counters into the
//! rate estimators (every 2 s, as IPVS), freeing unused trash destinations, and keeping the real
//! servers' next hops fresh (the director never sends them traffic through the kernel, so the
//! kernel would let those neighbour entries go stale), at once when one of the director's
//! interfaces gets its carrier back.

use std::{sync::Arc, time::Duration};

use tokio::{
    sync::{Mutex, watch},
    time::interval,
};

use crate::director::Director;

const SWEEP: Duration = Duration::from_secs(1);
/// Connection entries examined per sweep tick: a table up to this size is swept every second;
/// a larger one over several seconds, so that no tick holds the daemon (or its lock) for long.
const SWEEP_BUDGET: usize = 131_072;
const NEIGHBOURS: Duration = Duration::from_secs(5);

/// Runs forever; aborted at shutdown. `links_down` names the director's interfaces that are
/// down.
pub async fn run(director: Arc<Mutex<Director>>, mut links_down: watch::Receiver<Vec<String>>) {
    let mut sweep = interval(SWEEP);
    let mut estimate = interval(rvs_core::est::SAMPLE_INTERVAL);
    let mut neighbours = interval(NEIGHBOURS);
    let mut was_down = links_down.borrow_and_update().clone();
    let mut links_open = true;
    loop {
        tokio::select! {
            _ = sweep.tick() => {
                let mut d = director.lock().await;
                d.sweep(SWEEP_BUDGET);
                d.reap();
            }
            _ = estimate.tick() => director.lock().await.sample(),
            _ = neighbours.tick() => director.lock().await.refresh_neighbours().await,
            changed = links_down.changed(), if links_open => {
                if changed.is_err() {
                    links_open = false;
                    continue;
                }
                let down = links_down.borrow_and_update().clone();
                let back: Vec<u32> = was_down.iter().filter(|n| !down.contains(n)).filter_map(|n| crate::interface_index(n)).collect();
                was_down = down;
                if !back.is_empty() {
                    let (resolver, hops) = director.lock().await.links_restored(&back).await;
                    tokio::spawn(crate::relink::chase(resolver, hops));
                }
            }
        }
    }
}
