//! `virtual_server_group NAME { … }` (`check/check_data.c` `alloc_vsg_entry`): addresses with
//! ports, address ranges (`10.0.0.1-10`, `10.0.0.1-10.0.0.10`, `10.0.0.0/29`) and fwmarks.
//! keepalived hands the kernel one service per address; rvs expands a range into its addresses
//! here, and the `virtual_server group NAME` into one virtual server each.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rvs_core::model::{AddressFamily, Fwmark};

use super::tree::Node;
use super::{Ctx, Draft, Pos, value};

/// One service of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Member {
    /// Address and port (0: none).
    Addr(IpAddr, u16),
    /// A mark, with the family when the line names one.
    Fwmark(Fwmark, Option<AddressFamily>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Group {
    pub name: String,
    pub pos: Pos,
    pub members: Vec<Member>,
}

/// Most addresses one range may name.
const MAX_RANGE: u128 = 4096;

pub(super) fn parse(node: &Node, draft: &mut Draft, ctx: &mut Ctx) {
    let Some(name) = ctx.value(node, 1) else { return };
    ctx.extra(node, 2);
    if !ctx.need_block(node) {
        return;
    }
    let mut g = Group { name: name.to_owned(), pos: node.pos(), members: Vec::new() };
    for n in node.children() {
        ctx.no_block(n);
        if n.keyword() == "fwmark" {
            let Some(mark) = ctx.number(n, 1, 0, u64::from(u32::MAX)) else { continue };
            let Some(mark) = Fwmark::new(mark as u32) else {
                ctx.error(n.words[1].pos, "fwmark 0 names no service", Some("firewall marks start at 1".into()));
                continue;
            };
            let af = match n.text(2) {
                None => None,
                Some("inet") => Some(AddressFamily::Inet),
                Some("inet6") => Some(AddressFamily::Inet6),
                Some(f) => {
                    ctx.error(n.words[2].pos, format!("unknown address family `{f}`"), Some("`inet` or `inet6`".into()));
                    continue;
                }
            };
            ctx.extra(n, 3);
            g.members.push(Member::Fwmark(mark, af));
            continue;
        }
        let port = match n.word(1) {
            None => 0,
            Some(w) if w.text.bytes().all(|b| b == b'0') => 0,
            Some(w) => match ctx.port_text(w.pos, &w.text) {
                Some(p) => p,
                None => continue,
            },
        };
        ctx.extra(n, 2);
        match range(n.keyword()) {
            Ok(addrs) => g.members.extend(addrs.into_iter().map(|a| Member::Addr(a, port))),
            Err(why) => ctx.error(n.pos(), format!("`{}`: {why}", n.keyword()), Some(RANGE_HINT.into())),
        }
    }
    if g.members.is_empty() {
        ctx.warn(node.pos(), format!("virtual_server_group `{name}` has no entries (ignored)"), None);
    }
    if draft.groups.iter().any(|x| x.name == g.name) {
        ctx.error(node.pos(), format!("virtual_server_group `{name}` is defined twice"), None);
        return;
    }
    draft.groups.push(g);
}

const RANGE_HINT: &str = "an address, a range such as 10.0.0.1-10 or 10.0.0.1-10.0.0.10, or a prefix such as 10.0.0.0/29";

/// The addresses of `ADDR`, `ADDR-LAST` (last byte of IPv4, last 16 bits of IPv6 in hex),
/// `ADDR-ADDR` or `ADDR/PREFIX` (host bits clear).
fn range(text: &str) -> Result<Vec<IpAddr>, String> {
    let bad = || format!("`{text}` is not an IP address");
    let (first, last) = if let Some((a, p)) = text.split_once('/') {
        let ip = value::ip(a).ok_or_else(bad)?;
        let bits: u32 = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = value::unsigned(p).filter(|p| (1..=u64::from(bits)).contains(p)).ok_or_else(|| format!("prefix length `{p}` is out of range (1-{bits})"))? as u32;
        let host = if prefix == bits { 0 } else { u128::MAX >> (128 - (bits - prefix)) };
        let n = number(ip);
        if n & host != 0 {
            return Err("host bits are set under the prefix".into());
        }
        (n, n | host)
    } else if let Some((a, e)) = text.split_once('-') {
        let ip = value::ip(a).ok_or_else(bad)?;
        let n = number(ip);
        let end = if e.contains(['.', ':']) {
            let end = value::ip(e).ok_or_else(|| format!("`{e}` is not an IP address"))?;
            if end.is_ipv4() != ip.is_ipv4() {
                return Err("the range's ends are of different families".into());
            }
            number(end)
        } else if ip.is_ipv4() {
            let last = value::unsigned(e).filter(|v| *v <= 255).ok_or_else(|| format!("range end `{e}` is not a number from 0 to 255"))?;
            (n & !0xff) | u128::from(last)
        } else {
            let last = u16::from_str_radix(e, 16).map_err(|_| format!("range end `{e}` is not a hex number to ffff"))?;
            (n & !0xffff) | u128::from(last)
        };
        if end < n {
            return Err("the range ends before it starts".into());
        }
        (n, end)
    } else {
        let ip = value::ip(text).ok_or_else(bad)?;
        return Ok(vec![ip]);
    };
    if last - first >= MAX_RANGE {
        return Err(format!("the range has {} addresses; rvs takes at most {MAX_RANGE} per line", last - first + 1));
    }
    let v4 = text.split(['/', '-']).next().is_some_and(|a| !a.contains(':'));
    Ok((first..=last)
        .map(|n| if v4 { IpAddr::V4(Ipv4Addr::from(n as u32)) } else { IpAddr::V6(Ipv6Addr::from(n)) })
        .collect())
}

fn number(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(text: &str) -> Vec<String> {
        range(text).unwrap_or_default().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn ranges_expand_to_their_addresses() {
        assert_eq!(ips("10.0.0.1-3"), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        assert_eq!(ips("10.0.0.254-10.0.1.1"), ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]);
        assert_eq!(ips("10.0.0.8/30"), ["10.0.0.8", "10.0.0.9", "10.0.0.10", "10.0.0.11"]);
        assert_eq!(ips("2001:db8::8-a"), ["2001:db8::8", "2001:db8::9", "2001:db8::a"]);
        assert_eq!(ips("192.168.1.1"), ["192.168.1.1"]);
        assert_eq!(ips("10.0.0.5/32"), ["10.0.0.5"]);
    }

    #[test]
    fn bad_ranges_say_why() {
        assert_eq!(range("10.0.0.9-3"), Err("the range ends before it starts".into()));
        assert_eq!(range("10.0.0.1/24"), Err("host bits are set under the prefix".into()));
        assert_eq!(range("10.0.0.1-300"), Err("range end `300` is not a number from 0 to 255".into()));
        assert_eq!(range("10.0.0.0/8"), Err("the range has 16777216 addresses; rvs takes at most 4096 per line".into()));
        assert_eq!(range("10.0.0.1-2001:db8::1"), Err("the range's ends are of different families".into()));
        assert_eq!(range("host.example"), Err("`host.example` is not an IP address".into()));
    }
}
