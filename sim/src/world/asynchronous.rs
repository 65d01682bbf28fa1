//! The world's routes for the asynchronous path: the queue (NATS Streaming), the
//! queue-workers and the callback receiver. As for the rest of the world, each effect goes
//! where it belongs and nothing is decided here. Messages between the queue, the workers and
//! the receiver take one network hop each; a worker's call to the gateway is an execution,
//! a request of its own (ids from `first_exec` on) through the gateway's Service, the
//! provider and a pod, with its own flight and ledger record.

use faasim_model::callback::{self, Receiver};
use faasim_model::config::{AsyncConfig, QueueEdition};
use faasim_model::execution::Execution;
use faasim_model::gateway;
use faasim_model::gateway_deployment;
use faasim_model::invocation::{self, Invocation};
use faasim_model::ledger::{Record, RequestId};
use faasim_model::provider;
use faasim_model::queue::{self, Queue};
use faasim_model::queue_worker::{self, QueueWorkers};
use faasim_model::queue_worker_pro::{self, ProQueueWorkers};
use faasim_model::time::stamp;

use super::{Ev, Flight, NONE_NS, World};

/// A message of the asynchronous path on its way, with the input it becomes on arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AsyncHop {
    /// To the queue.
    Queue(queue::Input),
    /// To the queue-workers.
    Workers(queue_worker::Input),
    /// To the callback receiver.
    Receiver(callback::Input),
    /// To the Pro queue-workers and their stream.
    Pro(queue_worker_pro::Input),
}

/// The queue and its workers, by edition.
enum Consumers {
    /// CE: NATS Streaming and the nats-queue-workers.
    Ce {
        /// The queue.
        queue: Queue,
        /// The queue-workers.
        workers: QueueWorkers,
    },
    /// Pro: the JetStream workers and their stream, one component.
    Pro(ProQueueWorkers),
}

/// The asynchronous path's components and records.
pub(super) struct AsyncPath {
    /// The queue and its workers.
    consumers: Consumers,
    /// The callback receiver.
    receiver: Receiver,
    /// The calls carry a callback URL.
    callback: bool,
    /// One record per execution, by `exec - first_exec`.
    records: Vec<Record>,
    /// One flight per execution.
    flights: Vec<Flight>,
    /// Each invocation's callbacks, by invocation.
    callbacks: Vec<Vec<faasim_model::ledger::Status>>,
}

impl AsyncPath {
    /// The path of `config`; executions numbered from `first_exec`.
    pub(super) fn new(config: &AsyncConfig, first_exec: RequestId, tracing: bool) -> AsyncPath {
        let worker = &config.queue_worker;
        let consumers = match worker.edition {
            QueueEdition::Ce => Consumers::Ce {
                queue: Queue::new(worker, tracing),
                workers: QueueWorkers::new(worker, config.callback, first_exec, tracing),
            },
            QueueEdition::Pro => Consumers::Pro(ProQueueWorkers::new(
                worker,
                config.callback,
                first_exec,
                tracing,
            )),
        };
        AsyncPath {
            consumers,
            receiver: Receiver::new(config.callback_duration_ns, config.callback_failures),
            callback: config.callback,
            records: Vec::new(),
            flights: Vec::new(),
            callbacks: Vec::new(),
        }
    }

    /// The member and invocation of execution `exec`.
    fn execution(&self, exec: RequestId) -> (u32, RequestId) {
        match &self.consumers {
            Consumers::Ce { workers, .. } => workers.execution(exec),
            Consumers::Pro(pro) => pro.execution(exec),
        }
    }

    /// The call of `inv` may still run.
    fn pending(&self, inv: RequestId) -> bool {
        match &self.consumers {
            Consumers::Ce { queue, workers } => queue.unacked(inv) || workers.holds(inv),
            Consumers::Pro(pro) => pro.pending(inv),
        }
    }

    /// The Pro edition's workers consume the queue.
    fn pro(&self) -> bool {
        matches!(self.consumers, Consumers::Pro(_))
    }
}

