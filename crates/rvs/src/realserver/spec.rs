//! What the user asked `rvs realserver` for: the VIPs, the forwarding mode, the tunnel and the
//! interface, parsed into values that cannot be wrong (a GUE tunnel always has a port, a VIP is
//! never 0.0.0.0 or a loopback address, an interface name fits the kernel's limit).

use std::{fmt, net::Ipv4Addr, num::NonZeroU16, str::FromStr};

use serde::{Deserialize, Serialize};

/// One virtual IP: a unicast IPv4 address a host may own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Ipv4Addr", into = "Ipv4Addr")]
pub struct Vip(Ipv4Addr);

impl Vip {
    /// The address.
    pub fn addr(self) -> Ipv4Addr {
        self.0
    }
}

impl TryFrom<Ipv4Addr> for Vip {
    type Error = String;

    fn try_from(addr: Ipv4Addr) -> Result<Self, Self::Error> {
        let why = if addr.is_unspecified() {
            "the unspecified address"
        } else if addr.is_loopback() {
            "a loopback address"
        } else if addr.is_multicast() {
            "a multicast address"
        } else if addr.is_broadcast() {
            "the broadcast address"
        } else {
            return Ok(Vip(addr));
        };
        Err(format!("{addr} cannot be a VIP: it is {why}"))
    }
}

impl From<Vip> for Ipv4Addr {
    fn from(vip: Vip) -> Self {
        vip.0
    }
}

impl FromStr for Vip {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `192.168.0.100/32` is accepted: the seeds write VIPs that way.
        let bare = s.trim().strip_suffix("/32").unwrap_or(s.trim());
        let addr: Ipv4Addr = bare.parse().map_err(|_| {
            format!("{s:?} is not an IPv4 address (a VIP is written like 192.168.0.100)")
        })?;
        Vip::try_from(addr)
    }
}

impl fmt::Display for Vip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A network interface name as the kernel accepts it: 1 to 15 bytes, no `/`, no whitespace,
/// not `.` or `..`, and not `all` or `default` (those are sysctl scopes, not interfaces).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IfName(String);

impl IfName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `lo`.
    pub fn loopback() -> Self {
        IfName("lo".to_owned())
    }
}

impl TryFrom<String> for IfName {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        let fits = !name.is_empty() && name.len() < 16;
        let clean =
            !name.contains('/') && !name.chars().any(|c| c.is_whitespace() || c.is_control());
        if !fits || !clean || name == "." || name == ".." {
            return Err(format!(
                "{name:?} is not an interface name (1 to 15 characters, no '/' or spaces)"
            ));
        }
        if name == "all" || name == "default" {
            return Err(format!("{name:?} is a sysctl scope, not an interface"));
        }
        Ok(IfName(name))
    }
}

impl From<IfName> for String {
    fn from(name: IfName) -> Self {
        name.0
    }
}

impl FromStr for IfName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IfName::try_from(s.to_owned())
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `--mode`: how the director forwards to this real server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ModeArg {
    /// Direct routing (`ipvsadm -g`): frames to this host's MAC, VIP on `lo`.
    Dr,
    /// IP tunnelling (`ipvsadm -i`): packets encapsulated to this host's address.
    Tun,
}

/// `--tun-type`: the encapsulation the director uses (`ipvsadm --tun-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TunTypeArg {
    /// IP in IP (protocol 4), the default.
    Ipip,
    /// Generic UDP Encapsulation to `--tun-port`.
    Gue,
    /// GRE without key, checksum or sequence number.
    Gre,
}

/// `--decap`: who strips the tunnel headers in TUN mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DecapChoice {
    /// The kernel's tunnel device when the kernel has the module, else rvs's XDP program.
    #[default]
    Auto,
    /// The kernel's tunnel device (`tunl0`, `gre0`, a fou port); fails if the kernel lacks it.
    Kernel,
    /// rvs's XDP decapsulation program on the interface, VIPs on `lo`.
    Xdp,
}

impl DecapChoice {
    fn name(self) -> &'static str {
        match self {
            DecapChoice::Auto => "auto",
            DecapChoice::Kernel => "kernel",
            DecapChoice::Xdp => "xdp",
        }
    }
}

/// The tunnel of TUN mode, with what each kind needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Tunnel {
    /// IP in IP.
    Ipip,
    /// GUE on a UDP port.
    Gue {
        /// The destination port the director sends to.
        port: NonZeroU16,
    },
    /// GRE.
    Gre,
}

