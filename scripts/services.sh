#!/usr/bin/env bash
# Starts, stops or reports the real services the tests run against: PostgreSQL 15 (logical WAL), Redis 7,
# ClickHouse 18.16 and a Kafka-protocol broker (librdkafka's mock cluster). Everything listens on 127.0.0.1 only
# and keeps its state under one directory, so a machine without Docker or systemd can run the whole suite.
#
#   bash scripts/services.sh start|stop|status
#   source "${PGMIRROR_SERVICES_DIR:-/tmp/pgmirror-services}/services.env"
#
# `start` is idempotent: whatever already answers is left alone, so a second run takes a fraction of a second.
set -euo pipefail

STATE_DIR="${PGMIRROR_SERVICES_DIR:-/tmp/pgmirror-services}"
PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-6380}"
CH_HTTP_PORT="${CH_HTTP_PORT:-18123}"
CH_TCP_PORT="${CH_TCP_PORT:-19000}"
KAFKA_TOPICS="${KAFKA_TOPICS:-pgmirror_test:1}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

PG_BIN=/usr/lib/postgresql/15/bin
PG_DIR="$STATE_DIR/pg"
PG_DATA="$PG_DIR/data"
REDIS_DIR="$STATE_DIR/redis"
CH_DIR="$STATE_DIR/clickhouse"
KAFKA_DIR="$STATE_DIR/kafka"
ENV_FILE="$STATE_DIR/services.env"
CH_URL="http://127.0.0.1:$CH_HTTP_PORT"

log() { printf '%s\n' "$*"; }
die() {
  printf 'services.sh: %s\n' "$*" >&2
  exit 1
}

# PID 1 in this container does not reap orphans, so a stopped daemon can linger as a zombie that `kill -0` still
# finds. A zombie (or a missing process) counts as not running.
alive() {
  local pid="${1:-}" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/stat" ]] || return 1
  state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ "$state" != "Z" && "$state" != "X" ]]
}

pid_from() { [[ -r "$1" ]] && head -n1 "$1" | tr -d '[:space:]' || true; }

# Polls a command until it succeeds; services announce readiness by answering, not by a fixed delay.
wait_until() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

gone() { ! alive "$1"; }

# Sends SIGTERM and waits (bounded) until the process is gone or a zombie.
stop_pid() {
  local name="$1" pid="$2"
  if ! alive "$pid"; then
    log "$name: not running"
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  if ! wait_until 20 gone "$pid"; then
    kill -9 "$pid" 2>/dev/null || true
  fi
  log "$name: stopped (pid $pid)"
}

# ---------------------------------------------------------------- packages

is_root() { [[ "$(id -u)" -eq 0 ]]; }

as_root() {
  if is_root; then
    "$@"
  else
    sudo "$@"
  fi
}

pkg_installed() { dpkg -s "$1" >/dev/null 2>&1; }

