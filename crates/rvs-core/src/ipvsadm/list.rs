//! `list_all`, `list_service`, `print_title`, `print_service_entry`, `list_timeout` and
//! `list_daemon`: every listing format of ipvsadm 1.31, byte for byte.

use super::backend::{Call, error_text};
use super::format::{addrport_to_anyname, largenum, pad_right, truncate_bytes};
use super::sort::{DestSortKey, ServiceSortKey, addr_words, cmp_dests, cmp_services, glibc_msort};
use super::{Ctx, Exit, Format};
use crate::model::{
    AddressFamily, DestEntry, ForwardMethod, Netmask, SchedFlags, ServiceEntry, ServiceKey,
    TunnelCsum, TunnelKind,
};
use std::fmt::Write as _;

fn af_value(af: AddressFamily) -> u16 {
    af.value()
}

/// The protocol number libipvs reports: 0 for fwmark services.
fn listed_protocol(key: &ServiceKey) -> u16 {
    match key {
        ServiceKey::Addr { protocol, .. } => protocol.number(),
        ServiceKey::Fwmark { .. } => 0,
    }
}

fn service_sort_key(se: &ServiceEntry) -> ServiceSortKey {
    let (addr, port) = match &se.key {
        ServiceKey::Addr { addr, port, .. } => (addr_words(addr), *port),
        ServiceKey::Fwmark { .. } => ([0; 4], 0),
    };
    ServiceSortKey {
        fwmark: se.key.fwmark_value(),
        af: af_value(se.key.af()),
        protocol: listed_protocol(&se.key),
        addr,
        port,
    }
}

fn dest_sort_key(d: &DestEntry) -> DestSortKey {
    DestSortKey {
        af: af_value(AddressFamily::of(&d.addr)),
        addr: addr_words(&d.addr),
        port: d.port,
    }
}

/// `ipvs_sort_services(get, ipvs_cmp_services)`
pub fn sort_services(list: &mut [ServiceEntry]) {
    glibc_msort(list, &|a, b| {
        cmp_services(&service_sort_key(a), &service_sort_key(b))
    });
}

/// The Forward column of `-L` (`Masq`, `Route` …), as ipvsadm prints it.
pub fn fwd_name(f: ForwardMethod) -> &'static str {
    match f {
        ForwardMethod::Masq => "Masq",
        ForwardMethod::Local => "Local",
        ForwardMethod::Tunnel => "Tunnel",
        ForwardMethod::Route => "Route",
        ForwardMethod::Bypass => "(null)",
    }
}

fn fwd_switch(f: ForwardMethod) -> &'static str {
    match f {
        ForwardMethod::Masq => "-m",
        ForwardMethod::Tunnel => "-i",
        ForwardMethod::Local | ForwardMethod::Route => "-g",
        ForwardMethod::Bypass => "(null)",
    }
}

fn tun_flag_index(c: TunnelCsum) -> usize {
    match c {
        TunnelCsum::NoCsum => 0,
        TunnelCsum::Csum => 1,
        TunnelCsum::RemCsum => 2,
    }
}

/// `fwd_tun_info`: `ipip`, `gue:<port>:<-c|+c|r+c>`, `gre:<-c|+c>`, or `n/a` when not tunnelled.
fn tun_info(d: &DestEntry) -> String {
    const FLAGS: [&str; 3] = ["-c", "+c", "r+c"];
    if d.fwd != ForwardMethod::Tunnel {
        return "n/a".to_owned();
    }
    let flags = FLAGS[tun_flag_index(d.tunnel.csum)];
    let s = match d.tunnel.kind {
        TunnelKind::Ipip => "ipip".to_owned(),
        TunnelKind::Gue => format!("gue:{}:{flags}", d.tunnel.port),
        TunnelKind::Gre => format!("gre:{flags}"),
    };
    truncate_bytes(&s, 15).to_owned()
}

