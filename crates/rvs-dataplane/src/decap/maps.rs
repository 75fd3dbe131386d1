//! Typed handles on the decapsulation program's maps, taken from a freshly loaded object or
//! opened from their pins, and the code that writes a `DecapSpec` into them and reads it back.

use std::{collections::BTreeSet, net::Ipv4Addr, path::Path};

use aya::maps::{Array, HashMap, Map, MapData, MapError, PerCpuArray};

use super::{DecapCounters, DecapSpec};
use crate::{
    decap_abi::{RVS_DECAP_F_GRE, RVS_DECAP_F_GUE, RVS_DECAP_F_IPIP, RvsDecapConfig, RvsDecapStat},
    error::DataplaneError,
};

/// Map names, which are also their file names in the pin directory.
pub(crate) const MAP_ADDRS: &str = "decap_addrs";
pub(crate) const MAP_PORTS: &str = "decap_ports";
pub(crate) const MAP_CONFIG: &str = "decap_config";
pub(crate) const MAP_STATS: &str = "decap_stats";
/// Every map, in the order they are removed.
pub(crate) const MAP_NAMES: [&str; 4] = [MAP_ADDRS, MAP_PORTS, MAP_CONFIG, MAP_STATS];

fn map_err(name: &'static str) -> impl Fn(MapError) -> DataplaneError {
    move |source| DataplaneError::Map { name, source }
}

/// The four maps of one install.
pub(crate) struct DecapMaps {
    addrs: HashMap<MapData, u32, u32>,
    ports: HashMap<MapData, u16, u32>,
    config: Array<MapData, RvsDecapConfig>,
    stats: PerCpuArray<MapData, u64>,
}

impl DecapMaps {
    /// Takes the maps out of a loaded object.
    pub(crate) fn take_from(ebpf: &mut aya::Ebpf) -> Result<Self, DataplaneError> {
        fn take<T: TryFrom<Map, Error = MapError>>(ebpf: &mut aya::Ebpf, name: &'static str) -> Result<T, DataplaneError> {
            let map = ebpf.take_map(name).ok_or(DataplaneError::Map {
                name,
                source: MapError::InvalidName { name: name.to_string() },
            })?;
            T::try_from(map).map_err(map_err(name))
        }
        Ok(Self {
            addrs: take(ebpf, MAP_ADDRS)?,
            ports: take(ebpf, MAP_PORTS)?,
            config: take(ebpf, MAP_CONFIG)?,
            stats: take(ebpf, MAP_STATS)?,
        })
    }

    /// Opens the maps pinned in `dir`.
    pub(crate) fn from_pins(dir: &Path) -> Result<Self, DataplaneError> {
        let open = |name: &'static str| MapData::from_pin(dir.join(name)).map_err(map_err(name));
        Ok(Self {
            addrs: HashMap::try_from(Map::HashMap(open(MAP_ADDRS)?)).map_err(map_err(MAP_ADDRS))?,
            ports: HashMap::try_from(Map::HashMap(open(MAP_PORTS)?)).map_err(map_err(MAP_PORTS))?,
            config: Array::try_from(Map::Array(open(MAP_CONFIG)?)).map_err(map_err(MAP_CONFIG))?,
            stats: PerCpuArray::try_from(Map::PerCpuArray(open(MAP_STATS)?)).map_err(map_err(MAP_STATS))?,
        })
    }

    pub(crate) fn config(&self) -> Result<RvsDecapConfig, DataplaneError> {
        self.config.get(&0, 0).map_err(map_err(MAP_CONFIG))
    }

    pub(crate) fn set_config(&mut self, config: &RvsDecapConfig) -> Result<(), DataplaneError> {
        self.config.set(0, config, 0).map_err(map_err(MAP_CONFIG))
    }

