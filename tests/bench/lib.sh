# Shared by the benchmarks under tests/bench/: a release build, a private
# PostgreSQL in a temporary folder, and confer on a free port. Source it from
# the repository root after scripts/lib.sh; it sets TMP, PGPORT, DB, CPORT and
# cleans everything up at exit.

bench_setup() {
    cf_install_packages "${CF_PACKAGES[@]}"
    if [ ! -f build-bench/build.ninja ]; then
        meson setup build-bench --buildtype=release -Dtests=disabled >/dev/null
    fi
    ninja -C build-bench >/dev/null
    TMP=$(mktemp -d /tmp/confer-bench.XXXXXX)
    chmod 755 "$TMP"
    BENCH_PIDS=()
    trap bench_cleanup EXIT
    PGPORT=$(cf_free_port)
    cf_pg_init "$TMP/pg" fast
    cf_pg_start "$TMP/pg" "$PGPORT" "$TMP/pg.log"
    cf_pg_createdb "$PGPORT" confer
    DB="postgresql://confer@127.0.0.1:$PGPORT/confer"
}

# bench_one_sched_group: the kernel's autogroup puts every session (pg_ctl starts
# PostgreSQL in its own) in a separate scheduling group, and shares CPU between
# groups first, which defeats confer's idle-priority hashing threads. The
# deployment guide turns autogroup off, as is usual for PostgreSQL servers; so
# does the benchmark, for its duration (CONFER_BENCH_AUTOGROUP=keep leaves it).
bench_one_sched_group() {
    local f=/proc/sys/kernel/sched_autogroup_enabled
    BENCH_AUTOGROUP=
    [ -w "$f" ] || { echo "scheduler autogroup: $(cat "$f" 2>/dev/null || echo absent)"; return 0; }
    if [ "$(cat "$f")" = 1 ] && [ "${CONFER_BENCH_AUTOGROUP:-}" != keep ]; then
        BENCH_AUTOGROUP=1
        echo 0 >"$f"
    fi
    echo "scheduler autogroup: $(cat "$f") (kernel.sched_autogroup_enabled)"
}

bench_cleanup() {
    if [ -n "${BENCH_AUTOGROUP:-}" ]; then echo 1 >/proc/sys/kernel/sched_autogroup_enabled; fi
    for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    cf_pg_stop "$TMP/pg"
    rm -rf "$TMP"
}

# bench_start_confer [ENV=VALUE...]: starts confer with extra settings, waits until ready.
bench_start_confer() {
    CPORT=$(cf_free_port)
    env "$@" CONFER_DATABASE_URL="$DB" CONFER_LISTEN="127.0.0.1:$CPORT" \
        CONFER_WORKERS="${CONFER_BENCH_WORKERS:-2}" CONFER_WEB_ROOT="$PWD/web" \
        ./build-bench/confer serve 2>"$TMP/confer.log" &
    BENCH_PIDS+=($!)
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$CPORT/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "confer did not become ready" >&2
    return 1
}

# bench_token PORT EMAIL PASSWORD: signs in and prints the session's token.
bench_token() {
    curl -fs -X POST "http://127.0.0.1:$1/api/v1/sessions" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$2\",\"password\":\"$3\"}" |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
