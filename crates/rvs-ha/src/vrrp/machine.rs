//! The state machine of one VRRP instance (RFC 5798 §6.4, RFC 3768 §6.4, keepalived's
//! `vrrp_state_backup`, `vrrp_state_master_rx`/`_tx`, `vrrp_init_state`, `try_up_instance`,
//! `vrrp_set_effective_priority`), sans-IO: the caller says what time it is.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::config::{
    ConfigError, ConfigWarning, InitialState, PRIORITY_OWNER, PRIORITY_STOP, V3_ADVERT_INT_MAX,
    V3_ADVERT_INT_MIN, Version, VrrpConfig,
};
use super::event::{Advert, Discard, Output, Reason, State};
use super::timers::{Timer, master_down_interval, skew_min, skew_time};

/// What the master-down timer firing will mean (keepalived's `next_master_reason`).
#[derive(Debug, Clone, Copy)]
enum Takeover {
    /// Nothing heard since `since`.
    NoResponse { since: Instant },
    /// `state MASTER` below 255, listening since `since`.
    InitialMaster { since: Instant },
    /// The master sent priority 0 at `at`.
    Released { source: IpAddr, at: Instant },
    /// A lower priority master is being ignored.
    Preempt { priority: u8, source: IpAddr },
}

/// One VRRP instance.
///
/// Feed it [`start`](Machine::start), [`handle_advert`](Machine::handle_advert),
/// [`handle_timeout`](Machine::handle_timeout) (when [`poll_timeout`](Machine::poll_timeout)
/// is reached), the trackers' [`set_fault`](Machine::set_fault) and
/// [`set_priority`](Machine::set_priority), and [`shutdown`](Machine::shutdown); after each
/// call drain [`poll_output`](Machine::poll_output).
#[derive(Debug)]
pub struct Machine {
    config: VrrpConfig,
    warnings: Vec<ConfigWarning>,
    state: State,
    effective_priority: u8,
    master_adver_int: Duration,
    timer: Option<(Timer, Instant)>,
    takeover: Option<Takeover>,
    /// `preempt_delay`: until when lower priority adverts are still accepted.
    preempt_at: Option<Instant>,
    /// Backup: the source of the last advertisement accepted or seen.
    master: Option<IpAddr>,
    fault: Option<String>,
    outputs: VecDeque<Output>,
}

impl Machine {
    /// An instance in [`State::Init`]. The configuration is [checked](VrrpConfig::check);
    /// what keepalived would reset is reset and listed in [`warnings`](Machine::warnings).
    pub fn new(config: VrrpConfig) -> Result<Self, ConfigError> {
        let (config, warnings) = config.check()?;
        Ok(Machine {
            effective_priority: config.priority,
            master_adver_int: config.advert_int,
            config,
            warnings,
            state: State::Init,
            timer: None,
            takeover: None,
            preempt_at: None,
            master: None,
            fault: None,
            outputs: VecDeque::new(),
        })
    }

    /// Leaves Init.
    ///
    /// - A fault set before starting: → Fault.
    /// - Priority 255 with `state MASTER`: send an advert, → Master at once.
    /// - `state MASTER` below 255 (keepalived's `vrrp_init_state`): → Backup with a short
    ///   down timer of one advertisement interval + the smallest skew ("we need to allow one
    ///   adver_int to pass to ensure there is no other master"); a master heard at or above
    ///   our priority holds us back as usual.
    /// - Otherwise (`state BACKUP`, even at 255): → Backup for a whole Master_Down_Interval.
    pub fn start(&mut self, now: Instant) {
        if self.state != State::Init {
            return;
        }
        if let Some(why) = self.fault.clone() {
            self.transition(State::Fault, Reason::Fault(why));
            return;
        }
        match self.config.initial {
            InitialState::Master if self.config.priority == PRIORITY_OWNER => {
                self.become_master(now, Reason::AddressOwner);
            }
            InitialState::Master => {
                self.enter_backup(now, Reason::Startup);
                let wait = self.master_adver_int + skew_min(self.config.version, self.master_adver_int);
                self.timer = Some((Timer::MasterDown, now + wait));
                self.takeover = Some(Takeover::InitialMaster { since: now });
            }
            InitialState::Backup => self.enter_backup(now, Reason::Startup),
        }
    }

    /// A received advertisement for our VRID, already checked by the driver. Ignored in
    /// Init, Fault and Stopped.
    pub fn handle_advert(&mut self, now: Instant, advert: &Advert) {
        if !matches!(self.state, State::Backup | State::Master) {
            return;
        }
        if let Some(reason) = self.discard_reason(advert) {
            self.outputs.push_back(Output::Discarded { source: advert.source, reason });
            return;
        }
        match self.state {
            State::Backup => self.backup_rx(now, advert),
            State::Master => self.master_rx(now, advert),
            _ => {}
        }
    }

