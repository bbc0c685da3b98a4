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

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

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

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/monitors/health" >/dev/null 2>&1 && break
  sleep 0.2
done
echo
echo "  Demo shop:      http://127.0.0.1:$PORT/"
echo "  Owner's orders: http://127.0.0.1:$PORT/admin"
echo "  API docs:       http://127.0.0.1:$PORT/docs"
echo "  Fake PortOne:   http://127.0.0.1:10851   Fake Toss: http://127.0.0.1:30771"
echo "  Ctrl-C stops everything."
wait -n "${pids[@]}"
