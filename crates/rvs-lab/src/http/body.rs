//! The response bodies of the lab's HTTP server: a fixed text, a slow trickle that keeps a
//! connection open, and a stream of patterned bytes.

use std::convert::Infallible;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// Size of the frames `/bytes` is sent in.
const CHUNK: u64 = 64 * 1024;
/// The byte `/hold` trickles once a second.
pub const TRICKLE_BYTE: u8 = b'.';
/// The period of the `/bytes` pattern: a prime, so that chunks sent out of order or
/// repeated at power-of-two offsets do not hash the same.
const PATTERN_PERIOD: u64 = 251;

/// Byte number `index` of a `/bytes` body.
pub fn pattern_byte(index: u64) -> u8 {
    // The remainder is below 251, so it fits.
    u8::try_from(index % PATTERN_PERIOD).unwrap_or(0)
}

/// Bytes `offset..offset + len` of a `/bytes` body.
pub fn pattern_bytes(offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    fill_pattern(offset, &mut buf);
    buf
}

/// Fills `buf` with the pattern, starting at byte `offset` of the body.
pub fn fill_pattern(offset: u64, buf: &mut [u8]) {
    let mut value = offset % PATTERN_PERIOD;
    for byte in buf {
        *byte = u8::try_from(value).unwrap_or(0);
        value = if value + 1 == PATTERN_PERIOD {
            0
        } else {
            value + 1
        };
    }
}

/// A response body of the lab's server.
pub(crate) enum LabBody {
    /// A whole body at once (taken on the first poll).
    Full(Option<Bytes>),
    /// `/hold`: `head` at once, then one [`TRICKLE_BYTE`] each second, `left` times.
    Hold {
        head: Option<Bytes>,
        left: u64,
        next: Pin<Box<Sleep>>,
    },
    /// `/bytes`: `len - sent` more bytes of the pattern.
    Pattern { sent: u64, len: u64 },
}

impl LabBody {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        LabBody::Full(Some(bytes.into()))
    }

    /// A `/hold` body whose first trickled byte is due one second from now.
    pub(crate) fn hold(head: impl Into<Bytes>, secs: u64) -> Self {
        LabBody::Hold {
            head: Some(head.into()),
            left: secs,
            next: Box::pin(tokio::time::sleep(Duration::from_secs(1))),
        }
    }

    pub(crate) fn pattern(len: u64) -> Self {
        LabBody::Pattern { sent: 0, len }
    }

    /// The body's total length, which every variant knows up front.
    pub(crate) fn len(&self) -> u64 {
        match self {
            LabBody::Full(bytes) => bytes.as_ref().map_or(0, |b| b.len() as u64),
            LabBody::Hold { head, left, .. } => head.as_ref().map_or(0, |b| b.len() as u64) + left,
            LabBody::Pattern { sent, len } => len - sent,
        }
    }
}

impl Body for LabBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        match this {
            LabBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            LabBody::Hold { head, left, next } => {
                if let Some(head) = head.take() {
                    return Poll::Ready(Some(Ok(Frame::data(head))));
                }
                if *left == 0 {
                    return Poll::Ready(None);
                }
                if next.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                *left -= 1;
                // Schedule from the last deadline, not from now, so the trickle does not drift.
                let due = next.deadline() + Duration::from_secs(1);
                next.as_mut().reset(due.max(Instant::now()));
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&[TRICKLE_BYTE])))))
            }
            LabBody::Pattern { sent, len } => {
                let chunk = (*len - *sent).min(CHUNK);
                if chunk == 0 {
                    return Poll::Ready(None);
                }
                let mut buf = vec![0; usize::try_from(chunk).unwrap_or(0)];
                fill_pattern(*sent, &mut buf);
                *sent += chunk;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.len() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `body` to its end on a paused clock and returns its bytes and the virtual time taken.
    async fn collect(mut body: LabBody) -> (Vec<u8>, Duration) {
        let started = Instant::now();
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            if let Ok(data) = frame.unwrap().into_data() {
                out.extend_from_slice(&data);
            }
        }
        (out, started.elapsed())
    }

    #[test]
    fn the_pattern_counts_modulo_251() {
        assert_eq!(pattern_bytes(0, 3), [0, 1, 2]);
        assert_eq!(pattern_bytes(249, 4), [249, 250, 0, 1]);
        assert_eq!(pattern_byte(251 * 1000 + 7), 7);
        let whole = pattern_bytes(0, 1000);
        assert_eq!(pattern_bytes(600, 400), whole[600..]);
    }

    #[tokio::test(start_paused = true)]
    async fn pattern_bodies_stream_exactly_n_bytes() {
        let body = LabBody::pattern(200_000);
        assert_eq!(body.size_hint().exact(), Some(200_000));
        let (bytes, _) = collect(body).await;
        assert_eq!(bytes.len(), 200_000);
        assert_eq!(bytes, pattern_bytes(0, 200_000));
        assert!(LabBody::pattern(0).is_end_stream());
    }

    #[tokio::test(start_paused = true)]
    async fn hold_bodies_trickle_one_byte_a_second() {
        let body = LabBody::hold("webserver1\n", 3);
        assert_eq!(body.size_hint().exact(), Some(14));
        let (bytes, took) = collect(body).await;
        assert_eq!(bytes, b"webserver1\n...");
        assert_eq!(took, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn the_head_of_a_hold_comes_at_once() {
        let mut body = LabBody::hold("w2\n", 5);
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        let data = first.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&data[..], b"w2\n");
        assert_eq!(body.len(), 5);
    }
}
