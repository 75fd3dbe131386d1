//! `HeaderOptions`: the raw option bytes of an IPv4 or TCP header.

use crate::Error;

/// Option bytes of an IPv4 or TCP header: a multiple of four bytes, at most 40, kept raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HeaderOptions<'a>(&'a [u8]);

impl<'a> HeaderOptions<'a> {
    /// No options at all.
    pub const EMPTY: HeaderOptions<'static> = HeaderOptions(&[]);
    /// Longest option area a 4-bit header-length field in 32-bit words can describe.
    pub const MAX_LEN: usize = 40;

    /// Wraps option bytes; `Malformed` unless the length is a multiple of 4 and at most 40.
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        if !bytes.len().is_multiple_of(4) || bytes.len() > Self::MAX_LEN {
            return Err(Error::Malformed);
        }
        Ok(HeaderOptions(bytes))
    }

    /// The option bytes, as on the wire.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Number of option bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_whole_words_up_to_forty_bytes() {
        assert_eq!(HeaderOptions::new(&[]).map(|o| o.len()), Ok(0));
        assert_eq!(
            HeaderOptions::new(&[1, 1, 1, 0]).map(|o| o.as_bytes()),
            Ok(&[1u8, 1, 1, 0][..])
        );
        assert_eq!(HeaderOptions::new(&[0; 40]).map(|o| o.len()), Ok(40));
    }

    #[test]
    fn rejects_partial_words_and_overlong_areas() {
        assert_eq!(HeaderOptions::new(&[1, 1, 0]), Err(Error::Malformed));
        assert_eq!(HeaderOptions::new(&[0; 44]), Err(Error::Malformed));
    }
}
