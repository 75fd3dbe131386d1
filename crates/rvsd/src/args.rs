//! Command-line arguments of rvsd.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;
use rvs_dataplane::AttachMode;
use rvs_ha::address::InterfaceAddress;
use rvs_ha::garp::GarpPolicy;

use crate::nat_router::{NatRouterConfig, NatRouterDevice};

/// Default control socket, where rvsadm looks when `RVS_SOCKET` is not set.
pub const DEFAULT_SOCKET: &str = "/run/rvs/rvsd.sock";

/// rvsd: the rvs director daemon (XDP data plane + control socket).
#[derive(Debug, Parser)]
#[command(name = "rvsd", version, about)]
pub struct Args {
    /// Interface to run the director on (repeat for several).
    #[arg(short, long = "interface", value_name = "IF", required = true)]
    pub interfaces: Vec<String>,

    /// Control socket for rvsadm.
    #[arg(short, long, value_name = "PATH", default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,

    /// Instance name: maps are pinned under <bpffs>/rvs/<instance>/. Defaults to "default" for the
    /// default socket and to a name derived from the socket path otherwise.
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,

    /// XDP attach mode: auto (native on physical NICs, generic on veth), native or generic.
    #[arg(long, value_name = "MODE", default_value = "auto")]
    pub xdp_mode: AttachMode,

    /// Root of the BPF filesystem.
    #[arg(long, value_name = "PATH", default_value = "/sys/fs/bpf")]
    pub bpffs: PathBuf,

    /// Capacity of the connection table (entries).
    #[arg(long, value_name = "N", default_value_t = rvs_dataplane::abi::RVS_DEFAULT_CONN_MAX)]
    pub conn_max: u32,

    /// IPVS's expire_nodest_conn = 1: a packet of a connection whose real server was removed
    /// expires the connection at once and is scheduled anew (default: dropped until the
    /// connection expires).
    #[arg(long)]
    pub expire_nodest_conn: bool,

    /// IPVS's expire_quiescent_template = 1: a persistence template whose real server has
    /// weight 0 no longer holds (default: its clients stay until the template expires).
    #[arg(long)]
    pub expire_quiescent_template: bool,

    /// A rule of the mark classifier, in iptables' words: `--mark='-p tcp -d 192.168.1.250
    /// --dports 80,443 --set-mark 1'` (repeat for several; the first match wins). New
    /// connections it matches belong to the firewall-mark service (`-f`) of its mark. `rvs
    /// mark` changes the rules while rvsd runs.
    #[arg(long = "mark", value_name = "RULE", allow_hyphen_values = true)]
    pub marks: Vec<rvs_core::model::MarkRule>,

    /// Configuration file: keepalived.conf, piranha's lvs.cf or rvs's TOML (told apart by name
    /// and content). Its virtual and real servers are put in the table and health-checked;
    /// SIGHUP or `rvs reload` reads it again and applies only what changed.
    #[arg(short = 'f', long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Serve Prometheus metrics (node_exporter's IPVS names) on GET /metrics at this address,
    /// e.g. 127.0.0.1:9101. Off by default.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<std::net::SocketAddr>,

    /// Serve the web console at this address [default: 127.0.0.1:3636, and only once a password
    /// is set with `rvs passwd`]. Given explicitly, rvsd refuses to start without a password.
    #[arg(long, value_name = "ADDR:PORT", help_heading = "Web console")]
    pub console: Option<std::net::SocketAddr>,

    /// No web console, even with a password set.
    #[arg(long, conflicts_with = "console", help_heading = "Web console")]
    pub no_console: bool,

    /// The console's password file, written by `rvs passwd`.
    #[arg(long, value_name = "PATH", default_value = rvs_console::auth::passwd::DEFAULT_PATH, help_heading = "Web console")]
    pub console_password_file: PathBuf,

    /// Serve the console over HTTPS with this certificate chain (PEM); needs --console-tls-key.
    #[arg(long, value_name = "PEM", requires = "console_tls_key", help_heading = "Web console")]
    pub console_tls_cert: Option<PathBuf>,

