#!/usr/bin/env bash
# record-extra.sh - the other analysis fixtures: three runc starts in one trace, a runc start
# recorded with a 4K ring buffer (real losses), a trace without any container, and a cut
# trace derived from docker.nst. Run like record.sh (root, under the e2e lock, after record.sh).
set -uo pipefail
OUT=${1:-Tests/Fixtures/analysis}
NSTRACE=${NSTRACE:-.build/debug/nstrace}
RT=Tests/NstraceContainerTests/runtimes.sh
mkdir -p "$OUT" || exit 1
bash $RT setup >/dev/null || exit 1
# rec NAME [record options]: start recording, wait until it traces
rec() { local f=$OUT/$1.nst; shift; rm -f "$f"; "$NSTRACE" record -w "$f" "$@" 2>"$f.log" & REC=$!
        for _ in $(seq 100); do grep -q tracing "$f.log" && return 0; sleep 0.1; done; return 1; }
stop() { sleep "${1:-0.3}"; kill -INT $REC; wait $REC; cat "$OUT"/*.nst.log; rm -f "$OUT"/*.nst.log; }
ids=()
rec runc-multi
for i in 1 2 3; do ids+=("$(bash $RT start runc | sed -n 's/^id=\([^ ]*\).*/\1/p')"); done
stop
rec runc-lossy --ring-size 4K
ids+=("$(bash $RT start runc | sed -n 's/^id=\([^ ]*\).*/\1/p')")
stop 1.5
rec none
unshare -m true; unshare -n true
stop
for id in "${ids[@]}"; do bash $RT stop runc "$id" >/dev/null; done
bash $RT teardown >/dev/null
# cut: docker.nst without its last blocks (the trailer and the entrypoint's exec)
size=$(stat -c %s "$OUT/docker.nst"); head -c $((size * 8 / 10)) "$OUT/docker.nst" >"$OUT/docker-cut.nst"
ls -l "$OUT"
