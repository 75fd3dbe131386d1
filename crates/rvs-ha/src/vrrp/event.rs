//! What goes in and out of a [`Machine`](super::Machine): the [`Advert`]s it is fed, the
//! [`Output`]s it asks for, and the [`State`]s and [`Reason`]s of its transitions.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// Where an instance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Created, not started.
    Init,
    /// Listening to a master, ready to take over.
    Backup,
    /// Holding the addresses and advertising.
    Master,
    /// A tracked interface or a weight-0 script failed: silent, holds nothing.
    Fault,
    /// Shut down; inputs are ignored from now on.
    Stopped,
}

impl State {
    /// keepalived's word for the state (notify scripts, FIFO lines, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stopped => "STOP",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields of a received advertisement the state machine needs. The driver has already
/// checked the packet (version, VRID, TTL, checksum, addresses) and converted the interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advert {
    /// The advertised priority; 0 means the master is stepping down.
    pub priority: u8,
    /// The advertised interval: v2 its seconds, v3 its centiseconds, as a duration.
    pub advert_int: Duration,
    /// The packet's source address (the peer's primary address).
    pub source: IpAddr,
}

/// Something the driver must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send one advertisement with this priority (our configured interval, our addresses).
    /// On becoming master it comes *before* the transition, as keepalived sends the advert
    /// before its gratuitous ARPs so that the old master lets go of the addresses first.
    Send {
        /// The priority to advertise (0 when stepping down).
        priority: u8,
    },
    /// The state changed: take or release the addresses, send gratuitous ARPs, run notify
    /// scripts.
    Transition {
        /// The state left.
        from: State,
        /// The state entered.
        to: State,
        /// Why, for logs and notifications.
        reason: Reason,
    },
    /// As master we heard a lower priority master (a split brain ending, or a peer that just
    /// took over): keepalived's `notify_master_rx_lower_pri` and `garp_lower_prio_repeat`
    /// hook here.
    LowerPriorityMaster {
        /// Its priority.
        priority: u8,
        /// Its address.
        source: IpAddr,
    },
    /// An advertisement was dropped without effect.
    Discarded {
        /// Its source.
        source: IpAddr,
        /// Why.
        reason: Discard,
    },
}

/// Why an advertisement was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    /// VRRPv2 peers must agree on the interval (RFC 3768 §7.1; keepalived drops such
    /// packets "to prevent concurrent VRID running").
    IntervalMismatch {
        /// Ours.
        ours: Duration,
        /// Theirs.
        theirs: Duration,
    },
    /// A VRRPv3 interval outside 10 ms ..= 40.95 s: it cannot be adopted.
    InvalidInterval(Duration),
    /// Our own address as the source: our own advert looped back, or an address conflict.
    OwnAddress,
}

impl fmt::Display for Discard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Discard::IntervalMismatch { ours, theirs } => write!(
                f,
                "advertisement interval mismatch: ours {} ms, received {} ms",
                ours.as_millis(),
                theirs.as_millis()
            ),
            Discard::InvalidInterval(interval) => {
                write!(f, "invalid advertisement interval {} ms", interval.as_millis())
            }
            Discard::OwnAddress => f.write_str("advertisement from our own address"),
        }
    }
}

/// Why a transition happened. [`Display`](fmt::Display) gives the sentence for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Init → Backup.
    Startup,
    /// Init or Fault → Master: the address owner (priority 255 with `state MASTER`).
    AddressOwner,
    /// Init → Backup → Master with `state MASTER` below 255: nothing heard for one
    /// advertisement interval (+ the smallest skew).
    InitialMaster {
        /// How long we listened.
        waited: Duration,
    },
    /// Backup → Master: the down timer fired.
    MasterDown {
        /// Time since the last accepted advertisement (or since entering Backup).
        silent_for: Duration,
    },
    /// Backup → Master: the master stepped down (priority 0), we waited Skew_Time.
    MasterReleased {
        /// The old master.
        source: IpAddr,
        /// Time since its priority 0 advert.
        waited: Duration,
    },
    /// Backup → Master: a lower priority master was ignored until the down timer fired.
    Preempted {
        /// Its priority.
        priority: u8,
        /// Its address.
        source: IpAddr,
    },
    /// Master → Backup.
    HigherPriority {
        /// The new master's priority.
        priority: u8,
        /// Its address.
        source: IpAddr,
    },
    /// Master → Backup: same priority, greater primary address.
    EqualPriorityHigherAddress {
        /// The shared priority.
        priority: u8,
        /// The winner's address.
        source: IpAddr,
    },
    /// Any running state → Fault.
    Fault(String),
    /// Fault → Backup (or Master for the address owner).
    FaultCleared,
    /// → Stopped.
    Shutdown,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Startup => f.write_str("startup"),
            Reason::AddressOwner => f.write_str("address owner (priority 255)"),
            Reason::InitialMaster { waited } => {
                write!(f, "initial state MASTER: no master heard for {} ms", waited.as_millis())
            }
            Reason::MasterDown { silent_for } => {
                write!(f, "master down: no advertisement for {} ms", silent_for.as_millis())
            }
            Reason::MasterReleased { source, waited } => {
                write!(f, "priority 0 from {source}: master stepped down {} ms ago", waited.as_millis())
            }
            Reason::Preempted { priority, source } => {
                write!(f, "preempted lower priority {priority} from {source}")
            }
            Reason::HigherPriority { priority, source } => write!(f, "higher priority {priority} from {source}"),
            Reason::EqualPriorityHigherAddress { priority, source } => {
                write!(f, "equal priority {priority} from higher address {source}")
            }
            Reason::Fault(why) => write!(f, "fault: {why}"),
            Reason::FaultCleared => f.write_str("fault cleared"),
            Reason::Shutdown => f.write_str("shutdown"),
        }
    }
}
