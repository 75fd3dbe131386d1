//! The console's forms: each reads its fields into a change of the configuration (an
//! [`Edit`](crate::backend::Edit)), or into the errors of the fields that do not read. Nothing
//! here does I/O; the pages draw the forms and the server applies the edits.

pub mod check;
pub mod fields;
pub mod global;
pub mod real;
pub mod redundancy;
pub mod service;
pub mod slug;

use rvs_core::config::{Config, VirtualServer};

use crate::backend::EditError;

/// The virtual server named `slug` in `config`.
pub fn find_service<'a>(config: &'a mut Config, slug_text: &str) -> Result<&'a mut VirtualServer, EditError> {
    config
        .virtual_servers
        .iter_mut()
        .find(|vs| slug::service(&vs.service.key) == slug_text)
        .ok_or_else(|| EditError::form("this virtual service is no longer in the configuration (changed meanwhile?)"))
}
