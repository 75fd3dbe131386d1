//! Adverts between the state machine and the wire: what this instance sends, and which received
//! messages are for it (RFC 5798 §7.1's receiver checks that [`rvs_wire::vrrp::Repr::parse`]
//! cannot make alone: TTL, VRID, version, password).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use rvs_wire::vrrp::{self, Addresses, Family, Packet, PseudoHeader, Repr, Version as WireVersion};

use super::socket::Received;
use crate::vrrp::{Advert, Version};

/// What every advert of an instance carries besides its priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertTemplate {
    pub version: Version,
    pub vrid: u8,
    pub advert_int: Duration,
    /// The IPv4 virtual addresses, in configuration order.
    pub addresses: Vec<Ipv4Addr>,
    /// VRRPv2 `auth_type PASS`, zero-padded.
    pub auth: Option<[u8; vrrp::AUTH_DATA_LEN]>,
}

/// Why a received message was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// Another virtual router on the same link: not ours, not counted as a problem.
    OtherVrid,
    /// Anything wrong: logged (rate-limited by the caller) and counted.
    Invalid(String),
}

fn wire_version(v: Version) -> WireVersion {
    match v {
        Version::V2 => WireVersion::V2,
        Version::V3 => WireVersion::V3,
    }
}

impl AdvertTemplate {
    /// The advert with `priority`, from `source` to `destination`, as bytes. Fails only for a
    /// template the configuration checks should have refused (no address, over 255 of them).
    pub fn encode(&self, priority: u8, source: Ipv4Addr, destination: Ipv4Addr) -> Result<Vec<u8>, rvs_wire::Error> {
        let centis = u16::try_from(self.advert_int.as_millis() / 10).unwrap_or(vrrp::MAX_ADVERT_INT_V3_CS);
        let repr = Repr {
            version: wire_version(self.version),
            vrid: self.vrid,
            priority,
            advert_int_cs: centis,
            addresses: Addresses::v4(&self.addresses),
            auth: match self.version {
                Version::V2 => self.auth,
                Version::V3 => None,
            },
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        let mut packet = Packet::new_unchecked(&mut buf[..], Family::Ipv4);
        repr.emit(&mut packet, &PseudoHeader::V4 { src: source, dst: destination })?;
        Ok(buf)
    }

    /// The state machine's view of a received datagram, if it is a valid advert of this
    /// virtual router.
    pub fn decode(&self, received: &Received) -> Result<Advert, Ignored> {
        let invalid = |why: String| Err(Ignored::Invalid(format!("from {}: {why}", received.source)));
        let packet = match Packet::new_checked(&received.payload[..], Family::Ipv4) {
            Ok(packet) => packet,
            Err(e) => return invalid(format!("malformed VRRP message ({e})")),
        };
        if packet.vrid() != self.vrid {
            return Err(Ignored::OtherVrid);
        }
        let ip = PseudoHeader::V4 { src: received.source, dst: received.destination };
        let repr = match Repr::parse(&packet, &ip) {
            Ok(repr) => repr,
            Err(e) => return invalid(format!("invalid advertisement ({e})")),
        };
        if u32::from(received.ttl) != super::socket::VRRP_TTL {
            return invalid(format!("TTL {} is not 255: the advert crossed a router", received.ttl));
        }
        if repr.version != wire_version(self.version) {
            let theirs = u8::from(repr.version);
            return invalid(format!("VRRPv{theirs} advert, this instance speaks VRRPv{}", u8::from(wire_version(self.version))));
        }
        if self.version == Version::V2 && repr.auth != self.auth {
            return invalid("authentication does not match".to_owned());
        }
        Ok(Advert {
            priority: repr.priority,
            advert_int: Duration::from_millis(u64::from(repr.advert_int_cs) * 10),
            source: IpAddr::V4(received.source),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(version: Version) -> AdvertTemplate {
        AdvertTemplate {
            version,
            vrid: 51,
            advert_int: Duration::from_millis(if version == Version::V3 { 100 } else { 1000 }),
            addresses: vec![Ipv4Addr::new(192, 168, 1, 250), Ipv4Addr::new(10, 0, 0, 254)],
            auth: (version == Version::V2).then(|| vrrp::simple_auth(b"secret")),
        }
    }

    fn received(payload: Vec<u8>, ttl: u8) -> Received {
        Received { source: Ipv4Addr::new(192, 168, 1, 10), destination: vrrp::MULTICAST_V4, ttl, payload }
    }

    #[test]
    fn what_is_sent_is_read_back_by_a_peer_of_the_same_instance() {
        for version in [Version::V2, Version::V3] {
            let t = template(version);
            let bytes = t.encode(150, Ipv4Addr::new(192, 168, 1, 10), vrrp::MULTICAST_V4).unwrap();
            let advert = t.decode(&received(bytes.clone(), 255)).unwrap();
            assert_eq!(advert.priority, 150);
            assert_eq!(advert.advert_int, t.advert_int, "{version:?}");
            assert_eq!(advert.source, IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10)));
            // The receiver's checks.
            assert!(matches!(t.decode(&received(bytes.clone(), 254)), Err(Ignored::Invalid(e)) if e.contains("TTL 254")));
            let mut other = t.clone();
            other.vrid = 52;
            assert_eq!(other.decode(&received(bytes.clone(), 255)), Err(Ignored::OtherVrid));
            let mut corrupt = bytes.clone();
            corrupt[2] = 151;
            assert!(matches!(t.decode(&received(corrupt, 255)), Err(Ignored::Invalid(_))));
        }
    }

    #[test]
    fn version_and_password_must_match() {
        let v2 = template(Version::V2);
        let v3 = template(Version::V3);
        let from_v3 = v3.encode(100, Ipv4Addr::new(192, 168, 1, 10), vrrp::MULTICAST_V4).unwrap();
        assert!(matches!(v2.decode(&received(from_v3, 255)), Err(Ignored::Invalid(e)) if e.contains("VRRPv3")));
        let mut wrong = v2.clone();
        wrong.auth = Some(vrrp::simple_auth(b"other"));
        let bytes = wrong.encode(100, Ipv4Addr::new(192, 168, 1, 10), vrrp::MULTICAST_V4).unwrap();
        assert!(matches!(v2.decode(&received(bytes, 255)), Err(Ignored::Invalid(e)) if e.contains("authentication")));
        assert!(matches!(v2.decode(&received(vec![0x21, 51], 255)), Err(Ignored::Invalid(_))));
    }
}
