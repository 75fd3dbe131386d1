//! Where the work runs. The machine this was written on has two CPUs; the benchmark gives one
//! to the traffic generator (and rvsd's own housekeeping) and the other to the network path
//! under test: switch, director, real server. The path's packet rate on its one CPU is then the
//! figure, and the generator, with a CPU of its own, offers more than the path can carry.
//!
//! Frames the generator transmits land in the NAPI ring of the switch port it is plugged into.
//! That port gets a NAPI thread of its own, on the path's CPU, so that everything after the
//! ring (bridging, the director, the real server) runs there, and an overloaded path sheds
//! frames where a real one does: at the entry ring (a NIC's RX ring), never in the middle.
//! (Receive packet steering would move the work too, but then the frames coming in from the
//! generator and those between the path's hops share one backlog queue; once it is full the
//! later hops lose their frames to new arrivals and the delivered rate collapses.)

use std::ffi::CString;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Runs the calling thread on `cpu` only.
pub fn pin_current_thread(cpu: usize) -> Result<()> {
    let set = cpu_set(cpu)?;
    // SAFETY: sched_setaffinity reads `set`, which lives across the call; pid 0 is this thread.
    let rc = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("pinning a thread to CPU {cpu}"));
    }
    Ok(())
}

/// A set holding only `cpu`.
pub fn cpu_set(cpu: usize) -> Result<libc::cpu_set_t> {
    if cpu >= libc::CPU_SETSIZE as usize {
        bail!("CPU {cpu} out of range");
    }
    // SAFETY: cpu_set_t is plain bits; all zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` was checked to be inside the set just above.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    Ok(set)
}

/// Number of CPUs this process may run on.
pub fn online_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Index of `interface` in the calling thread's network namespace.
pub fn if_index(interface: &str) -> Result<u32> {
    let name = CString::new(interface).context("interface name with a NUL byte")?;
    // SAFETY: a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        bail!("no interface {interface} here");
    }
    Ok(index)
}

/// Gives `interface` of namespace `netns` (which must have a NAPI instance: GRO on) a NAPI
/// thread of its own, runs that thread on `cpu`, and returns its pid.
///
/// Per-namespace sysfs is only visible to a process that mounted sysfs inside the namespace,
/// which is what `ip netns exec` does. The kernel names the thread `napi/<interface>-<id>`,
/// cut to 15 bytes, so names alone cannot tell our thread from another lab's: the thread that
/// appears when the switch is made is ours.
pub fn thread_napi(netns: &str, interface: &str, cpu: usize) -> Result<Vec<u32>> {
    let before = napi_threads(interface);
    let path = format!("/sys/class/net/{interface}/threaded");
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            netns,
            "sh",
            "-c",
            "echo 1 > \"$1\"",
            "sh",
            &path,
        ])
        .output()
        .context("running ip netns exec")?;
    if !out.status.success() {
        bail!(
            "setting {path} in {netns}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let new: Vec<u32> = napi_threads(interface)
        .into_iter()
        .filter(|pid| !before.contains(pid))
        .collect();
    if new.is_empty() {
        bail!("no NAPI thread appeared for {interface} in {netns}");
    }
    let set = cpu_set(cpu)?;
    for &pid in &new {
        // SAFETY: sched_setaffinity reads `set`, which lives across the call.
        if unsafe {
            libc::sched_setaffinity(pid as libc::pid_t, size_of::<libc::cpu_set_t>(), &set)
        } != 0
        {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("moving NAPI thread {pid} of {interface} to CPU {cpu}"));
        }
    }
    Ok(new)
}

/// Pids of the kernel threads whose name is what the NAPI threads of `interface` are called.
fn napi_threads(interface: &str) -> Vec<u32> {
    let name = napi_thread_name(interface);
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end().starts_with(&name))
        })
        .collect()
}

/// `napi/<interface>-`, cut to what fits in a thread name (15 bytes).
fn napi_thread_name(interface: &str) -> String {
    let mut name = format!("napi/{interface}-");
    name.truncate(15);
    name
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cpu_sets_hold_one_cpu() {
        let set = cpu_set(1).unwrap();
        // SAFETY: both indexes are inside the set.
        let (one, zero) = unsafe { (libc::CPU_ISSET(1, &set), libc::CPU_ISSET(0, &set)) };
        assert!(one && !zero);
        assert!(cpu_set(libc::CPU_SETSIZE as usize).is_err());
    }

    #[test]
    fn napi_thread_names_are_cut_as_the_kernel_cuts_them() {
        assert_eq!(napi_thread_name("eth0"), "napi/eth0-");
        assert_eq!(napi_thread_name("client-eth0"), "napi/client-eth");
    }

    #[test]
    fn loopback_has_an_index_and_nonsense_has_none() {
        assert!(if_index("lo").unwrap() > 0);
        assert!(if_index("no-such-if0").is_err());
    }
}
