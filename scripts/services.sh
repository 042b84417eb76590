#!/usr/bin/env bash
# Real protocol peers for the backend tests, on 127.0.0.1 only:
#   PostgreSQL (Debian's package) and the moto server (PyPI) for SQS, DynamoDB and S3.
# Usage: scripts/services.sh install | start | stop | env | start-pg | stop-pg | start-redis | stop-redis
# JOBSHIFT_SERVICES_DIR and JOBSHIFT_TEST_PG_PORT select another instance (the outage test runs its own).
# `start` is idempotent and prints nothing but progress; `env` prints the variables the tests read.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

state=${JOBSHIFT_SERVICES_DIR:-/tmp/jobshift-services}
pg_port=${JOBSHIFT_TEST_PG_PORT:-55432}
moto_port=${JOBSHIFT_TEST_MOTO_PORT:-55000}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

install() {
  if [ -z "$(pg_bin)" ]; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else echo "PostgreSQL is missing: sudo apt-get install postgresql" >&2; exit 1; fi
  fi
  # moto pinned: the aws profile's tests were written against this version's behaviour.
  python3 -c 'import moto.server' 2>/dev/null || python3 -m pip install -q "moto[server]==5.2.1"
  if ! command -v redis-server >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else echo "Redis is missing (benchmarks only): sudo apt-get install redis-server" >&2; fi
  fi
}

redis_port=${JOBSHIFT_BENCH_REDIS_PORT:-56379}
start_redis() {
  command -v redis-server >/dev/null || { echo "redis-server not installed (scripts/services.sh install)" >&2; exit 1; }
  mkdir -p "$state/redis"
  if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
    # Redis as commonly deployed: default snapshotting, no AOF.
    redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$state/redis" --daemonize yes --logfile "$state/redis/redis.log" >/dev/null
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "Redis on 127.0.0.1:$redis_port"
}
stop_redis() { redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true; }

start_pg() {
  local bin; bin=$(pg_bin)
  [ -n "$bin" ] || { echo "PostgreSQL not installed (scripts/services.sh install)" >&2; exit 1; }
  mkdir -p "$state/pg" "$state/pglog"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$state/pg" "$state/pglog"; chmod 700 "$state/pg"; fi
  if [ ! -f "$state/pg/PG_VERSION" ]; then
    as_pg "'$bin/initdb' -D '$state/pg' -A trust -U postgres" >/dev/null
  fi
  if ! as_pg "'$bin/pg_ctl' -D '$state/pg' status" >/dev/null 2>&1; then
    as_pg "'$bin/pg_ctl' -D '$state/pg' -o \"-h 127.0.0.1 -p $pg_port -k /tmp -c fsync=on -c max_connections=300\" -l '$state/pglog/pg.log' -w start" >/dev/null
  fi
  echo "PostgreSQL on 127.0.0.1:$pg_port"
}

start_moto() {
  if curl -sf "http://127.0.0.1:$moto_port/moto-api/" >/dev/null 2>&1; then echo "moto on 127.0.0.1:$moto_port"; return; fi
  python3 -c 'import moto.server' 2>/dev/null || { echo "moto not installed (scripts/services.sh install)" >&2; exit 1; }
  mkdir -p "$state"
  nohup python3 "$here/moto-server.py" -H 127.0.0.1 -p "$moto_port" >"$state/moto.log" 2>&1 &
  echo $! >"$state/moto.pid"
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$moto_port/moto-api/" >/dev/null 2>&1 && { echo "moto on 127.0.0.1:$moto_port"; return; }
    sleep 0.2
  done
  echo "moto did not start; see $state/moto.log" >&2; exit 1
}

stop() {
  local bin; bin=$(pg_bin)
  if [ -n "$bin" ] && [ -f "$state/pg/PG_VERSION" ]; then as_pg "'$bin/pg_ctl' -D '$state/pg' -m fast stop" >/dev/null 2>&1 || true; fi
  if [ -f "$state/moto.pid" ]; then kill "$(cat "$state/moto.pid")" 2>/dev/null || true; rm -f "$state/moto.pid"; fi
}

print_env() {
  echo "JOBSHIFT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/postgres"
  echo "JOBSHIFT_TEST_AWS_ENDPOINT=http://127.0.0.1:$moto_port"
}

stop_pg() {
  local bin; bin=$(pg_bin)
  if [ -n "$bin" ] && [ -f "$state/pg/PG_VERSION" ]; then as_pg "'$bin/pg_ctl' -D '$state/pg' -m immediate stop" >/dev/null 2>&1 || true; fi
}

case "${1:-start}" in
  install) install ;;
  start) start_pg; start_moto ;;
  start-pg) start_pg ;;
  start-redis) start_redis ;;
  stop-redis) stop_redis ;;
  stop-pg) stop_pg ;;
  stop) stop ;;
  env) print_env ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
