#!/usr/bin/env bash
# bench/bench_metrics.sh — what counting costs: manifest GET req/s of two
# regmaster instances from the same build in the same run, one with
# metrics.listen (httpd counts every request, and a scraper fetches /metrics
# every second during its rounds, as Prometheus would) and one without (empty
# metrics.listen: no listener, no counting).  Not a test; see bench/README.md.
#
# usage: bench/bench_metrics.sh [ROUNDS [SECONDS]]   (default 7 rounds of 5 s)
#
# Rounds alternate which instance goes first; the medians are compared, and
# the median of each round's on/off ratio.
# Environment: REGMASTER_BUILD (build tree, default .. of this script),
# BENCH_TMPDIR (where the work dir goes).  Everything listens on 127.0.0.1;
# every process started here is stopped by PID from the EXIT trap.

set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
ROUNDS=${1:-7}
SECS=${2:-5}
MT=application/vnd.oci.image.manifest.v1+json

for t in wrk curl python3 sha256sum timeout awk; do
	command -v $t >/dev/null || { echo "bench_metrics.sh: missing tool: $t" >&2; exit 1; }
done
[ -x "$BUILD/master/regmaster" ] || { echo "bench_metrics.sh: $BUILD/master/regmaster not built" >&2; exit 1; }

W=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/regmaster-bench-metrics.XXXXXX")
chmod 755 "$W"
PIDS=() SCRAPER=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
rm_ctl() { # name args...
	local n=$1
	shift
	REGMASTER_LIBEXECDIR=$BUILD timeout 30 "$BUILD/master/regmaster" -c "$W/$n/regmaster.conf" "$@"
}
stop_pid() {
	local p=$1 i
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
}
cleanup() {
	local rc=$? n i=0
	trap - EXIT INT TERM
	[ -n "$SCRAPER" ] && stop_pid "$SCRAPER"
	for n in on off; do
		if [ -n "${PIDS[$i]:-}" ]; then
			rm_ctl "$n" stop >/dev/null 2>&1
			stop_pid "${PIDS[$i]}"
		fi
		i=$((i + 1))
	done
	rm -rf "$W"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start NAME METRICS_LISTEN: an instance; prints its HTTP port.
start() {
	local port
	port=$(free_port)
	mkdir -p "$W/$1"
	cat >"$W/$1/regmaster.conf" <<EOF
run_dir = "$W/$1/run";
http = { listen = [ "127.0.0.1:$port" ]; };
metrics = { listen = [ $2 ]; };
storage = { root = "$W/$1/store"; };
auth = { dir = "$W/$1/auth"; };
EOF
	rm_ctl "$1" start >"$W/$1/start.log" 2>&1 || { cat "$W/$1/start.log" >&2; exit 1; }
	for _ in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/v2/" && break
		sleep 0.1
	done
	printf '%s\n' "$port"
}

# push PORT: a config blob and a manifest tagged v1.
push() {
	local u=http://127.0.0.1:$1 d
	printf '{}' >"$W/cfg"
	d=sha256:$(sha256sum "$W/cfg" | cut -d' ' -f1)
	curl -sf -o /dev/null -X POST --data-binary "@$W/cfg" "$u/v2/bench/m/blobs/uploads/?digest=$d" || exit 1
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[]}' \
		"$MT" "$d" >"$W/man"
	curl -sf -o /dev/null -X PUT -H "Content-Type: $MT" --data-binary "@$W/man" "$u/v2/bench/m/manifests/v1" || exit 1
}

# cpu_ticks PID: user + system clock ticks the process used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# httpd_pid NAME: the instance's httpd.
httpd_pid() { rm_ctl "$1" status | awk '$1 == "httpd" { sub(/^pid=/, "", $2); print $2 }'; }

