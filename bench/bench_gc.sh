#!/usr/bin/env bash
# bench/bench_gc.sh — issue 10: garbage collection on a generated store, beside
# docker-registry 2.8's `garbage-collect` on a copy of the same store (which needs the
# registry stopped), and manifest GETs served while regmaster's gc runs. Not a test;
# see bench/README.md.
#
# usage: bench/bench_gc.sh [--manifests N] [--dir DIR] [--keep]
#   --manifests N  manifests (default 10000) in N/10 repositories, 9 layers each (10%
#                  from a pool of 500 shared layers), a third unreachable (genstore -u
#                  33: blobs and layer links without a revision link): about 100,000
#                  blobs at the default
#   --dir DIR      where the store is generated and kept for the next run (default
#                  $BENCH_DIR, else /var/tmp/regmaster-gcbench; 1.8 GiB at the default)
#   --keep         keep the copies, configs and logs under DIR
# environment: REGMASTER_BUILD (build tree, default the directory above this script),
#   REGMASTER_LIBEXECDIR (workers, default the build tree), DOCKER_REGISTRY.
#
# Steps (page cache warm: both copies were just written by cp):
#   1. regmaster on copy 1 (gc.interval 0s, gc.grace 0s): manifest GET req/s with wrk
#      (2 threads, 16 connections, one manifest by tag) idle; then the same while
#      `regmaster gc` runs (wrk started just before it, for as long as a dry run took);
#      gc's wall time (the CLI waits for the run) and its summary; gcd's VmHWM.
#   2. docker-registry garbage-collect on copy 2 (the registry stopped): wall time and
#      peak RSS (/usr/bin/time -v), and how many blob files each left.
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
export REGMASTER_LIBEXECDIR=${REGMASTER_LIBEXECDIR:-$BUILD}
DOCKER_REGISTRY=${DOCKER_REGISTRY:-docker-registry}
GENSTORE=$BUILD/bench/genstore
RM=$BUILD/master/regmaster
MANIFESTS=10000 DIR=${BENCH_DIR:-/var/tmp/regmaster-gcbench} KEEP=0

while [ $# -gt 0 ]; do
	case $1 in
	--manifests) MANIFESTS=$2; shift 2 ;;
	--dir) DIR=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: $0 [--manifests N] [--dir DIR] [--keep]" >&2; exit 2 ;;
	esac
done
for t in wrk /usr/bin/time "$DOCKER_REGISTRY" "$GENSTORE" "$RM"; do
	command -v "$t" >/dev/null || { echo "bench_gc: needs $t" >&2; exit 1; }
done

say() { printf '%s\n' "$*"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

STORE=$DIR/store-$MANIFESTS
if [ ! -d "$STORE/docker" ]; then
	mkdir -p "$STORE"
	"$GENSTORE" -r $((MANIFESTS / 10)) -m "$MANIFESTS" -l 9 -s 10 -p 500 -u 33 -S 1 \
		"$STORE" || exit 1
fi
W=$(mktemp -d "$DIR/run.XXXXXX")
cleanup() {
	[ -f "$W/rm.conf" ] && "$RM" -c "$W/rm.conf" stop >/dev/null 2>&1
	[ "$KEEP" = 1 ] || rm -rf -- "$W"
}
trap cleanup EXIT
cp -a "$STORE" "$W/rm-store" && cp -a "$STORE" "$W/dr-store" || exit 1
# as deployed, the store is storaged's: otherwise every sweep asks master to
# repair what is in the way (a round trip and a chown a blob)
if [ "$(id -u)" = 0 ] && getent passwd regmaster-storaged >/dev/null; then
	chown -R regmaster-storaged: "$W/rm-store"
fi
blobs() { find "$1/docker/registry/v2/blobs" -name data | wc -l; }
say "store: $MANIFESTS manifests, $(blobs "$W/rm-store") blobs (a third of the images unreachable)"

# ---- regmaster
P=$(port)
mkdir -p "$W/run" "$W/auth"
cat >"$W/rm.conf" <<EOF
run_dir = "$W/run";
log_level = "info";
log_file = "$W/regmaster.log";
http = { listen = [ "127.0.0.1:$P" ]; };
storage = { root = "$W/rm-store"; delete = true; };
auth = { dir = "$W/auth"; };
workers = { tunneld = false; };
gc = { interval = "0s"; grace = "0s"; };
EOF
"$RM" -c "$W/rm.conf" start || exit 1
# a tagged manifest of the generated store, to GET
repo=$(cd "$W/rm-store/docker/registry/v2/repositories" &&
	find . -path '*/_manifests/tags/*/current/link' | head -1)
tag=${repo%/current/link}; tag=${tag##*/}
repo=${repo#./}; repo=${repo%%/_manifests/*}
URL=http://127.0.0.1:$P/v2/$repo/manifests/$tag
ACC='Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
for _ in $(seq 1 600); do
	out=$("$RM" -c "$W/rm.conf" gc --dry-run 2>&1 | tail -1)
	case $out in *"index still building"*) sleep 1 ;; *) break ;; esac
done
say "gc --dry-run: $out"
dry_s=$(grep -o 'in [0-9.]*s' <<<"$out" | tr -dc '0-9.')
rate() { grep -o 'Requests/sec: *[0-9.]*' | tr -dc '0-9.'; }
idle=$(wrk -t2 -c16 -d5s -H "$ACC" "$URL" | rate)
secs=$(python3 -c "import math; print(max(2, math.ceil(${dry_s:-2})))")
wrk -t2 -c16 -d"${secs}s" -H "$ACC" "$URL" >"$W/wrk-gc.out" &
wpid=$!
sleep 0.2
t0=$(date +%s.%N)
out=$("$RM" -c "$W/rm.conf" gc 2>&1 | tail -1)
t1=$(date +%s.%N)
wait "$wpid"
during=$(rate <"$W/wrk-gc.out")
gcd=$(awk '$1 == "gcd" { sub("pid=", "", $2); print $2 }' < <("$RM" -c "$W/rm.conf" status))
hwm=$(awk '/VmHWM/ { print $2 " " $3 }' "/proc/$gcd/status" 2>/dev/null)
sd=$(awk '$1 == "storaged" { sub("pid=", "", $2); print $2 }' < <("$RM" -c "$W/rm.conf" status))
sdhwm=$(awk '/VmHWM/ { print $2 " " $3 }' "/proc/$sd/status" 2>/dev/null)
say "regmaster gc: $(python3 -c "print(f'{$t1 - $t0:.2f}')") s wall; $out"
say "regmaster gcd VmHWM: $hwm (storaged: $sdhwm)"
say "manifest GET req/s: idle $idle, during gc $during (wrk ${secs}s)"
say "regmaster: $(blobs "$W/rm-store") blob files left"
"$RM" -c "$W/rm.conf" stop >/dev/null

# ---- docker-registry garbage-collect, registry stopped
cat >"$W/dr.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $W/dr-store
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$(port)
EOF
/usr/bin/time -v "$DOCKER_REGISTRY" garbage-collect "$W/dr.yml" >"$W/dr-gc.out" 2>"$W/dr-gc.err"
say "docker-registry garbage-collect: exit $?, $(awk -F': ' '/Elapsed \(wall/ { print $2 }' "$W/dr-gc.err") wall, max RSS $(awk -F': ' '/Maximum resident/ { print $2 }' "$W/dr-gc.err") KiB"
say "docker-registry: $(blobs "$W/dr-store") blob files left"
