#!/usr/bin/env bash
# bench/bench_bigstore.sh — issue 8: a big store, side by side with docker-registry 2.8 on
# the very same store (written by bench/genstore). Not a test; see bench/README.md.
#
# usage: bench/bench_bigstore.sh [--size N] [--rounds N] [--dir DIR] [--no-cold]
#                                [--no-warm] [--only rm|dr] [--walk-limit S] [--keep]
#   --size N    manifests (default 20000; the issue's sizes are 20000 and 200000), in
#               N/2 repositories, plus bench/manytags with 1,000 tags
#   --rounds N  rounds per cache state; medians are reported (default 3)
#   --dir DIR   where stores are generated and kept for the next run (default
#               $BENCH_DIR, else /var/tmp/regmaster-bigstore): about 92 KiB and
#               23 inodes a manifest, i.e. 1.8 GiB at 20000, 18 GiB at 200000
#   --no-cold / --no-warm   skip that cache state
#   --only S    run one server only (rm: regmaster, dr: docker-registry)
#   --walk-limit S  seconds one catalog walk may take (default 300): docker-registry
#               walks its tree again for every page, so at 200,000 manifests an n=100
#               walk is quadratic; a walk cut there is reported as "> S s", not a failure
#   --keep      keep the work dir (configs and logs) under DIR
# environment: REGMASTER_BUILD (build tree, default the directory above this script),
#   REGMASTER_LIBEXECDIR (workers, default the build tree), DOCKER_REGISTRY.
#
# Each round, for each server in turn (regmaster, then docker-registry), "cold" first
# drops the page cache before every step (as root: sync; echo 3 > drop_caches; as a
# user only the store's files are evicted, with genstore -x), "warm" runs after every
# file of the store was read once:
#   start     from `regmaster start` (or spawning docker-registry) to the first GET of
#             a manifest by tag answering 200 with the generated digest's bytes;
#             regmaster's start verb's own return time is a row of its own
#   kill -9   from kill -9 of storaged (docker-registry: of the process, respawned at
#             once) to the next correct GET of another manifest
#   catalog   a full paginated _catalog walk at n=100 and n=1000 (keep-alive client),
#             checked against the generated repository list
#   tags/list one GET of bench/manytags's 1,000 tags, checked
#   build     regmaster: the respawned storaged's background index build, as its
#             "index: built" log line gives it; VmHWM and VmRSS are read after it
#   VmHWM     peak RSS of storaged (the one respawned after kill -9: it built its
#             index and served the walks) and of docker-registry, at the round's end;
#             VmRSS the same processes' resident set then
# Every server is started by this script on a free 127.0.0.1 port and stopped by its
# PID (regmaster by its own stop verb first); every wait is bounded.

set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
export REGMASTER_LIBEXECDIR=${REGMASTER_LIBEXECDIR:-$BUILD}
DOCKER_REGISTRY=${DOCKER_REGISTRY:-docker-registry}
GENSTORE=$BUILD/bench/genstore
SIZE=20000 ROUNDS=3 DIR=${BENCH_DIR:-/var/tmp/regmaster-bigstore}
STATES="cold warm" SERVERS="rm dr" KEEP=0
WAIT_S=900          # longest any start or recovery may take before it counts as failed
WALK_S=300          # longest a catalog walk may take (--walk-limit)
SEED=8 MANYTAGS=1000
while [ $# -gt 0 ]; do
	case $1 in
	--size) SIZE=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--dir) DIR=$2; shift ;;
	--no-cold) STATES=${STATES/cold/} ;;
	--no-warm) STATES=${STATES/warm/} ;;
	--only) SERVERS=$2; shift ;;
	--walk-limit) WALK_S=$2; shift ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '2,37p' "$0"; exit 0 ;;
	*) echo "bench_bigstore.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
