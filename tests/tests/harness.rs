//! Tests of the lab harness itself, as root: seed 000 built in namespaces with real HTTP servers
//! and curl, the real servers' ARP silence about the VIP, and teardown after a panic or a crash.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rvs_e2e::{
    PrefixGuard, await_line, is_alive, read_all, root_or_skip, unique_prefix, wait_or_kill,
    wait_until_dead,
};
use rvs_lab::topology::seed000::{ROUTER_LAN, VIP};
use rvs_lab::topology::{DirectorVip, Node, Seed000Dr};
use rvs_lab::{
    ArpIgnore, ArpReply, Host, Ipv4Cidr, Lab, LabError, Process, down_prefix, pattern_bytes,
    pids_in_netns,
};

const HELPER: &str = env!("CARGO_BIN_EXE_rvs-e2e-helper");
const WAIT: Duration = Duration::from_secs(10);
const CURL_MAX_SECS: &str = "5";

/// The namespaces of `prefix` as `ip netns list` shows them (not through the code under test).
fn namespaces_of(prefix: &str) -> Vec<String> {
    let owner = rvs_lab::Prefix::new(prefix).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap_or_else(|e| panic!("ip netns list: {e}"));
    assert!(
        out.status.success(),
        "ip netns list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| owner.owns(name))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// Starts the lab's HTTP server as a separate process on `node`, port 80, and waits until it
/// accepts connections.
fn start_http(node: &Node, name: &str) -> Process {
    let process = node
        .host
        .spawn("http", HELPER, ["http", "0.0.0.0:80", name])
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = SocketAddr::from((node.eth0.ip(), 80));
    if let Err(e) = node.host.wait_for_tcp(addr, WAIT) {
        panic!("{e}; server log:\n{}", process.log());
    }
    process
}

/// `curl -sS <url>` run in `host`; returns stdout, or the error with curl's stderr.
fn curl(host: &Host, url: &str) -> Result<String, LabError> {
    let out = host.run("curl", ["-sS", "--max-time", CURL_MAX_SECS, url], WAIT)?;
    Ok(out.check()?.stdout)
}

/// A plain HTTP/1.1 GET over a socket the caller made; returns the head and the body.
fn http_get(mut stream: TcpStream, target: &str) -> std::io::Result<(String, Vec<u8>)> {
    stream.set_read_timeout(Some(WAIT))?;
    write!(stream, "GET {target} HTTP/1.1\r\nHost: lab\r\n\r\n")?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    Ok((head, raw[split + 4..].to_vec()))
}

#[test]
fn seed000_real_servers_answer_the_client_through_the_router() {
    if !root_or_skip("seed000_real_servers_answer_the_client_through_the_router") {
        return;
    }
    let seed = Seed000Dr::build(&unique_prefix("web"), DirectorVip::OnLanInterface)
        .unwrap_or_else(|e| panic!("{e}"));
    let servers: Vec<Process> = seed
        .real_servers()
        .iter()
        .map(|(name, node)| start_http(node, name))
        .collect();

    for (name, node) in seed.real_servers() {
        let url = format!("http://{}/", node.eth0.ip());
        let body = curl(&seed.client.host, &url).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body, format!("{name}\n"), "GET {url} from the client");
    }

    // A socket opened in the client by test code: a megabyte through the router, byte-exact.
    let web2 = SocketAddr::from((seed.webserver2.eth0.ip(), 80));
    let (head, body) = seed
        .client
        .host
        .run_in(|| http_get(TcpStream::connect_timeout(&web2, WAIT)?, "/bytes?n=1000000"))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("GET /bytes from the client: {e}"));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body.len(), 1_000_000);
    assert!(
        body == pattern_bytes(0, 1_000_000),
        "the /bytes body differs from the pattern"
    );

    // The path really goes through the router: without forwarding there, nothing gets through.
    seed.router
        .host
        .set_ip_forward(false)
        .unwrap_or_else(|e| panic!("{e}"));
    let blocked = seed.client.host.run(
        "curl",
        ["-sS", "--max-time", "2", "http://192.168.0.11/"],
        WAIT,
    );
    assert!(
        !blocked.unwrap_or_else(|e| panic!("{e}")).success(),
        "curl worked with forwarding off"
    );
    seed.router
        .host
        .set_ip_forward(true)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        curl(&seed.client.host, "http://192.168.0.11/").unwrap_or_else(|e| panic!("{e}")),
        "webserver1\n"
    );

    for mut server in servers {
        assert!(server.is_running(), "the server died: {}", server.log());
    }
}

