#!/usr/bin/env bash
# Real servers for the integration tier, on loopback only:
#   Postgres 15 (Debian), MinIO (go install; versitygw as fallback), ElasticMQ (Maven Central).
#
# usage: scripts/services.sh start|stop|status|env [postgres|s3|sqs ...]
#
# Installs what is missing, starts each server, waits until it answers, and is
# idempotent (start twice is fine, stop when stopped is fine). State and logs live
# under .services/ in the repo root (gitignored). `start` writes .services/env with
# the SKYDIFF_TEST_* endpoints read by tests/services.ts; `env` prints it.
# Progress goes to stderr; stdout carries only the output of `env` and `status`.
# Ports can be moved with SKYDIFF_SERVICES_{PG,S3,S3_CONSOLE,SQS}_PORT (defaults
# 55432, 59000, 59001, 59324); .services/env records the ports in use.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SVC="$ROOT/.services"
LOGS="$SVC/logs"
BIN="$SVC/bin"

PG_BIN="/usr/lib/postgresql/15/bin"
PG_PORT="${SKYDIFF_SERVICES_PG_PORT:-55432}"
PG_DB=skydiff_test
PG_DIR="$SVC/pg"

S3_PORT="${SKYDIFF_SERVICES_S3_PORT:-59000}"
S3_CONSOLE_PORT="${SKYDIFF_SERVICES_S3_CONSOLE_PORT:-59001}"
S3_BUCKET=skydiff-test
S3_ACCESS_KEY=skydiff
S3_SECRET_KEY=skydiff-test-secret
S3_DATA="$SVC/s3-data"

SQS_PORT="${SKYDIFF_SERVICES_SQS_PORT:-59324}"
SQS_DIR="$SVC/elasticmq"
MAVEN_REPO="https://repo1.maven.org/maven2"
EMQ_ARTIFACT="org/elasticmq/elasticmq-server_2.13"

# How long (seconds) each server may take to answer after being started.
READY_TIMEOUT="${SKYDIFF_SERVICES_TIMEOUT:-120}"

say() { printf '[services] %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  is_root || die "need root to apt-get install $* (install it yourself, or run as root)"
  say "apt-get install $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$LOGS/apt.log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$LOGS/apt.log" 2>&1 ||
      die "apt-get update failed (see $LOGS/apt.log)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$LOGS/apt.log" 2>&1 ||
      die "apt-get install $* failed (see $LOGS/apt.log)"
  fi
}