impl World<'_> {
    /// The router's record of request or execution `req`. Inlined: the router looks a request's
    /// flight up a few dozen times per request, and a call costs more than the lookup.
    #[inline]
    pub(super) fn flight(&mut self, req: RequestId) -> &mut Flight {
        if req < self.first_exec {
            return &mut self.flights[req];
        }
        let index = (req - self.first_exec) as usize;
        &mut self.path().flights[index]
    }

    /// The ledger record of request or execution `req`.
    #[inline]
    pub(super) fn record(&mut self, req: RequestId) -> &mut Record {
        if req < self.first_exec {
            return &mut self.ledger[req];
        }
        let index = (req - self.first_exec) as usize;
        &mut self.path().records[index]
    }

    fn path(&mut self) -> &mut AsyncPath {
        match &mut self.asynchronous {
            Some(path) => path,
            None => unreachable!("an execution in a synchronous run"),
        }
    }

    /// Put a message of the asynchronous path on the network, a hop away.
    pub(super) fn send_async(&mut self, hop: AsyncHop) {
        if self.hop_ns == 0 {
            self.hop_arrives(hop);
        } else {
            self.queue.push(self.now + self.hop_ns, Ev::Async(hop));
        }
    }

    pub(super) fn hop_arrives(&mut self, hop: AsyncHop) {
        match hop {
            AsyncHop::Queue(input) => self.feed_queue(input),
            AsyncHop::Workers(input) => self.feed_workers(input),
            AsyncHop::Receiver(input) => self.feed_receiver(input),
            AsyncHop::Pro(input) => self.feed_pro(input),
        }
    }

    /// The run starts: the queue-workers' replicas run.
    pub(super) fn start_workers(&mut self) {
        if self.path().pro() {
            self.feed_pro(queue_worker_pro::Input::Start);
        } else {
            self.feed_workers(queue_worker::Input::Start);
        }
    }

    /// `restartQueueWorker`.
    pub(super) fn restart_workers(&mut self) {
        if self.path().pro() {
            self.feed_pro(queue_worker_pro::Input::Restart);
        } else {
            self.feed_workers(queue_worker::Input::Restart);
        }
    }

    /// The gateway's async handler published the call of `inv`: NATS is a hop away.
    pub(super) fn publish(&mut self, inv: RequestId) {
        if self.path().pro() {
            self.send_async(AsyncHop::Pro(queue_worker_pro::Input::Publish { inv }));
        } else {
            self.send_async(AsyncHop::Queue(queue::Input::Publish { inv }));
        }
    }

    /// The gateway's answer to execution `exec` reached its worker.
    pub(super) fn worker_answer(
        &mut self,
        exec: RequestId,
        status: faasim_model::ledger::Status,
        cause: faasim_model::ledger::Cause,
    ) {
        if self.path().pro() {
            // Nothing in the model sends a Retry-After (of-watchdog's 429 carries none).
            self.feed_pro(queue_worker_pro::Input::Answer {
                exec,
                status,
                cause,
                retry_after_ns: None,
            });
        } else {
            self.feed_workers(queue_worker::Input::Answer {
                exec,
                status,
                cause,
            });
        }
    }

    /// Hand `input` to the Pro queue-workers and carry out their effects in order.
    pub(super) fn feed_pro(&mut self, input: queue_worker_pro::Input) {
        let mut out = Vec::new();
        let now = self.now;
        let Some(Consumers::Pro(pro)) = self.asynchronous.as_deref_mut().map(|p| &mut p.consumers)
        else {
            unreachable!("a Pro input on the CE path");
        };
        pro.handle(now, input, &mut *self.chooser, &mut out);
        for effect in out {
            match effect {
                queue_worker_pro::Effect::Execution(e) => self.execution(e),
                queue_worker_pro::Effect::Arm { at_ns, timer } => {
                    self.queue.push(at_ns, Ev::ProWorkers(timer))
                }
                queue_worker_pro::Effect::Note { who, what } => self.note(|| who, || what),
                queue_worker_pro::Effect::Stale => self.stale = true,
            }
        }
    }

    /// What a worker of either edition does with a call and its callback.
    fn execution(&mut self, effect: Execution) {
        match effect {
            Execution::Call {
                member,
                inv,
                exec,
                dial,
            } => self.call(member, inv, exec, dial),
            Execution::Finish {
                exec,
                status,
                cause,
            } => self.finish(exec, status, cause),
            Execution::Abandon { exec } => self.abandon_execution(exec),
            Execution::Callback {
                member,
                inv,
                status,
            } => self.send_async(AsyncHop::Receiver(callback::Input::Callback {
                member,
                inv,
                status,
            })),
        }
    }

    /// The worker's connection closed under `exec`: the gateway's request context is
    /// cancelled and the cancel goes on down to the pod.
    fn abandon_execution(&mut self, exec: RequestId) {
        self.abandon(exec, 2);
        let gateway = self.flight(exec).gateway;
        self.feed_gateway(gateway, gateway::Input::Abandoned { req: exec });
        self.feed_provider(gateway, provider::Input::Abandoned { req: exec });
    }

    /// Hand `input` to the queue and carry out its effects in order.
    pub(super) fn feed_queue(&mut self, input: queue::Input) {
        let mut out = Vec::new();
        let now = self.now;
        let Consumers::Ce { queue, .. } = &mut self.path().consumers else {
            unreachable!("a CE queue input on the Pro path");
        };
        queue.handle(now, input, &mut out);
        for effect in out {
            match effect {
                queue::Effect::Deliver { member, inv, .. } => {
                    self.send_async(AsyncHop::Workers(queue_worker::Input::Deliver {
                        member,
                        inv,
                    }))
                }
                queue::Effect::Arm { at_ns, timer } => self.queue.push(at_ns, Ev::Queue(timer)),
                queue::Effect::Note { what } => self.note(|| "nats".into(), || what),
                queue::Effect::Stale => self.stale = true,
            }
        }
    }

    /// Hand `input` to the queue-workers and carry out their effects in order.
    pub(super) fn feed_workers(&mut self, input: queue_worker::Input) {
        let mut out = Vec::new();
        let now = self.now;
        let Consumers::Ce { workers, .. } = &mut self.path().consumers else {
            unreachable!("a CE worker input on the Pro path");
        };
        workers.handle(now, input, &mut out);
        for effect in out {
            match effect {
                queue_worker::Effect::Join { member } => {
                    self.send_async(AsyncHop::Queue(queue::Input::Join { member }))
                }
                queue_worker::Effect::Died { member } => {
                    self.send_async(AsyncHop::Queue(queue::Input::Died { member }))
                }
                queue_worker::Effect::Execution(e) => self.execution(e),
                queue_worker::Effect::Ack { member, inv } => {
                    self.send_async(AsyncHop::Queue(queue::Input::Ack { member, inv }))
                }
                queue_worker::Effect::Arm { at_ns, timer } => {
                    self.queue.push(at_ns, Ev::Workers(timer))
                }
                queue_worker::Effect::Note { who, what } => self.note(|| who, || what),
            }
        }
    }

    /// Hand `input` to the callback receiver and carry out its effects in order.
    pub(super) fn feed_receiver(&mut self, input: callback::Input) {
        let mut out = Vec::new();
        let now = self.now;
        self.path().receiver.handle(now, input, &mut out);
        for effect in out {
            match effect {
                callback::Effect::Record { inv, status } => {
                    let callbacks = &mut self.path().callbacks;
                    if callbacks.len() <= inv as usize {
                        callbacks.resize(inv as usize + 1, Vec::new());
                    }
                    callbacks[inv as usize].push(status);
                    self.note(
                        || "callback".into(),
                        || format!("call {inv}: callback with X-Function-Status {status}"),
                    );
                }
                callback::Effect::Answer {
                    member,
                    inv,
                    accepted,
                } => {
                    if !accepted {
                        self.note(
                            || "callback".into(),
                            || format!("call {inv}: callback failed (500), not recorded"),
                        );
                    }
                    if self.path().pro() {
                        let done = queue_worker_pro::Input::CallbackDone {
                            member,
                            inv,
                            accepted,
                        };
                        self.send_async(AsyncHop::Pro(done))
                    } else {
                        self.send_async(AsyncHop::Workers(queue_worker::Input::CallbackDone {
                            member,
                        }))
                    }
                }
                callback::Effect::Arm { at_ns, timer } => {
                    self.queue.push(at_ns, Ev::Receiver(timer))
                }
            }
        }
    }

    /// A worker's call to the gateway: a new execution through the gateway's Service. Its
    /// own draws are keyed by its id; its connection is the worker's (pinned as a client
    /// worker's, numbered after the load's).
    fn call(&mut self, member: u32, inv: RequestId, exec: RequestId, dial: bool) {
        let (now, first_exec) = (self.now, self.first_exec);
        let path = self.path();
        assert_eq!(
            (exec - first_exec) as usize,
            path.records.len(),
            "executions are numbered in order"
        );
        // Keys of the load's requests have bit 63 clear (`request_key`): an execution's are
        // its own.
        let key = (1 << 63) | u64::from(exec);
        path.records.push(Record::new(exec, member, now));
        path.flights.push(Flight {
            leg: 0,
            key,
            gateway: 0,
            done: false,
            queued: false,
            exec_deadline_ns: NONE_NS,
            provider_deadline_ns: NONE_NS,
            upstream_deadline_ns: NONE_NS,
            ingress_deadline_ns: NONE_NS,
            client_deadline_ns: NONE_NS,
            wake_ns: NONE_NS,
            last_event_ns: 0,
        });
        let name = self.config.function.name.clone();
        self.note(
            || format!("queue-worker-{member}"),
            || format!("call {inv}: POST /function/{name}, execution {exec}"),
        );
        self.feed_edge(gateway_deployment::Input::Connect {
            req: exec,
            key,
            caller: gateway_deployment::Caller::QueueWorker { member },
            dial,
        });
    }

    /// The timeline line of a finished execution.
    pub(super) fn trace_execution(&mut self, exec: RequestId) {
        if !self.tracing {
            return;
        }
        let index = (exec - self.first_exec) as usize;
        let (member, inv) = self.path().execution(exec);
        let record = &self.path().records[index];
        let (status, cause, start) = (record.status, record.cause, record.start_ns);
        let pod = record
            .pod
            .map(|p| self.pods.name(p).to_string())
            .unwrap_or_else(|| "-".into());
        let what = format!(
            "call {inv}: execution {exec} ends {} ({}) after {} via {pod}",
            status.map_or("-".to_string(), |s| s.to_string()),
            cause.map_or("-", |c| c.name()),
            stamp(self.now - start),
        );
        self.note(|| format!("queue-worker-{member}"), || what);
    }

    /// Judge every invocation from its executions and callbacks (`None`: a synchronous run).
    pub(super) fn judge_invocations(&mut self, ledger: &mut [Record]) -> Option<Vec<Invocation>> {
        let path = self.asynchronous.as_mut()?;
        let mut executions: Vec<Vec<&Record>> = vec![Vec::new(); ledger.len()];
        for record in &path.records {
            let (_, inv) = path.execution(record.id);
            executions[inv as usize].push(record);
        }
        let mut invocations = Vec::with_capacity(ledger.len());
        for (index, record) in ledger.iter_mut().enumerate() {
            let inv = index as RequestId;
            let mut invocation = Invocation {
                callback: path.callback,
                callbacks: path.callbacks.get(index).cloned().unwrap_or_default(),
                ..Invocation::default()
            };
            let pending = path.pending(inv);
            invocation::judge(record, &executions[index], &mut invocation, pending);
            invocations.push(invocation);
        }
        Some(invocations)
    }
}
