//! Fixtures written out by hand from the kernel's structures (`ip_vs_sync.c`), one field a line.

use super::*;
use std::vec::Vec;

fn v4(a: u8, b: u8, c: u8, d: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Address::new(a, b, c, d)), port)
}

fn v6(segments: [u16; 8], port: u16) -> SocketAddr {
    let [a, b, c, d, e, f, g, h] = segments;
    SocketAddr::new(IpAddr::V6(Ipv6Address::new(a, b, c, d, e, f, g, h)), port)
}

/// Version 1 IPv4 entry, every field distinct.
const ENTRY_V4: [u8; 36] = [
    0x00, // type: IPv4
    0x06, // protocol: TCP
    0x00, 0x24, // version 0, size 36
    0x00, 0x00, 0x01, 0x83, // flags: DROUTE | NOOUTPUT | INACTIVE
    0x00, 0x07, // state
    0xc0, 0x01, // cport 49153
    0x00, 0x50, // vport 80
    0x1f, 0x90, // dport 8080
    0x00, 0x00, 0x00, 0x11, // fwmark 17
    0x00, 0x00, 0x03, 0x84, // timeout 900 s
    198, 51, 100, 23, // caddr
    192, 0, 2, 80, // vaddr
    10, 1, 2, 3, // daddr
];

fn entry_v4() -> ConnRepr<'static> {
    ConnRepr {
        protocol: IpProtocol::Tcp,
        flags: conn_flags::DROUTE | conn_flags::NOOUTPUT | conn_flags::INACTIVE,
        state: 7,
        client: v4(198, 51, 100, 23, 49153),
        virt: v4(192, 0, 2, 80, 80),
        dest: v4(10, 1, 2, 3, 8080),
        fwmark: 17,
        timeout_s: 900,
        seq: None,
        pe_data: None,
        pe_name: None,
    }
}

/// Version 1 IPv6 entry.
const ENTRY_V6: [u8; 72] = [
    0x01, // type: IPv6
    0x11, // protocol: UDP
    0x00, 0x48, // version 0, size 72
    0x00, 0x00, 0x00, 0x02, // flags: TUNNEL
    0x00, 0x00, // state
    0x13, 0x88, // cport 5000
    0x00, 0x35, // vport 53
    0x00, 0x36, // dport 54
    0x00, 0x00, 0x00, 0x00, // fwmark
    0x00, 0x00, 0x01, 0x2c, // timeout 300 s
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x0c, // caddr 2001:db8::c
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, // vaddr 2001:db8::1
    0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10, // daddr 2001:db8:1::10
];

fn entry_v6() -> ConnRepr<'static> {
    ConnRepr {
        protocol: IpProtocol::Udp,
        flags: conn_flags::TUNNEL,
        state: 0,
        client: v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xc], 5000),
        virt: v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 53),
        dest: v6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x10], 54),
        fwmark: 0,
        timeout_s: 300,
        seq: None,
        pe_data: None,
        pe_name: None,
    }
}

/// Version 1 IPv4 entry with sequence data (62 bytes: needs 2 bytes of padding after it).
const ENTRY_SEQ: [u8; 62] = [
    0x00, 0x06, // IPv4, TCP
    0x00, 0x3e, // size 62
    0x00, 0x00, 0x06, 0x00, // flags: IN_SEQ | OUT_SEQ | MASQ
    0x00, 0x01, // state
    0x9c, 0x41, // cport 40001
    0x00, 0x15, // vport 21
    0x00, 0x15, // dport 21
    0x00, 0x00, 0x00, 0x00, // fwmark
    0x00, 0x00, 0x00, 0x3c, // timeout 60 s
    203, 0, 113, 5, // caddr
    192, 0, 2, 21, // vaddr
    10, 0, 0, 21, // daddr
    0x01, 0x18, // param SEQ_DATA, 24 bytes
    0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, // in
    0x55, 0x66, 0x77, 0x88, 0xff, 0xff, 0xff, 0xfb, 0x00, 0x00, 0x00, 0x02, // out
];

const SEQ: SeqData = SeqData {
    in_seq: Seq {
        init_seq: 0x1122_3344,
        delta: 5,
        previous_delta: 0,
    },
    out_seq: Seq {
        init_seq: 0x5566_7788,
        delta: 0xffff_fffb,
        previous_delta: 2,
    },
};

