//! What one VRRP instance is configured with ([`VrrpConfig`]), checked once by
//! [`VrrpConfig::check`]: impossible settings are errors, settings keepalived silently resets
//! (with a configuration warning) are reset the same way and reported as [`ConfigWarning`]s.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// The protocol version: it decides the advertisement interval's unit and the skew formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// RFC 3768: IPv4 only, advertisement interval in whole seconds (1..=255).
    V2,
    /// RFC 5798: IPv4 or IPv6, interval in centiseconds (10 ms ..= 40.95 s), adopted from the
    /// master by backups.
    V3,
}

/// keepalived's `state MASTER|BACKUP`: where an instance wants to be when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InitialState {
    /// `state MASTER`. With priority 255 the instance is master at once; below 255 it listens
    /// for one advertisement interval (+ the smallest skew) before taking over.
    Master,
    /// `state BACKUP`: wait a whole Master_Down_Interval, even with priority 255.
    Backup,
}

impl InitialState {
    /// keepalived's choice when `state` is not given: MASTER for the address owner (priority
    /// 255), BACKUP otherwise (`vrrp_complete_instance`).
    pub fn default_for(priority: u8) -> Self {
        if priority == PRIORITY_OWNER { InitialState::Master } else { InitialState::Backup }
    }
}

/// The address owner's priority (RFC 5798 §5.2.4); tracking never changes it.
pub const PRIORITY_OWNER: u8 = 255;
/// The priority a master advertises when it stops (RFC 5798 §5.2.4).
pub const PRIORITY_STOP: u8 = 0;
/// keepalived's `priority` when none is given.
pub const PRIORITY_DEFAULT: u8 = 100;

/// Least and greatest VRRPv3 advertisement intervals: 1 and 4095 centiseconds.
pub const V3_ADVERT_INT_MIN: Duration = Duration::from_millis(10);
/// See [`V3_ADVERT_INT_MIN`].
pub const V3_ADVERT_INT_MAX: Duration = Duration::from_millis(40_950);
/// Greatest VRRPv2 advertisement interval (an 8-bit count of seconds).
pub const V2_ADVERT_INT_MAX: Duration = Duration::from_secs(255);
/// keepalived's `preempt_delay` range ends at 1000 s.
pub const PREEMPT_DELAY_MAX: Duration = Duration::from_secs(1000);

/// One VRRP instance's settings, as keepalived's `vrrp_instance` block gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpConfig {
    /// `virtual_router_id`, 1..=255.
    pub vrid: u8,
    /// `priority`: the configured base priority, 1..=255 (255 = address owner).
    pub priority: u8,
    /// `advert_int`: v2 whole seconds (1..=255 s), v3 whole centiseconds (10 ms ..= 40.95 s).
    pub advert_int: Duration,
    /// `version`.
    pub version: Version,
    /// `false` for `nopreempt`: a higher-priority backup lets a lower-priority master be.
    pub preempt: bool,
    /// `preempt_delay` (0 ..= 1000 s): how long a backup keeps accepting a lower-priority
    /// master, counted from the first such advertisement it hears (see [`Machine`](super::Machine)).
    pub preempt_delay: Duration,
    /// `state`.
    pub initial: InitialState,
    /// Our primary address (the adverts' source), compared with a peer's on equal priority.
    pub primary_addr: IpAddr,
    /// `down_timer_adverts` (1..=100, 3): advertisements missed before the master is down.
    pub down_timer_adverts: u32,
    /// `lower_prio_no_advert`: a master hearing a lower priority does not answer with an
    /// advertisement at once (off by default: keepalived answers, forcing a new election).
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: a master hearing a higher priority sends one last
    /// advertisement before becoming backup (off by default).
    pub higher_prio_send_advert: bool,
}

impl VrrpConfig {
    /// An instance with keepalived's defaults: VRRPv2, 1 s adverts, preempt without delay,
    /// `state` derived from the priority, 3 adverts to the down timer.
    pub fn new(vrid: u8, priority: u8, primary_addr: IpAddr) -> Self {
        VrrpConfig {
            vrid,
            priority,
            advert_int: Duration::from_secs(1),
            version: Version::V2,
            preempt: true,
            preempt_delay: Duration::ZERO,
            initial: InitialState::default_for(priority),
            primary_addr,
            down_timer_adverts: 3,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
        }
    }

