//! Pure model of OpenFaaS on Kubernetes: no IO, no clock, no random numbers, no threads.
//! Time and choices come in as arguments; effects go out as values.

pub mod duration;