fn entry_seq() -> ConnRepr<'static> {
    ConnRepr {
        protocol: IpProtocol::Tcp,
        flags: conn_flags::SEQ_MASK,
        state: 1,
        client: v4(203, 0, 113, 5, 40001),
        virt: v4(192, 0, 2, 21, 21),
        dest: v4(10, 0, 0, 21, 21),
        fwmark: 0,
        timeout_s: 60,
        seq: Some(SEQ),
        pe_data: None,
        pe_name: None,
    }
}

/// A version 1 header from syncid 42.
fn header_v1(nr_conns: u8, size: u16) -> [u8; 8] {
    let [hi, lo] = size.to_be_bytes();
    [0x00, 42, hi, lo, nr_conns, 0x01, 0x00, 0x00]
}

/// Header, then each entry at the next 4-byte boundary.
fn message_v1(entries: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&header_v1(0, 0));
    for e in entries {
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(e);
    }
    let size = out.len() as u16;
    out[..8].copy_from_slice(&header_v1(entries.len() as u8, size));
    out
}

/// Version 0 message from syncid 7: one plain entry, one with (host-order) sequence data.
const MESSAGE_V0: [u8; 76] = [
    0x02, // nr_conns
    0x07, // syncid
    0x00, 0x4c, // size 76
    // entry 1
    0x00, 0x06, // reserved, TCP
    0xc0, 0x01, 0x00, 0x50, 0x00, 0x50, // cport 49153, vport 80, dport 80
    198, 51, 100, 23, 192, 0, 2, 80, 10, 1, 2, 3, // caddr, vaddr, daddr
    0x00, 0x03, // flags: DROUTE
    0x00, 0x01, // state
    // entry 2
    0x00, 0x06, // reserved, TCP
    0x9c, 0x41, 0x00, 0x15, 0x00, 0x15, // cport 40001, vport 21, dport 21
    203, 0, 113, 5, 192, 0, 2, 21, 10, 0, 0, 21, // caddr, vaddr, daddr
    0x06, 0x00, // flags: IN_SEQ | OUT_SEQ
    0x00, 0x01, // state
    0x44, 0x33, 0x22, 0x11, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, // in, little-endian
    0x88, 0x77, 0x66, 0x55, 0xfb, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, // out
];

fn entries(bytes: &[u8]) -> Result<Vec<Result<ConnRepr<'_>, Error>>, Error> {
    Ok(Message::parse(bytes)?.entries().collect())
}

#[test]
fn constants_match_the_kernel() {
    assert_eq!(MULTICAST_V4.octets(), [224, 0, 0, 81]);
    assert_eq!(PORT, 8848);
    assert_eq!(maxlen_for_mtu(1500, false), DEFAULT_MAXLEN);
    assert_eq!(maxlen_for_mtu(1500, true), 1452);
    assert_eq!(maxlen_for_mtu(20, false), 0);
    assert_eq!(conn_flags::BACKUP_MASK, 0x1f87);
    assert_eq!(param::F_OPTIONAL, 0x40);
}

#[test]
fn reads_a_v1_message_with_an_ipv4_entry() -> Result<(), Error> {
    let bytes = message_v1(&[&ENTRY_V4]);
    assert_eq!(bytes.len(), 44);
    let p = Packet::new_checked(&bytes[..])?;
    assert_eq!(
        (p.version(), p.syncid(), p.size(), p.nr_conns()),
        (Version::V1, 42, 44, 1)
    );
    assert_eq!((p.header_len(), p.body()), (8, &ENTRY_V4[..]));
    let m = Message::parse(&bytes)?;
    assert_eq!((m.version, m.syncid, m.nr_conns), (Version::V1, 42, 1));
    assert_eq!(entries(&bytes)?, [Ok(entry_v4())]);
    assert_eq!(ConnRepr::parse_v1(&ENTRY_V4), Ok(entry_v4()));
    Ok(())
}

