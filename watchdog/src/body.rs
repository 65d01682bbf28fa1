//! Body wrappers that carry Go's per-request deadlines and bookkeeping into streaming bodies:
//! a body that fails once its deadline passes (read, write and exec deadlines all keep
//! applying while a body streams, because in Go they are socket or context deadlines, not
//! handler timeouts), and a body that holds a guard until hyper is done with it (the
//! `max_inflight` slot is held in Go until the handler's copy loop ends).

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error type every body in the watchdog is boxed to.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// The body type of every request and response the watchdog builds.
pub type BoxBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// A body with no bytes.
pub fn empty() -> BoxBody {
    use http_body_util::BodyExt;
    http_body_util::Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A body with these bytes.
pub fn full(bytes: impl Into<Bytes>) -> BoxBody {
    use http_body_util::BodyExt;
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Which deadline a body missed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadline {
    /// `read_timeout`: the request body was still arriving.
    Read,
    /// `write_timeout`: the response was still being written.
    Write,
    /// `exec_timeout`: the upstream's response body was still arriving.
    Exec,
}

/// The error a body yields when its deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineExceeded(pub Deadline);

impl fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let which = match self.0 {
            Deadline::Read => "read",
            Deadline::Write => "write",
            Deadline::Exec => "exec",
        };
        write!(f, "{which} deadline exceeded")
    }
}

impl StdError for DeadlineExceeded {}

/// A body that yields `DeadlineExceeded` instead of any frame not ready by its deadline.
pub struct DeadlineBody<B> {
    /// The body it wraps.
    inner: B,
    /// The deadline's timer (`None`: no deadline).
    sleep: Option<Pin<Box<Sleep>>>,
    /// Which deadline, for the error.
    which: Deadline,
}

impl<B> DeadlineBody<B> {
    /// Wrap `inner`; `None` means no deadline.
    pub fn new(inner: B, deadline: Option<Instant>, which: Deadline) -> DeadlineBody<B> {
        DeadlineBody {
            inner,
            sleep: deadline.map(|at| Box::pin(tokio::time::sleep_until(at))),
            which,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        // The deadline is checked first: past it, Go's read or write on the socket (or on the
        // cancelled upstream response) fails even if bytes are ready. A frame ready at the
        // deadline instant itself is still in time, as a response ready exactly at
        // write_timeout is written (the model's "equality is safe", and `timeout_at`, which
        // polls its future before its timer); nothing later is.
        let expired_at = self
            .sleep
            .as_mut()
            .and_then(|sleep| sleep.as_mut().poll(cx).is_ready().then(|| sleep.deadline()));
        if let Some(deadline) = expired_at {
            if Instant::now() == deadline
                && let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx)
            {
                return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
            }
            let which = self.which;
            return Poll::Ready(Some(Err(Box::new(DeadlineExceeded(which)))));
        }
        Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map(|frame| frame.map(|r| r.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A body that keeps `guard` alive until the body is dropped: hyper drops it once the last
/// frame is written or the connection dies.
pub struct Hold<B, G> {
    /// The body it wraps.
    inner: B,
    /// Kept alive as long as the body.
    _guard: G,
}

impl<B, G> Hold<B, G> {
    /// Wrap `inner`, holding `guard`.
    pub fn new(inner: B, guard: G) -> Hold<B, G> {
        Hold {
            inner,
            _guard: guard,
        }
    }
}

impl<B, G> Body for Hold<B, G>
where
    B: Body + Unpin,
    G: Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::time::Duration;

    /// One frame, then nothing ever again: an upstream that stalls mid-body.
    struct OneThenStall(bool);

    impl Body for OneThenStall {
        type Data = Bytes;
        type Error = BoxError;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            if std::mem::replace(&mut self.0, true) {
                Poll::Pending
            } else {
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"a")))))
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn fails_once_the_deadline_passes() {
        let deadline = Instant::now() + Duration::from_millis(100);
        let mut body = DeadlineBody::new(OneThenStall(false), Some(deadline), Deadline::Exec);
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "a");
        let err = body.frame().await.unwrap().unwrap_err();
        assert_eq!(Instant::now(), deadline);
        assert_eq!(
            err.downcast_ref::<DeadlineExceeded>(),
            Some(&DeadlineExceeded(Deadline::Exec))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_frame_ready_at_the_deadline_instant_is_in_time() {
        let deadline = Instant::now() + Duration::from_millis(100);
        tokio::time::sleep_until(deadline).await;
        let mut body = DeadlineBody::new(OneThenStall(false), Some(deadline), Deadline::Write);
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "a");
        // Nothing else is ready at that instant: the deadline holds.
        let err = body.frame().await.unwrap().unwrap_err();
        assert_eq!(Instant::now(), deadline);
        assert!(err.downcast_ref::<DeadlineExceeded>().is_some());
    }
}
