//! The TOML format's values that are more than a TOML type: services, addresses, durations,
//! command lines, status codes, byte patterns. Each reads from TOML (through serde, so that a
//! bad value is reported at its place) and writes back the text it reads.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rvs_core::config::{HttpVersion, ReplyPattern, Script, StatusCodes, StatusRange, VirtualAddress};
use rvs_core::model::{AddressFamily, ForwardMethod, Fwmark, Netmask, Protocol, SchedFlags, ServiceKey};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Implements `Deserialize` for a type read from one TOML string by `parse`.
macro_rules! from_text {
    ($ty:ty, $expecting:literal, $parse:expr) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$ty, E> {
                        let parse: fn(&str) -> Result<$ty, String> = $parse;
                        parse(s).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// A duration: seconds as a number, or text with a unit (`"5s"`, `"100ms"`, `"1.5s"`, `"2m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration: seconds, or text such as \"5s\" or \"100ms\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                u64::try_from(v).map(|s| Dur(Duration::from_secs(s))).map_err(|_| E::custom("a duration cannot be negative"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                Ok(Dur(Duration::from_secs(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                Duration::try_from_secs_f64(v).map(Dur).map_err(|_| E::custom(format!("{v} is not a duration")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dur, E> {
                parse_duration(s).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("`{s}` is not a duration: write a number and a unit (ns, us, ms, s, m, h), such as \"5s\"");
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "" | "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(bad()),
    };
    if number.is_empty() {
        return Err(bad());
    }
    let nanos = match number.split_once('.') {
        None => number.parse::<u64>().ok().and_then(|n| n.checked_mul(scale)),
        Some((whole, frac)) => {
            let whole = if whole.is_empty() { 0 } else { whole.parse::<u64>().map_err(|_| bad())? };
            let digits = frac.len().min(18);
            let frac_value = if digits == 0 { 0 } else { frac[..digits].parse::<u64>().map_err(|_| bad())? };
            let frac_nanos = u128::from(frac_value) * u128::from(scale) / 10u128.pow(u32::try_from(digits).unwrap_or(18));
            whole.checked_mul(scale).and_then(|w| w.checked_add(u64::try_from(frac_nanos).ok()?))
        }
    };
    nanos.map(Duration::from_nanos).ok_or_else(bad)
}

/// The text `Dur` reads back: whole seconds as `"5s"`, else the largest exact unit.
pub(super) fn duration_text(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos.is_multiple_of(1_000_000_000) {
        format!("{}s", d.as_secs())
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}ms", d.as_millis())
    } else if nanos.is_multiple_of(1_000) {
        format!("{}us", d.as_micros())
    } else {
        format!("{nanos}ns")
    }
}

/// `"tcp 192.168.1.250:80"`, `"udp [2001:db8::1]:53"`, `"sctp …"`, `"fwmark 1"`,
/// `"fwmark 1 ipv6"` (also as ipvsadm lists them: `TCP …`, `FWM 1 IPv6`).
#[derive(Debug, Clone, Copy)]
pub(super) struct ServiceText(pub ServiceKey);

from_text!(ServiceText, "a service such as \"tcp 192.168.1.250:80\" or \"fwmark 1\"", |s| {
    let bad = |why: &str| format!("service `{s}`: {why}; write \"tcp 192.168.1.250:80\", \"udp [2001:db8::1]:53\" or \"fwmark 1\"");
    let words: Vec<&str> = s.split_whitespace().collect();
    let Some(kind) = words.first() else { return Err(bad("empty")) };
    let protocol = match kind.to_ascii_lowercase().as_str() {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        "fwmark" | "fwm" => {
            let mark = words.get(1).and_then(|m| m.parse::<u32>().ok()).and_then(Fwmark::new);
            let Some(mark) = mark else { return Err(bad("the mark is a number from 1 to 4294967295")) };
            let af = match words.get(2).map(|w| w.to_ascii_lowercase()) {
                None => AddressFamily::Inet,
                Some(w) if w == "ipv6" || w == "inet6" => AddressFamily::Inet6,
                Some(w) if (w == "ipv4" || w == "inet") => AddressFamily::Inet,
                Some(_) => return Err(bad("after the mark, only `ipv6` may follow")),
            };
            if words.len() > 3 {
                return Err(bad("too many words"));
            }
            return Ok(ServiceText(ServiceKey::Fwmark { af, mark }));
        }
        _ => return Err(bad("it starts with tcp, udp, sctp or fwmark")),
    };
    match words.as_slice() {
        [_, addr] => match addr.parse::<SocketAddr>() {
            Ok(sa) => Ok(ServiceText(ServiceKey::Addr { protocol, addr: sa.ip(), port: sa.port() })),
            Err(_) => Err(bad("expected address:port (IPv6 in brackets)")),
        },
        _ => Err(bad("expected the protocol and address:port")),
    }
});

