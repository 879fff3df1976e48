#!/usr/bin/env bash
# The main command's write throughput through a replica (issue 13): starts the local
# cluster (`blog-example`, release), seeds the primary to N posts, waits for the replica to
# have them, runs wrk with 32 connections (or $CONNECTIONS) against the replica for DURATION seconds, prints
# one line of figures, stops the cluster. Usage: run.sh N [DURATION] [RUST_LOG]
# (LOCAL_CLUSTER_LAG_MS sets the emulator's lag, BIN the binary.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN:-/work/main/target/release/blog-example}
posts=$1; duration=${2:-5}; log=${3:-info}
work=$(mktemp -d)
RUST_LOG=$log "$bin" </dev/null >"$work/out" 2>"$work/err" &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 600); do grep -q '  node-3 ' "$work/out" 2>/dev/null && break; sleep 0.1; done
data=$(sed -n 's/.*data in \(.*\) (removed on exit)/\1/p' "$work/out")
lag_ms=$(sed -n 's/^emulated replication lag: \([0-9]*\) ms.*/\1/p' "$work/out")
primary=$(awk '$2 == "primary" {print $1}' "$work/out")
replica_url=$(awk '$2 == "replica" {print $3; exit}' "$work/out")
replica=$(awk '$2 == "replica" {print $1; exit}' "$work/out")
python3 "$here/seed.py" "$data/$primary/blog.db" "$posts" >/dev/null
# The replica has the seed when its file counts as many posts.
for _ in $(seq 300); do
  n=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM posts').fetchone()[0])" "$data/$replica/blog.db" 2>/dev/null || echo 0)
  [ "$n" -ge "$posts" ] && break; sleep 0.1
done
sleep 1
before=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM posts').fetchone()[0])" "$data/$primary/blog.db")
load=$(cut -d' ' -f1-3 /proc/loadavg)
SLUG_PREFIX="r$RANDOM$RANDOM" wrk -t"$(( ${CONNECTIONS:-32} < 2 ? 1 : 2 ))" -c"${CONNECTIONS:-32}" -d"${duration}s" --latency -s "$here/post.lua" "$replica_url" >"$work/wrk"
after=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM posts').fetchone()[0])" "$data/$primary/blog.db")
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk")
errors=$(awk '/Non-2xx/ {print $5}' "$work/wrk"); errors=${errors:-0}
metrics=$(curl -s "$replica_url/metrics")
wait_sum=$(echo "$metrics" | awk '/^litefs_consistency_wait_seconds_sum/ {print $2}')
wait_count=$(echo "$metrics" | awk '/^litefs_consistency_wait_seconds_count/ {print $2}')
wait_ms=$(awk -v s="${wait_sum:-0}" -v c="${wait_count:-0}" 'BEGIN { if (c > 0) printf "%.2f", 1000 * s / c; else print "-" }')
# The wait's median from the histogram's cumulative buckets (1 ms wide up to 40 ms),
# interpolated linearly inside the bucket that holds it.
wait_p50=$(echo "$metrics" | awk -v c="${wait_count:-0}" '
  /^litefs_consistency_wait_seconds_bucket/ {
    match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
    if (le == "+Inf") next
    n = $NF
    if (!done && c > 0 && n >= c / 2) {
      frac = (n > prev_n) ? (c / 2 - prev_n) / (n - prev_n) : 1
      printf "%.2f", 1000 * (prev_le + frac * (le - prev_le)); done = 1
    }
    prev_le = le; prev_n = n
  }
  END { if (!done) print "-" }')
echo "lag_ms=${lag_ms:-?} posts=$before->$after rps=$rps p50=$p50 p99=$p99 non2xx=$errors ryw_wait_mean_ms=$wait_ms ryw_wait_p50_ms=$wait_p50 load=$load"