# wait_until DESCRIPTION COMMAND...: polls COMMAND every 0.5 s up to READY_TIMEOUT seconds.
wait_until() {
  local what="$1"
  shift
  local tries=$((READY_TIMEOUT * 2)) i
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

# port_free PORT: true when nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive FILE: true when FILE names a live process.
pid_alive() {
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop_pid NAME FILE: TERM, wait (bounded), then KILL.
stop_pid() {
  local name="$1" file="$2" pid i
  if ! pid_alive "$file"; then
    rm -f "$file"
    say "$name: not running"
    return 0
  fi
  pid="$(cat "$file")"
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name: did not stop on TERM, sending KILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  say "$name: stopped"
}

# ---------------------------------------------------------------- Postgres 15

pg_as_owner() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_install() {
  if [ ! -x "$PG_BIN/initdb" ]; then apt_install postgresql-15; fi
  [ -x "$PG_BIN/initdb" ] || die "postgres 15: $PG_BIN/initdb missing after install"
  if is_root && ! id postgres >/dev/null 2>&1; then
    die "postgres 15: no 'postgres' OS user to own the cluster (initdb refuses root)"
  fi
}

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

# The cluster lives in .services/pg, unless the postgres user cannot reach the repo
# (e.g. a checkout under /root): then under /var/tmp, remembered in .services/pg.dir.
pg_locate() {
  if [ -f "$SVC/pg.dir" ]; then
    PG_DIR="$(cat "$SVC/pg.dir")"
    return
  fi
  if is_root; then
    mkdir -p "$PG_DIR"
    chown postgres: "$PG_DIR"
    if ! runuser -u postgres -- test -w "$PG_DIR"; then
      PG_DIR="/var/tmp/skydiff-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-12)"
      say "postgres 15: the postgres user cannot reach $ROOT; cluster in $PG_DIR"
      mkdir -p "$PG_DIR"
      chown postgres: "$PG_DIR"
      echo "$PG_DIR" >"$SVC/pg.dir"
    fi
  fi
}

pg_start() {
  pg_install
  pg_locate
  mkdir -p "$PG_DIR"
  if is_root; then chown postgres: "$PG_DIR"; fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    say "postgres 15: initdb $PG_DIR/data"
    pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$LOGS/postgres-initdb.log" 2>&1 ||
      pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
        --no-locale >"$LOGS/postgres-initdb.log" 2>&1 ||
      die "postgres 15: initdb failed (see $LOGS/postgres-initdb.log)"
  fi
  if pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    # keep the port it was started on (line 4 of postmaster.pid), whatever is asked now
    local running_port
    running_port="$(sed -n 4p "$PG_DIR/data/postmaster.pid" 2>/dev/null)"
    if [ -n "$running_port" ] && [ "$running_port" != "$PG_PORT" ]; then
      say "postgres 15: already running on port $running_port (not $PG_PORT): using it"
      PG_PORT="$running_port"
    else
      say "postgres 15: already running"
    fi
  else
    port_free "$PG_PORT" || die "postgres 15: port $PG_PORT is taken by another process"
    say "postgres 15: starting on 127.0.0.1:$PG_PORT"
    # The server log is written by the cluster owner, so it lives in the cluster dir.
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t "$READY_TIMEOUT" \
      -o "-p $PG_PORT -h 127.0.0.1 -k $PG_DIR -c fsync=off -c max_connections=200" \
      start >"$LOGS/postgres-ctl.log" 2>&1 ||
      die "postgres 15: did not start (see $PG_DIR/postgres.log)"
  fi
  wait_until "postgres" pg_ready ||
    die "postgres 15: no answer on 127.0.0.1:$PG_PORT within ${READY_TIMEOUT}s"
  local exists
  exists="$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")"
  if [ "$exists" != 1 ]; then
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE $PG_DB" >&2 ||
      die "postgres 15: cannot create database $PG_DB"
  fi
  say "postgres 15: ready ($(pg_version)) database $PG_DB"
}

pg_stop() {
  [ -f "$SVC/pg.dir" ] && PG_DIR="$(cat "$SVC/pg.dir")"
  if [ -f "$PG_DIR/data/PG_VERSION" ] &&
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 ||
      die "postgres 15: pg_ctl stop failed"
    say "postgres 15: stopped"
  else
    say "postgres 15: not running"
  fi
}

pg_version() {
  if [ -x "$PG_BIN/postgres" ]; then
    "$PG_BIN/postgres" --version | awk '{print $3}'
  else
    echo unknown
  fi
}

# ---------------------------------------------------------------- S3: MinIO or versitygw

s3_server() {
  if [ -x "$BIN/minio" ]; then
    echo minio
  elif [ -x "$BIN/versitygw" ]; then
    echo versitygw
  else
    echo none
  fi
}

go_build() { # go_build NAME MODULE
  command -v go >/dev/null || die "s3: go is not installed (needed to build $1)"
  say "s3: building $1 with go install $2 (several minutes; log $LOGS/$1-build.log)"
  GOBIN="$BIN" GOFLAGS="-buildvcs=false" go install "$2" >"$LOGS/$1-build.log" 2>&1
}

s3_install() {
  mkdir -p "$BIN"
  if [ "$(s3_server)" != none ]; then return 0; fi
  # A binary already built by `go install` into ~/go/bin is reused.
  local gobin
  gobin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
  if [ -x "$gobin/minio" ]; then
    cp "$gobin/minio" "$BIN/minio"
    return 0
  fi
  if go_build minio github.com/minio/minio@latest && [ -x "$BIN/minio" ]; then return 0; fi
  say "s3: MinIO could not be built here (see $LOGS/minio-build.log); falling back to versitygw"
  go_build versitygw github.com/versity/versitygw/cmd/versitygw@latest && [ -x "$BIN/versitygw" ] ||
    die "s3: neither MinIO nor versitygw could be built (see $LOGS/*-build.log)"
}

s3_version() {
  local server
  server="$(s3_server)"
  [ "$server" = none ] && {
    echo unknown
    return
  }
  # The module version go install recorded in the binary (release tag or pseudo-version).
  local v
  v="$(go version -m "$BIN/$server" 2>/dev/null | awk '$1 == "mod" {print $3; exit}')"
  echo "${v:-unknown}"
}

# s3_curl ARGS...: a SigV4-signed request with our credentials (empty body).
s3_curl() {
  curl -s -m 10 -H "x-amz-content-sha256: $EMPTY_SHA256" --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" "$@"
}
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

s3_ready() {
  # A signed ListBuckets proves the server answers S3 with our credentials.
  local code
  code="$(s3_curl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S3_PORT/")"
  [ "$code" = 200 ]
}