/// The text `ServiceText` reads back.
pub(super) fn service_text(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr { protocol, addr, port } => {
            format!("{} {}", protocol.service_db_name(), SocketAddr::new(*addr, *port))
        }
        ServiceKey::Fwmark { af: AddressFamily::Inet, mark } => format!("fwmark {}", mark.get()),
        ServiceKey::Fwmark { af: AddressFamily::Inet6, mark } => format!("fwmark {} ipv6", mark.get()),
    }
}

/// A real server's address: `"10.0.0.100:80"`, `"[2001:db8::1]:80"`, or the address alone (the
/// service's port).
#[derive(Debug, Clone, Copy)]
pub(super) struct DestText(pub IpAddr, pub Option<u16>);

from_text!(DestText, "an address such as \"10.0.0.100:80\"", |s| {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(DestText(sa.ip(), Some(sa.port())));
    }
    s.parse::<IpAddr>()
        .map(|a| DestText(a, None))
        .map_err(|_| format!("`{s}` is not an address: write \"10.0.0.100:80\" or \"[2001:db8::1]:80\""))
});

/// The text `DestText` reads back; the port is left out when it is the service's own (only
/// written so for fwmark services, whose port is 0).
pub(super) fn dest_text(addr: IpAddr, port: u16, key: &ServiceKey) -> String {
    if matches!(key, ServiceKey::Fwmark { .. }) && port == key.port() {
        addr.to_string()
    } else {
        SocketAddr::new(addr, port).to_string()
    }
}

/// A VIP with its prefix: `"192.168.1.250/24"`; alone, /32 or /128.
#[derive(Debug, Clone)]
pub(super) struct VipText(pub VirtualAddress);

from_text!(VipText, "an address with its prefix such as \"192.168.1.250/24\", optionally followed by `dev IF` and `label IF:N`", |s| {
    let bad = || format!("`{s}` is not an address with a prefix such as \"192.168.1.250/24\" (optionally `dev eth1`, `label eth1:1`)");
    let mut words = s.split_whitespace();
    let first = words.next().ok_or_else(bad)?;
    let (addr, prefix) = match first.split_once('/') {
        Some((a, p)) => (a.parse::<IpAddr>().map_err(|_| bad())?, Some(p.parse::<u8>().map_err(|_| bad())?)),
        None => (first.parse::<IpAddr>().map_err(|_| bad())?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    if prefix > max {
        return Err(format!("`{s}`: the prefix is at most {max}"));
    }
    let mut vip = VirtualAddress::new(addr, prefix);
    while let Some(option) = words.next() {
        let value = words.next().filter(|v| v.len() <= 15).ok_or_else(bad)?;
        match option {
            "dev" => vip.dev = Some(value.to_owned()),
            "label" => vip.label = Some(value.to_owned()),
            _ => return Err(bad()),
        }
    }
    Ok(VipText(vip))
});

/// The text of a virtual address, as [`VipText`] reads it.
pub(super) fn vip_text(vip: &VirtualAddress) -> String {
    let mut text = format!("{}/{}", vip.addr, vip.prefix);
    if let Some(dev) = &vip.dev {
        text.push_str(&format!(" dev {dev}"));
    }
    if let Some(label) = &vip.label {
        text.push_str(&format!(" label {label}"));
    }
    text
}

/// A forwarding method: `dr`, `nat`, `tun`, `local`, `bypass` (also `route`, `direct`, `masq`,
/// `tunnel`, `ipip`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Forward(pub ForwardMethod);

from_text!(Forward, "a forwarding method: dr, nat or tun", |s| {
    Ok(Forward(match s.to_ascii_lowercase().as_str() {
        "dr" | "route" | "direct" | "gate" => ForwardMethod::Route,
        "nat" | "masq" => ForwardMethod::Masq,
        "tun" | "tunnel" | "ipip" => ForwardMethod::Tunnel,
        "local" => ForwardMethod::Local,
        "bypass" => ForwardMethod::Bypass,
        _ => return Err(format!("unknown forwarding method `{s}`: dr, nat or tun")),
    }))
});

pub(super) fn forward_text(f: ForwardMethod) -> &'static str {
    match f {
        ForwardMethod::Route => "dr",
        ForwardMethod::Masq => "nat",
        ForwardMethod::Tunnel => "tun",
        ForwardMethod::Local => "local",
        ForwardMethod::Bypass => "bypass",
    }
}

/// A scheduler flag: `flag-1`, `flag-2`, `flag-3` (sh's and mh's names too).
#[derive(Debug, Clone, Copy)]
pub(super) struct SchedFlag(pub SchedFlags);

from_text!(SchedFlag, "a scheduler flag: flag-1, flag-2 or flag-3", |s| {
    Ok(SchedFlag(match s {
        "flag-1" | "sh-fallback" | "mh-fallback" => SchedFlags::FLAG_1,
        "flag-2" | "sh-port" | "mh-port" => SchedFlags::FLAG_2,
        "flag-3" => SchedFlags::FLAG_3,
        _ => return Err(format!("unknown scheduler flag `{s}`: flag-1, flag-2 or flag-3")),
    }))
});

/// `http_version`: `"1.0"`, `"1.0c"` (with `Connection: close`) or `"1.1"`.
#[derive(Debug, Clone, Copy)]
pub(super) struct HttpVersionText(pub HttpVersion);

from_text!(HttpVersionText, "an HTTP version: \"1.0\", \"1.0c\" or \"1.1\"", |s| {
    Ok(HttpVersionText(match s.to_ascii_lowercase().as_str() {
        "1.0" => HttpVersion::Http10,
        "1.0c" => HttpVersion::Http10Close,
        "1.1" => HttpVersion::Http11,
        _ => return Err(format!("unknown HTTP version `{s}`: \"1.0\", \"1.0c\" or \"1.1\"")),
    }))
});

pub(super) fn http_version_text(v: HttpVersion) -> &'static str {
    match v {
        HttpVersion::Http10 => "1.0",
        HttpVersion::Http10Close => "1.0c",
        HttpVersion::Http11 => "1.1",
    }
}

