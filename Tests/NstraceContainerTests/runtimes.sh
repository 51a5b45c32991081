#!/usr/bin/env bash
# runtimes.sh - installs and drives the real container runtimes of NstraceContainerTests:
# runc, crun, containerd + ctr, dockerd (Debian's docker.io) and podman (conmon + crun), offline,
# from Debian packages, with a busybox-static root filesystem (no registry is needed).
#
#   runtimes.sh install                 apt packages (quick no-op when present); `make deps-runtimes`
#   runtimes.sh setup                   cgroup fix for crun, rootfs + images, containerd + dockerd up
#   runtimes.sh start RUNTIME [ARGS..]  start one container (RUNTIME: runc crun ctr docker podman);
#                                       ARGS go to the runtime's run command as options;
#                                       runc/crun: --annotation KEY=VALUE goes into config.json;
#                                       prints `id=<full id> pid=<host pid> name=<name>`
#   runtimes.sh stop RUNTIME ID         stop and remove it
#   runtimes.sh exec RUNTIME ID CMD..   run CMD in it (runc/crun exec, ctr task exec, docker/podman exec)
#   runtimes.sh run-rm RUNTIME [ARGS..] docker/podman/ctr run --rm … true; prints `id=<full id> name=<name>`
#   runtimes.sh info                    key=value lines: docker binary, image names, ctr namespace
#   runtimes.sh teardown                remove every container and image made here; stop the
#                                       daemons `setup` started (and nothing else)
#
# Everything it makes is named nste2e-* (containers), nstrace-e2e/busybox (image), containerd
# namespace nstrace-e2e; its state lives in $NSTRACE_E2E_STATE (default /var/tmp/nstrace-e2e).
# Every step has a timeout; every failure is one clear line on stderr and a non-zero exit.
# Host facts this relies on are in ../../../shared/runtimes/README.md (hybrid cgroups, no systemd,
# no CAP_SYS_RESOURCE); it also works on pure cgroup v2 hosts.
set -uo pipefail
export DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

CMD=${1:-}
STATE=${NSTRACE_E2E_STATE:-/var/tmp/nstrace-e2e}
PREFIX=nste2e                        # every container name starts with it
CTR_NS=nstrace-e2e                   # containerd namespace of ctr containers
IMG=nstrace-e2e/busybox:latest       # docker's name; podman: localhost/$IMG; ctr: docker.io/$IMG
PODMAN_IMG=localhost/$IMG
CTR_IMG=docker.io/$IMG
PAUSE_IMG=nstrace-e2e/pause:latest   # the CRI plugin's sandbox image, in containerd namespace k8s.io
CRI_NS=nstrace-e2e                   # Kubernetes namespace of the tests' CRI pods
CRI_DRIVER=$(dirname "${BASH_SOURCE[0]}")/../Fleet/cri_driver.py
PYVENV_PYTHON=$(dirname "${BASH_SOURCE[0]}")/../../.build/pyvenv/bin/python
DOCKER=/usr/bin/docker               # Debian's client; another may sit at /usr/local/bin/docker
PACKAGES=(busybox-static runc crun containerd docker.io podman iptables iproute2 jq)
PAYLOAD=(sleep 86400)                # what every container runs (teardown removes them)
CG2=/sys/fs/cgroup/unified           # cgroup2 in hybrid mode
[ -f /sys/fs/cgroup/cgroup.controllers ] && CG2=/sys/fs/cgroup

die() { echo "runtimes.sh ${CMD:-}: $*" >&2; exit 1; }
note() { echo "runtimes.sh ${CMD:-}: $*" >&2; }
ms() { date +%s%3N; }
# to SECS CMD...: the command with a timeout (TERM, then KILL 5 s later); 124 on timeout
to() { local s=$1; shift; timeout --kill-after=5 "$s" "$@"; }
tail_log() { [ -f "$1" ] && tail -n "${2:-15}" "$1" | sed 's/^/    /' >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (containers and the tracer need it)"

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
  done
}