#[test]
fn seed000_real_servers_do_not_answer_arp_for_the_vip() {
    if !root_or_skip("seed000_real_servers_do_not_answer_arp_for_the_vip") {
        return;
    }
    let seed = Seed000Dr::build(&unique_prefix("arp"), DirectorVip::OnLanInterface)
        .unwrap_or_else(|e| panic!("{e}"));
    let router = &seed.router.host;
    let who_has = |target: Ipv4Addr| -> Vec<ArpReply> {
        router
            .arp_probe(
                "eth1",
                ROUTER_LAN.addr(),
                target,
                Duration::from_millis(600),
            )
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let answered_by = |node: &Node, ip: Ipv4Addr| ArpReply {
        mac: node.eth0.mac,
        ip,
    };

    // Only the director answers for the VIP, though both real servers hold it on lo.
    assert_eq!(who_has(VIP), [answered_by(&seed.director, VIP)]);
    // The probe does hear real servers: each answers for its own address.
    let web1 = seed.webserver1.eth0.ip();
    assert_eq!(who_has(web1), [answered_by(&seed.webserver1, web1)]);

    // Without the VIP on the director, nobody answers.
    seed.director
        .host
        .del_addr("eth0", Ipv4Cidr::host(VIP))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(who_has(VIP), Vec::<ArpReply>::new());

    // And a real server without arp_ignore would answer: the check can fail.
    seed.webserver1
        .host
        .set_arp_ignore("all", ArpIgnore::AnyLocal)
        .unwrap_or_else(|e| panic!("{e}"));
    seed.webserver1
        .host
        .set_arp_ignore("lo", ArpIgnore::AnyLocal)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(who_has(VIP), [answered_by(&seed.webserver1, VIP)]);
}

#[test]
fn a_lab_owner_that_panics_leaves_no_namespace_or_process_behind() {
    if !root_or_skip("a_lab_owner_that_panics_leaves_no_namespace_or_process_behind") {
        return;
    }
    let prefix = unique_prefix("pan");
    let _cleanup = PrefixGuard(prefix.clone());
    let mut child = Command::new(HELPER)
        .args(["lab-then-panic", &prefix])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let sleeper = await_line(stdout, "sleeper ", WAIT);
    let status = wait_or_kill(&mut child, WAIT).unwrap_or_else(|e| panic!("{e}"));
    let stderr = child.stderr.take().map(read_all).unwrap_or_default();
    let sleeper: u32 = sleeper
        .unwrap_or_else(|e| panic!("{e}; helper stderr:\n{stderr}"))
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(
        status.code(),
        Some(101),
        "the helper should have panicked; stderr:\n{stderr}"
    );
    assert!(stderr.contains("deliberate panic"), "{stderr}");
    assert!(stderr.contains("logs kept in"), "{stderr}");
    assert_eq!(namespaces_of(&prefix), Vec::<String>::new());
    assert!(
        wait_until_dead(sleeper, WAIT),
        "the lab's process {sleeper} outlived the lab"
    );

    // Only the kept logs were left; down_prefix finds no namespace to remove.
    let report = down_prefix(&prefix).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.namespaces.is_empty(), "{report:?}");
    assert!(!rvs_lab::log_root().join(&prefix).exists());
}

