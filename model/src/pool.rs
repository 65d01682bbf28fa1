//! A Go `http.Transport` keep-alive pool towards one server: where a request meets a connection
//! the server has just closed (mechanisms 3 and 4). The provider keeps one towards each pod, the
//! watchdog one towards its child.

use crate::time::Nanos;

/// One idle pooled connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Idle {
    /// When it went back to the pool.
    since_ns: Nanos,
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
    /// A pooled connection the server closed less than one round trip ago: the write meets the
    /// close (`errServerClosedIdle` or a read error), and Go may retry on a new dial.
    Race,
    /// A pooled connection to a host that vanished: the request hangs until a timer fires.
    Hang,
    /// No usable pooled connection: dial.
    Dial,
}

/// Idle connections, most recently used last (Go reuses the newest first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pool {
    idle: Vec<Idle>,
}

impl Pool {
    /// Take a connection for a request at `now`. `client_idle_ns`: the transport's
    /// IdleConnTimeout; `server_idle_ns`: the server's idle timeout (Go: IdleTimeout, else
    /// ReadTimeout); `rtt_ns`: how long the client needs to learn of a close.
    pub fn checkout(
        &mut self,
        now: Nanos,
        client_idle_ns: Nanos,
        server_idle_ns: Nanos,
        rtt_ns: Nanos,
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
                Some(conn.since_ns + server_idle_ns)
            };
            let closed = match (conn.closed_ns, server_idle_close) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match closed {
                Some(at) if at <= now && now < at + rtt_ns => return Checkout::Race,
                Some(at) if at <= now => continue,
                _ => return Checkout::Reused,
            }
        }
        Checkout::Dial
    }

    /// A response ended with the connection reusable.
    pub fn checkin(&mut self, now: Nanos) {
        self.idle.push(Idle {
            since_ns: now,
            closed_ns: None,
            black_hole: false,
        });
    }

    /// The server closed every idle connection at `now` (Shutdown's `closeIdleConns`, or the
    /// process exiting).
    pub fn server_closed_all(&mut self, now: Nanos) {
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

    /// Idle connections held.
    pub fn len(&self) -> usize {
        self.idle.len()
    }

    /// No idle connection.
    pub fn is_empty(&self) -> bool {
        self.idle.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_close_within_one_round_trip_is_a_race_and_later_a_dial() {
        let mut pool = Pool::default();
        pool.checkin(0);
        pool.server_closed_all(100 * MS);
        let mut racing = pool.clone();
        assert_eq!(
            racing.checkout(100 * MS, 5000 * MS, 30000 * MS, MS),
            Checkout::Race
        );
        assert_eq!(
            pool.checkout(102 * MS, 5000 * MS, 30000 * MS, MS),
            Checkout::Dial
        );
    }

    #[test]
    fn server_idle_timeout_shorter_than_the_clients_races() {
        let mut pool = Pool::default();
        pool.checkin(0);
        assert_eq!(
            pool.clone().checkout(2999 * MS, 5000 * MS, 3000 * MS, MS),
            Checkout::Reused
        );
        assert_eq!(
            pool.checkout(3000 * MS, 5000 * MS, 3000 * MS, MS),
            Checkout::Race
        );
    }

    #[test]
    fn client_idle_timeout_drops_old_connections() {
        let mut pool = Pool::default();
        pool.checkin(0);
        assert_eq!(
            pool.checkout(5000 * MS, 5000 * MS, 30000 * MS, MS),
            Checkout::Dial
        );
    }
}
