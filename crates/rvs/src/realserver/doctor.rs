//! `rvs realserver status`: what a real server needs, checked one thing at a time against facts
//! gathered from the host, each with a one-line reason. Pure: the facts come in as data.

use std::{collections::BTreeMap, fmt, net::Ipv4Addr};

use super::{
    decap::XdpDecap,
    net::{Addr, DefaultRoute, Link},
    plan::{self, ARP_ANNOUNCE, ARP_IGNORE},
    spec::{Forwarding, IfName, Spec, Tunnel},
    state::Decap,
    sysctl::{Effective, Key, Scope, Setting},
};

/// What the doctor looked at.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Every interface.
    pub links: Vec<Link>,
    /// Every IPv4 address.
    pub addrs: Vec<Addr>,
    /// `arp_ignore`, `arp_announce` and `rp_filter` of `all` and of every interface.
    pub sysctls: BTreeMap<Key, u32>,
    /// The default route.
    pub default_route: Option<DefaultRoute>,
    /// Open GUE ports (`None`: the kernel has no fou).
    pub fou_ports: Option<Vec<u16>>,
    /// The XDP decapsulation program found at the expected pin directory.
    pub xdp: Option<XdpDecap>,
}

impl Facts {
    fn effective(&self, ifname: &str, setting: Setting) -> Option<Effective> {
        let scope = Scope::If(ifname.parse().ok()?);
        Some(Effective {
            all: *self.sysctls.get(&Key::new(Scope::All, setting))?,
            own: *self.sysctls.get(&Key::new(scope, setting))?,
        })
    }

    fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    fn addrs_of(&self, dev: &str) -> Vec<&Addr> {
        self.addrs.iter().filter(|a| a.dev == dev).collect()
    }
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Passed.
    pub pass: bool,
    /// `<what>: <why>`.
    pub text: String,
}

impl Check {
    fn pass(text: String) -> Check {
        Check { pass: true, text }
    }

    fn fail(text: String) -> Check {
        Check { pass: false, text }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            if self.pass { "PASS" } else { "FAIL" },
            self.text
        )
    }
}

/// Every check for `spec`, `decap` being how TUN packets are expected to be decapsulated.
pub fn checks(spec: &Spec, decap: Option<&Decap>, facts: &Facts) -> Vec<Check> {
    let mut out = Vec::new();
    let iface = &spec.interface;
    let Some(link) = facts.link(iface.as_str()) else {
        out.push(Check::fail(format!(
            "there is no interface {iface}: the director cannot reach this host through it"
        )));
        return out;
    };
    out.push(interface_check(spec, link, facts));
    // The interface first, then every other interface that speaks ARP.
    let mut arp_links = vec![link];
    arp_links.extend(
        facts
            .links
            .iter()
            .filter(|l| l.up && !l.loopback && !l.noarp && l.name != link.name),
    );
    for l in arp_links {
        out.extend(arp_checks(&l.name, facts));
    }
    let vip_dev = plan::vip_device(spec, decap);
    out.extend(
        spec.vips
            .iter()
            .map(|vip| vip_check(vip.addr(), &vip_dev, facts)),
    );
    if let Forwarding::Tun { tunnel, .. } = spec.forwarding {
        let rp_dev = match decap {
            Some(Decap::Kernel { device }) => device.clone(),
            _ => iface.clone(),
        };
        out.push(rp_filter_check(&rp_dev, facts));
        match decap {
            Some(Decap::Kernel { device }) => out.extend(kernel_checks(tunnel, device, facts)),
            Some(Decap::Xdp { .. }) | None => out.push(xdp_check(tunnel, iface, facts)),
        }
    }
    out.push(route_check(facts));
    out
}

fn interface_check(spec: &Spec, link: &Link, facts: &Facts) -> Check {
    let name = &link.name;
    if !link.up {
        return Check::fail(format!(
            "interface {name} is down: the director's packets cannot arrive"
        ));
    }
    let addrs: Vec<String> = facts
        .addrs_of(name)
        .iter()
        .map(|a| format!("{}/{}", a.addr, a.prefix_len))
        .collect();
    if addrs.is_empty() {
        let why = if spec.is_tun() {
            "the director sends tunnelled packets to an address of this interface"
        } else {
            "the director and the clients cannot reach this host through it"
        };
        return Check::fail(format!("interface {name} has no IPv4 address: {why}"));
    }
    Check::pass(format!(
        "interface {name} is up with {}: the director reaches this host there",
        addrs.join(", ")
    ))
}

