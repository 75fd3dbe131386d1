//! The real server forms: add one (address, port, weight, forwarding method), change its
//! weight, quiesce it (weight 0: its connections finish, no new ones come), have a failed check
//! set it to weight 0 rather than take it out (keepalived's `inhibit_on_failure`), enable,
//! disable or delete it.

use rvs_core::config::{Config, RealServer};
use rvs_core::model::{DestSpec, ForwardMethod, ServiceKey, TunnelSpec, Weight};

use super::fields::{Errors, Fields, Reader};
use super::{find_service, slug};
use crate::backend::{Edit, EditError};

/// The forwarding methods offered, as lvs.cf's `network` and ipvsadm's flags name them.
pub const FORWARDS: &[(&str, ForwardMethod)] =
    &[("dr", ForwardMethod::Route), ("nat", ForwardMethod::Masq), ("tun", ForwardMethod::Tunnel)];

/// The form's name of a forwarding method.
pub fn forward_name(fwd: ForwardMethod) -> &'static str {
    FORWARDS.iter().find(|(_, f)| *f == fwd).map_or("dr", |(n, _)| n)
}

/// What the add form says.
#[derive(Debug, Clone, PartialEq)]
pub struct RealForm {
    pub addr: std::net::IpAddr,
    /// 0: the service's port.
    pub port: u16,
    pub weight: Weight,
    pub fwd: ForwardMethod,
}

fn weight(r: &mut Reader<'_>) -> Option<Weight> {
    r.number("weight", 0, u64::from(Weight::MAX), Some(1)).and_then(|w| u32::try_from(w).ok()).and_then(Weight::new)
}

pub fn read(fields: &Fields) -> Result<RealForm, Errors> {
    let mut r = Reader::new(fields);
    let addr = r.ip("address");
    let port = r.port("port", true);
    let weight = weight(&mut r);
    let fwd = r.choice("forward", FORWARDS);
    r.finish()?;
    match (addr, port, weight, fwd) {
        (Some(addr), Some(port), Some(weight), Some(fwd)) => Ok(RealForm { addr, port, weight, fwd }),
        _ => Err(Errors::default()),
    }
}

/// Reads the weight form.
pub fn read_weight(fields: &Fields) -> Result<Weight, Errors> {
    let mut r = Reader::new(fields);
    let w = weight(&mut r);
    r.finish()?;
    w.ok_or_default()
}

trait OkOrDefault<T> {
    fn ok_or_default(self) -> Result<T, Errors>;
}

impl<T> OkOrDefault<T> for Option<T> {
    fn ok_or_default(self) -> Result<T, Errors> {
        self.ok_or_else(Errors::default)
    }
}

/// Adds the real server to service `service`; it gets the checks the service's other real
/// servers share, so that a server added to a checked service is checked too.
pub fn add(service: String, form: RealForm) -> Edit {
    Box::new(move |config: &mut Config| {
        let vs = find_service(config, &service)?;
        let port = match (form.port, vs.service.key) {
            (0, ServiceKey::Addr { port, .. }) => port,
            (p, _) => p,
        };
        let dest = DestSpec {
            addr: form.addr,
            port,
            fwd: form.fwd,
            weight: form.weight,
            u_threshold: 0,
            l_threshold: 0,
            tunnel: TunnelSpec::default(),
        };
        if vs.real(dest.dest_addr()).is_some() {
            return Err(EditError::field("address", format!("{} is a real server of this service already", slug::real(form.addr, port).replace('-', ":"))));
        }
        if (form.addr.is_ipv4() != (vs.service.key.af() == rvs_core::model::AddressFamily::Inet)) && form.fwd != ForwardMethod::Tunnel {
            return Err(EditError::field("address", "a real server is of the service's address family, unless tunnelled"));
        }
        // The others' checks, aimed at the new server: a check that named another server's
        // address would report that server's health as this one's.
        let mut checks = vs.reals.first().map(|r| r.checks.clone()).unwrap_or_default();
        for c in &mut checks {
            c.target.ip = None;
        }
        vs.reals.push(RealServer { checks, ..RealServer::new(dest) });
        Ok(())
    })
}

/// The real server `real` of service `service`.
fn find<'a>(config: &'a mut Config, service: &str, real: &str) -> Result<&'a mut RealServer, EditError> {
    find_service(config, service)?
        .reals
        .iter_mut()
        .find(|r| slug::real(r.dest.addr, r.dest.port) == real)
        .ok_or_else(|| EditError::form("this real server is no longer in the configuration (changed meanwhile?)"))
}

