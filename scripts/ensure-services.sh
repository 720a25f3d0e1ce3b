#!/usr/bin/env bash
# Starts the local Redis and MariaDB the tests and the demo need, if they are not already running.
# Never stops or restarts a running server.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() { # port name seconds
  for _ in $(seq 1 "$3"); do port_open "$1" && return 0; sleep 1; done
  echo "error: $2 did not start on 127.0.0.1:$1" >&2
  return 1
}

if ! port_open 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis is not running on 127.0.0.1:6379; starting redis-server"
    redis-server --daemonize yes --port 6379 --bind 127.0.0.1 --save "" --appendonly no
    wait_for_port 6379 Redis 30
  else
    echo "error: Redis is not running on 127.0.0.1:6379 and redis-server is not installed." >&2
    echo "       Install it (apt-get install redis-server) or run: docker compose up -d redis" >&2
    exit 1
  fi
fi

if ! port_open 3306; then
  if command -v mariadbd >/dev/null 2>&1; then
    echo "MariaDB is not running on 127.0.0.1:3306; starting mariadbd"
    (mariadbd --user=mysql >/tmp/dlock-mariadbd.log 2>&1 &)
    wait_for_port 3306 MariaDB 90
  else
    echo "error: MySQL/MariaDB is not running on 127.0.0.1:3306 and mariadbd is not installed." >&2
    echo "       Install it (apt-get install mariadb-server) or run: docker compose up -d mysql" >&2
    exit 1
  fi
fi

if command -v mariadb >/dev/null 2>&1; then
  mariadb -h 127.0.0.1 -uroot -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null 2>&1 || true
fi

# Headless Chromium for apps/express-stock's race-page test (Debian's package, driven by
# playwright-core; no browser is ever downloaded by the tests).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is not installed; installing Debian's chromium package"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