#[test]
fn reads_ipv6_and_sequence_entries_at_aligned_offsets() -> Result<(), Error> {
    let bytes = message_v1(&[&ENTRY_SEQ, &ENTRY_V4, &ENTRY_V6]);
    // 8 + 62 + 2 of padding + 36 + 72.
    assert_eq!(bytes.len(), 180);
    assert_eq!(&bytes[70..72], &[0, 0]);
    assert_eq!(
        entries(&bytes)?,
        [Ok(entry_seq()), Ok(entry_v4()), Ok(entry_v6())]
    );
    assert!(entry_v6().is_ipv6() && !entry_v4().is_ipv6());
    Ok(())
}

#[test]
fn builder_reproduces_the_fixtures() -> Result<(), Error> {
    let mut buf = [0xeeu8; DEFAULT_MAXLEN];
    let mut b = MessageBuilder::new(&mut buf, 42)?;
    assert_eq!(b.as_bytes(), header_v1(0, 8));
    for conn in [entry_seq(), entry_v4(), entry_v6()] {
        assert_eq!(conn.buffer_len(), [62, 36, 72][usize::from(b.nr_conns())]);
        assert_eq!(b.push(&conn), Ok(true));
    }
    assert_eq!((b.nr_conns(), b.len()), (3, 180));
    assert_eq!(b.finish(), message_v1(&[&ENTRY_SEQ, &ENTRY_V4, &ENTRY_V6]));
    for (conn, fixture) in [
        (entry_v4(), &ENTRY_V4[..]),
        (entry_v6(), &ENTRY_V6),
        (entry_seq(), &ENTRY_SEQ),
    ] {
        let mut out = [0u8; 100];
        assert_eq!(conn.emit_v1(&mut out), Ok(fixture.len()));
        assert_eq!(&out[..fixture.len()], fixture);
    }
    Ok(())
}

#[test]
fn reads_a_v0_message() -> Result<(), Error> {
    let p = Packet::new_checked(&MESSAGE_V0[..])?;
    assert_eq!(
        (p.version(), p.syncid(), p.nr_conns(), p.header_len()),
        (Version::V0, 7, 2, 4)
    );
    let first = ConnRepr {
        flags: conn_flags::DROUTE,
        state: 1,
        virt: v4(192, 0, 2, 80, 80),
        dest: v4(10, 1, 2, 3, 80),
        fwmark: 0,
        timeout_s: 0,
        ..entry_v4()
    };
    assert_eq!(
        entries(&MESSAGE_V0)?,
        [
            Ok(first),
            Ok(entry_seq()).map(|c| ConnRepr { timeout_s: 0, ..c })
        ]
    );
    Ok(())
}

#[test]
fn version_is_told_as_the_kernel_does() -> Result<(), Error> {
    // An empty version 0 message (4 bytes) and one whose bytes 4-8 do not look like version 1.
    assert_eq!(Message::parse(&[0, 9, 0, 4])?.version, Version::V0);
    let mut bytes = message_v1(&[&ENTRY_V4]);
    bytes[6] = 1; // spare not zero
    let m = Message::parse(&bytes)?;
    assert_eq!((m.version, m.nr_conns), (Version::V0, 0));
    assert_eq!(m.entries().count(), 0);
    bytes[6] = 0;
    bytes[5] = 2; // version 2
    assert_eq!(Message::parse(&bytes)?.version, Version::V0);
    Ok(())
}

