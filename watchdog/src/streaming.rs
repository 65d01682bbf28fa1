//! Streaming mode: one process per request, as of-watchdog's `makeStreamingRequestHandler`
//! and `StreamingFunctionRunner.Run`: the request body is the process's stdin, its stdout
//! is the response body, the status is an implicit 200 with `Content-Type: content_type`,
//! and `exec_timeout` kills the process, ending the body early. Errors are never a status:
//! the client gets 200 with an empty or truncated body.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response};
use tokio::io::ReadBuf;
use tokio::time::{Instant, Sleep};

use crate::body::{self, BoxBody, Deadline, DeadlineBody};
use crate::config::Settings;
use crate::fork::{ExitFuture, Fork, Forked, Invocation, Stdout};
use crate::server::Tasks;

/// Bytes read from stdout at a time: the buffer of Go's `io.Copy`.
const READ_BYTES: usize = 32 * 1024;

/// The request as its process sees it; its body keeps the read deadline.
pub(crate) fn invocation(
    settings: &Settings,
    req: Request<Incoming>,
    read_deadline: Option<Instant>,
) -> Invocation {
    use http_body_util::BodyExt;
    let (parts, incoming) = req.into_parts();
    let target = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_string(),
        |pq| pq.as_str().to_string(),
    );
    let env = if settings.inject_cgi_headers {
        cgi_environment(
            &parts.method,
            &percent_decode(parts.uri.path()),
            parts.uri.query().unwrap_or(""),
            &parts.headers,
        )
    } else {
        Vec::new()
    };
    let stdin = (!incoming.is_end_stream())
        .then(|| DeadlineBody::new(incoming, read_deadline, Deadline::Read).boxed_unsync());
    Invocation {
        method: parts.method,
        target,
        headers: parts.headers,
        env,
        stdin,
    }
}

/// `readiness.ServeHTTP` with `ready_path` set: a body-less GET on that path through the
/// function handler, so a forked script can answer it by its `Http_Path`.
pub(crate) fn readiness_invocation(settings: &Settings, headers: &HeaderMap) -> Invocation {
    let path = settings.ready_path.clone();
    let env = if settings.inject_cgi_headers {
        // Go sets the URL's Path to ready_path as is, so nothing is decoded here.
        cgi_environment(&Method::GET, &path, "", headers)
    } else {
        Vec::new()
    };
    Invocation {
        method: Method::GET,
        target: path,
        headers: headers.clone(),
        env,
        stdin: None,
    }
}

/// of-watchdog's `getEnvironment`, less `os.Environ()` (the process inherits it anyway):
/// `Http_<Canonical_Header>` with each header's first value, then `Http_Method`, `Http_Query`
/// (when not empty), `Http_Path` (decoded, as Go's `URL.Path`) and `Http_Transfer_Encoding`.
/// Go's server removes `Host` and `Transfer-Encoding` from the header map before the handler
/// (and `Content-Length` from a chunked request), so neither appears as a header variable.
pub(crate) fn cgi_environment(
    method: &Method,
    path: &str,
    raw_query: &str,
    headers: &HeaderMap,
) -> Vec<(String, String)> {
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    let mut env = Vec::new();
    for name in headers.keys() {
        if name == header::HOST
            || name == header::TRANSFER_ENCODING
            || (chunked && name == header::CONTENT_LENGTH)
        {
            continue;
        }
        let Some(value) = headers.get(name) else {
            continue;
        };
        let key = format!(
            "Http_{}",
            canonical_header_key(name.as_str()).replace('-', "_")
        );
        env.push((key, String::from_utf8_lossy(value.as_bytes()).into_owned()));
    }
    // Go's `fixPragmaCacheControl`: `Pragma: no-cache` alone implies `Cache-Control: no-cache`.
    if headers
        .get(header::PRAGMA)
        .is_some_and(|v| v.as_bytes() == b"no-cache")
        && !headers.contains_key(header::CACHE_CONTROL)
    {
        env.push(("Http_Cache_Control".to_string(), "no-cache".to_string()));
    }
    env.push(("Http_Method".to_string(), method.to_string()));
    if !raw_query.is_empty() {
        env.push(("Http_Query".to_string(), raw_query.to_string()));
    }
    if !path.is_empty() {
        env.push(("Http_Path".to_string(), path.to_string()));
    }
    if chunked {
        env.push(("Http_Transfer_Encoding".to_string(), "chunked".to_string()));
    }
    env
}