# ------------------------------------------------------------------------------------ install
cmd_install() {
  local missing t policy_made=0 log=/var/tmp/nstrace-e2e-apt.log
  missing=$(missing_packages | tr '\n' ' ')
  if [ -z "${missing// /}" ]; then echo "runtimes.sh install: all ${#PACKAGES[@]} packages present"; return 0; fi
  echo "runtimes.sh install: installing $missing"
  command -v apt-get >/dev/null || die "apt-get not found: needs a Debian-based machine (missing: $missing)"
  # No init system starts services here: keep the maintainer scripts of docker.io and containerd
  # from trying (invoke-rc.d asks policy-rc.d; 101 = action forbidden).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_made=1
  fi
  t=$(ms)
  # shellcheck disable=SC2086
  # (a fresh machine may still be running apt itself: wait for its lock rather than fail)
  { to 600 apt-get -o DPkg::Lock::Timeout=300 update -q &&
    to 1800 apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends $missing; } >"$log" 2>&1
  local rc=$?
  [ "$policy_made" = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ $rc -ne 0 ]; then tail_log "$log" 25; die "apt-get failed ($rc; timeout is 124; full log: $log)"; fi
  missing=$(missing_packages | tr '\n' ' ')
  [ -z "${missing// /}" ] || die "still not installed after apt-get: $missing (log: $log)"
  echo "runtimes.sh install: done in $(( ($(ms)-t)/1000 )) s"
}

# -------------------------------------------------------------------------------------- setup
# crun refuses hybrid cgroups while cgroup2 holds a controller ("cgroups in hybrid mode not
# supported, drop all controllers from cgroupv2"): mount each such controller on a v1 hierarchy.
fix_hybrid_cgroups() {
  [ "$CG2" = /sys/fs/cgroup/unified ] || return 0
  local c
  for c in $(cat "$CG2/cgroup.controllers" 2>/dev/null); do
    mountpoint -q "/sys/fs/cgroup/$c" && continue
    mkdir -p "/sys/fs/cgroup/$c" && mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" ||
      die "cannot move cgroup controller '$c' from cgroup2 to v1 (crun needs that on hybrid hosts)"
    note "moved cgroup controller '$c' from cgroup2 to v1 at /sys/fs/cgroup/$c (for crun)"
  done
  [ -z "$(cat "$CG2/cgroup.controllers" 2>/dev/null)" ] ||
    die "cgroup2 still holds controllers: $(cat "$CG2/cgroup.controllers"); crun refuses that on hybrid hosts"
}

