//! The virtual service form: protocol, address and port, or a firewall mark (ipvsadm's `-f`,
//! piranha's "firewall mark"); scheduler, persistence and its netmask (ipvsadm's `-p` and
//! `-M`), the sorry server (keepalived's `sorry_server`, piranha's "fallback"); and the
//! service's enable, disable and delete buttons.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

use rvs_core::config::{Config, VirtualServer};
use rvs_core::model::{
    AddressFamily, DestSpec, ForwardMethod, Fwmark, Netmask, Protocol, SchedulerName, ServiceFlags, ServiceKey, ServiceSpec, TunnelSpec, Weight,
};

use super::fields::{Errors, Fields, Reader};
use super::{find_service, slug};
use crate::backend::{Edit, EditError};

/// The schedulers offered, as ipvsadm names them.
pub const SCHEDULERS: &[&str] = &["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"];

/// The protocols offered, and `fwm`: a firewall-mark service (IPv4; an IPv6 one is changed in
/// the file).
pub const PROTOCOLS: &[(&str, Option<Protocol>)] =
    &[("tcp", Some(Protocol::Tcp)), ("udp", Some(Protocol::Udp)), ("sctp", Some(Protocol::Sctp)), ("fwm", None)];

/// Longest persistence ipvsadm takes (`-p`), in seconds: a month.
const MAX_PERSISTENCE: u64 = 2_678_400;

/// What the service form says.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceForm {
    pub key: ServiceKey,
    pub scheduler: SchedulerName,
    /// Persistence timeout in seconds; `None` for none.
    pub persistence: Option<u32>,
    /// The persistence netmask; `None` for a whole address (/32, /128).
    pub netmask: Option<Netmask>,
    /// The sorry server's address and port (0: the service's); `None` for none.
    pub sorry: Option<(IpAddr, u16)>,
}

/// The persistence netmask field: empty, a dotted IPv4 mask (`255.255.255.0`) or a prefix
/// length (`24`), as ipvsadm's `-M` takes them; IPv6 services take a prefix length only.
fn netmask(r: &mut Reader<'_>, af: Option<AddressFamily>) -> Option<Option<Netmask>> {
    let text = r.fields.text("netmask");
    if text.is_empty() {
        return Some(None);
    }
    let prefix = text.strip_prefix('/').unwrap_or(text).parse::<u8>().ok();
    let mask = match (af, prefix, Ipv4Addr::from_str(text)) {
        // Without a family the address field says what is wrong.
        (None, _, _) => return Some(None),
        (Some(AddressFamily::Inet), Some(p), _) if p <= 32 => Some(Netmask::V4(Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(p)).unwrap_or(0)))),
        (Some(AddressFamily::Inet), None, Ok(m)) if u32::from(m).leading_ones() + u32::from(m).trailing_zeros() == 32 => Some(Netmask::V4(m)),
        (Some(AddressFamily::Inet6), Some(p), _) if p <= 128 => Some(Netmask::V6(p)),
        _ => None,
    };
    if mask.is_none() {
        let want = match af {
            Some(AddressFamily::Inet6) => "a prefix length from 0 to 128",
            _ => "a netmask such as 255.255.255.0, or a prefix length from 0 to 32",
        };
        r.errors.add("netmask", format!("`{text}` is not {want}"));
    }
    mask.map(Some)
}

/// The sorry server field: empty, `ADDRESS` or `ADDRESS:PORT` (`[IPv6]:PORT`).
fn sorry(r: &mut Reader<'_>, af: Option<AddressFamily>) -> Option<Option<(IpAddr, u16)>> {
    let text = r.fields.text("sorry");
    if text.is_empty() {
        return Some(None);
    }
    let bare = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    let parsed = SocketAddr::from_str(text).map(|a| (a.ip(), a.port())).or_else(|_| IpAddr::from_str(bare).map(|a| (a, 0)));
    match parsed {
        Ok((a, _)) if a.is_unspecified() || a.is_multicast() => r.errors.add("sorry", format!("{a} cannot be a sorry server")),
        Ok((a, _)) if af.is_some_and(|af| (af == AddressFamily::Inet) != a.is_ipv4()) => {
            r.errors.add("sorry", "the sorry server is of the service's address family");
        }
        Ok(found) => return Some(Some(found)),
        Err(_) => r.errors.add("sorry", format!("`{text}` is not an address, or an address:port")),
    }
    None
}

