//! A director with a public and a private side, for the NAT router address (seed 002's
//! addressing, one host on each side), and what the NAT router suite reads from the kernel:
//! a host's neighbour entries and an interface's addresses.
//!
//! ```text
//! client eth0 192.168.1.100/24 ── eth0 192.168.1.20/24 [director] eth1 10.0.0.20/16 ── eth0 10.0.0.100/16 server
//!                                                       (nat_router 10.0.0.254/16 on eth1)   (gateway 10.0.0.254)
//! ```

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use rvs_lab::{Host, Lab, MacAddr};

use crate::bins::binary;
use crate::rvsd::{CONN_MAX, Run, Rvsd, lock_path, shell_code, socket_path};

/// The NAT router address and prefix of seed 002 (`nat_router`, `nat_nmask 255.255.0.0`).
pub const NAT_ROUTER: &str = "10.0.0.254/16";
/// The NAT router address alone.
pub const NAT_ROUTER_IP: &str = "10.0.0.254";
/// The director's private interface, where the NAT router goes.
pub const PRIVATE_IF: &str = "eth1";

/// The three hosts, and where the director's rvsd puts its socket.
pub struct NatRouterLab {
    /// The lab; taken down when this is dropped.
    pub lab: Lab,
    /// The director: `eth0` public, `eth1` private.
    pub director: Host,
    /// A real server on the private side, whose gateway is the NAT router.
    pub server: Host,
    /// A client on the public side.
    pub client: Host,
    /// rvsd's control socket.
    pub socket: PathBuf,
}

impl NatRouterLab {
    /// Builds the hosts. Panics with the reason on failure.
    pub fn build() -> NatRouterLab {
        crate::bins::require_all();
        let prefix = crate::lab_prefix();
        let fail = |e: rvs_lab::LabError| -> ! { panic!("lab {prefix}: {e}") };
        let lab = Lab::new(&prefix).unwrap_or_else(|e| fail(e));
        let director = lab.add_host("director").unwrap_or_else(|e| fail(e));
        let server = lab.add_host("server").unwrap_or_else(|e| fail(e));
        let client = lab.add_host("client").unwrap_or_else(|e| fail(e));
        lab.link(&client, "eth0", &director, "eth0").unwrap_or_else(|e| fail(e));
        lab.link(&director, PRIVATE_IF, &server, "eth0").unwrap_or_else(|e| fail(e));
        for (host, ifname, cidr) in [
            (&client, "eth0", "192.168.1.100/24"),
            (&director, "eth0", "192.168.1.20/24"),
            (&director, PRIVATE_IF, "10.0.0.20/16"),
            (&server, "eth0", "10.0.0.100/16"),
        ] {
            let cidr = cidr.parse().unwrap_or_else(|e| fail(e));
            host.add_addr(ifname, cidr).unwrap_or_else(|e| fail(e));
        }
        server.set_default_gateway([10, 0, 0, 254].into()).unwrap_or_else(|e| fail(e));
        NatRouterLab { socket: socket_path(&prefix), lab, director, server, client }
    }

    /// The instance name rvsd gets (a directory the lab's teardown also knows).
    pub fn instance(&self) -> String {
        format!("{}-director", self.lab.prefix())
    }

