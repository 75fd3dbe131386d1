//! `rvs realserver up|down|status` with the real binary, in a real server namespace next to a
//! neighbour (standing in for the director and the router): DR preparation in the seeds' order,
//! the doctor, ARP silence for the VIP, exact restoration by `down`, `--persist`, and TUN with
//! rvs's XDP decapsulation program (this kernel has no ipip, gre or fou).
//!
//! Build the binaries first: `cargo build --bins && cargo test -p rvs-e2e --test realserver`.


use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use rvs_e2e::realserver::{
    Encap, NB_IP, RS_IP, RsLab, VIP, VIP2, conf, receive, send_tunnelled, udp_listener, udp_packet,
};
use rvs_e2e::root_or_skip;
use rvs_lab::{ArpReply, Host, Ipv4Cidr};

const ARP_LISTEN: Duration = Duration::from_millis(600);

/// Every ARP reply the neighbour hears for `target`.
fn who_has(nb: &Host, target: Ipv4Addr) -> Vec<ArpReply> {
    nb.arp_probe("eth0", NB_IP, target, ARP_LISTEN)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `curl -s` from `host`; stdout when it succeeds.
fn curl(host: &Host, url: &str) -> Result<String, String> {
    let out = host
        .run(
            "curl",
            ["-sS", "--max-time", "5", url],
            Duration::from_secs(10),
        )
        .map_err(|e| e.to_string())?;
    if out.success() {
        Ok(out.stdout)
    } else {
        Err(format!("{}: {}", out.status, out.stderr))
    }
}

fn vip_arg() -> String {
    VIP.to_string()
}

/// The position of the first stdout line starting with `prefix`.
fn line_of(stdout: &str, prefix: &str) -> usize {
    stdout
        .lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{stdout}"))
}

#[test]
fn dr_up_prepares_the_host_in_order_and_down_restores_it_exactly() {
    if !root_or_skip("dr_up_prepares_the_host_in_order_and_down_restores_it_exactly") {
        return;
    }
    let t = RsLab::new();
    // A VIP the administrator had put on lo before: `up` finds it there, `down` must keep it.
    t.rs.add_addr("lo", Ipv4Cidr::host(VIP2))
        .unwrap_or_else(|e| panic!("{e}"));
    let before = t.snapshot();
    let vips = format!("{VIP},{VIP2}");

    let up = t.rvs_ok(&["up", "--vip", &vips, "--mode", "dr"]);
    // The seeds' order: `all` before the interfaces, ARP settings before the VIP.
    let order = [
        "net.ipv4.conf.all.arp_ignore = 1 (was 0)",
        "net.ipv4.conf.all.arp_announce = 2 (was 0)",
        "net.ipv4.conf.eth0.arp_ignore = 1 (was 0)",
        "net.ipv4.conf.eth0.arp_announce = 2 (was 0)",
        "net.ipv4.conf.lo.arp_ignore = 1 (was 0)",
        "net.ipv4.conf.lo.arp_announce = 2 (was 0)",
        &format!("added {VIP}/32 to lo"),
    ];
    let at: Vec<usize> = order.iter().map(|l| line_of(&up, l)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "out of order:\n{up}");
    assert!(
        !up.contains(&format!("added {VIP2}")),
        "VIP2 was there already:\n{up}"
    );

    let status = t.rvs(&["status", "--vip", &vips, "--mode", "dr"]);
    assert!(
        status.success(),
        "status after up:\n{}{}",
        status.stdout,
        status.stderr
    );
    let checks: Vec<&str> = status
        .stdout
        .lines()
        .filter(|l| l.starts_with("PASS") || l.starts_with("FAIL"))
        .collect();
    assert!(
        checks.len() >= 6 && checks.iter().all(|l| l.starts_with("PASS")),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("PASS arp_ignore on eth0 is 1 (all 1, eth0 1)"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains(&format!("PASS VIP {VIP}/32 is on lo")),
        "{}",
        status.stdout
    );

    // Nobody answers ARP for the VIP, while the real server still answers for its own address.
    assert_eq!(who_has(&t.nb, VIP), []);
    let rs_mac = t.rs.mac("eth0").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        who_has(&t.nb, RS_IP),
        [ArpReply {
            mac: rs_mac,
            ip: RS_IP
        }]
    );
    // Packets routed to the VIP (as a director does) are accepted and answered from the VIP.
    let _web =
        t.rs.serve_http("0.0.0.0:80".parse().unwrap_or_else(|e| panic!("{e}")), "rs")
            .unwrap_or_else(|e| panic!("{e}"));
    t.nb.ip(&[
        "route",
        "add",
        &format!("{VIP}/32"),
        "via",
        &RS_IP.to_string(),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        curl(&t.nb, &format!("http://{VIP}/")).as_deref(),
        Ok("rs\n")
    );
    drop(_web);

    let down = t.rvs_ok(&["down", "--vip", &vips, "--mode", "dr"]);
    // The VIP goes before the ARP settings that hid it.
    assert!(
        line_of(&down, &format!("removed {VIP}/32 from lo"))
            < line_of(&down, "net.ipv4.conf.lo.arp_announce = 0"),
        "{down}"
    );
    assert!(!down.contains(&VIP2.to_string()), "{down}");
    let after = t.snapshot();
    assert_eq!(
        before.diff(&after),
        Vec::<String>::new(),
        "down did not restore the host:\n{down}"
    );
    assert!(!t.state_file().exists());
    assert_eq!(
        who_has(&t.nb, VIP2).len(),
        1,
        "VIP2 is on lo without ARP settings again, as before"
    );
}

#[test]
fn up_twice_changes_nothing_the_second_time() {
    if !root_or_skip("up_twice_changes_nothing_the_second_time") {
        return;
    }
    let t = RsLab::new();
    let before = t.snapshot();
    let args = ["up", "--vip", &vip_arg(), "--mode", "dr"];
    t.rvs_ok(&args);
    let once = t.snapshot();
    let state_once = std::fs::read_to_string(t.state_file()).unwrap_or_else(|e| panic!("{e}"));
    let again = t.rvs_ok(&args);
    assert!(
        !again.contains("(was"),
        "the second up changed something:\n{again}"
    );
    assert!(
        !again.contains("added"),
        "the second up changed something:\n{again}"
    );
    assert!(again.contains("nothing needed changing"), "{again}");
    assert_eq!(once.diff(&t.snapshot()), Vec::<String>::new());
    let state_twice = std::fs::read_to_string(t.state_file()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state_once, state_twice);

    // What drifted since is put back, and `down` still restores the original values.
    t.rs.sysctl_write("net.ipv4.conf.eth0.arp_announce", "1")
        .unwrap_or_else(|e| panic!("{e}"));
    let third = t.rvs_ok(&args);
    assert!(
        third.contains("net.ipv4.conf.eth0.arp_announce = 2 (was 1)"),
        "{third}"
    );
    t.rvs_ok(&["down", "--vip", &vip_arg(), "--mode", "dr"]);
    assert_eq!(before.diff(&t.snapshot()), Vec::<String>::new());
}

#[test]
fn down_leaves_alone_a_sysctl_changed_since_up_and_refuses_other_arguments() {
    if !root_or_skip("down_leaves_alone_a_sysctl_changed_since_up_and_refuses_other_arguments") {
        return;
    }
    let t = RsLab::new();
    let before = t.snapshot();
    t.rvs_ok(&["up", "--vip", &vip_arg(), "--mode", "dr"]);

    // `down` with arguments other than `up`'s: refused, nothing undone.
    let wrong = t.rvs(&["down", "--vip", &VIP2.to_string(), "--mode", "dr"]);
    assert!(!wrong.success());
    assert!(
        wrong.stderr.contains(&format!(
            "prepared with `rvs realserver up --vip {VIP} --mode dr --interface eth0`"
        )),
        "{}",
        wrong.stderr
    );
    assert!(t.state_file().exists());
    assert_eq!(conf(&t.rs, "all", "arp_ignore"), "1");

    // Someone else sets arp_ignore on all to 2 after `up`: `down` leaves their value.
    t.rs.sysctl_write("net.ipv4.conf.all.arp_ignore", "2")
        .unwrap_or_else(|e| panic!("{e}"));
    let down = t.rvs_ok(&["down", "--vip", &vip_arg(), "--mode", "dr"]);
    assert!(
        down.contains("left alone: net.ipv4.conf.all.arp_ignore is 2, not the 1 `up` set: someone changed it since, so it stays (it was 0 before `up`)"),
        "{down}"
    );
    assert_eq!(conf(&t.rs, "all", "arp_ignore"), "2");
    assert_eq!(before.diff(&t.snapshot()), ["all/arp_ignore: 0 -> 2"]);
    assert!(!t.state_file().exists());
    // Nothing left to undo.
    let again = t.rvs_ok(&["down", "--vip", &vip_arg(), "--mode", "dr"]);
    assert!(again.contains("nothing to undo"), "{again}");
}

#[test]
fn status_names_each_problem_and_exits_1() {
    if !root_or_skip("status_names_each_problem_and_exits_1") {
        return;
    }
    let t = RsLab::new();
    let args = ["status", "--vip", &vip_arg(), "--mode", "dr"];
    let fresh = t.rvs(&args);
    assert_eq!(fresh.status.code(), Some(1), "{}", fresh.stdout);
    for line in [
        "PASS interface eth0 is up with 10.77.0.11/24",
        "FAIL arp_ignore on eth0 is 0 (all 0, eth0 0): this host would answer ARP for the VIP and steal traffic",
        "FAIL arp_announce on eth0 is 0 (all 0, eth0 0): this host's ARP requests may carry the VIP",
        "FAIL VIP 10.77.0.100 is not on lo: this host would drop the packets the director sends it",
        "PASS default route via 10.77.0.10 dev eth0",
    ] {
        assert!(
            fresh.stdout.lines().any(|l| l.starts_with(line)),
            "no {line:?} in:\n{}",
            fresh.stdout
        );
    }
    assert!(fresh.stdout.contains("3 failed"), "{}", fresh.stdout);

    // The reason given is true: with the VIP on lo and no ARP settings, the host answers ARP
    // for the VIP.
    t.rs.add_addr("lo", Ipv4Cidr::host(VIP))
        .unwrap_or_else(|e| panic!("{e}"));
    let rs_mac = t.rs.mac("eth0").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        who_has(&t.nb, VIP),
        [ArpReply {
            mac: rs_mac,
            ip: VIP
        }]
    );
    t.rs.del_addr("lo", Ipv4Cidr::host(VIP))
        .unwrap_or_else(|e| panic!("{e}"));

    t.rvs_ok(&["up", "--vip", &vip_arg(), "--mode", "dr"]);
    assert!(t.rvs(&args).success());
    // Things that go wrong later: `all` lowered while eth0 still has 1 is fine (the kernel takes
    // the larger), both lowered is not; a VIP with a /24 mask; no default route.
    t.rs.sysctl_write("net.ipv4.conf.all.arp_ignore", "0")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(t.rvs(&args).success());
    t.rs.sysctl_write("net.ipv4.conf.eth0.arp_ignore", "0")
        .unwrap_or_else(|e| panic!("{e}"));
    t.rs.del_addr("lo", Ipv4Cidr::host(VIP))
        .unwrap_or_else(|e| panic!("{e}"));
    t.rs.add_addr(
        "lo",
        Ipv4Cidr::new(VIP, 24).unwrap_or_else(|| panic!("/24")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    t.rs.ip(&["route", "del", "default"])
        .unwrap_or_else(|e| panic!("{e}"));
    let broken = t.rvs(&[
        "status",
        "--vip",
        &vip_arg(),
        "--mode",
        "dr",
        "--interface",
        "eth0",
    ]);
    assert_eq!(broken.status.code(), Some(1), "{}", broken.stdout);
    let fails: Vec<&str> = broken
        .stdout
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .collect();
    assert_eq!(fails.len(), 3, "{}", broken.stdout);
    assert!(
        fails[0].starts_with("FAIL arp_ignore on eth0 is 0 (all 0, eth0 0)"),
        "{fails:?}"
    );
    assert!(
        fails[1].starts_with(&format!("FAIL VIP {VIP} is on lo as /24, not /32")),
        "{fails:?}"
    );
    assert!(
        fails[2].starts_with("FAIL there is no default route"),
        "{fails:?}"
    );
    // Without a default route and without --interface, rvs says what to do.
    let lost = t.rvs(&args);
    assert!(
        !lost.success() && lost.stderr.contains("pass --interface"),
        "{}",
        lost.stderr
    );
}

#[test]
fn bad_requests_are_refused_before_anything_changes() {
    if !root_or_skip("bad_requests_are_refused_before_anything_changes") {
        return;
    }
    let t = RsLab::new();
    // The VIP already on eth0 with another mask: `up` refuses and changes nothing.
    t.rs.add_addr(
        "eth0",
        Ipv4Cidr::new(VIP, 24).unwrap_or_else(|| panic!("/24")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let before = t.snapshot();
    let cases: [(&[&str], &str); 5] = [
        (
            &["up", "--vip", &vip_arg(), "--mode", "dr"],
            "already configured as 10.77.0.100/24 on eth0",
        ),
        (&["up", "--vip", "127.0.0.1", "--mode", "dr"], "loopback"),
        (
            &[
                "up",
                "--vip",
                &VIP2.to_string(),
                "--mode",
                "tun",
                "--tun-type",
                "gue",
            ],
            "needs --tun-port",
        ),
        (
            &[
                "up",
                "--vip",
                &VIP2.to_string(),
                "--mode",
                "dr",
                "--interface",
                "eth9",
            ],
            "no interface eth9",
        ),
        (
            &[
                "up",
                "--vip",
                &VIP2.to_string(),
                "--mode",
                "dr",
                "--tun-type",
                "gre",
            ],
            "only apply to --mode tun",
        ),
    ];
    for (args, expected) in cases {
        let out = t.rvs(args);
        assert!(!out.success(), "{args:?} succeeded:\n{}", out.stdout);
        assert!(
            out.stderr.contains(expected),
            "{args:?}: no {expected:?} in:\n{}",
            out.stderr
        );
        assert_eq!(
            before.diff(&t.snapshot()),
            Vec::<String>::new(),
            "{args:?} changed the host"
        );
        assert!(!t.state_file().exists(), "{args:?} left a state file");
    }
}

#[test]
fn persist_writes_the_boot_files_and_down_persist_removes_them() {
    if !root_or_skip("persist_writes_the_boot_files_and_down_persist_removes_them") {
        return;
    }
    let t = RsLab::new();
    let host_conf = std::path::Path::new("/etc/sysctl.d/90-rvs-realserver.conf");
    let host_had_it = host_conf.exists();
    let before = t.snapshot();
    let up = t.rvs_ok(&["up", "--vip", &vip_arg(), "--mode", "dr", "--persist"]);
    let conf_path = t.dir.join("sysctl.d/90-rvs-realserver.conf");
    let unit_path = t.dir.join("system/rvs-realserver.service");
    assert!(
        up.contains(&format!("wrote {}:", conf_path.display())),
        "{up}"
    );
    assert!(
        up.contains(&format!("wrote {}:", unit_path.display())),
        "{up}"
    );
    assert!(
        up.contains("systemctl enable rvs-realserver.service"),
        "{up}"
    );

    let sysctls = std::fs::read_to_string(&conf_path).unwrap_or_else(|e| panic!("{e}"));
    let settings: Vec<&str> = sysctls.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        settings,
        [
            "net.ipv4.conf.all.arp_ignore = 1",
            "net.ipv4.conf.all.arp_announce = 2",
            "net.ipv4.conf.eth0.arp_ignore = 1",
            "net.ipv4.conf.eth0.arp_announce = 2",
            "net.ipv4.conf.lo.arp_ignore = 1",
            "net.ipv4.conf.lo.arp_announce = 2",
        ]
    );
    let unit = std::fs::read_to_string(&unit_path).unwrap_or_else(|e| panic!("{e}"));
    let rvs = rvs_e2e::bins::binary("rvs");
    let args = format!("--vip {VIP} --mode dr --interface eth0");
    assert!(
        unit.contains(&format!(
            "ExecStart={} realserver up {args}\n",
            rvs.display()
        )),
        "{unit}"
    );
    assert!(
        unit.contains(&format!(
            "ExecStop={} realserver down {args}\n",
            rvs.display()
        )),
        "{unit}"
    );
    assert!(
        unit.contains("Type=oneshot") && unit.contains("WantedBy=multi-user.target"),
        "{unit}"
    );
    assert_eq!(
        host_conf.exists(),
        host_had_it,
        "the machine's /etc/sysctl.d was touched"
    );

    let down = t.rvs_ok(&["down", "--vip", &vip_arg(), "--mode", "dr", "--persist"]);
    assert!(
        down.contains(&format!("removed {}", conf_path.display())),
        "{down}"
    );
    assert!(
        down.contains(&format!("removed {}", unit_path.display())),
        "{down}"
    );
    assert!(!conf_path.exists() && !unit_path.exists());
    assert_eq!(before.diff(&t.snapshot()), Vec::<String>::new());
}

/// How the suite enters the real server's namespace to run `rvs`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Enter {
    /// Only the network namespace switched (as `rvs lab` does).
    Setns,
    /// `ip netns exec`, which also gives `rvs` a private `/sys`.
    IpNetnsExec,
}

/// TUN with rvs's XDP decapsulation: up, the doctor, a tunnelled packet to the VIP delivered,
/// down with nothing left (no pins, no program on the link, every sysctl and address back).
fn tun_with_xdp_decap(t: &RsLab, tun_args: &[&str], encap: Encap, enter: Enter) {
    let before = t.snapshot();
    let mut args = vec![
        "--vip".to_owned(),
        vip_arg(),
        "--mode".to_owned(),
        "tun".to_owned(),
    ];
    args.extend(tun_args.iter().map(|s| s.to_string()));
    let with = |verb: &str| -> Vec<String> {
        std::iter::once(verb.to_owned())
            .chain(args.iter().cloned())
            .collect()
    };
    let run = |verb: &str| {
        let args = with(verb);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match enter {
            Enter::Setns => t.rvs(&args),
            Enter::IpNetnsExec => t.rvs_via_ip_netns_exec(&args),
        }
    };

    let up = run("up");
    assert!(up.success(), "up:\n{}\n{}", up.stdout, up.stderr);
    let state = std::fs::read_to_string(t.state_file()).unwrap_or_else(|e| panic!("{e}"));
    assert!(state.contains(r#""by": "xdp""#), "{state}");
    assert!(t.pin_dir().is_dir(), "no pins in {}", t.pin_dir().display());
    let status = run("status");
    assert!(status.success(), "status:\n{}", status.stdout);
    assert!(
        status
            .stdout
            .contains("PASS the rvs decapsulation program is attached to eth0"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains(&format!("PASS VIP {VIP}/32 is on lo")),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("PASS rp_filter on eth0 is"),
        "{}",
        status.stdout
    );

    let target = SocketAddr::from((VIP, 9999));
    let socket = udp_listener(&t.rs, target);
    let payload = format!("rvs-decap-{encap:?}").into_bytes();
    let source = SocketAddr::from((NB_IP, 40000));
    let mut got = None;
    for _ in 0..3 {
        send_tunnelled(&t.nb, encap, RS_IP, &udp_packet(source, target, &payload));
        got = receive(&socket, Duration::from_secs(1));
        if got.is_some() {
            break;
        }
    }
    assert_eq!(
        got,
        Some((payload, source)),
        "the {encap:?} packet to the VIP did not arrive"
    );
    drop(socket);

    let down = run("down");
    assert!(down.success(), "down:\n{}\n{}", down.stdout, down.stderr);
    assert!(
        down.stdout
            .contains("removed rvs's XDP decapsulation program from eth0"),
        "{}",
        down.stdout
    );
    assert!(
        !t.pin_dir().exists(),
        "pins left in {}",
        t.pin_dir().display()
    );
    assert_eq!(
        before.diff(&t.snapshot()),
        Vec::<String>::new(),
        "{}",
        down.stdout
    );
    let after = run("status");
    assert!(!after.success());
    assert!(
        after
            .stdout
            .contains("FAIL no rvs decapsulation program on eth0"),
        "{}",
        after.stdout
    );
}

#[test]
fn tun_ipip_with_xdp_decapsulation() {
    if !root_or_skip("tun_ipip_with_xdp_decapsulation") {
        return;
    }
    let t = RsLab::new();
    // `auto`: the kernel's tunl0 where the kernel has ipip, else rvs's program.
    let kernel_has_ipip = std::path::Path::new("/sys/module/ipip").exists();
    let decap = if kernel_has_ipip { "xdp" } else { "auto" };
    tun_with_xdp_decap(
        &t,
        &["--tun-type", "ipip", "--decap", decap],
        Encap::Ipip,
        Enter::Setns,
    );
    if !kernel_has_ipip {
        // Control: the VIP alone, without the program, does not receive tunnelled packets here.
        t.rs.add_addr("lo", Ipv4Cidr::host(VIP))
            .unwrap_or_else(|e| panic!("{e}"));
        let target = SocketAddr::from((VIP, 9999));
        let socket = udp_listener(&t.rs, target);
        let source = SocketAddr::from((NB_IP, 40000));
        send_tunnelled(
            &t.nb,
            Encap::Ipip,
            RS_IP,
            &udp_packet(source, target, b"control"),
        );
        assert_eq!(receive(&socket, Duration::from_millis(800)), None);
    }
}

#[test]
fn tun_gre_with_xdp_decapsulation_relaxes_a_strict_rp_filter() {
    if !root_or_skip("tun_gre_with_xdp_decapsulation_relaxes_a_strict_rp_filter") {
        return;
    }
    let t = RsLab::new();
    // Strict reverse-path filtering, as some distributions set it: `up` must relax it, `down`
    // must put it back.
    t.rs.sysctl_write("net.ipv4.conf.all.rp_filter", "1")
        .unwrap_or_else(|e| panic!("{e}"));
    t.rs.sysctl_write("net.ipv4.conf.eth0.rp_filter", "1")
        .unwrap_or_else(|e| panic!("{e}"));
    tun_with_xdp_decap(
        &t,
        &["--tun-type", "gre", "--decap", "xdp"],
        Encap::Gre,
        Enter::Setns,
    );
    assert_eq!(conf(&t.rs, "all", "rp_filter"), "1");
    assert_eq!(conf(&t.rs, "eth0", "rp_filter"), "1");
}

#[test]
fn tun_gue_with_xdp_decapsulation() {
    if !root_or_skip("tun_gue_with_xdp_decapsulation") {
        return;
    }
    let t = RsLab::new();
    tun_with_xdp_decap(
        &t,
        &["--tun-type", "gue", "--tun-port", "6080", "--decap", "xdp"],
        Encap::Gue(6080),
        Enter::Setns,
    );
}

#[test]
fn tun_prepared_through_ip_netns_exec_stays_attached_after_rvs_exits() {
    if !root_or_skip("tun_prepared_through_ip_netns_exec_stays_attached_after_rvs_exits") {
        return;
    }
    // `ip netns exec` gives rvs a private /sys: the program must still be pinned in the
    // machine's BPF filesystem, or it would be detached the moment rvs exits.
    let t = RsLab::new();
    tun_with_xdp_decap(
        &t,
        &["--tun-type", "gre", "--decap", "xdp"],
        Encap::Gre,
        Enter::IpNetnsExec,
    );
}