s3_start() {
  s3_install
  local server
  server="$(s3_server)"
  mkdir -p "$S3_DATA"
  if pid_alive "$SVC/s3.pid"; then
    say "s3 ($server): already running"
  else
    port_free "$S3_PORT" || die "s3: port $S3_PORT is taken by another process"
    say "s3 ($server): starting on 127.0.0.1:$S3_PORT"
    if [ "$server" = minio ]; then
      MINIO_ROOT_USER="$S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$S3_SECRET_KEY" \
        MINIO_BROWSER=off MINIO_UPDATE=off \
        setsid nohup "$BIN/minio" server "$S3_DATA" --address "127.0.0.1:$S3_PORT" \
        --console-address "127.0.0.1:$S3_CONSOLE_PORT" >"$LOGS/s3.log" 2>&1 </dev/null &
    else
      setsid nohup "$BIN/versitygw" --access "$S3_ACCESS_KEY" --secret "$S3_SECRET_KEY" \
        --port "127.0.0.1:$S3_PORT" posix "$S3_DATA" >"$LOGS/s3.log" 2>&1 </dev/null &
    fi
    echo $! >"$SVC/s3.pid"
    echo "$server" >"$SVC/s3.server"
  fi
  wait_until "s3" s3_ready ||
    die "s3 ($server): no answer on 127.0.0.1:$S3_PORT within ${READY_TIMEOUT}s (see $LOGS/s3.log)"
  # Create the test bucket (200 when created, 409 when it already is ours).
  local code
  code="$(s3_curl -o "$LOGS/s3-bucket.xml" -w '%{http_code}' -X PUT \
    "http://127.0.0.1:$S3_PORT/$S3_BUCKET")"
  case "$code" in
    200 | 409) ;;
    *) die "s3: cannot create bucket $S3_BUCKET (HTTP $code, see $LOGS/s3-bucket.xml)" ;;
  esac
  say "s3 ($server $(s3_version)): ready, bucket $S3_BUCKET"
}

s3_stop() { stop_pid "s3" "$SVC/s3.pid"; }

# ---------------------------------------------------------------- SQS: ElasticMQ

emq_version() { cat "$SQS_DIR/VERSION" 2>/dev/null || echo unknown; }

