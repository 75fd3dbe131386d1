//! Seed 002 with its backup LVS router: two directors that VRRP makes one master of.
//!
//! NAT (the seed's first experiment):
//! ```text
//!                        switch "public" 192.168.1.0/24
//!   ┌──────────────────────┬───────────┴───────────┐
//!  client .100     primary eth0 .10          backup eth0 .20
//!                  primary eth1 10.0.0.10    backup eth1 10.0.0.20
//!   ┌──────────────────────┴───────────┬───────────┘
//!                        switch "private" 10.0.0.0/16
//!  realserver1 10.0.0.100 ─────────────┴───────────── realserver2 10.0.0.200
//!  (gw 10.0.0.254)                                     (gw 10.0.0.254)
//!  floating on the master: VIP 192.168.1.250/24 on eth0, nat_router 10.0.0.254/16 on eth1
//! ```
//! DR (the seed's second experiment, "取消private的地址": the private addresses are dropped):
//! ```text
//!                        switch "public" 192.168.1.0/24
//!   ┌───────────┬──────────────┬──────────────┬──────────────┐
//!  client .100  primary .10    backup .20     realserver1 .111  realserver2 .222
//!                                             VIP on lo, arp_ignore=1, arp_announce=2
//!  floating on the master: VIP 192.168.1.250/24 on eth0
//! ```
//! The floating addresses are left off: rvsd's VRRP adds them to whichever director is
//! master. In DR the directors have `eth0` only: the real servers share the public network
//! with the client and answer it directly from the VIP, so the directors have nothing to do
//! on a second network (and the seed removes it). The seed's DR client sits behind a router;
//! here it stays on the public network, which changes nothing for the directors.
//! The directors forward in NAT (`ip_forward=1`, as the seed sets it); in DR the data plane
//! sends the frames itself and forwarding stays off, as in seed 000.
//!
//! [`Seed002Ha::cut`] pulls a director's cables at the switches, [`Seed002Ha::isolate`] takes
//! it off the switches without it noticing, [`Seed002Ha::restore`] plugs it back.

use std::fmt;
use std::net::Ipv4Addr;

use super::seed002::{CLIENT, DIRECTOR_PRIVATE, DIRECTOR_PUBLIC, NAT_ROUTER, REALSERVER1, REALSERVER2, VIP};
use super::{Iface, Node, cidr, prepare_dr_real_server};
use crate::addr::Ipv4Cidr;
use crate::error::Result;
use crate::host::Host;
use crate::lab::{Lab, Switch};

/// The backup director's public address (the seed's `backup`).
pub const BACKUP_PUBLIC: Ipv4Cidr = cidr(192, 168, 1, 20, 24);
/// The backup director's private address (the seed's `backup_private`), NAT only.
pub const BACKUP_PRIVATE: Ipv4Cidr = cidr(10, 0, 0, 20, 16);
/// The first real server in DR (the seed's DR `lvs.cf`).
pub const DR_REALSERVER1: Ipv4Cidr = cidr(192, 168, 1, 111, 24);
/// The second real server in DR.
pub const DR_REALSERVER2: Ipv4Cidr = cidr(192, 168, 1, 222, 24);

/// Which of the seed's two experiments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaMode {
    /// `network = nat`: real servers on the private network behind the floating `nat_router`.
    Nat,
    /// `network = direct`: real servers on the public network, replying to the client directly.
    Dr,
}

impl HaMode {
    /// `NAT` or `DR`, as keepalived's `lb_kind` and ipvsadm's listings spell it.
    pub fn lb_kind(self) -> &'static str {
        match self {
            HaMode::Nat => "NAT",
            HaMode::Dr => "DR",
        }
    }

    /// The real servers' addresses in this mode.
    pub fn real_server_addrs(self) -> [Ipv4Cidr; 2] {
        match self {
            HaMode::Nat => [REALSERVER1, REALSERVER2],
            HaMode::Dr => [DR_REALSERVER1, DR_REALSERVER2],
        }
    }

    /// The addresses VRRP floats to the master, each with the interface it goes on: the VIP
    /// on `eth0`, and in NAT the real servers' gateway on `eth1`.
    pub fn floating_addrs(self) -> Vec<(&'static str, Ipv4Cidr)> {
        match self {
            HaMode::Nat => vec![("eth0", VIP), ("eth1", NAT_ROUTER)],
            HaMode::Dr => vec![("eth0", VIP)],
        }
    }

    /// The directors' interfaces in this mode.
    pub fn director_interfaces(self) -> &'static [&'static str] {
        match self {
            HaMode::Nat => &["eth0", "eth1"],
            HaMode::Dr => &["eth0"],
        }
    }
}

