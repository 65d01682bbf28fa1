//! loom models of faasim-watchdog's drain coordinator. The coordinator's source is included
//! by path, not through a dependency, because `--cfg loom` rebuilds every crate and loom
//! cannot run tokio or hyper: this crate depends on nothing but loom, and only under loom.
//!
//! The models live in `tests/loom_drain.rs`; run them with
//! `RUSTFLAGS="--cfg loom" cargo test --release -p faasim-watchdog-loom --target-dir target/loom`.

#[path = "../../src/drain.rs"]
pub mod drain;