pub fn set_weight(service: String, real: String, weight: Weight) -> Edit {
    Box::new(move |config: &mut Config| {
        find(config, &service, &real)?.dest.weight = weight;
        Ok(())
    })
}

/// `inhibit_on_failure`: a failed check sets the real server's weight to 0 (its connections go
/// on, no new ones come) instead of taking it out of the table.
pub fn set_inhibit(service: String, real: String, inhibit: bool) -> Edit {
    Box::new(move |config: &mut Config| {
        find(config, &service, &real)?.inhibit_on_failure = inhibit;
        Ok(())
    })
}

pub fn set_enabled(service: String, real: String, enabled: bool) -> Edit {
    Box::new(move |config: &mut Config| {
        find(config, &service, &real)?.enabled = enabled;
        Ok(())
    })
}

pub fn delete(service: String, real: String) -> Edit {
    Box::new(move |config: &mut Config| {
        find(config, &service, &real)?;
        find_service(config, &service)?.reals.retain(|r| slug::real(r.dest.addr, r.dest.port) != real);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::service;


    fn config() -> Config {
        let mut config = Config::default();
        let f = Fields::new([("protocol", "tcp"), ("address", "10.0.0.1"), ("port", "80"), ("scheduler", "wlc")]);
        let form = service::read(&f).unwrap_or_else(|e| panic!("{e:?}"));
        service::add(form)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        config
    }

    #[test]
    fn add_quiesce_inhibit_disable_delete() {
        let mut config = config();
        let f = Fields::new([("address", "10.0.1.2"), ("port", ""), ("weight", "3"), ("forward", "nat")]);
        let form = read(&f).unwrap_or_else(|e| panic!("{e:?}"));
        add("tcp-10.0.0.1-80".into(), form.clone())(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        let r = &config.virtual_servers[0].reals[0];
        assert_eq!((r.dest.port, r.dest.weight.get(), r.dest.fwd), (80, 3, ForwardMethod::Masq), "the service's port");
        assert_eq!(add("tcp-10.0.0.1-80".into(), form)(&mut config).err().and_then(|e| e.field), Some("address"));
        let w = Weight::new(0).unwrap_or_default();
        set_weight("tcp-10.0.0.1-80".into(), "10.0.1.2-80".into(), w)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(config.virtual_servers[0].reals[0].dest.weight.get(), 0);
        set_inhibit("tcp-10.0.0.1-80".into(), "10.0.1.2-80".into(), true)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(config.virtual_servers[0].reals[0].inhibit_on_failure);
        set_inhibit("tcp-10.0.0.1-80".into(), "10.0.1.2-80".into(), false)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!config.virtual_servers[0].reals[0].inhibit_on_failure);
        assert!(set_inhibit("tcp-10.0.0.1-80".into(), "10.0.1.9-80".into(), true)(&mut config).is_err(), "no such real server");
        set_enabled("tcp-10.0.0.1-80".into(), "10.0.1.2-80".into(), false)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(config.in_force().virtual_servers[0].reals.is_empty());
        delete("tcp-10.0.0.1-80".into(), "10.0.1.2-80".into())(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(config.virtual_servers[0].reals.is_empty());
    }

    #[test]
    fn a_new_real_server_gets_the_services_checks() {
        let mut config = config();
        let check = rvs_core::config::Check {
            kind: rvs_core::config::CheckKind::Tcp,
            timing: rvs_core::config::CheckTiming::keepalived_default(&rvs_core::config::CheckKind::Tcp),
            target: Default::default(),
        };
        for (addr, checks) in [("10.0.1.2", vec![check.clone()]), ("10.0.1.3", vec![])] {
            let f = Fields::new([("address", addr), ("weight", "1"), ("forward", "dr")]);
            let form = read(&f).unwrap_or_else(|e| panic!("{e:?}"));
            add("tcp-10.0.0.1-80".into(), form)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
            config.virtual_servers[0].reals[0].checks = checks;
        }
        assert_eq!(config.virtual_servers[0].reals[1].checks, vec![check]);
    }

    #[test]
    fn bad_weight_and_family() {
        let f = Fields::new([("address", "10.0.1.2"), ("weight", "-3"), ("forward", "bridge")]);
        let errors = read(&f).err().unwrap_or_default();
        assert!(errors.get("weight").is_some() && errors.get("forward").is_some(), "{errors:?}");
        let mut config = config();
        let f = Fields::new([("address", "2001:db8::2"), ("weight", "1"), ("forward", "dr")]);
        let form = read(&f).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(add("tcp-10.0.0.1-80".into(), form)(&mut config).is_err());
    }
}
