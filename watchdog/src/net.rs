//! The two seams between the watchdog and a network: a listener it accepts from and a
//! connector it dials the upstream child with (HTTP mode; streaming mode has `NoUpstream`).
//! The same watchdog code runs on tokio TCP here, on in-memory pipes in paused-time tests
//! (`memory`), and on turmoil's simulated TCP.

use std::future::Future;
use std::io;

use tokio::io::{AsyncRead, AsyncWrite};

/// A listening socket. Dropping it closes it: new connects are refused, as when Go's
/// `Server.Shutdown` closes its listeners.
pub trait Accept: Send + 'static {
    /// One accepted connection.
    type Io: AsyncRead + AsyncWrite + Send + Unpin + 'static;

    /// Wait for the next connection. Must be cancel-safe: the watchdog races it against its
    /// shutdown in a `select!`, as tokio's own `TcpListener::accept` allows.
    fn accept(&mut self) -> impl Future<Output = io::Result<Self::Io>> + Send;
}

/// Dials the upstream (the function's own HTTP server). The connector knows its address.
pub trait Connect: Send + Sync + 'static {
    /// One connection to the upstream.
    type Io: AsyncRead + AsyncWrite + Send + Unpin + 'static;

    /// Open a new connection.
    fn connect(&self) -> impl Future<Output = io::Result<Self::Io>> + Send;
}

impl Accept for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;

    async fn accept(&mut self) -> io::Result<Self::Io> {
        let (stream, _) = tokio::net::TcpListener::accept(self).await?;
        // Go sets TCP_NODELAY on every TCP connection; small responses must not wait for
        // Nagle's algorithm either here.
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// Dials a fixed `host:port` over tokio TCP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConnector {
    /// The `host:port` to dial.
    authority: String,
}

impl TcpConnector {
    /// Dial `authority` (`host:port`).
    pub fn new(authority: impl Into<String>) -> TcpConnector {
        TcpConnector {
            authority: authority.into(),
        }
    }

    /// Dial the authority of an `http://host:port/...` URL; the port defaults to 80.
    pub fn from_url(url: &str) -> Result<TcpConnector, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("{url:?}: {e}"))?;
        let host = uri
            .host()
            .ok_or_else(|| format!("{url:?}: no host in the upstream URL"))?;
        let port = uri.port_u16().unwrap_or(80);
        Ok(TcpConnector::new(format!("{host}:{port}")))
    }

    /// The `host:port` this connector dials.
    pub fn authority(&self) -> &str {
        &self.authority
    }
}

impl Connect for TcpConnector {
    type Io = tokio::net::TcpStream;

    async fn connect(&self) -> io::Result<Self::Io> {
        let stream = tokio::net::TcpStream::connect(&self.authority).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// The connector of a watchdog without an upstream (streaming mode): every dial is refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoUpstream;

impl Connect for NoUpstream {
    type Io = tokio::io::DuplexStream;

    async fn connect(&self) -> io::Result<Self::Io> {
        Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "streaming mode has no upstream",
        ))
    }
}
