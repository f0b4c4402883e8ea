#!/usr/bin/env bash
# bench/bench_cache.sh — issue 11: pulling a 1 GiB image (4 layers of 256 MiB) that
# an upstream regmaster holds, on this machine: directly from the upstream, through
# Debian's docker-registry in proxy mode (`proxy: remoteurl:`), and through the
# regmaster cache (cache.upstreams), cold (an empty cache store each round) and warm
# (the same pull again).  Not a test; see bench/README.md.
#
# usage: bench/bench_cache.sh [--rounds N] [--mib M] [--dir DIR] [--keep]
#   --rounds N  pulls of each kind (default 3); medians are printed
#   --mib M     MiB per layer (default 256; 4 layers)
#   --dir DIR   work directory (default $BENCH_DIR, else /var/tmp/regmaster-cachebench)
#   --keep      keep the stores, configs and logs
# environment: REGMASTER_BUILD (build tree, default the directory above this script),
#   REGMASTER_LIBEXECDIR (workers, default the build tree), DOCKER_REGISTRY.
#
# A pull is what a client does, with curl over loopback: GET the manifest, then each
# blob (config, layers) in turn, bodies thrown away.  Time to first byte: from the
# start of the pull to the first byte of the first layer; total: the whole pull.
# The upstream's layers are in the page cache (just pushed): a direct pull reads no
# disk, while a cold pull through either cache writes the whole image; the row with
# storage.fsync = false shows what the cache's fsync at each layer's commit costs.
# For each cold pull, the CPU seconds (user + system) the cache spent: every worker
# of the fresh regmaster cache, or the fresh docker-registry process, read from
# /proc when the pull ended (their start-up is included: a few ms). A cold pull
# costs the machine more than a direct one (it copies, hashes and writes every
# byte), and on shared cores that CPU is what other load takes from it.
# Layers are random and uncompressed (application/vnd.oci.image.layer.v1.tar): no
# gzip time in the figures, and nothing a transport could compress.
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
export REGMASTER_LIBEXECDIR=${REGMASTER_LIBEXECDIR:-$BUILD}
DOCKER_REGISTRY=${DOCKER_REGISTRY:-docker-registry}
RM=$BUILD/master/regmaster
ROUNDS=3 MIB=256 DIR=${BENCH_DIR:-/var/tmp/regmaster-cachebench} KEEP=0
NLAYERS=4
REPO=bench/big

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--mib) MIB=$2; shift 2 ;;
	--dir) DIR=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: $0 [--rounds N] [--mib M] [--dir DIR] [--keep]" >&2; exit 2 ;;
	esac
done
for t in curl skopeo python3 sha256sum "$DOCKER_REGISTRY" "$RM"; do
	command -v "$t" >/dev/null || { echo "bench_cache: needs $t" >&2; exit 1; }
done

