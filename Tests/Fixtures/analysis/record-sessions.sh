#!/usr/bin/env bash
# record-sessions.sh - analysis fixtures of starts the trace only partly shows, and of later joins:
#   runc-cut-start.nst  `runc create` before the recording began, `runc start` in it: a start cut
#                       at its beginning (never complete)
#   exec.nst            `runc run` then `runc exec`, and `docker run -v /home:/outside-home:ro`
#                       then `docker exec`: exec sessions after the starts (later joins, not part
#                       of the starts); docker's volume target resolved by the recorder
# Run like record.sh (root, under the e2e lock, from the repository root, after `swift build`):
#   flock /tmp/nstrace-e2e.lock Tests/Fixtures/analysis/record-sessions.sh [OUTDIR]
set -uo pipefail
OUT=${1:-Tests/Fixtures/analysis}
NSTRACE=${NSTRACE:-.build/debug/nstrace}
RT=Tests/NstraceContainerTests/runtimes.sh
STATE=${NSTRACE_E2E_STATE:-/var/tmp/nstrace-e2e}
mkdir -p "$OUT" || exit 1
bash $RT setup >/dev/null || exit 1
# rec NAME: start recording, wait until it traces; stop [SECS]: end it
rec() { local f=$OUT/$1.nst; rm -f "$f"; "$NSTRACE" record -w "$f" 2>"$f.log" & REC=$!
        for _ in $(seq 100); do grep -q tracing "$f.log" && return 0; sleep 0.1; done; return 1; }
stop() { sleep "${1:-0.3}"; kill -INT $REC; wait $REC; cat "$OUT"/*.nst.log; rm -f "$OUT"/*.nst.log; }
fail() { echo "record-sessions.sh: $*" >&2; bash $RT teardown >/dev/null; exit 1; }

# a runc container created before the recording, started in it
name=nste2e-runc-$(printf '%04x%04x' $RANDOM $RANDOM)
b=$STATE/bundles/$name; mkdir -p "$b"
(cd "$b" && runc spec) || fail "runc spec"
jq --arg r "$(realpath -e "$STATE/rootfs")" --arg h "$name" --argjson nf "$(ulimit -Hn)" \
  '.root.path=$r | .root.readonly=false | .hostname=$h | .process.terminal=false | .process.args=["sleep","86400"]
   | .process.rlimits=[.process.rlimits[]? | .hard=([.hard,$nf]|min) | .soft=([.soft,$nf]|min)]' \
  "$b/config.json" >"$b/config.new" && mv "$b/config.new" "$b/config.json" || fail "config.json"
timeout 60 runc create -b "$b" "$name" </dev/null >/dev/null 2>&1 || fail "runc create"
rec runc-cut-start || fail "record"
timeout 60 runc start "$name" || fail "runc start"
stop
echo "runc-cut-start: $name"

# starts, then exec sessions into them
rec exec || fail "record"
runc_id=$(bash $RT start runc | sed -n 's/^id=\([^ ]*\).*/\1/p')
bash $RT exec runc "$runc_id" true || fail "runc exec"
docker_id=$(bash $RT start docker -v /home:/outside-home:ro | sed -n 's/^id=\([^ ]*\).*/\1/p')
bash $RT exec docker "$docker_id" true || fail "docker exec"
stop
echo "exec: runc $runc_id, docker $docker_id"
bash $RT teardown >/dev/null
ls -l "$OUT"/runc-cut-start.nst "$OUT"/exec.nst
