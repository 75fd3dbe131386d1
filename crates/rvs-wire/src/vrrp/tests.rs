//! Tests on advertisements captured from keepalived 2.2.7 on a veth in a network namespace
//! (10.99.3.1 and fe80::a, to 224.0.0.18 and ff02::12, TX checksum offload off).

use super::*;
use std::string::ToString;

const SRC_V4: Ipv4Address = Ipv4Address::new(10, 99, 3, 1);
const SRC_V6: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x0a);
const IP_V4: PseudoHeader = PseudoHeader::V4 {
    src: SRC_V4,
    dst: MULTICAST_V4,
};
const IP_V6: PseudoHeader = PseudoHeader::V6 {
    src: SRC_V6,
    dst: MULTICAST_V6,
};

/// Version 2, VRID 51, priority 150, `auth_type PASS` "s3cret", 1 s, 192.0.2.10 and .11.
const V2_PASS: [u8; 24] = [
    0x21, 0x33, 0x96, 0x02, 0x01, 0x01, 0x87, 0x98, 0xc0, 0x00, 0x02, 0x0a, 0xc0, 0x00, 0x02,
    0x0b, //
    0x73, 0x33, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00,
];
/// The same instance resigning (priority 0) when keepalived stopped.
const V2_RESIGN: [u8; 24] = [
    0x21, 0x33, 0x00, 0x02, 0x01, 0x01, 0x1d, 0x99, 0xc0, 0x00, 0x02, 0x0a, 0xc0, 0x00, 0x02,
    0x0b, //
    0x73, 0x33, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00,
];
/// Version 3 over IPv4, VRID 52, priority 200, 100 cs, 198.51.100.7.
const V3_V4: [u8; 12] = [
    0x31, 0x34, 0xc8, 0x01, 0x00, 0x64, 0xee, 0x37, 0xc6, 0x33, 0x64, 0x07,
];
/// Version 3 over IPv6, VRID 53, priority 100, 150 cs, 2001:db8::7 and 2001:db8::8.
const V3_V6: [u8; 40] = [
    0x31, 0x35, 0x64, 0x02, 0x00, 0x96, 0x10, 0x79, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
    0x00, //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
    0x00, //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
];

const VIPS_V2: [Ipv4Address; 2] = [
    Ipv4Address::new(192, 0, 2, 10),
    Ipv4Address::new(192, 0, 2, 11),
];
const VIPS_V3: [Ipv4Address; 1] = [Ipv4Address::new(198, 51, 100, 7)];
const VIPS_V6: [Ipv6Address; 2] = [
    Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7),
    Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 8),
];

fn v2_repr(priority: u8) -> Repr<'static> {
    Repr {
        version: Version::V2,
        vrid: 51,
        priority,
        advert_int_cs: 100,
        addresses: Addresses::v4(&VIPS_V2),
        auth: Some(simple_auth(b"s3cret")),
    }
}

fn v3_repr() -> Repr<'static> {
    Repr {
        version: Version::V3,
        vrid: 52,
        priority: 200,
        advert_int_cs: 100,
        addresses: Addresses::v4(&VIPS_V3),
        auth: None,
    }
}

fn v6_repr() -> Repr<'static> {
    Repr {
        version: Version::V3,
        vrid: 53,
        priority: 100,
        advert_int_cs: 150,
        addresses: Addresses::v6(&VIPS_V6),
        auth: None,
    }
}

#[test]
fn constants_match_the_rfcs() {
    assert_eq!(u8::from(IP_PROTOCOL), 112);
    assert_eq!(MULTICAST_V4.octets(), [224, 0, 0, 18]);
    assert_eq!(MULTICAST_V6.to_string(), "ff02::12");
    assert_eq!(TTL, 255);
}

