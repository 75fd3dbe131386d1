//! What NAT needs from the director's kernel, checked or set when the first masqueraded real
//! server is configured:
//!
//! - IP forwarding on the interfaces (as IPVS NAT needs it): the XDP path's `bpf_fib_lookup`
//!   refuses to forward otherwise, and so does the kernel's routing it falls back to. rvsd warns;
//!   it does not change the operator's routing policy.
//! - `accept_local` on the interfaces rvsd runs on: a reply already rewritten to come from the
//!   virtual address that the XDP path hands to the kernel (next hop not resolved yet) has a
//!   local source address, which the kernel would drop as a martian otherwise. This one is an
//!   rvs implementation detail, so rvsd sets it and restores it at exit.

use std::path::PathBuf;

/// Sysctls rvsd changed, with their previous values, restored on drop.
#[derive(Debug, Default)]
pub struct NatHost {
    prepared: bool,
    changed: Vec<(PathBuf, String)>,
}

fn conf(ifname: &str, key: &str) -> PathBuf {
    PathBuf::from(format!("/proc/sys/net/ipv4/conf/{ifname}/{key}"))
}

impl NatHost {
    /// Prepares the interfaces once (later calls do nothing).
    pub fn prepare(&mut self, interfaces: &[String]) {
        if self.prepared {
            return;
        }
        self.prepared = true;
        for ifname in interfaces {
            match std::fs::read_to_string(conf(ifname, "forwarding")) {
                Ok(v) if v.trim() == "0" => tracing::warn!(
                    interface = %ifname,
                    "NAT needs IP forwarding, which is off on this interface: sysctl -w net.ipv4.ip_forward=1"
                ),
                _ => {}
            }
            let path = conf(ifname, "accept_local");
            match std::fs::read_to_string(&path) {
                Ok(v) if v.trim() != "1" => match std::fs::write(&path, "1") {
                    Ok(()) => {
                        tracing::info!(interface = %ifname, "set accept_local=1 for NAT replies routed by the kernel");
                        self.changed.push((path, v.trim().to_string()));
                    }
                    Err(e) => tracing::warn!(interface = %ifname, error = %e, "cannot set accept_local"),
                },
                _ => {}
            }
        }
    }
}

impl Drop for NatHost {
    fn drop(&mut self) {
        for (path, value) in self.changed.drain(..) {
            if let Err(e) = std::fs::write(&path, &value) {
                tracing::warn!(path = %path.display(), error = %e, "cannot restore");
            }
        }
    }
}
