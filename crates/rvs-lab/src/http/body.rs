//! The response bodies of the lab's HTTP server: a fixed text, a slow trickle that keeps a
//! connection open, a stream of patterned bytes, and the same pattern paced over a duration.

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
/// How often a `/stream` body releases its next share of bytes.
pub const STREAM_TICK: Duration = Duration::from_millis(50);
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
    /// `/stream`: the pattern, `len` bytes in all, released evenly over `ticks` ticks of
    /// [`STREAM_TICK`] from `start` (by tick `k`, `len * k / ticks` bytes may have gone).
    Paced {
        sent: u64,
        len: u64,
        ticks: u64,
        start: Instant,
        next: Pin<Box<Sleep>>,
    },
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

    /// A `/stream` body: `seconds * rate` bytes of the pattern, a share every [`STREAM_TICK`],
    /// the last one `seconds` from now. (`rate` is at most 2^30 and `seconds` at most 600 when
    /// it comes from a request; the product saturates rather than wraps for other callers.)
    pub(crate) fn paced(seconds: u64, rate: u64) -> Self {
        let ticks_per_sec = (Duration::from_secs(1).as_millis() / STREAM_TICK.as_millis()) as u64;
        let start = Instant::now();
        LabBody::Paced {
            sent: 0,
            len: seconds.saturating_mul(rate),
            ticks: seconds.saturating_mul(ticks_per_sec),
            start,
            next: Box::pin(tokio::time::sleep_until(start + STREAM_TICK)),
        }
    }

    /// The body's total length, which every variant knows up front.
    pub(crate) fn len(&self) -> u64 {
        match self {
            LabBody::Full(bytes) => bytes.as_ref().map_or(0, |b| b.len() as u64),
            LabBody::Hold { head, left, .. } => head.as_ref().map_or(0, |b| b.len() as u64) + left,
            LabBody::Pattern { sent, len } | LabBody::Paced { sent, len, .. } => len - sent,
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
            LabBody::Paced { sent, len, ticks, start, next } => loop {
                if *sent >= *len {
                    return Poll::Ready(None);
                }
                let allowed = paced_allowance(*len, *ticks, start.elapsed());
                if *sent < allowed {
                    let chunk = (allowed - *sent).min(CHUNK);
                    let mut buf = vec![0; usize::try_from(chunk).unwrap_or(0)];
                    fill_pattern(*sent, &mut buf);
                    *sent += chunk;
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))));
                }
                // Wait for the next tick boundary after now (a slow reader catches up at once:
                // the allowance follows the clock, not the frames sent).
                let elapsed_ticks = tick_count(start.elapsed());
                let due = *start + STREAM_TICK * u32::try_from(elapsed_ticks + 1).unwrap_or(u32::MAX);
                if next.deadline() != due {
                    next.as_mut().reset(due);
                }
                if next.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.len() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len())
    }
}

/// Whole [`STREAM_TICK`]s in `elapsed`.
fn tick_count(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_nanos() / STREAM_TICK.as_nanos()).unwrap_or(u64::MAX)
}

/// How many of a paced body's `len` bytes may have been sent `elapsed` after its start, when
/// they are spread over `ticks` ticks: `len * k / ticks` after `k` ticks, all of them at the end.
fn paced_allowance(len: u64, ticks: u64, elapsed: Duration) -> u64 {
    let k = tick_count(elapsed);
    if k >= ticks {
        return len;
    }
    // Below 2^128: len < 2^64 and k < ticks < 2^64.
    u64::try_from(u128::from(len) * u128::from(k) / u128::from(ticks)).unwrap_or(len)
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

    #[test]
    fn the_allowance_grows_evenly_and_ends_at_the_length() {
        assert_eq!(paced_allowance(1000, 20, Duration::ZERO), 0);
        assert_eq!(paced_allowance(1000, 20, Duration::from_millis(49)), 0);
        assert_eq!(paced_allowance(1000, 20, Duration::from_millis(50)), 50);
        assert_eq!(paced_allowance(1000, 20, Duration::from_millis(525)), 500);
        assert_eq!(paced_allowance(1000, 20, Duration::from_secs(1)), 1000);
        assert_eq!(paced_allowance(1000, 20, Duration::from_secs(99)), 1000);
        // 7 bytes over 3 ticks: 2, 4, then all 7.
        assert_eq!(paced_allowance(7, 3, STREAM_TICK), 2);
        assert_eq!(paced_allowance(7, 3, STREAM_TICK * 2), 4);
        assert_eq!(paced_allowance(7, 3, STREAM_TICK * 3), 7);
        assert_eq!(paced_allowance(u64::MAX, u64::MAX, STREAM_TICK), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn paced_bodies_send_exactly_seconds_times_rate_over_the_seconds() {
        let body = LabBody::paced(3, 100_000);
        assert_eq!(body.size_hint().exact(), Some(300_000));
        let (bytes, took) = collect(body).await;
        assert_eq!(bytes, pattern_bytes(0, 300_000));
        assert_eq!(took, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn paced_bodies_trickle_a_share_each_tick() {
        let mut body = LabBody::paced(2, 4000);
        let started = Instant::now();
        let mut arrivals = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let len = frame.unwrap().into_data().unwrap().len();
            arrivals.push((started.elapsed(), len));
        }
        // 40 ticks of 200 bytes, one every 50 ms, nothing at once.
        assert_eq!(arrivals.len(), 40);
        for (k, (at, len)) in arrivals.iter().enumerate() {
            assert_eq!((*at, *len), (STREAM_TICK * (k as u32 + 1), 200));
        }
        assert!(LabBody::paced(0, 4000).is_end_stream());
        assert!(LabBody::paced(5, 0).is_end_stream());
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