/// `print_sched_flags`
fn sched_flags_text(sched: &str, flags: SchedFlags) -> String {
    let names: [&str; 3] = match sched {
        "sh" => ["sh-fallback", "sh-port", ""],
        "mh" => ["mh-fallback", "mh-port", ""],
        _ => ["flag-1", "flag-2", "flag-3"],
    };
    let bits = [SchedFlags::FLAG_1, SchedFlags::FLAG_2, SchedFlags::FLAG_3];
    names
        .iter()
        .zip(bits)
        .filter(|(n, b)| !n.is_empty() && flags.contains(*b))
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

/// The netmask part of a service line: `<word> <mask>` when it is not the full mask.
fn mask_text(se: &ServiceEntry, word: &str) -> String {
    match (se.key.af(), se.netmask) {
        (AddressFamily::Inet, Netmask::V4(m)) if u32::from(m) != u32::MAX => format!(" {word} {m}"),
        (AddressFamily::Inet6, Netmask::V6(p)) if p != 128 => format!(" {word} {p}"),
        _ => String::new(),
    }
}

/// `print_title`
pub fn title(format: Format) -> &'static str {
    if format.has(Format::STATS) {
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n"
    } else if format.has(Format::RATE) {
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\n"
    } else if format.has(Format::THRESHOLDS) {
        "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n"
    } else if format.has(Format::PERSISTENTCONN) {
        "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n  -> RemoteAddress:Port\n"
    } else if format.has(Format::TUN_INFO) {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
    } else if !format.has(Format::RULE) {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    } else {
        ""
    }
}

