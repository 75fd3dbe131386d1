//! Command-line arguments of rvsd.

use std::path::PathBuf;

use clap::Parser;
use rvs_dataplane::AttachMode;

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
}

impl Args {
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
}
