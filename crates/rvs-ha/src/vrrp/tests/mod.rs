//! The state machine alone (`machine`) and routers on a simulated link in virtual time
//! (`scenarios`, over `sim`).

mod machine;
mod scenarios;
mod sim;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::{InitialState, Version, VrrpConfig};

/// 10.0.0.`host`.
fn ip(host: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, host))
}

/// A VRRPv3 instance, VRID 51, `state BACKUP`.
fn v3(priority: u8, host: u8, advert_int: Duration) -> VrrpConfig {
    VrrpConfig {
        version: Version::V3,
        advert_int,
        initial: InitialState::Backup,
        ..VrrpConfig::new(51, priority, ip(host))
    }
}

/// A VRRPv2 instance with 1 s adverts, `state BACKUP`.
fn v2(priority: u8, host: u8) -> VrrpConfig {
    VrrpConfig { initial: InitialState::Backup, ..VrrpConfig::new(51, priority, ip(host)) }
}

const MS100: Duration = Duration::from_millis(100);
const LINK: Duration = Duration::from_millis(1);
