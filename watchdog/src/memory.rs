//! An in-memory listener and connector over `tokio::io::duplex` pipes. No sockets and no
//! wall clock: with `#[tokio::test(start_paused = true)]` every timer in the watchdog fires at
//! its exact instant, which is how the timer tests assert exact times.

use std::io;

use tokio::io::DuplexStream;
use tokio::sync::mpsc;

use crate::net::{Accept, Connect};

/// Bytes buffered in each direction of one in-memory connection.
const PIPE_BYTES: usize = 64 * 1024;

/// Connections waiting to be accepted, like a kernel accept backlog.
const BACKLOG: usize = 1024;

/// The listening side. Dropping it refuses later connects, and drops the connections still
/// waiting in its backlog (their clients read EOF), as closing a TCP listener resets them.
#[derive(Debug)]
pub struct MemoryListener {
    /// Connections dialled and not yet accepted.
    backlog: mpsc::Receiver<DuplexStream>,
}

/// The dialling side; cheap to clone.
#[derive(Clone, Debug)]
pub struct MemoryConnector {
    /// The listener's backlog, to queue a dialled connection on.
    backlog: mpsc::Sender<DuplexStream>,
}

/// A new in-memory listener and a connector that reaches it.
pub fn listener() -> (MemoryListener, MemoryConnector) {
    let (tx, rx) = mpsc::channel(BACKLOG);
    (
        MemoryListener { backlog: rx },
        MemoryConnector { backlog: tx },
    )
}

impl Accept for MemoryListener {
    type Io = DuplexStream;

    async fn accept(&mut self) -> io::Result<DuplexStream> {
        // Every connector alive keeps the channel open, so `None` only means that no one can
        // ever connect again.
        self.backlog
            .recv()
            .await
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "no connector left"))
    }
}

impl MemoryConnector {
    /// Connect, failing with `ConnectionRefused` once the listener is gone (or its backlog is
    /// full). Usable without a `Connect` bound.
    pub fn dial(&self) -> io::Result<DuplexStream> {
        let (client, server) = tokio::io::duplex(PIPE_BYTES);
        match self.backlog.try_send(server) {
            Ok(()) => Ok(client),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "in-memory listener closed",
            )),
        }
    }
}

impl Connect for MemoryConnector {
    type Io = DuplexStream;

    async fn connect(&self) -> io::Result<DuplexStream> {
        self.dial()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn connects_until_the_listener_is_dropped() {
        let (mut listener, connector) = listener();
        let mut client = connector.dial().unwrap();
        let mut server = listener.accept().await.unwrap();
        client.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        let mut queued = connector.dial().unwrap();
        drop(listener);
        let err = connector.dial().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        // The connection left in the backlog is reset: its client reads EOF.
        assert_eq!(queued.read(&mut buf).await.unwrap(), 0);
    }
}
