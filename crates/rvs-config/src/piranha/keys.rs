//! The keys of lvs.cf's three blocks and what each does to the settings read so far: the
//! global section (`parseConfiguration`), `virtual NAME { }` (`parseVirtualServer`) and
//! `server NAME { }` (`parseActualServer`) of `lvsconfig.c`.

use rvs_core::model::{ForwardMethod, Protocol, SchedulerName};

use super::lex::Token;
use super::read::{At, Reader, at, mask_of};

pub(super) const GLOBAL_KEYS: &[&str] = &[
    "serial_no", "primary", "primary_private", "primary_shared", "backup", "backup_active", "backup_private",
    "backup_shared", "reservation_conflict_action", "nat_nmask", "nat_router", "active_cmd", "inactive_cmd",
    "monitor_links", "debug_level", "hard_shutdown", "ipvsadm", "keepalive", "deadtime", "rsh_command",
    "syncdaemon", "syncd_iface", "syncd_id", "tcp_timeout", "tcpfin_timeout", "udp_timeout", "heartbeat",
    "heartbeat_port", "sync", "network", "service",
];

pub(super) const VIRTUAL_KEYS: &[&str] = &[
    "active", "address", "sorry_server", "vip_nmask", "fwmark", "protocol", "port", "scheduler", "persistent",
    "pmask", "client_monitor", "send_program", "send", "expect", "use_regex", "timeout", "reentry",
    "load_monitor", "quiesce_server", "start_cmd", "stop_cmd", "master", "dirs",
];

pub(super) const SERVER_KEYS: &[&str] = &["address", "active", "weight", "port"];

/// piranha's schedulers (`enum lvsSchedulers`).
const SCHEDULERS: &[&str] = &["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh"];