fn arp_checks(ifname: &str, facts: &Facts) -> Vec<Check> {
    let Ok(name) = ifname.parse::<IfName>() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match facts.effective(ifname, Setting::ArpIgnore) {
        None => out.push(Check::fail(format!(
            "arp_ignore on {ifname} cannot be read"
        ))),
        Some(e) => {
            let v = e.value();
            let shown = e.describe(&name);
            out.push(if ARP_IGNORE.accepts(v) {
                Check::pass(format!("arp_ignore on {ifname} is {shown}: ARP requests for the VIP go unanswered here"))
            } else if v == 8 {
                Check::fail(format!(
                    "arp_ignore on {ifname} is {shown}: this host answers no ARP at all, not even for its own \
                     address, so the director cannot reach it (use 1)"
                ))
            } else {
                Check::fail(format!(
                    "arp_ignore on {ifname} is {shown}: this host would answer ARP for the VIP and steal traffic"
                ))
            });
        }
    }
    match facts.effective(ifname, Setting::ArpAnnounce) {
        None => out.push(Check::fail(format!(
            "arp_announce on {ifname} cannot be read"
        ))),
        Some(e) => {
            let shown = e.describe(&name);
            out.push(if ARP_ANNOUNCE.accepts(e.value()) {
                Check::pass(format!("arp_announce on {ifname} is {shown}: this host's ARP requests never carry the VIP"))
            } else {
                Check::fail(format!(
                    "arp_announce on {ifname} is {shown}: this host's ARP requests may carry the VIP as their \
                     sender, and neighbours would then send the VIP's traffic here (use 2)"
                ))
            });
        }
    }
    out
}

fn vip_check(vip: Ipv4Addr, dev: &IfName, facts: &Facts) -> Check {
    let found: Vec<&Addr> = facts.addrs.iter().filter(|a| a.addr == vip).collect();
    if let Some(elsewhere) = found.iter().find(|a| a.dev != dev.as_str()) {
        let arp = facts
            .link(&elsewhere.dev)
            .is_some_and(|l| !l.noarp && !l.loopback);
        let why = if arp {
            format!(
                "this host would answer ARP for it on {} and steal traffic from the director",
                elsewhere.dev
            )
        } else {
            format!("it belongs on {dev} only")
        };
        return Check::fail(format!(
            "VIP {vip} is on {} as /{}: {why}",
            elsewhere.dev, elsewhere.prefix_len
        ));
    }
    match found.first() {
        None => Check::fail(format!(
            "VIP {vip} is not on {dev}: this host would drop the packets the director sends it"
        )),
        Some(a) if a.prefix_len != 32 => Check::fail(format!(
            "VIP {vip} is on {dev} as /{}, not /32: every address of that network would be taken for this \
             host's own, and replies to them would loop",
            a.prefix_len
        )),
        Some(_) => Check::pass(format!(
            "VIP {vip}/32 is on {dev}: packets the director forwards to it are accepted"
        )),
    }
}

fn rp_filter_check(dev: &IfName, facts: &Facts) -> Check {
    match facts.effective(dev.as_str(), Setting::RpFilter) {
        None => Check::fail(format!(
            "rp_filter on {dev} cannot be read (no such interface)"
        )),
        Some(e) if e.value() == 1 => Check::fail(format!(
            "rp_filter on {dev} is {}: strict reverse-path filtering drops decapsulated packets whose route \
             back to the client does not leave through {dev}",
            e.describe(dev)
        )),
        Some(e) => Check::pass(format!(
            "rp_filter on {dev} is {}: decapsulated packets from clients are not dropped",
            e.describe(dev)
        )),
    }
}

fn kernel_checks(tunnel: Tunnel, device: &IfName, facts: &Facts) -> Vec<Check> {
    let mut out = vec![match facts.link(device.as_str()) {
        None => Check::fail(format!(
            "there is no {device}: the kernel cannot decapsulate {} here (its module is not loaded)",
            tunnel.name()
        )),
        Some(l) if !l.up => Check::fail(format!(
            "{device} is down: the kernel drops {} packets",
            tunnel.name()
        )),
        Some(_) => Check::pass(format!(
            "{device} is up: the kernel decapsulates {} packets sent to this host's addresses",
            tunnel.name()
        )),
    }];
    if let Tunnel::Gue { port } = tunnel {
        out.push(match &facts.fou_ports {
            None => Check::fail("the kernel has no fou module: GUE packets cannot be decapsulated".to_owned()),
            Some(ports) if ports.contains(&port.get()) => {
                Check::pass(format!("GUE port {port} is open (ip fou): the kernel unwraps the director's UDP packets"))
            }
            Some(_) => Check::fail(format!(
                "no GUE receive port {port} (ip fou add port {port} gue): the director's UDP packets are dropped"
            )),
        });
    }
    out
}

