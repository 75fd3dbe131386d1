//! Names the lab hands to the kernel: lab prefixes, host and switch names, interface names.
//!
//! Every namespace a lab creates is called `<prefix>-<host>` (switches: `<prefix>-sw-<name>`).
//! A prefix is letters and digits only, so `<prefix>-` can never be the start of another
//! prefix's names: `down_prefix("lab")` cannot touch the namespaces of a lab called `lab2`
//! or of one called `lab-x` (which is refused).

use std::fmt;

use crate::error::{LabError, Result};

/// The longest prefix accepted; namespace names have no kernel limit, this keeps them readable.
const PREFIX_MAX: usize = 24;
/// The longest host or switch name accepted.
const HOST_MAX: usize = 32;
/// IFNAMSIZ is 16 including the terminating NUL.
const IFNAME_MAX: usize = 15;

/// The marker that separates switch namespaces from host namespaces.
pub(crate) const SWITCH_MARK: &str = "sw-";

/// A lab's name prefix: 1 to 24 ASCII lowercase letters or digits, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Prefix(String);

impl Prefix {
    /// Checks `text` and wraps it.
    pub fn new(text: &str) -> Result<Self> {
        let invalid = |reason| LabError::InvalidName {
            kind: "lab prefix",
            name: text.to_owned(),
            reason,
        };
        if text.is_empty() || text.len() > PREFIX_MAX {
            return Err(invalid("must be 1 to 24 characters"));
        }
        if !text.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid("must start with a lowercase letter"));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(invalid("only lowercase letters and digits are allowed"));
        }
        Ok(Prefix(text.to_owned()))
    }

    /// The prefix itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a namespace (or pin directory) called `name` belongs to this prefix.
    pub fn owns(&self, name: &str) -> bool {
        name.strip_prefix(self.0.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
    }

    /// The namespace of host `host`.
    pub(crate) fn host_netns(&self, host: &HostName) -> String {
        format!("{}-{}", self.0, host.0)
    }

    /// The namespace of switch `switch`.
    pub(crate) fn switch_netns(&self, switch: &HostName) -> String {
        format!("{}-{SWITCH_MARK}{}", self.0, switch.0)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A host's or a switch's name inside a lab: 1 to 32 of `[a-z0-9_-]`, starting with a letter.
/// Host names may not start with `sw-`, which marks switch namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostName(String);

impl HostName {
    /// Checks `text` as the name of a host.
    pub fn host(text: &str) -> Result<Self> {
        let name = Self::check("host", text)?;
        if text.starts_with(SWITCH_MARK) {
            return Err(LabError::InvalidName {
                kind: "host",
                name: text.to_owned(),
                reason: "names starting with `sw-` are kept for switches",
            });
        }
        Ok(name)
    }

    /// Checks `text` as the name of a switch.
    pub fn switch(text: &str) -> Result<Self> {
        Self::check("switch", text)
    }

    fn check(kind: &'static str, text: &str) -> Result<Self> {
        let invalid = |reason| LabError::InvalidName {
            kind,
            name: text.to_owned(),
            reason,
        };
        if text.is_empty() || text.len() > HOST_MAX {
            return Err(invalid("must be 1 to 32 characters"));
        }
        if !text.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid("must start with a lowercase letter"));
        }
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !text.chars().all(allowed) {
            return Err(invalid(
                "only lowercase letters, digits, `-` and `_` are allowed",
            ));
        }
        Ok(HostName(text.to_owned()))
    }

    /// The name itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A network interface name the kernel will accept: 1 to 15 bytes, no `/`, `:` or whitespace,
/// and not `.` or `..`. `all` and `default` are accepted: they name sysctl directories.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IfName(String);

impl IfName {
    /// Checks `text` and wraps it.
    pub fn new(text: &str) -> Result<Self> {
        let invalid = |reason| LabError::InvalidName {
            kind: "interface",
            name: text.to_owned(),
            reason,
        };
        if text.is_empty() || text.len() > IFNAME_MAX {
            return Err(invalid("must be 1 to 15 bytes"));
        }
        if text == "." || text == ".." {
            return Err(invalid("`.` and `..` are not interface names"));
        }
        if text
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
        {
            return Err(invalid("`/`, `:` and whitespace are not allowed"));
        }
        Ok(IfName(text.to_owned()))
    }

    /// The name itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_lowercase_alphanumerics() {
        assert!(Prefix::new("lab1").is_ok());
        assert!(Prefix::new("t12345abc").is_ok());
        for bad in [
            "",
            "1lab",
            "Lab",
            "la-b",
            "la_b",
            "a b",
            "abcdefghijklmnopqrstuvwxy",
        ] {
            assert!(Prefix::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_prefix_owns_only_its_own_names() {
        let lab = Prefix::new("lab").unwrap();
        assert!(lab.owns("lab-client"));
        assert!(lab.owns("lab-sw-lan"));
        assert!(lab.owns("lab"));
        assert!(!lab.owns("lab2-client"));
        assert!(!lab.owns("labx"));
        assert!(!lab.owns("xlab-client"));
        assert!(!lab.owns("la-client"));
    }

    #[test]
    fn namespace_names_join_prefix_and_name() {
        let lab = Prefix::new("t1").unwrap();
        let host = HostName::host("webserver1").unwrap();
        let sw = HostName::switch("lan").unwrap();
        assert_eq!(lab.host_netns(&host), "t1-webserver1");
        assert_eq!(lab.switch_netns(&sw), "t1-sw-lan");
    }

    #[test]
    fn host_names_cannot_pose_as_switches() {
        assert!(HostName::host("sw-lan").is_err());
        assert!(HostName::host("swift").is_ok());
        assert!(HostName::switch("lan").is_ok());
        assert!(HostName::host("web_1-a").is_ok());
        assert!(HostName::host("Web").is_err());
        assert!(HostName::host("w/eb").is_err());
        assert!(HostName::host(&"a".repeat(33)).is_err());
    }

    #[test]
    fn interface_names_fit_ifnamsiz() {
        assert!(IfName::new("eth0").is_ok());
        assert!(IfName::new("webserver1-eth0").is_ok());
        assert!(IfName::new("webserver12-eth0").is_err());
        for bad in ["", ".", "..", "a/b", "a:b", "a b"] {
            assert!(IfName::new(bad).is_err(), "{bad:?} accepted");
        }
    }
}
