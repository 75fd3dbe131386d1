//! What moves an instance's priority or puts it in FAULT: its interfaces (`track_interface`, and
//! the interfaces its addresses live on, as keepalived tracks them unless told not to) and
//! `track_script` results with keepalived's weight, rise and fall. Pure bookkeeping: the driver
//! polls the links and runs the scripts.

use std::time::Duration;

/// One `vrrp_script` as an instance tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedScript {
    pub name: String,
    pub argv: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    /// Added while the script succeeds (positive) or fails (negative); 0: FAULT when it fails.
    pub weight: i32,
    pub rise: u32,
    pub fall: u32,
}

/// A script's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScriptState {
    up: bool,
    successes: u32,
    failures: u32,
}

/// Everything tracked, and what follows for the instance.
#[derive(Debug, Clone)]
pub struct Tracking {
    base: u8,
    scripts: Vec<(TrackedScript, ScriptState)>,
    down_interfaces: Vec<String>,
}

/// The instance's priority and fault as the tracked objects set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub priority: u8,
    /// Why the instance must be in FAULT, if it must.
    pub fault: Option<String>,
}

impl Tracking {
    /// Scripts start up (keepalived without `init_fail`), interfaces up.
    pub fn new(base: u8, scripts: Vec<TrackedScript>) -> Self {
        let scripts = scripts.into_iter().map(|s| (s, ScriptState { up: true, successes: 0, failures: 0 })).collect();
        Tracking { base, scripts, down_interfaces: Vec::new() }
    }

    /// The scripts, to run.
    pub fn scripts(&self) -> impl Iterator<Item = &TrackedScript> {
        self.scripts.iter().map(|(s, _)| s)
    }

    /// Records one run of script `index`; returns whether its standing changed.
    pub fn script_result(&mut self, index: usize, ok: bool) -> bool {
        let Some((script, state)) = self.scripts.get_mut(index) else { return false };
        if ok {
            state.successes = state.successes.saturating_add(1);
            state.failures = 0;
            if !state.up && state.successes >= script.rise.max(1) {
                state.up = true;
                return true;
            }
        } else {
            state.failures = state.failures.saturating_add(1);
            state.successes = 0;
            if state.up && state.failures >= script.fall.max(1) {
                state.up = false;
                return true;
            }
        }
        false
    }

    /// Records which interfaces are down (no carrier or administratively down).
    pub fn set_down_interfaces(&mut self, down: Vec<String>) -> bool {
        let changed = down != self.down_interfaces;
        self.down_interfaces = down;
        changed
    }

    /// The priority and fault that follow.
    pub fn standing(&self) -> Standing {
        if let Some(interface) = self.down_interfaces.first() {
            return Standing { priority: self.base, fault: Some(format!("interface {interface} is down")) };
        }
        if let Some((script, _)) = self.scripts.iter().find(|(s, st)| s.weight == 0 && !st.up) {
            return Standing { priority: self.base, fault: Some(format!("track_script {} failed", script.name)) };
        }
        if self.base == 255 {
            return Standing { priority: 255, fault: None };
        }
        let mut priority = i32::from(self.base);
        for (script, state) in &self.scripts {
            if (script.weight > 0 && state.up) || (script.weight < 0 && !state.up) {
                priority += script.weight;
            }
        }
        Standing { priority: u8::try_from(priority.clamp(1, 254)).unwrap_or(1), fault: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(name: &str, weight: i32, rise: u32, fall: u32) -> TrackedScript {
        TrackedScript {
            name: name.into(),
            argv: vec!["/bin/true".into()],
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            weight,
            rise,
            fall,
        }
    }

    #[test]
    fn weights_rise_and_fall_as_keepalived_counts_them() {
        let mut t = Tracking::new(100, vec![script("minus", -30, 2, 2), script("plus", 20, 1, 1)]);
        assert_eq!(t.standing(), Standing { priority: 120, fault: None }, "both up: +20");
        assert!(!t.script_result(0, false), "one failure of fall 2 changes nothing");
        assert!(t.script_result(0, false));
        assert_eq!(t.standing().priority, 90);
        assert!(t.script_result(1, false));
        assert_eq!(t.standing().priority, 70);
        assert!(!t.script_result(0, true));
        assert!(t.script_result(0, true), "rise 2");
        assert_eq!(t.standing().priority, 100);
    }

    #[test]
    fn weight_zero_scripts_and_interfaces_fault_the_instance() {
        let mut t = Tracking::new(150, vec![script("chk", 0, 1, 1)]);
        t.script_result(0, false);
        assert_eq!(t.standing().fault.as_deref(), Some("track_script chk failed"));
        t.script_result(0, true);
        assert!(t.set_down_interfaces(vec!["eth1".into()]));
        assert_eq!(t.standing().fault.as_deref(), Some("interface eth1 is down"));
        assert!(!t.set_down_interfaces(vec!["eth1".into()]));
        t.set_down_interfaces(vec![]);
        assert_eq!(t.standing(), Standing { priority: 150, fault: None });
    }

    #[test]
    fn priorities_stay_in_range_and_the_owner_is_never_moved() {
        let t = Tracking::new(250, vec![script("up", 100, 1, 1)]);
        assert_eq!(t.standing().priority, 254);
        let mut owner = Tracking::new(255, vec![script("down", -100, 1, 1)]);
        owner.script_result(0, false);
        assert_eq!(owner.standing().priority, 255);
        let mut low = Tracking::new(10, vec![script("down", -100, 1, 1)]);
        low.script_result(0, false);
        assert_eq!(low.standing().priority, 1);
    }
}
