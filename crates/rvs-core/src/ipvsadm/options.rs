//! ipvsadm's option table, its commands and the `commands_v_options` legality matrix.

use super::popt::{ArgKind, OptDef};

/// Every option of ipvsadm's popt table (the `val` it returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    AddService,
    EditService,
    DeleteService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    TcpService,
    UdpService,
    SctpService,
    FwmarkService,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

const fn o(long: &'static str, short: Option<char>, arg: ArgKind, id: Opt) -> OptDef<Opt> {
    OptDef {
        long,
        short,
        arg,
        id,
    }
}

use ArgKind::{None as N, Optional as O, Required as R};

/// The table in ipvsadm's order (the first of two equal long names wins: `--list` is `-L`).
pub static OPTIONS: [OptDef<Opt>; 58] = [
    o("add-service", Some('A'), N, Opt::AddService),
    o("edit-service", Some('E'), N, Opt::EditService),
    o("delete-service", Some('D'), N, Opt::DeleteService),
    o("clear", Some('C'), N, Opt::Clear),
    o("list", Some('L'), N, Opt::List),
    o("list", Some('l'), N, Opt::List),
    o("zero", Some('Z'), N, Opt::Zero),
    o("add-server", Some('a'), N, Opt::AddServer),
    o("edit-server", Some('e'), N, Opt::EditServer),
    o("delete-server", Some('d'), N, Opt::DeleteServer),
    o("set", None, N, Opt::Set),
    o("help", Some('h'), N, Opt::Help),
    o("version", Some('v'), N, Opt::Version),
    o("restore", Some('R'), N, Opt::Restore),
    o("save", Some('S'), N, Opt::Save),
    o("start-daemon", None, R, Opt::StartDaemon),
    o("stop-daemon", None, R, Opt::StopDaemon),
    o("tcp-service", Some('t'), R, Opt::TcpService),
    o("udp-service", Some('u'), R, Opt::UdpService),
    o("sctp-service", None, R, Opt::SctpService),
    o("fwmark-service", Some('f'), R, Opt::FwmarkService),
    o("scheduler", Some('s'), R, Opt::Scheduler),
    o("persistent", Some('p'), O, Opt::Persistent),
    o("netmask", Some('M'), R, Opt::Netmask),
    o("real-server", Some('r'), R, Opt::RealServer),
    o("masquerading", Some('m'), N, Opt::Masquerading),
    o("ipip", Some('i'), N, Opt::Ipip),
    o("gatewaying", Some('g'), N, Opt::Gatewaying),
    o("weight", Some('w'), R, Opt::Weight),
    o("u-threshold", Some('x'), R, Opt::UThreshold),
    o("l-threshold", Some('y'), R, Opt::LThreshold),
    o("numeric", Some('n'), N, Opt::Numeric),
    o("connection", Some('c'), N, Opt::Connection),
    o("mcast-interface", None, R, Opt::McastInterface),
    o("syncid", None, R, Opt::SyncId),
    o("timeout", None, N, Opt::Timeout),
    o("daemon", None, N, Opt::Daemon),
    o("stats", None, N, Opt::Stats),
    o("rate", None, N, Opt::Rate),
    o("thresholds", None, N, Opt::Thresholds),
    o("persistent-conn", None, N, Opt::PersistentConn),
    o("nosort", None, N, Opt::NoSort),
    o("sort", None, N, Opt::Sort),
    o("exact", Some('X'), N, Opt::Exact),
    o("ipv6", Some('6'), N, Opt::Ipv6),
    o("ops", Some('o'), N, Opt::Ops),
    o("pe", None, R, Opt::Pe),
    o("sched-flags", Some('b'), R, Opt::SchedFlags),
    o("mcast-group", None, R, Opt::McastGroup),
    o("mcast-port", None, R, Opt::McastPort),
    o("mcast-ttl", None, R, Opt::McastTtl),
    o("sync-maxlen", None, R, Opt::SyncMaxlen),
    o("tun-info", None, N, Opt::TunInfo),
    o("tun-type", None, R, Opt::TunType),
    o("tun-port", None, R, Opt::TunPort),
    o("tun-nocsum", None, N, Opt::TunNocsum),
    o("tun-csum", None, N, Opt::TunCsum),
    o("tun-remcsum", None, N, Opt::TunRemcsum),
];

/// ipvsadm's commands (`CMD_*`), in the matrix's row order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
}

impl Cmd {
    const fn row(self) -> usize {
        self as usize
    }

    /// `cmdnames[]`
    pub const fn name(self) -> &'static str {
        CMD_NAMES[self.row()]
    }
}

const CMD_NAMES: [&str; 14] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
];

/// Option classes of the matrix (`OPTC_*`), i.e. bit numbers of the options word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Optc {
    Numeric = 0,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    Mcast,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    OnePacket,
    PersistenceEngine,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

pub const NUMBER_OF_OPT: usize = 34;

/// `optnames[]`
pub const OPT_NAMES: [&str; NUMBER_OF_OPT] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

impl Optc {
    pub const fn bit(self) -> u64 {
        1u64 << (self as u8)
    }
}

/// `commands_v_options`: '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional. Columns:
/// `-n -c svc -s -p -M -r fwd -w -x -y -mc tot dmn -st -rt thr -pc srt sid -ex ops -pe -b grp port
/// ttl size tinf type tprt nocs csum remc`.
const MATRIX: [&[u8; NUMBER_OF_OPT]; 14] = [
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // add-service
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // edit-service
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // delete-service
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // flush
    b" 11xxxxxxxxx11       xxxxxxx xxxxx", // list
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // add-server
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx", // delete-server
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // edit-server
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // set
    b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxx", // start-daemon
    b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx", // stop-daemon
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // restore
    b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // save
    b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // zero
];