    /// Makes the maps hold exactly `spec`: the flags in `config` (its other fields kept), the
    /// addresses and ports. Entries are added before stale ones are removed, so that a running
    /// program never sees an address that stays configured disappear.
    pub(crate) fn write_spec(&mut self, spec: &DecapSpec) -> Result<(), DataplaneError> {
        let mut config = self.config()?;
        config.flags = spec_flags(spec);
        self.set_config(&config)?;

        let want: BTreeSet<u32> = spec.addrs.iter().map(|a| u32::from_ne_bytes(a.octets())).collect();
        for key in &want {
            self.addrs.insert(key, 0, 0).map_err(map_err(MAP_ADDRS))?;
        }
        let stale: Vec<u32> = self.addrs.keys().filter_map(Result::ok).filter(|k| !want.contains(k)).collect();
        for key in stale {
            self.addrs.remove(&key).map_err(map_err(MAP_ADDRS))?;
        }

        let want: BTreeSet<u16> = spec.gue_ports.iter().map(|p| p.to_be()).collect();
        for key in &want {
            self.ports.insert(key, 0, 0).map_err(map_err(MAP_PORTS))?;
        }
        let stale: Vec<u16> = self.ports.keys().filter_map(Result::ok).filter(|k| !want.contains(k)).collect();
        for key in stale {
            self.ports.remove(&key).map_err(map_err(MAP_PORTS))?;
        }
        Ok(())
    }

    /// The spec the maps hold (addresses and ports sorted).
    pub(crate) fn read_spec(&self) -> Result<DecapSpec, DataplaneError> {
        let flags = self.config()?.flags;
        let addrs: BTreeSet<Ipv4Addr> = self
            .addrs
            .keys()
            .map(|k| k.map(|k| Ipv4Addr::from(k.to_ne_bytes())))
            .collect::<Result<_, _>>()
            .map_err(map_err(MAP_ADDRS))?;
        let ports: BTreeSet<u16> =
            self.ports.keys().map(|k| k.map(u16::from_be)).collect::<Result<_, _>>().map_err(map_err(MAP_PORTS))?;
        Ok(DecapSpec {
            addrs: addrs.into_iter().collect(),
            ipip: flags & RVS_DECAP_F_IPIP != 0,
            gre: flags & RVS_DECAP_F_GRE != 0,
            gue_ports: if flags & RVS_DECAP_F_GUE != 0 { ports.into_iter().collect() } else { Vec::new() },
        })
    }

    /// Every counter, summed over CPUs.
    pub(crate) fn counters(&self) -> Result<DecapCounters, DataplaneError> {
        RvsDecapStat::ALL
            .iter()
            .map(|&stat| {
                let values = self.stats.get(&(stat as u32), 0).map_err(map_err(MAP_STATS))?;
                Ok((stat, values.iter().sum()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(DecapCounters)
    }
}

/// The `RVS_DECAP_F_*` bits of `spec`: GUE is on when it has at least one port.
pub(crate) fn spec_flags(spec: &DecapSpec) -> u32 {
    let mut flags = 0;
    if spec.ipip {
        flags |= RVS_DECAP_F_IPIP;
    }
    if spec.gre {
        flags |= RVS_DECAP_F_GRE;
    }
    if !spec.gue_ports.is_empty() {
        flags |= RVS_DECAP_F_GUE;
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ipip: bool, gre: bool, ports: &[u16]) -> DecapSpec {
        DecapSpec { addrs: vec![Ipv4Addr::new(10, 0, 0, 2)], ipip, gre, gue_ports: ports.to_vec() }
    }

    #[test]
    fn flags_follow_the_spec_and_gue_needs_a_port() {
        assert_eq!(spec_flags(&spec(true, false, &[])), RVS_DECAP_F_IPIP);
        assert_eq!(spec_flags(&spec(false, true, &[])), RVS_DECAP_F_GRE);
        assert_eq!(spec_flags(&spec(false, false, &[6080])), RVS_DECAP_F_GUE);
        assert_eq!(spec_flags(&spec(true, true, &[5555, 6080])), RVS_DECAP_F_IPIP | RVS_DECAP_F_GRE | RVS_DECAP_F_GUE);
        assert_eq!(spec_flags(&spec(false, false, &[])), 0);
    }

    #[test]
    fn every_map_name_fits_the_kernel_limit() {
        // BPF object names are at most 15 bytes; longer ones are cut and would not match pins.
        assert!(MAP_NAMES.iter().all(|n| n.len() <= 15));
    }
}
