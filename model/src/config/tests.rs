//! The configuration's readers and defaults against the real components'.

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_are_the_real_components_defaults() {
    let (watchdog, warnings) =
        WatchdogConfig::from_env(&env(&[]), WatchdogKind::OfWatchdog, Mode::Http).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(watchdog.write_timeout_ns, 30 * NS_PER_S);
    assert_eq!(watchdog.read_timeout_ns, 30 * NS_PER_S);
    assert_eq!(watchdog.exec_timeout_ns, 30 * NS_PER_S);
    assert_eq!(watchdog.healthcheck_interval_ns, 30 * NS_PER_S as i64);
    assert_eq!(watchdog.max_inflight, 0);
    let child = ChildConfig::from_env(&env(&[]), OnSigterm::Drain, Span::fixed(0));
    assert_eq!(
        child.write_timeout_ns,
        10 * NS_PER_S,
        "golang-middleware defaults to 10 s"
    );
    assert_eq!(GatewayConfig::default().upstream_timeout_ns, 60 * NS_PER_S);
    assert_eq!(GatewayConfig::default().write_timeout_ns, 65 * NS_PER_S);
    assert_eq!(ProviderConfig::default().idle_conn_timeout_ns, 5 * NS_PER_S);
    assert_eq!(KubernetesConfig::default().grace_s, 30);
    assert_eq!(
        IngressConfig::default().read_timeout_ns,
        60 * NS_PER_S,
        "ingress-nginx's proxy-read-timeout, an ALB's idle timeout"
    );
    assert_eq!(
        Config::default().ingress,
        None,
        "no ingress unless one is set"
    );
    assert_eq!(
        ProbeConfig::default(),
        ProbeConfig {
            initial_delay_s: 2,
            period_s: 2,
            failure_threshold: 3,
            success_threshold: 1
        }
    );
}

#[test]
fn healthcheck_interval_defaults_to_write_timeout() {
    let (watchdog, _) = WatchdogConfig::from_env(
        &env(&[("write_timeout", "2m30s")]),
        WatchdogKind::OfWatchdog,
        Mode::Http,
    )
    .unwrap();
    assert_eq!(watchdog.healthcheck_interval_ns, 150 * NS_PER_S as i64);
}

#[test]
fn invalid_values_fall_back_with_a_warning_and_zero_write_timeout_is_fatal() {
    let (watchdog, warnings) = WatchdogConfig::from_env(
        &env(&[
            ("exec_timeout", "2 minutes"),
            ("read_timeout", "65"),
            ("max_inflight", "lots"),
        ]),
        WatchdogKind::OfWatchdog,
        Mode::Http,
    )
    .unwrap();
    assert_eq!(watchdog.exec_timeout_ns, 30 * NS_PER_S);
    assert_eq!(watchdog.read_timeout_ns, 65 * NS_PER_S);
    let keys: Vec<&str> = warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(keys, vec!["exec_timeout", "max_inflight"]);
    let error = WatchdogConfig::from_env(
        &env(&[("write_timeout", "0")]),
        WatchdogKind::OfWatchdog,
        Mode::Http,
    );
    assert_eq!(error.unwrap_err().key, "write_timeout");
}

#[test]
fn the_classic_watchdog_reads_its_own_defaults_and_takes_a_zero_write_timeout() {
    let (classic, _) =
        WatchdogConfig::from_env(&env(&[]), WatchdogKind::Classic, Mode::Streaming).unwrap();
    assert_eq!(classic.exec_timeout_ns, 0, "exec_timeout 0: no hard limit");
    assert_eq!(classic.read_timeout_ns, 30 * NS_PER_S);
    assert_eq!(classic.write_timeout_ns, 30 * NS_PER_S);
    assert_eq!(classic.healthcheck_interval_ns, 30 * NS_PER_S as i64);
    let (zero, _) = WatchdogConfig::from_env(
        &env(&[("write_timeout", "0")]),
        WatchdogKind::Classic,
        Mode::Streaming,
    )
    .unwrap();
    assert_eq!(zero.write_timeout_ns, 0);
    assert_eq!(
        zero.healthcheck_interval_ns, 0,
        "follows write_timeout: waits forever"
    );
}

#[test]
fn zero_server_timeouts_are_none_and_the_proxy_falls_back_to_ten_seconds() {
    assert_eq!(server_limit_ns(0), None);
    assert_eq!(server_limit_ns(5), Some(5));
    let provider = ProviderConfig {
        read_timeout_ns: 0,
        ..ProviderConfig::default()
    };
    assert_eq!(provider.proxy_timeout_ns(), 10 * NS_PER_S);
    assert_eq!(ProviderConfig::default().proxy_timeout_ns(), 65 * NS_PER_S);
}

#[test]
fn pro_grace_is_write_timeout_plus_two_and_bare_integers_trap() {
    assert_eq!(
        edition_grace_s(Edition::Pro, &env(&[("write_timeout", "2m30s")])).0,
        152
    );
    let (grace, _, warning) = edition_grace_s(Edition::Pro, &env(&[("write_timeout", "60")]));
    assert_eq!(grace, 2);
    assert!(warning.is_some());
    assert_eq!(
        edition_grace_s(Edition::Ce, &env(&[("write_timeout", "2m30s")])).0,
        30
    );
}

#[test]
fn percentages_round_like_kubernetes() {
    assert_eq!(IntOrPercent::Percent(25).resolve(10, true), 3);
    assert_eq!(IntOrPercent::Percent(25).resolve(10, false), 2);
}
