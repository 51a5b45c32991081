#!/usr/bin/env bash
# make lean (part of make test): the build without the Telemetry trait links none of the fleet
# code, traces, and refuses --otlp and --metrics with one line and a non-zero exit.
#   Tests/lean-build-check.sh PATH/TO/LEAN/nstrace        (as root: it attaches the BPF programs)
set -euo pipefail
bin=$1
fail() { echo "make lean: $*" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$bin" --version | grep -qx '[0-9.]*' || fail "$bin does not run"
! readelf -d "$bin" | grep -E 'libFoundation\.so|libFoundationInternationalization|_FoundationICU' \
  || fail "the lean binary links all of Foundation"
! nm "$bin" | grep -q -E 'NIOPosix|SwiftProtobuf|OTelLog|Prometheus' \
  || fail "the lean binary carries the fleet code (NIO, SwiftProtobuf, swift-otel or swift-prometheus)"

# The options parse (not "unknown option") and fail before tracing, with one line.
for args in "live --otlp http://127.0.0.1:4318" "record -w $tmp/t.nst --metrics 127.0.0.1:9464"; do
  rc=0; "$bin" $args --duration 1 >/dev/null 2>"$tmp/err" || rc=$?
  [ "$rc" -ne 0 ] || fail "'nstrace $args' exited 0"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q 'this nstrace was built without telemetry' "$tmp/err" \
    || fail "'nstrace $args' did not give the one-line error: $(cat "$tmp/err")"
  [ ! -e "$tmp/t.nst" ] || fail "'nstrace $args' wrote its trace file"
done

# It traces: a real unshare(CLONE_NEWUTS) shows up in its JSON output.
"$bin" live -o json --event unshare --duration 6 >"$tmp/out" 2>"$tmp/err" &
tracer=$!
for _ in $(seq 100); do grep -q tracing "$tmp/err" && break; sleep 0.1; done
grep -q tracing "$tmp/err" || { kill "$tracer" 2>/dev/null; fail "the lean binary did not start tracing: $(cat "$tmp/err")"; }
unshare -u /bin/true & child=$!; wait "$child"
wait "$tracer" || fail "the lean binary's live exited non-zero: $(cat "$tmp/err")"
grep -q "\"pid\":$child[,}]" "$tmp/out" || fail "the lean binary did not report unshare -u (pid $child)"
echo "make lean: the lean build links no fleet code, traces, and refuses --otlp/--metrics in one line: ok"