# The busybox-static root filesystem, and from it a docker-archive image (docker save format),
# built by hand: nothing is pulled.
build_rootfs() {
  local R=$STATE/rootfs tmp a
  [ -x "$R/bin/busybox" ] && [ -f "$STATE/image.tar" ] && [ -f "$STATE/rootfs.tar" ] && return 0
  [ -x /bin/busybox ] || die "/bin/busybox is missing: run 'runtimes.sh install' (package busybox-static)"
  tmp=$(mktemp -d "$STATE/rootfs.XXXXXX") || die "cannot create a directory in $STATE"
  mkdir -p "$tmp"/{bin,proc,sys,dev,etc,tmp,root,mnt,run} && cp /bin/busybox "$tmp/bin/busybox" || die "cannot build the rootfs"
  for a in $("$tmp/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$tmp/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$tmp/etc/passwd"; echo 'root:x:0:' >"$tmp/etc/group"
  rm -rf "$R"; mv "$tmp" "$R"
  tar -C "$R" -cf "$STATE/rootfs.tar" . || die "cannot tar the rootfs"
  image_archive "$STATE/image.tar" "$IMG" '["sh"]'
}

# image_archive OUT TAG CMD_JSON: a docker-archive image of the rootfs layer (what docker load,
# podman load and ctr image import take), running CMD_JSON.
image_archive() {
  local out=$1 tag=$2 cmd=$3 a L C
  a=$(mktemp -d "$STATE/archive.XXXXXX"); L=$(sha256sum "$STATE/rootfs.tar" | cut -d' ' -f1)
  mkdir "$a/$L" && cp "$STATE/rootfs.tar" "$a/$L/layer.tar" || die "cannot build the image $tag"
  printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$(dpkg --print-architecture)" "$cmd" "$L" >"$a/config"
  C=$(sha256sum "$a/config" | cut -d' ' -f1); mv "$a/config" "$a/$C.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$C" "$tag" "$L" >"$a/manifest.json"
  tar -C "$a" -cf "$out" manifest.json "$C.json" "$L" || die "cannot write the image archive $out"
  rm -rf "$a"
}

# The CRI plugin's sandbox ("pause") image: the same layer, whose command keeps running
# (a pod's containers join its namespaces). Also the image of the tests' pod containers.
build_pause_image() {
  [ -f "$STATE/pause.tar" ] || image_archive "$STATE/pause.tar" "$PAUSE_IMG" '["/bin/sleep","86400"]'
}

# containerd's configuration: Debian's, plus what its CRI plugin needs here: the sandbox image
# imported above (nothing can be pulled) and no negative oom_score_adj (no CAP_SYS_RESOURCE).
write_containerd_config() {
  cat >"$STATE/containerd.toml" <<TOML
version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "docker.io/$PAUSE_IMG"
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
TOML
}

containerd_up() { to 5 ctr version >/dev/null 2>&1; }
dockerd_up() { to 10 "$DOCKER" info >/dev/null 2>&1; }

# start_daemon NAME LOG CMD...: a daemon in its own session, detached from our stdio (a test
# reading our output must not wait for it), its pid recorded for teardown.
start_daemon() {
  local name=$1 log=$2; shift 2
  setsid "$@" </dev/null >>"$log" 2>&1 &
  local pid=$!
  echo "$name $pid $(cut -d' ' -f22 "/proc/$pid/stat" 2>/dev/null)" >>"$STATE/daemons"
}

wait_for() { # SECS NAME LOG CHECK: poll CHECK every 0.2 s
  local secs=$1 name=$2 log=$3 check=$4 i
  for ((i = 0; i < secs * 5; i++)); do $check && return 0; sleep 0.2; done
  tail_log "$log"
  die "$name did not come up within $secs s (log above, full: $log)"
}

cmd_setup() {
  local t0 t missing
  t0=$(ms)
  missing=$(missing_packages | tr '\n' ' ')
  [ -z "${missing// /}" ] || die "not installed: $missing- run 'make deps-runtimes' (or 'runtimes.sh install')"
  mkdir -p "$STATE" || die "cannot create $STATE"
  fix_hybrid_cgroups
  build_rootfs
  build_pause_image

  if containerd_up; then note "containerd already running: reusing it"; else
    t=$(ms)
    write_containerd_config
    start_daemon containerd "$STATE/containerd.log" containerd --config "$STATE/containerd.toml"
    wait_for 30 containerd "$STATE/containerd.log" containerd_up
    note "containerd up in $(( $(ms)-t )) ms"
  fi
  if dockerd_up; then note "dockerd already running: reusing it"; else
    t=$(ms)
    local args=()
    [ -S /run/containerd/containerd.sock ] && args=(--containerd=/run/containerd/containerd.sock)
    start_daemon dockerd "$STATE/dockerd.log" dockerd "${args[@]}"
    wait_for 60 dockerd "$STATE/dockerd.log" dockerd_up
    note "dockerd up in $(( $(ms)-t )) ms"
  fi

  remove_containers   # left over from an earlier run that did not tear down

  to 60 "$DOCKER" image inspect "$IMG" >/dev/null 2>&1 ||
    to 120 "$DOCKER" load -i "$STATE/image.tar" >"$STATE/load.log" 2>&1 ||
    { tail_log "$STATE/load.log"; die "docker load of the busybox image failed"; }
  to 60 ctr -n "$CTR_NS" image ls -q 2>/dev/null | grep -qxF "$CTR_IMG" ||
    to 120 ctr -n "$CTR_NS" image import "$STATE/image.tar" >"$STATE/load.log" 2>&1 ||
    { tail_log "$STATE/load.log"; die "ctr image import of the busybox image failed"; }
  to 60 ctr -n k8s.io image ls -q 2>/dev/null | grep -qxF "docker.io/$PAUSE_IMG" ||
    to 120 ctr -n k8s.io image import "$STATE/pause.tar" >"$STATE/load.log" 2>&1 ||
    { tail_log "$STATE/load.log"; die "ctr image import of the pause image (CRI) failed"; }
  to 60 podman image exists "$PODMAN_IMG" 2>/dev/null ||
    to 120 podman load -i "$STATE/image.tar" >"$STATE/load.log" 2>&1 ||
    { tail_log "$STATE/load.log"; die "podman load of the busybox image failed"; }
  to 30 podman image exists "$PODMAN_IMG" || die "podman has no $PODMAN_IMG after loading $STATE/image.tar"
  note "ready in $(( $(ms)-t0 )) ms (containerd $(ctr version 2>/dev/null | awk '/Version/{print $2; exit}'), docker $("$DOCKER" version -f '{{.Server.Version}}' 2>/dev/null), podman $(podman version -f '{{.Client.Version}}' 2>/dev/null), runc $(runc --version | awk 'NR==1{print $3}'), crun $(crun --version | awk 'NR==1{print $3}'))"
}

# ---------------------------------------------------------------------------- start / stop
podman_limits() { # podman asks for more than the hard limits; without CAP_SYS_RESOURCE that is EPERM
  local nf np
  nf=$(ulimit -Hn); np=$(ulimit -Hu)
  [ "$nf" = unlimited ] && nf=1048576
  { [ "$np" = unlimited ] || [ "$np" -gt 32768 ]; } && np=32768
  echo "--ulimit nofile=$nf:$nf --ulimit nproc=$np:$np"
}

cmd_start() {
  local rt=${1:-}; shift || true
  local name id pid out rootfs b
  name=$PREFIX-$rt-$(printf '%04x%04x' $RANDOM $RANDOM)
  mkdir -p "$STATE/run" || die "cannot create $STATE/run"
  out=$STATE/run/$name.out
  case "$rt" in
    runc|crun)
      # --annotation KEY=VALUE (ours, not the runtime's): into the bundle's config.json, as a
      # CRI runtime writes the pod's identity there (the fleet tests read pod names from it)
      local annotations='{}' rest=()
      while [ $# -gt 0 ]; do
        if [ "$1" = --annotation ] && [ $# -ge 2 ]; then
          annotations=$(jq -c --arg kv "$2" '. + {($kv | split("=")[0]): ($kv | split("=")[1:] | join("="))}' <<<"$annotations") ||
            die "bad --annotation '$2'"
          shift 2
        else
          rest+=("$1"); shift
        fi
      done
      set -- "${rest[@]}"
      rootfs=$(realpath -e "$STATE/rootfs" 2>/dev/null) || die "no rootfs: run 'runtimes.sh setup' first"
      b=$STATE/bundles/$name; mkdir -p "$b"
      (cd "$b" && "$rt" spec) >"$out" 2>&1 || { tail_log "$out"; die "$rt spec failed"; }
      # root.path must be absolute and no symlink; the host's hard limits cap the rlimits
      jq --arg r "$rootfs" --arg h "$name" --argjson nf "$(ulimit -Hn)" --argjson an "$annotations" \
        '.root.path=$r | .annotations=((.annotations // {}) + $an) | .root.readonly=false | .hostname=$h | .process.terminal=false
         | .process.args=["sleep","86400"]
         | .process.rlimits=[.process.rlimits[]? | .hard=([.hard,$nf]|min) | .soft=([.soft,$nf]|min)]' \
        "$b/config.json" >"$b/config.new" && mv "$b/config.new" "$b/config.json" || die "cannot write $b/config.json"
      # -d: the container inherits runc's stdio, so none of ours (a reader would wait forever)
      to 60 "$rt" run -d "$@" --pid-file "$b/pid" -b "$b" "$name" </dev/null >"$out" 2>&1 ||
        { tail_log "$out"; die "$rt run failed"; }
      id=$name; pid=$(cat "$b/pid" 2>/dev/null) ;;
    ctr)
      to 60 ctr -n "$CTR_NS" run -d "$@" "$CTR_IMG" "$name" "${PAYLOAD[@]}" </dev/null >"$out" 2>&1 ||
        { tail_log "$out"; die "ctr run failed (did 'runtimes.sh setup' run?)"; }
      id=$name
      pid=$(to 30 ctr -n "$CTR_NS" task ls 2>/dev/null | awk -v i="$id" '$1 == i {print $2}') ;;
    docker)
      to 90 "$DOCKER" run -d --name "$name" "$@" "$IMG" "${PAYLOAD[@]}" </dev/null >"$out" 2>&1 ||
        { tail_log "$out"; die "docker run failed (did 'runtimes.sh setup' run?)"; }
      id=$(tail -n 1 "$out")
      pid=$(to 30 "$DOCKER" inspect -f '{{.State.Pid}}' "$id" 2>/dev/null) ;;
    podman)
      # shellcheck disable=SC2046
      to 90 podman run -d --pull=never --name "$name" $(podman_limits) "$@" "$PODMAN_IMG" "${PAYLOAD[@]}" \
        </dev/null >"$out" 2>&1 || { tail_log "$out"; die "podman run failed (did 'runtimes.sh setup' run?)"; }
      id=$(tail -n 1 "$out")
      pid=$(to 30 podman inspect -f '{{.State.Pid}}' "$id" 2>/dev/null) ;;
    *) die "unknown runtime '$rt' (runc crun ctr docker podman)" ;;
  esac
  [[ "$id" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "$rt printed no container id: $(tail -n 3 "$out")"
  [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 0 ] && [ -d "/proc/$pid" ] ||
    die "$rt container $id has no live host pid ('$pid')"
  echo "id=$id pid=$pid name=$name"
}

stop_one() { # RUNTIME ID: no error when it is already gone
  local rt=$1 id=$2
  case "$rt" in
    runc|crun)
      to 30 "$rt" delete -f "$id" >/dev/null 2>&1
      rm -rf "${STATE:?}/bundles/$id"
      ! "$rt" state "$id" >/dev/null 2>&1 ;;
    ctr)
      to 15 ctr -n "$CTR_NS" task kill -s KILL "$id" >/dev/null 2>&1
      local i; for ((i = 0; i < 50; i++)); do
        to 15 ctr -n "$CTR_NS" task rm -f "$id" >/dev/null 2>&1
        to 15 ctr -n "$CTR_NS" task ls -q 2>/dev/null | grep -qxF "$id" || break; sleep 0.2; done
      to 15 ctr -n "$CTR_NS" container rm "$id" >/dev/null 2>&1
      ! to 15 ctr -n "$CTR_NS" container ls -q 2>/dev/null | grep -qxF "$id" ;;
    docker)
      to 60 "$DOCKER" rm -f "$id" >/dev/null 2>&1
      ! to 15 "$DOCKER" container inspect "$id" >/dev/null 2>&1 ;;
    podman)
      to 60 podman rm -f -t 0 "$id" >/dev/null 2>&1
      ! to 15 podman container exists "$id" ;;
    *) die "unknown runtime '$rt' (runc crun ctr docker podman)" ;;
  esac
}