say() { printf '%s\n' "$*"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

mkdir -p "$DIR"
W=$(mktemp -d "$DIR/run.XXXXXX")
DR_PID=""
cleanup() {
	local c
	for c in "$W"/*.conf; do
		[ -f "$c" ] && "$RM" -c "$c" stop >/dev/null 2>&1
	done
	[ -n "$DR_PID" ] && kill "$DR_PID" 2>/dev/null && wait "$DR_PID" 2>/dev/null
	[ "$KEEP" = 1 ] || rm -rf -- "$W"
}
trap cleanup EXIT

# ---- the image: an OCI layout of NLAYERS random layers
mklayout() {
	local L=$W/layout h ids="" layers="" cfg
	mkdir -p "$L/blobs/sha256"
	for _ in $(seq 1 "$NLAYERS"); do
		head -c "$((MIB * 1024 * 1024))" /dev/urandom >"$L/layer"
		h=$(sha256sum "$L/layer" | cut -d' ' -f1)
		mv "$L/layer" "$L/blobs/sha256/$h"
		ids="$ids${ids:+,}\"sha256:$h\""
		layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$h\",\"size\":$((MIB * 1024 * 1024))}"
	done
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%s]},"config":{}}' \
		"$ids" >"$L/cfg"
	cfg=$(sha256sum "$L/cfg" | cut -d' ' -f1)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
		"$cfg" "$(stat -c %s "$L/cfg")" "$layers" >"$L/man"
	mv "$L/cfg" "$L/blobs/sha256/$cfg"
	MAN=$(sha256sum "$L/man" | cut -d' ' -f1)
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
		"$MAN" "$(stat -c %s "$L/man")" >"$L/index.json"
	mv "$L/man" "$L/blobs/sha256/$MAN"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
}

# rm_start NAME EXTRA [STORAGE]: a regmaster with its own store on a free port (STORAGE:
# more storage keys); its URL in URL.
rm_start() {
	local p
	p=$(port)
	mkdir -p "$W/$1-run" "$W/$1-auth" "$W/$1-store"
	cat >"$W/$1.conf" <<EOF
run_dir = "$W/$1-run";
log_level = "info";
log_file = "$W/$1.log";
http = { listen = [ "127.0.0.1:$p" ]; };
metrics = { listen = [ "127.0.0.1:$(port)" ]; };
storage = { root = "$W/$1-store"; delete = true; ${3:-} };
auth = { dir = "$W/$1-auth"; };
workers = { tunneld = false; };
gc = { interval = "0s"; };
$2
EOF
	"$RM" -c "$W/$1.conf" start >"$W/$1.start" 2>&1 || { cat "$W/$1.start" >&2; return 1; }
	URL=http://127.0.0.1:$p
	for _ in $(seq 1 100); do
		curl -sf -o /dev/null "$URL/v2/" && return 0
		sleep 0.1
	done
	echo "bench_cache: $1 does not answer /v2/" >&2
	return 1
}
rm_stop() { "$RM" -c "$W/$1.conf" stop >/dev/null 2>&1; rm -f "$W/$1.conf"; }

# dr_proxy_start UPSTREAM: docker-registry in proxy mode, a fresh store; URL in URL.
dr_proxy_start() {
	local p
	p=$(port)
	rm -rf "$W/dr-store"
	mkdir -p "$W/dr-store"
	cat >"$W/dr.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $W/dr-store
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$p
proxy:
  remoteurl: $1
EOF
	"$DOCKER_REGISTRY" serve "$W/dr.yml" >"$W/dr.log" 2>&1 </dev/null &
	DR_PID=$!
	URL=http://127.0.0.1:$p
	for _ in $(seq 1 100); do
		curl -sf -o /dev/null "$URL/v2/" && return 0
		sleep 0.1
	done
	echo "bench_cache: docker-registry does not answer /v2/" >&2
	return 1
}
dr_proxy_stop() { kill "$DR_PID" 2>/dev/null; wait "$DR_PID" 2>/dev/null; DR_PID=""; }

TCK=$(getconf CLK_TCK)
# cpu_of PID...: user + system CPU seconds those processes used so far.
cpu_of() {
	local p
	for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
		awk -v t="$TCK" '{ s += $14 + $15 } END { printf "%.2f\n", s / t }'
}
# rm_cpu NAME: the CPU seconds of regmaster instance NAME's workers and master.
rm_cpu() {
	local m
	m=$(cat "$W/$1-run/regmaster.pid" 2>/dev/null) || { echo 0; return; }
	# shellcheck disable=SC2046 # the PIDs are words
	cpu_of "$m" $(pgrep -P "$m")
}

ACC='Accept: application/vnd.oci.image.manifest.v1+json'
# pull BASE NAME: one pull; prints "TTFB TOTAL" in seconds, or fails.
pull() {
	local t0 tb first="" b out code st size
	t0=$(date +%s.%N)
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 600 -H "$ACC" \
		"$1/v2/$2/manifests/v1") || return 1
	[ "$code" = 200 ] || { echo "manifest: $code" >&2; return 1; }
	for b in $BLOBS; do
		tb=$(date +%s.%N)
		out=$(curl -s -L -o /dev/null -w '%{http_code} %{time_starttransfer} %{size_download}' \
			--max-time 600 "$1/v2/$2/blobs/$b") || return 1
		read -r code st size <<<"$out"
		[ "$code" = 200 ] || { echo "blob $b: $code" >&2; return 1; }
		# the first layer (the config is small): its first byte
		[ -z "$first" ] && [ "$size" -gt 1048576 ] &&
			first=$(awk -v a="$tb" -v b="$t0" -v c="$st" 'BEGIN { printf "%.3f", a - b + c }')
	done
	awk -v f="$first" -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%s %.3f\n", f, a - b }'
}

# row LABEL FILE: the medians of FILE's "TTFB TOTAL" lines.
row() {
	local n ttfb total
	n=$(wc -l <"$2")
	if [ "$n" = 0 ]; then
		printf '%-34s %s\n' "$1" "no pull succeeded"
		return
	fi
	ttfb=$(cut -d' ' -f1 "$2" | median)
	total=$(cut -d' ' -f2 "$2" | median)
	printf '%-34s ttfb %7.3f s  total %7.3f s  %6.0f MiB/s  (%d rounds: %s)\n' "$1" \
		"$ttfb" "$total" "$(python3 -c "print($NLAYERS * $MIB / $total)")" "$n" \
		"$(cut -d' ' -f2 "$2" | tr '\n' ' ' | sed 's/ $//')"
	[ -s "$2.cpu" ] && printf '%-34s cache CPU %5.2f s (median; rounds: %s)\n' "" \
		"$(median <"$2.cpu")" "$(tr '\n' ' ' <"$2.cpu" | sed 's/ $//')"
	return 0
}

# rounds LABEL FILE CMD...: run CMD (which prints one pull's figures) ROUNDS times.
rounds() {
	local label=$1 file=$2 r
	shift 2
	: >"$file"
	for r in $(seq 1 "$ROUNDS"); do
		"$@" >>"$file" 2>>"$W/errors" || say "  $label round $r failed: $(tail -1 "$W/errors")"
	done
}

say "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "image: $NLAYERS layers of $MIB MiB ($((NLAYERS * MIB)) MiB), $ROUNDS rounds each, curl over loopback"
mklayout
rm_start up "" || exit 1
UP=$URL
skopeo copy -q --dest-tls-verify=false "oci:$W/layout:v1" "docker://${UP#http://}/$REPO:v1" ||
	{ echo "bench_cache: push to the upstream failed" >&2; exit 1; }
rm -rf "$W/layout"
# what the upstream serves (skopeo may have rewritten the config): config, layers
BLOBS=$(curl -s -H "$ACC" "$UP/v2/$REPO/manifests/v1" |
	python3 -c 'import json,sys; m=json.load(sys.stdin); print(" ".join([m["config"]["digest"]] + [l["digest"] for l in m["layers"]]))') ||
	{ echo "bench_cache: the upstream's manifest" >&2; exit 1; }

# direct: a local pull from the upstream regmaster
rounds direct "$W/direct" pull "$UP" "$REPO"

# docker-registry proxy: a fresh store each cold round
dr_cold() {
	dr_proxy_start "$UP" >&2 && pull "$URL" "$REPO"
	local r=$?
	[ "$r" = 0 ] && cpu_of "$DR_PID" >>"$W/dr-cold.cpu"
	dr_proxy_stop
	return $r
}
: >"$W/dr-cold.cpu"
rounds dr-cold "$W/dr-cold" dr_cold
dr_proxy_start "$UP" && pull "$URL" "$REPO" >/dev/null
rounds dr-warm "$W/dr-warm" pull "$URL" "$REPO"
dr_proxy_stop

# the regmaster cache: a fresh store each cold round
CACHE_CONF="cache = { upstreams = ( { prefix = \"up/\"; url = \"$UP\"; ttl = \"1h\"; } ); };"
cache=""
if rm_start cache "$CACHE_CONF" 2>"$W/cache.err"; then
	if ! why=$(pull "$URL" "up/$REPO" 2>&1 >/dev/null); then
		cache="not available (a pull through it fails: ${why:-no answer})"
	fi
	rm_stop cache
else
	cache="not available ($(tail -1 "$W/cache.err"))"
fi
# rm_cold CPUFILE [STORAGE]: one cold pull through a fresh cache; its CPU to CPUFILE
rm_cold() {
	rm -rf "$W/cache-store" "$W/cache-run"
	rm_start cache "$CACHE_CONF" "${2:-}" >&2 && pull "$URL" "up/$REPO"
	local r=$?
	[ "$r" = 0 ] && rm_cpu cache >>"$1"
	rm_stop cache
	return $r
}
if [ -z "$cache" ]; then
	: >"$W/rm-cold.cpu"
	: >"$W/rm-cold-nofsync.cpu"
	rounds rm-cold "$W/rm-cold" rm_cold "$W/rm-cold.cpu"
	rounds rm-cold-nofsync "$W/rm-cold-nofsync" rm_cold "$W/rm-cold-nofsync.cpu" "fsync = false;"
	rm -rf "$W/cache-store" "$W/cache-run"
	rm_start cache "$CACHE_CONF" && pull "$URL" "up/$REPO" >/dev/null
	rounds rm-warm "$W/rm-warm" pull "$URL" "up/$REPO"
	rm_stop cache
fi

say ""
row "direct from the upstream" "$W/direct"
row "docker-registry proxy, cold" "$W/dr-cold"
row "docker-registry proxy, warm" "$W/dr-warm"
if [ -z "$cache" ]; then
	row "regmaster cache, cold" "$W/rm-cold"
	row "  the same, storage.fsync = false" "$W/rm-cold-nofsync"
	row "regmaster cache, warm" "$W/rm-warm"
else
	say "cache: $cache"
fi
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
