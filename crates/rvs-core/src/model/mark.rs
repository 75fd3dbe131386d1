//! Rules of rvs's mark classifier: which new connections belong to a firewall-mark service.
//!
//! IPVS takes the mark iptables or nftables set (`-t mangle … -j MARK --set-mark 1`); rvs's data
//! plane runs in XDP, before netfilter, so it classifies itself. A rule is written in
//! iptables' words so that the classic setup reads the same:
//!
//! ```text
//! -p tcp -d 192.168.1.250 --dports 80,443 --set-mark 1
//! ```
//!
//! `-p tcp|udp` (optional: both), `-d ADDR[/PREFIX]` (required), `--dports P[,P|A:B…]`
//! (optional: all ports; `--dport` is the same), `--set-mark N` (required, 1 to 4294967295).
//! Rules are tried in order; the first that matches gives the mark.

use std::{fmt, net::Ipv4Addr, str::FromStr};

use serde::{Deserialize, Serialize};

use super::{proto::Protocol, service::Fwmark};

/// Most port ranges in one rule (iptables' multiport takes 15).
pub const MAX_PORT_RANGES: usize = 15;

/// An inclusive range of destination ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

/// A classifier rule: new connections matching it belong to the service of `mark`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MarkRule {
    /// TCP or UDP; `None` matches both.
    pub protocol: Option<Protocol>,
    /// Destination network address (host bits cleared).
    pub addr: Ipv4Addr,
    /// Destination prefix length, 0 to 32.
    pub prefix: u8,
    /// Destination ports; empty matches every port.
    pub ports: Vec<PortRange>,
    /// The mark given.
    pub mark: Fwmark,
}

/// Why a rule's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkRuleError {
    #[error("unknown word `{0}' (expected -p, -d, --dports or --set-mark)")]
    UnknownWord(String),
    #[error("`{0}' needs a value")]
    MissingValue(String),
    #[error("`{0}' given twice")]
    Repeated(String),
    #[error("protocol `{0}': the classifier marks tcp or udp")]
    Protocol(String),
    #[error("destination `{0}': expected an IPv4 address with an optional /prefix (0-32)")]
    Destination(String),
    #[error("ports `{0}': expected ports or first:last ranges separated by commas (at most 15)")]
    Ports(String),
    #[error("mark `{0}': expected a number from 1 to 4294967295")]
    Mark(String),
    #[error("a rule needs -d ADDR[/PREFIX]")]
    NoDestination,
    #[error("a rule needs --set-mark N")]
    NoMark,
}

impl MarkRule {
    /// The destination netmask.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(prefix_mask(self.prefix))
    }

    /// Whether a packet of `protocol` to `addr:port` matches.
    pub fn matches(&self, protocol: Protocol, addr: Ipv4Addr, port: u16) -> bool {
        self.protocol.is_none_or(|p| p == protocol)
            && u32::from(addr) & prefix_mask(self.prefix) == u32::from(self.addr)
            && (self.ports.is_empty()
                || self
                    .ports
                    .iter()
                    .any(|r| (r.first..=r.last).contains(&port)))
    }
}

/// The first rule matching a packet, as the data plane picks it.
pub fn classify(
    rules: &[MarkRule],
    protocol: Protocol,
    addr: Ipv4Addr,
    port: u16,
) -> Option<Fwmark> {
    rules
        .iter()
        .find(|r| r.matches(protocol, addr, port))
        .map(|r| r.mark)
}

fn prefix_mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

fn parse_protocol(s: &str) -> Result<Protocol, MarkRuleError> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" | "6" => Ok(Protocol::Tcp),
        "udp" | "17" => Ok(Protocol::Udp),
        _ => Err(MarkRuleError::Protocol(s.to_owned())),
    }
}

fn parse_destination(s: &str) -> Result<(Ipv4Addr, u8), MarkRuleError> {
    let bad = || MarkRuleError::Destination(s.to_owned());
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (
            a,
            p.parse::<u8>().ok().filter(|p| *p <= 32).ok_or_else(bad)?,
        ),
        None => (s, 32),
    };
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
    // As iptables, host bits under the prefix are dropped.
    Ok((
        Ipv4Addr::from(u32::from(addr) & prefix_mask(prefix)),
        prefix,
    ))
}

