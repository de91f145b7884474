#!/usr/bin/env bash
# Starts three holdline servers (ports 8081-8083) on one Redis, and nginx on 8080 in front of
# them if nginx is installed. Ctrl-C stops everything this script started.
#   REDIS_URL     default redis://127.0.0.1:6379 (see docs/SCALING.md to get one)
#   JWT_SECRET    default: a random one, printed with an admin token
#   REDIS_PREFIX  default hl-local:
set -euo pipefail
cd "$(dirname "$0")/../.."
here="$PWD/examples/scale-out"

export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export REDIS_PREFIX="${REDIS_PREFIX:-hl-local:}"
export JWT_SECRET="${JWT_SECRET:-$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')}"
export HOST=127.0.0.1

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

for port in 8081 8082 8083; do
  PORT=$port node --import tsx bin/holdline.ts serve &
  pids+=($!)
done

for port in 8081 8082 8083; do
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
done

entry="http://127.0.0.1:8081"
if command -v nginx >/dev/null 2>&1; then
  mkdir -p "$here/.nginx/tmp"
  nginx -p "$here/.nginx" -c "$here/nginx.conf" &
  pids+=($!)
  entry="http://127.0.0.1:8080"
else
  echo "nginx is not installed: use the servers directly on 8081-8083" >&2
fi

token=$(node --import tsx bin/holdline.ts token --sub admin --scope "publish admin")
cat <<MSG
holdline x3 on $REDIS_URL (prefix $REDIS_PREFIX), entry $entry
  admin token: $token
  curl -s -X PUT $entry/events/m1 -H "authorization: Bearer \$TOKEN" -H 'content-type: application/json' -d '{"title":"Demo","state":"live"}'
  curl -s "$entry/events/m1/poll"
Ctrl-C to stop.
MSG
wait