/// One of the two directors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Director {
    /// The seed's `primary` (192.168.1.10): VRRP master while it runs.
    Primary,
    /// The seed's `backup` (192.168.1.20): takes over when the primary is gone.
    Backup,
}

impl Director {
    /// Both, primary first.
    pub const BOTH: [Director; 2] = [Director::Primary, Director::Backup];

    /// Its host name in the lab: `primary` or `backup` (namespace `<prefix>-primary`).
    pub fn name(self) -> &'static str {
        match self {
            Director::Primary => "primary",
            Director::Backup => "backup",
        }
    }

    /// The other one.
    pub fn peer(self) -> Director {
        match self {
            Director::Primary => Director::Backup,
            Director::Backup => Director::Primary,
        }
    }

    /// Its own public address.
    pub fn public_addr(self) -> Ipv4Cidr {
        match self {
            Director::Primary => DIRECTOR_PUBLIC,
            Director::Backup => BACKUP_PUBLIC,
        }
    }

    /// Its own private address (used in NAT only).
    pub fn private_addr(self) -> Ipv4Cidr {
        match self {
            Director::Primary => DIRECTOR_PRIVATE,
            Director::Backup => BACKUP_PRIVATE,
        }
    }
}

impl fmt::Display for Director {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A director of the HA cluster.
#[derive(Debug, Clone)]
pub struct HaDirector {
    /// The host.
    pub host: Host,
    /// `eth0`, on the public network, where the VIP floats to.
    pub eth0: Iface,
    /// `eth1`, on the private network, where the `nat_router` floats to; NAT only.
    pub eth1: Option<Iface>,
}

/// Seed 002 with two directors, built: the lab (torn down when this is dropped) and its hosts.
#[derive(Debug)]
pub struct Seed002Ha {
    /// NAT or DR.
    pub mode: HaMode,
    /// The client.
    pub client: Node,
    /// The primary director.
    pub primary: HaDirector,
    /// The backup director.
    pub backup: HaDirector,
    /// Real server 1.
    pub realserver1: Node,
    /// Real server 2.
    pub realserver2: Node,
    /// The public network: client, directors (and in DR the real servers).
    pub public: Switch,
    /// The private network of NAT: directors and real servers.
    pub private: Option<Switch>,
    /// The VIP.
    pub vip: Ipv4Addr,
    /// The lab itself; declared last so that it is dropped after the handles above.
    pub lab: Lab,
}

impl Seed002Ha {
    /// Builds the cluster with the prefix `prefix`. No director program runs, nothing serves
    /// on the real servers yet, and no director holds the VIP (nor, in NAT, the `nat_router`).
    pub fn build(prefix: &str, mode: HaMode) -> Result<Seed002Ha> {
        let lab = Lab::new(prefix)?;
        let client = lab.add_host("client")?;
        let primary = lab.add_host(Director::Primary.name())?;
        let backup = lab.add_host(Director::Backup.name())?;
        let rs1 = lab.add_host("realserver1")?;
        let rs2 = lab.add_host("realserver2")?;
        let public = lab.add_switch("public")?;
        let private = match mode {
            HaMode::Nat => Some(lab.add_switch("private")?),
            HaMode::Dr => None,
        };
        let [rs1_addr, rs2_addr] = mode.real_server_addrs();

        lab.plug(&public, &client, "eth0")?;
        client.add_addr("eth0", CLIENT)?;
        for (which, host) in [(Director::Primary, &primary), (Director::Backup, &backup)] {
            lab.plug(&public, host, "eth0")?;
            host.add_addr("eth0", which.public_addr())?;
            if let Some(private) = &private {
                lab.plug(private, host, "eth1")?;
                host.add_addr("eth1", which.private_addr())?;
                host.set_ip_forward(true)?;
            }
        }
        for (host, addr) in [(&rs1, rs1_addr), (&rs2, rs2_addr)] {
            match &private {
                Some(private) => {
                    lab.plug(private, host, "eth0")?;
                    host.add_addr("eth0", addr)?;
                    host.set_default_gateway(NAT_ROUTER.addr())?;
                }
                None => {
                    lab.plug(&public, host, "eth0")?;
                    host.add_addr("eth0", addr)?;
                    prepare_dr_real_server(host, VIP.addr())?;
                }
            }
        }

        let director = |which: Director, host: Host| -> Result<HaDirector> {
            let eth1 = match mode {
                HaMode::Nat => Some(Iface::read(&host, "eth1", which.private_addr())?),
                HaMode::Dr => None,
            };
            Ok(HaDirector { eth0: Iface::read(&host, "eth0", which.public_addr())?, eth1, host })
        };
        Ok(Seed002Ha {
            mode,
            client: Node { eth0: Iface::read(&client, "eth0", CLIENT)?, host: client },
            primary: director(Director::Primary, primary)?,
            backup: director(Director::Backup, backup)?,
            realserver1: Node { eth0: Iface::read(&rs1, "eth0", rs1_addr)?, host: rs1 },
            realserver2: Node { eth0: Iface::read(&rs2, "eth0", rs2_addr)?, host: rs2 },
            public,
            private,
            vip: VIP.addr(),
            lab,
        })
    }