/// HTTP status codes: `"200-299"`, `"200,301-302"`, or one number.
#[derive(Debug, Clone)]
pub(super) struct StatusText(pub StatusCodes);

impl<'de> Deserialize<'de> for StatusText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StatusText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("status codes such as \"200-299\" or 200")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusText, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StatusText, E> {
                let bad = || E::custom(format!("`{s}` is not status codes such as \"200-299\" or \"200,301-302\""));
                let mut ranges = Vec::new();
                for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    let (a, b) = item.split_once('-').unwrap_or((item, item));
                    let first: u16 = a.trim().parse().map_err(|_| bad())?;
                    let last: u16 = b.trim().parse().map_err(|_| bad())?;
                    if first > last || last > 999 {
                        return Err(bad());
                    }
                    ranges.push(StatusRange { first, last });
                }
                Ok(StatusText(StatusCodes(ranges)))
            }
        }
        d.deserialize_any(V)
    }
}

pub(super) fn status_text(s: &StatusCodes) -> String {
    let items: Vec<String> = s
        .0
        .iter()
        .map(|r| if r.first == r.last { r.first.to_string() } else { format!("{}-{}", r.first, r.last) })
        .collect();
    items.join(",")
}

/// Bytes as hexadecimal text (`"0a1b…"`).
#[derive(Debug, Clone)]
pub(super) struct HexBytes(pub Vec<u8>);

from_text!(HexBytes, "bytes as hexadecimal text", |s| {
    hex_decode(s).map(HexBytes).ok_or_else(|| format!("`{s}` is not hexadecimal bytes (two hex digits a byte)"))
});

/// An MD5 digest: 32 hexadecimal digits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Digest(pub [u8; 16]);

from_text!(Digest, "an MD5 digest (32 hexadecimal digits)", |s| {
    hex_decode(s)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(Digest)
        .ok_or_else(|| format!("`{s}` is not an MD5 digest (32 hexadecimal digits)"))
});

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `require_reply`: `true` (any reply), `false`, or hexadecimal bytes with `XX` for any byte.
#[derive(Debug, Clone)]
pub(super) struct ReplyValue(pub Option<ReplyPattern>);

impl<'de> Deserialize<'de> for ReplyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ReplyValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false, or hexadecimal bytes with XX for any byte")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ReplyValue, E> {
                Ok(ReplyValue(v.then(ReplyPattern::default)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ReplyValue, E> {
                let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
                let bad = || E::custom(format!("`{s}` is not hexadecimal bytes (XX for any byte)"));
                if !s.len().is_multiple_of(2) {
                    return Err(bad());
                }
                let mut pattern = Vec::new();
                for i in (0..s.len()).step_by(2) {
                    let pair = s.get(i..i + 2).ok_or_else(bad)?;
                    pattern.push(if pair.eq_ignore_ascii_case("xx") {
                        None
                    } else {
                        Some(u8::from_str_radix(pair, 16).map_err(|_| bad())?)
                    });
                }
                Ok(ReplyValue(Some(ReplyPattern(pattern))))
            }
        }
        d.deserialize_any(V)
    }
}