case $SIZE$ROUNDS$WALK_S in *[!0-9]*|'') echo "bench_bigstore.sh: --size, --rounds and --walk-limit take numbers" >&2; exit 2 ;; esac
case $SERVERS in rm|dr|"rm dr") ;; *) echo "bench_bigstore.sh: --only rm or dr" >&2; exit 2 ;; esac
REPOS=$((SIZE / 2))
[ "$REPOS" -ge 1 ] || REPOS=1
ROOT=0
[ "$(id -u)" = 0 ] && ROOT=1

for t in curl python3 sha256sum timeout awk "$DOCKER_REGISTRY"; do
	command -v "$t" >/dev/null || { echo "bench_bigstore.sh: missing tool: $t" >&2; exit 1; }
done
if [ ! -x "$BUILD/master/regmaster" ] || [ ! -x "$GENSTORE" ]; then
	echo "bench_bigstore.sh: build first (make): master/regmaster, bench/genstore" >&2
	exit 1
fi

mkdir -p "$DIR" && chmod 755 "$DIR" || exit 1
W=$(mktemp -d "$DIR/run.XXXXXX") || exit 1
chmod 755 "$W"
STORE=$DIR/store-$SIZE
EXPECT=$STORE.expect
RM_CONF=$W/regmaster.conf DR_CONF=$W/docker-registry.yml
RM_PID="" DR_PID=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { echo "$*" >>"$W/fails"; log "FAIL: $*"; }
now_ms() { local t=${EPOCHREALTIME/,/.}; echo $(( ${t%.*} * 1000 + 10#$(printf '%.3s' "${t#*.}") )); }
rm_ctl() { timeout "$WAIT_S" "$BUILD/master/regmaster" -c "$RM_CONF" "$@"; }

dr_is_ours() {
	[ -n "$DR_PID" ] && tr '\0' ' ' 2>/dev/null <"/proc/$DR_PID/cmdline" | grep -q "docker-registry serve $DR_CONF"
}
dr_stop() {
	local i
	dr_is_ours || { DR_PID=""; return 0; }
	kill -TERM "$DR_PID"
	for i in $(seq 100); do dr_is_ours || break; sleep 0.1; done
	dr_is_ours && kill -KILL "$DR_PID"
	wait "$DR_PID" 2>/dev/null
	DR_PID=""
}
rm_stop() {
	local i
	[ -n "$RM_PID" ] || return 0
	rm_ctl stop >>"$W/regmaster.out" 2>&1
	for i in $(seq 100); do kill -0 "$RM_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$RM_PID" 2>/dev/null && grep -q '^regmaster' "/proc/$RM_PID/cmdline" 2>/dev/null &&
		kill -TERM "$RM_PID"
	RM_PID=""
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	rm_stop
	dr_stop
	if [ "$KEEP" = 1 ]; then log "work dir kept: $W"; else rm -rf "$W"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- the store
# Reused when the last run made it with the same generator options; the stamp is
# written last, so a generation cut short is redone.
GEN_ARGS=(-r "$REPOS" -m "$SIZE" -T "$MANYTAGS" -S "$SEED")
if [ "$(cat "$STORE.stamp" 2>/dev/null)" != "${GEN_ARGS[*]}" ]; then
	log "generating $STORE: genstore ${GEN_ARGS[*]}"
	rm -rf "$STORE" "$STORE.stamp" && mkdir -p "$STORE" || exit 1
	t0=$(now_ms)
	timeout 3600 "$GENSTORE" "${GEN_ARGS[@]}" -e "$EXPECT" "$STORE" || { echo "bench_bigstore.sh: genstore failed" >&2; exit 1; }
	sync
	log "generated in $(( $(now_ms) - t0 )) ms (with sync)"
	echo "${GEN_ARGS[*]}" >"$STORE.stamp"
else
	log "reusing $STORE (${GEN_ARGS[*]})"
fi
chmod 755 "$STORE"
# Two sample tags from the middle and the first third, and the lists to check.
read -r S1_REPO S1_TAG S1_DG _ < <(awk -v n=$((SIZE / 2)) '$1 == "tag" && ++c == n { print $2, $3, $4 }' "$EXPECT")
read -r S2_REPO S2_TAG S2_DG _ < <(awk -v n=$((SIZE / 3 + 1)) '$1 == "tag" && ++c == n { print $2, $3, $4 }' "$EXPECT")
awk '$1 == "repo" { print $2 }' "$EXPECT" | LC_ALL=C sort >"$W/want.repos"
awk -v r=bench/manytags '$1 == "tag" && $2 == r { print $3 }' "$EXPECT" | LC_ALL=C sort >"$W/want.tags"

RM_PORT=$(free_port) DR_PORT=$(free_port)
while [ "$DR_PORT" = "$RM_PORT" ]; do DR_PORT=$(free_port); done
declare -A PORT=([rm]=$RM_PORT [dr]=$DR_PORT)
mkdir -p "$W/run" "$W/auth"
cat >"$RM_CONF" <<EOF
run_dir = "$W/run";
log_file = "$W/regmaster.log";
http = { listen = [ "127.0.0.1:$RM_PORT" ]; };
storage = { root = "$STORE"; };
auth = { dir = "$W/auth"; };
EOF
cat >"$DR_CONF" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STORE
  maintenance:
    uploadpurging:
      enabled: false
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$DR_PORT
EOF

# ---------------------------------------------------------------- steps
ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'

# drop STATE: in the cold state, nothing of the store left in memory.
drop() {
	[ "$1" = cold ] || return 0
	if [ $ROOT = 1 ]; then
		sync && echo 3 >/proc/sys/vm/drop_caches
	else
		"$GENSTORE" -q -x "$STORE"
	fi
}

# first_ok SERVER T0 REPO TAG DIGEST: poll every 20 ms (bounded by WAIT_S) until GET
# of the manifest gives DIGEST's bytes; prints the ms since T0, or n/a.
first_ok() {
	local s=$1 t0=$2 end code
	end=$(( t0 + WAIT_S * 1000 ))
	while [ "$(now_ms)" -lt "$end" ]; do
		code=$(curl -s --max-time "$WAIT_S" -o "$W/man" -w '%{http_code}' -H "Accept: $ACCEPT" \
			"http://127.0.0.1:${PORT[$s]}/v2/$3/manifests/$4")
		if [ "$code" = 200 ] && [ "sha256:$(sha256sum <"$W/man" | cut -d' ' -f1)" = "$5" ]; then
			echo $(( $(now_ms) - t0 ))
			return 0
		fi
		sleep 0.02
	done
	fail "[$s] no correct GET of $3:$4 within $WAIT_S s (last status $code)"
	echo n/a
}

dr_spawn() {
	"$DOCKER_REGISTRY" serve "$DR_CONF" >>"$W/docker-registry.log" 2>&1 </dev/null &
	DR_PID=$!
}

# start SERVER STATE: start it; sets R[start.*] (and R[startret.rm]).
start_server() {
	local t0 t1
	drop "$2"
	t0=$(now_ms)
	if [ "$1" = rm ]; then
		rm_ctl start >>"$W/regmaster.out" 2>&1 || fail "[rm] regmaster start failed"
		t1=$(now_ms)
		RM_PID=$(cat "$W/run/regmaster.pid" 2>/dev/null)
		add startret rm "$2" $((t1 - t0))
	else
		dr_spawn
	fi
	add start "$1" "$2" "$(first_ok "$1" "$t0" "$S1_REPO" "$S1_TAG" "$S1_DG")"
}

# kill_server SERVER STATE: kill -9 storaged (or docker-registry, respawned at once).
kill_server() {
	local pid t0
	if [ "$1" = rm ]; then
		pid=$(rm_ctl status 2>/dev/null | awk '$1 == "storaged" { sub(/^pid=/, "", $2); print $2 }')
		[ -n "$pid" ] || { fail "[rm] no storaged pid in status"; return; }
	fi
	drop "$2"
	t0=$(now_ms)
	if [ "$1" = rm ]; then
		kill -KILL "$pid"
	else
		kill -KILL "$DR_PID"
		wait "$DR_PID" 2>/dev/null
		dr_spawn
	fi
	add kill "$1" "$2" "$(first_ok "$1" "$t0" "$S2_REPO" "$S2_TAG" "$S2_DG")"
}

# A keep-alive client for the walks: one connection, every page, the names to a file.
walk_py='
import http.client, json, re, sys, time
port, what, n, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
path = "/v2/_catalog?n=" + n if what == "catalog" else "/v2/" + what + "/tags/list"
key = "repositories" if what == "catalog" else "tags"
names, pages, t0 = [], 0, time.monotonic()
while path and pages < 1000000:
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("status %d on %s" % (r.status, path))
    names += json.loads(body)[key] or []
    pages += 1
    m = re.match(r"<([^>]*)>;\s*rel=\"next\"", r.getheader("Link") or "")
    path = re.sub(r"^https?://[^/]*", "", m.group(1)) if m else None
dt = time.monotonic() - t0
open(out, "w").write("".join(x + "\n" for x in names))
print("%d %d %d" % (dt * 1000, pages, len(names)))
'

# walk SERVER STATE KEY WHAT N WANT: time a walk (catalog or a tags/list) and check its
# names against WANT: in order for regmaster, as a set for docker-registry.
walk() {
	local s=$1 out ms pages count rc got=$W/got
	drop "$2"
	out=$(timeout "$WALK_S" python3 -c "$walk_py" "${PORT[$s]}" "$4" "$5" "$got" 2>&1)
	rc=$?
	if [ $rc = 124 ]; then
		echo "[$s] $3 ($2): cut at $WALK_S s" >>"$W/limits"
		add "$3" "$s" "$2" ">$((WALK_S * 1000))"
		return
	elif [ $rc != 0 ]; then
		fail "[$s] $3: $out"
		add "$3" "$s" "$2" n/a
		return
	fi
	read -r ms pages count <<<"$out"
	[ "$s" = dr ] && LC_ALL=C sort -o "$got" "$got"
	cmp -s "$got" "$6" || fail "[$s] $3: $count names in $pages pages differ from the $(wc -l <"$6") generated"
	add "$3" "$s" "$2" "$ms"
}

# vm SERVER FIELD: VmHWM or VmRSS (kB) of storaged or docker-registry now.
vm() {
	local pid=$DR_PID v
	[ "$1" = rm ] && pid=$(rm_ctl status 2>/dev/null | awk '$1 == "storaged" { sub(/^pid=/, "", $2); print $2 }')
	v=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null)
	echo "${v:-n/a}"
}

built_lines() { grep -c 'index: built:' "$W/regmaster.log" 2>/dev/null; }

# wait_built STATE N: wait (bounded by WAIT_S) for the Nth "index: built" line of
# regmaster's log, the respawned storaged's; records its build time.
wait_built() {
	local end=$(( $(now_ms) + WAIT_S * 1000 )) ms
	while [ "$(built_lines)" -lt "$2" ]; do
		[ "$(now_ms)" -lt "$end" ] || { fail "[rm] no 'index: built' line $2 within $WAIT_S s"; add build rm "$1" n/a; return; }
		sleep 0.05
	done
	ms=$(grep 'index: built:' "$W/regmaster.log" | sed -n "$2p" | sed -n 's/.* in \([0-9]*\) ms.*/\1/p')
	add build rm "$1" "${ms:-n/a}"
}

declare -A R   # R[metric.server.state] = the rounds' values, space-separated
add() { R[$1.$2.$3]="${R[$1.$2.$3]:-} $4"; }

round() { # SERVER STATE
	log "[$1] $2: start"
	start_server "$1" "$2"
	log "[$1] $2: kill -9"
	local nbuilt
	nbuilt=$(built_lines)
	kill_server "$1" "$2"
	log "[$1] $2: catalog walks, tags/list"
	walk "$1" "$2" cat100 catalog 100 "$W/want.repos"
	walk "$1" "$2" cat1000 catalog 1000 "$W/want.repos"
	walk "$1" "$2" tags bench/manytags - "$W/want.tags"
	if [ "$1" = rm ]; then
		log "[$1] $2: waiting for the index build"
		wait_built "$2" $((nbuilt + 1))
		walk "$1" "$2" cat100b catalog 100 "$W/want.repos"
	fi
	add hwm "$1" "$2" "$(vm "$1" VmHWM)"
	add rss "$1" "$2" "$(vm "$1" VmRSS)"
	if [ "$1" = rm ]; then rm_stop; else dr_stop; fi
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for state in $STATES; do
	if [ "$state" = warm ]; then
		log "warm: reading every file of the store once"
		find "$STORE" -type f -print0 | xargs -0 cat >/dev/null
	fi
	for i in $(seq "$ROUNDS"); do
		for s in $SERVERS; do
			log "round $i"
			round "$s" "$state"
		done
	done
done

# ---------------------------------------------------------------- report
median() {
	# shellcheck disable=SC2086 # the rounds are words
	# a walk cut at the limit (">N") sorts above every measured one
	printf '%s\n' $1 | awk '$1 != "n/a"' | sed 's/^>\(.*\)/\1 >/' | sort -n | awk '{ v[++n] = $1 $2 }
		END { if (!n) { print "n/a"; exit }
			if (n % 2 || v[n / 2] ~ />$/ || v[n / 2 + 1] ~ />$/) { m = v[int((n + 1) / 2)]; if (m ~ />$/) m = ">" substr(m, 1, length(m) - 1); print m }
			else print (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
cell() { # metric server state [divisor]
	local m
	[ -n "${R[$1.$2.$3]:-}" ] || { echo -; return; }
	m=$(median "${R[$1.$2.$3]}")
	if [ "$m" = n/a ] || [ -z "${4:-}" ]; then echo "$m"; else awk -v a="$m" -v d="$4" 'BEGIN { printf "%.1f", a / d }'; fi
}
row() { printf '| %-34s | %12s | %12s | %12s | %12s |\n' "$@"; }
line() { # label metric [divisor]
	row "$1" "$(cell "$2" rm cold "${3:-}")" "$(cell "$2" dr cold "${3:-}")" \
		"$(cell "$2" rm warm "${3:-}")" "$(cell "$2" dr warm "${3:-}")"
}
echo
echo "## big store: $SIZE manifests, $REPOS repositories + bench/manytags ($(date -u +%Y-%m-%d), $(nproc) cores, median of $ROUNDS)"
echo "load average (1, 5, 15 min): $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "cold: $([ $ROOT = 1 ] && echo "drop_caches before each step" || echo "store files evicted (genstore -x) before each step")"
echo
row "" "rm cold" "dr cold" "rm warm" "dr warm"
row ---------------------------------- ------------ ------------ ------------ ------------
line "regmaster start returns (ms)" startret
line "start -> first correct GET (ms)" start
line "kill -9 -> next correct GET (ms)" kill
line "catalog walk n=100 (ms)" cat100
line "catalog walk n=1000 (ms)" cat1000
line "tags/list, 1,000 tags (ms)" tags
line "index build after kill -9 (ms)" build
line "catalog walk n=100, built (ms)" cat100b
line "peak RSS: storaged / dr (MiB)" hwm 1024
line "RSS at the end (MiB)" rss 1024
echo
for k in "${!R[@]}"; do echo "$k:${R[$k]}"; done | sort
echo
if [ -s "$W/limits" ]; then
	echo "### limits hit (counted as the limit, shown as >N)"
	sed 's/^/- /' "$W/limits"
	echo
fi
if [ -s "$W/fails" ]; then
	echo "### failures"
	sed 's/^/- /' "$W/fails"
	exit 1
fi
echo "no errors"