    /// The director `which`.
    pub fn director(&self, which: Director) -> &HaDirector {
        match which {
            Director::Primary => &self.primary,
            Director::Backup => &self.backup,
        }
    }

    /// The two real servers with the names their index pages carry.
    pub fn real_servers(&self) -> [(&'static str, &Node); 2] {
        [("realserver1", &self.realserver1), ("realserver2", &self.realserver2)]
    }

    /// A director's links: each switch it is plugged into, with its interface there.
    fn links(&self) -> Vec<(&Switch, &'static str)> {
        let mut links = vec![(&self.public, "eth0")];
        if let Some(private) = &self.private {
            links.push((private, "eth1"));
        }
        links
    }

    /// Pulls both of the director's cables (public, and private in NAT) at the switches: the
    /// machine is gone from the network, and its interfaces lose carrier as with a real pull.
    pub fn cut(&self, which: Director) -> Result<()> {
        let host = &self.director(which).host;
        self.links().into_iter().try_for_each(|(switch, ifname)| switch.disconnect(host, ifname))
    }

    /// Takes the director off both switches while its links stay up: it is gone for the
    /// others, but goes on believing it is connected (the split-brain case).
    pub fn isolate(&self, which: Director) -> Result<()> {
        let host = &self.director(which).host;
        self.links().into_iter().try_for_each(|(switch, ifname)| switch.isolate(host, ifname))
    }

    /// Undoes [`Seed002Ha::cut`] or [`Seed002Ha::isolate`].
    pub fn restore(&self, which: Director) -> Result<()> {
        let host = &self.director(which).host;
        self.links().into_iter().try_for_each(|(switch, ifname)| switch.reconnect(host, ifname))
    }

    /// The directors that hold the VIP now (by `ip -4 addr` in their namespaces): one while
    /// VRRP has a single master, none while it elects one, both in a split brain.
    pub fn vip_holders(&self) -> Result<Vec<Director>> {
        let mut holders = Vec::new();
        for which in Director::BOTH {
            if self.director(which).host.has_ipv4(self.vip)? {
                holders.push(which);
            }
        }
        Ok(holders)
    }
}

impl fmt::Display for Seed002Ha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seed 002 with a backup director (LVS-{}), lab {}, VIP {}", self.mode.lb_kind(), self.lab.prefix(), VIP)?;
        if self.mode == HaMode::Nat {
            write!(f, ", nat_router {NAT_ROUTER}")?;
        }
        writeln!(f, " (floating, on the VRRP master)")?;
        let row = |f: &mut fmt::Formatter<'_>, host: &Host, iface: &Iface| {
            writeln!(f, "  {:<11} {:<22} {}", host.name(), host.netns(), iface)
        };
        row(f, &self.client.host, &self.client.eth0)?;
        for director in [&self.primary, &self.backup] {
            row(f, &director.host, &director.eth0)?;
            if let Some(eth1) = &director.eth1 {
                row(f, &director.host, eth1)?;
            }
        }
        row(f, &self.realserver1.host, &self.realserver1.eth0)?;
        row(f, &self.realserver2.host, &self.realserver2.eth0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_are_the_seeds() {
        assert_eq!(Director::Primary.public_addr().to_string(), "192.168.1.10/24");
        assert_eq!(Director::Primary.private_addr().to_string(), "10.0.0.10/16");
        assert_eq!(Director::Backup.public_addr().to_string(), "192.168.1.20/24");
        assert_eq!(Director::Backup.private_addr().to_string(), "10.0.0.20/16");
        let nat: Vec<String> = HaMode::Nat.real_server_addrs().iter().map(ToString::to_string).collect();
        assert_eq!(nat, ["10.0.0.100/16", "10.0.0.200/16"]);
        let dr: Vec<String> = HaMode::Dr.real_server_addrs().iter().map(ToString::to_string).collect();
        assert_eq!(dr, ["192.168.1.111/24", "192.168.1.222/24"]);
        assert_eq!(HaMode::Nat.floating_addrs(), [("eth0", VIP), ("eth1", NAT_ROUTER)]);
        assert_eq!(HaMode::Dr.floating_addrs(), [("eth0", VIP)]);
    }

    #[test]
    fn nat_real_servers_reach_only_the_private_network_through_the_floating_gateway() {
        for rs in HaMode::Nat.real_server_addrs() {
            assert!(NAT_ROUTER.contains(rs.addr()));
            for which in Director::BOTH {
                assert!(which.private_addr().contains(rs.addr()));
            }
            assert!(!VIP.contains(rs.addr()));
        }
    }

    #[test]
    fn dr_puts_everyone_on_the_public_network() {
        for addr in HaMode::Dr.real_server_addrs().into_iter().chain([CLIENT, DIRECTOR_PUBLIC, BACKUP_PUBLIC]) {
            assert!(VIP.contains(addr.addr()), "{addr}");
            assert_ne!(addr.addr(), VIP.addr());
        }
        assert_eq!(HaMode::Dr.director_interfaces(), ["eth0"]);
        assert_eq!(HaMode::Nat.director_interfaces(), ["eth0", "eth1"]);
    }

    #[test]
    fn directors_are_named_and_paired() {
        assert_eq!(Director::BOTH.map(Director::name), ["primary", "backup"]);
        assert_eq!(Director::Primary.peer(), Director::Backup);
        assert_eq!(Director::Backup.peer().to_string(), "primary");
    }

    /// Builds `mode`'s lab and checks what can be checked without rvsd: every link, the
    /// gateways, the DR preparation, and that cutting a director takes it off the network.
    fn builds_and_cuts(mode: HaMode, prefix: &str) {
        crate::down_prefix(prefix).unwrap();
        let lab = Seed002Ha::build(prefix, mode).unwrap();
        let timeout = std::time::Duration::from_secs(5);
        // Reachable: a TCP connection to a closed port is refused (an RST came back) rather
        // than timed out or unreachable. (No ping in the test image.)
        let ping = |from: &Host, to: Ipv4Addr| {
            let addr = std::net::SocketAddr::from((to, 9));
            let wait = std::time::Duration::from_millis(1500);
            from.run_in(|| std::net::TcpStream::connect_timeout(&addr, wait)).unwrap().err().map(|e| e.kind())
                == Some(std::io::ErrorKind::ConnectionRefused)
        };
        assert!(lab.vip_holders().unwrap().is_empty(), "no VIP before VRRP");
        for which in Director::BOTH {
            assert!(ping(&lab.client.host, which.public_addr().addr()), "client → {which}");
        }
        for (name, rs) in lab.real_servers() {
            match mode {
                HaMode::Nat => {
                    for which in Director::BOTH {
                        assert!(ping(&rs.host, which.private_addr().addr()), "{name} → {which}");
                    }
                    let routes = rs.host.ip(&["-4", "route", "show", "default"]).unwrap();
                    assert!(routes.contains("via 10.0.0.254"), "{routes}");
                }
                HaMode::Dr => {
                    assert!(ping(&lab.client.host, rs.eth0.ip()), "client → {name}");
                    assert!(rs.host.has_ipv4(VIP.addr()).unwrap(), "{name} has the VIP on lo");
                    assert_eq!(rs.host.sysctl_read("net.ipv4.conf.all.arp_ignore").unwrap(), "1");
                }
            }
        }
        // The lab's HTTP server answers on the real servers' own addresses: from the client in
        // DR, from the directors (the only hosts on the private network) in NAT.
        let _servers: Vec<_> = lab
            .real_servers()
            .iter()
            .map(|(name, rs)| rs.host.serve_http("0.0.0.0:80".parse().unwrap(), name).unwrap())
            .collect();
        let asker = match mode {
            HaMode::Nat => &lab.backup.host,
            HaMode::Dr => &lab.client.host,
        };
        for (name, rs) in lab.real_servers() {
            let url = format!("http://{}/", rs.eth0.ip());
            let out = asker.run("curl", ["-sS", "--max-time", "5", &url], timeout).unwrap();
            assert_eq!(out.check().unwrap().stdout, format!("{name}\n"));
            let url = format!("http://{}/stream?seconds=1&rate=1000", rs.eth0.ip());
            let out = asker.run("curl", ["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{size_download}", &url], timeout).unwrap();
            assert_eq!(out.check().unwrap().stdout, "1000");
        }

        // The VIP floats: put it on the backup by hand, as VRRP would.
        lab.backup.host.add_addr("eth0", VIP).unwrap();
        assert_eq!(lab.vip_holders().unwrap(), [Director::Backup]);

        lab.cut(Director::Primary).unwrap();
        assert!(!ping(&lab.client.host, DIRECTOR_PUBLIC.addr()), "the cut primary still answers");
        let link = lab.primary.host.ip(&["-o", "link", "show", "dev", "eth0"]).unwrap();
        assert!(link.contains("NO-CARRIER") || link.contains("LOWERLAYERDOWN"), "{link}");
        assert!(ping(&lab.client.host, BACKUP_PUBLIC.addr()), "the backup is still there");
        if mode == HaMode::Nat {
            assert!(!ping(&lab.realserver1.host, DIRECTOR_PRIVATE.addr()));
            assert!(ping(&lab.realserver1.host, BACKUP_PRIVATE.addr()));
        }
        lab.restore(Director::Primary).unwrap();
        assert!(ping(&lab.client.host, DIRECTOR_PUBLIC.addr()), "restored");

        lab.isolate(Director::Backup).unwrap();
        assert!(!ping(&lab.client.host, BACKUP_PUBLIC.addr()), "the isolated backup still answers");
        let link = lab.backup.host.ip(&["-o", "link", "show", "dev", "eth0"]).unwrap();
        assert!(!link.contains("NO-CARRIER"), "isolation is silent: {link}");
        lab.restore(Director::Backup).unwrap();
        assert!(ping(&lab.client.host, BACKUP_PUBLIC.addr()), "restored");
        assert!(lab.to_string().contains(&format!("LVS-{}", mode.lb_kind())));
    }

    #[test]
    fn the_nat_lab_builds_and_cuts() {
        if crate::root_or_skip("the_nat_lab_builds_and_cuts") {
            builds_and_cuts(HaMode::Nat, &format!("rvsha{}n", std::process::id() % 100_000));
        }
    }

    #[test]
    fn the_dr_lab_builds_and_cuts() {
        if crate::root_or_skip("the_dr_lab_builds_and_cuts") {
            builds_and_cuts(HaMode::Dr, &format!("rvsha{}d", std::process::id() % 100_000));
        }
    }
}