    /// Runs the timer if it is due (calling early does nothing).
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some((timer, at)) = self.timer else { return };
        if at > now {
            return;
        }
        match (timer, self.state) {
            (Timer::Advert, State::Master) => self.send_advert(now),
            (Timer::MasterDown, State::Backup) => {
                let reason = match self.takeover {
                    Some(Takeover::InitialMaster { since }) => Reason::InitialMaster { waited: now - since },
                    Some(Takeover::Released { source, at }) => Reason::MasterReleased { source, waited: now - at },
                    Some(Takeover::Preempt { priority, source }) => Reason::Preempted { priority, source },
                    Some(Takeover::NoResponse { since }) => Reason::MasterDown { silent_for: now - since },
                    None => Reason::MasterDown { silent_for: Duration::ZERO },
                };
                self.become_master(now, reason);
            }
            _ => self.timer = None,
        }
    }

    /// When [`handle_timeout`](Machine::handle_timeout) wants to be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer.map(|(_, at)| at)
    }

    /// The running timer and its deadline.
    pub fn timer(&self) -> Option<(Timer, Instant)> {
        self.timer
    }

    /// The next thing to do, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// A tracked interface went down or a weight-0 script failed (`fault`), or all such
    /// trackers are fine again (`!fault`). Entering Fault a master advertises priority 0
    /// (keepalived's `vrrp_state_leave_master`) so that a backup takes over after Skew_Time.
    /// Leaving Fault: the address owner with `state MASTER` becomes master at once, the
    /// others Backup with Master_Adver_Interval back to our own interval
    /// (`vrrp_state_leave_fault`).
    pub fn set_fault(&mut self, now: Instant, fault: bool, why: String) {
        if self.state == State::Stopped {
            return;
        }
        if fault {
            let entering = self.fault.is_none() && matches!(self.state, State::Backup | State::Master);
            self.fault = Some(why.clone());
            if !entering {
                return;
            }
            if self.state == State::Master {
                self.outputs.push_back(Output::Send { priority: PRIORITY_STOP });
            }
            self.clear_timers();
            self.master_adver_int = self.config.advert_int;
            self.transition(State::Fault, Reason::Fault(why));
        } else if self.fault.take().is_some() && self.state == State::Fault {
            self.master_adver_int = self.config.advert_int;
            if self.config.priority == PRIORITY_OWNER && self.config.initial == InitialState::Master {
                self.become_master(now, Reason::FaultCleared);
            } else {
                self.enter_backup(now, Reason::FaultCleared);
            }
        }
    }

    /// The trackers' new effective priority (base + weights), clamped to 1..=254; the address
    /// owner's stays 255. A master advertises it from its next advert on (keepalived does
    /// not send one at once); a backup's running down timer moves by the change in
    /// Skew_Time (keepalived moves it by the change in Master_Down_Interval, which is the
    /// same except right after a priority 0 advert).
    pub fn set_priority(&mut self, now: Instant, effective: u8) {
        if self.config.priority == PRIORITY_OWNER {
            return;
        }
        let new = effective.clamp(1, PRIORITY_OWNER - 1);
        let old = self.effective_priority;
        if new == old {
            return;
        }
        self.effective_priority = new;
        if let (State::Backup, Some((Timer::MasterDown, at))) = (self.state, self.timer) {
            let old_skew = skew_time(self.config.version, old, self.master_adver_int);
            let new_skew = skew_time(self.config.version, new, self.master_adver_int);
            let moved = if new_skew >= old_skew {
                Some(at + (new_skew - old_skew))
            } else {
                at.checked_sub(old_skew - new_skew)
            };
            let at = moved.map_or(now, |at| at.max(now));
            self.timer = Some((Timer::MasterDown, at));
        }
    }

    /// Stops the instance: a master advertises priority 0 once; every state → Stopped.
    pub fn shutdown(&mut self, _now: Instant) {
        if self.state == State::Stopped {
            return;
        }
        if self.state == State::Master {
            self.outputs.push_back(Output::Send { priority: PRIORITY_STOP });
        }
        self.clear_timers();
        self.transition(State::Stopped, Reason::Shutdown);
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The priority we advertise and compare with.
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    /// Master_Adver_Interval: our own interval, or in v3 the one adopted from the master.
    pub fn master_adver_int(&self) -> Duration {
        self.master_adver_int
    }

    /// Skew_Time for our effective priority and Master_Adver_Interval.
    pub fn skew_time(&self) -> Duration {
        skew_time(self.config.version, self.effective_priority, self.master_adver_int)
    }

    /// Master_Down_Interval for our effective priority and Master_Adver_Interval.
    pub fn master_down_interval(&self) -> Duration {
        master_down_interval(
            self.config.version,
            self.config.down_timer_adverts,
            self.effective_priority,
            self.master_adver_int,
        )
    }

    /// In Backup, the master we last heard.
    pub fn current_master(&self) -> Option<IpAddr> {
        if self.state == State::Backup { self.master } else { None }
    }

    /// The configuration in force (after keepalived's resets).
    pub fn config(&self) -> &VrrpConfig {
        &self.config
    }

    /// The settings [`VrrpConfig::check`] reset.
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    fn discard_reason(&self, advert: &Advert) -> Option<Discard> {
        if advert.source == self.config.primary_addr {
            return Some(Discard::OwnAddress);
        }
        match self.config.version {
            Version::V2 if advert.advert_int != self.config.advert_int => {
                Some(Discard::IntervalMismatch { ours: self.config.advert_int, theirs: advert.advert_int })
            }
            Version::V3 if advert.advert_int < V3_ADVERT_INT_MIN || advert.advert_int > V3_ADVERT_INT_MAX => {
                Some(Discard::InvalidInterval(advert.advert_int))
            }
            _ => None,
        }
    }

    /// keepalived's `vrrp_state_backup`.
    fn backup_rx(&mut self, now: Instant, advert: &Advert) {
        self.master = Some(advert.source);
        if advert.priority == PRIORITY_STOP {
            self.timer = Some((Timer::MasterDown, now + self.skew_time()));
            self.takeover = Some(Takeover::Released { source: advert.source, at: now });
            return;
        }
        let lower = advert.priority < self.effective_priority;
        let delaying = !self.config.preempt_delay.is_zero() && self.preempt_at.is_none_or(|at| at > now);
        if !self.config.preempt || !lower || delaying {
            self.adopt_interval(advert);
            self.timer = Some((Timer::MasterDown, now + self.master_down_interval()));
            self.takeover = Some(Takeover::NoResponse { since: now });
            if !self.config.preempt_delay.is_zero() {
                if !lower {
                    self.preempt_at = None;
                } else if self.preempt_at.is_none() {
                    self.preempt_at = Some(now + self.config.preempt_delay);
                }
            }
        } else {
            // Preempting: let the down timer run out (keepalived: "received lower priority
            // advert - discarding").
            self.takeover = Some(Takeover::Preempt { priority: advert.priority, source: advert.source });
        }
    }

    /// keepalived's `vrrp_state_master_rx`.
    fn master_rx(&mut self, now: Instant, advert: &Advert) {
        if advert.priority == PRIORITY_STOP {
            self.send_advert(now);
            return;
        }
        let ours = self.effective_priority;
        let address = compare_addresses(advert.source, self.config.primary_addr);
        match advert.priority.cmp(&ours).then(address.unwrap_or(Ordering::Equal)) {
            Ordering::Greater => {
                if self.config.higher_prio_send_advert {
                    self.outputs.push_back(Output::Send { priority: ours });
                }
                self.adopt_interval(advert);
                let reason = if advert.priority > ours {
                    Reason::HigherPriority { priority: advert.priority, source: advert.source }
                } else {
                    Reason::EqualPriorityHigherAddress { priority: advert.priority, source: advert.source }
                };
                self.enter_backup(now, reason);
                self.master = Some(advert.source);
            }
            Ordering::Less => {
                self.outputs
                    .push_back(Output::LowerPriorityMaster { priority: advert.priority, source: advert.source });
                if !self.config.lower_prio_no_advert {
                    self.send_advert(now);
                }
            }
            // Same priority and an address we cannot order against ours: keep going.
            Ordering::Equal => {}
        }
    }

    /// RFC 5798: a v3 backup takes the master's interval as Master_Adver_Interval. v2 peers
    /// share one interval (mismatches were discarded).
    fn adopt_interval(&mut self, advert: &Advert) {
        if self.config.version == Version::V3 {
            self.master_adver_int = advert.advert_int;
        }
    }

    fn send_advert(&mut self, now: Instant) {
        self.outputs.push_back(Output::Send { priority: self.effective_priority });
        self.timer = Some((Timer::Advert, now + self.config.advert_int));
    }

    fn become_master(&mut self, now: Instant, reason: Reason) {
        self.takeover = None;
        self.preempt_at = None;
        self.master = None;
        self.send_advert(now);
        self.transition(State::Master, reason);
    }

    /// Backup with a fresh Master_Down_Interval.
    fn enter_backup(&mut self, now: Instant, reason: Reason) {
        self.preempt_at = None;
        self.master = None;
        self.transition(State::Backup, reason);
        self.timer = Some((Timer::MasterDown, now + self.master_down_interval()));
        self.takeover = Some(Takeover::NoResponse { since: now });
    }

    fn clear_timers(&mut self) {
        self.timer = None;
        self.takeover = None;
        self.preempt_at = None;
        self.master = None;
    }

    fn transition(&mut self, to: State, reason: Reason) {
        let from = self.state;
        self.state = to;
        self.outputs.push_back(Output::Transition { from, to, reason });
    }
}

/// Orders two primary addresses as unsigned numbers, IPv4 with IPv4 and IPv6 with IPv6;
/// `None` across families.
fn compare_addresses(theirs: IpAddr, ours: IpAddr) -> Option<Ordering> {
    match (theirs, ours) {
        (IpAddr::V4(a), IpAddr::V4(b)) => Some(u32::from(a).cmp(&u32::from(b))),
        (IpAddr::V6(a), IpAddr::V6(b)) => Some(u128::from(a).cmp(&u128::from(b))),
        _ => None,
    }
}
