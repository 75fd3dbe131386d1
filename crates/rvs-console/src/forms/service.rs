//! The virtual service form: protocol, address, port, scheduler, persistence; and the
//! service's enable, disable and delete buttons.

use rvs_core::config::{Config, VirtualServer};
use rvs_core::model::{Netmask, Protocol, SchedulerName, ServiceFlags, ServiceKey, ServiceSpec};

use super::fields::{Errors, Fields, Reader};
use super::{find_service, slug};
use crate::backend::{Edit, EditError};

/// The schedulers offered, as ipvsadm names them.
pub const SCHEDULERS: &[&str] = &["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"];

/// The protocols offered.
pub const PROTOCOLS: &[(&str, Protocol)] = &[("tcp", Protocol::Tcp), ("udp", Protocol::Udp), ("sctp", Protocol::Sctp)];

/// Longest persistence ipvsadm takes (`-p`), in seconds: a month.
const MAX_PERSISTENCE: u64 = 2_678_400;

/// What the service form says.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceForm {
    pub key: ServiceKey,
    pub scheduler: SchedulerName,
    /// Persistence timeout in seconds; `None` for none.
    pub persistence: Option<u32>,
}

/// Reads the form; each field that does not read is an error against it.
pub fn read(fields: &Fields) -> Result<ServiceForm, Errors> {
    let mut r = Reader::new(fields);
    let protocol = r.choice("protocol", PROTOCOLS);
    let addr = r.ip("address");
    let port = r.port("port", false);
    let scheduler = match SchedulerName::new(fields.text("scheduler")) {
        Ok(s) if SCHEDULERS.contains(&s.as_str()) => Some(s),
        _ => {
            r.errors.add("scheduler", format!("choose one of {}", SCHEDULERS.join(", ")));
            None
        }
    };
    let persistence = r.number("persistence", 1, MAX_PERSISTENCE, Some(0));
    r.finish()?;
    match (protocol, addr, port, scheduler, persistence) {
        (Some(protocol), Some(addr), Some(port), Some(scheduler), Some(p)) => Ok(ServiceForm {
            key: ServiceKey::Addr { protocol, addr, port },
            scheduler,
            persistence: u32::try_from(p).ok().filter(|p| *p > 0),
        }),
        _ => Err(Errors::default()),
    }
}

fn apply_form(spec: &mut ServiceSpec, form: &ServiceForm) {
    spec.key = form.key;
    spec.scheduler = form.scheduler.clone();
    spec.flags.persistent = form.persistence.is_some();
    spec.timeout = form.persistence.unwrap_or(0);
    let v4 = matches!(spec.netmask, Netmask::V4(_));
    if v4 != (form.key.af() == rvs_core::model::AddressFamily::Inet) {
        spec.netmask = Netmask::full(form.key.af());
    }
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
        config.virtual_servers.push(VirtualServer::new(spec, Vec::new()));
        Ok(())
    })
}

/// Changes the service `slug` to what the form says.
pub fn update(slug_text: String, form: ServiceForm) -> Edit {
    Box::new(move |config: &mut Config| {
        let old = find_service(config, &slug_text)?.service.key;
        if old != form.key {
            taken(config, &form.key)?;
        }
        let vs = find_service(config, &slug_text)?;
        apply_form(&mut vs.service, &form);
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
