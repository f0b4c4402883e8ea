#!/usr/bin/env bash
# bench/bench_gc.sh — issue 10: garbage collection on a generated store, beside
# docker-registry 2.8's `garbage-collect` on a copy of the same store (which needs the
# registry stopped), and manifest GETs served while regmaster's gc runs. Not a test;
# see bench/README.md.
#
# usage: bench/bench_gc.sh [--manifests N] [--rounds R] [--dir DIR] [--keep]
#   --manifests N  manifests (default 10000) in N/10 repositories, 9 layers each (10%
#                  from a pool of 500 shared layers), a third unreachable (genstore -u
#                  33: blobs and layer links without a revision link): about 100,000
#                  blobs at the default
#   --rounds R     rounds (default 3); medians are printed after every round's figures
#   --dir DIR      where the store is generated and kept for the next run (default
#                  $BENCH_DIR, else /var/tmp/regmaster-gcbench; 1.8 GiB at the default,
#                  three copies more a round until the end)
#   --keep         keep the copies, configs and logs under DIR
# environment: REGMASTER_BUILD (build tree, default the directory above this script),
#   REGMASTER_LIBEXECDIR (workers, default the build tree), DOCKER_REGISTRY,
#   WRK_C (wrk connections, default 64).
#
# A round (page cache warm: every copy was just written by cp, then synced), each on
# a fresh copy:
#   1. regmaster, gc.grace 0s: `regmaster gc` alone; its wall time (the CLI waits for
#      the run), gcd's and storaged's VmHWM, how long after the run storaged's
#      threads had freed what it swept (its log says), the blob files left.
#   2. regmaster on another copy: manifest GET req/s with wrk (2 threads, WRK_C
#      connections, one manifest by tag) for 5 s idle, then while `regmaster gc` runs
#      (wrk started just before it, stopped with SIGINT when it returns, so it covers
#      the whole run); gc's wall time under that load.
#   3. docker-registry garbage-collect, the registry stopped: wall time and peak RSS
#      (/usr/bin/time -v), the blob files left.
# The load average (uptime) before and after each round is printed: on a shared host,
# compare figures within a round.
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
export REGMASTER_LIBEXECDIR=${REGMASTER_LIBEXECDIR:-$BUILD}
DOCKER_REGISTRY=${DOCKER_REGISTRY:-docker-registry}
GENSTORE=$BUILD/bench/genstore
RM=$BUILD/master/regmaster
WRK_C=${WRK_C:-64}
MANIFESTS=10000 ROUNDS=3 DIR=${BENCH_DIR:-/var/tmp/regmaster-gcbench} KEEP=0

while [ $# -gt 0 ]; do
	case $1 in
	--manifests) MANIFESTS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--dir) DIR=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: $0 [--manifests N] [--rounds R] [--dir DIR] [--keep]" >&2
	   exit 2 ;;
	esac
done
for t in wrk /usr/bin/time "$DOCKER_REGISTRY" "$GENSTORE" "$RM"; do
	command -v "$t" >/dev/null || { echo "bench_gc: needs $t" >&2; exit 1; }
done