#[test]
fn down_prefix_cleans_up_after_a_lab_owner_that_was_killed() {
    if !root_or_skip("down_prefix_cleans_up_after_a_lab_owner_that_was_killed") {
        return;
    }
    let prefix = unique_prefix("kil");
    let _cleanup = PrefixGuard(prefix.clone());
    let mut child = Command::new(HELPER)
        .args(["lab-then-hang", &prefix])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let ready = await_line(stdout, "ready ", WAIT);
    // SIGKILL: no destructor, no unwinding. This is `rvs lab up` dying.
    let _ = child.kill();
    let _ = wait_or_kill(&mut child, WAIT);
    let shell: u32 = ready
        .unwrap_or_else(|e| panic!("{e}"))
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));

    // The child the lab started dies with its owner ...
    assert!(
        wait_until_dead(shell, WAIT),
        "process {shell} outlived the process that started it"
    );
    // ... but the namespaces stay, and so does the orphan that child left in webserver1.
    let left = namespaces_of(&prefix);
    assert_eq!(left.len(), 6, "{left:?}");
    let web1 = format!("{prefix}-webserver1");
    let orphans = pids_in_netns(&web1);
    assert!(!orphans.is_empty(), "the orphaned sleep is gone already");

    let report = down_prefix(&prefix).unwrap_or_else(|e| panic!("{e}"));
    let mut removed = report.namespaces.clone();
    removed.sort();
    assert_eq!(removed, left);
    assert!(report.killed >= orphans.len(), "{report:?}");
    assert_eq!(namespaces_of(&prefix), Vec::<String>::new());
    for pid in orphans {
        let pid = u32::try_from(pid).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            wait_until_dead(pid, WAIT),
            "orphan {pid} survived down_prefix"
        );
    }
    // A second call has nothing left to do.
    assert!(
        down_prefix(&prefix)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty()
    );
}

#[test]
fn hosts_run_commands_spawn_programs_and_open_sockets_in_their_namespace() {
    if !root_or_skip("hosts_run_commands_spawn_programs_and_open_sockets_in_their_namespace") {
        return;
    }
    let prefix = unique_prefix("lab");
    let lab = Lab::new(&prefix).unwrap_or_else(|e| panic!("{e}"));
    let a = lab.add_host("a").unwrap_or_else(|e| panic!("{e}"));
    let b = lab.add_host("b").unwrap_or_else(|e| panic!("{e}"));
    lab.link(&a, "eth0", &b, "veth-b")
        .unwrap_or_else(|e| panic!("{e}"));
    let a_addr: Ipv4Cidr = "10.77.0.1/30".parse().unwrap_or_else(|e| panic!("{e}"));
    let b_addr: Ipv4Cidr = "10.77.0.2/30".parse().unwrap_or_else(|e| panic!("{e}"));
    a.add_addr("eth0", a_addr).unwrap_or_else(|e| panic!("{e}"));
    b.add_addr("veth-b", b_addr)
        .unwrap_or_else(|e| panic!("{e}"));

    // The same prefix cannot be taken twice.
    assert!(matches!(
        Lab::new(&prefix),
        Err(LabError::PrefixInUse { .. })
    ));

    // Commands run in the host: its interface, and only its own.
    let links = a
        .run("ip", ["-o", "link"], WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(links.stdout.contains("eth0@"), "{}", links.stdout);
    assert!(!links.stdout.contains("veth-b"), "{}", links.stdout);

    // Failures name the command and carry ip's complaint.
    let err = a
        .add_addr("eth9", a_addr)
        .expect_err("eth9 does not exist")
        .to_string();
    assert!(
        err.contains(&format!("ip -n {prefix}-a addr add 10.77.0.1/30 dev eth9")),
        "{err}"
    );
    assert!(err.contains("eth9"), "{err}");

    // Deadlines hold.
    let started = Instant::now();
    let slow = a.run("sleep", ["30"], Duration::from_millis(300));
    assert!(
        matches!(slow, Err(LabError::CommandTimeout { .. })),
        "{slow:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // Sysctls are the host's own.
    a.set_ip_forward(true).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        a.sysctl_read("net.ipv4.ip_forward")
            .unwrap_or_else(|e| panic!("{e}")),
        "1"
    );
    assert_eq!(
        b.sysctl_read("net.ipv4.ip_forward")
            .unwrap_or_else(|e| panic!("{e}")),
        "0"
    );

    // Offloads are the host's own too (native-mode XDP tests on veth need TX checksums off).
    a.set_tx_checksum_offload("eth0", false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !a.tx_checksum_offload("eth0")
            .unwrap_or_else(|e| panic!("{e}"))
    );
    assert!(
        b.tx_checksum_offload("veth-b")
            .unwrap_or_else(|e| panic!("{e}"))
    );

    // Sockets made by test code in a host belong to it: b listens, a connects over the veth.
    let listen = SocketAddrV4::new(b_addr.addr(), 7000);
    let listener = b
        .run_in(|| TcpListener::bind(listen))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let bind_elsewhere = a
        .run_in(|| TcpListener::bind(listen))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(bind_elsewhere.is_err(), "a could bind b's address");
    let mut client = a
        .run_in(|| TcpStream::connect_timeout(&listen.into(), WAIT))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut server, peer) = listener.accept().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(peer.ip(), a_addr.addr());
    client.write_all(b"ping").unwrap_or_else(|e| panic!("{e}"));
    let mut got = [0u8; 4];
    server
        .set_read_timeout(Some(WAIT))
        .unwrap_or_else(|e| panic!("{e}"));
    server
        .read_exact(&mut got)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&got, b"ping");

    // A spawned program lives in the host and dies with its handle.
    let sleeper = a
        .spawn("sleeper", "sleep", ["600"])
        .unwrap_or_else(|e| panic!("{e}"));
    let pid = sleeper.pid();
    assert!(
        pids_in_netns(a.netns()).contains(&i32::try_from(pid).unwrap_or_else(|e| panic!("{e}")))
    );
    drop(sleeper);
    assert!(!is_alive(pid), "{pid} outlived its handle");

    // Tearing down kills what still runs there, even with its handle alive, and removes all.
    let mut survivor = b
        .spawn("survivor", "sleep", ["600"])
        .unwrap_or_else(|e| panic!("{e}"));
    let report = lab.down().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.namespaces.len(), 2, "{report:?}");
    assert!(
        survivor
            .wait_timeout(WAIT)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_some()
    );
    assert_eq!(namespaces_of(&prefix), Vec::<String>::new());
    assert!(
        a.run("true", [""; 0], WAIT).is_err(),
        "a host outlived its lab"
    );
}

