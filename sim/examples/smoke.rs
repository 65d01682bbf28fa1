use faasim_model::config::*;
use faasim_model::schedule::*;
use faasim_model::time::*;
fn main() {
    let mut c = Config::default();
    c.function.name = "go-long".into();
    c.function.watchdog.write_timeout_ns = 150 * NS_PER_S;
    c.function.watchdog.read_timeout_ns = 120 * NS_PER_S;
    c.function.watchdog.exec_timeout_ns = 120 * NS_PER_S;
    c.function.watchdog.healthcheck_interval_ns = 5 * NS_PER_S as i64;
    c.function.child.write_timeout_ns = 150 * NS_PER_S;
    c.function.child.healthcheck_interval_ns = 5 * NS_PER_S as i64;
    c.function.handler_ns = Span::fixed(90 * NS_PER_S);
    c.function.startup_ns = Span::fixed(2600 * NS_PER_MS);
    c.function.start = Start::Cold;
    c.function.scale_max = 1;
    let grace: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap())
        .unwrap_or(152);
    c.kubernetes.grace_s = grace;
    c.kubernetes.endpoint_lag_ns = Span {
        lo_ns: 0,
        hi_ns: 50 * NS_PER_MS,
    };
    c.gateway.upstream_timeout_ns = 180 * NS_PER_S;
    c.gateway.write_timeout_ns = 185 * NS_PER_S;
    c.gateway.read_timeout_ns = 185 * NS_PER_S;
    c.provider.read_timeout_ns = 185 * NS_PER_S;
    c.provider.write_timeout_ns = 185 * NS_PER_S;
    c.load.concurrency = 5;
    c.load.requests = 10;
    c.load.timeout_ns = 125 * NS_PER_S;
    c.load.method = Method::Post;
    let events = vec![Event {
        at_ns: 30 * NS_PER_S,
        action: Action::Scale(0),
    }];
    let run = faasim_sim::simulate(&c, &events, 3600 * NS_PER_S, 7, true);
    print!(
        "{}",
        faasim_sim::report::text(
            &run,
            &faasim_sim::report::Header {
                name: "smoke".into(),
                ..Default::default()
            }
        )
    );
}