/// Go's `textproto.CanonicalMIMEHeaderKey` for a token: the first letter and every letter
/// after a hyphen upper case, the rest lower case (`x-call-id` is `X-Call-Id`).
fn canonical_header_key(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// `%XX` escapes decoded, as Go's `URL.Path` is. Go's server refuses a request whose path has
/// a malformed escape (400); hyper lets it through, so such a path is passed on undecoded.
fn percent_decode(path: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let pair = bytes
                .get(i + 1)
                .copied()
                .and_then(hex)
                .zip(bytes.get(i + 2).copied().and_then(hex));
            let Some((high, low)) = pair else {
                return path.to_string();
            };
            out.push(high << 4 | low);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a process whose caller left needs to run on: the watchdog's task set, so that its
/// exit or kill ends it too (the container's PID 1 exits and the kernel kills the rest), and
/// what it keeps alive until it has exited, the request's concurrency slot and its
/// connection's drain ticket. of-watchdog starts the process on a context of its own
/// (of-watchdog@9bdadb1e executor/streaming_runner.go: `exec.CommandContext` on
/// `context.Background()` with exec_timeout), not the request's, and its handler waits for
/// `cmd.Wait`: a caller that leaves neither kills the process nor frees the handler, so Go's
/// `Shutdown` still counts the connection active.
pub(crate) struct Orphanage {
    /// Where the process runs on; aborted when the watchdog exits or is killed.
    pub(crate) tasks: Tasks,
    /// Dropped once the process has exited.
    pub(crate) keep: Box<dyn Send>,
}

/// Run one request's process and answer as of-watchdog does: 200 and `content_type` once
/// the first output is there (or the process ended, or exec_timeout killed it), then the
/// rest of stdout as it comes. `X-Timeout` is not consulted: streaming mode's deadline is
/// exec_timeout alone. With an `orphanage`, a caller that leaves leaves the process running.
pub(crate) async fn invoke(
    settings: &Settings,
    fork: &dyn Fork,
    invocation: Invocation,
    orphanage: Option<Orphanage>,
) -> Response<BoxBody> {
    use http_body_util::BodyExt;
    let deadline = settings.exec_timeout().map(|t| Instant::now() + t);
    let body = match fork.fork(invocation) {
        Ok(forked) => {
            let mut output = Output::new(forked, deadline, orphanage);
            // The implicit 200 goes out with the first output, or when the process ends or is
            // killed, whichever comes first (Go would hold up to 2 KB of output back first:
            // README, deliberate differences).
            match output.frame().await {
                Some(Ok(frame)) => {
                    output.first = frame.into_data().ok();
                    output.map_err(|never| match never {}).boxed_unsync()
                }
                _ => body::empty(),
            }
        }
        // `cmd.Start` failed: Go logs it and the handler returns, so the 200 goes out empty.
        Err(_) => body::empty(),
    };
    let mut response = Response::new(body);
    if let Some(value) = content_type(&settings.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// The `Content-Type` value; Go's header writer turns line breaks into spaces, and a value
/// hyper cannot carry at all is left out.
fn content_type(raw: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&raw.replace(['\r', '\n'], " ")).ok()
}

/// A running process's stdout and exit.
struct Running {
    /// The process's stdout.
    stdout: Stdout,
    /// Whether stdout is still open.
    stdout_open: bool,
    /// Completes when the process exits; `None` once exec_timeout killed it (dropping it is
    /// the kill).
    exit: Option<ExitFuture>,
}

/// The response body of one request: the process's stdout, ended when both stdout closed
/// and the process exited (Go's `cmd.Wait` waits for both). At exec_timeout the process is
/// killed, and the body ends when its stdout closes: at once for a process that holds it
/// alone, later when children it started hold it (a shell script's `sleep`), since Go kills
/// the process only and `cmd.Wait` waits for the pipe (of-watchdog@9bdadb1e
/// executor/streaming_runner.go, `exec.CommandContext`). The 200 is already out, so a kill is
/// a short body, not an error.
struct Output {
    /// `None` once the process ended or was killed (dropping it is the kill).
    process: Option<Running>,
    /// Output read before the response head went out, to send first.
    first: Option<Bytes>,
    /// exec_timeout's timer (`None`: no exec_timeout).
    deadline: Option<Pin<Box<Sleep>>>,
    /// Where stdout is read into.
    buffer: Box<[u8]>,
    /// Where the process runs on if the body is dropped first (see `Orphanage`).
    orphanage: Option<Orphanage>,
}

impl Output {
    fn new(forked: Forked, deadline: Option<Instant>, orphanage: Option<Orphanage>) -> Output {
        Output {
            process: Some(Running {
                stdout: forked.stdout,
                stdout_open: true,
                exit: Some(forked.exit),
            }),
            first: None,
            deadline: deadline.map(|at| Box::pin(tokio::time::sleep_until(at))),
            buffer: vec![0; READ_BYTES].into_boxed_slice(),
            orphanage,
        }
    }
}

impl Drop for Output {
    /// The caller left (hyper drops the body of a connection that died or passed its write
    /// deadline) while the process runs: it runs on until it exits or exec_timeout kills it,
    /// and only then lets go of what it keeps. Without an orphanage, dropping it kills it.
    fn drop(&mut self) {
        let (Some(process), Some(orphanage)) = (self.process.take(), self.orphanage.take()) else {
            return;
        };
        let deadline = self.deadline.take();
        let Orphanage { tasks, keep } = orphanage;
        // After the watchdog's exit the task set takes nothing: the process is killed.
        tasks.spawn(run_orphan(process, deadline, keep));
    }
}

/// A process whose caller left, run to its end as Go's handler waits for it. Its stdout is
/// closed at once: Go's copy to the dead connection fails, and `exec` then closes the pipe's
/// read end (os/exec `writerDescriptor`), so the process's next write fails (SIGPIPE for a
/// shell); a process that writes only at its end runs its full time. exec_timeout's kill
/// (dropping it) ends it early.
async fn run_orphan(process: Running, deadline: Option<Pin<Box<Sleep>>>, keep: Box<dyn Send>) {
    let Running { stdout, exit, .. } = process;
    drop(stdout);
    // Killed already: with the copy failed, `cmd.Wait` has nothing left to wait for.
    let Some(exit) = exit else {
        drop(keep);
        return;
    };
    match deadline {
        Some(deadline) => {
            tokio::select! {
                biased;
                () = deadline => {}
                _ = exit => {}
            }
        }
        None => {
            let _ = exit.await;
        }
    }
    drop(keep);
}

impl Body for Output {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        let Some(process) = this.process.as_mut() else {
            return Poll::Ready(None);
        };
        // Checked first: at the deadline exec.CommandContext kills the process even if it
        // has output ready; what is in the pipe, and what its children write, still comes.
        if let Some(sleep) = this.deadline.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            this.deadline = None;
            process.exit = None;
        }
        if process.stdout_open {
            let mut read = ReadBuf::new(&mut this.buffer);
            match process.stdout.as_mut().poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if !read.filled().is_empty() => {
                    let chunk = Bytes::copy_from_slice(read.filled());
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                // EOF, or a read error, which stops Go's copy the same way.
                Poll::Ready(_) => process.stdout_open = false,
                Poll::Pending => return Poll::Pending,
            }
        }
        let Some(exit) = process.exit.as_mut() else {
            // Killed, and stdout closed: `cmd.Wait` returns.
            this.process = None;
            return Poll::Ready(None);
        };
        match exit.as_mut().poll(cx) {
            // A failed exit is only logged by of-watchdog: the body ends normally.
            Poll::Ready(_) => {
                this.process = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none() && self.process.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn get<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
        env.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn cgi_variables_follow_go_get_environment() {
        let env = cgi_environment(
            &Method::POST,
            &percent_decode("/fn/a%20b"),
            "x=1&y=%20",
            &headers(&[
                ("host", "gateway:8080"),
                ("x-call-id", "abc"),
                ("x-forwarded-for", "10.0.0.1"),
                ("x-forwarded-for", "10.0.0.2"),
                ("content-type", "text/plain"),
            ]),
        );
        assert_eq!(get(&env, "Http_X_Call_Id"), Some("abc"));
        // Only the first value, as Go's `v[0]`.
        assert_eq!(get(&env, "Http_X_Forwarded_For"), Some("10.0.0.1"));
        assert_eq!(get(&env, "Http_Content_Type"), Some("text/plain"));
        assert_eq!(get(&env, "Http_Method"), Some("POST"));
        assert_eq!(get(&env, "Http_Path"), Some("/fn/a b"));
        assert_eq!(get(&env, "Http_Query"), Some("x=1&y=%20"));
        assert_eq!(get(&env, "Http_Host"), None);
        assert_eq!(get(&env, "Http_Transfer_Encoding"), None);
    }

    #[test]
    fn chunked_requests_get_transfer_encoding_and_no_length() {
        let env = cgi_environment(
            &Method::PUT,
            "/",
            "",
            &headers(&[("transfer-encoding", "chunked"), ("content-length", "5")]),
        );
        assert_eq!(get(&env, "Http_Transfer_Encoding"), Some("chunked"));
        assert_eq!(get(&env, "Http_Content_Length"), None);
        assert_eq!(get(&env, "Http_Query"), None);
    }

    #[test]
    fn a_method_header_loses_to_the_method_variable() {
        let env = cgi_environment(&Method::GET, "/", "", &headers(&[("method", "x")]));
        assert_eq!(get(&env, "Http_Method"), Some("GET"));
    }

    #[test]
    fn pragma_no_cache_implies_cache_control() {
        let env = cgi_environment(&Method::GET, "/", "", &headers(&[("pragma", "no-cache")]));
        assert_eq!(get(&env, "Http_Cache_Control"), Some("no-cache"));
        assert_eq!(get(&env, "Http_Pragma"), Some("no-cache"));
    }

    #[test]
    fn header_keys_are_canonical_like_go() {
        assert_eq!(canonical_header_key("x-call-id"), "X-Call-Id");
        assert_eq!(canonical_header_key("etag"), "Etag");
        assert_eq!(canonical_header_key("x_under"), "X_under");
    }

    #[test]
    fn paths_are_decoded_unless_malformed() {
        assert_eq!(percent_decode("/a%2Fb%41"), "/a/bA");
        assert_eq!(percent_decode("/a+b"), "/a+b");
        assert_eq!(percent_decode("/bad%zz"), "/bad%zz");
    }
}
