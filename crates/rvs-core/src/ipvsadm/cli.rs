//! `parse_options` and the checks of `process_options`: from argv to a checked command entry,
//! with ipvsadm's messages and exit codes. The entry mirrors ipvsadm's `struct
//! ipvs_command_entry`, because several results depend on the order options were given in
//! (`-M` before or after the service, `-r` before `-t`, `-6` after `-f`).

use super::Io;
use super::addr::parse_service;
use super::cparse::{atoi, inet_aton, inet_pton4, inet_pton6, parse_fwmark, string_to_number};
use super::options::{Cmd, OPTIONS, Opt, Optc, generic_opt_check, tunnel_opt_check};
use super::popt::Popt;
use super::resolve::Resolver;
use super::{Exit, Format};
use crate::model::SyncState;
use std::net::IpAddr;

pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;
const IPPROTO_TCP: u16 = 6;
const IPPROTO_UDP: u16 = 17;
const IPPROTO_SCTP: u16 = 132;

pub const SVC_F_PERSISTENT: u32 = 0x1;
pub const SVC_F_ONEPACKET: u32 = 0x4;
pub const SVC_F_SCHED1: u32 = 0x8;
pub const SVC_F_SCHED2: u32 = 0x10;
pub const SVC_F_SCHED3: u32 = 0x20;
const SVC_F_SCHED_ALL: u32 = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3;

pub const FWD_MASQ: u32 = 0;
pub const FWD_TUNNEL: u32 = 2;
pub const FWD_DROUTE: u32 = 3;

/// `IPVS_SVC_PERSISTENT_TIMEOUT`
const DEFAULT_PERSISTENT_TIMEOUT: u32 = 6 * 60;
/// `MAX_TIMEOUT`
const MAX_TIMEOUT: i64 = 86400 * 31;
/// Debian's ipvsadm 1.31 accepts weights up to `INT_MAX` (upstream: 65535).
const MAX_WEIGHT: i64 = i32::MAX as i64;

/// `ipvs_service_t` as ipvsadm fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvcState {
    pub af: u16,
    pub protocol: u16,
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub fwmark: u32,
    pub sched_name: String,
    pub flags: u32,
    pub timeout: u32,
    /// An IPv4 mask as a big-endian number, or an IPv6 prefix length.
    pub netmask: u32,
    pub pe_name: String,
}

/// `ipvs_dest_t` as ipvsadm fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestState {
    pub af: u16,
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub fwd: u32,
    pub weight: u32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub tun_type: usize,
    pub tun_port: u16,
    pub tun_flags: u16,
}

/// `ipvs_daemon_t` as ipvsadm fills it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DaemonState {
    pub state: Option<SyncState>,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: u16,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: u16,
    pub mcast_ttl: u8,
}

/// `struct ipvs_command_entry` plus the options word and the listing format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub cmd: Cmd,
    pub svc: SvcState,
    pub dest: DestState,
    pub timeouts: [u32; 3],
    pub daemon: DaemonState,
    pub options: u64,
    pub format: Format,
}

impl Entry {
    pub fn has(&self, o: Optc) -> bool {
        self.options & o.bit() != 0
    }
}

/// How `parse_options` ended when it did not exit the program.
pub enum Parsed {
    Entry(Box<Entry>),
    /// A popt error was printed; `process_options` returns -1.
    PoptFailed,
}

fn set_option(io: &mut Io<'_>, options: &mut u64, o: Optc) -> Result<(), Exit> {
    if *options & o.bit() != 0 {
        return Err(io.fail(
            2,
            &format!(
                "multiple '{}' options specified",
                super::options::OPT_NAMES[o as usize]
            ),
        ));
    }
    *options |= o.bit();
    Ok(())
}

/// ipvsadm's `parse_timeout`: `None` (no argument) gives the default persistence timeout.
fn parse_timeout(io: &mut Io<'_>, arg: Option<&str>, min: i64, max: i64) -> Result<u32, Exit> {
    let Some(s) = arg else {
        return Ok(DEFAULT_PERSISTENT_TIMEOUT);
    };
    match string_to_number(s, min, max) {
        Some(v) => Ok(v as u32),
        None => Err(io.fail(2, &format!("invalid timeout value `{s}' specified"))),
    }
}