#[test]
fn reads_a_captured_v2_advert_with_password() -> Result<(), Error> {
    let p = Packet::new_checked(&V2_PASS[..], Family::Ipv4)?;
    assert_eq!(
        (p.version(), p.msg_type(), p.vrid(), p.priority()),
        (2, 1, 51, 150)
    );
    assert_eq!(
        (p.addr_count(), p.auth_type(), p.adver_int_s()),
        (2, AuthType::SimpleText, 1)
    );
    assert_eq!(
        (p.advert_int_cs(), p.checksum(), p.message_len()),
        (100, 0x8798, 24)
    );
    assert_eq!(p.address_bytes(), &[192, 0, 2, 10, 192, 0, 2, 11]);
    assert_eq!(p.auth_data(), b"s3cret\0\0");
    // Version 2 does not cover the pseudo-header: any addresses verify.
    let elsewhere = PseudoHeader::V4 {
        src: Ipv4Address::new(192, 0, 2, 99),
        dst: MULTICAST_V4,
    };
    assert!(p.verify_checksum(&IP_V4) && p.verify_checksum(&elsewhere));
    assert_eq!(Repr::parse(&p, &IP_V4)?, v2_repr(150));
    let resign = Packet::new_checked(&V2_RESIGN[..], Family::Ipv4)?;
    assert_eq!(Repr::parse(&resign, &IP_V4)?, v2_repr(0));
    Ok(())
}

#[test]
fn reads_captured_v3_adverts_over_ipv4_and_ipv6() -> Result<(), Error> {
    let p = Packet::new_checked(&V3_V4[..], Family::Ipv4)?;
    assert_eq!(
        (p.version(), p.max_adver_int_cs(), p.auth_data().len()),
        (3, 100, 0)
    );
    let repr = Repr::parse(&p, &IP_V4)?;
    assert_eq!(repr, v3_repr());
    assert_eq!(
        repr.addresses.iter().collect::<std::vec::Vec<_>>(),
        [IpAddr::V4(VIPS_V3[0])]
    );

    let p = Packet::new_checked(&V3_V6[..], Family::Ipv6)?;
    assert_eq!(
        (p.addr_count(), p.advert_int_cs(), p.message_len()),
        (2, 150, 40)
    );
    let repr = Repr::parse(&p, &IP_V6)?;
    assert_eq!(repr, v6_repr());
    assert_eq!(repr.addresses.family(), Family::Ipv6);
    assert!(
        repr.addresses
            .iter()
            .eq(VIPS_V6.iter().map(|&a| IpAddr::V6(a)))
    );
    Ok(())
}

#[test]
fn emit_reproduces_the_captures() -> Result<(), Error> {
    let cases: [(Repr, &PseudoHeader, &[u8]); 4] = [
        (v2_repr(150), &IP_V4, &V2_PASS),
        (v2_repr(0), &IP_V4, &V2_RESIGN),
        (v3_repr(), &IP_V4, &V3_V4),
        (v6_repr(), &IP_V6, &V3_V6),
    ];
    for (repr, ip, expected) in cases {
        let mut out = std::vec![0xeeu8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut out[..], ip.family()), ip)?;
        assert_eq!(out, expected);
    }
    Ok(())
}

#[test]
fn v3_checksum_covers_the_pseudo_header() -> Result<(), Error> {
    let other_src = PseudoHeader::V4 {
        src: Ipv4Address::new(10, 99, 3, 2),
        dst: MULTICAST_V4,
    };
    let p = Packet::new_checked(&V3_V4[..], Family::Ipv4)?;
    assert!(!p.verify_checksum(&other_src));
    assert_eq!(Repr::parse(&p, &other_src), Err(Error::Checksum));
    // A sender with `vrrp_v3_checksum_as_v2` leaves the pseudo-header out: rejected.
    assert_ne!(checksum::data(&V3_V4), 0xffff);
    let other_v6 = PseudoHeader::V6 {
        src: Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x0b),
        dst: MULTICAST_V6,
    };
    let p = Packet::new_checked(&V3_V6[..], Family::Ipv6)?;
    assert_eq!(Repr::parse(&p, &other_v6), Err(Error::Checksum));
    let mut bytes = V2_PASS;
    bytes[20] ^= 1;
    let p = Packet::new_checked(&bytes[..], Family::Ipv4)?;
    assert_eq!(Repr::parse(&p, &IP_V4), Err(Error::Checksum));
    Ok(())
}

