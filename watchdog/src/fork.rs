//! Streaming mode's process seam: of-watchdog forks `fprocess` once per request
//! (`executor/streaming_runner.go`); here a `Fork` starts that process, so the same watchdog
//! runs real processes (`CommandFork`, tokio's `process`) and in-memory ones in paused-time
//! tests and simulators.

use std::future::Future;
use std::io;
use std::pin::Pin;

use hyper::Method;
use hyper::header::HeaderMap;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinHandle;

use crate::body::BoxBody;

/// Starts one process for one request, as streaming mode's `exec.CommandContext` does.
///
/// The watchdog reads the process's stdout into the response body and ends the body when
/// the process exits. At `exec_timeout` it drops the `Forked` handle, which must kill the
/// process: that is the whole kill protocol, so an implementation only has to make its
/// process die with the handle.
///
/// Any `Fn(Invocation) -> io::Result<Forked>` closure is a `Fork`.
pub trait Fork: Send + Sync + 'static {
    /// Start the process for `invocation`. An error means it never started (Go's
    /// `cmd.Start` failed); the client still gets a 200 with an empty body, as in of-watchdog.
    fn fork(&self, invocation: Invocation) -> io::Result<Forked>;
}

impl<F> Fork for F
where
    F: Fn(Invocation) -> io::Result<Forked> + Send + Sync + 'static,
{
    fn fork(&self, invocation: Invocation) -> io::Result<Forked> {
        self(invocation)
    }
}

/// One request as its process receives it.
pub struct Invocation {
    /// The request method.
    pub method: Method,
    /// The request URI as received (path and query), or `ready_path` for a readiness check.
    pub target: String,
    /// The client's headers.
    pub headers: HeaderMap,
    /// Variables to add to the inherited environment: of-watchdog's CGI variables
    /// (`Http_Method`, `Http_Path`, `Http_Query`, `Http_<Header_Name>`, ...), empty when
    /// `Settings::inject_cgi_headers` is off. Later entries win, as in Go's `cmd.Env`.
    pub env: Vec<(String, String)>,
    /// The request body, to become the process's stdin (`pipe_stdin` copies it); `None` when
    /// the request has no body, which Go gives the process as an empty stdin.
    pub stdin: Option<BoxBody>,
}

/// The process's stdout, read until EOF.
pub type Stdout = Pin<Box<dyn AsyncRead + Send>>;

/// Completes when the process exits: `Ok` for exit status 0, `Err` for anything Go's
/// `cmd.Wait` reports as an error. Dropping it before completion must kill the process.
pub type ExitFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

/// A started process: its stdout and its exit. Dropping it kills the process.
pub struct Forked {
    /// The process's stdout.
    pub(crate) stdout: Stdout,
    /// Completes when the process exits.
    pub(crate) exit: ExitFuture,
}

impl Forked {
    /// A process from its stdout and its exit. `exit` must own whatever keeps the process
    /// alive (tokio's `Child` with `kill_on_drop`, a task's abort guard, ...), so that
    /// dropping it kills the process.
    pub fn new(
        stdout: impl AsyncRead + Send + 'static,
        exit: impl Future<Output = io::Result<()>> + Send + 'static,
    ) -> Forked {
        Forked {
            stdout: Box::pin(stdout),
            exit: Box::pin(exit),
        }
    }

    /// Its stdout and exit, for a `Fork` that wraps another (to log exits, for instance).
    pub fn into_parts(self) -> (Stdout, ExitFuture) {
        (self.stdout, self.exit)
    }
}

/// Copy a request body into a process's stdin, then close it, as Go's `exec` copies
/// `cmd.Stdin`. A body error (`read_timeout`, a client gone) or a write error (the process
/// exited or closed its stdin) ends the copy early; either way the process reads EOF.
/// Returns the bytes written.
pub async fn pipe_stdin(mut body: BoxBody, mut stdin: impl AsyncWrite + Unpin) -> io::Result<u64> {
    use http_body_util::BodyExt;
    let mut written = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(io::Error::other)?;
        if let Ok(data) = frame.into_data() {
            stdin.write_all(&data).await?;
            written += data.len() as u64;
        }
    }
    stdin.shutdown().await?;
    Ok(written)
}

/// Runs a command per request with `tokio::process`, as of-watchdog runs `fprocess`: the
/// watchdog's environment plus the CGI variables, stdin from the request body, stdout to the
/// response, stderr to the watchdog's stderr, killed (SIGKILL) when its `Forked` is dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandFork {
    /// The program to run (`fprocess`'s first word).
    program: String,
    /// Its arguments (`fprocess`'s other words).
    args: Vec<String>,
}

impl CommandFork {
    /// Split `fprocess` as of-watchdog's `WatchdogConfig.Process` does: on every single
    /// space, with no quoting, so `"sh -c 'a b'"` is `sh`, `-c`, `'a`, `b'` and two spaces
    /// give an empty argument. Put anything that needs a shell in a script.
    pub fn from_fprocess(fprocess: &str) -> CommandFork {
        let mut parts = fprocess.split(' ').map(str::to_string);
        let program = parts.next().unwrap_or_default();
        CommandFork {
            program,
            args: parts.collect(),
        }
    }

    /// The program run, looked up in `PATH` when it has no `/`.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// Its arguments.
    pub fn args(&self) -> &[String] {
        &self.args
    }
}

/// Aborts the stdin copy when the process is gone, so a client that never finishes its
/// body cannot keep a task alive.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Fork for CommandFork {
    fn fork(&self, invocation: Invocation) -> io::Result<Forked> {
        use std::process::Stdio;
        let Invocation { env, stdin, .. } = invocation;
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .envs(env)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("the child's stdout was not piped"))?;
        let copy = match (stdin, child.stdin.take()) {
            (Some(body), Some(pipe)) => Some(AbortOnDrop(tokio::spawn(async move {
                // A failed copy only means the process stopped reading; it still runs.
                let _ = pipe_stdin(body, pipe).await;
            }))),
            _ => None,
        };
        let exit = async move {
            let _copy = copy;
            // `child` lives in this future: dropping it first kills the process.
            let status = child.wait().await?;
            if status.success() {
                Ok(())
            } else {
                Err(io::Error::other(status.to_string()))
            }
        };
        Ok(Forked::new(stdout, exit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fprocess_splits_on_single_spaces_like_go() {
        let fork = CommandFork::from_fprocess("node index.js");
        assert_eq!(fork.program(), "node");
        assert_eq!(fork.args(), ["index.js"]);
        let fork = CommandFork::from_fprocess("sh -c 'echo  hi'");
        assert_eq!(fork.program(), "sh");
        assert_eq!(fork.args(), ["-c", "'echo", "", "hi'"]);
        let fork = CommandFork::from_fprocess("cat");
        assert_eq!((fork.program(), fork.args().len()), ("cat", 0));
    }
}
