//! NAT against the real IPVS: the NAT part of the ipvs-oracle's traffic script
//! (`ipvs-oracle/tests/traffic.sh`), replayed on the same addresses with rvsd, must give what the
//! real IPVS gave (`tests/golden/traffic/nat.txt`): the same real servers in the same order for
//! TCP and UDP under wlc, the same `-Ln` rows, the same `--stats` counters (packets and bytes of
//! both directions, so the director saw exactly the replies IPVS saw) and the same connection
//! states (TIME_WAIT for TCP: both directions' FINs went through the state table).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rvs_e2e::rvsd::{Rvsd, lock_path, socket_path};
use rvs_e2e::{bins, lab_prefix, root_or_skip};
use rvs_lab::{Host, Ipv4Cidr, Lab, Process};

const VIP: &str = "10.0.1.101";
const RUN_TIMEOUT: Duration = Duration::from_secs(15);

/// The recorded transcript's sections, by their `=== title ===` line.
fn recorded() -> BTreeMap<String, Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/traffic/nat.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(title) = line
            .strip_prefix("=== ")
            .and_then(|l| l.strip_suffix(" ==="))
        {
            current = Some(title.to_owned());
            sections.insert(title.to_owned(), Vec::new());
        } else if let Some(title) = &current {
            sections
                .entry(title.clone())
                .or_default()
                .push(line.to_owned());
        }
    }
    sections
}

