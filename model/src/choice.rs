//! The one interface every nondeterministic choice goes through: a value drawn from a range, a
//! pick among equals, the order of things that happen at the same instant. A seeded PRNG drives
//! it for simulation; an enumerator can drive it for exhaustive exploration; a recorded list can
//! drive it for replay.

/// Which part of the system a choice belongs to. Each stream gets its own sub-seed, so adding
/// draws to one component does not shift the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    /// Load generator (open-loop jitter).
    Client,
    /// Provider: which ready endpoint a request goes to.
    Provider,
    /// Endpoints controller and informer lag.
    Endpoints,
    /// Pod start-up times.
    Startup,
    /// Handler durations.
    Handler,
    /// Go's `Server.Shutdown` poll jitter.
    Shutdown,
    /// Deployment controller: victims among equals, pods to kill, nodes.
    Deployment,
    /// Order of events due at the same instant.
    Ties,
    /// Nodes: where in its heartbeat cycle a lost node's kubelet was (the phase of its last
    /// Lease renewal).
    Nodes,
    /// The gateway's Deployment and Service: kube-proxy's lag and its pick of a gateway pod
    /// for each new connection.
    Gateways,
    /// The kubelet's readiness prober: where in its ticker's period a pod's container starts.
    Prober,
    /// The Pro queue-worker's jittered retry waits (`queueWorker.backoff: full | equal`).
    Retries,
}

impl Stream {
    /// Every stream, in a fixed order.
    pub const ALL: [Stream; 12] = [
        Stream::Client,
        Stream::Provider,
        Stream::Endpoints,
        Stream::Startup,
        Stream::Handler,
        Stream::Shutdown,
        Stream::Deployment,
        Stream::Ties,
        Stream::Nodes,
        Stream::Gateways,
        Stream::Prober,
        Stream::Retries,
    ];

    /// Stable name, used to derive the stream's sub-seed and in traces.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Client => "client",
            Stream::Provider => "provider",
            Stream::Endpoints => "endpoints",
            Stream::Startup => "startup",
            Stream::Handler => "handler",
            Stream::Shutdown => "shutdown",
            Stream::Deployment => "deployment",
            Stream::Ties => "ties",
            Stream::Nodes => "nodes",
            Stream::Gateways => "gateways",
            Stream::Prober => "prober",
            Stream::Retries => "retries",
        }
    }
}

/// Source of every nondeterministic choice in a run.
pub trait Chooser {
    /// A value in `lo..=hi` (callers never ask when `lo == hi`).
    fn pick_u64(&mut self, stream: Stream, lo: u64, hi: u64) -> u64;

    /// An index in `0..n`, `n >= 1`.
    fn pick_index(&mut self, stream: Stream, n: usize) -> usize;

    /// A value in `lo..=hi` that belongs to one request, `key` ([`request_key`]): drawn
    /// independently of the order in which requests reach the draw, so that two engines whose
    /// requests reach the same instant in another order still give each request the same
    /// value. Default: the stream's next value.
    fn pick_u64_keyed(&mut self, stream: Stream, key: u64, lo: u64, hi: u64) -> u64 {
        let _ = key;
        self.pick_u64(stream, lo, hi)
    }

    /// An index in `0..n` that belongs to one request, as [`Chooser::pick_u64_keyed`].
    fn pick_index_keyed(&mut self, stream: Stream, key: u64, n: usize) -> usize {
        let _ = key;
        self.pick_index(stream, n)
    }

    /// Whether the order of events due at the same instant is a choice. When false (the
    /// simulation default) they run in insertion order, the documented tie rule.
    fn orders_ties(&self) -> bool {
        false
    }
}

/// The key of a request's own draws: the load worker that sent it and which of that worker's
/// requests it is (open loop: worker 0, the n-th request). Both engines number requests this way.
pub fn request_key(worker: u32, nth: u32) -> u64 {
    (u64::from(worker) << 32) | u64::from(nth)
}

/// The chooser of the components' unit tests: the low end of every range, the first of every
/// pick, so a test states its expected instants without a seed.
#[cfg(test)]
pub(crate) struct First;

#[cfg(test)]
impl Chooser for First {
    fn pick_u64(&mut self, _: Stream, lo: u64, _: u64) -> u64 {
        lo
    }

    fn pick_index(&mut self, _: Stream, _: usize) -> usize {
        0
    }
}

/// The other end: the high end of every range, the last of every pick, for a unit test that
/// shows a draw is taken across its whole range.
#[cfg(test)]
pub(crate) struct Last;

#[cfg(test)]
impl Chooser for Last {
    fn pick_u64(&mut self, _: Stream, _: u64, hi: u64) -> u64 {
        hi
    }

    fn pick_index(&mut self, _: Stream, n: usize) -> usize {
        n - 1
    }
}
