#!/usr/bin/env bash
# Start the fakes, the backend (and its worker) on SQLite; Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PORT=${PORT:-37821}
ROOT=$PWD
# The demo runs in local mode (fakes, generated dev secrets, no admin token) unless told otherwise;
# the service's own default is real, which refuses to start without real secrets.
export PAYMENT_MODE=${PAYMENT_MODE:-local}

# Logs: plain lines on a terminal, JSON lines otherwise (LOG_FORMAT=json|text to choose).
export LOG_FORMAT=${LOG_FORMAT:-auto}

pids=()
# Ctrl-C reaches every process of the group; the script waits for them and ends with status 0,
# so make reports no error for a demo stopped on purpose.
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "stopped."
  exit 0
}
trap stop INT TERM
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

"$BIN/python" -m fake_iamport --port 10851 --webhook-url "http://127.0.0.1:$PORT/payments/webhooks/iamport" &
pids+=($!)
"$BIN/python" -m fake_toss --port 30771 --webhook-url "http://127.0.0.1:$PORT/payments/webhooks/toss" &
pids+=($!)
(cd backend && exec "$ROOT/$BIN/flask" --app payment_backend run --host 127.0.0.1 --port "$PORT") &
pids+=($!)
if "$BIN/flask" --app payment_backend --help 2>/dev/null | grep -q '^  worker'; then
  (cd backend && exec "$ROOT/$BIN/flask" --app payment_backend worker) &
  pids+=($!)
fi

for url in "http://127.0.0.1:$PORT/monitors/health" http://127.0.0.1:10851/__control/clock \
  http://127.0.0.1:30771/__control/clock; do
  for _ in $(seq 1 100); do
    curl -fs "$url" >/dev/null 2>&1 && break
    sleep 0.2
  done
done
# The fakes keep their clocks in memory; the backend's test clock lives in its database. After a
# restart the fakes start at real time, so set them to the stored offset (reset: the page's button
# or `flask --app payment_backend test-clock reset`).
if [ "$PAYMENT_MODE" != real ]; then
  (cd backend && "$ROOT/$BIN/flask" --app payment_backend test-clock sync >/dev/null) \
    || echo "warning: the fakes' clocks were not set to the backend's test clock"
fi
echo
echo "  Demo shop:      http://127.0.0.1:$PORT/"
echo "  Owner's orders: http://127.0.0.1:$PORT/admin"
echo "  API docs:       http://127.0.0.1:$PORT/docs"
echo "  Fake PortOne:   http://127.0.0.1:10851   Fake Toss: http://127.0.0.1:30771"
echo "  Ctrl-C stops everything."
# One process ended by itself (a crash): stop the others and say so.
status=0
wait -n "${pids[@]}" || status=$?
trap - INT TERM
echo "a process of the demo ended (status $status); stopping the others"
kill "${pids[@]}" 2>/dev/null || true
wait 2>/dev/null || true
exit "$status"