#[test]
fn switches_join_hosts_on_one_lan() {
    if !root_or_skip("switches_join_hosts_on_one_lan") {
        return;
    }
    let lab = Lab::new(&unique_prefix("sw")).unwrap_or_else(|e| panic!("{e}"));
    let lan = lab.add_switch("lan").unwrap_or_else(|e| panic!("{e}"));
    let hosts: Vec<Host> = ["h1", "h2", "h3"]
        .iter()
        .map(|name| lab.add_host(name).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    for (i, host) in (1u8..).zip(&hosts) {
        lab.plug(&lan, host, "eth0")
            .unwrap_or_else(|e| panic!("{e}"));
        let addr =
            Ipv4Cidr::new(Ipv4Addr::new(10, 78, 0, i), 24).unwrap_or_else(|| panic!("bad cidr"));
        host.add_addr("eth0", addr)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let server = hosts[2]
        .serve_http(
            "0.0.0.0:8080".parse().unwrap_or_else(|e| panic!("{e}")),
            "h3",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    for host in &hosts[..2] {
        let body = curl(host, "http://10.78.0.3:8080/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body, "h3\n");
    }
    drop(server);
    // The bridge has one port per host, named after it, and nothing lives in the root namespace.
    let ports = lan
        .as_host()
        .ip(&["-o", "link", "show", "master", rvs_lab::BRIDGE])
        .unwrap_or_else(|e| panic!("{e}"));
    for name in ["h1-eth0", "h2-eth0", "h3-eth0"] {
        assert!(ports.contains(name), "{ports}");
    }
    let root_links = Command::new("ip")
        .args(["-o", "link"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!String::from_utf8_lossy(&root_links.stdout).contains("h1-eth0"));
}