    /// A host name the console answers to, besides IP addresses and localhost (repeat for
    /// several): requests naming another host are refused, as a DNS-rebinding page's would be.
    #[arg(long = "console-hostname", value_name = "NAME", help_heading = "Web console")]
    pub console_hostnames: Vec<String>,

    /// The private key (PEM) of --console-tls-cert.
    #[arg(long, value_name = "PEM", requires = "console_tls_cert", help_heading = "Web console")]
    pub console_tls_key: Option<PathBuf>,

    /// NAT router: the address the real servers of NAT services use as their gateway, added on
    /// --nat-router-interface while rvsd runs and announced with gratuitous ARP (piranha's
    /// nat_router and nat_nmask).
    #[arg(long, value_name = "ADDR/PREFIX", requires = "nat_router_interface", help_heading = "NAT router")]
    pub nat_router: Option<InterfaceAddress>,

    /// Interface for --nat-router; piranha's IF:ALIAS form (eth1:1) sets the address's label.
    #[arg(long, value_name = "IF", requires = "nat_router", help_heading = "NAT router")]
    pub nat_router_interface: Option<NatRouterDevice>,

    /// Gratuitous ARPs sent at once for an address rvsd takes [keepalived's
    /// vrrp_garp_master_repeat; default 5].
    #[arg(long, value_name = "N", help_heading = "Gratuitous ARP")]
    pub garp_master_repeat: Option<u32>,

    /// Delay of the second batch of gratuitous ARPs, 0 for none [vrrp_garp_master_delay;
    /// default 5].
    #[arg(long, value_name = "SECS", help_heading = "Gratuitous ARP")]
    pub garp_master_delay: Option<Seconds>,

    /// Period of the refresh gratuitous ARPs while the address is held, 0 for none
    /// [vrrp_garp_master_refresh; default 0].
    #[arg(long, value_name = "SECS", help_heading = "Gratuitous ARP")]
    pub garp_master_refresh: Option<Seconds>,

    /// Gratuitous ARPs in each refresh [vrrp_garp_master_refresh_repeat; default 1].
    #[arg(long, value_name = "N", help_heading = "Gratuitous ARP")]
    pub garp_master_refresh_repeat: Option<u32>,

    /// Least time between two gratuitous ARPs for an address [vrrp_garp_interval; default 0].
    #[arg(long, value_name = "SECS", help_heading = "Gratuitous ARP")]
    pub garp_interval: Option<Seconds>,
}

/// A non-negative number of seconds, with decimals (`0.001`), as keepalived's timers take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl FromStr for Seconds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a number of seconds (0 or more, such as 5 or 0.001)");
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(bad());
        }
        let secs: f64 = s.parse().map_err(|_| bad())?;
        Duration::try_from_secs_f64(secs).map(Seconds).map_err(|_| bad())
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// Where the console listens when no --console is given.
pub const DEFAULT_CONSOLE: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 3636);

impl Args {
    /// The console to serve, if any: given explicitly, or the default once a password is set.
    pub fn console(&self) -> Option<rvs_console::ConsoleConfig> {
        if self.no_console {
            return None;
        }
        let listen = match self.console {
            Some(addr) => addr,
            None if self.console_password_file.exists() => DEFAULT_CONSOLE,
            None => return None,
        };
        Some(rvs_console::ConsoleConfig {
            listen,
            tls: self.console_tls_cert.clone().zip(self.console_tls_key.clone()),
            password_file: self.console_password_file.clone(),
            hostnames: self.console_hostnames.clone(),
        })
    }

    /// The instance name in effect.
    pub fn instance(&self) -> String {
        if let Some(name) = &self.instance {
            return name.clone();
        }
        if self.socket.as_os_str() == DEFAULT_SOCKET {
            return "default".to_string();
        }
        instance_from_socket(&self.socket.to_string_lossy())
    }

    /// The gratuitous ARP policy: keepalived's defaults, changed by the --garp-* options.
    pub fn garp_policy(&self) -> GarpPolicy {
        let default = GarpPolicy::default();
        GarpPolicy {
            count: self.garp_master_repeat.unwrap_or(default.count),
            interval: self.garp_interval.map_or(default.interval, |s| s.0),
            delay: self.garp_master_delay.map_or(default.delay, |s| s.0),
            refresh: self.garp_master_refresh.map_or(default.refresh, |s| s.0),
            refresh_count: self.garp_master_refresh_repeat.unwrap_or(default.refresh_count),
        }
    }