pub(super) fn reply_text(p: &ReplyPattern) -> String {
    p.0.iter().map(|b| b.map_or_else(|| "XX".to_owned(), |b| format!("{b:02x}"))).collect()
}

/// A command line: one string (split on blanks; quotes keep words together) or an array of words.
#[derive(Debug, Clone)]
pub(super) struct ScriptValue(pub Script);

impl<'de> Deserialize<'de> for ScriptValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ScriptValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command line, as a string or an array of words")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ScriptValue, E> {
                let words = split_words(s).map_err(E::custom)?;
                Script::new(words).map(ScriptValue).ok_or_else(|| E::custom("the command line is empty"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ScriptValue, A::Error> {
                let mut words = Vec::new();
                while let Some(w) = seq.next_element::<String>()? {
                    words.push(w);
                }
                Script::new(words).map(ScriptValue).ok_or_else(|| de::Error::custom("the command line is empty"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Words of a command line: blanks separate them, `"…"` and `'…'` keep blanks inside one.
fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.get_or_insert_with(String::new).push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            None if c.is_whitespace() => words.extend(word.take()),
            None => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err(format!("unterminated quote in `{s}`"));
    }
    words.extend(word);
    Ok(words)
}

/// Whether a script reads back from one string of its words joined by spaces.
pub(super) fn script_is_plain(s: &Script) -> bool {
    s.argv.iter().all(|w| !w.is_empty() && !w.contains(|c: char| c.is_whitespace() || c == '"' || c == '\''))
}

/// `persistence_mask`: a dotted mask (IPv4) or a prefix length (IPv6).
#[derive(Debug, Clone, Copy)]
pub(super) struct MaskValue(pub Netmask);

impl<'de> Deserialize<'de> for MaskValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MaskValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dotted IPv4 mask such as \"255.255.255.0\", or an IPv6 prefix length")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MaskValue, E> {
                u8::try_from(v)
                    .ok()
                    .filter(|p| *p <= 128)
                    .map(|p| MaskValue(Netmask::V6(p)))
                    .ok_or_else(|| E::custom(format!("{v} is not an IPv6 prefix length (0 to 128)")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<MaskValue, E> {
                s.parse()
                    .map(|m| MaskValue(Netmask::V4(m)))
                    .map_err(|_| E::custom(format!("`{s}` is not a dotted IPv4 mask such as \"255.255.255.0\"")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A sorry server: an address (`"10.0.0.9:80"`) or a table like a real server's.
#[derive(Debug, Clone)]
pub(super) enum SorryValue {
    Address(DestText),
    Table(super::raw::RawSorry),
}

impl<'de> Deserialize<'de> for SorryValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SorryValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an address such as \"10.0.0.9:80\", or a table with `address`, `weight`, `forward` …")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SorryValue, E> {
                DestText::deserialize(de::value::StrDeserializer::new(s)).map(SorryValue::Address)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SorryValue, A::Error> {
                Deserialize::deserialize(de::value::MapAccessDeserializer::new(map)).map(SorryValue::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// A TOML basic string.
pub(super) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_write() {
        for (text, d) in [
            ("5s", Duration::from_secs(5)),
            ("100ms", Duration::from_millis(100)),
            ("1.5s", Duration::from_millis(1500)),
            ("2m", Duration::from_secs(120)),
            ("7", Duration::from_secs(7)),
            ("250us", Duration::from_micros(250)),
            ("3ns", Duration::from_nanos(3)),
        ] {
            assert_eq!(parse_duration(text), Ok(d), "{text}");
            assert_eq!(parse_duration(&duration_text(d)), Ok(d));
        }
        assert_eq!(duration_text(Duration::from_millis(1500)), "1500ms");
        assert_eq!(duration_text(Duration::ZERO), "0s");
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(split_words("/bin/check  -h 'a b' \"c\"d"), Ok(vec!["/bin/check".into(), "-h".into(), "a b".into(), "cd".into()]));
        assert_eq!(split_words("''"), Ok(vec![String::new()]));
        assert!(split_words("'open").is_err());
        assert!(script_is_plain(&Script { argv: vec!["/bin/x".into(), "%h".into()] }));
        assert!(!script_is_plain(&Script { argv: vec!["a b".into()] }));
    }

    #[test]
    fn strings_are_escaped_for_toml() {
        assert_eq!(quoted("GET / HTTP/1.0\r\n\r\n"), r#""GET / HTTP/1.0\r\n\r\n""#);
        assert_eq!(quoted("a\"b\\c\u{1}"), r#""a\"b\\c\u0001""#);
    }
}
