//! Every size limit faasim enforces on what it is given, in one place, each with its reason.
//! A value over one is an error naming the file, line, key and the limit (scenario loading,
//! `faasim check`), never a run that fills memory or never ends. `docs/scenario-format.md`
//! ("Limits") lists them for users.

/// Most requests one scenario sends (`load.requests`). A run keeps only the requests still
/// open (the router retires each one once nothing can touch it again), and past
/// [`LEDGER_KEPT_MAX`] it folds each retired record into a fixed-size tally instead of keeping
/// it, so memory follows the requests in flight, not the requests sent (30 MB for an hour at
/// 10 000 requests/s). What bounds this is time: about 850 000 requests per second of wall time
/// on one core of the 2-core VM of docs/performance.md ("An hour at 10 000 requests/s"), so the
/// limit, a little over that hour's 36 M, takes under a minute.
pub const REQUESTS_MAX: u64 = 40_000_000;

/// Most requests whose every record a run keeps for its reports (the JSON report's
/// `requests`, the timeline, the pictures, the exact histogram). Each costs about 930 bytes
/// with the JSON report (docs/performance.md, "Limits: memory at the request limit"): 500 000
/// requests took 470 MB, which keeps such a run under 1 GB. A run past it streams: see
/// [`REQUESTS_MAX`].
pub const LEDGER_KEPT_MAX: u64 = 500_000;

/// Most requests of an asynchronous run (`load.requests` with `load.async: true`): its
/// invocations are judged from every execution at the end, so it keeps its whole ledger (see
/// [`LEDGER_KEPT_MAX`]).
pub const ASYNC_REQUESTS_MAX: u64 = LEDGER_KEPT_MAX;

/// Ids a streamed run lists per violated property (the rest are counted): the text report
/// prints 20, and a thousand is enough to pick counterexamples from.
pub const STREAMED_LISTED_MAX: usize = 1_000;

/// Most client workers (`load.concurrency`). Each is a connection, a pool entry and a slot in
/// the client's state; 10 000 is 200 times hey's default of 50 and above what one load
/// generator host opens to one gateway in practice (its ephemeral ports run out near 28 000).
pub const CONCURRENCY_MAX: u32 = 10_000;

/// Highest open-loop rate, requests per second (`load.rate`). 100 000/s sends one request
/// every 10 µs, far finer than the 500 µs round trip the network is modelled with; a higher
/// rate only reaches `REQUESTS_MAX` sooner (at 1 000 000/s the whole budget is sent in half a
/// second) while every request piles up in flight at once.
pub const RATE_MAX_PER_S: u32 = 100_000;

/// Most replicas of the function: `com.openfaas.scale.min` and `com.openfaas.scale.max`, and a
/// `scale` event's count. Scheduling counts the pods on every node each time a pod is created,
/// so the work grows with the square of the replicas: 100 000 took 35 s, 1 000 takes well
/// under a second. 1 000 is also the replica count of the largest run the project aims at.
pub const REPLICAS_MAX: u32 = 1_000;

/// Most gateway pods (`gateway.replicas`). Each gateway pod has its own gateway and provider,
/// each keeping a record per request it has seen, so memory grows with pods times requests;
/// the chart's Pro values recommend 3.
pub const GATEWAY_REPLICAS_MAX: u32 = 10;

/// Most gateway pods one run creates: `gateway.replicas` at the start and as many again at each
/// `rolloutGateway`. With `REQUESTS_MAX` requests and about 40 bytes of per-request records in
/// each pod's gateway and provider, 20 pods stay under 400 MB in the worst case.
pub const GATEWAY_PODS_MAX: u32 = 20;

/// Most worker nodes (`kubernetes.nodes`). Kubernetes supports clusters of at most 5 000 nodes
/// ("Considerations for large clusters"); placing a pod scans every node, and 2 000 000 000
/// nodes ran out of time and memory before the first request.
pub const NODES_MAX: u32 = 5_000;