fn cidr(text: &str) -> Ipv4Cidr {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

/// The hosts of the oracle's NAT topology.
struct Hosts {
    client: Host,
    director: Host,
    reals: Vec<(Host, &'static str)>,
}

/// client1 and the director on one switch, the NAT real servers rs3 and rs4 on another behind
/// the director, which holds the VIP and forwards.
fn build(lab: &Lab) -> rvs_lab::Result<Hosts> {
    let client = lab.add_host("client1")?;
    let director = lab.add_host("director")?;
    let rs3 = lab.add_host("rs3")?;
    let rs4 = lab.add_host("rs4")?;
    let br0 = lab.add_switch("br0")?;
    let br1 = lab.add_switch("br1")?;
    lab.plug(&br0, &client, "eth0")?;
    lab.plug(&br0, &director, "eth0")?;
    lab.plug(&br1, &director, "eth1")?;
    lab.plug(&br1, &rs3, "eth0")?;
    lab.plug(&br1, &rs4, "eth0")?;
    client.add_addr("eth0", cidr("10.0.1.2/24"))?;
    client.set_default_gateway(Ipv4Addr::new(10, 0, 1, 1))?;
    director.add_addr("eth0", cidr("10.0.1.1/24"))?;
    director.add_addr("eth0", cidr("10.0.1.101/32"))?;
    director.add_addr("eth1", cidr("10.0.2.1/24"))?;
    director.set_ip_forward(true)?;
    rs3.add_addr("eth0", cidr("10.0.2.21/24"))?;
    rs4.add_addr("eth0", cidr("10.0.2.22/24"))?;
    for rs in [&rs3, &rs4] {
        rs.set_default_gateway(Ipv4Addr::new(10, 0, 2, 1))?;
    }
    Ok(Hosts {
        client,
        director,
        reals: vec![(rs3, "rs3"), (rs4, "rs4")],
    })
}

/// The oracle's NAT topology running: socat servers on the real servers, rvsd on both of the
/// director's interfaces with traffic.sh's NAT services.
struct OracleNat {
    client: Host,
    rvsd: Rvsd,
    socket: PathBuf,
    _servers: Vec<Process>,
    udp_log: PathBuf,
    lab: Lab,
}

impl OracleNat {
    fn start() -> OracleNat {
        bins::require_all();
        let prefix = lab_prefix();
        let lab = Lab::new(&prefix).unwrap_or_else(|e| panic!("lab {prefix}: {e}"));
        let Hosts {
            client,
            director,
            reals,
        } = build(&lab).unwrap_or_else(|e| panic!("building the oracle's topology: {e}"));
        let udp_log = std::env::temp_dir().join(format!("rvs-nat-oracle-{prefix}"));
        let _ = std::fs::create_dir_all(&udp_log);
        let mut servers = Vec::new();
        for (host, name) in &reals {
            // As traffic.sh: TCP :80 answers "hello-from-rsN"; UDP :5353 logs each datagram
            // and answers "reply-from-rsN".
            let tcp = format!("EXEC:echo hello-from-{name}");
            servers.push(
                host.spawn("socat-tcp", "socat", ["TCP-LISTEN:80,fork,reuseaddr", &tcp])
                    .unwrap_or_else(|e| panic!("{e}")),
            );
            let log = udp_log.join(format!("udp-{name}.txt"));
            let udp = format!("SYSTEM:cat >> {}; echo reply-from-{name}", log.display());
            servers.push(
                host.spawn("socat-udp", "socat", ["UDP-RECVFROM:5353,fork", &udp])
                    .unwrap_or_else(|e| panic!("{e}")),
            );
            host.wait_for_tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 80)), RUN_TIMEOUT)
                .unwrap_or_else(|e| panic!("socat on {name}: {e}"));
        }
        let socket = socket_path(&prefix);
        let rvsd = Rvsd::start(
            &director,
            "eth0",
            &socket,
            &format!("{prefix}-director"),
            &["--interface", "eth1"],
        )
        .unwrap_or_else(|e| panic!("starting rvsd: {e:#}"));
        // traffic.sh's NAT lines.
        rvsd.configure(&[
            "-A -t 10.0.1.101:8080 -s wlc",
            "-a -t 10.0.1.101:8080 -r 10.0.2.21:80 -m -w 1",
            "-a -t 10.0.1.101:8080 -r 10.0.2.22:80 -m -w 1",
            "-A -u 10.0.1.101:53 -s wlc",
            "-a -u 10.0.1.101:53 -r 10.0.2.21:5353 -m -w 2",
            "-a -u 10.0.1.101:53 -r 10.0.2.22:5353 -m -w 5",
        ]);
        OracleNat {
            client,
            rvsd,
            socket,
            _servers: servers,
            udp_log,
            lab,
        }
    }

    /// `sh -c line` on client1: its output lines.
    fn client_sh(&self, line: &str) -> Vec<String> {
        match self.client.run("sh", ["-c", line], RUN_TIMEOUT) {
            Ok(out) => out.stdout.lines().map(str::to_owned).collect(),
            Err(e) => vec![format!("FAIL {line}: {e}")],
        }
    }

    /// The lines of an `rvsadm` listing that belong to the VIP's services.
    fn service_rows(&self, args: &[&str]) -> Vec<String> {
        let mut keep = false;
        self.rvsd
            .rvsadm_ok(args)
            .lines()
            .filter(|l| {
                if l.starts_with("TCP") || l.starts_with("UDP") || l.starts_with("FWM") {
                    keep = l.contains(VIP);
                }
                keep && (l.starts_with("TCP") || l.starts_with("UDP") || l.starts_with("  ->"))
                    && !l.contains("RemoteAddress")
            })
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for OracleNat {
    fn drop(&mut self) {
        if let Err(e) = self.rvsd.stop() {
            eprintln!("stopping rvsd: {e}");
        }
        self._servers.clear();
        if let Err(e) = self.lab.down() {
            eprintln!("taking the lab down: {e}");
        }
        let _ = std::fs::remove_dir_all(&self.udp_log);
        for path in [self.socket.clone(), lock_path(&self.socket)] {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A `-Lnc` line without what the oracle's README says to mask (expire, client port).
fn masked_entry(line: &str) -> String {
    let w: Vec<&str> = line.split_whitespace().collect();
    let client = w
        .get(3)
        .and_then(|c| c.rsplit_once(':'))
        .map_or("?", |(a, _)| a);
    format!(
        "{} {} {client} {} {}",
        w.first().unwrap_or(&"?"),
        w.get(2).unwrap_or(&"?"),
        w.get(4).unwrap_or(&"?"),
        w.get(5).unwrap_or(&"?")
    )
}

#[test]
fn nat_traffic_gives_what_the_real_ipvs_gave() {
    if !root_or_skip("nat_traffic_gives_what_the_real_ipvs_gave") {
        return;
    }
    let want = recorded();
    let c = OracleNat::start();

    let tcp: Vec<String> = (0..6)
        .flat_map(|_| {
            c.client_sh(&format!(
                "socat -T3 - TCP:{VIP}:8080 </dev/null 2>&1 || echo FAIL"
            ))
        })
        .collect();
    assert_eq!(
        tcp, want["NAT wlc: 6 requests from client1 to 10.0.1.101:8080"],
        "TCP answers"
    );
    let udp: Vec<String> = (1..=4)
        .flat_map(|i| c.client_sh(&format!("echo dgram{i} | socat -T2 - UDP-SENDTO:{VIP}:53")))
        .collect();
    assert_eq!(
        udp, want["UDP NAT wlc: 4 datagrams from client1 to 10.0.1.101:53"],
        "UDP answers"
    );

    assert_eq!(c.service_rows(&["-Ln"]), want["-Ln"], "-Ln");
    let mut conns: Vec<String> = c
        .rvsd
        .rvsadm_ok(&["-Lnc"])
        .lines()
        .filter(|l| l.contains(VIP))
        .map(masked_entry)
        .collect();
    let mut want_conns: Vec<String> = want["-Lnc (NAT entries)"]
        .iter()
        .map(|l| masked_entry(l))
        .collect();
    conns.sort();
    want_conns.sort();
    assert_eq!(conns, want_conns, "-Lnc, expire and client ports masked");
    // The estimator folds every 2 seconds, in IPVS as in rvsd.
    std::thread::sleep(Duration::from_millis(2200));
    let stats = c.rvsd.stats();
    let got = c.service_rows(&["-Ln", "--stats"]);
    let shown = format!(
        "rvsd:\n{}\nIPVS:\n{}\ndata plane counters: {stats:?}",
        got.join("\n"),
        want["-Ln --stats"].join("\n")
    );
    assert_eq!(got.len(), want["-Ln --stats"].len(), "{shown}");
    let mut udp = false;
    for (row, wanted) in got.iter().zip(&want["-Ln --stats"]) {
        if !row.starts_with("  ->") {
            udp = row.starts_with("UDP");
        }
        if udp {
            // UDP: one datagram each way per request, exactly as IPVS counted them.
            assert_eq!(row, wanted, "{shown}");
        } else {
            assert_eq!(tcp_invariants(row), tcp_invariants(wanted), "{shown}");
        }
    }
}

/// What the TCP rows of `--stats` must share with IPVS's whatever the two hosts' TCP timing:
/// the address, the connections, and the bytes beyond 52 per packet in each direction (the
/// larger SYN and SYN-ACK headers and the payload: "hello-from-rsN\n" once per connection). The
/// packet counts themselves differ by the server's pure ACK of the client's FIN, which rides on
/// its data when that FIN (socat's stdin is /dev/null) arrives first: a race between the two
/// stacks, not a counting difference.
fn tcp_invariants(row: &str) -> (String, u64, Option<u64>, Option<u64>, bool) {
    let w: Vec<&str> = row.split_whitespace().collect();
    let addr = w
        .iter()
        .find(|x| x.contains(':'))
        .map_or(String::new(), |a| (*a).to_owned());
    let n: Vec<u64> = w.iter().filter_map(|x| x.parse().ok()).collect();
    let [conns, inpkts, outpkts, inbytes, outbytes] = n.as_slice() else {
        return (addr, 0, None, None, false);
    };
    // Every connection: at least SYN-ACK, data and FIN from the server, at most one ACK more.
    let plausible =
        (3 * conns..=4 * conns).contains(outpkts) && (4 * conns..=5 * conns).contains(inpkts);
    (
        addr,
        *conns,
        inbytes.checked_sub(52 * inpkts),
        outbytes.checked_sub(52 * outpkts),
        plausible,
    )
}