    /// Rejects what cannot work and resets, as keepalived's `vrrp_complete_instance` does,
    /// what it ignores: `nopreempt` on the address owner, `nopreempt` and `preempt_delay` with
    /// `state MASTER`, `preempt_delay` with `nopreempt`.
    pub fn check(mut self) -> Result<(VrrpConfig, Vec<ConfigWarning>), ConfigError> {
        if self.vrid == 0 {
            return Err(ConfigError::Vrid);
        }
        if self.priority == PRIORITY_STOP {
            return Err(ConfigError::Priority);
        }
        match self.version {
            Version::V2 => {
                if self.primary_addr.is_ipv6() {
                    return Err(ConfigError::V2Ipv6);
                }
                if self.advert_int.is_zero()
                    || self.advert_int > V2_ADVERT_INT_MAX
                    || self.advert_int.subsec_nanos() != 0
                {
                    return Err(ConfigError::AdvertInt { version: self.version, advert_int: self.advert_int });
                }
            }
            Version::V3 => {
                if self.advert_int < V3_ADVERT_INT_MIN
                    || self.advert_int > V3_ADVERT_INT_MAX
                    || !self.advert_int.subsec_nanos().is_multiple_of(10_000_000)
                {
                    return Err(ConfigError::AdvertInt { version: self.version, advert_int: self.advert_int });
                }
            }
        }
        if !(1..=100).contains(&self.down_timer_adverts) {
            return Err(ConfigError::DownTimerAdverts(self.down_timer_adverts));
        }
        if self.preempt_delay > PREEMPT_DELAY_MAX {
            return Err(ConfigError::PreemptDelay(self.preempt_delay));
        }

        let mut warnings = Vec::new();
        if self.priority == PRIORITY_OWNER && !self.preempt {
            warnings.push(ConfigWarning::NopreemptOwner);
            self.preempt = true;
        }
        if self.initial == InitialState::Master {
            if !self.preempt {
                warnings.push(ConfigWarning::NopreemptInitialMaster);
                self.preempt = true;
            }
            if !self.preempt_delay.is_zero() {
                warnings.push(ConfigWarning::PreemptDelayInitialMaster);
                self.preempt_delay = Duration::ZERO;
            }
        }
        if !self.preempt && !self.preempt_delay.is_zero() {
            warnings.push(ConfigWarning::PreemptDelayNopreempt);
            self.preempt_delay = Duration::ZERO;
        }
        Ok((self, warnings))
    }
}

/// A setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `virtual_router_id 0`.
    #[error("virtual_router_id must be 1..=255")]
    Vrid,
    /// `priority 0` (reserved for a master that stops).
    #[error("priority must be 1..=255 (0 is what a stopping master advertises)")]
    Priority,
    /// VRRPv2 has no IPv6.
    #[error("VRRP version 2 cannot run over IPv6: use version 3")]
    V2Ipv6,
    /// An interval the version cannot carry.
    #[error(
        "advert_int {advert_int:?} cannot be sent with VRRP {version:?} (v2: whole seconds 1..=255; v3: whole centiseconds 0.01..=40.95 s)"
    )]
    AdvertInt {
        /// The version.
        version: Version,
        /// The interval.
        advert_int: Duration,
    },
    /// `down_timer_adverts` out of 1..=100.
    #[error("down_timer_adverts {0} is not in 1..=100")]
    DownTimerAdverts(u32),
    /// `preempt_delay` beyond 1000 s.
    #[error("preempt_delay {0:?} is above keepalived's 1000 s")]
    PreemptDelay(Duration),
}

/// A setting keepalived ignores (it resets it and says so); [`VrrpConfig::check`] does the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigWarning {
    /// `nopreempt` with priority 255.
    NopreemptOwner,
    /// `nopreempt` with `state MASTER`.
    NopreemptInitialMaster,
    /// `preempt_delay` with `state MASTER`.
    PreemptDelayInitialMaster,
    /// `preempt_delay` with `nopreempt`.
    PreemptDelayNopreempt,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigWarning::NopreemptOwner => "nopreempt is incompatible with priority 255: cleared",
            ConfigWarning::NopreemptInitialMaster => "nopreempt does not work with state MASTER: cleared",
            ConfigWarning::PreemptDelayInitialMaster => "preempt_delay does not work with state MASTER: cleared",
            ConfigWarning::PreemptDelayNopreempt => "preempt_delay is incompatible with nopreempt: cleared",
        })
    }
}
