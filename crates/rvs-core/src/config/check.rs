//! Health checks of a real server: what is sent, what counts as healthy, and when checks run.
//! The meanings and defaults are keepalived's (`check_*.c`, keepalived.conf(5)); piranha's
//! nanny (send/expect, `timeout`, `reentry`) maps onto the same fields.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::Script;

/// One health check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub kind: CheckKind,
    pub timing: CheckTiming,
    pub target: CheckTarget,
}

/// When a check runs and how it decides (keepalived's inheritable timing keywords).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckTiming {
    /// Time allowed to connect and get an answer (`connect_timeout`, nanny's `timeout`).
    pub connect_timeout: Duration,
    /// Failed attempts retried before the real server is declared down (`retry`).
    pub retry: u32,
    /// Pause before a retry (`delay_before_retry`).
    pub delay_before_retry: Duration,
    /// Interval between checks (`delay_loop`).
    pub delay_loop: Duration,
    /// The first check runs after a random delay up to this (`warmup`); zero: at once.
    pub warmup: Duration,
    /// piranha's `reentry`: a failed real server must pass checks for this long before it is
    /// put back; zero: at the first pass (keepalived).
    pub reentry: Duration,
}

impl CheckTiming {
    /// keepalived's defaults for a checker of `kind`: connect_timeout 5 s, delay_loop 60 s,
    /// retry 1 (DNS 3, MISC 0), delay_before_retry 1 s (HTTP/SSL 3 s, DNS delay_loop).
    pub fn keepalived_default(kind: &CheckKind) -> Self {
        let delay_loop = Duration::from_secs(60);
        let (retry, delay_before_retry) = match kind {
            CheckKind::Dns { .. } => (3, delay_loop),
            CheckKind::Misc(_) => (0, Duration::from_secs(1)),
            CheckKind::Http(_) => (1, Duration::from_secs(3)),
            _ => (1, Duration::from_secs(1)),
        };
        CheckTiming {
            connect_timeout: Duration::from_secs(5),
            retry,
            delay_before_retry,
            delay_loop,
            warmup: Duration::ZERO,
            reentry: Duration::ZERO,
        }
    }
}

/// Where a check connects: the real server's address and port unless overridden.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CheckTarget {
    /// `connect_ip`
    pub ip: Option<IpAddr>,
    /// `connect_port`
    pub port: Option<u16>,
    /// `bindto`: the source address.
    pub bind_ip: Option<IpAddr>,
    /// `bind_port`
    pub bind_port: Option<u16>,
}

/// What a check does.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    /// `TCP_CHECK`: a connection is accepted.
    Tcp,
    /// `HTTP_GET` / `SSL_GET` (with `tls`).
    Http(HttpCheck),
    /// nanny's `send`/`expect` over TCP: send bytes, match the first bytes of the answer.
    SendExpect { send: Vec<u8>, expect: ExpectPattern },
    /// `SMTP_CHECK`: the 220 banner, `HELO helo_name` answered 250, `QUIT`.
    Smtp { helo_name: String },
    /// `DNS_CHECK`: a query over UDP answered with NOERROR and at least one answer of the type.
    Dns { qtype: DnsQueryType, name: String },
    /// `UDP_CHECK`
    Udp(UdpCheck),
    /// `PING_CHECK`: an ICMP echo answered.
    Ping,
    /// `MISC_CHECK`: an external program's exit status.
    Misc(MiscCheck),
    /// `FILE_CHECK`: a number in a file sets the weight, or fails the real server.
    File(FileCheck),
}

impl CheckKind {
    /// keepalived's keyword for the checker.
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckKind::Tcp => "TCP_CHECK",
            CheckKind::Http(h) if h.tls.is_some() => "SSL_GET",
            CheckKind::Http(_) => "HTTP_GET",
            CheckKind::SendExpect { .. } => "SEND_EXPECT",
            CheckKind::Smtp { .. } => "SMTP_CHECK",
            CheckKind::Dns { .. } => "DNS_CHECK",
            CheckKind::Udp(_) => "UDP_CHECK",
            CheckKind::Ping => "PING_CHECK",
            CheckKind::Misc(_) => "MISC_CHECK",
            CheckKind::File(_) => "FILE_CHECK",
        }
    }
}

/// `HTTP_GET` / `SSL_GET`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCheck {
    /// Every URL must pass.
    pub urls: Vec<UrlCheck>,
    /// `virtualhost` for every URL that names none: the Host header (and SNI).
    pub virtualhost: Option<String>,
    /// `http_protocol`
    pub version: HttpVersion,
    /// `Some` for `SSL_GET`.
    pub tls: Option<TlsOptions>,
}

