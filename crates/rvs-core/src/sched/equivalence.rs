//! Randomized equivalence: the data plane's ring and cursor, rebuilt after every change by the
//! daemon's protocol, must pick exactly what the kernel's reference picks, and the state read
//! back at each rebuild must be exactly the kernel's.

use super::*;

/// splitmix64: a small deterministic generator, so failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn weight(&mut self, max: i32) -> i32 {
        self.below(max as u64 + 1) as i32
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Picks(usize),
    Add {
        id: u32,
        weight: i32,
        overloaded: bool,
    },
    Delete(u32),
    SetWeight(u32, i32),
    Overload(u32, bool),
    Rebind(SchedulerKind),
    /// The daemon restarts: its model is rebuilt from the configuration and it adopts the
    /// pinned ring and cursor.
    Restart,
}

fn random_op(rng: &mut Rng, svc: &SchedService, next_id: &mut u32, max_weight: i32) -> Op {
    let existing = |rng: &mut Rng| -> Option<u32> {
        let dests = svc.dests();
        (!dests.is_empty()).then(|| dests[rng.below(dests.len() as u64) as usize].id)
    };
    match rng.below(17) {
        0..=5 => Op::Picks(1 + rng.below(12) as usize),
        6 | 7 if svc.dests().len() < 9 => {
            *next_id += 1;
            Op::Add {
                id: *next_id,
                weight: rng.weight(max_weight),
                overloaded: rng.below(6) == 0,
            }
        }
        8 => existing(rng).map_or(Op::Picks(1), Op::Delete),
        9 | 10 => {
            existing(rng).map_or(Op::Picks(2), |id| Op::SetWeight(id, rng.weight(max_weight)))
        }
        11 => existing(rng).map_or(Op::Picks(3), |id| Op::SetWeight(id, 0)),
        12 => existing(rng).map_or(Op::Picks(1), |id| {
            let same = svc
                .dests()
                .iter()
                .find(|d| d.id == id)
                .map_or(0, |d| d.weight);
            Op::SetWeight(id, same)
        }),
        13 | 14 => existing(rng).map_or(Op::Picks(1), |id| Op::Overload(id, rng.below(2) == 0)),
        16 => Op::Restart,
        _ => Op::Rebind(if rng.below(2) == 0 {
            SchedulerKind::Rr
        } else {
            SchedulerKind::Wrr
        }),
    }
}

fn apply(svc: &mut SchedService, op: Op) {
    let result = match op {
        Op::Picks(_) => Ok(()),
        Op::Add {
            id,
            weight,
            overloaded,
        } => svc.add_dest(SchedDest {
            overloaded,
            ..SchedDest::new(id, weight)
        }),
        Op::Delete(id) => svc.del_dest(id),
        Op::SetWeight(id, weight) => svc.edit_dest(id, weight),
        Op::Overload(id, overloaded) => svc.set_overloaded(id, overloaded),
        Op::Rebind(kind) => svc.set_scheduler(kind),
        Op::Restart => Ok(()),
    };
    assert_eq!(result, Ok(()), "{op:?} must be valid");
}

/// Runs one random history against both the reference and the ring simulation.
fn run_history(seed: u64, kind: SchedulerKind, max_weight: i32, steps: usize) {
    let mut rng = Rng(seed);
    let mut kernel = SchedService::new(kind).expect("ring scheduler");
    let mut daemon = kernel.clone();
    let mut program = daemon.compile_ring().expect("empty ring");
    let mut cursor = program.cursor();
    let mut next_id = 0;
    let mut picks = 0usize;
    let mut picks_since_install = 0usize;
    for step in 0..steps {
        let op = random_op(&mut rng, &kernel, &mut next_id, max_weight);
        match op {
            Op::Picks(n) => {
                for _ in 0..n {
                    let expected = kernel.pick();
                    let got = dataplane_pick(program.ring(), &mut cursor);
                    assert_eq!(
                        got, expected,
                        "seed {seed} step {step} pick {picks}: {kernel:?}"
                    );
                    picks += 1;
                    picks_since_install += 1;
                }
                continue;
            }
            // Adoption is exact only once the data plane has scheduled something from a
            // non-empty ring: an empty ring or an unmoved cursor carries no state.
            Op::Restart if picks_since_install == 0 || program.ring().is_empty() => continue,
            Op::Restart => {
                daemon = restarted(&kernel);
                daemon
                    .adopt_ring(program.ring(), cursor)
                    .expect("same destinations");
            }
            _ => {
                // Rebuild: read back, take over the state, apply the change.
                daemon
                    .resume_from(&program, cursor)
                    .expect("same scheduler");
            }
        }
        assert_eq!(
            daemon.scheduler(),
            kernel.scheduler(),
            "seed {seed} step {step}: recovered state differs before {op:?}"
        );
        apply(&mut kernel, op);
        apply(&mut daemon, op);
        // Compile and install.
        program = daemon.compile_ring().expect("small weights fit");
        cursor = program.cursor();
        picks_since_install = 0;
    }
}

