//! A Go `http.Transport` keep-alive pool towards one server: where a request meets a connection
//! the server has just closed (mechanisms 3 and 4). The provider keeps one towards each pod, the
//! watchdog one towards its child.

use crate::time::Nanos;

/// One idle pooled connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Idle {
    /// When the client got it back: the response's arrival.
    since_ns: Nanos,
    /// When the server wrote that response; its idle timer runs from here.
    server_since_ns: Nanos,
    /// When the server closed it, if it did (shutdown or process exit).
    closed_ns: Option<Nanos>,
    /// The peer vanished without a FIN (node loss): writes hang.
    black_hole: bool,
}

/// What taking a connection for a new request gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkout {
    /// A live pooled connection: the request reaches the server.
    Reused,
    /// A pooled connection whose close the client has not seen yet, and which the request
    /// reaches after it: the write meets the close (`errServerClosedIdle` or a read error), and
    /// Go may retry on a new dial.
    Race,
    /// A pooled connection to a host that vanished: the request hangs until a timer fires.
    Hang,
    /// No usable pooled connection: dial.
    Dial,
}

/// How far the two ends of a connection are apart in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reach {
    /// From a client's write to the server reading it.
    pub request_ns: Nanos,
    /// From the server's close to the client seeing the FIN.
    pub fin_ns: Nanos,
}

/// Idle connections, most recently used last (Go reuses the newest first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pool {
    /// The idle connections, most recently used last.
    idle: Vec<Idle>,
    /// The server's last close of all its idle connections: a response still on its way back
    /// when it came arrives on a connection that is already closed.
    last_close_ns: Option<Nanos>,
}

impl Pool {
    /// Take a connection for a request at `now`. `client_idle_ns`: the transport's
    /// IdleConnTimeout; `server_idle_ns`: the server's idle timeout (Go: IdleTimeout, else
    /// ReadTimeout); `reach`: the network between them. A request races a close when it
    /// reaches the server at or after the close but leaves before the FIN is back.
    pub fn checkout(
        &mut self,
        now: Nanos,
        client_idle_ns: Nanos,
        server_idle_ns: Nanos,
        reach: Reach,
    ) -> Checkout {
        while let Some(conn) = self.idle.pop() {
            if now >= conn.since_ns + client_idle_ns {
                // The transport itself closed it first; every older one is older still.
                self.idle.clear();
                break;
            }
            if conn.black_hole {
                return Checkout::Hang;
            }
            let server_idle_close = if server_idle_ns == 0 {
                None
            } else {
                Some(conn.server_since_ns + server_idle_ns)
            };
            let closed = match (conn.closed_ns, server_idle_close) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match closed {
                // The FIN is back: Go's readLoop has already dropped it.
                Some(at) if now >= at + reach.fin_ns => continue,
                Some(at) if now + reach.request_ns >= at => return Checkout::Race,
                _ => return Checkout::Reused,
            }
        }
        Checkout::Dial
    }

    /// A response ended with the connection reusable: the server wrote it at `server_ns`, the
    /// client has it back at `now`.
    pub fn checkin(&mut self, now: Nanos, server_ns: Nanos) {
        let closed_ns = self.last_close_ns.filter(|&at| at >= server_ns);
        self.idle.push(Idle {
            since_ns: now,
            server_since_ns: server_ns,
            closed_ns,
            black_hole: false,
        });
    }

    /// The server closed every idle connection at `now` (Shutdown's `closeIdleConns`, or the
    /// process exiting).
    pub fn server_closed_all(&mut self, now: Nanos) {
        self.last_close_ns = Some(now);
        for conn in &mut self.idle {
            if conn.closed_ns.is_none() {
                conn.closed_ns = Some(now);
            }
        }
    }

    /// The server's host vanished without closing anything.
    pub fn black_hole_all(&mut self) {
        for conn in &mut self.idle {
            conn.black_hole = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    /// One millisecond each way.
    const NET: Reach = Reach {
        request_ns: MS,
        fin_ns: MS,
    };

    #[test]
    fn a_request_reaching_the_server_after_its_close_races_until_the_fin_is_back() {
        let mut pool = Pool::default();
        pool.checkin(0, 0);
        pool.server_closed_all(100 * MS);
        // Sent a hop before the close: it arrives with the close.
        assert_eq!(
            pool.clone().checkout(99 * MS, 5000 * MS, 30000 * MS, NET),
            Checkout::Race
        );
        assert_eq!(
            pool.clone()
                .checkout(99 * MS - 1, 5000 * MS, 30000 * MS, NET),
            Checkout::Reused
        );
        assert_eq!(
            pool.clone()
                .checkout(101 * MS - 1, 5000 * MS, 30000 * MS, NET),
            Checkout::Race
        );
        assert_eq!(
            pool.checkout(101 * MS, 5000 * MS, 30000 * MS, NET),
            Checkout::Dial
        );
    }

    #[test]
    fn without_latency_a_close_is_seen_at_once() {
        let mut pool = Pool::default();
        pool.checkin(0, 0);
        pool.server_closed_all(100 * MS);
        let none = Reach {
            request_ns: 0,
            fin_ns: 0,
        };
        assert_eq!(
            pool.clone()
                .checkout(100 * MS - 1, 5000 * MS, 30000 * MS, none),
            Checkout::Reused
        );
        assert_eq!(
            pool.checkout(100 * MS, 5000 * MS, 30000 * MS, none),
            Checkout::Dial
        );
    }

    #[test]
    fn server_idle_timeout_shorter_than_the_clients_races() {
        let mut pool = Pool::default();
        // Written at 0, back at the client 1 ms later; the server's timer runs from 0.
        pool.checkin(MS, 0);
        assert_eq!(
            pool.clone().checkout(2998 * MS, 5000 * MS, 3000 * MS, NET),
            Checkout::Reused
        );
        assert_eq!(
            pool.checkout(2999 * MS, 5000 * MS, 3000 * MS, NET),
            Checkout::Race
        );
    }

    #[test]
    fn a_close_while_the_response_travels_back_closes_that_connection_too() {
        let mut pool = Pool::default();
        pool.server_closed_all(10 * MS);
        // Written at 9.5 ms, before the close; back at 10.5 ms, after it.
        pool.checkin(10 * MS + MS / 2, 9 * MS + MS / 2);
        assert_eq!(
            pool.checkout(10 * MS + MS / 2, 5000 * MS, 30000 * MS, NET),
            Checkout::Race
        );
        // One written after the close is open.
        let mut later = Pool::default();
        later.server_closed_all(10 * MS);
        later.checkin(12 * MS, 11 * MS);
        assert_eq!(
            later.checkout(12 * MS, 5000 * MS, 30000 * MS, NET),
            Checkout::Reused
        );
    }

    #[test]
    fn a_vanished_server_leaves_its_idle_connections_hanging() {
        // A node lost without a word: the next request on a pooled connection goes nowhere
        // (no RST, no FIN) until a timer gives up on it; before, the same connection is reused.
        let mut pool = Pool::default();
        pool.checkin(0, 0);
        assert_eq!(
            pool.clone().checkout(MS, 5000 * MS, 30000 * MS, NET),
            Checkout::Reused
        );
        pool.black_hole_all();
        assert_eq!(
            pool.checkout(MS, 5000 * MS, 30000 * MS, NET),
            Checkout::Hang
        );
    }

    #[test]
    fn client_idle_timeout_drops_old_connections() {
        let mut pool = Pool::default();
        pool.checkin(0, 0);
        assert_eq!(
            pool.checkout(5000 * MS, 5000 * MS, 30000 * MS, NET),
            Checkout::Dial
        );
    }
}
