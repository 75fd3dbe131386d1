//! A simulated segment in virtual time: every `Send` of a connected router reaches every other
//! router `delay` later (if it is alive and connected then). The simulator always advances to
//! the earliest event (a delivery, else the earliest `poll_timeout`; ties in node order) and
//! checks the single-master invariant after every event.
//!
//! The invariant. Two masters are legitimate only while they cannot have heard each other
//! yet. Count a master's *tenure* from when it became master or was last (re)connected,
//! whichever is later. Among alive and connected routers, at most one master may have a tenure
//! longer than `window` = the largest configured advertisement interval + the link delay:
//! within that time the other master's next advert (or the reply to ours) reaches it and one
//! of the two steps down. Routers that are cut off are not checked (a partition makes a
//! second master by design).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::vrrp::{Advert, Machine, Output, Reason, State, VrrpConfig};

/// A transition seen on the link.
#[derive(Debug, Clone)]
pub struct Record {
    pub at: Instant,
    pub node: usize,
    pub from: State,
    pub to: State,
    pub reason: Reason,
}

/// One advert delivered to a node.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub at: Instant,
    pub from: usize,
    pub priority: u8,
}

pub struct Node {
    pub machine: Machine,
    config: VrrpConfig,
    alive: bool,
    connected: bool,
    /// Receives nothing while still sending (a one-way failure, e.g. a firewall).
    deaf: bool,
    connected_since: Instant,
    master_since: Option<Instant>,
    /// (when, priority) of every advert it sent.
    pub sent: Vec<(Instant, u8)>,
    pub received: Vec<Delivery>,
    pub other_outputs: Vec<(Instant, Output)>,
}

struct Packet {
    at: Instant,
    seq: u64,
    from: usize,
    to: usize,
    advert: Advert,
}

pub struct Sim {
    pub start: Instant,
    pub now: Instant,
    pub delay: Duration,
    pub nodes: Vec<Node>,
    in_flight: Vec<Packet>,
    seq: u64,
    pub log: Vec<Record>,
}

impl Sim {
    pub fn new(configs: Vec<VrrpConfig>, delay: Duration) -> Sim {
        let start = Instant::now();
        let nodes = configs
            .into_iter()
            .map(|config| Node {
                machine: Machine::new(config.clone()).expect("valid test configuration"),
                config,
                alive: true,
                connected: true,
                deaf: false,
                connected_since: start,
                master_since: None,
                sent: Vec::new(),
                received: Vec::new(),
                other_outputs: Vec::new(),
            })
            .collect();
        Sim { start, now: start, delay, nodes, in_flight: Vec::new(), seq: 0, log: Vec::new() }
    }