impl Tunnel {
    /// Its `--tun-type` name.
    pub fn name(self) -> &'static str {
        match self {
            Tunnel::Ipip => "ipip",
            Tunnel::Gue { .. } => "gue",
            Tunnel::Gre => "gre",
        }
    }
}

/// How packets for the VIPs reach this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Forwarding {
    /// Direct routing.
    Dr,
    /// IP tunnelling, and who decapsulates.
    Tun {
        /// The encapsulation.
        tunnel: Tunnel,
        /// Kernel device or XDP program, as asked.
        decap: DecapChoice,
    },
}

/// A complete request: what `up`, `down` and `status` act on. Two specs are the same
/// configuration when they are equal (the VIPs are kept sorted and without duplicates).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// The VIPs, sorted, at least one.
    pub vips: Vec<Vip>,
    /// DR or TUN.
    pub forwarding: Forwarding,
    /// The interface the director's packets arrive on.
    pub interface: IfName,
}

impl Spec {
    /// Builds a spec from the command line's pieces; `interface` is the one given or found.
    pub fn new(
        vips: &[Vip],
        mode: ModeArg,
        tun_type: Option<TunTypeArg>,
        tun_port: Option<u16>,
        decap: Option<DecapChoice>,
        interface: IfName,
    ) -> Result<Spec, String> {
        if interface == IfName::loopback() {
            return Err(
                "--interface lo: name the interface the director's packets arrive on (eth0, …)"
                    .into(),
            );
        }
        let mut sorted = vips.to_vec();
        sorted.sort();
        sorted.dedup();
        if sorted.is_empty() {
            return Err("no VIP given (--vip 192.168.0.100[,…])".into());
        }
        let forwarding = match mode {
            ModeArg::Dr => {
                if tun_type.is_some() || tun_port.is_some() || decap.is_some() {
                    return Err(
                        "--tun-type, --tun-port and --decap only apply to --mode tun".into(),
                    );
                }
                Forwarding::Dr
            }
            ModeArg::Tun => {
                let tunnel = match (tun_type.unwrap_or(TunTypeArg::Ipip), tun_port) {
                    (TunTypeArg::Ipip, None) => Tunnel::Ipip,
                    (TunTypeArg::Gre, None) => Tunnel::Gre,
                    (TunTypeArg::Gue, Some(port)) => Tunnel::Gue {
                        port: NonZeroU16::new(port).ok_or("--tun-port must not be 0")?,
                    },
                    (TunTypeArg::Gue, None) => {
                        return Err(
                            "--tun-type gue needs --tun-port (the UDP port the director sends to)"
                                .into(),
                        );
                    }
                    (other, Some(_)) => {
                        return Err(format!(
                            "--tun-port only applies to --tun-type gue, not {}",
                            tun_name(other)
                        ));
                    }
                };
                Forwarding::Tun {
                    tunnel,
                    decap: decap.unwrap_or_default(),
                }
            }
        };
        Ok(Spec {
            vips: sorted,
            forwarding,
            interface,
        })
    }

    /// Whether this is TUN mode.
    pub fn is_tun(&self) -> bool {
        matches!(self.forwarding, Forwarding::Tun { .. })
    }

    /// The arguments that give this spec back (for the systemd unit and for messages).
    pub fn to_args(&self) -> Vec<String> {
        let vips: Vec<String> = self.vips.iter().map(ToString::to_string).collect();
        let mut args = vec!["--vip".to_owned(), vips.join(",")];
        match self.forwarding {
            Forwarding::Dr => args.extend(["--mode".to_owned(), "dr".to_owned()]),
            Forwarding::Tun { tunnel, decap } => {
                args.extend(["--mode", "tun", "--tun-type", tunnel.name()].map(String::from));
                if let Tunnel::Gue { port } = tunnel {
                    args.extend(["--tun-port".to_owned(), port.to_string()]);
                }
                if decap != DecapChoice::Auto {
                    args.extend(["--decap".to_owned(), decap.name().to_owned()]);
                }
            }
        }
        args.extend(["--interface".to_owned(), self.interface.to_string()]);
        args
    }

    /// `rvs realserver <verb> <args>`, for messages.
    pub fn command_line(&self, verb: &str) -> String {
        format!("rvs realserver {verb} {}", self.to_args().join(" "))
    }
}