    /// The NAT router asked for, if any (clap has made sure both options come together).
    pub fn nat_router(&self) -> Option<NatRouterConfig> {
        Some(NatRouterConfig {
            address: self.nat_router?,
            device: self.nat_router_interface.clone()?,
            policy: self.garp_policy(),
        })
    }
}

/// A file-name-safe instance name derived from a socket path.
fn instance_from_socket(path: &str) -> String {
    let name: String = path
        .trim_start_matches('/')
        .trim_end_matches(".sock")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
        .collect();
    if name.is_empty() { "default".to_string() } else { name }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::*;

    #[test]
    fn instance_names() {
        assert_eq!(instance_from_socket("/tmp/lab-a/rvsd.sock"), "tmp_lab-a_rvsd");
        assert_eq!(instance_from_socket("/"), "default");
        let a = Args::parse_from(["rvsd", "-i", "eth0"]);
        assert_eq!(a.instance(), "default");
        let b = Args::parse_from(["rvsd", "-i", "eth0", "--socket", "/run/x.sock", "--instance", "lab"]);
        assert_eq!(b.instance(), "lab");
    }

    #[test]
    fn interface_is_required() {
        assert!(Args::try_parse_from(["rvsd"]).is_err());
    }

    #[test]
    fn the_nat_router_needs_both_options() -> Result<(), clap::Error> {
        let none = Args::try_parse_from(["rvsd", "-i", "eth0"])?;
        assert_eq!(none.nat_router(), None);
        let both = Args::try_parse_from([
            "rvsd", "-i", "eth0", "-i", "eth1", "--nat-router", "10.0.0.254/16", "--nat-router-interface", "eth1:1",
        ])?;
        let config = both.nat_router().ok_or_else(|| clap::Error::new(ErrorKind::MissingRequiredArgument))?;
        assert_eq!(config.address.to_string(), "10.0.0.254/16");
        assert_eq!((config.device.interface(), config.device.label()), ("eth1", Some("eth1:1")));
        assert_eq!(config.policy, GarpPolicy::default());
        for alone in [["--nat-router", "10.0.0.254/16"], ["--nat-router-interface", "eth1"]] {
            let err = Args::try_parse_from(["rvsd", "-i", "eth0", alone[0], alone[1]]).err();
            assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::MissingRequiredArgument), "{alone:?}");
        }
        Ok(())
    }

    #[test]
    fn an_invalid_nat_router_address_is_refused_with_the_reason() {
        for (bad, reason) in [
            ("10.0.0.254", "ADDR/PREFIX"),
            ("10.0.0.300/16", "ADDR/PREFIX"),
            ("10.0.0.254/40", "ADDR/PREFIX"),
            ("10.0.0.0/16", "network address"),
            ("10.0.255.255/16", "broadcast address"),
            ("224.0.0.1/4", "multicast"),
        ] {
            let args = ["rvsd", "-i", "eth1", "--nat-router", bad, "--nat-router-interface", "eth1"];
            let err = Args::try_parse_from(args)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("--nat-router") && err.contains(reason), "{bad}: {err}");
        }
    }

    #[test]
    fn garp_options_change_keepalived_s_defaults() -> Result<(), clap::Error> {
        let args = Args::try_parse_from([
            "rvsd", "-i", "eth0", "--garp-master-repeat", "1", "--garp-master-delay", "0", //
            "--garp-master-refresh", "60", "--garp-master-refresh-repeat", "2", "--garp-interval", "0.001",
        ])?;
        let policy = args.garp_policy();
        assert_eq!(
            policy,
            GarpPolicy {
                count: 1,
                interval: Duration::from_millis(1),
                delay: Duration::ZERO,
                refresh: Duration::from_secs(60),
                refresh_count: 2,
            }
        );
        for bad in ["-1", "x", "", "1e3", "inf", "1.2.3"] {
            assert!(bad.parse::<Seconds>().is_err(), "{bad}");
        }
        assert_eq!("2.5".parse::<Seconds>(), Ok(Seconds(Duration::from_millis(2500))));
        Ok(())
    }
}
