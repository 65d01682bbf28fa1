#!/usr/bin/env bash
# Hostile inputs against the faasim binary, of the kinds issue 14 lists (truncated YAML, huge
# and negative values, alias bombs, garbage, devices, FIFOs, giant stacks, envsubst bombs, the
# turmoil engine's limits), each run with a timeout and a memory cap. Reports every panic, hang,
# run over 1 GB and exit 2 that does not name its file (or flag); exits 1 when there is one.
#
#   cargo build --release -p faasim && scripts/adversarial.sh [path/to/faasim]
#
# Nothing here is timed as a test: the timeout only stops a hang. TIMEOUT_S (default 60) and
# MEMORY_KB (default 4 GiB of address space, `ulimit -v`) can be set in the environment.

set -u

FAASIM=${1:-target/release/faasim}
TIMEOUT_S=${TIMEOUT_S:-60}
MEMORY_KB=${MEMORY_KB:-4194304}
OVER_KB=$((1024 * 1024))
if [ ! -x "$FAASIM" ]; then
    echo "no faasim binary at $FAASIM (cargo build --release -p faasim)" >&2
    exit 2
fi
FAASIM=$(cd "$(dirname "$FAASIM")" && pwd)/$(basename "$FAASIM")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 2

runs=0
bad=0

# run NAME FILE-NAMED-IN-ERRORS ARGS...: one invocation, judged.
run() {
    local name=$1 named=$2
    shift 2
    runs=$((runs + 1))
    local code
    (
        ulimit -v "$MEMORY_KB"
        exec /usr/bin/time -f "%M" -o "$name.rss" timeout -s KILL "$TIMEOUT_S" "$FAASIM" "$@"
    ) >"$name.out" 2>"$name.err" </dev/null
    code=$?
    local rss
    rss=$(tail -n 1 "$name.rss" 2>/dev/null | tr -dc '0-9')
    rss=${rss:-0}
    local problem=""
    if grep -q "panicked" "$name.err"; then
        problem="panic: $(grep -m1 panicked "$name.err")"
    elif [ "$code" -eq 137 ] || [ "$code" -eq 124 ]; then
        problem="hang or killed (over ${TIMEOUT_S} s or the memory cap)"
    elif [ "$rss" -gt "$OVER_KB" ]; then
        problem="over 1 GB: ${rss} KB"
    elif [ "$code" -eq 2 ] && ! grep -qF -- "$named" "$name.err"; then
        problem="exit 2 without naming $named: $(head -c 300 "$name.err")"
    elif [ "$code" -gt 2 ]; then
        problem="exit $code: $(head -c 300 "$name.err")"
    fi
    if [ -n "$problem" ]; then
        bad=$((bad + 1))
        echo "BAD  $name: $problem"
    else
        echo "ok   $name (exit $code, ${rss} KB)"
    fi
}

# scenario NAME TEXT: a scenario file, run on the model.
scenario() {
    printf '%s' "$2" >"$1.yaml"
    run "$1" "$1.yaml" run "$1.yaml"
}

# --- scenario files: values ------------------------------------------------------------------
scenario requests-1e9 $'load: {requests: 1000000000}\n'
scenario requests-huge $'load: {requests: 99999999999999999999999999}\n'
scenario requests-over-limit $'load: {requests: 40000001}\n'
# Past the 500 000 a run keeps whole, a run streams: 3 million requests in 30 simulated seconds
# over 100 replicas, a rollout half way, must stay far under 1 GB (about 30 MB).
scenario requests-streamed $'function:\n  labels: {com.openfaas.scale.min: 100, com.openfaas.scale.max: 100}\n  start: warm\nload: {requests: 3000000, rate: 100000}\nevents:\n  - {at: 15s, rollout: {}}\n'
scenario async-requests-over-limit $'load: {async: true, requests: 500001}\n'
scenario rate-1e6 $'load: {rate: 1000000, requests: 1000000}\n'
scenario concurrency-1e6 $'load: {concurrency: 1000000, requests: 1000000}\n'
scenario scale-1e5 $'function:\n  labels: {com.openfaas.scale.min: 100000, com.openfaas.scale.max: 100000}\n'
scenario scale-event-1e6 $'events:\n  - {at: 1s, scale: 1000000}\n'
scenario nodes-2e9 $'kubernetes: {nodes: 2000000000}\n'
scenario negative-requests $'load: {requests: -5}\n'
scenario negative-duration $'function: {handler: {duration: -5s}}\n'
scenario nan-duration $'function: {handler: {duration: NaNs}}\n'
scenario overflow-duration $'function: {handler: {duration: 9999999999999999h}}\n'
scenario limit-zero $'limit: 0\n'
scenario limit-short $'limit: 10ms\nfunction: {handler: {duration: 1s}}\n'
scenario kill-nope $'events:\n  - {at: 1s, killPod: {pod: nope}}\n'
scenario kill-missing $'events:\n  - {at: 1s, killPod: {pod: fn-r7-7}}\n'
scenario events-after-limit $'limit: 10s\nevents:\n  - {at: 1m, rollout: {}}\n'
scenario vacuous $'load: {requests: 200, concurrency: 10}\nevents:\n  - {at: 5s, rollout: {}}\n'
scenario miscased-env $'function: {environment: {EXEC_TIMEOUT: 10s}}\n'
scenario env-big "function: {environment: {big: $(head -c 2000000 /dev/zero | tr '\0' x)}}"$'\n'

