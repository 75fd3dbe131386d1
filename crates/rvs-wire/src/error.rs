//! The one error type of the crate: why a buffer is not a usable packet.

/// Why a buffer could not be viewed or parsed as a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Error {
    /// The buffer is shorter than the fixed header or than a length the packet itself declares.
    #[error("packet truncated: buffer shorter than its header or declared length")]
    Truncated,
    /// A field holds a value the protocol forbids (wrong version, header length below minimum…).
    #[error("packet malformed: a header field holds an impossible value")]
    Malformed,
    /// The checksum does not match the bytes it covers.
    #[error("packet checksum does not match its contents")]
    Checksum,
    /// The packet is well formed but of a kind this crate does not represent (e.g. non-Ethernet ARP).
    #[error("packet is valid but of a kind this crate does not handle")]
    Unsupported,
}