cmd_exec() { # RUNTIME ID CMD...: the command's own exit status
  [ $# -ge 3 ] || die "usage: runtimes.sh exec RUNTIME ID CMD..."
  local rt=$1 id=$2; shift 2
  case "$rt" in
    runc|crun) to 60 "$rt" exec "$id" "$@" </dev/null ;;
    ctr) to 60 ctr -n "$CTR_NS" task exec --exec-id "$PREFIX-exec-$$" "$id" "$@" </dev/null ;;
    docker) to 60 "$DOCKER" exec "$id" "$@" </dev/null ;;
    podman) to 60 podman exec "$id" "$@" </dev/null ;;
    *) die "unknown runtime '$rt' (runc crun ctr docker podman)" ;;
  esac
}

cmd_stop() {
  [ $# -eq 2 ] || die "usage: runtimes.sh stop RUNTIME ID"
  stop_one "$1" "$2" || die "$1 container $2 is still there"
}

# Every container whose name starts with $PREFIX-, of every runtime that answers.
remove_containers() {
  local rt id
  for rt in runc crun; do
    command -v "$rt" >/dev/null || continue
    for id in $(to 15 "$rt" list -q 2>/dev/null | grep "^$PREFIX-"); do stop_one "$rt" "$id"; done
  done
  rm -rf "${STATE:?}/bundles"
  if containerd_up; then
    for id in $(to 15 ctr -n "$CTR_NS" container ls -q 2>/dev/null); do stop_one ctr "$id"; done
    # the CRI pods of the tests (Kubernetes namespace $CRI_NS), through CRI itself
    if [ -x "$PYVENV_PYTHON" ] && [ -S /run/containerd/containerd.sock ]; then
      to 120 "$PYVENV_PYTHON" "$CRI_DRIVER" /run/containerd/containerd.sock remove-pods "$CRI_NS" >/dev/null 2>&1 ||
        note "could not remove the CRI pods of namespace $CRI_NS"
    fi
  fi
  if dockerd_up; then
    for id in $(to 15 "$DOCKER" ps -aq --no-trunc --filter "name=^$PREFIX-" 2>/dev/null); do stop_one docker "$id"; done
  fi
  if command -v podman >/dev/null; then
    for id in $(to 30 podman ps -aq --no-trunc --filter "name=^$PREFIX-" 2>/dev/null); do stop_one podman "$id"; done
  fi
  local n; for n in /run/netns/"$PREFIX"*; do [ -e "$n" ] && { ip netns delete "${n##*/}" 2>/dev/null || rm -f "$n"; }; done
  return 0
}

stop_pid() { # PID NAME STARTTIME: TERM, then KILL after 20 s; only our own daemon (start time checked)
  local pid=$1 name=$2 start=$3 i
  [ "$(cut -d' ' -f22 "/proc/$pid/stat" 2>/dev/null)" = "$start" ] || return 0   # gone, or pid reused
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  note "$name ($pid) ignored SIGTERM for 20 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null
}

cmd_teardown() {
  local t name pid start
  t=$(ms)
  remove_containers
  if dockerd_up; then to 60 "$DOCKER" rmi -f "$IMG" >/dev/null 2>&1; fi
  if containerd_up; then
    to 30 ctr -n "$CTR_NS" image rm "$CTR_IMG" >/dev/null 2>&1
    to 30 ctr -n k8s.io image rm "docker.io/$PAUSE_IMG" >/dev/null 2>&1
    to 30 ctr namespace rm "$CTR_NS" >/dev/null 2>&1
  fi
  command -v podman >/dev/null && to 60 podman rmi -f "$PODMAN_IMG" >/dev/null 2>&1
  if [ -f "$STATE/daemons" ]; then   # dockerd first: it uses containerd
    for name in dockerd containerd; do
      while read -r n pid start; do [ "$n" = "$name" ] && stop_pid "$pid" "$n" "$start"; done <"$STATE/daemons"
    done
    if grep -q '^dockerd ' "$STATE/daemons"; then ip link del docker0 2>/dev/null; fi
  fi
  if command -v podman >/dev/null && [ -z "$(to 30 podman ps -aq 2>/dev/null)" ]; then ip link del cni-podman0 2>/dev/null; fi
  # empty parent cgroups the runtimes left (rmdir fails, harmlessly, on non-empty ones)
  local h d
  for h in /sys/fs/cgroup/*/ "$CG2/"; do
    for d in "$CTR_NS" docker libpod_parent/conmon libpod_parent; do [ -d "$h$d" ] && rmdir "$h$d" 2>/dev/null; done
  done
  rm -rf "${STATE:?}"
  note "done in $(( $(ms)-t )) ms"
}

cmd_run_rm() { # RUNTIME [ARGS..]: a container that runs `true` and is removed; prints `id=<full id> name=<name>`
  local rt=${1:-}; shift || true
  local name id cid
  name=$PREFIX-rm-$rt-$(printf '%04x%04x' $RANDOM $RANDOM)
  mkdir -p "$STATE/run" || die "cannot create $STATE/run"
  cid=$STATE/run/$name.cid
  case "$rt" in
    docker)
      to 90 "$DOCKER" run --rm --name "$name" --cidfile "$cid" "$@" "$IMG" true </dev/null >/dev/null 2>"$STATE/run/$name.out" ||
        { tail_log "$STATE/run/$name.out"; die "docker run --rm failed"; }
      id=$(cat "$cid") ;;
    podman)
      # shellcheck disable=SC2046
      to 90 podman run --rm --pull=never --name "$name" --cidfile "$cid" $(podman_limits) "$@" "$PODMAN_IMG" true \
        </dev/null >/dev/null 2>"$STATE/run/$name.out" || { tail_log "$STATE/run/$name.out"; die "podman run --rm failed"; }
      id=$(cat "$cid") ;;
    ctr)
      to 90 ctr -n "$CTR_NS" run --rm "$@" "$CTR_IMG" "$name" true </dev/null >/dev/null 2>"$STATE/run/$name.out" ||
        { tail_log "$STATE/run/$name.out"; die "ctr run --rm failed"; }
      id=$name ;;
    *) die "run-rm: unknown runtime '$rt' (docker podman ctr)" ;;
  esac
  rm -f "$cid"
  [[ "$id" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "$rt wrote no container id"
  echo "id=$id name=$name"
}

cmd_info() {
  echo "docker=$DOCKER"
  echo "image=$IMG"
  echo "podman_image=$PODMAN_IMG"
  echo "ctr_image=$CTR_IMG"
  echo "ctr_namespace=$CTR_NS"
  echo "pause_image=docker.io/$PAUSE_IMG"
  echo "cri_namespace=$CRI_NS"
  echo "prefix=$PREFIX"
  echo "state=$STATE"
}

case "$CMD" in
  install) cmd_install ;;
  setup) cmd_setup ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  exec) shift; cmd_exec "$@" ;;
  run-rm) shift; cmd_run_rm "$@" ;;
  teardown) cmd_teardown ;;
  info) cmd_info ;;
  *) echo "usage: runtimes.sh install|setup|start RUNTIME [ARGS..]|stop RUNTIME ID|exec RUNTIME ID CMD..|run-rm RUNTIME [ARGS..]|info|teardown" >&2; exit 64 ;;
esac
