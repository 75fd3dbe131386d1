//! Red Hat piranha's `/etc/sysconfig/ha/lvs.cf` into rvs's model, with the meanings lvsd, nanny
//! and pulse give it (piranha 0.8, `lvsconfig.c`, `lvsd.c`, `nanny.c`, `pulse.c`).
//!
//! The file is read as `lvsconfig.c` reads it: one `key = value` per line (blanks around `=`),
//! `virtual NAME {` … `}` and, inside, `server NAME {` … `}`; `#` starts a comment only as the
//! first character of a line; values with blanks are quoted (`"…"` or `'…'`, no escapes). Numbers
//! are C's (`0x1f`, and `010` is octal). Unlike piranha, an unknown key is a warning; a key of
//! another block is an error (a brace is probably missing). Host names are refused (rvs does not
//! look them up).
//!
//! What each setting becomes:
//!
//! - `network = nat|direct|tunnel` (default nat): every real server's and sorry server's
//!   forwarding method (NAT, DR, TUN).
//! - `virtual NAME { }` with `active = 1` (absent: 0, not started, with a warning): a virtual
//!   server `protocol address:port` (tcp, 80), or `FWM fwmark` when `fwmark` is not 0;
//!   `scheduler` (wlc); `persistent` seconds (0: not persistent) with `pmask` (only with
//!   `persistent`, as lvsd passes `-M`); `sorry_server` on the virtual port, weight 1. A second
//!   virtual with the same service is skipped (lvsd's `ipvsadm -A` fails for it).
//! - `server NAME { }` with `active = 1`: a real server `address:port` (port: the virtual's port
//!   as set above the server) with `weight` (1). Real servers join only once a check passes
//!   (`alpha`: nanny adds them after its first good test); `quiesce_server = 1` keeps a failed
//!   one at weight 0 (`inhibit_on_failure`); nanny's slow start (`weight >> 5`, doubled about
//!   every 20 s) is on for all.
//! - nanny's test, one check per real server. `timeout` (10) is nanny's `-t`: the pause between
//!   tests and the time a connect or read may take; the first failed test takes the real server
//!   out (retry 0); it comes back after `reentry` seconds (180, also for 0) of passing tests.
//!   `send_program` (words split on spaces, `%h`/`%p` replaced by the real server's address and
//!   port) is a MISC check judged by its exit status, where nanny compared its output with
//!   `expect` (a warning says so). Otherwise, TCP: `send` and `expect` (nanny's `\r \n \t \\ \'
//!   \"` escapes; `expect = "*"`: any answer; `use_regex = 1`: a POSIX regular expression) are a
//!   SEND_EXPECT check; a virtual port of 80 with neither is nanny's built-in HTTP test (sends
//!   `GET / HTTP/1.0\r\n\r\n`, expects `HTTP`); other ports with neither, a TCP connect. UDP: a
//!   datagram of `send` that must be answered (starting with `expect`).
//! - `backup_active = 1` with `primary` and `backup`: one VRRP instance `lvs`, virtual router id
//!   1, on the device of the first VIP (`eth0` of `eth0:1`), advertising every `keepalive`
//!   seconds (2) to the two directors (`unicast_peer = [primary, backup]`), holding every active
//!   virtual's `address`/`vip_nmask` and, with NAT, `nat_router`/`nat_nmask`; `active_cmd` and
//!   `inactive_cmd` are its notify_master and notify_backup; `monitor_links = 1` tracks its
//!   devices. The file does not say which director reads it: the instance is BACKUP with
//!   priority 100, and [`assign_role`] makes the director owning `primary` MASTER with priority
//!   150 (pulse's `amMaster`). `deadtime` is not kept (VRRP declares the master dead after three
//!   advertisements); pulse's UDP heartbeat (`heartbeat_port`) becomes VRRP.
//! - `tcp_timeout`, `tcpfin_timeout`, `udp_timeout`: `ipvsadm --set` (0 keeps a value).
//! - `primary`: the router id.
//! - fwmark virtual servers: lvs.cf leaves marking to iptables; rvs marks what the virtual
//!   servers name (their VIP, protocol and ports) and warns so that the rules can be compared.
//! - `service = fos` and `failover { }` blocks are refused; `serial_no`, `heartbeat`,
//!   `heartbeat_port`, `syncd_iface`, `syncd_id`, `hard_shutdown`, `debug_level = NONE` are
//!   accepted; `rsh_command`, `ipvsadm`, `syncdaemon`, `load_monitor` other than `none`,
//!   `client_monitor`, the shared-SCSI keys and fos keys in a virtual are ignored with a warning.

mod build;
mod keys;
mod lex;
mod read;

use std::net::IpAddr;
use std::path::Path;

use rvs_core::config::{Config, VrrpState};

use crate::format::Diags;
use crate::{ConfigError, Diagnostic};

/// Parses lvs.cf `text`, naming it `name` in messages.
pub fn parse(text: &str, name: &Path) -> Result<(Config, Vec<Diagnostic>), ConfigError> {
    let mut d = Diags::new(name);
    let raw = read::read(text, &mut d);
    if d.has_errors() {
        return d.finish(Config::default());
    }
    let config = build::build(raw, &mut d);
    d.finish(config)
}

/// Priority of the director owning lvs.cf's `primary`.
pub const PRIMARY_PRIORITY: u8 = 150;
/// Priority of the other one.
pub const BACKUP_PRIORITY: u8 = 100;

/// Gives this director its part in the VRRP instance an lvs.cf made, from the addresses the host
/// has (pulse's `amMaster`): the owner of `primary` is MASTER with priority 150 and advertises to
/// `backup`; the owner of `backup` is BACKUP with priority 100 and advertises to `primary`.
/// Returns the state given, or `None` when the configuration has no such instance or the host
/// owns neither address (nothing is changed then).
pub fn assign_role(config: &mut Config, host_addrs: &[IpAddr]) -> Option<VrrpState> {
    let instance = config.vrrp.iter_mut().find(|i| i.name == build::INSTANCE && i.unicast_peer.len() == 2)?;
    let (primary, backup) = (instance.unicast_peer[0], instance.unicast_peer[1]);
    let (state, priority, own, peer) = if host_addrs.contains(&primary) {
        (VrrpState::Master, PRIMARY_PRIORITY, primary, backup)
    } else if host_addrs.contains(&backup) {
        (VrrpState::Backup, BACKUP_PRIORITY, backup, primary)
    } else {
        return None;
    };
    instance.state = state;
    instance.priority = priority;
    instance.unicast_src_ip = Some(own);
    instance.unicast_peer = vec![peer];
    Some(state)
}