fn parse_ports(s: &str) -> Result<Vec<PortRange>, MarkRuleError> {
    let bad = || MarkRuleError::Ports(s.to_owned());
    let port = |p: &str, default: u16| {
        if p.is_empty() {
            Ok(default)
        } else {
            p.parse::<u16>().map_err(|_| bad())
        }
    };
    let mut ranges = Vec::new();
    for item in s.split(',') {
        let range = match item.split_once(':') {
            Some((a, b)) => PortRange {
                first: port(a, 0)?,
                last: port(b, u16::MAX)?,
            },
            None if !item.is_empty() => {
                let p = port(item, 0)?;
                PortRange { first: p, last: p }
            }
            None => return Err(bad()),
        };
        if range.first > range.last {
            return Err(bad());
        }
        ranges.push(range);
    }
    if ranges.len() > MAX_PORT_RANGES {
        return Err(bad());
    }
    Ok(ranges)
}

impl FromStr for MarkRule {
    type Err = MarkRuleError;

    fn from_str(s: &str) -> Result<Self, MarkRuleError> {
        let mut words = s.split_whitespace();
        let (mut protocol, mut dest, mut ports, mut mark) = (None, None, None, None);
        while let Some(word) = words.next() {
            let mut value = || {
                words
                    .next()
                    .ok_or_else(|| MarkRuleError::MissingValue(word.to_owned()))
            };
            let repeated = || MarkRuleError::Repeated(word.to_owned());
            match word {
                "-p" | "--protocol" => {
                    if protocol.replace(parse_protocol(value()?)?).is_some() {
                        return Err(repeated());
                    }
                }
                "-d" | "--destination" => {
                    if dest.replace(parse_destination(value()?)?).is_some() {
                        return Err(repeated());
                    }
                }
                "--dport" | "--dports" => {
                    if ports.replace(parse_ports(value()?)?).is_some() {
                        return Err(repeated());
                    }
                }
                "--set-mark" => {
                    let v = value()?;
                    let m = v
                        .parse::<u32>()
                        .ok()
                        .and_then(Fwmark::new)
                        .ok_or_else(|| MarkRuleError::Mark(v.to_owned()))?;
                    if mark.replace(m).is_some() {
                        return Err(repeated());
                    }
                }
                other => return Err(MarkRuleError::UnknownWord(other.to_owned())),
            }
        }
        let (addr, prefix) = dest.ok_or(MarkRuleError::NoDestination)?;
        Ok(MarkRule {
            protocol,
            addr,
            prefix,
            ports: ports.unwrap_or_default(),
            mark: mark.ok_or(MarkRuleError::NoMark)?,
        })
    }
}

impl fmt::Display for MarkRule {
    /// The canonical text, which parses back to the same rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.protocol {
            write!(f, "-p {} ", p.name().to_ascii_lowercase())?;
        }
        write!(f, "-d {}/{}", self.addr, self.prefix)?;
        if !self.ports.is_empty() {
            let ports: Vec<String> = self
                .ports
                .iter()
                .map(|r| {
                    if r.first == r.last {
                        r.first.to_string()
                    } else {
                        format!("{}:{}", r.first, r.last)
                    }
                })
                .collect();
            write!(f, " --dports {}", ports.join(","))?;
        }
        write!(f, " --set-mark {}", self.mark.get())
    }
}

impl TryFrom<String> for MarkRule {
    type Error = MarkRuleError;
    fn try_from(s: String) -> Result<Self, MarkRuleError> {
        s.parse()
    }
}