/// `print_service_entry`: the service line and its destinations.
pub fn service_entry(ctx: &Ctx<'_>, se: &ServiceEntry, format: Format) -> String {
    let numeric = format.has(Format::NUMERIC);
    let rule = format.has(Format::RULE);
    let protocol = listed_protocol(&se.key);
    let sched = se.scheduler.as_ref().map_or("none", |s| s.as_str());
    let mut out = String::new();

    let svc_name = match &se.key {
        ServiceKey::Fwmark { af, mark } => {
            // ipvsadm 1.31 prints the mark with %d
            let m = mark.get() as i32;
            match (rule, af) {
                (true, AddressFamily::Inet6) => format!("-f {m} -6"),
                (true, AddressFamily::Inet) => format!("-f {m}"),
                (false, AddressFamily::Inet6) => format!("FWM  {m} IPv6"),
                (false, AddressFamily::Inet) => format!("FWM  {m}"),
            }
        }
        ServiceKey::Addr {
            protocol: p,
            addr,
            port,
        } => {
            let vname = addrport_to_anyname(addr, *port, protocol, numeric, ctx.resolver);
            if rule {
                let opt = match p.number() {
                    6 => "-t",
                    17 => "-u",
                    _ => "--sctp-service",
                };
                format!("{opt} {vname}")
            } else {
                let s = format!("{:<4} {vname}", p.name());
                if addr.is_ipv6() {
                    s
                } else {
                    truncate_bytes(&s, 33).to_owned()
                }
            }
        }
    };

    let sched_flags = se.flags.sched;
    if rule {
        let _ = write!(out, "-A {svc_name} -s {sched}");
        if se.flags.persistent {
            let _ = write!(out, " -p {}", se.timeout);
            out.push_str(&mask_text(se, "-M"));
        }
        if let Some(pe) = &se.pe {
            let _ = write!(out, " --pe {}", pe.as_str());
        }
        if se.flags.one_packet {
            out.push_str(" -o");
        }
        if !sched_flags.is_empty() {
            let _ = write!(out, " -b {}", sched_flags_text(sched, sched_flags));
        }
    } else if format.has(Format::STATS) || format.has(Format::RATE) {
        let exact = format.has(Format::EXACT);
        out.push_str(&pad_right(&svc_name, 33));
        let nums = if format.has(Format::STATS) {
            let s = &se.stats;
            [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
        } else {
            let r = &se.rates;
            [r.cps, r.inpps, r.outpps, r.inbps, r.outbps]
        };
        for n in nums {
            out.push_str(&largenum(n, exact));
        }
    } else {
        let _ = write!(out, "{svc_name} {sched}");
        if !sched_flags.is_empty() {
            let _ = write!(out, " ({})", sched_flags_text(sched, sched_flags));
        }
        if se.flags.persistent {
            let _ = write!(out, " persistent {}", se.timeout);
            out.push_str(&mask_text(se, "mask"));
            if let Some(pe) = &se.pe {
                let _ = write!(out, " pe {}", pe.as_str());
            }
        }
        if se.flags.one_packet {
            out.push_str(" ops");
        }
    }
    out.push('\n');

    let mut dests = se.dests.clone();
    if !format.has(Format::NOSORT) {
        glibc_msort(&mut dests, &|a, b| {
            cmp_dests(&dest_sort_key(a), &dest_sort_key(b))
        });
    }
    for d in &dests {
        let mut dname = addrport_to_anyname(&d.addr, d.port, protocol, numeric, ctx.resolver);
        if !rule && !d.addr.is_ipv6() {
            dname = truncate_bytes(&dname, 28).to_owned();
        }
        dest_line(&mut out, &svc_name, &dname, d, format);
    }
    out
}

fn dest_line(out: &mut String, svc_name: &str, dname: &str, d: &DestEntry, format: Format) {
    let exact = format.has(Format::EXACT);
    let w = d.weight.get();
    if format.has(Format::RULE) {
        let _ = write!(out, "-a {svc_name} -r {dname} {} -w {w}", fwd_switch(d.fwd));
        if d.fwd == ForwardMethod::Tunnel {
            const OPTS: [&str; 3] = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"];
            let flags = OPTS[tun_flag_index(d.tunnel.csum)];
            match d.tunnel.kind {
                TunnelKind::Gre => {
                    let _ = write!(out, " --tun-type gre {flags}");
                }
                TunnelKind::Gue => {
                    let _ = write!(out, " --tun-type gue --tun-port {} {flags}", d.tunnel.port);
                }
                TunnelKind::Ipip => out.push_str(" --tun-type ipip"),
            }
        }
        out.push('\n');
    } else if format.has(Format::STATS) {
        let _ = write!(out, "  -> {}", pad_right(dname, 28));
        let s = &d.stats;
        for n in [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes] {
            out.push_str(&largenum(n, exact));
        }
        out.push('\n');
    } else if format.has(Format::RATE) {
        let r = &d.rates;
        let _ = write!(
            out,
            "  -> {} {:8} {:8} {:8}",
            pad_right(dname, 28),
            r.cps,
            r.inpps,
            r.outpps
        );
        out.push_str(&largenum(r.inbps, exact));
        out.push_str(&largenum(r.outbps, exact));
        out.push('\n');
    } else if format.has(Format::THRESHOLDS) {
        let _ = writeln!(
            out,
            "  -> {} {:<10} {:<10} {:<10} {:<10}",
            pad_right(dname, 28),
            d.u_threshold,
            d.l_threshold,
            d.active_conns,
            d.inactive_conns
        );
    } else if format.has(Format::PERSISTENTCONN) {
        let _ = writeln!(
            out,
            "  -> {} {:<9} {:<11} {:<10} {:<10}",
            pad_right(dname, 28),
            w,
            d.persistent_conns,
            d.active_conns,
            d.inactive_conns
        );
    } else if format.has(Format::TUN_INFO) {
        let _ = writeln!(
            out,
            "  -> {} {:<7} {:<13} {:<6} {:<10} {:<10}",
            pad_right(dname, 28),
            fwd_name(d.fwd),
            tun_info(d),
            w,
            d.active_conns,
            d.inactive_conns
        );
    } else {
        let _ = writeln!(
            out,
            "  -> {} {:<7} {:<6} {:<10} {:<10}",
            pad_right(dname, 28),
            fwd_name(d.fwd),
            w,
            d.active_conns,
            d.inactive_conns
        );
    }
}

/// `list_all`: header (unless saving), then every service, sorted unless `--nosort`.
pub fn list_all(ctx: &mut Ctx<'_>, format: Format) -> Result<(), Exit> {
    if !format.has(Format::RULE) {
        let (v, size) = ctx.info.map_or((0, 0), |i| (i.version, i.conn_tab_size));
        ctx.io.out_str(&format!(
            "IP Virtual Server version {}.{}.{} (size={size})\n",
            (v >> 16) & 0xff,
            (v >> 8) & 0xff,
            v & 0xff
        ));
    }
    let mut services = match ctx.backend.services() {
        Ok(s) => s,
        Err(e) => return Err(ctx.io.fail(1, &error_text(Call::GetServices, &e))),
    };
    if !format.has(Format::NOSORT) {
        sort_services(&mut services);
    }
    let mut text = title(format).to_owned();
    for se in &services {
        text.push_str(&service_entry(ctx, se, format));
    }
    ctx.io.out_str(&text);
    Ok(())
}

/// `list_service`: one service, no header; `No such service` exits 1.
pub fn list_service(ctx: &mut Ctx<'_>, key: &ServiceKey, format: Format) -> Result<(), Exit> {
    let se = match ctx.backend.service(key) {
        Ok(s) => s,
        Err(e) => return Err(ctx.io.fail(1, &error_text(Call::GetService, &e))),
    };
    let text = format!("{}{}", title(format), service_entry(ctx, &se, format));
    ctx.io.out_str(&text);
    Ok(())
}

/// `list_timeout`: exits 1 without a message when the timeouts cannot be read.
pub fn list_timeout(ctx: &mut Ctx<'_>) -> Result<(), Exit> {
    match ctx.backend.timeouts() {
        Ok(t) => {
            ctx.io.out_str(&format!(
                "Timeout (tcp tcpfin udp): {} {} {}\n",
                t.tcp, t.tcp_fin, t.udp
            ));
            Ok(())
        }
        Err(e) => Err(ctx.silent_or_transport_exit(&e)),
    }
}

/// `list_daemon`: master then backup, when running.
pub fn list_daemon(ctx: &mut Ctx<'_>) -> Result<(), Exit> {
    let daemons = match ctx.backend.daemons() {
        Ok(d) => d,
        Err(e) => return Err(ctx.silent_or_transport_exit(&e)),
    };
    let mut text = String::new();
    for d in daemons {
        let _ = write!(
            text,
            "{} sync daemon (mcast={}, syncid={}",
            d.state.name(),
            d.ifname.as_str(),
            d.syncid
        );
        if d.sync_maxlen != 0 {
            let _ = write!(text, ", maxlen={}", d.sync_maxlen);
        }
        let _ = write!(text, ", group={}", super::format::inet_ntop(&d.mcast_group));
        if d.mcast_port != 0 {
            let _ = write!(text, ", port={}", d.mcast_port);
        }
        if d.mcast_ttl != 0 {
            let _ = write!(text, ", ttl={}", d.mcast_ttl);
        }
        text.push_str(")\n");
    }
    ctx.io.out_str(&text);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{DestId, Rates, ServiceId, Stats64, TunnelSpec, Weight};

    fn dest(addr: &str, fwd: ForwardMethod, tunnel: TunnelSpec) -> DestEntry {
        DestEntry {
            id: DestId(0),
            addr: addr.parse().unwrap(),
            port: 80,
            fwd,
            weight: Weight::new(3).unwrap(),
            u_threshold: 0,
            l_threshold: 0,
            tunnel,
            active_conns: 0,
            inactive_conns: 0,
            persistent_conns: 0,
            stats: Stats64::default(),
            rates: Rates::default(),
        }
    }

    #[test]
    fn tunnel_info_texts() {
        let gue = TunnelSpec {
            kind: TunnelKind::Gue,
            port: 6080,
            csum: TunnelCsum::RemCsum,
        };
        assert_eq!(
            tun_info(&dest("10.0.0.1", ForwardMethod::Tunnel, gue)),
            "gue:6080:r+c"
        );
        let gre = TunnelSpec {
            kind: TunnelKind::Gre,
            port: 0,
            csum: TunnelCsum::Csum,
        };
        assert_eq!(
            tun_info(&dest("10.0.0.1", ForwardMethod::Tunnel, gre)),
            "gre:+c"
        );
        assert_eq!(
            tun_info(&dest(
                "10.0.0.1",
                ForwardMethod::Tunnel,
                TunnelSpec::default()
            )),
            "ipip"
        );
        assert_eq!(tun_info(&dest("10.0.0.1", ForwardMethod::Masq, gre)), "n/a");
    }

    #[test]
    fn sched_flag_names_depend_on_the_scheduler() {
        let all = SchedFlags::from_bits(7).unwrap();
        assert_eq!(sched_flags_text("sh", all), "sh-fallback,sh-port");
        assert_eq!(sched_flags_text("mh", SchedFlags::FLAG_2), "mh-port");
        assert_eq!(sched_flags_text("rr", all), "flag-1,flag-2,flag-3");
        assert_eq!(sched_flags_text("sh", SchedFlags::FLAG_3), "");
    }

    #[test]
    fn titles() {
        assert!(title(Format::RULE).is_empty());
        assert!(title(Format::STATS | Format::RATE).contains("Conns"));
        assert!(title(Format::NONE).ends_with("InActConn\n"));
        assert_eq!(fwd_switch(ForwardMethod::Local), "-g");
        assert_eq!(fwd_name(ForwardMethod::Bypass), "(null)");
        let _ = ServiceId(0);
    }
}
