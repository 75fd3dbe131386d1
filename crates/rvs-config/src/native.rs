//! rvs's own configuration file, in TOML: everything the model can say, readable by an operator,
//! and what `rvs config convert` writes. [`to_toml`] writes a configuration that [`parse`] reads
//! back to the same configuration.
//!
//! ```toml
//! router_id = "lvs1"
//! marks = ["-p tcp -d 192.168.1.250/32 --dports 80,443 --set-mark 1"]  # fwmark classifier
//!
//! [timeouts]                       # ipvsadm --set, seconds; 0 keeps the kernel's value
//! tcp = 900
//! tcp_fin = 120
//! udp = 300
//!
//! [[virtual_server]]
//! service = "tcp 192.168.1.250:80" # "udp [2001:db8::1]:53", "sctp …", "fwmark 1", "fwmark 1 ipv6"
//! scheduler = "wlc"                # default wlc
//! persistence = 300                # seconds; absent: not persistent (`persistent = true`: 300)
//! persistence_mask = "255.255.255.0"   # IPv6: a prefix length; default /32, /128
//! persistence_engine = "sip"
//! one_packet = true
//! sched_flags = ["flag-1"]         # flag-1..3 (sh-fallback, sh-port, mh-fallback, mh-port)
//! forward = "dr"                   # the real servers' default: dr (default), nat, tun
//! quorum = 1                       # default 1
//! hysteresis = 0
//! quorum_up = "/usr/local/bin/up %s"   # a command line: a string, or an array of words
//! quorum_down = ["/bin/logger", "quorum lost"]
//! sorry_server = "10.0.0.9:80"     # or { address = "10.0.0.9:80", weight = 1, forward = "nat" }
//! sorry_server_inhibit = false
//! alpha = false                    # real servers start down until a check passes
//! omega = false
//!
//! [[virtual_server.check]]         # checks of every real server that has none of its own
//! type = "http"                    # tcp|http|https|send_expect|smtp|dns|udp|ping|misc|file
//! url = [{ path = "/", status = "200-299", digest = "9b3a0c85a887a256d6939da88aabd8cd" }]
//! connect_timeout = "5s"           # durations: "5s", "100ms", or a number of seconds
//!
//! [[virtual_server.real]]
//! address = "10.0.0.100:80"        # a fwmark service's real server may omit the port
//! weight = 1                       # default 1
//! forward = "nat"                  # when not the virtual server's
//! u_threshold = 0
//! l_threshold = 0
//! tunnel = { type = "gue", port = 6080, csum = "remcsum" }   # ipip|gue|gre, nocsum|csum|remcsum
//! inhibit_on_failure = true
//! slow_start = true
//! notify_up = "/bin/true"
//! notify_down = "/bin/true"
//!
//! [[virtual_server.real.check]]    # `check = []` gives none, whatever the virtual server says
//! type = "send_expect"
//! send = "GET / HTTP/1.0\r\n\r\n"  # or send_hex = "…"
//! expect = "HTTP"                  # a prefix (expect_hex), or expect_regex = "…"; absent: any
//! connect_timeout = "6s"
//! retry = 0
//! delay_before_retry = "0s"
//! delay_loop = "6s"
//! warmup = "0s"
//! reentry = "15s"
//! connect_ip = "10.0.0.100"        # the target: connect_ip, connect_port, bind_ip, bind_port
//!
//! [[vrrp_instance]]
//! name = "lvs"
//! state = "backup"                 # master|backup
//! interface = "eth0"
//! virtual_router_id = 1
//! priority = 100                   # default 100
//! advert_int = "1s"                # default 1s
//! version = 2                      # 2 (default) or 3
//! preempt = true
//! preempt_delay = "0s"
//! virtual_ipaddress = ["192.168.1.250/24"]
//! unicast_src_ip = "192.168.1.10"
//! unicast_peer = ["192.168.1.20"]
//! auth_pass = "secret"
//! track_interface = ["eth0"]
//! track_script = ["chk_rvsd"]
//! notify_master = "/etc/rvs/master.sh"   # notify_backup, notify_fault, notify
//! garp_master_delay = "5s"         # garp_master_repeat = 5, garp_master_refresh = "0s"
//!
//! [[vrrp_script]]
//! name = "chk_rvsd"
//! script = "pidof rvsd"
//! interval = "1s"                  # defaults: 1s, no timeout, weight 0, rise 1, fall 1
//! weight = -20
//! ```
//!
//! The other check types' keys: `http`/`https` — `url` (a list of `{ path, status, digest,
//! regex, regex_no_match, virtualhost }`; status `"200-299"` by default), `virtualhost`,
//! `http_version` (`"1.0"`, `"1.0c"`, `"1.1"`), and for https `sni`, `sni_name`; `smtp` —
//! `helo_name` (`"localhost"`); `dns` — `query_type` (`"SOA"`), `name` (`"."`); `udp` — `payload`
//! or `payload_hex`, `require_reply` (`true`, or hex bytes with `XX` for any byte),
//! `min_reply_length` (0), `max_reply_length` (255); `misc` — `script`, `timeout`, `dynamic`,
//! `user`; `file` — `path`, `weight` (the multiplier), `reverse`, `dynamic`. A check's timing
//! defaults are keepalived's for its type (`CheckTiming::keepalived_default`).
//!
//! A key the format does not know is an error naming the valid keys of its table: this is rvs's
//! own format, and a misspelt key silently ignored would be a setting silently lost.

mod emit;
mod raw;
mod values;

use std::path::Path;

use rvs_core::config::Config;

pub use emit::to_toml;

use crate::format::Diags;
use crate::{ConfigError, Diagnostic};

/// Parses TOML `text`, naming it `name` in messages.
pub fn parse(text: &str, name: &Path) -> Result<(Config, Vec<Diagnostic>), ConfigError> {
    let mut d = Diags::new(name);
    let raw: raw::RawConfig = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let (line, column) = e.span().map_or((0, 0), |s| position(text, s.start));
            let (message, hint) = split_expected(e.message());
            d.error(line, column, message, hint);
            return d.finish(Config::default());
        }
    };
    let mut problems = Vec::new();
    let config = raw::convert(raw, &mut problems);
    for p in problems {
        let (line, column) = position(text, p.span.start);
        if p.warning {
            d.warn(line, p.message, p.hint);
        } else {
            d.error(line, column, p.message, p.hint);
        }
    }
    d.finish(config)
}

/// 1-based line and column (in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX))
}

/// serde's "unknown field `x`, expected one of `a`, `b`" as a message and a hint.
fn split_expected(message: &str) -> (String, Option<String>) {
    let message = message.trim_end();
    for (marker, lead) in [(", expected one of ", "one of "), (", expected ", "expected ")] {
        if let Some((what, expected)) = message.split_once(marker) {
            if what.starts_with("unknown field") {
                return (what.to_owned(), Some(format!("valid keys here: {expected}")));
            }
            if what.starts_with("unknown variant") {
                return (what.to_owned(), Some(format!("{lead}{expected}")));
            }
        }
    }
    (message.to_owned(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, 6), (2, 1));
        assert_eq!(position(text, text.find('=').map_or(0, |i| i)), (1, 3));
        assert_eq!(position(text, 10), (2, 4));
    }

    #[test]
    fn expected_lists_become_hints() {
        assert_eq!(
            split_expected("unknown field `wieght`, expected one of `address`, `weight`"),
            ("unknown field `wieght`".to_owned(), Some("valid keys here: `address`, `weight`".to_owned()))
        );
        assert_eq!(split_expected("missing field `service`"), ("missing field `service`".to_owned(), None));
    }
}
