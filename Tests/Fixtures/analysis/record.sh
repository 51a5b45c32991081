#!/usr/bin/env bash
# record.sh - re-records the analysis fixtures (real container starts, one trace per runtime).
# Run as root, under the e2e lock, from the repository root, after `swift build`:
#   flock /tmp/nstrace-e2e.lock Tests/Fixtures/analysis/record.sh [OUTDIR]
# Each trace covers one container start (docker with -v /home:/outside-home), recorded with the
# exec and cgroup_mkdir bookkeeping events that attribution needs; the containers are removed.
set -uo pipefail
OUT=${1:-Tests/Fixtures/analysis}
NSTRACE=${NSTRACE:-.build/debug/nstrace}
mkdir -p "$OUT" || exit 1
RT=Tests/NstraceContainerTests/runtimes.sh
bash $RT setup >/dev/null || exit 1
for rt in runc crun ctr docker podman; do
  f=$OUT/$rt.nst
  rm -f "$f"
  "$NSTRACE" record -w "$f" 2>"$OUT/.$rt.log" &
  rec=$!
  for _ in $(seq 100); do grep -q tracing "$OUT/.$rt.log" && break; sleep 0.1; done
  args=()
  [ "$rt" = docker ] && args=(-v /home:/outside-home)
  line=$(bash $RT start "$rt" "${args[@]}") || { kill -INT $rec; wait $rec; exit 1; }
  sleep 0.3
  kill -INT $rec; wait $rec
  id=$(sed -n 's/^id=\([^ ]*\).*/\1/p' <<<"$line")
  bash $RT stop "$rt" "$id" >/dev/null
  echo "$rt: $line -> $f ($(stat -c %s "$f") bytes)"; cat "$OUT/.$rt.log"; rm -f "$OUT/.$rt.log"
done
bash $RT teardown >/dev/null