/// Bytes `strncpy(dst, src, n)` keeps, cut at a character boundary.
fn truncated(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

fn number(io: &mut Io<'_>, arg: &str, min: i64, max: i64, what: &str) -> Result<i64, Exit> {
    string_to_number(arg, min, max).ok_or_else(|| io.fail(2, what))
}

/// `parse_options`: popt walk and per-option parsing; the first option must be a command.
pub fn parse_options(
    io: &mut Io<'_>,
    argv: &[String],
    resolver: &dyn Resolver,
) -> Result<Parsed, Exit> {
    let program = argv.first().map_or("ipvsadm", String::as_str).to_owned();
    let mut popt = Popt::new(argv, &OPTIONS);
    let first = match popt.next_opt() {
        Ok(Some(hit)) => hit,
        _ => return Err(io.tryhelp_exit(&program, -1)),
    };
    let mut daemon = DaemonState::default();
    let cmd = match first.id {
        Opt::AddService => Cmd::Add,
        Opt::EditService => Cmd::Edit,
        Opt::DeleteService => Cmd::Del,
        Opt::AddServer => Cmd::AddDest,
        Opt::EditServer => Cmd::EditDest,
        Opt::DeleteServer => Cmd::DelDest,
        Opt::Clear => Cmd::Flush,
        Opt::List => Cmd::List,
        Opt::Zero => Cmd::Zero,
        Opt::Set => Cmd::Timeout,
        Opt::Restore => Cmd::Restore,
        Opt::Save => Cmd::Save,
        Opt::StartDaemon | Opt::StopDaemon => {
            let start = first.id == Opt::StartDaemon;
            daemon.state = match first.arg.as_deref() {
                Some("master") => Some(SyncState::Master),
                Some("backup") => Some(SyncState::Backup),
                _ if start => return Err(io.fail(2, "illegal start-daemon parameter specified")),
                _ => return Err(io.fail(2, "illegal start_daemon specified")),
            };
            if start {
                Cmd::StartDaemon
            } else {
                Cmd::StopDaemon
            }
        }
        Opt::Help => return Err(io.usage_exit(&program, 0)),
        Opt::Version => return Err(io.version_exit(0)),
        _ => return Err(io.tryhelp_exit(&program, -1)),
    };

    let mut e = Entry {
        cmd,
        svc: SvcState {
            af: 0,
            protocol: 0,
            addr: None,
            port: 0,
            fwmark: 0,
            sched_name: String::new(),
            flags: 0,
            timeout: 0,
            netmask: 0xffff_ffff,
            pe_name: String::new(),
        },
        dest: DestState {
            af: 0,
            addr: None,
            port: 0,
            fwd: FWD_DROUTE,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: 0,
            tun_port: 0,
            tun_flags: 0,
        },
        timeouts: [0; 3],
        daemon,
        options: 0,
        format: Format::NONE,
    };
    let mut sched_flags_arg = String::new();

    loop {
        let hit = match popt.next_opt() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(err) => {
                io.err_line(&format!("{}: {}", popt.bad_option(), err.message()));
                return Ok(Parsed::PoptFailed);
            }
        };
        let arg = hit.arg.as_deref().unwrap_or("");
        let opts = &mut e.options;
        match hit.id {
            Opt::TcpService | Opt::UdpService | Opt::SctpService => {
                set_option(io, opts, Optc::Service)?;
                e.svc.protocol = match hit.id {
                    Opt::TcpService => IPPROTO_TCP,
                    Opt::UdpService => IPPROTO_UDP,
                    _ => IPPROTO_SCTP,
                };
                let parsed = parse_service(arg, e.svc.protocol, resolver)
                    .ok_or_else(|| io.fail(2, "illegal virtual server address[:port] specified"))?;
                set_service_addr(&mut e.svc, parsed.addr);
                e.svc.port = parsed.port.unwrap_or(e.svc.port);
            }
            Opt::FwmarkService => {
                set_option(io, opts, Optc::Service)?;
                e.svc.af = AF_INET;
                e.svc.protocol = IPPROTO_TCP;
                e.svc.fwmark = parse_fwmark(arg).ok_or_else(|| {
                    io.fail(2, &format!("invalid fwmark value `{arg}' specified"))
                })?;
            }
            Opt::Scheduler => {
                set_option(io, opts, Optc::Scheduler)?;
                e.svc.sched_name = truncated(arg, 15);
            }
            Opt::Persistent => {
                set_option(io, opts, Optc::Persistent)?;
                e.svc.flags |= SVC_F_PERSISTENT;
                e.svc.timeout = parse_timeout(io, hit.arg.as_deref(), 1, MAX_TIMEOUT)?;
            }
            Opt::Netmask => {
                set_option(io, opts, Optc::Netmask)?;
                if e.svc.af != AF_INET6 {
                    let mask = inet_aton(arg)
                        .or_else(|| resolver.host_to_ipv4(arg))
                        .ok_or_else(|| {
                            io.fail(2, "illegal virtual server persistent mask specified")
                        })?;
                    e.svc.netmask = u32::from(mask);
                } else {
                    e.svc.netmask = atoi(arg) as u32;
                    if !(1..=128).contains(&e.svc.netmask) {
                        return Err(io.fail(2, "illegal ipv6 netmask specified"));
                    }
                }
            }
            Opt::RealServer => {
                set_option(io, opts, Optc::Server)?;
                let parsed = parse_service(arg, e.svc.protocol, resolver)
                    .ok_or_else(|| io.fail(2, "illegal real server address[:port] specified"))?;
                e.dest.af = if parsed.addr.is_ipv6() {
                    AF_INET6
                } else {
                    AF_INET
                };
                e.dest.addr = Some(parsed.addr);
                // copy vport to dport if not specified
                e.dest.port = parsed.port.unwrap_or(e.svc.port);
            }
            Opt::Ipip | Opt::Gatewaying | Opt::Masquerading => {
                set_option(io, opts, Optc::Forward)?;
                e.dest.fwd = match hit.id {
                    Opt::Ipip => FWD_TUNNEL,
                    Opt::Gatewaying => FWD_DROUTE,
                    _ => FWD_MASQ,
                };
            }
            Opt::Weight => {
                set_option(io, opts, Optc::Weight)?;
                e.dest.weight = number(io, arg, 0, MAX_WEIGHT, "illegal weight specified")? as u32;
            }
            Opt::UThreshold => {
                set_option(io, opts, Optc::UThreshold)?;
                e.dest.u_threshold = number(
                    io,
                    arg,
                    0,
                    i64::from(i32::MAX),
                    "illegal u_threshold specified",
                )? as u32;
            }
            Opt::LThreshold => {
                set_option(io, opts, Optc::LThreshold)?;
                e.dest.l_threshold = number(
                    io,
                    arg,
                    0,
                    i64::from(i32::MAX),
                    "illegal l_threshold specified",
                )? as u32;
            }
            Opt::Connection => set_option(io, opts, Optc::Connection)?,
            Opt::Numeric => {
                set_option(io, opts, Optc::Numeric)?;
                e.format |= Format::NUMERIC;
            }
            Opt::McastInterface => {
                set_option(io, opts, Optc::Mcast)?;
                e.daemon.mcast_ifn = truncated(arg, 15);
            }
            Opt::SyncId => {
                set_option(io, opts, Optc::SyncId)?;
                e.daemon.syncid = number(io, arg, 0, 255, "illegal syncid specified")? as u32;
            }
            Opt::Timeout => set_option(io, opts, Optc::Timeout)?,
            Opt::Daemon => set_option(io, opts, Optc::Daemon)?,
            Opt::Stats => {
                set_option(io, opts, Optc::Stats)?;
                e.format |= Format::STATS;
            }
            Opt::Rate => {
                set_option(io, opts, Optc::Rate)?;
                e.format |= Format::RATE;
            }
            Opt::Thresholds => {
                set_option(io, opts, Optc::Thresholds)?;
                e.format |= Format::THRESHOLDS;
            }
            Opt::PersistentConn => {
                set_option(io, opts, Optc::PersistentConn)?;
                e.format |= Format::PERSISTENTCONN;
            }
            Opt::NoSort => {
                set_option(io, opts, Optc::NoSort)?;
                e.format |= Format::NOSORT;
            }
            Opt::Sort => {}
            Opt::Exact => {
                set_option(io, opts, Optc::Exact)?;
                e.format |= Format::EXACT;
            }
            Opt::Ipv6 => {
                if e.svc.fwmark != 0 {
                    e.svc.af = AF_INET6;
                    e.svc.netmask = 128;
                } else {
                    return Err(io.fail(2, "-6 used before -f\n"));
                }
            }
            Opt::Ops => {
                set_option(io, opts, Optc::OnePacket)?;
                e.svc.flags |= SVC_F_ONEPACKET;
            }
            Opt::Pe => {
                set_option(io, opts, Optc::PersistenceEngine)?;
                e.svc.pe_name = truncated(arg, 15);
            }
            Opt::SchedFlags => {
                set_option(io, opts, Optc::SchedFlags)?;
                sched_flags_arg = truncated(arg, 127);
            }
            Opt::McastGroup => {
                set_option(io, opts, Optc::McastGroup)?;
                e.daemon.mcast_group = Some(if arg.contains(':') {
                    match inet_pton6(arg) {
                        Some(g) if g.is_multicast() => IpAddr::V6(g),
                        _ => return Err(io.fail(2, &format!("invalid IPv6 mcast-group `{arg}'"))),
                    }
                } else {
                    match inet_pton4(arg) {
                        Some(g) if g.is_multicast() => IpAddr::V4(g),
                        _ => return Err(io.fail(2, &format!("invalid IPv4 mcast-group `{arg}'"))),
                    }
                });
            }
            Opt::McastPort => {
                set_option(io, opts, Optc::McastPort)?;
                e.daemon.mcast_port =
                    number(io, arg, 1, 65535, "illegal mcast-port specified")? as u16;
            }
            Opt::McastTtl => {
                set_option(io, opts, Optc::McastTtl)?;
                e.daemon.mcast_ttl = number(io, arg, 1, 255, "illegal mcast-ttl specified")? as u8;
            }
            Opt::SyncMaxlen => {
                set_option(io, opts, Optc::SyncMaxlen)?;
                e.daemon.sync_maxlen =
                    number(io, arg, 1, 65535 - 20 - 8, "illegal sync-maxlen specified")? as u16;
            }
            Opt::TunInfo => {
                set_option(io, opts, Optc::TunInfo)?;
                e.format |= Format::TUN_INFO;
            }
            Opt::TunType => {
                set_option(io, opts, Optc::TunType)?;
                e.dest.tun_type = super::options::TUN_NAMES
                    .iter()
                    .position(|n| *n == arg)
                    .ok_or_else(|| io.fail(2, "illegal tunnel type specified"))?;
            }
            Opt::TunPort => {
                set_option(io, opts, Optc::TunPort)?;
                e.dest.tun_port =
                    number(io, arg, 1, 65535, "illegal tunnel port specified")? as u16;
            }
            Opt::TunNocsum => set_option(io, opts, Optc::TunNocsum)?,
            Opt::TunCsum => {
                set_option(io, opts, Optc::TunCsum)?;
                e.dest.tun_flags |= 1;
            }
            Opt::TunRemcsum => {
                set_option(io, opts, Optc::TunRemcsum)?;
                e.dest.tun_flags |= 2;
            }
            _ => return Err(io.fail(2, &format!("invalid option `{}'", popt.bad_option()))),
        }
    }

    if e.cmd == Cmd::Timeout {
        let (a, b, c) = (popt.take_arg(), popt.take_arg(), popt.take_arg());
        let (Some(a), Some(b), Some(c)) = (a, b, c) else {
            return Err(io.fail(2, "--set option requires 3 timeout values"));
        };
        for (slot, v) in e.timeouts.iter_mut().zip([a, b, c]) {
            *slot = parse_timeout(io, Some(&v), 0, MAX_TIMEOUT)?;
        }
    }
    if let Some(extra) = popt.take_arg() {
        return Err(io.fail(2, &format!("unexpected argument {extra}")));
    }
    if !sched_flags_arg.is_empty() {
        e.svc.flags &= !SVC_F_SCHED_ALL;
        e.svc.flags |= parse_sched_flags(io, &e.svc.sched_name, &sched_flags_arg)?;
    }
    Ok(Parsed::Entry(Box::new(e)))
}

