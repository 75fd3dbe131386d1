//! Reading `rvsadm -Ln` listings: the real-server rows with their weights and connection
//! counts, which the scheduling tests check against what they did.

/// One `  -> RemoteAddress:Port Forward Weight ActiveConn InActConn` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestRow {
    /// `192.168.0.11:80`.
    pub addr: String,
    /// `Route`, `Masq`, `Tunnel`, `Local`.
    pub forward: String,
    /// The weight.
    pub weight: i64,
    /// ActiveConn.
    pub active: u64,
    /// InActConn.
    pub inactive: u64,
}

/// The real-server rows of a `-Ln` listing, in listing order (all services together).
pub fn dest_rows(listing: &str) -> Vec<DestRow> {
    listing
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.strip_prefix("  -> ")?.split_whitespace().collect();
            let [addr, forward, weight, active, inactive] = words.as_slice() else {
                return None;
            };
            Some(DestRow {
                addr: (*addr).to_owned(),
                forward: (*forward).to_owned(),
                weight: weight.parse().ok()?,
                active: active.parse().ok()?,
                inactive: inactive.parse().ok()?,
            })
        })
        .collect()
}

/// The row of real server `addr` (`192.168.0.11:80`), if listed.
pub fn dest_row(listing: &str, addr: &str) -> Option<DestRow> {
    dest_rows(listing).into_iter().find(|row| row.addr == addr)
}

/// The service lines (`TCP  192.168.0.100:80 rr`) of a `-Ln` listing.
pub fn service_lines(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|line| {
            ["TCP  ", "UDP  ", "SCTP ", "FWM  "]
                .iter()
                .any(|p| line.starts_with(p))
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.0.100:80 rr
  -> 192.168.0.11:80              Route   1      0          5         
  -> 192.168.0.22:80              Route   0      2          13        
UDP  192.168.0.100:53 wlc
";

    #[test]
    fn rows_carry_weights_and_counts() {
        let rows = dest_rows(LISTING);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(
            rows[1],
            DestRow {
                addr: "192.168.0.22:80".into(),
                forward: "Route".into(),
                weight: 0,
                active: 2,
                inactive: 13,
            }
        );
        assert_eq!(
            dest_row(LISTING, "192.168.0.11:80").map(|r| r.inactive),
            Some(5)
        );
        assert_eq!(dest_row(LISTING, "192.168.0.33:80"), None);
    }

    #[test]
    fn services_are_listed_without_their_reals() {
        assert_eq!(
            service_lines(LISTING),
            ["TCP  192.168.0.100:80 rr", "UDP  192.168.0.100:53 wlc"]
        );
        assert!(service_lines("IP Virtual Server version 1.2.1 (size=4096)\n").is_empty());
    }
}