ensure_packages() {
  local missing=()
  [[ -x "$PG_BIN/postgres" ]] || missing+=(postgresql-15)
  command -v psql >/dev/null || missing+=(postgresql-client)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [[ -x /usr/sbin/clickhouse-server ]] || missing+=(clickhouse-server)
  command -v clickhouse-client >/dev/null || missing+=(clickhouse-client)
  [[ -f /usr/include/librdkafka/rdkafka_mock.h ]] || missing+=(librdkafka-dev)
  command -v gcc >/dev/null || missing+=(gcc)
  command -v curl >/dev/null || missing+=(curl)
  command -v openssl >/dev/null || missing+=(openssl)
  pkg_installed python3-psycopg2 || missing+=(python3-psycopg2)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  ((${#missing[@]} == 0)) && return 0
  log "apt: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------- PostgreSQL

# initdb refuses to run as root, so a root caller drops to the `postgres` OS user; anyone else runs it as themselves.
as_pg() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_running() {
  [[ -f "$PG_DATA/postmaster.pid" ]] && alive "$(pid_from "$PG_DATA/postmaster.pid")"
}

write_pg_conf() {
  cat <<EOF
# Written by scripts/services.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR/sock'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
fsync = off
full_page_writes = off
EOF
}

start_pg() {
  mkdir -p "$PG_DIR"
  if is_root; then chown postgres:postgres "$PG_DIR"; fi
  as_pg mkdir -p "$PG_DIR/sock" "$PG_DIR/log"
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/log/initdb.log" 2>&1 ||
      die "initdb failed, see $PG_DIR/log/initdb.log"
    as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
# Written by scripts/services.sh: a throwaway test cluster, trusted from this machine only.
local   all          all                  trust
host    all          all   127.0.0.1/32   trust
local   replication  all                  trust
host    replication  all   127.0.0.1/32   trust
EOF
    echo "include 'lab.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi

  local changed=0
  if ! write_pg_conf | cmp -s - "$PG_DATA/lab.conf"; then
    write_pg_conf | as_pg tee "$PG_DATA/lab.conf" >/dev/null
    changed=1
  fi

  if pg_running; then
    if ((changed)); then
      as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/log/postgres.log" -w restart -m fast >/dev/null
      log "postgres: restarted for new settings"
    fi
  else
    # A crash (or a killed container) leaves lock files naming a dead or zombie pid, which would block the start.
    rm -f "$PG_DATA/postmaster.pid" "$PG_DIR"/sock/.s.PGSQL.*.lock
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/log/postgres.log" -w -t 60 start >/dev/null ||
      die "postgres did not start, see $PG_DIR/log/postgres.log"
  fi
  log "postgres   127.0.0.1:$PG_PORT  (PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), wal_level=logical, data $PG_DATA)"
}

stop_pg() {
  if pg_running; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -m fast stop >/dev/null
    log "postgres: stopped"
  else
    log "postgres: not running"
  fi
}

# ---------------------------------------------------------------- Redis

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]; }

start_redis() {
  mkdir -p "$REDIS_DIR"
  if ! redis_ping; then
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
      --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" </dev/null >/dev/null
    wait_until 15 redis_ping || die "redis did not answer PING, see $REDIS_DIR/redis.log"
  fi
  log "redis      127.0.0.1:$REDIS_PORT  (Redis $(redis-server --version | sed -E 's/.* v=([^ ]+).*/\1/'), no persistence)"
}

stop_redis() { stop_pid redis "$(pid_from "$REDIS_DIR/redis.pid")"; }

# ---------------------------------------------------------------- ClickHouse

ch_ping() { curl -sf --max-time 2 "$CH_URL/ping" >/dev/null; }

write_ch_config() {
  cat >"$CH_DIR/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by scripts/services.sh on every start. -->
<yandex>
  <logger>
    <level>warning</level>
    <log>$CH_DIR/log/clickhouse-server.log</log>
    <errorlog>$CH_DIR/log/clickhouse-server.err.log</errorlog>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$CH_HTTP_PORT</http_port>
  <tcp_port>$CH_TCP_PORT</tcp_port>
  <path>$CH_DIR/data/</path>
  <tmp_path>$CH_DIR/tmp/</tmp_path>
  <user_files_path>$CH_DIR/user_files/</user_files_path>
  <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
  <users_config>$CH_DIR/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
</yandex>
EOF
  cat >"$CH_DIR/users.xml" <<'EOF'
<?xml version="1.0"?>
<!-- Written by scripts/services.sh: the default user, no password, reachable from this machine only. -->
<yandex>
  <profiles>
    <default/>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks>
        <ip>127.0.0.1</ip>
        <ip>::1</ip>
      </networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default/>
  </quotas>
</yandex>
EOF
}

start_clickhouse() {
  mkdir -p "$CH_DIR"/{data,tmp,log,user_files,format_schemas}
  if ! ch_ping; then
    write_ch_config
    # The server's --pid-file does not write in foreground mode, so the pid recorded is the one we launched.
    setsid nohup /usr/sbin/clickhouse-server --config-file="$CH_DIR/config.xml" \
      >"$CH_DIR/log/stdout.log" 2>&1 </dev/null &
    echo $! >"$CH_DIR/clickhouse.pid"
    if ! wait_until 30 ch_ping; then
      tail -n 20 "$CH_DIR/log/stdout.log" "$CH_DIR/log/clickhouse-server.err.log" >&2 2>/dev/null || true
      die "clickhouse did not answer $CH_URL/ping within 30 s"
    fi
  fi
  log "clickhouse $CH_URL  native 127.0.0.1:$CH_TCP_PORT  (ClickHouse $(curl -sf --max-time 2 "$CH_URL/?query=SELECT%20version()"))"
}

stop_clickhouse() { stop_pid clickhouse "$(pid_from "$CH_DIR/clickhouse.pid")"; }

# ---------------------------------------------------------------- Kafka (librdkafka mock cluster)

kafka_running() { alive "$(pid_from "$KAFKA_DIR/kafka-mock.pid")" && [[ -s "$KAFKA_DIR/bootstrap" ]]; }

start_kafka() {
  mkdir -p "$KAFKA_DIR"
  local bin="$KAFKA_DIR/kafka-mock" src="$SCRIPT_DIR/kafka-mock.c"
  if [[ ! -x "$bin" || "$src" -nt "$bin" ]]; then
    gcc -O2 -Wall -Wextra -o "$bin.tmp" "$src" -lrdkafka || die "could not build $src"
    mv -f "$bin.tmp" "$bin"
  fi
  if ! kafka_running || [[ "$(cat "$KAFKA_DIR/topics" 2>/dev/null)" != "$KAFKA_TOPICS" ]]; then
    # A mock started with another topic list is replaced, so KAFKA_TOPICS always means what it says.
    stop_pid kafka-mock "$(pid_from "$KAFKA_DIR/kafka-mock.pid")" >/dev/null
    rm -f "$KAFKA_DIR/bootstrap"
    local topics
    read -r -a topics <<<"$KAFKA_TOPICS"
    setsid nohup "$bin" "$KAFKA_DIR/bootstrap" "${topics[@]}" >"$KAFKA_DIR/kafka-mock.log" 2>&1 </dev/null &
    echo $! >"$KAFKA_DIR/kafka-mock.pid"
    printf '%s' "$KAFKA_TOPICS" >"$KAFKA_DIR/topics"
    wait_until 15 test -s "$KAFKA_DIR/bootstrap" || {
      cat "$KAFKA_DIR/kafka-mock.log" >&2
      die "kafka mock did not write its bootstrap file"
    }
  fi
  log "kafka      $(cat "$KAFKA_DIR/bootstrap")  (librdkafka mock, 1 broker, topics: $KAFKA_TOPICS; others auto-create with 4 partitions)"
}

stop_kafka() { stop_pid kafka-mock "$(pid_from "$KAFKA_DIR/kafka-mock.pid")"; }

# ---------------------------------------------------------------- commands

write_env() {
  cat >"$ENV_FILE.tmp" <<EOF
# Written by scripts/services.sh start. Source it to point tests at the local services.
export PGMIRROR_SERVICES_DIR=$STATE_DIR
export PGHOST=127.0.0.1
export PGPORT=$PG_PORT
export PGUSER=postgres
export PGMIRROR_TEST_PG_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
export PGMIRROR_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export PGMIRROR_TEST_CLICKHOUSE_URL=$CH_URL
export PGMIRROR_TEST_CLICKHOUSE_NATIVE_PORT=$CH_TCP_PORT
export PGMIRROR_TEST_KAFKA_BROKERS=$(cat "$KAFKA_DIR/bootstrap")
EOF
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

cmd_start() {
  mkdir -p "$STATE_DIR"
  # The postgres OS user must be able to reach its data directory below this one.
  chmod 755 "$STATE_DIR" 2>/dev/null || true
  ensure_packages
  start_pg
  start_redis
  start_clickhouse
  start_kafka
  write_env
  log "env        source $ENV_FILE"
}

cmd_stop() {
  stop_kafka
  stop_clickhouse
  stop_redis
  stop_pg
}

cmd_status() {
  local down=0
  if pg_running; then log "postgres:   running on 127.0.0.1:$PG_PORT"; else log "postgres:   stopped" && down=1; fi
  if redis_ping; then log "redis:      running on 127.0.0.1:$REDIS_PORT"; else log "redis:      stopped" && down=1; fi
  if ch_ping; then log "clickhouse: running on $CH_URL"; else log "clickhouse: stopped" && down=1; fi
  if kafka_running; then
    log "kafka:      running on $(cat "$KAFKA_DIR/bootstrap")"
  else
    log "kafka:      stopped" && down=1
  fi
  return "$down"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