/// `http_protocol`: 1.0 (the default), 1.0 with `Connection: close` (1.0C), or 1.1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum HttpVersion {
    #[default]
    Http10,
    Http10Close,
    Http11,
}

/// `SSL_GET`'s TLS options. Certificates are not verified (as keepalived does not).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsOptions {
    /// `enable_sni`: send the virtual host (or `sni_name`) as SNI.
    pub enable_sni: bool,
    /// `sni_name`
    pub sni_name: Option<String>,
}

/// One `url { }` block.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlCheck {
    pub path: String,
    /// `status_code`: the codes that pass (keepalived: 200-299 when none is given).
    pub status: StatusCodes,
    /// `digest`: MD5 of the body.
    pub digest: Option<[u8; 16]>,
    /// `regex`: the body must match (or must not, with `regex_no_match`).
    pub regex: Option<String>,
    pub regex_no_match: bool,
    /// `virtualhost` of this URL.
    pub virtualhost: Option<String>,
}

/// A set of HTTP status codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusCodes(pub Vec<StatusRange>);

impl StatusCodes {
    /// keepalived's default: any 2xx.
    pub fn success() -> Self {
        StatusCodes(vec![StatusRange { first: 200, last: 299 }])
    }

    pub fn contains(&self, code: u16) -> bool {
        self.0.iter().any(|r| (r.first..=r.last).contains(&code))
    }
}

/// `first-last`, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusRange {
    pub first: u16,
    pub last: u16,
}

/// nanny's `expect`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExpectPattern {
    /// `*` (or no expect): any answer, even none, once connected and sent.
    Any,
    /// The answer starts with these bytes.
    Prefix(Vec<u8>),
    /// `use_regex = 1`: the answer matches this regular expression.
    Regex(String),
}

/// `DNS_CHECK`'s `type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DnsQueryType {
    A,
    Ns,
    Cname,
    #[default]
    Soa,
    Mx,
    Txt,
    Aaaa,
}

impl DnsQueryType {
    /// The RR type number.
    pub const fn number(self) -> u16 {
        match self {
            DnsQueryType::A => 1,
            DnsQueryType::Ns => 2,
            DnsQueryType::Cname => 5,
            DnsQueryType::Soa => 6,
            DnsQueryType::Mx => 15,
            DnsQueryType::Txt => 16,
            DnsQueryType::Aaaa => 28,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            DnsQueryType::A => "A",
            DnsQueryType::Ns => "NS",
            DnsQueryType::Cname => "CNAME",
            DnsQueryType::Soa => "SOA",
            DnsQueryType::Mx => "MX",
            DnsQueryType::Txt => "TXT",
            DnsQueryType::Aaaa => "AAAA",
        }
    }

    /// The type from its name, any case.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::A, Self::Ns, Self::Cname, Self::Soa, Self::Mx, Self::Txt, Self::Aaaa]
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }
}

/// `UDP_CHECK`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct UdpCheck {
    /// `payload`: the datagram sent (empty: an empty datagram).
    pub payload: Vec<u8>,
    /// `require_reply`: a reply must come (matching the pattern, if it has bytes). Without it,
    /// only an ICMP port unreachable fails the check.
    pub require_reply: Option<ReplyPattern>,
    /// `min_reply_length` / `max_reply_length` (0 / 255).
    pub min_reply_length: usize,
    pub max_reply_length: usize,
}

/// `require_reply`'s pattern: bytes, `None` where the hex had `XX` (any byte).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReplyPattern(pub Vec<Option<u8>>);

impl ReplyPattern {
    /// Whether a reply starts with the pattern.
    pub fn matches(&self, reply: &[u8]) -> bool {
        reply.len() >= self.0.len() && self.0.iter().zip(reply).all(|(p, b)| p.is_none_or(|p| p == *b))
    }
}

/// `MISC_CHECK`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MiscCheck {
    /// `misc_path`: the command line.
    pub script: Script,
    /// `misc_timeout` (default: the check's `delay_loop`).
    pub timeout: Option<Duration>,
    /// `misc_dynamic`: exit 0 up, 1 down, 2–255 up with weight = status − 2.
    pub dynamic: bool,
    /// `user`: run as this user.
    pub user: Option<String>,
}

/// `FILE_CHECK`: the file holds an integer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileCheck {
    /// `track_file`'s file.
    pub path: PathBuf,
    /// `weight <mult>`: 0 means the file only says up (0) or down (anything else); otherwise
    /// the value times `mult` is added to the configured weight, and a result at or below 0
    /// (keepalived: `weight <= 0`) takes the real server down.
    pub multiplier: i32,
    /// `weight <mult> reverse`: the value is subtracted instead.
    pub reverse: bool,
    /// `dynamic`: the weight follows the file (otherwise only up/down).
    pub dynamic: bool,
}
