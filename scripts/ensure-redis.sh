#!/usr/bin/env bash
# The Redis fault tests (test/evaluation/queue*.test.ts) start their own redis-server on a free
# loopback port; this installs Debian's package when it is missing, so a fresh machine needs only
# the README's commands. It never configures or starts a shared server.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  run() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  run() { sudo "$@"; }
else
  echo "ensure-redis: redis-server is not on PATH and this user is not root and has no sudo;" >&2
  echo "ensure-redis: install it (Debian: apt-get install redis-server) and run the tests again." >&2
  exit 1
fi

echo "ensure-redis: installing redis-server (Debian package) for the queue tests" >&2
run env DEBIAN_FRONTEND=noninteractive apt-get update
run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server
# The package may start a system-wide server on 6379; the tests start their own, so stop it.
run service redis-server stop >/dev/null 2>&1 || true

command -v redis-server >/dev/null 2>&1 || {
  echo "ensure-redis: apt-get finished but redis-server is still not on PATH" >&2
  exit 1
}
