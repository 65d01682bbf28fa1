//! hey's one `http.Transport`, shared by all its workers: which keep-alive connection a
//! request goes out on, when a new one is dialled, and how many idle ones are kept.
//!
//! hey (rakyll/hey `requester/requester.go`, `runWorkers`, v0.1.4 and master) makes one
//! `http.Transport` with `MaxIdleConnsPerHost: min(C, 500)` and hands the one `http.Client`
//! to every worker. Go's transport (`net/http/transport.go`) keeps a host's idle connections
//! in a list and takes the most recently used (`queueForIdleConn`, the list's last entry), and
//! a connection read to its end goes back on the list before the caller's read returns
//! (`persistConn.readLoop`, the `eofc` wait). A returned connection beyond the idle cap is
//! closed (`tryPutIdleConn`, `errTooManyIdleHost`). So a worker does not own a connection: a
//! worker whose connection broke takes another worker's idle one before it dials, and under
//! `-q` workers swap connections as their ticks interleave.
//!
//! Connections are numbered; a closed connection's number is reused by the next dial, so an
//! engine's per-connection table stays as long as the most connections open at once.

/// The cap hey puts on the transport's idle connections per host (`maxIdleConn`).
pub const HEY_MAX_IDLE: usize = 500;

/// A keep-alive transport's connections: a plain value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transport {
    /// The idle connections, the most recently used last: the one taken next.
    idle: Vec<u32>,
    /// Numbers of closed connections, free for the next dial (the last freed reused first).
    free: Vec<u32>,
    /// The lowest number never used.
    next: u32,
    /// How many idle connections it keeps (Go's `MaxIdleConnsPerHost`).
    max_idle: usize,
}

impl Transport {
    /// hey's transport for `concurrency` workers: `min(concurrency, 500)` idle connections.
    pub fn for_hey(concurrency: u32) -> Transport {
        Transport {
            max_idle: (concurrency.max(1) as usize).min(HEY_MAX_IDLE),
            ..Transport::default()
        }
    }

    /// A connection for the next request: the most recently used idle one (`false`), or a
    /// new one to dial (`true`).
    pub fn take(&mut self) -> (u32, bool) {
        match self.idle.pop() {
            Some(conn) => (conn, false),
            None => (self.dial(), true),
        }
    }

    /// A new connection, to be dialled: the number of one closed earlier, or a new number.
    pub fn dial(&mut self) -> u32 {
        match self.free.pop() {
            Some(conn) => conn,
            None => {
                let conn = self.next;
                self.next = self
                    .next
                    .checked_add(1)
                    .expect("connection numbers fit in u32");
                conn
            }
        }
    }

    /// `conn`'s response was read to its end: it goes back on the idle list, or is closed
    /// when the list is full. Whether it was kept.
    pub fn put(&mut self, conn: u32) -> bool {
        assert!(conn < self.next, "connection {conn} was dialled");
        debug_assert!(!self.idle.contains(&conn), "connection {conn} is idle once");
        if self.idle.len() >= self.max_idle {
            self.close(conn);
            return false;
        }
        self.idle.push(conn);
        true
    }

    /// `conn`, in use, is closed (an error, a timeout, no keep-alive, or its server closed it):
    /// its number is free.
    pub fn close(&mut self, conn: u32) {
        assert!(conn < self.next, "connection {conn} was dialled");
        debug_assert!(
            !self.idle.contains(&conn) && !self.free.contains(&conn),
            "connection {conn} is in use when it closes"
        );
        self.free.push(conn);
    }

    /// Idle connections now.
    pub fn idle(&self) -> usize {
        self.idle.len()
    }

    /// Connections ever numbered: at most the connections open at once.
    pub fn numbered(&self) -> u32 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_recently_used_idle_connection_goes_first_and_an_empty_list_dials() {
        let mut t = Transport::for_hey(3);
        assert_eq!(t.take(), (0, true));
        assert_eq!(t.take(), (1, true));
        assert!(t.put(0));
        assert!(t.put(1));
        assert_eq!(t.take(), (1, false), "the last one back");
        assert_eq!(t.take(), (0, false));
        assert_eq!(t.take(), (2, true), "none idle: a dial");
        assert_eq!(t.idle(), 0);
    }

    #[test]
    fn a_closed_connections_number_is_reused_by_the_next_dial() {
        let mut t = Transport::for_hey(2);
        let (a, _) = t.take();
        let (b, _) = t.take();
        t.close(a);
        assert!(t.put(b));
        assert_eq!(t.take(), (b, false), "an idle one before a dial");
        assert_eq!(
            t.take(),
            (a, true),
            "the dial takes the closed one's number"
        );
        assert_eq!(t.numbered(), 2);
    }

    #[test]
    fn the_idle_list_holds_min_concurrency_500_and_closes_the_rest() {
        let mut t = Transport::for_hey(2);
        let conns: Vec<u32> = (0..3).map(|_| t.dial()).collect();
        assert!(t.put(conns[0]));
        assert!(t.put(conns[1]));
        assert!(!t.put(conns[2]), "a third idle connection is closed");
        assert_eq!(t.idle(), 2);
        assert_eq!(t.take(), (conns[1], false));
        assert_eq!(t.dial(), conns[2], "the closed one's number is free");
        assert_eq!(Transport::for_hey(10_000).max_idle, HEY_MAX_IDLE);
        assert_eq!(
            Transport::for_hey(0).max_idle,
            1,
            "hey has at least one worker"
        );
    }
}