emq_install() {
  if [ -f "$SQS_DIR/VERSION" ] && [ -d "$SQS_DIR/lib" ] && ls "$SQS_DIR"/lib/*.jar >/dev/null 2>&1; then
    return 0
  fi
  command -v java >/dev/null || apt_install default-jre-headless
  command -v mvn >/dev/null || apt_install maven
  mkdir -p "$SQS_DIR"
  local version
  version="$(curl -fsS -m 30 "$MAVEN_REPO/$EMQ_ARTIFACT/maven-metadata.xml" |
    sed -n 's:.*<release>\(.*\)</release>.*:\1:p')" ||
    die "sqs: Maven Central ($MAVEN_REPO) is not reachable"
  [ -n "$version" ] || die "sqs: no release version in the elasticmq-server_2.13 maven-metadata.xml"
  say "sqs: fetching ElasticMQ $version and its dependencies from Maven Central"
  # The published jar is thin: resolve its runtime dependencies with a generated pom.
  cat >"$SQS_DIR/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.skydiff</groupId>
  <artifactId>elasticmq-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.elasticmq</groupId>
      <artifactId>elasticmq-server_2.13</artifactId>
      <version>$version</version>
    </dependency>
  </dependencies>
</project>
EOF
  rm -rf "$SQS_DIR/lib"
  (cd "$SQS_DIR" && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$SQS_DIR/lib") >"$LOGS/elasticmq-fetch.log" 2>&1 ||
    die "sqs: mvn could not fetch ElasticMQ $version (see $LOGS/elasticmq-fetch.log)"
  echo "$version" >"$SQS_DIR/VERSION"
}

emq_ready() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$SQS_PORT/?Action=ListQueues")"
  [ "$code" = 200 ]
}

emq_start() {
  emq_install
  cat >"$SQS_DIR/elasticmq.conf" <<EOF
include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = $SQS_PORT, context-path = "" }
rest-sqs { enabled = true, bind-port = $SQS_PORT, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
queues {}
EOF
  if pid_alive "$SVC/sqs.pid"; then
    say "sqs (elasticmq): already running"
  else
    port_free "$SQS_PORT" || die "sqs: port $SQS_PORT is taken by another process"
    say "sqs (elasticmq $(emq_version)): starting on 127.0.0.1:$SQS_PORT"
    setsid nohup java -Xmx512m -Dconfig.file="$SQS_DIR/elasticmq.conf" -cp "$SQS_DIR/lib/*" \
      org.elasticmq.server.Main >"$LOGS/sqs.log" 2>&1 </dev/null &
    echo $! >"$SVC/sqs.pid"
  fi
  wait_until "sqs" emq_ready ||
    die "sqs: ElasticMQ gave no answer on 127.0.0.1:$SQS_PORT within ${READY_TIMEOUT}s (see $LOGS/sqs.log)"
  say "sqs (elasticmq $(emq_version)): ready"
}

emq_stop() { stop_pid "sqs" "$SVC/sqs.pid"; }

# ---------------------------------------------------------------- env, status

# The env file lists only the servers that answer now, so tests see what is really up.
env_text() {
  if pg_ready >/dev/null 2>&1; then
    cat <<EOF
SKYDIFF_TEST_PG_URL=postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB
SKYDIFF_TEST_PG_VERSION=$(pg_version)
EOF
  fi
  if s3_ready >/dev/null 2>&1; then
    cat <<EOF
SKYDIFF_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
SKYDIFF_TEST_S3_BUCKET=$S3_BUCKET
SKYDIFF_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
SKYDIFF_TEST_S3_SECRET_KEY=$S3_SECRET_KEY
SKYDIFF_TEST_S3_SERVER=$(cat "$SVC/s3.server" 2>/dev/null || s3_server)
SKYDIFF_TEST_S3_VERSION=$(s3_version)
EOF
  fi
  if emq_ready >/dev/null 2>&1; then
    cat <<EOF
SKYDIFF_TEST_SQS_ENDPOINT=http://127.0.0.1:$SQS_PORT
SKYDIFF_TEST_SQS_SERVER=elasticmq
SKYDIFF_TEST_SQS_VERSION=$(emq_version)
EOF
  fi
}

status_line() { # status_line NAME READY_FN
  if "$2" >/dev/null 2>&1; then echo "$1: up"; else echo "$1: down"; fi
}

services_of() { # the services named on the command line, all by default
  if [ $# = 0 ]; then echo postgres s3 sqs; else echo "$@"; fi
}

main() {
  local cmd="${1:-}"
  [ $# -gt 0 ] && shift
  mkdir -p "$SVC" "$LOGS"
  local s
  case "$cmd" in
    start)
      for s in $(services_of "$@"); do
        case "$s" in
          postgres) pg_start ;;
          s3) s3_start ;;
          sqs) emq_start ;;
          *) die "unknown service: $s (postgres, s3, sqs)" ;;
        esac
      done
      env_text >"$SVC/env"
      say "wrote $SVC/env"
      ;;
    stop)
      for s in $(services_of "$@"); do
        case "$s" in
          postgres) pg_stop ;;
          s3) s3_stop ;;
          sqs) emq_stop ;;
          *) die "unknown service: $s (postgres, s3, sqs)" ;;
        esac
      done
      env_text >"$SVC/env"
      ;;
    status)
      status_line "postgres 15 @127.0.0.1:$PG_PORT" pg_ready
      status_line "s3 $(s3_server) @127.0.0.1:$S3_PORT" s3_ready
      status_line "sqs elasticmq @127.0.0.1:$SQS_PORT" emq_ready
      ;;
    env) env_text ;;
    *)
      echo "usage: $0 start|stop|status|env [postgres|s3|sqs ...]" >&2
      exit 2
      ;;
  esac
}

main "$@"