/// A new daemon process: the same destinations added oldest first, so the list order is
/// the kernel's, with a freshly bound scheduler.
fn restarted(kernel: &SchedService) -> SchedService {
    let mut svc = SchedService::new(kernel.scheduler().kind()).expect("ring scheduler");
    for dest in kernel.dests().iter().rev() {
        svc.add_dest(*dest).expect("unique destinations");
    }
    svc
}

#[test]
fn rr_ring_matches_the_kernel_through_random_changes() {
    for seed in 0..400 {
        run_history(seed, SchedulerKind::Rr, 3, 150);
    }
}

#[test]
fn wrr_ring_matches_the_kernel_through_random_changes() {
    for (seed, max_weight) in (1000..1600).zip([1, 2, 3, 4, 6, 8, 12].into_iter().cycle()) {
        run_history(seed, SchedulerKind::Wrr, max_weight, 150);
    }
}

#[test]
fn long_histories_with_heavy_weights() {
    for seed in 5000..5020 {
        run_history(seed, SchedulerKind::Wrr, 40, 2000);
        run_history(seed, SchedulerKind::Rr, 40, 2000);
    }
}

/// The textbook form of one wrr cycle: thresholds from the top down in steps of the gcd, at
/// each threshold every destination that is not overloaded and weighs at least that much,
/// in list order. The compiled ring must be exactly this.
#[test]
fn wrr_ring_is_the_textbook_cycle() {
    let mut rng = Rng(77);
    for _ in 0..500 {
        let n = 1 + rng.below(7) as u32;
        let dests: Vec<SchedDest> = (0..n)
            .map(|id| SchedDest {
                overloaded: rng.below(5) == 0,
                ..SchedDest::new(id, rng.weight(10))
            })
            .collect();
        let wrr = WeightedRoundRobin::init(&dests);
        let program = compile_wrr(&dests, &wrr).expect("small weights");
        let (mw, di) = (wrr.max_weight(), wrr.step());
        let mut textbook = Vec::new();
        let mut cw = mw;
        while cw > 0 {
            textbook.extend(
                dests
                    .iter()
                    .filter(|d| !d.overloaded && d.weight >= cw)
                    .map(|d| d.id),
            );
            cw -= di;
        }
        assert_eq!(program.ring(), textbook, "{dests:?}");
        let positive: Vec<i32> = dests.iter().map(|d| d.weight).filter(|&w| w > 0).collect();
        let expected_di = positive.iter().fold(0, |g, &w| num_gcd(g, w)).max(1);
        assert_eq!(di, expected_di);
    }
}

fn num_gcd(a: i32, b: i32) -> i32 {
    if b == 0 { a } else { num_gcd(b, a % b) }
}

/// Failed wrr picks reach a fixed point after one failure; the empty-ring recovery relies
/// on it.
#[test]
fn failed_wrr_pick_is_idempotent() {
    let mut rng = Rng(99);
    for _ in 0..2000 {
        let n = 1 + rng.below(6) as u32;
        let mut dests: Vec<SchedDest> =
            (0..n).map(|id| SchedDest::new(id, rng.weight(9))).collect();
        let mut wrr = WeightedRoundRobin::init(&dests);
        for _ in 0..rng.below(20) {
            wrr.pick(&dests);
        }
        for d in &mut dests {
            d.overloaded = true;
        }
        let mut once = wrr;
        assert_eq!(once.pick(&dests), None);
        let mut twice = once;
        assert_eq!(twice.pick(&dests), None);
        assert_eq!(once, twice, "{dests:?} from {wrr:?}");
    }
}