/// The address part of `parse_service` on the service: IPv6 also sets the /128 netmask.
fn set_service_addr(svc: &mut SvcState, addr: IpAddr) {
    svc.addr = Some(addr);
    if addr.is_ipv6() {
        svc.af = AF_INET6;
        svc.netmask = 128;
    } else {
        svc.af = AF_INET;
    }
}

/// An all-delimiter `-b` value makes ipvsadm's `strtok` return NULL and the program crash.
pub const EXIT_SEGFAULT: i32 = 139;

/// `parse_sched_flags`: comma-separated names; sh/mh names need their scheduler (default wlc).
fn parse_sched_flags(io: &mut Io<'_>, sched: &str, arg: &str) -> Result<u32, Exit> {
    let sched = if sched.is_empty() { "wlc" } else { sched };
    let mut flags = 0;
    let mut any = false;
    for flag in arg.split(',').filter(|f| !f.is_empty()) {
        any = true;
        let (bit, needs) = match flag {
            "flag-1" => (SVC_F_SCHED1, None),
            "flag-2" => (SVC_F_SCHED2, None),
            "flag-3" => (SVC_F_SCHED3, None),
            "sh-fallback" => (SVC_F_SCHED1, Some("sh")),
            "sh-port" => (SVC_F_SCHED2, Some("sh")),
            "mh-fallback" => (SVC_F_SCHED1, Some("mh")),
            "mh-port" => (SVC_F_SCHED2, Some("mh")),
            _ => return Err(io.fail(2, &format!("invalid scheduler flag `{flag}'"))),
        };
        flags |= bit;
        if needs.is_some_and(|s| s != sched) {
            return Err(io.fail(2, &format!("incompatible scheduler flag `{flag}'")));
        }
    }
    if !any {
        return Err(Exit(EXIT_SEGFAULT));
    }
    Ok(flags)
}

