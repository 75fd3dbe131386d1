//! rvsadm: ipvsadm 1.31 for rvs. The CLI itself is `rvs_core::ipvsadm`; this crate adds what
//! touches the system: the C library's name look-ups ([`SystemResolver`]) and the binary.

mod resolver;

pub use resolver::SystemResolver;
