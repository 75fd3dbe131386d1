//! The redundancy form (piranha's REDUNDANCY page): the VRRP instance that moves the VIPs
//! between this director and its peer, and connection sync. Changes are saved and applied at
//! rvsd's next start, as for a reload of the file (the running instance is not restarted under
//! the operator's feet).

use std::net::IpAddr;
use std::time::Duration;

use rvs_core::config::{Config, SyncDaemonSpec, VirtualAddress, VrrpInstance, VrrpState, VrrpVersion};

use super::fields::{Errors, Fields, Reader};
use crate::backend::Edit;

/// What the form says.
#[derive(Debug, Clone, PartialEq)]
pub struct RedundancyForm {
    /// `None`: no VRRP.
    pub vrrp: Option<VrrpForm>,
    /// `None`: no connection sync.
    pub sync: Option<(String, u8)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VrrpForm {
    pub interface: String,
    pub vrid: u8,
    pub priority: u8,
    pub state: VrrpState,
    pub version: VrrpVersion,
    pub advert_int: Duration,
    pub preempt: bool,
    pub peers: Vec<IpAddr>,
    pub addresses: Vec<VirtualAddress>,
}

fn interface(r: &mut Reader<'_>, name: &str) -> Option<String> {
    let text = r.fields.text(name);
    let ok = !text.is_empty() && text.len() < 16 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
    if !ok {
        r.errors.add(name, "an interface name such as eth0");
    }
    ok.then(|| text.to_owned())
}

/// `192.168.1.250/24 dev eth1 label eth1:1`, one per line.
fn addresses(r: &mut Reader<'_>) -> Vec<VirtualAddress> {
    let mut out = Vec::new();
    for line in r.fields.text("addresses").lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        let (addr, prefix) = first.split_once('/').unwrap_or((first, ""));
        let Ok(addr) = addr.parse::<IpAddr>() else {
            r.errors.add("addresses", format!("`{first}` is not an address (192.168.1.250/24)"));
            continue;
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() { Some(max) } else { prefix.parse::<u8>().ok().filter(|p| *p <= max) };
        let Some(prefix) = prefix else {
            r.errors.add("addresses", format!("`{first}`: the prefix length is 0 to {max}"));
            continue;
        };
        let mut vip = VirtualAddress::new(addr, prefix);
        while let Some(word) = words.next() {
            match (word, words.next()) {
                ("dev", Some(dev)) => vip.dev = Some(dev.to_owned()),
                ("label", Some(label)) => vip.label = Some(label.to_owned()),
                _ => r.errors.add("addresses", format!("`{line}`: after the address come only `dev IF` and `label IF:N`")),
            }
        }
        out.push(vip);
    }
    out
}

pub fn read(fields: &Fields) -> Result<RedundancyForm, Errors> {
    let mut r = Reader::new(fields);
    let vrrp = if fields.ticked("vrrp") {
        let interface = interface(&mut r, "interface");
        let vrid = r.number("vrid", 1, 255, None).and_then(|n| u8::try_from(n).ok());
        let priority = r.number("priority", 1, 255, Some(100)).and_then(|n| u8::try_from(n).ok());
        let state = r.choice("state", &[("backup", VrrpState::Backup), ("master", VrrpState::Master)]);
        let version = r.choice("version", &[("2", VrrpVersion::V2), ("3", VrrpVersion::V3)]);
        let advert_int = r.seconds("advert_int", 0.01, 255.0, Duration::from_secs(1));
        if version == Some(VrrpVersion::V2) && advert_int.is_some_and(|a| a.subsec_nanos() != 0) {
            r.errors.add("advert_int", "VRRP v2 advertises in whole seconds; choose version 3 for less");
        }
        let mut peers = Vec::new();
        for word in fields.text("peers").split([',', ' ', '\n']).map(str::trim).filter(|w| !w.is_empty()) {
            match word.parse::<IpAddr>() {
                Ok(a) => peers.push(a),
                Err(_) => r.errors.add("peers", format!("`{word}` is not an address")),
            }
        }
        let addresses = addresses(&mut r);
        if addresses.is_empty() {
            r.errors.add("addresses", "VRRP needs at least one virtual address to move");
        }
        match (interface, vrid, priority, state, version, advert_int) {
            (Some(interface), Some(vrid), Some(priority), Some(state), Some(version), Some(advert_int)) => Some(VrrpForm {
                interface,
                vrid,
                priority,
                state,
                version,
                advert_int,
                preempt: fields.ticked("preempt"),
                peers,
                addresses,
            }),
            _ => None,
        }
    } else {
        None
    };
    let sync = if fields.ticked("sync") {
        let interface = interface(&mut r, "sync_interface");
        let id = r.number("syncid", 0, 255, Some(0)).and_then(|n| u8::try_from(n).ok());
        interface.zip(id)
    } else {
        None
    };
    r.finish()?;
    Ok(RedundancyForm { vrrp, sync })
}

/// Puts the form in the configuration: the first VRRP instance is the one the form edits (its
/// other settings, such as authentication and scripts, stay); unticking VRRP removes that one.
pub fn set(form: RedundancyForm) -> Edit {
    Box::new(move |config: &mut Config| {
        match form.vrrp {
            Some(v) => {
                if config.vrrp.is_empty() {
                    config.vrrp.push(VrrpInstance::new("rvs".to_owned(), v.interface.clone(), v.vrid));
                }
                let i = &mut config.vrrp[0];
                i.interface = v.interface;
                i.virtual_router_id = v.vrid;
                i.priority = v.priority;
                i.state = v.state;
                i.version = v.version;
                i.advert_int = v.advert_int;
                i.preempt = v.preempt;
                i.unicast_peer = v.peers;
                i.virtual_ipaddress = v.addresses;
            }
            // The form's instance only: others in the file are not the form's to remove.
            None if !config.vrrp.is_empty() => {
                config.vrrp.remove(0);
            }
            None => {}
        }
        config.sync_daemon = form.sync.map(|(interface, syncid)| {
            let mut spec = config.sync_daemon.clone().unwrap_or_else(|| SyncDaemonSpec::new(interface.clone()));
            spec.interface = interface;
            spec.syncid = syncid;
            spec
        });
        Ok(())
    })
}

/// The form's values for a configuration.
pub fn values(config: &Config) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    if let Some(i) = config.vrrp.first() {
        v.push(("vrrp", "on".into()));
        v.push(("interface", i.interface.clone()));
        v.push(("vrid", i.virtual_router_id.to_string()));
        v.push(("priority", i.priority.to_string()));
        v.push(("state", if i.state == VrrpState::Master { "master" } else { "backup" }.into()));
        v.push(("version", if i.version == VrrpVersion::V3 { "3" } else { "2" }.into()));
        v.push(("advert_int", format!("{}", i.advert_int.as_secs_f64())));
        if i.preempt {
            v.push(("preempt", "on".into()));
        }
        v.push(("peers", i.unicast_peer.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")));
        let vips: Vec<String> = i
            .virtual_ipaddress
            .iter()
            .map(|a| {
                let mut s = format!("{}/{}", a.addr, a.prefix);
                if let Some(d) = &a.dev {
                    s.push_str(&format!(" dev {d}"));
                }
                if let Some(l) = &a.label {
                    s.push_str(&format!(" label {l}"));
                }
                s
            })
            .collect();
        v.push(("addresses", vips.join("\n")));
    } else {
        v.extend([("state", "backup".into()), ("version", "3".into()), ("priority", "100".into()), ("advert_int", "1".into()), ("preempt", "on".into())]);
    }
    if let Some(s) = &config.sync_daemon {
        v.push(("sync", "on".into()));
        v.push(("sync_interface", s.interface.clone()));
        v.push(("syncid", s.syncid.to_string()));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;


    #[test]
    fn the_form_round_trips_through_the_configuration() {
        let f = Fields::new([
            ("vrrp", "on"), ("interface", "eth0"), ("vrid", "51"), ("priority", "150"), ("state", "master"), ("version", "3"),
            ("advert_int", "0.5"), ("preempt", "on"), ("peers", "192.168.1.3, 192.168.1.4"),
            ("addresses", "192.168.1.250/24\n10.0.0.254/24 dev eth1 label eth1:1"), ("sync", "on"), ("sync_interface", "eth0"), ("syncid", "7"),
        ]);
        let form = read(&f).unwrap_or_else(|e| panic!("{e:?}"));
        let mut config = Config::default();
        set(form.clone())(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        let i = &config.vrrp[0];
        assert_eq!((i.virtual_router_id, i.priority, i.unicast_peer.len()), (51, 150, 2));
        assert_eq!(i.virtual_ipaddress[1].label.as_deref(), Some("eth1:1"));
        assert_eq!(config.sync_daemon.as_ref().map(|s| s.syncid), Some(7));
        assert_eq!(read(&Fields::new(values(&config))), Ok(form));
    }

    #[test]
    fn bad_fields_are_named_and_v2_wants_whole_seconds() {
        let f = Fields::new([("vrrp", "on"), ("interface", "eth 0"), ("vrid", "0"), ("version", "2"), ("state", "backup"), ("advert_int", "0.5"), ("peers", "x"), ("addresses", "10.0.0.1/40")]);
        let errors = read(&f).err().unwrap_or_default();
        for field in ["interface", "vrid", "advert_int", "peers", "addresses"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
    }
}