#[test]
fn every_cut_is_truncated() {
    for (bytes, family) in [
        (&V2_PASS[..], Family::Ipv4),
        (&V3_V4[..], Family::Ipv4),
        (&V3_V6[..], Family::Ipv6),
    ] {
        for len in 0..bytes.len() {
            assert_eq!(
                Packet::new_checked(&bytes[..len], family).err(),
                Some(Error::Truncated),
                "len {len}"
            );
        }
    }
    // The IPv4 v3 capture read as IPv6 declares one 16-byte address: too short.
    assert_eq!(
        Packet::new_checked(&V3_V4[..], Family::Ipv6).err(),
        Some(Error::Truncated)
    );
}

/// `bytes` with field `at` set to `value` and the checksum fixed for `ip`.
fn patched(
    bytes: &[u8],
    family: Family,
    ip: &PseudoHeader,
    at: usize,
    value: u8,
) -> std::vec::Vec<u8> {
    let mut out = std::vec::Vec::from(bytes);
    out[at] = value;
    let mut p = Packet::new_unchecked(&mut out[..], family);
    if p.check_len().is_ok() {
        p.fill_checksum(ip);
    }
    out
}

fn parse<'a>(bytes: &'a [u8], family: Family, ip: &PseudoHeader) -> Result<Repr<'a>, Error> {
    Repr::parse(&Packet::new_checked(bytes, family)?, ip)
}

#[test]
fn invalid_headers_are_rejected() -> Result<(), Error> {
    let v4 = Family::Ipv4;
    // Version 4 or 1, type 2 (not an advertisement).
    for first in [0x41, 0x11, 0x32, 0x30] {
        let bytes = patched(&V3_V4, v4, &IP_V4, 0, first);
        assert_eq!(
            parse(&bytes, v4, &IP_V4),
            Err(Error::Malformed),
            "{first:#x}"
        );
    }
    // Version 2 over IPv6 has no defined layout.
    let mut v2_over_v6 = std::vec::Vec::from(&V3_V6[..]);
    v2_over_v6[0] = 0x21;
    assert_eq!(
        parse(&v2_over_v6, Family::Ipv6, &IP_V6),
        Err(Error::Malformed)
    );
    // AH authentication is not handled; an unknown type is malformed.
    assert_eq!(
        parse(&patched(&V2_PASS, v4, &IP_V4, 4, 2), v4, &IP_V4),
        Err(Error::Unsupported)
    );
    assert_eq!(
        parse(&patched(&V2_PASS, v4, &IP_V4, 4, 7), v4, &IP_V4),
        Err(Error::Malformed)
    );
    // No authentication: the data is ignored.
    let none = patched(&V2_PASS, v4, &IP_V4, 4, 0);
    assert_eq!(parse(&none, v4, &IP_V4)?.auth, None);
    // A zero interval.
    assert_eq!(
        parse(&patched(&V2_PASS, v4, &IP_V4, 5, 0), v4, &IP_V4),
        Err(Error::Malformed)
    );
    let mut zero = patched(&V3_V4, v4, &IP_V4, 5, 0);
    zero[4] = 0xf0; // reserved bits set, interval zero
    let mut p = Packet::new_unchecked(&mut zero[..], v4);
    p.fill_checksum(&IP_V4);
    assert_eq!(parse(&zero, v4, &IP_V4), Err(Error::Malformed));
    // Reserved bits are ignored.
    let reserved = patched(&V3_V4, v4, &IP_V4, 4, 0xa0);
    assert_eq!(parse(&reserved, v4, &IP_V4)?, v3_repr());
    // Bytes past the declared message, and a family that disagrees with the view.
    let mut long = std::vec::Vec::from(&V3_V4[..]);
    long.push(0);
    assert_eq!(parse(&long, v4, &IP_V4), Err(Error::Malformed));
    assert_eq!(parse(&V3_V4, v4, &IP_V6), Err(Error::Malformed));
    Ok(())
}

