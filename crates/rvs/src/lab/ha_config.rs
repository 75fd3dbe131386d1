//! The keepalived.conf of `rvs lab up ha` is rvs-lab's ([`rvs_lab::topology::seed002_ha_conf`]);
//! this checks that rvs's own parser reads each variant as meant.

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::path::Path;

    use rvs_config::{Format, parse_str};
    use rvs_lab::topology::seed002_ha_conf::{keepalived_conf, priority};
    use rvs_lab::topology::{Director, HaMode};

    /// What rvs's own parser makes of each file: no errors (warnings are printed, since the
    /// VRRP and sync keywords may still be unsupported), one service with both real servers.
    #[test]
    fn every_file_loads_with_rvs_config() {
        for mode in [HaMode::Nat, HaMode::Dr] {
            for which in Director::BOTH {
                let text = keepalived_conf(mode, which);
                let name = format!("/run/rvs/test/{which}.conf");
                let loaded = parse_str(&text, Path::new(&name), Format::Keepalived)
                    .unwrap_or_else(|e| panic!("{mode:?} {which}: {e}\n{text}"));
                for warning in &loaded.warnings {
                    eprintln!("{mode:?} {which}: {warning}");
                }
                let config = &loaded.config;
                assert_eq!(config.virtual_servers.len(), 1, "{mode:?} {which}: {config:?}");
                let service = &config.virtual_servers[0];
                assert_eq!(service.service.key.addr(), IpAddr::V4(Ipv4Addr::new(192, 168, 1, 250)));
                let reals: Vec<IpAddr> = service.reals.iter().map(|r| r.dest.addr).collect();
                let want: Vec<IpAddr> = mode.real_server_addrs().iter().map(|a| IpAddr::V4(a.addr())).collect();
                assert_eq!(reals, want, "{mode:?} {which}");
                assert_eq!(config.vrrp.len(), 1, "{mode:?} {which}: {config:?}");
                assert_eq!(config.vrrp[0].priority, priority(which));
                assert_eq!(config.vrrp[0].virtual_ipaddress.len(), mode.floating_addrs().len());
                assert_eq!(config.router_id.as_deref(), Some(which.name()));
            }
        }
    }
}
