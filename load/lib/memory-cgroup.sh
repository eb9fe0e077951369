#!/usr/bin/env bash
# Runs a command inside a memory cgroup with the given limit, as a container
# memory limit (a pod's resources.limits.memory) would: Node.js reads the
# limit from the cgroup and V8 sizes its heap from it, and the kernel
# OOM-kills the process above it.
#
#   memory-cgroup.sh LIMIT_BYTES command [args...]
#
# The load runner prefixes the service's command with it for --service-memory.
# Needs root and a writable cgroup filesystem (v2, or v1's memory controller).
# The group, periscope-load-<bytes> under this process's own group, is reused
# by later runs with the same limit.
set -euo pipefail
limit="$1"
shift
[[ "$limit" =~ ^[0-9]+$ ]] || { echo "memory-cgroup: limit must be bytes, got '$limit'" >&2; exit 2; }
name="periscope-load-$limit"
fail() {
  echo "memory-cgroup: cannot run the service in a ${limit}-byte memory cgroup: $*" >&2
  echo "memory-cgroup: --service-memory needs root and a writable cgroup filesystem (v2, or v1's memory controller)" >&2
  exit 3
}

if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
  # cgroup v2: a child of our own group. (Processes may only live in leaf
  # groups once controllers are enabled below; we add a leaf and move there.)
  own="$(sed -n 's/^0:://p' /proc/self/cgroup)"
  parent="/sys/fs/cgroup${own%/}"
  grep -qw memory "$parent/cgroup.controllers" 2>/dev/null || fail "no memory controller in $parent"
  # v2 lets a group hand a controller to child groups only while it holds no
  # processes of its own; where the runner's group does, this fails (said so).
  # Not exercised on this project's machine, which mounts cgroup v1.
  grep -qw memory "$parent/cgroup.subtree_control" 2>/dev/null ||
    echo +memory >"$parent/cgroup.subtree_control" 2>/dev/null ||
    fail "cannot enable the memory controller for groups under $parent (cgroup v2 refuses it in a group that holds processes, as the runner's usually does: run the load test from a delegated parent group with none, or on cgroup v1)"
  dir="$parent/$name"
  mkdir -p "$dir" 2>/dev/null || fail "cannot create $dir"
  echo "$limit" >"$dir/memory.max" 2>/dev/null || fail "cannot write $dir/memory.max"
  echo 0 >"$dir/memory.swap.max" 2>/dev/null || true
else
  # cgroup v1: the memory hierarchy, under this process's memory group.
  own="$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)"
  [[ -d /sys/fs/cgroup/memory ]] || fail "no cgroup v2 and no v1 memory controller mounted"
  dir="/sys/fs/cgroup/memory${own%/}/$name"
  mkdir -p "$dir" 2>/dev/null || fail "cannot create $dir"
  echo "$limit" >"$dir/memory.limit_in_bytes" 2>/dev/null || fail "cannot write $dir/memory.limit_in_bytes"
  echo 0 >"$dir/memory.swappiness" 2>/dev/null || true
fi
echo $$ >"$dir/cgroup.procs" 2>/dev/null || fail "cannot move into $dir"
exec "$@"