/// The checks `process_options` makes after parsing, before running the command.
pub fn check_entry(io: &mut Io<'_>, e: &mut Entry) -> Result<(), Exit> {
    generic_opt_check(e.cmd, e.options).map_err(|m| io.fail(2, &m))?;
    if matches!(e.cmd, Cmd::Add | Cmd::Edit) {
        if e.svc.fwmark == 0 && e.svc.port == 0 && e.svc.flags & SVC_F_PERSISTENT == 0 {
            return Err(io.fail(2, "Zero port specified for non-persistent service"));
        }
        if e.svc.flags & SVC_F_ONEPACKET != 0 && e.svc.fwmark == 0 && e.svc.protocol != IPPROTO_UDP
        {
            return Err(io.fail(2, "One-Packet Scheduling is only for UDP virtual services"));
        }
        if e.svc.sched_name.is_empty() {
            e.svc.sched_name = "wlc".to_owned();
        }
    }
    if e.cmd == Cmd::StartDaemon && e.daemon.mcast_ifn.is_empty() {
        e.daemon.mcast_ifn = "eth0".to_owned();
    }
    if matches!(e.cmd, Cmd::AddDest | Cmd::EditDest) {
        let fwd = e.dest.fwd;
        if e.svc.fwmark == 0 && (fwd == FWD_TUNNEL || fwd == FWD_DROUTE) {
            e.dest.port = e.svc.port;
        }
        if e.dest.af != e.svc.af && fwd != FWD_TUNNEL {
            return Err(io.fail(
                2,
                "Different address family is allowed only for tunneling servers",
            ));
        }
        let tun_opts = Optc::TunType.bit()
            | Optc::TunPort.bit()
            | Optc::TunNocsum.bit()
            | Optc::TunCsum.bit()
            | Optc::TunRemcsum.bit();
        if e.options & tun_opts != 0 && fwd != FWD_TUNNEL {
            return Err(io.fail(2, "Tunnel options conflict with forward method"));
        }
        tunnel_opt_check(e.dest.tun_type, e.options).map_err(|m| io.fail(2, &m))?;
    }
    if e.cmd == Cmd::List {
        let (conn_like, fmt_like) = (
            Optc::Connection.bit() | Optc::Timeout.bit() | Optc::Daemon.bit(),
            Optc::Stats.bit() | Optc::Rate.bit() | Optc::Thresholds.bit(),
        );
        let td = Optc::Timeout.bit() | Optc::Daemon.bit();
        if (e.options & conn_like != 0 && e.options & fmt_like != 0)
            || (e.options & td != 0 && e.options & Optc::PersistentConn.bit() != 0)
        {
            return Err(io.fail(2, "options conflicts in the list command"));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::super::resolve::NoNames;
    use super::*;

    /// Parses and checks `line`; `Err((code, stderr))` when ipvsadm would exit.
    pub(crate) fn parse(line: &str) -> Result<Entry, (i32, String)> {
        let argv: Vec<String> = std::iter::once("ipvsadm")
            .chain(line.split(' '))
            .map(String::from)
            .collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut io = Io {
            out: &mut out,
            err: &mut err,
        };
        let res = parse_options(&mut io, &argv, &NoNames).and_then(|p| match p {
            Parsed::Entry(mut e) => check_entry(&mut io, &mut e).map(|()| *e),
            Parsed::PoptFailed => Err(Exit(-1)),
        });
        res.map_err(|Exit(c)| (c, String::from_utf8(err).unwrap()))
    }

    #[test]
    fn netmask_depends_on_option_order() {
        assert_eq!(
            parse("-A -t [2001:db8::1]:80 -p -M 64")
                .unwrap()
                .svc
                .netmask,
            64
        );
        assert_eq!(
            parse("-A -M 64 -t [2001:db8::1]:80 -p")
                .unwrap()
                .svc
                .netmask,
            128
        );
        assert_eq!(parse("-A -f 1 -M 255.0.0.0 -6").unwrap().svc.netmask, 128);
        assert_eq!(parse("-A -t 10.0.0.1:80 -M 24").unwrap().svc.netmask, 24);
        assert_eq!(parse("-A -t 10.0.0.1:80").unwrap().svc.netmask, u32::MAX);
        assert_eq!(
            parse("-A -t [2001:db8::1]:80 -M 129").unwrap_err(),
            (2, "illegal ipv6 netmask specified\n".into())
        );
    }

    #[test]
    fn real_server_port_rules() {
        // DR/TUN dests take the service port, masq keeps its own, -r before -t copies port 0
        assert_eq!(
            parse("-a -t 10.0.0.1:80 -r 10.1.1.1:8080")
                .unwrap()
                .dest
                .port,
            80
        );
        assert_eq!(
            parse("-a -t 10.0.0.1:80 -r 10.1.1.1:8080 -m")
                .unwrap()
                .dest
                .port,
            8080
        );
        assert_eq!(
            parse("-a -t 10.0.0.1:80 -r 10.1.1.1 -m").unwrap().dest.port,
            80
        );
        assert_eq!(
            parse("-a -r 10.1.1.1 -t 10.0.0.1:80 -m").unwrap().dest.port,
            0
        );
        assert_eq!(
            parse("-a -f 3 -r 10.1.1.1:8080 -g").unwrap().dest.port,
            8080
        );
        assert_eq!(
            parse("-a -t 10.0.0.1:80 -r [2001:db8::1]:80 -m")
                .unwrap_err()
                .1,
            "Different address family is allowed only for tunneling servers\n"
        );
        assert_eq!(
            parse("-a -t 10.0.0.1:80 -r 10.1.1.1 -w 2147483647")
                .unwrap()
                .dest
                .weight,
            2_147_483_647
        );
        assert_eq!(
            parse("-a -t 10.0.0.1:80 -r 10.1.1.1 -w 2147483648")
                .unwrap_err()
                .1,
            "illegal weight specified\n"
        );
    }

    #[test]
    fn service_checks() {
        assert_eq!(
            parse("-A -t 10.0.0.1").unwrap_err().1,
            "Zero port specified for non-persistent service\n"
        );
        assert!(parse("-A -t 10.0.0.1 -p").is_ok());
        assert_eq!(parse("-E -t 10.0.0.1:80").unwrap().svc.sched_name, "wlc");
        assert_eq!(
            parse("-A -t 10.0.0.1:80 -s abcdefghijklmnopq")
                .unwrap()
                .svc
                .sched_name,
            "abcdefghijklmno"
        );
        assert_eq!(
            parse("-A -t 10.0.0.1:80 -o").unwrap_err().1,
            "One-Packet Scheduling is only for UDP virtual services\n"
        );
        assert!(parse("-A -f 1 -o").is_ok());
        let e = parse("-A -u 10.0.0.1:53 -s sh -b sh-port,flag-3").unwrap();
        assert_eq!(e.svc.flags, SVC_F_SCHED2 | SVC_F_SCHED3);
        assert_eq!(
            parse("-A -u 10.0.0.1:53 -b sh-port").unwrap_err().1,
            "incompatible scheduler flag `sh-port'\n"
        );
        assert_eq!(
            parse("-A -u 10.0.0.1:53 -b ,,").unwrap_err().0,
            EXIT_SEGFAULT
        );
        assert_eq!(
            parse("--start-daemon master").unwrap().daemon.mcast_ifn,
            "eth0"
        );
    }

    #[test]
    fn popt_failures_return_minus_one() {
        assert_eq!(
            parse("-L -t").unwrap_err(),
            (-1, "-t: missing argument\n".into())
        );
        assert_eq!(parse("-n -L").unwrap_err().0, -1);
        assert_eq!(
            parse("-L -h").unwrap_err(),
            (2, "invalid option `-h'\n".into())
        );
        assert_eq!(
            parse("-L --start-daemon master").unwrap_err(),
            (2, "invalid option `master'\n".into())
        );
    }
}
