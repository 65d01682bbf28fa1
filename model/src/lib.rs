//! Pure model of OpenFaaS on Kubernetes: no IO, no clock, no random numbers, no threads.
//! Time and choices come in as arguments; effects go out as values.

pub mod callback;
pub mod choice;
pub mod client;
pub mod cluster;
pub mod config;
pub mod deployment;
pub mod duration;
pub mod environment;
pub mod execution;
pub mod gateway;
pub mod gateway_deployment;
pub mod ingress;
pub mod invocation;
pub mod jetstream;
pub mod ledger;
pub mod limits;
pub mod message;
pub mod pod;
pub mod pool;
pub mod properties;
pub mod provider;
pub mod queue;
pub mod queue_worker;
pub mod queue_worker_pro;
pub mod rules;
pub mod run;
pub mod schedule;
pub mod server;
pub mod slots;
pub mod sourced;
pub mod tally;
pub mod template;
pub mod time;
pub mod transport;
