# Shared by scripts/run, scripts/test and tests/bench/run: package installs and
# private PostgreSQL clusters. Source it; it defines functions only.

# Everything the project builds, tests and benchmarks with, from Debian.
CF_PACKAGES=(
    build-essential meson ninja-build pkg-config git
    libevent-dev libpq-dev libjansson-dev libargon2-dev libcurl4-openssl-dev libssl-dev
    libcmark-dev libcmocka-dev
    postgresql postgresql-contrib
    python3 python3-pytest python3-yaml
    wrk clang-format curl openssl clang libclang-rt-14-dev
    chromium fonts-dejavu-core nodejs valgrind nginx
)

# The browser tests' npm packages (tests/web/package-lock.json: playwright-core, axe-core).
# npm comes with Debian's own nodejs as a separate package; a nodejs from elsewhere
# (NodeSource) carries it and conflicts with Debian's, so it is installed only when missing.
cf_web_test_deps() {
    command -v npm >/dev/null || cf_install_packages npm
    if [ ! -d tests/web/node_modules/playwright-core ] || [ ! -d tests/web/node_modules/axe-core ] ||
        [ tests/web/package-lock.json -nt tests/web/node_modules/.package-lock.json ]; then
        (cd tests/web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
}

cf_sudo() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the packages that are not installed yet (apt-get update only if needed).
cf_install_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "confer: installing ${missing[*]}" >&2
    cf_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    cf_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

cf_pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Runs a command as the cluster's owner: PostgreSQL refuses to run as root,
# so root hands it to the `postgres` account that Debian's package creates.
cf_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cf_free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cf_pg_init DATADIR [fast]: a new cluster whose superuser is `confer`, trusted on
# 127.0.0.1 only, no Unix socket. "fast" trades durability for speed (tests).
cf_pg_init() {
    local data=$1 mode=${2:-}
    mkdir -p "$data"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$data"
        if ! runuser -u postgres -- test -w "$data"; then
            echo "confer: $data is not reachable by the postgres account (a parent folder is" \
                "closed to it, like /root); use a checkout it can reach, e.g. under /srv or /work" >&2
            return 1
        fi
    fi
    chmod 700 "$data"
    cf_as_pg "$(cf_pg_bindir)/initdb" -D "$data" -U confer -A trust -E UTF8 --locale=C.UTF-8 \
        >/dev/null
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = ''"
        echo "max_connections = 200"
        echo "shared_buffers = 256MB"
        if [ "$mode" = fast ]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } | cf_as_pg tee -a "$data/postgresql.conf" >/dev/null
}

# cf_pg_start DATADIR PORT LOGFILE
cf_pg_start() {
    local data=$1 port=$2 log=$3
    touch "$log"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$log"
    cf_as_pg "$(cf_pg_bindir)/pg_ctl" -D "$data" -o "-p $port" -l "$log" -w -t 60 start >/dev/null
}

cf_pg_stop() {
    local data=$1
    [ -f "$data/postmaster.pid" ] || return 0
    cf_as_pg "$(cf_pg_bindir)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# cf_pg_createdb PORT NAME: creates the database unless it exists.
cf_pg_createdb() {
    local port=$1 name=$2
    if ! psql -h 127.0.0.1 -p "$port" -U confer -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
        psql -h 127.0.0.1 -p "$port" -U confer -d postgres -qc "CREATE DATABASE \"$name\"" >/dev/null
    fi
}