say() { printf '%s\n' "$*"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load() { uptime | sed 's/.*load average: //'; }
blobs() { find "$1/docker/registry/v2/blobs" -name data | wc -l; }
rate() { grep -o 'Requests/sec: *[0-9.]*' | tr -dc '0-9.'; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$@"; }
median() { python3 -c 'import sys, statistics as s; v=[float(x) for x in sys.argv[1:] if x]; print(f"{s.median(v):.2f}" if v else "-")' "$@"; }

STORE=$DIR/store-$MANIFESTS
if [ ! -d "$STORE/docker" ]; then
	mkdir -p "$STORE"
	"$GENSTORE" -r $((MANIFESTS / 10)) -m "$MANIFESTS" -l 9 -s 10 -p 500 -u 33 -S 1 \
		"$STORE" || exit 1
fi
W=$(mktemp -d "$DIR/run.XXXXXX")
RMCONF=
cleanup() {
	[ -n "$RMCONF" ] && "$RM" -c "$RMCONF" stop >/dev/null 2>&1
	[ "$KEEP" = 1 ] || rm -rf -- "$W"
}
trap cleanup EXIT

# A fresh copy of the store at $1; as deployed, storaged's (otherwise every
# sweep asks master to repair what is in the way: a round trip and a chown a blob).
copy() {
	rm -rf -- "$1" && mkdir "$1" && cp -a "$STORE/." "$1" || exit 1
	if [ "$(id -u)" = 0 ] && getent passwd regmaster-storaged >/dev/null; then
		chown -R regmaster-storaged: "$1"
	fi
}

# Start regmaster on store $1 (config in $1.conf) and wait for its index.
rm_start() {
	local p=$(port)
	mkdir -p "$1.run" "$1.auth"
	RMCONF=$1.conf
	cat >"$RMCONF" <<EOC
run_dir = "$1.run";
log_level = "info";
log_file = "$1.log";
http = { listen = [ "127.0.0.1:$p" ]; };
storage = { root = "$1"; delete = true; };
auth = { dir = "$1.auth"; };
workers = { tunneld = false; };
gc = { interval = "0s"; grace = "0s"; };
EOC
	"$RM" -c "$RMCONF" start >/dev/null || exit 1
	URL=http://127.0.0.1:$p/v2/$repo/manifests/$tag
	for _ in $(seq 1 600); do
		out=$("$RM" -c "$RMCONF" gc --dry-run 2>&1 | tail -1)
		case $out in *"would go"*) return ;; esac
		sleep 1
	done
	echo "bench_gc: regmaster never became ready: $out" >&2; exit 1
}
rm_stop() { "$RM" -c "$RMCONF" stop >/dev/null; RMCONF=; }
# freed_after LOG: the seconds after its end that storaged logged a run's sweep freed
# (waited for, 120 s at most).
freed_after() {
	local i
	for i in $(seq 1 1200); do
		grep -q 'what the run swept is freed' "$1" 2>/dev/null && break
		sleep 0.1
	done
	grep -o 'freed: .* s after it ended' "$1" | tail -1 | grep -o '[0-9.]* s after' | cut -d' ' -f1
}
hwm() {
	local pid
	pid=$(awk -v w="$1" '$1 == w { sub("pid=", "", $2); print $2 }' < <("$RM" -c "$RMCONF" status))
	awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null
}

# a tagged manifest of the generated store, to GET
repo=$(cd "$STORE/docker/registry/v2/repositories" &&
	find . -path '*/_manifests/tags/*/current/link' | head -1)
tag=${repo%/current/link}; tag=${tag##*/}
repo=${repo#./}; repo=${repo%%/_manifests/*}
ACC='Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
say "store: $MANIFESTS manifests, $(blobs "$STORE") blobs (a third of the images unreachable)"

declare -a A_S B_S DR_S IDLE DURING PCT HWM DRRSS FREED
for r in $(seq 1 "$ROUNDS"); do
	# fresh names each round, all removed at exit: removing the last round's
	# copies first made the next round's runs (both gcs) 1.3 to 3 times slower
	copy "$W/a$r"; copy "$W/b$r"; copy "$W/dr$r"
	# the copies' 5 GiB of dirty pages written back now, not during a run
	sync
	l0=$(load)
	# 1. gc alone
	rm_start "$W/a$r"
	t0=$(date +%s.%N); sum=$("$RM" -c "$RMCONF" gc 2>&1 | tail -1); t1=$(date +%s.%N)
	A_S[r]=$(secs "$t0" "$t1"); HWM[r]=$(hwm gcd); sdhwm=$(hwm storaged)
	FREED[r]=$(freed_after "$W/a$r.log")
	rm_stop
	say "round $r: regmaster gc alone: ${A_S[r]} s, its sweep freed ${FREED[r]:-?} s after; gcd VmHWM ${HWM[r]} MiB, storaged $sdhwm MiB; $(blobs "$W/a$r") blob files left; $sum"
	# 2. gc while wrk GETs a manifest
	rm_start "$W/b$r"
	IDLE[r]=$(wrk -t2 -c"$WRK_C" -d5s -H "$ACC" "$URL" | rate)
	wrk -t2 -c"$WRK_C" -d300s -H "$ACC" "$URL" >"$W/wrk-gc.out" &
	wpid=$!
	sleep 0.2
	t0=$(date +%s.%N); sum=$("$RM" -c "$RMCONF" gc 2>&1 | tail -1); t1=$(date +%s.%N)
	kill -INT "$wpid"; wait "$wpid"
	B_S[r]=$(secs "$t0" "$t1"); DURING[r]=$(rate <"$W/wrk-gc.out")
	PCT[r]=$(python3 -c "print(f'{100 * ${DURING[r]:-0} / ${IDLE[r]:-1}:.0f}')")
	rm_stop
	say "round $r: manifest GET req/s idle ${IDLE[r]}, during gc ${DURING[r]} (${PCT[r]}%); gc under that load ${B_S[r]} s; $sum"
	# 3. docker-registry garbage-collect, registry stopped
	cat >"$W/dr.yml" <<EOC
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $W/dr$r
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$(port)
EOC
	/usr/bin/time -v "$DOCKER_REGISTRY" garbage-collect "$W/dr.yml" >"$W/dr-gc.out" 2>"$W/dr-gc.err"
	rc=$?
	DR_S[r]=$(awk -F': ' '/Elapsed \(wall/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s }' "$W/dr-gc.err")
	DRRSS[r]=$(awk -F': ' '/Maximum resident/ { printf "%.1f", $2 / 1024 }' "$W/dr-gc.err")
	say "round $r: docker-registry garbage-collect: exit $rc, ${DR_S[r]} s, max RSS ${DRRSS[r]} MiB; $(blobs "$W/dr$r") blob files left"
	say "round $r: load average before $l0, after $(load)"
done
ma=$(median "${A_S[@]}") mdr=$(median "${DR_S[@]}")
say "medians of $ROUNDS: regmaster gc alone $ma s (its sweep freed $(median "${FREED[@]}") s after), docker-registry $mdr s ($(python3 -c "print(f'{$mdr / $ma:.1f}')")x);" \
	"gc under GET load $(median "${B_S[@]}") s; GET req/s idle $(median "${IDLE[@]}"), during gc $(median "${DURING[@]}") ($(median "${PCT[@]}")% of idle);" \
	"gcd VmHWM $(median "${HWM[@]}") MiB, docker-registry max RSS $(median "${DRRSS[@]}") MiB"
