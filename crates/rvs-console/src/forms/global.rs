//! The global settings form (piranha's GLOBAL SETTINGS page): the director's name and the
//! forwarding method of its real servers (lvs.cf's `network`, one method for the whole
//! cluster). Interfaces and the NAT router are rvsd's command-line settings: the page shows them.

use rvs_core::config::Config;
use rvs_core::model::ForwardMethod;

use super::fields::{Errors, Fields, Reader};
use super::real::FORWARDS;
use crate::backend::Edit;

#[derive(Debug, Clone, PartialEq)]
pub struct GlobalForm {
    pub router_id: Option<String>,
    /// `None`: leave each real server's method as it is.
    pub forward: Option<ForwardMethod>,
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
    r.finish()?;
    Ok(GlobalForm { router_id: Some(id.to_owned()).filter(|s| !s.is_empty()), forward })
}

pub fn set(form: GlobalForm) -> Edit {
    Box::new(move |config: &mut Config| {
        config.router_id = form.router_id;
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
        assert_eq!(read(&f), Ok(GlobalForm { router_id: Some("lvs1".into()), forward: None }));
        let f = Fields::new([("router_id", "a b"), ("forward", "bridge")]);
        let errors = read(&f).err().unwrap_or_default();
        assert!(errors.get("router_id").is_some() && errors.get("forward").is_some());
    }
}