impl From<MarkRule> for String {
    fn from(r: MarkRule) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> MarkRule {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_http_and_https_rule_reads_as_iptables_and_prints_canonically() {
        let r = rule("-p tcp -d 192.168.1.250 --dports 80,443 --set-mark 1");
        assert_eq!(r.protocol, Some(Protocol::Tcp));
        assert_eq!((r.addr, r.prefix), (Ipv4Addr::new(192, 168, 1, 250), 32));
        assert_eq!(
            r.ports,
            vec![
                PortRange {
                    first: 80,
                    last: 80
                },
                PortRange {
                    first: 443,
                    last: 443
                }
            ]
        );
        assert_eq!(r.mark.get(), 1);
        assert_eq!(
            r.to_string(),
            "-p tcp -d 192.168.1.250/32 --dports 80,443 --set-mark 1"
        );
        assert_eq!(rule(&r.to_string()), r);
    }

    #[test]
    fn ranges_open_ends_prefixes_and_any_protocol() {
        let r = rule("--set-mark 7 -d 10.1.2.3/16 --dport 1000:2000,:10,65000:");
        assert_eq!(r.protocol, None);
        assert_eq!(
            (r.addr, r.prefix),
            (Ipv4Addr::new(10, 1, 0, 0), 16),
            "host bits dropped"
        );
        assert_eq!(
            r.to_string(),
            "-d 10.1.0.0/16 --dports 1000:2000,0:10,65000:65535 --set-mark 7"
        );
        assert!(r.matches(Protocol::Udp, Ipv4Addr::new(10, 1, 200, 1), 1500));
        assert!(r.matches(Protocol::Tcp, Ipv4Addr::new(10, 1, 0, 9), 10));
        assert!(!r.matches(Protocol::Tcp, Ipv4Addr::new(10, 2, 0, 9), 10));
        assert!(!r.matches(Protocol::Tcp, Ipv4Addr::new(10, 1, 0, 9), 999));
        assert!(rule("-d 0.0.0.0/0 --set-mark 1").matches(
            Protocol::Udp,
            Ipv4Addr::new(8, 8, 8, 8),
            53
        ));
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules = [
            rule("-p tcp -d 10.0.0.1 --dports 80 --set-mark 2"),
            rule("-d 10.0.0.0/24 --set-mark 3"),
        ];
        assert_eq!(
            classify(&rules, Protocol::Tcp, Ipv4Addr::new(10, 0, 0, 1), 80).map(Fwmark::get),
            Some(2)
        );
        assert_eq!(
            classify(&rules, Protocol::Udp, Ipv4Addr::new(10, 0, 0, 1), 80).map(Fwmark::get),
            Some(3)
        );
        assert_eq!(
            classify(&rules, Protocol::Tcp, Ipv4Addr::new(10, 0, 1, 1), 80),
            None
        );
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let err = |s: &str| s.parse::<MarkRule>().expect_err(s).to_string();
        assert_eq!(
            err("-p icmp -d 1.2.3.4 --set-mark 1"),
            "protocol `icmp': the classifier marks tcp or udp"
        );
        assert_eq!(
            err("-d 1.2.3.4/33 --set-mark 1"),
            "destination `1.2.3.4/33': expected an IPv4 address with an optional /prefix (0-32)"
        );
        assert_eq!(
            err("-d ::1 --set-mark 1"),
            "destination `::1': expected an IPv4 address with an optional /prefix (0-32)"
        );
        assert!(err("-d 1.2.3.4 --dports 90:80 --set-mark 1").starts_with("ports `90:80'"));
        assert!(err("-d 1.2.3.4 --dports 80,,81 --set-mark 1").starts_with("ports"));
        assert!(err("-d 1.2.3.4 --dports 70000 --set-mark 1").starts_with("ports"));
        assert!(
            err("-d 1.2.3.4 --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 --set-mark 1")
                .starts_with("ports")
        );
        assert_eq!(
            err("-d 1.2.3.4 --set-mark 0"),
            "mark `0': expected a number from 1 to 4294967295"
        );
        assert_eq!(err("-d 1.2.3.4 --set-mark"), "`--set-mark' needs a value");
        assert_eq!(err("-d 1.2.3.4"), "a rule needs --set-mark N");
        assert_eq!(err("--set-mark 1"), "a rule needs -d ADDR[/PREFIX]");
        assert_eq!(
            err("-d 1.2.3.4 -d 1.2.3.5 --set-mark 1"),
            "`-d' given twice"
        );
        assert_eq!(
            err("-d 1.2.3.4 -j MARK --set-mark 1"),
            "unknown word `-j' (expected -p, -d, --dports or --set-mark)"
        );
    }

    #[test]
    fn rules_travel_as_their_text_in_json() {
        let r = rule("-p udp -d 10.0.0.0/8 --set-mark 9");
        let json = serde_json::to_string(&r).expect("json");
        assert_eq!(json, "\"-p udp -d 10.0.0.0/8 --set-mark 9\"");
        assert_eq!(serde_json::from_str::<MarkRule>(&json).expect("back"), r);
        assert!(serde_json::from_str::<MarkRule>("\"-d 10.0.0.0/8\"").is_err());
    }
}