fn xdp_check(tunnel: Tunnel, iface: &IfName, facts: &Facts) -> Check {
    let Some(xdp) = &facts.xdp else {
        return Check::fail(format!(
            "no rvs decapsulation program on {iface}: the director's {} packets would be dropped \
             (the kernel here does not decapsulate them)",
            tunnel.name()
        ));
    };
    if !xdp.attached {
        return Check::fail(format!(
            "the rvs decapsulation program for {iface} is pinned but not attached (its interface went away?): \
             the director's {} packets would be dropped; run `up` again",
            tunnel.name()
        ));
    }
    if xdp.ifname.as_deref().is_some_and(|n| n != iface.as_str()) {
        return Check::fail(format!(
            "the rvs decapsulation program is attached to {}, not {iface}",
            xdp.ifname.as_deref().unwrap_or("?")
        ));
    }
    let handles = match tunnel {
        Tunnel::Ipip => xdp.ipip,
        Tunnel::Gre => xdp.gre,
        Tunnel::Gue { port } => xdp.gue_ports.contains(&port.get()),
    };
    if !handles {
        return Check::fail(format!(
            "the rvs decapsulation program on {iface} is not set up for {}",
            describe(tunnel)
        ));
    }
    let own: Vec<Ipv4Addr> = facts
        .addrs_of(iface.as_str())
        .iter()
        .map(|a| a.addr)
        .collect();
    if !own.iter().any(|a| xdp.addrs.contains(a)) {
        return Check::fail(format!(
            "the rvs decapsulation program on {iface} waits for packets to {}, none of which is {iface}'s address now",
            join(&xdp.addrs)
        ));
    }
    Check::pass(format!(
        "the rvs decapsulation program is attached to {iface}: {} packets to {} are unwrapped",
        describe(tunnel),
        join(&xdp.addrs)
    ))
}

fn route_check(facts: &Facts) -> Check {
    match &facts.default_route {
        None => Check::fail(
            "there is no default route: replies to clients beyond this host's own networks cannot leave".to_owned(),
        ),
        Some(r) => {
            let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
            Check::pass(format!("default route{via} dev {}: replies go straight to the clients", r.dev))
        }
    }
}

fn describe(tunnel: Tunnel) -> String {
    match tunnel {
        Tunnel::Gue { port } => format!("gue (port {port})"),
        other => other.name().to_owned(),
    }
}