impl Reader<'_> {
    pub(super) fn global(&mut self, n: u32, key: &Token, v: &[Token]) {
        match key.text.as_str() {
            "serial_no" => {
                self.one(n, key, v).map(|t| self.number(n, t, 0, i64::from(i32::MAX)));
            }
            "syncd_id" => {
                let id = self.one(n, key, v).and_then(|t| self.number(n, t, 0, 255));
                self.raw.global.syncd_id = id.and_then(|x| at(u8::try_from(x).unwrap_or(0), n));
            }
            "primary" => self.raw.global.primary = self.one(n, key, v).and_then(|t| self.ipv4(n, t)).and_then(|x| at(x, n)),
            "backup" => self.raw.global.backup = self.one(n, key, v).and_then(|t| self.ipv4(n, t)).and_then(|x| at(x, n)),
            "primary_private" => {
                self.raw.global.primary_private = self.one(n, key, v).and_then(|t| self.ipv4(n, t)).and_then(|x| at(x, n));
            }
            "backup_private" => {
                self.raw.global.backup_private = self.one(n, key, v).and_then(|t| self.ipv4(n, t)).and_then(|x| at(x, n));
            }
            "backup_active" => {
                self.raw.global.backup_active = self.one(n, key, v).and_then(|t| self.boolean(n, t)).and_then(|x| at(x, n));
            }
            "monitor_links" => {
                // lvsconfig.c reads any number; pulse tests it for non-zero.
                let on = self.one(n, key, v).and_then(|t| self.number(n, t, i64::from(i32::MIN), i64::from(i32::MAX)));
                self.raw.global.monitor_links = on.and_then(|x| at(x != 0, n));
            }
            "syncdaemon" => {
                self.raw.global.syncdaemon = self.one(n, key, v).and_then(|t| self.boolean(n, t)).and_then(|x| at(x, n));
            }
            "heartbeat" | "hard_shutdown" | "sync" => {
                self.one(n, key, v).map(|t| self.boolean(n, t));
            }
            "heartbeat_port" => {
                self.one(n, key, v).map(|t| self.port(n, t));
            }
            "keepalive" => {
                let secs = self.one(n, key, v).and_then(|t| self.number(n, t, 1, 255));
                self.raw.global.keepalive = secs.and_then(|s| at(s as u32, n));
            }
            "deadtime" => {
                let secs = self.one(n, key, v).and_then(|t| self.number(n, t, 1, i64::from(i32::MAX)));
                self.raw.global.deadtime = secs.and_then(|s| at(s as u32, n));
            }
            "tcp_timeout" | "tcpfin_timeout" | "udp_timeout" => {
                let secs = self.one(n, key, v).and_then(|t| self.number(n, t, 0, i64::from(i32::MAX)));
                let slot = match key.text.as_str() {
                    "tcp_timeout" => &mut self.raw.global.tcp_timeout,
                    "tcpfin_timeout" => &mut self.raw.global.tcpfin_timeout,
                    _ => &mut self.raw.global.udp_timeout,
                };
                *slot = secs.and_then(|s| at(s as u32, n));
            }
            "network" => {
                let Some(t) = self.one(n, key, v) else { return };
                let method = match t.text.as_str() {
                    "nat" => ForwardMethod::Masq,
                    "direct" => ForwardMethod::Route,
                    "tunnel" => ForwardMethod::Tunnel,
                    other => {
                        return self.d.error(
                            n,
                            t.col,
                            format!("unknown network type `{other}`"),
                            Some("network is `nat`, `direct` or `tunnel`".to_owned()),
                        );
                    }
                };
                self.raw.global.network = at(method, n);
            }
            "service" => {
                let Some(t) = self.one(n, key, v) else { return };
                match t.text.as_str() {
                    "lvs" => {}
                    "fos" => self.d.error(n, t.col, "fos mode is not supported".to_owned(), Some(FOS_HINT.to_owned())),
                    other => self.d.error(
                        n,
                        t.col,
                        format!("unknown service `{other}`"),
                        Some("service is `lvs` (or piranha's `fos`, which rvs does not run)".to_owned()),
                    ),
                }
            }
            "nat_router" => {
                let Some((addr, dev)) = self.two(n, key, v, "nat_router = 10.0.0.254 eth1:1") else { return };
                self.raw.global.nat_router = self.ipv4(n, addr).and_then(|a| at((a, dev.text.clone()), n));
            }
            "nat_nmask" => {
                self.raw.global.nat_nmask = self.one(n, key, v).and_then(|t| self.netmask(n, t)).and_then(|x| at(x, n));
            }
            "active_cmd" => self.raw.global.active_cmd = self.one(n, key, v).and_then(|t| at(t.text.clone(), n)),
            "inactive_cmd" => self.raw.global.inactive_cmd = self.one(n, key, v).and_then(|t| at(t.text.clone(), n)),
            "syncd_iface" => self.raw.global.syncd_iface = self.one(n, key, v).and_then(|t| at(t.text.clone(), n)),
            "debug_level" => {
                if self.one(n, key, v).is_some_and(|t| !t.text.eq_ignore_ascii_case("NONE")) {
                    self.d.warn(n, "debug_level is ignored: rvs logs as RUST_LOG says".to_owned(), None);
                }
            }
            "rsh_command" => {
                self.one(n, key, v);
                self.d.warn(
                    n,
                    "rsh_command is ignored: rvs neither copies lvs.cf to the backup nor reads the real \
                     servers' load"
                        .to_owned(),
                    None,
                );
            }
            "ipvsadm" => {
                self.one(n, key, v);
                self.d.warn(n, "ipvsadm is ignored: rvs programs its table itself".to_owned(), None);
            }
            "primary_shared" | "backup_shared" | "reservation_conflict_action" => {
                self.one(n, key, v);
                self.d.warn(n, format!("{} is ignored: rvs has no shared-SCSI reservation", key.text), None);
            }
            other => self.unknown(n, key, other, GLOBAL_KEYS, "the global section"),
        }
    }

    pub(super) fn virtual_key(&mut self, n: u32, vi: usize, key: &Token, v: &[Token]) {
        let name = self.raw.virtuals[vi].name.clone();
        match key.text.as_str() {
            "active" => {
                let on = self.one(n, key, v).and_then(|t| self.boolean(n, t));
                self.raw.virtuals[vi].active = on;
            }
            "address" => {
                let Some((addr, dev)) = self.two(n, key, v, "address = 192.168.1.250 eth0:1") else { return };
                if let Some(a) = self.ipv4(n, addr) {
                    self.raw.virtuals[vi].address = Some(At { value: (a, dev.text.clone()), line: n });
                }
            }
            "sorry_server" => {
                let Some(t) = self.one(n, key, v) else { return };
                if t.text.contains(':') && !t.text.contains("::") {
                    return self.d.error(
                        n,
                        t.col,
                        format!("sorry_server `{}` has a port", t.text),
                        Some("lvs.cf's sorry_server is an address; it serves on the virtual server's port".to_owned()),
                    );
                }
                self.raw.virtuals[vi].sorry_server = self.ipv4(n, t);
            }
            "vip_nmask" => self.raw.virtuals[vi].vip_nmask = self.one(n, key, v).and_then(|t| self.netmask(n, t)),
            "pmask" => {
                let Some(t) = self.one(n, key, v) else { return };
                let Some(prefix) = self.netmask(n, t) else { return };
                self.raw.virtuals[vi].pmask = (prefix < 32).then(|| mask_of(prefix));
            }
            "fwmark" => {
                if let Some(m) = self.one(n, key, v).and_then(|t| self.number(n, t, 0, i64::from(u32::MAX))) {
                    self.raw.virtuals[vi].fwmark = m as u32;
                }
            }
            "protocol" => {
                let Some(t) = self.one(n, key, v) else { return };
                self.raw.virtuals[vi].protocol = match t.text.as_str() {
                    "tcp" => Protocol::Tcp,
                    "udp" => Protocol::Udp,
                    other => {
                        return self.d.error(
                            n,
                            t.col,
                            format!("unknown protocol `{other}`"),
                            Some("protocol is `tcp` or `udp` (lower case)".to_owned()),
                        );
                    }
                };
            }
            "port" => {
                let Some(port) = self.one(n, key, v).and_then(|t| self.port(n, t)) else { return };
                let vs = &mut self.raw.virtuals[vi];
                if vs.port != port && !vs.servers.is_empty() {
                    self.d.warn(
                        n,
                        format!("`port` of virtual {name} is set after its first server"),
                        Some(format!(
                            "as in piranha, the servers above keep port {} unless they set their own; \
                             move `port` above the servers",
                            vs.port
                        )),
                    );
                }
                vs.port = port;
            }
            "scheduler" => {
                let Some(t) = self.one(n, key, v) else { return };
                if !SCHEDULERS.contains(&t.text.as_str()) {
                    return self.d.error(
                        n,
                        t.col,
                        format!("unknown scheduler `{}`", t.text),
                        Some(format!("piranha's schedulers are {}", SCHEDULERS.join(", "))),
                    );
                }
                if let Ok(s) = SchedulerName::new(&t.text) {
                    self.raw.virtuals[vi].scheduler = s;
                }
            }
            "persistent" => {
                let secs = self.one(n, key, v).and_then(|t| self.number(n, t, i64::from(i32::MIN), i64::from(i32::MAX)));
                if let Some(s) = secs {
                    self.raw.virtuals[vi].persistent = s.max(0) as u32;
                }
            }
            "send" | "expect" | "send_program" | "load_monitor" => {
                let Some(t) = self.one(n, key, v) else { return };
                let value = Some(At { value: t.text.clone(), line: n });
                let vs = &mut self.raw.virtuals[vi];
                match key.text.as_str() {
                    "send" => vs.send = value,
                    "expect" => vs.expect = value,
                    "send_program" => vs.send_program = value,
                    _ => vs.load_monitor = value,
                }
            }
            "use_regex" | "quiesce_server" => {
                let Some(on) = self.one(n, key, v).and_then(|t| self.boolean(n, t)) else { return };
                if key.text == "use_regex" {
                    self.raw.virtuals[vi].use_regex = on;
                } else {
                    self.raw.virtuals[vi].quiesce_server = on;
                }
            }
            "timeout" => {
                // nanny divides `reentry` by it: 0 would crash it.
                if let Some(s) = self.one(n, key, v).and_then(|t| self.number(n, t, 1, i64::from(i32::MAX))) {
                    self.raw.virtuals[vi].timeout = s as u32;
                }
            }
            "reentry" => {
                if let Some(s) = self.one(n, key, v).and_then(|t| self.number(n, t, 0, i64::from(i32::MAX))) {
                    self.raw.virtuals[vi].reentry = At { value: s as u32, line: n };
                }
            }
            "client_monitor" => {
                self.one(n, key, v);
                self.d.warn(n, "client_monitor is ignored: rvs checks real servers itself (nanny's way)".to_owned(), None);
            }
            "start_cmd" | "stop_cmd" | "master" | "dirs" => {
                self.d.warn(n, format!("`{}` belongs to fos failover services: ignored", key.text), None);
            }
            other => self.unknown(n, key, other, VIRTUAL_KEYS, "a `virtual` block"),
        }
    }

    pub(super) fn server_key(&mut self, n: u32, vi: usize, si: usize, key: &Token, v: &[Token]) {
        match key.text.as_str() {
            "address" => {
                let addr = self.one(n, key, v).and_then(|t| self.ipv4(n, t));
                self.raw.virtuals[vi].servers[si].address = addr;
            }
            "active" => {
                let on = self.one(n, key, v).and_then(|t| self.boolean(n, t));
                self.raw.virtuals[vi].servers[si].active = on;
            }
            "weight" => {
                if let Some(w) = self.one(n, key, v).and_then(|t| self.number(n, t, 0, i64::from(i32::MAX))) {
                    self.raw.virtuals[vi].servers[si].weight = w as u32;
                }
            }
            "port" => {
                if let Some(p) = self.one(n, key, v).and_then(|t| self.port(n, t)) {
                    self.raw.virtuals[vi].servers[si].port = p;
                }
            }
            other => self.unknown(n, key, other, SERVER_KEYS, "a `server` block"),
        }
    }

    /// A key the block does not know: an error when it belongs to another block (a brace is
    /// probably missing), a warning otherwise.
    fn unknown(&mut self, n: u32, key: &Token, name: &str, here: &[&str], block: &str) {
        let home = [(GLOBAL_KEYS, "the global section"), (VIRTUAL_KEYS, "a `virtual` block"), (SERVER_KEYS, "a `server` block")]
            .into_iter()
            .find(|(keys, _)| keys.contains(&name));
        if let Some((_, home)) = home {
            return self.d.error(
                n,
                key.col,
                format!("`{name}` belongs in {home}, not in {block}"),
                Some("is a `{` or `}` line missing above?".to_owned()),
            );
        }
        let hint = here.iter().find(|k| close(k, name)).map(|k| format!("did you mean `{k}`?"));
        self.d.warn(n, format!("unknown key `{name}` in {block}: ignored"), hint);
    }
}

pub(super) const FOS_HINT: &str = "rvs runs LVS mode only (`service = lvs` with `virtual` blocks); fos's \
                                   services started by start_cmd on the active node have no rvs equivalent";

/// Whether two keys are one typo apart (one edit, or two swapped letters).
fn close(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len() == b.len() {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        return diff.len() == 1 || (diff.len() == 2 && diff[1] == diff[0] + 1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]);
    }
    let (short, long) = if a.len() < b.len() { (&a, &b) } else { (&b, &a) };
    if long.len() - short.len() != 1 {
        return false;
    }
    let i = (0..short.len()).find(|&i| short[i] != long[i]).unwrap_or(short.len());
    short[i..] == long[i + 1..]
}