#[test]
fn emit_refuses_what_the_wire_cannot_say() {
    let mut buf = [0u8; 64];
    let emit = |repr: Repr, buf: &mut [u8], ip: &PseudoHeader| {
        repr.emit(&mut Packet::new_unchecked(buf, ip.family()), ip)
    };
    let v2 = v2_repr(100);
    for cs in [0, 150, 25_600] {
        let repr = Repr {
            advert_int_cs: cs,
            ..v2
        };
        assert_eq!(emit(repr, &mut buf, &IP_V4), Err(Error::Malformed), "{cs}");
    }
    assert_eq!(
        emit(
            Repr {
                advert_int_cs: 25_500,
                ..v2
            },
            &mut buf,
            &IP_V4
        ),
        Ok(())
    );
    let v2_v6 = Repr {
        version: Version::V2,
        auth: None,
        ..v6_repr()
    };
    assert_eq!(emit(v2_v6, &mut buf, &IP_V6), Err(Error::Malformed));
    let v3 = v3_repr();
    assert_eq!(
        emit(
            Repr {
                advert_int_cs: 4096,
                ..v3
            },
            &mut buf,
            &IP_V4
        ),
        Err(Error::Malformed)
    );
    assert_eq!(
        emit(
            Repr {
                advert_int_cs: 4095,
                ..v3
            },
            &mut buf,
            &IP_V4
        ),
        Ok(())
    );
    let with_auth = Repr {
        auth: Some([1; 8]),
        ..v3
    };
    assert_eq!(emit(with_auth, &mut buf, &IP_V4), Err(Error::Malformed));
    assert_eq!(emit(v3, &mut buf, &IP_V6), Err(Error::Malformed));
    let many = [Ipv4Address::new(192, 0, 2, 1); 256];
    let too_many = Repr {
        addresses: Addresses::v4(&many),
        ..v3
    };
    let mut big = [0u8; 2048];
    assert_eq!(emit(too_many, &mut big, &IP_V4), Err(Error::Malformed));
    let max = Repr {
        addresses: Addresses::v4(&many[..255]),
        ..v3
    };
    assert_eq!(emit(max, &mut big, &IP_V4), Ok(()));
    let mut short = [0u8; 11];
    assert_eq!(emit(v3, &mut short, &IP_V4), Err(Error::Truncated));
    assert_eq!(short, [0; 11]);
}

#[test]
fn round_trips_with_every_address_count() -> Result<(), Error> {
    let v4: std::vec::Vec<Ipv4Address> =
        (0..255u8).map(|i| Ipv4Address::new(10, 0, 0, i)).collect();
    let v6: std::vec::Vec<Ipv6Address> = (0..255u16)
        .map(|i| Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i))
        .collect();
    for n in [0, 1, 2, 17, 255] {
        for (repr, ip) in [
            (
                Repr {
                    addresses: Addresses::v4(&v4[..n]),
                    ..v2_repr(7)
                },
                IP_V4,
            ),
            (
                Repr {
                    addresses: Addresses::v4(&v4[..n]),
                    ..v3_repr()
                },
                IP_V4,
            ),
            (
                Repr {
                    addresses: Addresses::v6(&v6[..n]),
                    ..v6_repr()
                },
                IP_V6,
            ),
        ] {
            let mut out = std::vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut out[..], ip.family()), &ip)?;
            let parsed = Repr::parse(&Packet::new_checked(&out[..], ip.family())?, &ip)?;
            assert_eq!(parsed, repr);
            assert_eq!(parsed.addresses.len(), n);
        }
    }
    Ok(())
}

#[test]
fn addresses_compare_by_content() -> Result<(), Error> {
    let wire = Addresses::from_wire(Family::Ipv4, &[192, 0, 2, 10, 192, 0, 2, 11])?;
    assert_eq!(wire, Addresses::v4(&VIPS_V2));
    assert_ne!(wire, Addresses::v4(&VIPS_V2[..1]));
    assert_ne!(Addresses::v4(&[]), Addresses::v6(&[]));
    assert_eq!(
        Addresses::from_wire(Family::Ipv6, &[0; 15]).err(),
        Some(Error::Malformed)
    );
    assert_eq!(std::format!("{wire:?}"), "[192.0.2.10, 192.0.2.11]");
    Ok(())
}

#[test]
fn simple_auth_pads_and_cuts_like_keepalived() {
    assert_eq!(&simple_auth(b"s3cret"), b"s3cret\0\0");
    assert_eq!(&simple_auth(b"0123456789"), b"01234567");
    assert_eq!(simple_auth(b""), [0; 8]);
}
