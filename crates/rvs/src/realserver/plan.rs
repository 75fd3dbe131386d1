//! What `up` does, in order, as data: the seeds' manual steps with their ordering rules
//! (ARP settings before any VIP exists, `all` before each interface; `rp_filter` relaxed and the
//! tunnel ready before the VIPs go on), so the order can be checked without a network.

use super::{
    spec::{Forwarding, IfName, Spec, Tunnel, Vip},
    state::Decap,
    sysctl::{Key, Scope, Setting},
};

/// The values of a sysctl a real server can live with, and the one `up` writes otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Values left alone.
    pub accept: &'static [u32],
    /// Written when the current value is not accepted.
    pub target: u32,
}

impl Rule {
    /// Whether `value` needs no change.
    pub fn accepts(self, value: u32) -> bool {
        self.accept.contains(&value)
    }
}

/// `arp_ignore`: 1 (answer only for addresses of the interface asked on; 2 is stricter and
/// also fine). The VIP lives on `lo` or a tunnel, so ARP requests for it go unanswered.
pub const ARP_IGNORE: Rule = Rule {
    accept: &[1, 2],
    target: 1,
};
/// `arp_announce`: 2 (always the best local source address in our own ARP requests, never the
/// VIP).
pub const ARP_ANNOUNCE: Rule = Rule {
    accept: &[2],
    target: 2,
};
/// `rp_filter` on `all` and the interface: anything but 1 (strict). Strict validation drops
/// decapsulated packets whose route back to the client leaves by another device; `up` turns a
/// strict 1 into loose 2, which keeps the spoofing check.
pub const RP_FILTER_LOOSE: Rule = Rule {
    accept: &[0, 2],
    target: 2,
};
/// `rp_filter` on the kernel's tunnel device: 0 as seed 004 sets it (2 is also fine).
pub const RP_FILTER_TUNNEL: Rule = Rule {
    accept: &[0, 2],
    target: 0,
};

/// One step of `up`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Bring a sysctl within its rule.
    Sysctl {
        /// The sysctl.
        key: Key,
        /// Its rule.
        rule: Rule,
    },
    /// Open a fou port for GUE.
    FouPort(u16),
    /// Set a device up.
    LinkUp(IfName),
    /// Install the XDP decapsulation program on the interface.
    DecapProgram {
        /// The interface.
        ifname: IfName,
        /// Its pin directory.
        pin_dir: std::path::PathBuf,
    },
    /// Put a VIP (as a /32) on a device.
    Vip {
        /// `lo` or the tunnel device.
        dev: IfName,
        /// The VIP.
        vip: Vip,
    },
}

/// The device that carries the VIPs.
pub fn vip_device(spec: &Spec, decap: Option<&Decap>) -> IfName {
    match decap {
        Some(Decap::Kernel { device }) if spec.is_tun() => device.clone(),
        _ => IfName::loopback(),
    }
}