fn tun_name(t: TunTypeArg) -> &'static str {
    match t {
        TunTypeArg::Ipip => "ipip",
        TunTypeArg::Gue => "gue",
        TunTypeArg::Gre => "gre",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(s: &str) -> Vip {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn eth0() -> IfName {
        IfName::try_from("eth0".to_owned()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn vips_are_unicast_addresses() {
        assert_eq!(vip("192.168.0.100").addr(), Ipv4Addr::new(192, 168, 0, 100));
        assert_eq!(
            vip("192.168.0.100/32").addr(),
            Ipv4Addr::new(192, 168, 0, 100)
        );
        for bad in [
            "0.0.0.0",
            "127.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "10.0.0.1/24",
            "x",
            "",
        ] {
            assert!(bad.parse::<Vip>().is_err(), "{bad:?} accepted");
        }
        let err = "127.0.0.5".parse::<Vip>().unwrap_err();
        assert!(err.contains("loopback"), "{err}");
    }

    #[test]
    fn interface_names_follow_the_kernels_rules() {
        for good in ["eth0", "lo", "eth0.100", "ens160", "a23456789012345"] {
            assert!(good.parse::<IfName>().is_ok(), "{good:?} refused");
        }
        for bad in [
            "",
            "a234567890123456",
            "a/b",
            "a b",
            ".",
            "..",
            "all",
            "default",
        ] {
            assert!(bad.parse::<IfName>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn vips_are_sorted_and_deduplicated() {
        let spec = Spec::new(
            &[vip("10.0.0.9"), vip("10.0.0.2"), vip("10.0.0.9")],
            ModeArg::Dr,
            None,
            None,
            None,
            eth0(),
        )
        .unwrap();
        assert_eq!(spec.vips, [vip("10.0.0.2"), vip("10.0.0.9")]);
        assert!(Spec::new(&[], ModeArg::Dr, None, None, None, eth0()).is_err());
        let err = Spec::new(
            &[vip("10.0.0.9")],
            ModeArg::Dr,
            None,
            None,
            None,
            IfName::loopback(),
        )
        .unwrap_err();
        assert!(err.contains("--interface lo"), "{err}");
    }

    #[test]
    fn tunnel_options_are_checked() {
        let v = [vip("10.0.0.9")];
        let err =
            Spec::new(&v, ModeArg::Dr, Some(TunTypeArg::Gre), None, None, eth0()).unwrap_err();
        assert!(err.contains("--mode tun"), "{err}");
        let err =
            Spec::new(&v, ModeArg::Tun, Some(TunTypeArg::Gue), None, None, eth0()).unwrap_err();
        assert!(err.contains("--tun-port"), "{err}");
        let err = Spec::new(&v, ModeArg::Tun, None, Some(5555), None, eth0()).unwrap_err();
        assert!(err.contains("not ipip"), "{err}");
        assert!(
            Spec::new(
                &v,
                ModeArg::Tun,
                Some(TunTypeArg::Gue),
                Some(0),
                None,
                eth0()
            )
            .is_err()
        );
        let spec = Spec::new(&v, ModeArg::Tun, None, None, None, eth0()).unwrap();
        assert_eq!(
            spec.forwarding,
            Forwarding::Tun {
                tunnel: Tunnel::Ipip,
                decap: DecapChoice::Auto
            }
        );
    }

    #[test]
    fn specs_render_back_to_their_arguments() {
        let dr = Spec::new(
            &[vip("10.0.0.9"), vip("10.0.0.2")],
            ModeArg::Dr,
            None,
            None,
            None,
            eth0(),
        )
        .unwrap();
        assert_eq!(
            dr.command_line("up"),
            "rvs realserver up --vip 10.0.0.2,10.0.0.9 --mode dr --interface eth0"
        );
        let gue = Spec::new(
            &[vip("10.0.0.9")],
            ModeArg::Tun,
            Some(TunTypeArg::Gue),
            Some(6080),
            Some(DecapChoice::Xdp),
            eth0(),
        )
        .unwrap();
        assert_eq!(
            gue.to_args().join(" "),
            "--vip 10.0.0.9 --mode tun --tun-type gue --tun-port 6080 --decap xdp --interface eth0"
        );
    }

    #[test]
    fn specs_survive_json() {
        let spec = Spec::new(
            &[vip("10.0.0.9")],
            ModeArg::Tun,
            Some(TunTypeArg::Gue),
            Some(6080),
            None,
            eth0(),
        )
        .unwrap();
        let text = serde_json::to_string(&spec).unwrap();
        let back: Spec = serde_json::from_str(&text).unwrap();
        assert_eq!(back, spec);
        let bad = text.replace("10.0.0.9", "127.0.0.1");
        assert!(serde_json::from_str::<Spec>(&bad).is_err());
    }
}