/// Reads the form; each field that does not read is an error against it.
pub fn read(fields: &Fields) -> Result<ServiceForm, Errors> {
    let mut r = Reader::new(fields);
    let protocol = r.choice("protocol", PROTOCOLS);
    // A firewall-mark service has a mark instead of an address and a port.
    let key = match protocol {
        Some(Some(protocol)) => {
            let (addr, port) = (r.ip("address"), r.port("port", false));
            addr.zip(port).map(|(addr, port)| ServiceKey::Addr { protocol, addr, port })
        }
        Some(None) => r
            .number("mark", 1, u64::from(u32::MAX), None)
            .and_then(|m| u32::try_from(m).ok())
            .and_then(Fwmark::new)
            .map(|mark| ServiceKey::Fwmark { af: AddressFamily::Inet, mark }),
        // No protocol: the address and port are still read, for their own errors.
        None => {
            let _ = (r.ip("address"), r.port("port", false));
            None
        }
    };
    let scheduler = match SchedulerName::new(fields.text("scheduler")) {
        Ok(s) if SCHEDULERS.contains(&s.as_str()) => Some(s),
        _ => {
            r.errors.add("scheduler", format!("choose one of {}", SCHEDULERS.join(", ")));
            None
        }
    };
    let persistence = r.number("persistence", 1, MAX_PERSISTENCE, Some(0));
    let af = key.map(|k| k.af());
    let netmask = netmask(&mut r, af);
    if matches!(netmask, Some(Some(_))) && persistence == Some(0) {
        r.errors.add("netmask", "the netmask groups a client's addresses for persistence: set a persistence timeout too");
    }
    let sorry = sorry(&mut r, af);
    r.finish()?;
    match (key, scheduler, persistence, netmask, sorry) {
        (Some(key), Some(scheduler), Some(p), Some(netmask), Some(sorry)) => Ok(ServiceForm {
            key,
            scheduler,
            persistence: u32::try_from(p).ok().filter(|p| *p > 0),
            netmask,
            sorry,
        }),
        _ => Err(Errors::default()),
    }
}

/// The sorry server the form asks for: the one there already if it is the same address and
/// port (its forwarding method and weight kept), else a new one forwarded as the service's
/// first real server is (DR when it has none), weight 1.
fn sorry_server(vs: &VirtualServer, form: &ServiceForm) -> Option<DestSpec> {
    let (addr, port) = form.sorry?;
    let port = match (port, form.key) {
        (0, ServiceKey::Addr { port, .. }) => port,
        (p, _) => p,
    };
    if let Some(old) = vs.sorry_server.as_ref().filter(|s| s.addr == addr && s.port == port) {
        return Some(*old);
    }
    let fwd = vs.sorry_server.as_ref().map(|s| s.fwd).or_else(|| vs.reals.first().map(|r| r.dest.fwd)).unwrap_or(ForwardMethod::Route);
    Some(DestSpec { addr, port, fwd, weight: Weight::new(1).unwrap_or_default(), u_threshold: 0, l_threshold: 0, tunnel: TunnelSpec::default() })
}

fn apply_form(spec: &mut ServiceSpec, form: &ServiceForm) {
    spec.key = form.key;
    spec.scheduler = form.scheduler.clone();
    spec.flags.persistent = form.persistence.is_some();
    spec.timeout = form.persistence.unwrap_or(0);
    spec.netmask = form.netmask.unwrap_or(Netmask::full(form.key.af()));
}

fn taken(config: &Config, key: &ServiceKey) -> Result<(), EditError> {
    if config.virtual_server(key).is_some() {
        return Err(EditError::field("address", format!("virtual service {key} exists already")));
    }
    Ok(())
}