# rps PORT HTTPD_PID: one wrk round of manifest GETs; prints req/s and httpd's
# CPU microseconds per request (fails on errors).
rps() {
	local out t0 t1
	t0=$(cpu_ticks "$2")
	out=$(timeout $((SECS + 30)) wrk -t2 -c64 -d"${SECS}s" -H "Accept: $MT" \
		"http://127.0.0.1:$1/v2/bench/m/manifests/v1" 2>&1)
	t1=$(cpu_ticks "$2")
	if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
		log "wrk errors: $out"
		exit 1
	fi
	awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" '
		/^Requests\/sec:/ { r = $2 } / requests in / { n = $1 }
		END { printf "%s %.3f\n", r, t / hz * 1e6 / n }' <<<"$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

MPORT=$(free_port)
ON=$(start on "\"127.0.0.1:$MPORT\"")
PIDS[0]=$(cat "$W/on/run/regmaster.pid")
OFF=$(start off "")
PIDS[1]=$(cat "$W/off/run/regmaster.pid")
push "$ON"
push "$OFF"
HON=$(httpd_pid on)
HOFF=$(httpd_pid off)
curl -sf -o /dev/null "http://127.0.0.1:$MPORT/metrics" || { log "no metrics on :$MPORT"; exit 1; }
log "on: :$ON (metrics :$MPORT), off: :$OFF; $ROUNDS rounds of ${SECS}s, wrk -t2 -c64"

# A scrape a second on the "on" instance, all along (Prometheus' load).
( while :; do curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$MPORT/metrics"; sleep 1; done ) &
SCRAPER=$!

: >"$W/on.rps"
: >"$W/off.rps"
: >"$W/on.cpu"
: >"$W/off.cpu"
for ((r = 1; r <= ROUNDS; r++)); do
	if [ $((r % 2)) = 1 ]; then order="on off"; else order="off on"; fi
	for n in $order; do
		if [ "$n" = on ]; then v=$(rps "$ON" "$HON"); else v=$(rps "$OFF" "$HOFF"); fi
		echo "${v% *}" >>"$W/$n.rps"
		echo "${v#* }" >>"$W/$n.cpu"
		log "round $r $n: ${v% *} req/s, httpd ${v#* } us CPU a request"
	done
done
stop_pid "$SCRAPER"
SCRAPER=""
curl -s "http://127.0.0.1:$MPORT/metrics" >"$W/page"
counted=$(awk '/^registry_http_requests_total\{method="GET",route="manifest",code="2xx"\}/ { print $2 }' "$W/page")
mon=$(median <"$W/on.rps")
moff=$(median <"$W/off.rps")
printf 'manifest GET req/s, median of %d rounds of %ds (wrk -t2 -c64):\n' "$ROUNDS" "$SECS"
printf '  metrics on  (counting, scraped every 1 s): %s   [%s]\n' "$mon" "$(tr '\n' ' ' <"$W/on.rps")"
printf '  metrics off (no listener, no counting):    %s   [%s]\n' "$moff" "$(tr '\n' ' ' <"$W/off.rps")"
awk -v a="$mon" -v b="$moff" 'BEGIN { printf "  on/off of the medians: %.3f (%+.1f%%)\n", a / b, (a / b - 1) * 100 }'
# Each round's pair ran back to back: their ratio is less exposed to what
# else the machine does than the medians are.
mratio=$(paste "$W/on.rps" "$W/off.rps" | awk '{ printf "%.4f\n", $1 / $2 }' | median)
awk -v r="$mratio" 'BEGIN { printf "  median of the rounds\047 on/off ratios: %.3f (%+.1f%%)\n", r, (r - 1) * 100 }'
con=$(median <"$W/on.cpu")
coff=$(median <"$W/off.cpu")
printf 'httpd CPU time a request (us, median; less exposed to the machine'"'"'s load):\n'
printf '  on %s  off %s' "$con" "$coff"
awk -v a="$con" -v b="$coff" 'BEGIN { printf "  on/off %.3f (%+.1f%%)\n", a / b, (a / b - 1) * 100 }'
printf '  the on instance counted %s manifest GETs\n' "${counted:-none}"
