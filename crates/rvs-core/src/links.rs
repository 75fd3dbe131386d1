//! The director's own links as the health checks and the next-hop resolution see them: which
//! are down, and how many times one came back. rvs-ha's carrier watch publishes it; rvs-health
//! and rvsd read it.

/// What the carrier watch reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carrier {
    /// The watched interfaces that are down (no carrier, or administratively down), by name.
    pub down: Vec<String>,
    /// The indexes of the watched interfaces that are up.
    pub up_indexes: Vec<u32>,
    /// How many times a watched interface has come back since the watch started: a reader that
    /// was busy while one went down and came back sees this move even though `down` looks
    /// the same as before.
    pub returns: u64,
}
