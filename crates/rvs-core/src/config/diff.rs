//! The operations that take the IPVS table from what it holds to what the configuration wants,
//! touching nothing that already agrees: keepalived's reload, done as a diff so that unchanged
//! services and real servers keep their connections, counters and scheduler state.

use std::collections::HashSet;

use crate::model::{DestAddr, DestSpec, Operation, ServiceKey, ServiceSpec};

use super::desired::DesiredService;

/// A service as the table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentService {
    pub spec: ServiceSpec,
    pub dests: Vec<DestSpec>,
}

/// The operations, in order, that make the table hold `desired` and none of the services of
/// `released` (services the configuration had and no longer has). Services the table holds
/// that are in neither (added with rvsadm, say) are left alone.
pub fn operations(current: &[CurrentService], desired: &[DesiredService], released: &[ServiceKey]) -> Vec<Operation> {
    let mut ops = Vec::new();
    let wanted: HashSet<ServiceKey> = desired.iter().map(|d| d.spec.key).collect();
    let mut seen = HashSet::new();
    for key in released.iter().filter(|k| !wanted.contains(k) && seen.insert(**k)) {
        if current.iter().any(|c| c.spec.key == *key) {
            ops.push(Operation::DeleteService { key: *key });
        }
    }
    for want in desired {
        let key = want.spec.key;
        let Some(have) = current.iter().find(|c| c.spec.key == key) else {
            ops.push(Operation::AddService { spec: want.spec.clone() });
            ops.extend(want.dests.iter().map(|d| Operation::AddDest { service: key, dest: *d }));
            continue;
        };
        if have.spec != want.spec {
            ops.push(Operation::EditService { spec: want.spec.clone() });
        }
        let wanted_dests: HashSet<DestAddr> = want.dests.iter().map(DestSpec::dest_addr).collect();
        for gone in have.dests.iter().filter(|d| !wanted_dests.contains(&d.dest_addr())) {
            ops.push(Operation::DeleteDest { service: key, dest: gone.dest_addr() });
        }
        for d in &want.dests {
            match have.dests.iter().find(|h| h.dest_addr() == d.dest_addr()) {
                None => ops.push(Operation::AddDest { service: key, dest: *d }),
                Some(h) if h != d => ops.push(Operation::EditDest { service: key, dest: *d }),
                Some(_) => {}
            }
        }
    }
    ops
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::desired::tests::{dest, vs};
    use crate::model::{SchedulerName, Weight};

    fn current(d: &DesiredService) -> CurrentService {
        CurrentService { spec: d.spec.clone(), dests: d.dests.clone() }
    }

    fn want(reals: &[(&str, u32)]) -> DesiredService {
        let v = vs(&[]);
        DesiredService { spec: v.service, dests: reals.iter().map(|&(a, w)| dest(a, w)).collect() }
    }

    #[test]
    fn nothing_changes_when_the_table_agrees() {
        let d = want(&[("10.0.0.1", 1), ("10.0.0.2", 1)]);
        assert!(operations(&[current(&d)], std::slice::from_ref(&d), &[]).is_empty());
    }

    #[test]
    fn only_what_changed_is_touched() {
        let old = want(&[("10.0.0.1", 1), ("10.0.0.2", 1), ("10.0.0.3", 1)]);
        let new = want(&[("10.0.0.1", 1), ("10.0.0.2", 5), ("10.0.0.4", 1)]);
        let key = new.spec.key;
        let ops = operations(&[current(&old)], std::slice::from_ref(&new), &[]);
        assert_eq!(
            ops,
            [
                Operation::DeleteDest { service: key, dest: dest("10.0.0.3", 1).dest_addr() },
                Operation::EditDest { service: key, dest: DestSpec { weight: Weight::new(5).unwrap(), ..dest("10.0.0.2", 1) } },
                Operation::AddDest { service: key, dest: dest("10.0.0.4", 1) },
            ]
        );
    }

    #[test]
    fn services_are_added_edited_and_released() {
        let old = want(&[("10.0.0.1", 1)]);
        let mut new = old.clone();
        new.spec.scheduler = SchedulerName::new("rr").unwrap();
        assert_eq!(operations(&[current(&old)], &[new.clone()], &[]), [Operation::EditService { spec: new.spec.clone() }]);
        let ops = operations(&[], &[new.clone()], &[]);
        assert_eq!(ops.len(), 2);
        assert!(matches!(ops[0], Operation::AddService { .. }));
        let key = old.spec.key;
        assert_eq!(operations(&[current(&old)], &[], &[key]), [Operation::DeleteService { key }]);
        assert!(operations(&[current(&old)], &[], &[]).is_empty(), "services the configuration never had stay");
        assert_eq!(operations(&[current(&old)], &[], &[key, key]), [Operation::DeleteService { key }], "released twice, deleted once");
    }
}
