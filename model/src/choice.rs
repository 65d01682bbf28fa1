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
}

impl Stream {
    /// Every stream, in a fixed order.
    pub const ALL: [Stream; 8] = [
        Stream::Client,
        Stream::Provider,
        Stream::Endpoints,
        Stream::Startup,
        Stream::Handler,
        Stream::Shutdown,
        Stream::Deployment,
        Stream::Ties,
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
        }
    }
}

/// Source of every nondeterministic choice in a run.
pub trait Chooser {
    /// A value in `lo..=hi` (callers never ask when `lo == hi`).
    fn pick_u64(&mut self, stream: Stream, lo: u64, hi: u64) -> u64;

    /// An index in `0..n`, `n >= 1`.
    fn pick_index(&mut self, stream: Stream, n: usize) -> usize;

    /// Whether the order of events due at the same instant is a choice. When false (the
    /// simulation default) they run in insertion order, the documented tie rule.
    fn orders_ties(&self) -> bool {
        false
    }
}