fn join(addrs: &[Ipv4Addr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realserver::spec::{DecapChoice, ModeArg, TunTypeArg, Vip};

    fn link(index: u32, name: &str, loopback: bool, noarp: bool) -> Link {
        Link {
            index,
            name: name.into(),
            up: true,
            loopback,
            noarp,
        }
    }

    fn addr(dev: &str, a: [u8; 4], prefix_len: u8) -> Addr {
        Addr {
            index: 0,
            dev: dev.into(),
            addr: a.into(),
            prefix_len,
        }
    }

    /// A DR real server as seed 000 leaves it.
    fn prepared() -> Facts {
        let mut sysctls = BTreeMap::new();
        for scope in ["all", "eth0", "lo"] {
            let scope = if scope == "all" {
                Scope::All
            } else {
                Scope::If(scope.parse().unwrap())
            };
            sysctls.insert(Key::new(scope.clone(), Setting::ArpIgnore), 1);
            sysctls.insert(Key::new(scope.clone(), Setting::ArpAnnounce), 2);
            sysctls.insert(Key::new(scope, Setting::RpFilter), 0);
        }
        Facts {
            links: vec![link(1, "lo", true, false), link(2, "eth0", false, false)],
            addrs: vec![
                addr("lo", [127, 0, 0, 1], 8),
                addr("eth0", [192, 168, 0, 11], 24),
                addr("lo", [192, 168, 0, 100], 32),
            ],
            sysctls,
            default_route: Some(DefaultRoute {
                dev: "eth0".into(),
                gateway: Some([192, 168, 0, 10].into()),
            }),
            fou_ports: None,
            xdp: None,
        }
    }

    fn dr() -> Spec {
        let vip: Vip = "192.168.0.100".parse().unwrap();
        Spec::new(
            &[vip],
            ModeArg::Dr,
            None,
            None,
            None,
            "eth0".parse().unwrap(),
        )
        .unwrap()
    }

    fn failures(checks: &[Check]) -> Vec<String> {
        checks
            .iter()
            .filter(|c| !c.pass)
            .map(|c| c.to_string())
            .collect()
    }

    fn set(facts: &mut Facts, scope: &str, setting: Setting, value: u32) {
        let scope = if scope == "all" {
            Scope::All
        } else {
            Scope::If(scope.parse().unwrap())
        };
        facts.sysctls.insert(Key::new(scope, setting), value);
    }

    #[test]
    fn a_prepared_dr_host_passes_everything() {
        let checks = checks(&dr(), None, &prepared());
        assert!(failures(&checks).is_empty(), "{checks:#?}");
        let text: Vec<String> = checks.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 5, "{text:#?}");
        assert!(
            text[1].starts_with("PASS arp_ignore on eth0 is 1 (all 1, eth0 1)"),
            "{text:#?}"
        );
        assert!(
            text[3].starts_with("PASS VIP 192.168.0.100/32 is on lo"),
            "{text:#?}"
        );
        assert!(
            text[4].starts_with("PASS default route via 192.168.0.10 dev eth0"),
            "{text:#?}"
        );
    }

    #[test]
    fn arp_ignore_uses_the_larger_of_all_and_the_interface() {
        let mut facts = prepared();
        set(&mut facts, "all", Setting::ArpIgnore, 0);
        set(&mut facts, "eth0", Setting::ArpIgnore, 0);
        assert_eq!(
            failures(&checks(&dr(), None, &facts)),
            [
                "FAIL arp_ignore on eth0 is 0 (all 0, eth0 0): this host would answer ARP for the VIP and steal traffic"
            ]
        );
        // `all` alone is enough, as in seed 003.
        set(&mut facts, "all", Setting::ArpIgnore, 1);
        assert!(failures(&checks(&dr(), None, &facts)).is_empty());
        set(&mut facts, "eth0", Setting::ArpIgnore, 8);
        let f = failures(&checks(&dr(), None, &facts));
        assert!(
            f.len() == 1 && f[0].contains("answers no ARP at all"),
            "{f:?}"
        );
    }

    #[test]
    fn arp_announce_below_2_fails() {
        let mut facts = prepared();
        set(&mut facts, "all", Setting::ArpAnnounce, 1);
        set(&mut facts, "eth0", Setting::ArpAnnounce, 0);
        let f = failures(&checks(&dr(), None, &facts));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].starts_with("FAIL arp_announce on eth0 is 1 (all 1, eth0 0)"),
            "{f:?}"
        );
    }

    #[test]
    fn other_arp_interfaces_are_checked_but_tunnels_are_not() {
        let mut facts = prepared();
        facts.links.push(link(3, "eth1", false, false));
        facts.links.push(link(4, "tunl0", false, true));
        set(&mut facts, "eth1", Setting::ArpIgnore, 0);
        set(&mut facts, "eth1", Setting::ArpAnnounce, 0);
        set(&mut facts, "all", Setting::ArpIgnore, 0);
        set(&mut facts, "eth0", Setting::ArpIgnore, 1);
        let f = failures(&checks(&dr(), None, &facts));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].starts_with("FAIL arp_ignore on eth1 is 0"), "{f:?}");
    }

    #[test]
    fn vips_missing_misplaced_or_too_wide_fail() {
        let mut facts = prepared();
        facts
            .addrs
            .retain(|a| a.addr != Ipv4Addr::new(192, 168, 0, 100));
        let f = failures(&checks(&dr(), None, &facts));
        assert_eq!(
            f,
            [
                "FAIL VIP 192.168.0.100 is not on lo: this host would drop the packets the director sends it"
            ]
        );
        facts.addrs.push(addr("lo", [192, 168, 0, 100], 24));
        let f = failures(&checks(&dr(), None, &facts));
        assert!(f.len() == 1 && f[0].contains("as /24, not /32"), "{f:?}");
        facts.addrs.pop();
        facts.addrs.push(addr("eth0", [192, 168, 0, 100], 24));
        let f = failures(&checks(&dr(), None, &facts));
        assert!(
            f.len() == 1 && f[0].contains("would answer ARP for it on eth0"),
            "{f:?}"
        );
    }

    #[test]
    fn no_default_route_fails() {
        let mut facts = prepared();
        facts.default_route = None;
        let f = failures(&checks(&dr(), None, &facts));
        assert!(f.len() == 1 && f[0].contains("no default route"), "{f:?}");
    }

    fn tun(tunnel: TunTypeArg, port: Option<u16>) -> Spec {
        let vip: Vip = "192.168.0.100".parse().unwrap();
        Spec::new(
            &[vip],
            ModeArg::Tun,
            Some(tunnel),
            port,
            Some(DecapChoice::Auto),
            "eth0".parse().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn kernel_tunnels_need_the_device_up_and_rp_filter_relaxed() {
        let mut facts = prepared();
        facts.links.push(link(4, "tunl0", false, true));
        facts.addrs.retain(|a| a.dev != "lo" || a.prefix_len != 32);
        facts.addrs.push(addr("tunl0", [192, 168, 0, 100], 32));
        set(&mut facts, "tunl0", Setting::RpFilter, 0);
        set(&mut facts, "tunl0", Setting::ArpIgnore, 0);
        set(&mut facts, "tunl0", Setting::ArpAnnounce, 0);
        let decap = Decap::Kernel {
            device: "tunl0".parse().unwrap(),
        };
        let spec = tun(TunTypeArg::Ipip, None);
        let all = checks(&spec, Some(&decap), &facts);
        assert!(failures(&all).is_empty(), "{all:#?}");
        assert!(
            all.iter().any(|c| c.text.starts_with("tunl0 is up")),
            "{all:#?}"
        );
        set(&mut facts, "all", Setting::RpFilter, 1);
        let f = failures(&checks(&spec, Some(&decap), &facts));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].starts_with("FAIL rp_filter on tunl0 is 1 (all 1, tunl0 0): strict"),
            "{f:?}"
        );
        let gue = tun(TunTypeArg::Gue, Some(5555));
        set(&mut facts, "all", Setting::RpFilter, 2);
        facts.fou_ports = Some(vec![6000]);
        let f = failures(&checks(&gue, Some(&decap), &facts));
        assert!(
            f.len() == 1 && f[0].contains("no GUE receive port 5555"),
            "{f:?}"
        );
        facts.fou_ports = Some(vec![5555]);
        assert!(failures(&checks(&gue, Some(&decap), &facts)).is_empty());
    }

    #[test]
    fn xdp_decap_must_be_attached_for_the_right_tunnel_and_address() {
        let mut facts = prepared();
        let decap = Decap::Xdp {
            pin_dir: "/sys/fs/bpf/rvs/realserver-eth0".into(),
        };
        let spec = tun(TunTypeArg::Gre, None);
        let f = failures(&checks(&spec, Some(&decap), &facts));
        assert!(
            f.len() == 1 && f[0].starts_with("FAIL no rvs decapsulation program on eth0"),
            "{f:?}"
        );
        facts.xdp = Some(XdpDecap {
            ifname: Some("eth0".into()),
            attached: true,
            addrs: vec![[192, 168, 0, 11].into()],
            ipip: true,
            gre: false,
            gue_ports: vec![],
        });
        let f = failures(&checks(&spec, Some(&decap), &facts));
        assert!(f.len() == 1 && f[0].contains("not set up for gre"), "{f:?}");
        if let Some(x) = facts.xdp.as_mut() {
            x.gre = true;
        }
        let all = checks(&spec, Some(&decap), &facts);
        assert!(failures(&all).is_empty(), "{all:#?}");
        set(&mut facts, "eth0", Setting::RpFilter, 1);
        let f = failures(&checks(&spec, Some(&decap), &facts));
        assert!(
            f.len() == 1 && f[0].starts_with("FAIL rp_filter on eth0 is 1 (all 0, eth0 1)"),
            "{f:?}"
        );
        set(&mut facts, "eth0", Setting::RpFilter, 0);
        facts.addrs.retain(|a| a.dev != "eth0");
        facts.addrs.push(addr("eth0", [192, 168, 0, 12], 24));
        let f = failures(&checks(&spec, Some(&decap), &facts));
        assert!(
            f.len() == 1 && f[0].contains("waits for packets to 192.168.0.11"),
            "{f:?}"
        );
        if let Some(x) = facts.xdp.as_mut() {
            x.attached = false;
        }
        let f = failures(&checks(&spec, Some(&decap), &facts));
        assert!(
            f.len() == 1 && f[0].contains("pinned but not attached"),
            "{f:?}"
        );
    }
}