# --- scenario files: structure ---------------------------------------------------------------
scenario truncated $'function:\n  environment:\n    write_timeout: "10'
scenario garbage $'\x01\x02{{{[[[:::---\n'
printf 'name: x\nload: {requests: 1\xff}\n' >not-utf8.yaml
run not-utf8 not-utf8.yaml run not-utf8.yaml
{
    printf 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
    for level in b c d e f g h i; do
        prev=$(printf '%s' "$level" | tr 'b-i' 'a-h')
        printf '%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n' "$level" "$level" \
            "$prev" "$prev" "$prev" "$prev" "$prev" "$prev" "$prev" "$prev" "$prev" "$prev"
    done
} >alias-bomb.yaml
run alias-bomb alias-bomb.yaml run alias-bomb.yaml
{
    printf 'function: '
    head -c 100000 /dev/zero | tr '\0' '['
} >deep.yaml
run deep deep.yaml run deep.yaml
{
    printf 'events:\n'
    for _ in $(seq 1 20000); do printf '  - {at: 1s, rollout: {}}\n'; done
} >events-20000.yaml
run events-20000 events-20000.yaml run events-20000.yaml

# --- files that are not files ----------------------------------------------------------------
run dev-zero /dev/zero run /dev/zero
run dev-urandom /dev/urandom run /dev/urandom
mkfifo fifo.yaml
run fifo fifo.yaml run fifo.yaml
mkdir -p a-directory
run directory a-directory run a-directory
run missing missing.yaml run missing.yaml

# --- the turmoil engine's limits -------------------------------------------------------------
printf 'load: {concurrency: 4100, requests: 4100}\n' >turmoil-4100.yaml
run turmoil-4100 turmoil-4100.yaml run turmoil-4100.yaml --engine turmoil
printf 'load: {concurrency: 16400, requests: 16400}\n' >turmoil-16400.yaml
run turmoil-16400 turmoil-16400.yaml run turmoil-16400.yaml --engine turmoil
printf 'function:\n  labels: {com.openfaas.scale.min: 200, com.openfaas.scale.max: 200}\n' \
    >turmoil-200.yaml
run turmoil-200 turmoil-200.yaml run turmoil-200.yaml --engine turmoil

# --- check -----------------------------------------------------------------------------------
# stack N FILE [BAD-INDEX]: N golang-middleware functions, the one at BAD-INDEX with
# write_timeout 0 (a value of-watchdog refuses).
stack() {
    local count=$1 file=$2 bad_index=${3:--1}
    {
        printf 'version: 1.0\nprovider: {name: openfaas, gateway: "http://127.0.0.1:8080"}\nfunctions:\n'
        for i in $(seq 0 $((count - 1))); do
            printf '  fn-%d:\n    lang: golang-middleware\n    image: fn-%d:latest\n    environment:\n' "$i" "$i"
            if [ "$i" -eq "$bad_index" ]; then
                printf '      write_timeout: 0\n'
            else
                printf '      write_timeout: %ds\n      exec_timeout: %ds\n' $((10 + i % 50)) $((5 + i % 50))
            fi
        done
    } >"$file"
}
stack 1000 stack-1000-one-bad.yml 500
run check-1000-one-bad stack-1000-one-bad.yml check --no-search stack-1000-one-bad.yml
stack 10000 stack-10000.yml
run check-10000 stack-10000.yml check --no-search stack-10000.yml
stack 10001 stack-10001.yml
run check-10001 stack-10001.yml check --no-search stack-10001.yml
printf 'functions:\n  big:\n    lang: golang-middleware\n    labels: {com.openfaas.scale.min: 10000}\n' \
    >scale-min.yml
run check-scale-min scale-min.yml check scale-min.yml
{
    printf 'functions:\n  x:\n    lang: golang-middleware\n    environment:\n      a: "'
    for _ in $(seq 1 200000); do printf '${X}'; done
    printf '"\n'
} >envsubst-bomb.yml
X=$(head -c 2000 /dev/zero | tr '\0' y) run check-envsubst-bomb envsubst-bomb.yml check envsubst-bomb.yml
printf 'functions:\n  x:\n    lang: golang-middleware\n    environment_file: [/dev/zero]\n' >env-zero.yml
run check-env-file-dev-zero env-zero.yml check env-zero.yml
mkfifo env-fifo.yml.fifo
printf 'functions:\n  x:\n    lang: golang-middleware\n    environment_file: [env-fifo.yml.fifo]\n' \
    >env-fifo.yml
run check-env-file-fifo env-fifo.yml check env-fifo.yml
printf 'gateway: {upstreamTimeout: 60s}\n' >values-only.yaml
run check-no-function values-only.yaml check values-only.yaml
run check-dev-zero /dev/zero check /dev/zero
run check-flags --filter check --filter 'a*' --regex b stack-1000-one-bad.yml
run check-concurrency --concurrency check --concurrency 4000000000 scale-min.yml

echo "$runs inputs, $bad problems"
[ "$bad" -eq 0 ]