/// Adds the service, without real servers.
pub fn add(form: ServiceForm) -> Edit {
    Box::new(move |config: &mut Config| {
        taken(config, &form.key)?;
        let mut spec = ServiceSpec {
            key: form.key,
            scheduler: form.scheduler.clone(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: Netmask::full(form.key.af()),
            pe: None,
        };
        apply_form(&mut spec, &form);
        let mut vs = VirtualServer::new(spec, Vec::new());
        vs.sorry_server = sorry_server(&vs, &form);
        config.virtual_servers.push(vs);
        Ok(())
    })
}

/// Changes the service `slug` to what the form says.
pub fn update(slug_text: String, form: ServiceForm) -> Edit {
    Box::new(move |config: &mut Config| {
        let old = find_service(config, &slug_text)?.service.key;
        if matches!(old, ServiceKey::Fwmark { af: AddressFamily::Inet6, .. }) {
            return Err(EditError::form("an IPv6 firewall-mark service is changed in the configuration file"));
        }
        if old != form.key {
            taken(config, &form.key)?;
        }
        let vs = find_service(config, &slug_text)?;
        apply_form(&mut vs.service, &form);
        vs.sorry_server = sorry_server(vs, &form);
        // Real servers follow the service's port where they had it (NAT keeps its own).
        if let (ServiceKey::Addr { port: old_port, .. }, ServiceKey::Addr { port, .. }) = (old, form.key) {
            for r in &mut vs.reals {
                if r.dest.port == old_port && r.dest.fwd != rvs_core::model::ForwardMethod::Masq {
                    r.dest.port = port;
                }
            }
        }
        Ok(())
    })
}

/// Puts the service in force, or takes it out while keeping it in the file.
pub fn set_enabled(slug_text: String, enabled: bool) -> Edit {
    Box::new(move |config: &mut Config| {
        find_service(config, &slug_text)?.enabled = enabled;
        Ok(())
    })
}

/// Deletes the service and its real servers.
pub fn delete(slug_text: String) -> Edit {
    Box::new(move |config: &mut Config| {
        find_service(config, &slug_text)?;
        config.virtual_servers.retain(|vs| slug::service(&vs.service.key) != slug_text);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;


    fn form() -> ServiceForm {
        let f = Fields::new([("protocol", "tcp"), ("address", "10.0.0.1"), ("port", "80"), ("scheduler", "wrr"), ("persistence", "")]);
        read(&f).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn with(pairs: &[(&str, &str)]) -> Result<ServiceForm, Errors> {
        let mut all = vec![("protocol", "tcp"), ("address", "10.0.0.1"), ("port", "80"), ("scheduler", "wrr"), ("persistence", "300")];
        all.extend_from_slice(pairs);
        read(&Fields::new(all))
    }

    #[test]
    fn a_firewall_mark_service_has_a_mark_instead_of_an_address_and_port() {
        let fwm = |mark: &str| read(&Fields::new([("protocol", "fwm"), ("mark", mark), ("address", ""), ("port", ""), ("scheduler", "rr")]));
        let form = fwm("7").unwrap_or_else(|e| panic!("{e:?}"));
        let key = ServiceKey::Fwmark { af: AddressFamily::Inet, mark: Fwmark::new(7).unwrap_or_else(|| panic!("mark")) };
        assert_eq!(form.key, key);
        for bad in ["", "0", "4294967296", "x"] {
            let errors = fwm(bad).err().unwrap_or_default();
            assert!(errors.get("mark").is_some() && errors.get("address").is_none() && errors.get("port").is_none(), "{bad}: {errors:?}");
        }
        let mut config = Config::default();
        add(form)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(config.virtual_servers[0].service.key, key);
        // An address service becomes a mark service and back; its slug follows.
        update("fwm-7-inet".into(), self::form())(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(slug::service(&config.virtual_servers[0].service.key), "tcp-10.0.0.1-80");
        // An IPv6 one is left to the file: the form would make it IPv4.
        config.virtual_servers[0].service.key = ServiceKey::Fwmark { af: AddressFamily::Inet6, mark: Fwmark::new(7).unwrap_or_else(|| panic!("mark")) };
        assert!(update("fwm-7-inet6".into(), fwm("7").unwrap_or_else(|e| panic!("{e:?}")))(&mut config).is_err());
    }

    #[test]
    fn persistence_netmasks_are_dotted_or_prefix_lengths_as_ipvsadm_takes_them() {
        let mask = |text: &str| with(&[("netmask", text)]).map(|f| f.netmask);
        assert_eq!(mask(""), Ok(None));
        assert_eq!(mask("255.255.255.0"), Ok(Some(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)))));
        assert_eq!(mask("24"), Ok(Some(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)))));
        assert_eq!(mask("/16"), Ok(Some(Netmask::V4(Ipv4Addr::new(255, 255, 0, 0)))));
        assert_eq!(mask("0"), Ok(Some(Netmask::V4(Ipv4Addr::UNSPECIFIED))));
        for bad in ["255.0.255.0", "33", "mask", "ffff::"] {
            assert!(mask(bad).err().is_some_and(|e| e.get("netmask").is_some()), "{bad}");
        }
        let alone = read(&Fields::new([("protocol", "tcp"), ("address", "10.0.0.1"), ("port", "80"), ("scheduler", "wrr"), ("netmask", "24")]));
        assert!(alone.err().is_some_and(|e| e.get("netmask").is_some_and(|m| m.contains("persistence"))), "a netmask without persistence");
        let v6 = |text: &str| with(&[("address", "2001:db8::1"), ("netmask", text)]).map(|f| f.netmask);
        assert_eq!(v6("64"), Ok(Some(Netmask::V6(64))));
        assert!(v6("255.255.255.0").is_err() && v6("129").is_err());

        let mut config = Config::default();
        add(with(&[("netmask", "24")]).unwrap_or_else(|e| panic!("{e:?}")))(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(config.virtual_servers[0].service.netmask, Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)));
        update("tcp-10.0.0.1-80".into(), with(&[]).unwrap_or_else(|e| panic!("{e:?}")))(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(config.virtual_servers[0].service.netmask, Netmask::full(AddressFamily::Inet), "an empty field is the whole address");
    }

    #[test]
    fn the_sorry_server_is_added_changed_kept_and_removed() {
        let sorry = |text: &str| with(&[("sorry", text)]);
        assert_eq!(sorry("").map(|f| f.sorry), Ok(None));
        assert_eq!(sorry("10.0.0.9").map(|f| f.sorry), Ok(Some((IpAddr::from([10, 0, 0, 9]), 0))));
        assert_eq!(sorry("10.0.0.9:8080").map(|f| f.sorry), Ok(Some((IpAddr::from([10, 0, 0, 9]), 8080))));
        for bad in ["0.0.0.0", "224.0.0.1", "2001:db8::9", "[2001:db8::9]:80", "sorry", "10.0.0.9:99999"] {
            assert!(sorry(bad).err().is_some_and(|e| e.get("sorry").is_some()), "{bad}");
        }

        let mut config = Config::default();
        add(sorry("10.0.0.9").unwrap_or_else(|e| panic!("{e:?}")))(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        let s = config.virtual_servers[0].sorry_server.unwrap_or_else(|| panic!("no sorry server"));
        assert_eq!((s.addr, s.port, s.fwd, s.weight.get()), (IpAddr::from([10, 0, 0, 9]), 80, ForwardMethod::Route, 1), "the service's port, DR");
        // Set by hand to NAT, weight 3: saving the same address keeps them.
        let vs = &mut config.virtual_servers[0];
        if let Some(s) = vs.sorry_server.as_mut() {
            s.fwd = ForwardMethod::Masq;
            s.weight = Weight::new(3).unwrap_or_default();
        }
        update("tcp-10.0.0.1-80".into(), sorry("10.0.0.9:80").unwrap_or_else(|e| panic!("{e:?}")))(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        let s = config.virtual_servers[0].sorry_server.unwrap_or_else(|| panic!("no sorry server"));
        assert_eq!((s.fwd, s.weight.get()), (ForwardMethod::Masq, 3));
        update("tcp-10.0.0.1-80".into(), sorry("10.0.0.8:81").unwrap_or_else(|e| panic!("{e:?}")))(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        let s = config.virtual_servers[0].sorry_server.unwrap_or_else(|| panic!("no sorry server"));
        assert_eq!((s.addr, s.port, s.fwd, s.weight.get()), (IpAddr::from([10, 0, 0, 8]), 81, ForwardMethod::Masq, 1), "a new one keeps the method");
        update("tcp-10.0.0.1-80".into(), sorry("").unwrap_or_else(|e| panic!("{e:?}")))(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(config.virtual_servers[0].sorry_server.is_none());
    }

    #[test]
    fn a_good_form_reads_and_adds_once() {
        let mut config = Config::default();
        let form = form();
        assert_eq!(form.persistence, None);
        add(form.clone())(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(config.virtual_servers.len(), 1);
        assert_eq!(config.virtual_servers[0].service.scheduler.as_str(), "wrr");
        let again = add(form)(&mut config);
        assert_eq!(again.err().and_then(|e| e.field), Some("address"));
    }

    #[test]
    fn bad_fields_are_each_named() {
        let f = Fields::new([("protocol", "icmp"), ("address", "nope"), ("port", "0"), ("scheduler", "best"), ("persistence", "-1")]);
        let errors = read(&f).err().unwrap_or_default();
        for field in ["protocol", "address", "port", "scheduler", "persistence"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
    }

    #[test]
    fn update_disable_and_delete_find_the_service_by_slug() {
        let mut config = Config::default();
        add(form())(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        let mut changed = form();
        changed.persistence = Some(300);
        update("tcp-10.0.0.1-80".into(), changed)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        let spec = &config.virtual_servers[0].service;
        assert!(spec.flags.persistent && spec.timeout == 300);
        set_enabled("tcp-10.0.0.1-80".into(), false)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!config.virtual_servers[0].enabled);
        assert!(config.in_force().virtual_servers.is_empty());
        assert!(delete("tcp-10.0.0.9-80".into())(&mut config).is_err());
        delete("tcp-10.0.0.1-80".into())(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(config.virtual_servers.is_empty());
    }
}
