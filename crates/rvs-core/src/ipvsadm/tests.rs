//! End-to-end checks of `run` against an in-process table.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::control::{ControlBackend, LocalTransport};
use crate::model::Protocol;
use crate::table::{IpvsTable, NoLiveData, StaticHost};

struct Out {
    rc: i32,
    stdout: String,
    stderr: String,
}

fn names() -> TableResolver {
    TableResolver {
        hosts: vec![
            ("localhost".into(), "127.0.0.1".parse().unwrap()),
            ("localhost".into(), "::1".parse().unwrap()),
        ],
        services: vec![
            ("http".into(), 80, Protocol::Tcp),
            ("domain".into(), 53, Protocol::Udp),
        ],
    }
}

fn ipvsadm(table: &mut IpvsTable, line: &str, stdin: &str) -> Out {
    let args: Vec<String> = std::iter::once("ipvsadm")
        .chain(line.split_whitespace())
        .map(String::from)
        .collect();
    let host = StaticHost::loopback_only();
    let mut backend = ControlBackend(LocalTransport {
        table,
        host: &host,
        counters: &NoLiveData,
        conns: &NoLiveData,
        through_json: false,
    });
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = stdin.as_bytes();
    let rc = run(
        &args,
        &mut input,
        &mut out,
        &mut err,
        &mut backend,
        &names(),
    );
    Out {
        rc,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

#[test]
fn add_list_save() {
    let mut t = IpvsTable::new();
    assert_eq!(ipvsadm(&mut t, "-A -t 10.0.0.1:80 -s rr", "").rc, 0);
    assert_eq!(
        ipvsadm(&mut t, "-a -t 10.0.0.1:80 -r 10.1.1.1 -m -w 3", "").rc,
        0
    );
    let o = ipvsadm(&mut t, "-Ln", "");
    assert_eq!(
        o.stdout,
        "IP Virtual Server version 1.2.1 (size=4096)\n\
         Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
         TCP  10.0.0.1:80 rr\n  -> 10.1.1.1:80                  Masq    3      0          0         \n"
    );
    assert_eq!(
        ipvsadm(&mut t, "-S", "").stdout,
        "-A -t 10.0.0.1:http -s rr\n-a -t 10.0.0.1:http -r 10.1.1.1:http -m -w 3\n"
    );
}

#[test]
fn kernel_errors_exit_255_with_libipvs_texts() {
    let mut t = IpvsTable::new();
    ipvsadm(&mut t, "-A -t 10.0.0.1:80", "");
    let o = ipvsadm(&mut t, "-A -t 10.0.0.1:80", "");
    assert_eq!((o.rc, o.stderr.as_str()), (255, "Service already exists\n"));
    let o = ipvsadm(&mut t, "-Ln -t 10.0.0.2:80", "");
    assert_eq!((o.rc, o.stderr.as_str()), (1, "No such service\n"));
    let o = ipvsadm(&mut t, "-a -t 10.0.0.1:80 -r 10.1.1.1 -y 5", "");
    assert_eq!(
        (o.rc, o.stderr.as_str()),
        (255, "Numerical result out of range\n")
    );
}

#[test]
fn usage_errors_exit_2_or_255() {
    let mut t = IpvsTable::new();
    let o = ipvsadm(&mut t, "--bogus", "");
    assert_eq!(
        (o.rc, o.stderr.as_str()),
        (
            255,
            "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"
        )
    );
    let o = ipvsadm(&mut t, "-L --bogus", "");
    assert_eq!(
        (o.rc, o.stderr.as_str()),
        (255, "--bogus: unknown option\n")
    );
    let o = ipvsadm(&mut t, "-L -A", "");
    assert_eq!((o.rc, o.stderr.as_str()), (2, "invalid option `-A'\n"));
    let o = ipvsadm(&mut t, "-L -6", "");
    assert_eq!((o.rc, o.stderr.as_str()), (2, "-6 used before -f\n\n"));
    let o = ipvsadm(&mut t, "-A -u 10.0.0.1:53 -b ,", "");
    assert_eq!(o.rc, EXIT_SEGFAULT);
    let o = ipvsadm(&mut t, "--set 1 2", "");
    assert_eq!(
        (o.rc, o.stderr.as_str()),
        (2, "--set option requires 3 timeout values\n")
    );
}

#[test]
fn help_and_version() {
    let mut t = IpvsTable::new();
    let o = ipvsadm(&mut t, "-v", "");
    assert_eq!((o.rc, o.stdout.as_str()), (0, help::VERSION_LINE));
    let o = ipvsadm(&mut t, "--help", "");
    assert_eq!(o.rc, 0);
    assert!(o.stdout.starts_with(help::VERSION_LINE));
}

#[test]
fn restore_keeps_the_last_status() {
    let mut t = IpvsTable::new();
    let o = ipvsadm(
        &mut t,
        "-R",
        "-A -t 10.0.0.4:80\n-A -t 10.0.0.4:80\nipvsadm -A -t 10.0.0.5:80\n",
    );
    assert_eq!((o.rc, o.stderr.as_str()), (0, "Service already exists\n"));
    let o = ipvsadm(&mut t, "-R", "-R\n");
    assert_eq!(o.rc, 255);
    assert_eq!(
        ipvsadm(&mut t, "-Sn", "").stdout,
        "-A -t 10.0.0.4:80 -s wlc\n-A -t 10.0.0.5:80 -s wlc\n"
    );
}

#[test]
fn unavailable_backend() {
    struct Down;
    impl Backend for Down {
        fn info(&mut self) -> Result<crate::model::Info, BackendError> {
            Err(BackendError::Unavailable(
                "rvsd is not running (cannot connect to /x: No such file or directory)".into(),
            ))
        }
        fn apply(&mut self, _: &crate::model::Operation) -> Result<(), BackendError> {
            self.info().map(|_| ())
        }
        fn services(&mut self) -> Result<Vec<crate::model::ServiceEntry>, BackendError> {
            self.info().map(|_| vec![])
        }
        fn service(
            &mut self,
            _: &crate::model::ServiceKey,
        ) -> Result<crate::model::ServiceEntry, BackendError> {
            Err(BackendError::Failed("down".into()))
        }
        fn connections(&mut self) -> Result<Vec<crate::model::ConnEntry>, BackendError> {
            Ok(vec![])
        }
        fn timeouts(&mut self) -> Result<crate::model::Timeouts, BackendError> {
            Err(BackendError::Failed("down".into()))
        }
        fn daemons(&mut self) -> Result<Vec<crate::model::SyncDaemonEntry>, BackendError> {
            Ok(vec![])
        }
    }
    let run_down = |line: &str| {
        let args: Vec<String> = std::iter::once("ipvsadm")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let rc = run(
            &args,
            &mut &b""[..],
            &mut out,
            &mut err,
            &mut Down,
            &NoNames,
        );
        (
            rc,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    };
    let (rc, _, err) = run_down("-Ln");
    assert_eq!(rc, 2);
    assert_eq!(
        err,
        "Can't initialize ipvs: rvsd is not running (cannot connect to /x: No such file or directory)\nAre you sure that rvsd is running?\n"
    );
    let (rc, out, _) = run_down("-h");
    assert_eq!(rc, 0);
    assert!(out.contains("Usage:"));
    assert_eq!(run_down("--version").0, 0);
}

/// Live data recorded by the oracle's `tests/traffic.sh` (recorded/traffic.txt), keyed by address.
mod traffic {
    use super::*;
    use crate::model::{
        ConnEntry, ConnProtocol, DestCounters, DestId, Rates, ServiceCounters, ServiceId, Stats64,
    };
    use crate::table::{ConnectionSource, LiveCounters};
    use std::collections::HashMap;

    pub struct Recorded {
        pub services: HashMap<ServiceId, ServiceCounters>,
        pub dests: HashMap<DestId, DestCounters>,
        pub conns: Vec<ConnEntry>,
    }

    impl LiveCounters for Recorded {
        fn service(&self, id: ServiceId) -> ServiceCounters {
            self.services.get(&id).copied().unwrap_or_default()
        }
        fn dest(&self, id: DestId) -> DestCounters {
            self.dests.get(&id).copied().unwrap_or_default()
        }
    }

    impl ConnectionSource for Recorded {
        fn connections(&self) -> Vec<ConnEntry> {
            self.conns.clone()
        }
    }

    fn stats(v: [u64; 5]) -> Stats64 {
        Stats64 {
            conns: v[0],
            inpkts: v[1],
            outpkts: v[2],
            inbytes: v[3],
            outbytes: v[4],
        }
    }

    fn rates(v: [u64; 5]) -> Rates {
        Rates {
            cps: v[0],
            inpps: v[1],
            outpps: v[2],
            inbps: v[3],
            outbps: v[4],
        }
    }

    /// Builds the traffic.sh configuration and the counters seen after its traffic.
    pub fn setup() -> (IpvsTable, Recorded) {
        let mut t = IpvsTable::new();
        for line in [
            "-A -t 10.0.1.100:80 -s rr",
            "-a -t 10.0.1.100:80 -r 10.0.1.11:80 -g -w 1",
            "-a -t 10.0.1.100:80 -r 10.0.1.12:80 -g -w 3",
            "-A -t 10.0.1.101:8080 -s wlc",
            "-a -t 10.0.1.101:8080 -r 10.0.2.21:80 -m -w 1",
            "-a -t 10.0.1.101:8080 -r 10.0.2.22:80 -m -w 1",
            "-A -u 10.0.1.101:53 -s wlc",
            "-a -u 10.0.1.101:53 -r 10.0.2.21:5353 -m -w 2",
            "-a -u 10.0.1.101:53 -r 10.0.2.22:5353 -m -w 5",
            "-A -f 42 -s wrr -p 300",
            "-a -f 42 -r 10.0.1.11 -i -w 1",
            "-a -f 42 -r 10.0.1.12 -g -w 2",
        ] {
            assert_eq!(ipvsadm(&mut t, line, "").rc, 0, "{line}");
        }
        let mut rec = Recorded {
            services: HashMap::new(),
            dests: HashMap::new(),
            conns: Vec::new(),
        };
        let svc = [
            ("TCP 10.0.1.100:80", [8, 40, 0, 2144, 0], [1, 4, 0, 201, 0]),
            (
                "TCP 10.0.1.101:8080",
                [6, 30, 24, 1608, 1386],
                [1, 3, 2, 151, 130],
            ),
            ("UDP 10.0.1.101:53", [4, 4, 4, 140, 172], [0, 0, 0, 16, 20]),
        ];
        // (service, dest, inactive, persistent, stats, rates)
        type DestRow = (&'static str, &'static str, u32, u32, [u64; 5], [u64; 5]);
        let dst: [DestRow; 8] = [
            (
                "TCP 10.0.1.100:80",
                "10.0.1.11",
                4,
                0,
                [4, 20, 0, 1072, 0],
                [0, 2, 0, 100, 0],
            ),
            (
                "TCP 10.0.1.100:80",
                "10.0.1.12",
                4,
                0,
                [4, 20, 0, 1072, 0],
                [0, 2, 0, 100, 0],
            ),
            (
                "TCP 10.0.1.101:8080",
                "10.0.2.21",
                3,
                0,
                [3, 15, 12, 804, 693],
                [0, 1, 1, 75, 65],
            ),
            (
                "TCP 10.0.1.101:8080",
                "10.0.2.22",
                3,
                0,
                [3, 15, 12, 804, 693],
                [0, 1, 1, 75, 65],
            ),
            (
                "UDP 10.0.1.101:53",
                "10.0.2.21",
                1,
                0,
                [1, 1, 1, 35, 43],
                [0, 0, 0, 4, 5],
            ),
            (
                "UDP 10.0.1.101:53",
                "10.0.2.22",
                3,
                0,
                [3, 3, 3, 105, 129],
                [0, 0, 0, 12, 15],
            ),
            ("FWM 42", "10.0.1.11", 4, 1, [0; 5], [0; 5]),
            ("FWM 42", "10.0.1.12", 4, 1, [0; 5], [0; 5]),
        ];
        for s in t.services() {
            let name = s.key.to_string();
            if let Some((_, st, rt)) = svc.iter().find(|(n, _, _)| *n == name) {
                rec.services.insert(
                    s.id,
                    ServiceCounters {
                        stats: stats(*st),
                        rates: rates(*rt),
                    },
                );
            }
            for d in t.dests_of(s) {
                let addr = d.spec.addr.to_string();
                if let Some(&(_, _, inact, pers, st, rt)) =
                    dst.iter().find(|(n, a, ..)| *n == name && *a == addr)
                {
                    let c = DestCounters {
                        active_conns: 0,
                        inactive_conns: inact,
                        persistent_conns: pers,
                        stats: stats(st),
                        rates: rates(rt),
                    };
                    rec.dests.insert(d.id, c);
                }
            }
        }
        let conn = |p, c: &str, v: &str, d: &str, state: &str, expires| ConnEntry {
            protocol: p,
            client: c.parse().unwrap(),
            virtual_addr: v.parse().unwrap(),
            dest: d.parse().unwrap(),
            state: state.into(),
            expires,
            pe: None,
        };
        rec.conns = vec![
            conn(
                ConnProtocol::Tcp,
                "10.0.1.2:39812",
                "10.0.1.100:80",
                "10.0.1.11:80",
                "FIN_WAIT",
                115,
            ),
            conn(
                ConnProtocol::Udp,
                "10.0.1.2:50209",
                "10.0.1.101:53",
                "10.0.2.22:5353",
                "UDP",
                298,
            ),
            conn(
                ConnProtocol::Ip,
                "10.0.1.2:0",
                "0.0.0.42:0",
                "10.0.1.12:0",
                "ASSURED",
                299,
            ),
            ConnEntry {
                pe: Some(("sip".into(), "abcd".into())),
                ..conn(
                    ConnProtocol::Udp,
                    "[2001:db8::2]:5060",
                    "[2001:db8::1]:5060",
                    "[2001:db8::9]:5060",
                    "UDP",
                    3600,
                )
            },
        ];
        (t, rec)
    }

    pub fn list(t: &mut IpvsTable, rec: &Recorded, line: &str) -> String {
        let args: Vec<String> = std::iter::once("ipvsadm")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        let host = StaticHost::loopback_only();
        let mut backend = ControlBackend(LocalTransport {
            table: t,
            host: &host,
            counters: rec,
            conns: rec,
            through_json: true,
        });
        let mut out = Vec::new();
        let rc = run(
            &args,
            &mut &b""[..],
            &mut out,
            &mut Vec::new(),
            &mut backend,
            &names(),
        );
        assert_eq!(rc, 0);
        String::from_utf8(out).unwrap()
    }
}

#[test]
fn listings_merge_live_counters_as_recorded() {
    let (mut t, rec) = traffic::setup();
    let ln = traffic::list(&mut t, &rec, "-Ln");
    assert!(
        ln.contains("  -> 10.0.2.22:5353               Masq    5      0          3         \n")
    );
    assert_eq!(
        traffic::list(&mut t, &rec, "-Ln --stats"),
        "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.0.1.100:80                       8       40        0     2144        0
  -> 10.0.1.11:80                        4       20        0     1072        0
  -> 10.0.1.12:80                        4       20        0     1072        0
TCP  10.0.1.101:8080                     6       30       24     1608     1386
  -> 10.0.2.21:80                        3       15       12      804      693
  -> 10.0.2.22:80                        3       15       12      804      693
UDP  10.0.1.101:53                       4        4        4      140      172
  -> 10.0.2.21:5353                      1        1        1       35       43
  -> 10.0.2.22:5353                      3        3        3      105      129
FWM  42                                  0        0        0        0        0
  -> 10.0.1.11:0                         0        0        0        0        0
  -> 10.0.1.12:0                         0        0        0        0        0
"
    );
    assert_eq!(
        traffic::list(&mut t, &rec, "-Ln --rate"),
        "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
  -> RemoteAddress:Port
TCP  10.0.1.100:80                       1        4        0      201        0
  -> 10.0.1.11:80                        0        2        0      100        0
  -> 10.0.1.12:80                        0        2        0      100        0
TCP  10.0.1.101:8080                     1        3        2      151      130
  -> 10.0.2.21:80                        0        1        1       75       65
  -> 10.0.2.22:80                        0        1        1       75       65
UDP  10.0.1.101:53                       0        0        0       16       20
  -> 10.0.2.21:5353                      0        0        0        4        5
  -> 10.0.2.22:5353                      0        0        0       12       15
FWM  42                                  0        0        0        0        0
  -> 10.0.1.11:0                         0        0        0        0        0
  -> 10.0.1.12:0                         0        0        0        0        0
"
    );
    let pc = traffic::list(&mut t, &rec, "-Ln --persistent-conn");
    assert!(pc.ends_with(
        "FWM  42 wrr persistent 300
  -> 10.0.1.11:0                  1         1           0          4         
  -> 10.0.1.12:0                  2         1           0          4         
"
    ));
}

#[test]
fn connection_listing_as_recorded() {
    let (mut t, rec) = traffic::setup();
    assert_eq!(
        traffic::list(&mut t, &rec, "-Lnc"),
        "IPVS connection entries
pro expire state       source             virtual            destination
TCP 01:55  FIN_WAIT    10.0.1.2:39812     10.0.1.100:80      10.0.1.11:80
UDP 04:58  UDP         10.0.1.2:50209     10.0.1.101:53      10.0.2.22:5353
IP  04:59  ASSURED     10.0.1.2:0         0.0.0.42:0         10.0.1.12:0
UDP 60:00  UDP         [2001:db8::2]:5060 [2001:db8::1]:5060 [2001:db8::9]:5060
"
    );
    let named = traffic::list(&mut t, &rec, "-Lc --persistent-conn");
    assert!(named.contains("pe name          pe_data\n"));
    assert!(
        named.contains(
            "TCP 01:55  FIN_WAIT    10.0.1.2:39812     10.0.1.100:http    10.0.1.11:http\n"
        )
    );
    assert!(
        named.contains(
            "UDP 04:58  UDP         10.0.1.2:50209     10.0.1.101:domain  10.0.2.22:5353\n"
        )
    );
    assert!(named.ends_with("[2001:db8::9]:5060 sip                abcd\n"));
}
