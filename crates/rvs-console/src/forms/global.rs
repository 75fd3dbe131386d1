//! The global settings form (piranha's GLOBAL SETTINGS page): the director's name, the
//! forwarding method of its real servers (lvs.cf's `network`, one method for the whole
//! cluster), and the connection timeouts (`ipvsadm --set`, keepalived's `lvs_timeouts`).
//! Interfaces and the NAT router are rvsd's command-line settings: the page shows them.

use rvs_core::config::Config;
use rvs_core::model::{ForwardMethod, TimeoutUpdate};

use super::fields::{Errors, Fields, Reader};
use super::real::FORWARDS;
use crate::backend::Edit;

#[derive(Debug, Clone, PartialEq)]
pub struct GlobalForm {
    pub router_id: Option<String>,
    /// `None`: leave each real server's method as it is.
    pub forward: Option<ForwardMethod>,
    /// `None` when all three are empty: the file sets no timeouts.
    pub timeouts: Option<TimeoutUpdate>,
}

/// ipvsadm's `MAX_TIMEOUT`: 31 days.
const MAX_TIMEOUT: u64 = 86_400 * 31;

/// The timeout fields by name, as `ipvsadm --set tcp tcpfin udp` orders them.
pub const TIMEOUT_FIELDS: [&str; 3] = ["timeout_tcp", "timeout_tcpfin", "timeout_udp"];

/// The form's values for the file's timeouts: empty for 0 ("keep the current one").
pub fn timeout_values(t: Option<TimeoutUpdate>) -> [(&'static str, String); 3] {
    let text = |s: u32| if s == 0 { String::new() } else { s.to_string() };
    let t = t.unwrap_or_default();
    [(TIMEOUT_FIELDS[0], text(t.tcp)), (TIMEOUT_FIELDS[1], text(t.tcp_fin)), (TIMEOUT_FIELDS[2], text(t.udp))]
}

pub fn read(fields: &Fields) -> Result<GlobalForm, Errors> {
    let mut r = Reader::new(fields);
    let id = fields.text("router_id");
    if id.len() > 64 || id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        r.errors.add("router_id", "a name without blanks, up to 64 characters");
    }
    let forward = if fields.text("forward") == "keep" {
        None
    } else {
        r.choice("forward", FORWARDS)
    };
    // Empty is 0: as in `ipvsadm --set`, that one stays as it is.
    let [tcp, tcp_fin, udp] = TIMEOUT_FIELDS.map(|name| r.number(name, 1, MAX_TIMEOUT, Some(0)).and_then(|s| u32::try_from(s).ok()));
    r.finish()?;
    let timeouts = match (tcp, tcp_fin, udp) {
        (Some(0), Some(0), Some(0)) => None,
        (Some(tcp), Some(tcp_fin), Some(udp)) => Some(TimeoutUpdate { tcp, tcp_fin, udp }),
        _ => return Err(Errors::default()),
    };
    Ok(GlobalForm { router_id: Some(id.to_owned()).filter(|s| !s.is_empty()), forward, timeouts })
}

pub fn set(form: GlobalForm) -> Edit {
    Box::new(move |config: &mut Config| {
        config.router_id = form.router_id;
        config.timeouts = form.timeouts;
        if let Some(fwd) = form.forward {
            for vs in &mut config.virtual_servers {
                for r in &mut vs.reals {
                    r.dest.fwd = fwd;
                }
                if let Some(s) = &mut vs.sorry_server {
                    s.fwd = fwd;
                }
            }
        }
        Ok(())
    })
}

/// The forwarding method every real server has, if they all have one.
pub fn common_forward(config: &Config) -> Option<ForwardMethod> {
    let mut all = config.virtual_servers.iter().flat_map(|vs| &vs.reals).map(|r| r.dest.fwd);
    let first = all.next()?;
    all.all(|f| f == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_or_set_every_method() {
        let f = Fields::new([("router_id", "lvs1"), ("forward", "keep")]);
        assert_eq!(read(&f), Ok(GlobalForm { router_id: Some("lvs1".into()), forward: None, timeouts: None }));
        let f = Fields::new([("router_id", "a b"), ("forward", "bridge")]);
        let errors = read(&f).err().unwrap_or_default();
        assert!(errors.get("router_id").is_some() && errors.get("forward").is_some());
    }

    #[test]
    fn timeouts_are_ipvsadm_set_s_and_empty_keeps_the_current_one() {
        let f = Fields::new([("forward", "keep"), ("timeout_tcp", "3600"), ("timeout_tcpfin", ""), ("timeout_udp", "60")]);
        let form = read(&f).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(form.timeouts, Some(TimeoutUpdate { tcp: 3600, tcp_fin: 0, udp: 60 }));
        let mut config = Config::default();
        set(form)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(config.timeouts, Some(TimeoutUpdate { tcp: 3600, tcp_fin: 0, udp: 60 }));
        let drawn = timeout_values(config.timeouts);
        assert_eq!(drawn.map(|(_, v)| v), ["3600".to_owned(), String::new(), "60".to_owned()]);
        let cleared = read(&Fields::new([("forward", "keep")])).unwrap_or_else(|e| panic!("{e:?}"));
        set(cleared)(&mut config).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(config.timeouts, None, "all empty: the file sets none");
        let bad = Fields::new([("forward", "keep"), ("timeout_tcp", "2678401"), ("timeout_udp", "-5")]);
        let errors = read(&bad).err().unwrap_or_default();
        assert!(errors.get("timeout_tcp").is_some() && errors.get("timeout_udp").is_some() && errors.get("timeout_tcpfin").is_none());
    }
}