#[test]
fn size_must_be_the_length() {
    for bytes in [
        message_v1(&[&ENTRY_SEQ, &ENTRY_V4, &ENTRY_V6]),
        Vec::from(&MESSAGE_V0[..]),
    ] {
        for len in 0..bytes.len() {
            assert_eq!(
                Message::parse(&bytes[..len]),
                Err(Error::Truncated),
                "len {len}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(Message::parse(&long), Err(Error::Malformed));
    }
}

#[test]
fn cut_entries_end_the_walk_with_truncated() -> Result<(), Error> {
    let v1 = message_v1(&[&ENTRY_SEQ, &ENTRY_V4, &ENTRY_V6]);
    for (full, first_entry) in [(&v1[..], 8), (&MESSAGE_V0[..], 4)] {
        let total = entries(full)?.len();
        for len in first_entry..full.len() {
            let mut cut = Vec::from(&full[..len]);
            cut[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            let items = entries(&cut)?;
            assert_eq!(items.last(), Some(&Err(Error::Truncated)), "len {len}");
            assert!(items.len() <= total && items[..items.len() - 1].iter().all(Result::is_ok));
        }
    }
    Ok(())
}

/// `entry` with a parameter appended and its size updated.
fn with_param(entry: &[u8], ptype: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::from(entry);
    out.extend_from_slice(&[ptype, data.len() as u8]);
    out.extend_from_slice(data);
    let size = out.len() as u16;
    out[2..4].copy_from_slice(&size.to_be_bytes());
    out
}

#[test]
fn parameters_are_read_or_skipped_like_the_kernel() -> Result<(), Error> {
    // Unknown optional parameter (0x40 set): skipped.
    let optional = with_param(&ENTRY_V4, 0x45, b"abc");
    assert_eq!(ConnRepr::parse_v1(&optional), Ok(entry_v4()));
    // Sequence data marked optional is still sequence data.
    let mut seq_optional = Vec::from(&ENTRY_SEQ[..]);
    seq_optional[36] = 0x41;
    assert_eq!(ConnRepr::parse_v1(&seq_optional), Ok(entry_seq()));
    // Unknown mandatory parameter: that entry is skipped, the next one is read.
    let mandatory = with_param(&ENTRY_V4, 0x05, b"abc");
    let bytes = message_v1(&[&mandatory, &ENTRY_V6]);
    assert_eq!(entries(&bytes)?, [Err(Error::Unsupported), Ok(entry_v6())]);
    // Persistence-engine data and name.
    let pe = with_param(
        &with_param(&ENTRY_V4, param::PE_DATA, b"\x01\x02\x03"),
        param::PE_NAME,
        b"sip",
    );
    let conn = ConnRepr::parse_v1(&pe)?;
    assert_eq!(
        (conn.pe_data, conn.pe_name),
        (Some(&b"\x01\x02\x03"[..]), Some(&b"sip"[..]))
    );
    let mut out = [0u8; 64];
    assert_eq!(conn.emit_v1(&mut out), Ok(pe.len()));
    assert_eq!(&out[..pe.len()], &pe[..]);
    Ok(())
}

#[test]
fn broken_entries_end_the_walk() -> Result<(), Error> {
    let broken: Vec<(Vec<u8>, Error)> = [
        // Zero-length parameter, a parameter running past the entry, a lone type byte.
        (with_param(&ENTRY_V4, 0x45, b""), Error::Malformed),
        (
            {
                let mut e = with_param(&ENTRY_V4, 0x45, b"ab");
                e[37] = 3;
                e
            },
            Error::Malformed,
        ),
        (
            {
                let mut e = with_param(&ENTRY_V4, 0x45, b"");
                e.truncate(37);
                e[3] = 37;
                e
            },
            Error::Malformed,
        ),
        // Sequence data twice, or of the wrong length; a name over 16 bytes; two names.
        (
            with_param(&ENTRY_SEQ, param::SEQ_DATA, &[0; 24]),
            Error::Malformed,
        ),
        (
            with_param(&ENTRY_V4, param::SEQ_DATA, &[0; 23]),
            Error::Malformed,
        ),
        (
            with_param(&ENTRY_V4, param::PE_NAME, &[b'x'; 17]),
            Error::Malformed,
        ),
        (
            with_param(&with_param(&ENTRY_V4, 3, b"a"), 3, b"b"),
            Error::Malformed,
        ),
        // Unknown type bits; an IPv6 entry sized for IPv4; a size below the base entry.
        (
            {
                let mut e = Vec::from(&ENTRY_V4[..]);
                e[0] = 2;
                e
            },
            Error::Malformed,
        ),
        (
            {
                let mut e = Vec::from(&ENTRY_V6[..36]);
                e[3] = 36;
                e
            },
            Error::Malformed,
        ),
        (
            {
                let mut e = Vec::from(&ENTRY_V4[..]);
                e[3] = 20;
                e
            },
            Error::Malformed,
        ),
        (
            {
                let mut e = Vec::from(&ENTRY_V4[..]);
                e[3] = 0;
                e
            },
            Error::Malformed,
        ),
        // Entry version 1.
        (
            {
                let mut e = Vec::from(&ENTRY_V4[..]);
                e[2] = 0x10;
                e
            },
            Error::Unsupported,
        ),
    ]
    .into_iter()
    .collect();
    for (entry, error) in broken {
        let bytes = message_v1(&[&ENTRY_V4, &entry, &ENTRY_V4]);
        // The size field may claim less than the bytes given; the walk follows it.
        assert_eq!(
            entries(&bytes)?,
            [Ok(entry_v4()), Err(error)],
            "{entry:02x?}"
        );
        let size = usize::from(u16::from_be_bytes([entry[2], entry[3]]) & 0xfff);
        assert_eq!(
            ConnRepr::parse_v1(&entry),
            Err(error),
            "{entry:02x?} size {size}"
        );
    }
    Ok(())
}

#[test]
fn builder_stops_at_the_buffer_end_and_at_255_entries() -> Result<(), Error> {
    let conn = entry_v4();
    let mut buf = [0u8; DEFAULT_MAXLEN];
    let mut b = MessageBuilder::new(&mut buf, 1)?;
    let mut n = 0;
    while b.push(&conn)? {
        n += 1;
    }
    // 8 + 40 * 36 = 1448; a 41st entry would need 1484 bytes.
    assert_eq!((n, b.len()), (40, 1448));
    let message = b.finish();
    assert_eq!(entries(message)?.len(), 40);

    let mut big = std::vec![0u8; 8 + 256 * 36];
    let mut b = MessageBuilder::new(&mut big, 1)?;
    for _ in 0..255 {
        assert_eq!(b.push(&conn), Ok(true));
    }
    assert_eq!(b.push(&conn), Ok(false));
    assert_eq!((b.nr_conns(), b.len()), (255, 8 + 255 * 36));
    let items = entries(b.finish())?;
    assert!(items.len() == 255 && items.iter().all(|e| e == &Ok(conn)));

    // Room for the entry but not for the padding before it.
    let mut buf = [0u8; 8 + 62 + 36 + 1];
    let mut b = MessageBuilder::new(&mut buf, 1)?;
    assert_eq!((b.push(&entry_seq()), b.push(&conn)), (Ok(true), Ok(false)));
    assert_eq!(
        MessageBuilder::new(&mut [0u8; 7], 1).err(),
        Some(Error::Truncated)
    );
    Ok(())
}

#[test]
fn entries_that_cannot_be_sent_are_refused() -> Result<(), Error> {
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, 1)?;
    let long_name = [b'x'; 17];
    let refused = [
        ConnRepr {
            dest: entry_v6().dest,
            ..entry_v4()
        },
        ConnRepr {
            flags: conn_flags::IN_SEQ,
            ..entry_v4()
        },
        ConnRepr {
            seq: Some(SEQ),
            ..entry_v4()
        },
        ConnRepr {
            pe_data: Some(&[]),
            ..entry_v4()
        },
        ConnRepr {
            pe_name: Some(&long_name),
            ..entry_v4()
        },
    ];
    for conn in refused {
        assert_eq!(b.push(&conn), Err(Error::Malformed), "{conn:?}");
        assert_eq!(conn.emit_v1(&mut [0u8; 512]), Err(Error::Malformed));
    }
    assert_eq!(b.len(), 8);
    assert_eq!(entry_v4().emit_v1(&mut [0u8; 35]), Err(Error::Truncated));
    Ok(())
}

#[test]
fn pe_entries_round_trip_through_a_message() -> Result<(), Error> {
    let data = [7u8; 255];
    let conns = [
        ConnRepr {
            pe_data: Some(&data),
            pe_name: Some(b"sip"),
            ..entry_seq()
        },
        ConnRepr {
            pe_data: Some(b"x"),
            ..entry_v6()
        },
        entry_v4(),
    ];
    let mut buf = [0u8; DEFAULT_MAXLEN];
    let mut b = MessageBuilder::new(&mut buf, 200)?;
    for conn in &conns {
        assert_eq!(b.push(conn), Ok(true));
    }
    let message = b.finish();
    let parsed = Message::parse(message)?;
    assert_eq!((parsed.syncid, parsed.nr_conns), (200, 3));
    let got: Vec<_> = parsed.entries().collect();
    assert_eq!(got, conns.map(Ok));
    Ok(())
}