    /// Starts every node now, in order.
    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start_node(i);
        }
    }

    pub fn start_node(&mut self, i: usize) {
        let now = self.now;
        self.nodes[i].machine.start(now);
        self.drain(i);
        self.check_invariant();
    }

    /// The node dies: it is no longer driven and sends nothing more.
    pub fn crash(&mut self, i: usize) {
        self.nodes[i].alive = false;
        self.nodes[i].master_since = None;
    }

    /// A crashed node comes back with a fresh machine, and starts.
    pub fn restart(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        node.machine = Machine::new(node.config.clone()).expect("valid test configuration");
        node.alive = true;
        node.connected = true;
        node.connected_since = self.now;
        node.master_since = None;
        self.start_node(i);
    }

    /// The node's link is cut both ways; it keeps running.
    pub fn cut(&mut self, i: usize) {
        self.nodes[i].connected = false;
    }

    /// The node stops receiving but is still connected: the invariant must catch the result.
    pub fn deafen(&mut self, i: usize) {
        self.nodes[i].deaf = true;
    }

    pub fn reconnect(&mut self, i: usize) {
        self.nodes[i].connected = true;
        self.nodes[i].connected_since = self.now;
    }

    /// Runs `f` on node `i`'s machine now, then handles its outputs.
    pub fn with(&mut self, i: usize, f: impl FnOnce(&mut Machine, Instant)) {
        let now = self.now;
        f(&mut self.nodes[i].machine, now);
        self.drain(i);
        self.check_invariant();
    }

    pub fn run_for(&mut self, duration: Duration) {
        let until = self.now + duration;
        for _ in 0..1_000_000 {
            let delivery = self.in_flight.iter().map(|p| (p.at, p.seq)).min();
            let timer = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.alive)
                .filter_map(|(i, n)| n.machine.poll_timeout().map(|at| (at, i)))
                .min();
            let next = match (delivery, timer) {
                (Some((d, _)), Some((t, _))) => d.min(t),
                (Some((d, _)), None) => d,
                (None, Some((t, _))) => t,
                (None, None) => break,
            };
            if next > until {
                break;
            }
            self.now = next;
            match (delivery, timer) {
                (Some((at, seq)), _) if at == next => self.deliver(seq),
                (_, Some((_, i))) => {
                    self.nodes[i].machine.handle_timeout(next);
                    self.drain(i);
                }
                _ => unreachable!("the earliest event is a delivery or a timer"),
            }
            self.check_invariant();
        }
        assert!(self.now <= until, "event loop ran away");
        self.now = until;
    }

    fn deliver(&mut self, seq: u64) {
        let Some(index) = self.in_flight.iter().position(|p| p.seq == seq) else { return };
        let packet = self.in_flight.swap_remove(index);
        let node = &mut self.nodes[packet.to];
        if !node.alive || !node.connected || node.deaf {
            return;
        }
        node.received.push(Delivery { at: packet.at, from: packet.from, priority: packet.advert.priority });
        node.machine.handle_advert(packet.at, &packet.advert);
        self.drain(packet.to);
    }

    fn drain(&mut self, i: usize) {
        let now = self.now;
        while let Some(output) = self.nodes[i].machine.poll_output() {
            match output {
                Output::Send { priority } => {
                    self.nodes[i].sent.push((now, priority));
                    if !self.nodes[i].alive || !self.nodes[i].connected {
                        continue;
                    }
                    let advert = Advert {
                        priority,
                        advert_int: self.nodes[i].config.advert_int,
                        source: self.nodes[i].config.primary_addr,
                    };
                    for to in (0..self.nodes.len()).filter(|&to| to != i) {
                        self.seq += 1;
                        self.in_flight.push(Packet { at: now + self.delay, seq: self.seq, from: i, to, advert });
                    }
                }
                Output::Transition { from, to, reason } => {
                    let node = &mut self.nodes[i];
                    node.master_since = (to == State::Master).then_some(now);
                    self.log.push(Record { at: now, node: i, from, to, reason });
                }
                Output::Discarded { source, reason } => {
                    panic!("node {i} discarded an advert from {source}: {reason}")
                }
                other => self.nodes[i].other_outputs.push((now, other)),
            }
        }
    }

    fn window(&self) -> Duration {
        self.nodes.iter().map(|n| n.config.advert_int).max().unwrap_or_default() + self.delay
    }

    fn check_invariant(&self) {
        let window = self.window();
        let settled: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                let n = &self.nodes[i];
                n.alive && n.connected && n.machine.state() == State::Master
            })
            .filter(|&i| {
                let n = &self.nodes[i];
                let since = n.master_since.unwrap_or(self.now).max(n.connected_since);
                self.now - since > window
            })
            .collect();
        assert!(
            settled.len() <= 1,
            "two settled masters {settled:?} at +{:?} (window {window:?}); log: {:#?}",
            self.now - self.start,
            self.log
        );
    }

    /// Exactly one master among alive, connected routers.
    pub fn assert_one_master(&self) -> usize {
        let masters: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                let n = &self.nodes[i];
                n.alive && n.connected && n.machine.state() == State::Master
            })
            .collect();
        assert_eq!(masters.len(), 1, "masters {masters:?} at +{:?}; log: {:#?}", self.now - self.start, self.log);
        masters[0]
    }

    pub fn state(&self, i: usize) -> State {
        self.nodes[i].machine.state()
    }

    /// The transitions of node `i` into `to`, after `after`.
    pub fn transitions_to(&self, i: usize, to: State, after: Instant) -> Vec<&Record> {
        self.log.iter().filter(|r| r.node == i && r.to == to && r.at >= after).collect()
    }

    /// When node `i` last received an advert before `before`.
    pub fn last_received(&self, i: usize, before: Instant) -> Option<Delivery> {
        self.nodes[i].received.iter().rev().find(|d| d.at < before).copied()
    }

    pub fn addr(&self, i: usize) -> IpAddr {
        self.nodes[i].config.primary_addr
    }
}