    /// The arguments rvsd gets besides `--interface eth0`: the private side and `extra`.
    fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["--interface", PRIVATE_IF];
        args.extend_from_slice(extra);
        args
    }

    /// Starts rvsd on `eth0` and `eth1` with `extra` arguments. Panics with its log on failure.
    pub fn start_rvsd(&self, extra: &[&str]) -> Rvsd {
        Rvsd::start(&self.director, "eth0", &self.socket, &self.instance(), &Self::args(extra))
            .unwrap_or_else(|e| panic!("starting rvsd in {}: {e:#}", self.director.netns()))
    }

    /// Runs rvsd on `eth0` and `eth1` with `extra` arguments, expecting it to refuse to start.
    pub fn rvsd_refused(&self, extra: &[&str]) -> Run {
        let socket = self.socket.to_string_lossy().into_owned();
        let instance = self.instance();
        let mut command = Command::new(binary("rvsd"));
        command.args(["--interface", "eth0", "--socket", &socket, "--instance", &instance, "--conn-max", CONN_MAX]);
        command.args(Self::args(extra));
        let out = self
            .director
            .run_command(command, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("rvsd did not exit by itself: {e}"));
        Run { code: shell_code(out.status), stdout: out.stdout, stderr: out.stderr }
    }

    /// Seeds the server's neighbour table with `mac` for the NAT router, as a stale entry.
    pub fn seed_server_neighbour(&self, mac: &str) {
        self.server
            .ip(&["neigh", "replace", NAT_ROUTER_IP, "lladdr", mac, "dev", "eth0", "nud", "stale"])
            .unwrap_or_else(|e| panic!("seeding the server's neighbour table: {e}"));
    }

    /// The server's entry for the NAT router.
    pub fn server_neighbour(&self) -> Option<Neighbour> {
        neighbour(&self.server, "eth0", NAT_ROUTER_IP)
    }

    /// Waits up to `timeout` for the server's entry for the NAT router to hold `mac`; returns
    /// the entry last seen.
    pub fn wait_for_server_neighbour(&self, mac: MacAddr, timeout: Duration) -> Option<Neighbour> {
        let deadline = Instant::now() + timeout;
        loop {
            let entry = self.server_neighbour();
            if entry.as_ref().is_some_and(|n| n.mac == mac) || Instant::now() >= deadline {
                return entry;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The addresses (`a.b.c.d/len`) on the director's private interface.
    pub fn private_addresses(&self) -> Vec<String> {
        addresses(&self.director, PRIVATE_IF)
    }
}

impl Drop for NatRouterLab {
    fn drop(&mut self) {
        if let Err(e) = self.lab.down() {
            eprintln!("taking lab {} down: {e}", self.lab.prefix());
        }
        for path in [self.socket.clone(), lock_path(&self.socket)] {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// One entry of a neighbour table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// Its link-layer address.
    pub mac: MacAddr,
    /// Its state as `ip neigh` prints it (`STALE`, `REACHABLE`, ...).
    pub state: String,
}

/// `host`'s neighbour entry for `ip` on `ifname`, if it has one with a link-layer address.
pub fn neighbour(host: &Host, ifname: &str, ip: &str) -> Option<Neighbour> {
    let out = host.ip(&["neigh", "show", ip, "dev", ifname]).unwrap_or_else(|e| panic!("{e}"));
    parse_neighbour(&out)
}

/// Reads `10.0.0.254 lladdr 02:00:00:00:00:99 STALE` (what `ip neigh show <ip> dev <if>` prints).
fn parse_neighbour(line: &str) -> Option<Neighbour> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "lladdr")?;
    let mac = words.get(at + 1)?.parse().ok()?;
    let state = words.last().filter(|w| w.chars().all(|c| c.is_ascii_uppercase()))?;
    Some(Neighbour { mac, state: (*state).to_owned() })
}

/// The IPv4 addresses (`a.b.c.d/len`) on `ifname` of `host`.
pub fn addresses(host: &Host, ifname: &str) -> Vec<String> {
    let out = host.ip(&["-4", "-o", "addr", "show", "dev", ifname]).unwrap_or_else(|e| panic!("{e}"));
    parse_addresses(&out)
}

/// The word after each `inet` in `ip -4 -o addr show` output.
fn parse_addresses(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace().skip_while(|w| *w != "inet");
            words.next()?;
            words.next().map(str::to_owned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbour_lines_are_read() {
        let entry = parse_neighbour("10.0.0.254 lladdr 02:00:00:00:00:99 STALE\n");
        assert_eq!(entry, Some(Neighbour { mac: MacAddr([2, 0, 0, 0, 0, 0x99]), state: "STALE".into() }));
        let entry = parse_neighbour("10.0.0.254 lladdr 0a:1b:2c:3d:4e:5f router REACHABLE");
        assert_eq!(entry.map(|n| (n.mac.0[5], n.state)), Some((0x5f, "REACHABLE".into())));
        assert_eq!(parse_neighbour("10.0.0.254  FAILED"), None);
        assert_eq!(parse_neighbour(""), None);
    }

    #[test]
    fn address_lines_are_read() {
        let text = "3: eth1    inet 10.0.0.20/16 brd 10.0.255.255 scope global eth1\\       valid_lft forever\n\
                    3: eth1    inet 10.0.0.254/16 brd 10.0.255.255 scope global secondary eth1:1\\       valid_lft forever\n";
        assert_eq!(parse_addresses(text), ["10.0.0.20/16", "10.0.0.254/16"]);
        assert!(parse_addresses("").is_empty());
    }
}