/// The steps of `up` for `spec`, `decap` being how TUN packets are decapsulated (chosen by
/// `up` from what the kernel has; `None` in DR mode).
pub fn steps(spec: &Spec, decap: Option<&Decap>) -> Vec<Step> {
    let iface = Scope::If(spec.interface.clone());
    let lo = Scope::If(IfName::loopback());
    let sysctl = |scope: &Scope, setting, rule| Step::Sysctl {
        key: Key::new(scope.clone(), setting),
        rule,
    };
    let mut steps = Vec::new();
    for scope in [&Scope::All, &iface, &lo] {
        steps.push(sysctl(scope, Setting::ArpIgnore, ARP_IGNORE));
        steps.push(sysctl(scope, Setting::ArpAnnounce, ARP_ANNOUNCE));
    }
    if let Forwarding::Tun { tunnel, .. } = spec.forwarding {
        steps.push(sysctl(&Scope::All, Setting::RpFilter, RP_FILTER_LOOSE));
        steps.push(sysctl(&iface, Setting::RpFilter, RP_FILTER_LOOSE));
        match decap {
            Some(Decap::Kernel { device }) => {
                steps.push(sysctl(
                    &Scope::If(device.clone()),
                    Setting::RpFilter,
                    RP_FILTER_TUNNEL,
                ));
                if let Tunnel::Gue { port } = tunnel {
                    steps.push(Step::FouPort(port.get()));
                }
                steps.push(Step::LinkUp(device.clone()));
            }
            Some(Decap::Xdp { pin_dir }) => steps.push(Step::DecapProgram {
                ifname: spec.interface.clone(),
                pin_dir: pin_dir.clone(),
            }),
            None => {}
        }
    }
    let dev = vip_device(spec, decap);
    steps.extend(spec.vips.iter().map(|&vip| Step::Vip {
        dev: dev.clone(),
        vip,
    }));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realserver::spec::{DecapChoice, ModeArg, TunTypeArg};

    fn spec(mode: ModeArg, tun: Option<TunTypeArg>, port: Option<u16>) -> Spec {
        let vips: Vec<Vip> = ["10.0.0.100", "10.0.0.101"]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        let decap = (mode == ModeArg::Tun).then_some(DecapChoice::Auto);
        Spec::new(&vips, mode, tun, port, decap, "eth0".parse().unwrap()).unwrap()
    }

    /// Each step in one short line, to compare whole plans.
    fn show(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Sysctl { key, rule } => {
                    format!("{}.{}={}", key.scope, key.setting, rule.target)
                }
                Step::FouPort(p) => format!("fou {p}"),
                Step::LinkUp(d) => format!("up {d}"),
                Step::DecapProgram { ifname, .. } => format!("xdp {ifname}"),
                Step::Vip { dev, vip } => format!("{vip}/32 {dev}"),
            })
            .collect()
    }

    const ARP: [&str; 6] = [
        "all.arp_ignore=1",
        "all.arp_announce=2",
        "eth0.arp_ignore=1",
        "eth0.arp_announce=2",
        "lo.arp_ignore=1",
        "lo.arp_announce=2",
    ];

    #[test]
    fn dr_sets_arp_on_all_first_and_adds_the_vips_last() {
        let plan = show(&steps(&spec(ModeArg::Dr, None, None), None));
        let mut expected: Vec<String> = ARP.iter().map(|s| s.to_string()).collect();
        expected.extend(["10.0.0.100/32 lo".into(), "10.0.0.101/32 lo".into()]);
        assert_eq!(plan, expected);
    }

    #[test]
    fn kernel_ipip_relaxes_rp_filter_and_puts_the_vips_on_tunl0() {
        let decap = Decap::Kernel {
            device: "tunl0".parse().unwrap(),
        };
        let plan = show(&steps(&spec(ModeArg::Tun, None, None), Some(&decap)));
        assert_eq!(&plan[..6], ARP);
        assert_eq!(
            &plan[6..],
            [
                "all.rp_filter=2",
                "eth0.rp_filter=2",
                "tunl0.rp_filter=0",
                "up tunl0",
                "10.0.0.100/32 tunl0",
                "10.0.0.101/32 tunl0"
            ]
        );
    }

    #[test]
    fn kernel_gue_opens_its_port_before_tunl0_goes_up() {
        let decap = Decap::Kernel {
            device: "tunl0".parse().unwrap(),
        };
        let plan = show(&steps(
            &spec(ModeArg::Tun, Some(TunTypeArg::Gue), Some(5555)),
            Some(&decap),
        ));
        let fou = plan.iter().position(|s| s == "fou 5555").unwrap();
        let up = plan.iter().position(|s| s == "up tunl0").unwrap();
        let vip = plan
            .iter()
            .position(|s| s.ends_with("tunl0") && s.contains("/32"))
            .unwrap();
        assert!(fou < up && up < vip, "{plan:?}");
    }

    #[test]
    fn xdp_decap_is_installed_before_the_vips_go_on_lo() {
        let decap = Decap::Xdp {
            pin_dir: "/sys/fs/bpf/rvs/realserver-eth0".into(),
        };
        let plan = show(&steps(
            &spec(ModeArg::Tun, Some(TunTypeArg::Gre), None),
            Some(&decap),
        ));
        assert_eq!(
            &plan[6..],
            [
                "all.rp_filter=2",
                "eth0.rp_filter=2",
                "xdp eth0",
                "10.0.0.100/32 lo",
                "10.0.0.101/32 lo"
            ]
        );
    }

    #[test]
    fn rules_accept_what_works() {
        assert!(ARP_IGNORE.accepts(1) && ARP_IGNORE.accepts(2));
        assert!(!ARP_IGNORE.accepts(0) && !ARP_IGNORE.accepts(3) && !ARP_IGNORE.accepts(8));
        assert!(ARP_ANNOUNCE.accepts(2) && !ARP_ANNOUNCE.accepts(1));
        assert!(
            RP_FILTER_LOOSE.accepts(0) && RP_FILTER_LOOSE.accepts(2) && !RP_FILTER_LOOSE.accepts(1)
        );
        assert_eq!(RP_FILTER_TUNNEL.target, 0);
    }
}
