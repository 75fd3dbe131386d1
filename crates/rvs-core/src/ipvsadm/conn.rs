//! `list_conn`/`print_conn`: `ipvsadm -Lc`, from connection entries instead of
//! `/proc/net/ip_vs_conn`.

use super::format::{addrport_to_anyname, pad_right};
use super::{Ctx, Exit, Format};
use crate::model::{ConnEntry, ConnProtocol};
use std::fmt::Write as _;

/// The protocol number ipvsadm derives from the name (only TCP, UDP and SCTP get port names).
fn proto_number(p: ConnProtocol) -> u16 {
    match p {
        ConnProtocol::Tcp => 6,
        ConnProtocol::Udp => 17,
        ConnProtocol::Sctp => 132,
        ConnProtocol::Ip | ConnProtocol::Other(_) => 0,
    }
}

/// One line of `-Lc` output.
pub fn conn_line(ctx: &Ctx<'_>, c: &ConnEntry, format: Format) -> String {
    let numeric = format.has(Format::NUMERIC);
    let proto = proto_number(c.protocol);
    let name = |a: &std::net::SocketAddr| {
        addrport_to_anyname(&a.ip(), a.port(), proto, numeric, ctx.resolver)
    };
    let (cname, vname, dname) = (name(&c.client), name(&c.virtual_addr), name(&c.dest));
    let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
    let mut line = format!(
        "{} {} {} {} {} ",
        pad_right(&c.protocol.name(), 3),
        pad_right(&expire, 6),
        pad_right(&c.state, 11),
        pad_right(&cname, 18),
        pad_right(&vname, 18),
    );
    match (&c.pe, format.has(Format::PERSISTENTCONN)) {
        (Some((pe_name, pe_data)), true) => {
            let _ = writeln!(
                line,
                "{} {} {}",
                pad_right(&dname, 16),
                pad_right(pe_name, 18),
                pe_data
            );
        }
        _ => {
            let _ = writeln!(line, "{dname}");
        }
    }
    line
}

/// `list_conn`
pub fn list_conn(ctx: &mut Ctx<'_>, format: Format) -> Result<(), Exit> {
    let conns = match ctx.backend.connections() {
        Ok(c) => c,
        Err(e) => {
            return Err(ctx.io.fail(
                1,
                &super::backend::error_text(super::backend::Call::Other, &e),
            ));
        }
    };
    let mut text = String::from("IPVS connection entries\n");
    if format.has(Format::PERSISTENTCONN) {
        text.push_str(
            "pro expire state       source             virtual            destination        pe name          pe_data\n",
        );
    } else {
        text.push_str("pro expire state       source             virtual            destination\n");
    }
    for c in &conns {
        text.push_str(&conn_line(ctx, c, format));
    }
    ctx.io.out_str(&text);
    Ok(())
}