/// Most events in one scenario (`events`). Each may create or delete every pod; 10 000 is far
/// beyond any hand-written or generated scenario (the swarm draws at most a handful) while
/// bounding the schedule and the timeline.
pub const EVENTS_MAX: usize = 10_000;

/// Most environment variables of one function (`function.environment`, a stack file's
/// `environment` and `environment_file`s). Nothing real comes near it; the bound keeps the
/// per-function maps small.
pub const ENV_VARS_MAX: usize = 10_000;

/// Most bytes of one function's environment, names and values together. A Kubernetes object
/// is stored in etcd, whose default request limit is 1.5 MiB: a Deployment with a larger
/// environment cannot be created, and Linux's `execve` refuses an environment over 2 MiB (its
/// default `ARG_MAX` share), so 1 MiB is never a real function.
pub const ENV_BYTES_MAX: usize = 1024 * 1024;

/// Most bytes a stack file may expand to through `${VAR}` substitution. The expanded text is
/// parsed as a file is, so it gets the same bound as a file read (16 MiB): without it
/// `"${X}"` repeated 200 000 times with a long `X` grew to 470 MB.
pub const ENVSUBST_OUTPUT_MAX_BYTES: usize = 16 * 1024 * 1024;

/// Most functions `faasim check` reads from its inputs together. Each function is checked with
/// a few simulated runs; 10 000 is ten times the largest stack seen in practice.
pub const FUNCTIONS_MAX: usize = 10_000;

/// Most queue-worker replicas (`queueWorker.replicas`). Each is a member of the NATS Streaming
/// queue group whose redeliveries the queue scans member by member; 100 is ten times any chart
/// or issue seen (faas#1108 ran 2).
pub const QUEUE_WORKER_REPLICAS_MAX: u32 = 100;

/// Most calls one Pro queue-worker runs at once (`queueWorker.maxInflight`): the pump scans
/// a worker's slots at each fetch; 10 000 is two hundred times the chart's 50.
pub const QUEUE_WORKER_MAX_INFLIGHT_MAX: u32 = 10_000;

/// Callbacks of one call the receiver may fail (`load.callbackFailures`), and callbacks the Pro
/// worker may post again (`queueWorker.callbackRetries`): each failure is a round trip of the
/// call's own, so a thousand keeps a call's events within what a run can hold.
pub const CALLBACK_FAILURES_MAX: u32 = 1_000;

/// Most deliveries of one queued call (the first and every redelivery). NATS Streaming has no
/// maximum (it redelivers every ack_wait while unacked, and with several workers possibly for
/// ever, faas#1673): the bound keeps a run's executions and ledger finite. At the smallest
/// ack_wait (1 s) it is over 15 minutes of redelivery of one call; the queue notes in the
/// timeline when it stops there.
pub const DELIVERIES_PER_CALL_MAX: u32 = 1_000;

/// The turmoil engine runs real sockets on a simulated network, with practical limits of its
/// own that are checked before it starts (an error, not a panic or a hang).
pub mod turmoil {
    /// Most client workers: each holds a TCP connection to the gateway host, whose socket
    /// buffers hold 4 096 segments (`tcp_capacity`); 4 100 workers panicked with "server
    /// socket buffer full", and from about 16 400 turmoil's ephemeral ports ran out ("ports
    /// exhausted", then a hang).
    pub const CONCURRENCY_MAX: u32 = 1_000;

    /// Highest open-loop rate, requests per second: every request in flight holds a
    /// connection to the gateway host, within the same 4 096-segment buffers and the ~16 000
    /// ephemeral ports the closed loop's workers are bounded by; at 1 000/s a stall would have
    /// to last seconds to come near them (the shipped 200/s rolling update peaks far below).
    pub const RATE_MAX_PER_S: u32 = 1_000;

    /// Most replicas (scale labels and `scale` events): every pod is a turmoil host run on
    /// every 1 ms tick, so the cost grows with them; 200 replicas took over 60 s and 10 000
    /// aborted on a 3.7 GB allocation.
    pub const REPLICAS_MAX: u32 = 50;
}
