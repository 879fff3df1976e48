#!/usr/bin/env bash
# Idle CPU of the local cluster (issue 13): starts `blog-example` (release), lets it settle
# for 10 s, then sums the CPU time (user + system) of the parent (the emulator) and its
# three node processes over WINDOW seconds. Prints the share of one core.
# Usage: idle.sh [WINDOW]
set -euo pipefail
bin=${BIN:-/work/main/target/release/blog-example}
window=${1:-60}
work=$(mktemp -d)
"$bin" </dev/null >"$work/out" 2>"$work/err" &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 600); do grep -q '  node-3 ' "$work/out" 2>/dev/null && break; sleep 0.1; done
pids="$pid $(grep -o '(pid [0-9]*)' "$work/out" | tr -dc '0-9 \n' | xargs)"
sleep 10
ticks() { for p in $pids; do awk '{s += $14 + $15} END {printf "%d ", s}' "/proc/$p/stat"; done; }
before=($(ticks)); load=$(cut -d' ' -f1-3 /proc/loadavg)
sleep "$window"
after=($(ticks))
hz=$(getconf CLK_TCK); total=0; parts=""
for i in "${!after[@]}"; do d=$((after[i] - before[i])); total=$((total + d)); parts="$parts $d"; done
awk -v t="$total" -v w="$window" -v hz="$hz" -v parts="$parts" -v load="$load" \
  'BEGIN { printf "idle_cpu=%.2f%% of one core (ticks parent,nodes:%s) load=%s\n", 100 * t / hz / w, parts, load }'
