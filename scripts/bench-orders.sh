#!/usr/bin/env bash
# bench-orders.sh — durable orders per second through the real server, and fan-out.
#
#  1. tourcast on loopback with a fresh data dir; the leader begins a show and
#     creates a product with ample stock and no per-buyer limit;
#  2. ws_load (C, libwebsockets) opens BUYERS viewer connections that order in a
#     closed loop (the next order only after the ack): acked orders/s and ack
#     latency p50/p99. The per-connection rate limit is lifted for this run
#     (--ws-rate) to measure the room and the store, and reported separately
#     at the default 20/s;
#  3. beside it, the same machine's store with one transaction per order
#     (synchronous=FULL) and with group commit (bench_store);
#  4. fan-out: VIEWERS connections, the leader changes the product's stock,
#     time until every viewer has the `stock` broadcast (p50/p99), server RSS.
#
#   scripts/bench-orders.sh            BUYERS=1000 DURATION=10 VIEWERS=5000
set -euo pipefail
cd "$(dirname "$0")/.."
buyers=${BUYERS:-1000}
duration=${DURATION:-10}
viewers=${VIEWERS:-5000}
build=${TOURCAST_BUILD:-build}
if [ ! -x "$build/tourcast" ] || [ ! -x "$build/tests/ws_load" ] ||
  [ ! -x "$build/tests/loopback_ceiling" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target tourcast ws_load bench_store loopback_ceiling >/dev/null
fi
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/tourcast-orders-XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

start() { # start RATE: a fresh tourcast with that per-connection message rate
  http=$(free_port); rtmp=$(free_port)
  rm -rf "$work/data"
  "$build/tourcast" --data "$work/data" --bind 127.0.0.1 --http-port "$http" --rtmp-port "$rtmp" \
    --leader-token bench --ws-rate "$1" --max-connections $((viewers + 100)) --ws-per-ip $((viewers + 100)) >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.1; done
  url="ws://127.0.0.1:$http/ws"
  printf '%s\n' '{"type":"hello","role":"leader","token":"bench"}' \
    '{"type":"show.begin","title":"bench"}' \
    '{"type":"product.put","name":"压测商品","price_cents":100,"unit":"份","stock":1000000,"limit_per_buyer":0,"on_sale":true}' |
    "$build/tests/ws_load" script --url "$url" --linger 300 >/dev/null
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
result() { grep '^RESULT' | sed 's/^RESULT //'; }
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d.get(sys.argv[2], ""))' "$1" "$2"; }

echo "== orders: $buyers buyers, ${duration} s, closed loop, rate limit lifted"
start 100000
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
ticks0=$(cpu_ticks)
fast=$("$build/tests/ws_load" orders --url "$url" --buyers "$buyers" --duration "$duration" \
  --product 1 --rate-limit 100000 --coalesce-us 500 | tee "$work/orders.txt" | result)
ticks1=$(cpu_ticks)
commit=$(curl -fs -H "Authorization: Bearer bench" "http://127.0.0.1:$http/metrics" | awk '/^tourcast_commit_latency_mean_ms/ {print $2}')
stop
echo "== orders at the default 20 messages/s per connection"
start 20
capped=$("$build/tests/ws_load" orders --url "$url" --buyers "$buyers" --duration "$duration" \
  --product 1 --rate-limit 20 --coalesce-us 500 | result)
stop

echo "== the machine's ceiling: $buyers closed-loop connections over loopback, sockets only"
ceiling=$("$build/tests/loopback_ceiling" --conns "$buyers" --seconds "$duration" | tee "$work/ceiling.txt" | result)

echo "== the store alone: one commit per order vs group commit (bench_store)"
"$build/tests/bench_store" --orders 20000 --dir "$work" | tee "$work/store.txt"

echo "== fan-out: $viewers viewers"
start 100000
fan=$("$build/tests/ws_load" fanout --url "$url" --viewers "$viewers" --leader-token bench \
  --product 1 --rounds 20 --coalesce-us 500 | result)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
stop

printf '\nmachine: %s, %s cores\n' "$(uname -m)" "$(nproc)"
printf 'orders (rate limit lifted): %s acked/s, p50 %s ms, p99 %s ms, mean commit %s ms\n' \
  "$(field "$fast" orders_per_s)" "$(field "$fast" p50_ms)" "$(field "$fast" p99_ms)" "$commit"
printf '  server CPU per acked order: %s us (includes the coalesced broadcasts to every buyer)\n' \
  "$(python3 -c 'import sys,os; t=int(sys.argv[1]); ok=int(sys.argv[2]); print(round(t / os.sysconf("SC_CLK_TCK") / ok * 1e6, 1) if ok else "n/a")' \
    "$((ticks1 - ticks0))" "$(field "$fast" ok)")"
printf 'loopback ceiling (no WebSocket, JSON or SQLite): %s round trips/s, server %s cores, client %s cores\n' \
  "$(field "$ceiling" round_trips_per_s)" "$(field "$ceiling" server_cores)" "$(field "$ceiling" client_cores)"
printf 'orders (20 msg/s per buyer): %s acked/s, p50 %s ms, p99 %s ms\n' \
  "$(field "$capped" orders_per_s)" "$(field "$capped" p50_ms)" "$(field "$capped" p99_ms)"
grep -E 'one transaction|batch' "$work/store.txt" || true
printf 'fan-out to %s viewers: p50 %s ms, p99 %s ms, missed %s; server peak RSS %s MB\n' \
  "$viewers" "$(field "$fan" p50_ms)" "$(field "$fan" p99_ms)" "$(field "$fan" missed)" \
  "$(echo "$rss" | awk '{printf "%.1f", $1 / 1024}')"