/// `generic_opt_check`: the first problem in column order, as ipvsadm words it.
pub fn generic_opt_check(cmd: Cmd, options: u64) -> Result<(), String> {
    let row = MATRIX[cmd.row()];
    let mut exclusive: Option<usize> = None;
    for (j, &rule) in row.iter().enumerate() {
        let set = options & (1u64 << j) != 0;
        if !set {
            if rule == b'+' {
                return Err(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPT_NAMES[j],
                    cmd.name()
                ));
            }
            continue;
        }
        if rule == b'x' {
            return Err(format!(
                "Illegal '{}' option with the '{}' command",
                OPT_NAMES[j],
                cmd.name()
            ));
        }
        if rule == b'1' {
            match exclusive {
                None => exclusive = Some(j),
                Some(last) => {
                    return Err(format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' command",
                        OPT_NAMES[j],
                        OPT_NAMES[last],
                        cmd.name()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Tunnel types of `--tun-type` (`tunnames[]`), in their kernel order.
pub const TUN_NAMES: [&str; 3] = ["ipip", "gue", "gre"];
/// Columns of `tunnel_types_v_options`.
const TUN_OPTS: [Optc; 4] = [
    Optc::TunPort,
    Optc::TunNocsum,
    Optc::TunCsum,
    Optc::TunRemcsum,
];
const TUN_MATRIX: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];

/// `tunnel_opt_check` for tunnel type `tun_type` (0 ipip, 1 gue, 2 gre).
pub fn tunnel_opt_check(tun_type: usize, options: u64) -> Result<(), String> {
    let Some(row) = TUN_MATRIX.get(tun_type) else {
        return Ok(());
    };
    let name = TUN_NAMES[tun_type];
    let mut exclusive: Option<usize> = None;
    for (j, &rule) in row.iter().enumerate() {
        let k = TUN_OPTS[j] as usize;
        let set = options & (1u64 << k) != 0;
        if !set {
            if rule == b'+' {
                return Err(format!(
                    "You need to supply the '{}' option for the '{}' tunnel type",
                    OPT_NAMES[k], name
                ));
            }
            continue;
        }
        if rule == b'x' {
            return Err(format!(
                "Illegal '{}' option with the '{}' tunnel type",
                OPT_NAMES[k], name
            ));
        }
        if rule == b'1' {
            match exclusive {
                None => exclusive = Some(k),
                Some(last) => {
                    return Err(format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' tunnel type",
                        OPT_NAMES[k], OPT_NAMES[last], name
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(opts: &[Optc]) -> u64 {
        opts.iter().fold(0, |acc, o| acc | o.bit())
    }

    #[test]
    fn matrix_rows_have_the_c_shape() {
        for row in MATRIX {
            assert_eq!(row.len(), NUMBER_OF_OPT);
        }
        assert_eq!(Optc::TunRemcsum as usize, 33);
        assert_eq!(Cmd::Zero.name(), "zero");
        assert_eq!(OPTIONS.iter().filter(|o| o.long == "list").count(), 2);
    }

    #[test]
    fn compulsory_illegal_and_exclusive() {
        assert_eq!(
            generic_opt_check(Cmd::Del, 0),
            Err(
                "You need to supply the 'service-address' option for the 'delete-service' command"
                    .into()
            )
        );
        assert_eq!(
            generic_opt_check(Cmd::AddDest, bits(&[Optc::Service, Optc::Scheduler])),
            Err("Illegal 'scheduler' option with the 'add-server' command".into())
        );
        assert_eq!(
            generic_opt_check(Cmd::List, bits(&[Optc::Connection, Optc::Service])),
            Err("The option 'service-address' conflicts with the 'connection' option in the 'list' command".into())
        );
        assert_eq!(
            generic_opt_check(Cmd::List, bits(&[Optc::Timeout, Optc::Daemon])),
            Err(
                "The option 'daemon' conflicts with the 'timeout' option in the 'list' command"
                    .into()
            )
        );
        assert_eq!(
            generic_opt_check(
                Cmd::List,
                bits(&[Optc::Numeric, Optc::Stats, Optc::TunInfo])
            ),
            Ok(())
        );
        assert_eq!(
            generic_opt_check(
                Cmd::StartDaemon,
                bits(&[Optc::Mcast, Optc::SyncId, Optc::McastTtl])
            ),
            Ok(())
        );
        assert_eq!(
            generic_opt_check(Cmd::StopDaemon, bits(&[Optc::Mcast])),
            Err("Illegal 'mcast-interface' option with the 'stop-daemon' command".into())
        );
        assert_eq!(generic_opt_check(Cmd::Save, bits(&[Optc::Numeric])), Ok(()));
        assert_eq!(generic_opt_check(Cmd::Zero, bits(&[Optc::Service])), Ok(()));
    }

    #[test]
    fn tunnel_types() {
        assert_eq!(
            tunnel_opt_check(1, 0),
            Err("You need to supply the 'tun-port' option for the 'gue' tunnel type".into())
        );
        assert_eq!(
            tunnel_opt_check(0, bits(&[Optc::TunCsum])),
            Err("Illegal 'tun-csum' option with the 'ipip' tunnel type".into())
        );
        assert_eq!(
            tunnel_opt_check(2, bits(&[Optc::TunNocsum, Optc::TunCsum])),
            Err("The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type".into())
        );
        assert_eq!(
            tunnel_opt_check(1, bits(&[Optc::TunPort, Optc::TunRemcsum])),
            Ok(())
        );
    }
}
