#!/usr/bin/env bash
# bench/bench.sh — side-by-side benchmark: regmaster vs docker-registry (vs nginx
# as the static-file ceiling).  Not a test; see bench/README.md.
#
# usage: bench/bench.sh [--quick] [--keep]
#   --quick  256 MiB big layer, 20-layer image, wrk -d5s (default: 1 GiB, 100, 10s)
#   --keep   keep the temporary work directory (printed at the end)
#
# environment:
#   REGMASTER_BUILD   build tree holding master/regmaster and the workers
#                     (default: the directory above this script)
#   BENCH_TMPDIR      where the temp work dir is created (default: $TMPDIR or /tmp)
#   SMALL_LAYER_KIB   size of each layer of the many-layer image (default 1024)
#   PUSH_ROUNDS       big-image pushes per registry, alternating order, best
#                     one reported (default 3; each round is a distinct image)
#   GET_RUNS          blob GET rounds (rm, docker-registry, nginx interleaved),
#                     best one reported (default 5)
#
# Everything listens on 127.0.0.1 only; every process started here is stopped
# by PID from the EXIT trap.

set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
QUICK=0 KEEP=0
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown option $a" >&2; exit 2 ;;
	esac
done

if [ $QUICK = 1 ]; then
	BIG_MIB=256 NLAYERS=20 WRK_S=5
else
	BIG_MIB=1024 NLAYERS=100 WRK_S=10
fi
SMALL_KIB=${SMALL_LAYER_KIB:-1024}
PUSH_ROUNDS=${PUSH_ROUNDS:-3}
GET_RUNS=${GET_RUNS:-5}
WRK_T=2 WRK_C=64 WRK_D=${WRK_S}s

for t in skopeo wrk curl nginx docker-registry python3 timeout awk cc; do
	command -v $t >/dev/null || { echo "bench.sh: missing tool: $t" >&2; exit 1; }
done
[ -x "$BUILD/master/regmaster" ] || { echo "bench.sh: $BUILD/master/regmaster not built" >&2; exit 1; }

W=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/regmaster-bench.XXXXXX")
chmod 755 "$W"
RM_CONF=$W/rm/regmaster.conf
RM_PID="" DR_PID="" NG_PID=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { echo "$*" >>"$W/fails"; log "FAIL: $*"; }  # called from $(...) too

rm_ctl() {
	REGMASTER_LIBEXECDIR=$BUILD timeout 30 "$BUILD/master/regmaster" -c "$RM_CONF" "$@"
}

stop_pid() { # pid [name]
	local p=$1 i
	[ -n "$p" ] || return 0
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	log "${2:-pid $p} did not exit on TERM; KILL"
	kill -KILL "$p" 2>/dev/null
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$RM_PID" ]; then
		rm_ctl stop >>"$W/rm/regmaster.log" 2>&1
		stop_pid "$RM_PID" regmaster
	fi
	stop_pid "$DR_PID" docker-registry
	stop_pid "$NG_PID" nginx
	if [ $KEEP = 1 ]; then log "work dir kept: $W"; else rm -rf "$W"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # url name
	local i
	for i in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	echo "bench.sh: $2 did not come up at $1" >&2
	return 1
}

now() { date +%s.%N; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0) print "n/a"; else printf "%.2f", a/b }'; }
fmt() { awk -v a="$1" 'BEGIN { if (a == "" || a == "n/a") print "n/a"; else printf "%.1f", a }'; }

# ---------------------------------------------------------------- servers
RM_PORT=$(free_port); DR_PORT=$(free_port); NG_PORT=$(free_port)
while [ "$DR_PORT" = "$RM_PORT" ]; do DR_PORT=$(free_port); done
while [ "$NG_PORT" = "$RM_PORT" ] || [ "$NG_PORT" = "$DR_PORT" ]; do NG_PORT=$(free_port); done

mkdir -p "$W/rm" "$W/dr/store" "$W/ng" "$W/oci"
cat >"$RM_CONF" <<EOF
run_dir = "$W/rm/run";
http = { listen = [ "127.0.0.1:$RM_PORT" ]; };
storage = { root = "$W/rm/store"; delete = true; };
auth = { dir = "$W/rm/auth"; };
EOF
log "starting regmaster on 127.0.0.1:$RM_PORT"
rm_ctl start >>"$W/rm/regmaster.log" 2>&1 || { cat "$W/rm/regmaster.log" >&2; echo "bench.sh: regmaster start failed" >&2; exit 1; }
RM_PID=$(cat "$W/rm/run/regmaster.pid" 2>/dev/null)
wait_http "http://127.0.0.1:$RM_PORT/v2/" regmaster || exit 1

cat >"$W/dr/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $W/dr/store
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$DR_PORT
EOF
log "starting docker-registry on 127.0.0.1:$DR_PORT"
docker-registry serve "$W/dr/config.yml" >"$W/dr/registry.log" 2>&1 &
DR_PID=$!
wait_http "http://127.0.0.1:$DR_PORT/v2/" docker-registry || exit 1

mkdir -p "$W/ng/www" "$W/ng/tmp"
cat >"$W/ng/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes auto;
daemon off;
pid $W/ng/nginx.pid;
error_log $W/ng/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path $W/ng/tmp/body;
    proxy_temp_path $W/ng/tmp/proxy;
    fastcgi_temp_path $W/ng/tmp/fastcgi;
    uwsgi_temp_path $W/ng/tmp/uwsgi;
    scgi_temp_path $W/ng/tmp/scgi;
    server {
        listen 127.0.0.1:$NG_PORT;
        root $W/ng/www;
    }
}
EOF
log "starting nginx on 127.0.0.1:$NG_PORT"
nginx -e "$W/ng/error.log" -c "$W/ng/nginx.conf" -p "$W/ng" >"$W/ng/stdout.log" 2>&1 &
NG_PID=$!
sleep 0.3
kill -0 "$NG_PID" 2>/dev/null || { cat "$W/ng/error.log" >&2; echo "bench.sh: nginx failed" >&2; exit 1; }

# ---------------------------------------------------------------- images
# OCI layouts built offline.  Layers are random bytes wrapped in a gzip
# stream of *stored* (level 0) deflate blocks: valid gzip, so skopeo keeps
# them as-is (no recompression on push), and as cheap to make as a copy.
mk_oci() { # dir layer_bytes nlayers
	python3 - "$@" <<'PY'
import hashlib, json, os, sys, zlib
d, size, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bd = os.path.join(d, "blobs", "sha256"); os.makedirs(bd, exist_ok=True)
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(bd, h), "wb").write(data)
    return "sha256:" + h, len(data)
layers, diffids = [], []
for i in range(n):
    tmp = os.path.join(bd, "tmp")
    c = zlib.compressobj(0, zlib.DEFLATED, 31)
    hc, hu, left, total = hashlib.sha256(), hashlib.sha256(), size, 0
    with open(tmp, "wb") as f:
        while left:
            chunk = os.urandom(min(left, 1 << 20)); left -= len(chunk)
            hu.update(chunk)
            z = c.compress(chunk); hc.update(z); f.write(z); total += len(z)
        z = c.flush(); hc.update(z); f.write(z); total += len(z)
    os.rename(tmp, os.path.join(bd, hc.hexdigest()))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": "sha256:" + hc.hexdigest(), "size": total})
    diffids.append("sha256:" + hu.hexdigest())
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": diffids}}).encode()
cd, cs = put(cfg)
man = json.dumps({"schemaVersion": 2,
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": cd, "size": cs},
                  "layers": layers}).encode()
md, ms = put(man)
json.dump({"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
    "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
    open(os.path.join(d, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(d, "oci-layout"), "w"))
print(layers[0]["digest"], sum(l["size"] for l in layers))
PY
}

log "building OCI layouts: big = 1 x $BIG_MIB MiB, many = $NLAYERS x $SMALL_KIB KiB"
# PUSH_ROUNDS distinct big images so that every timed push really uploads
for i in $(seq "$PUSH_ROUNDS"); do
	read -r dg BIG_BYTES < <(mk_oci "$W/oci/big$i" $((BIG_MIB << 20)) 1) || { echo "bench.sh: mk_oci big$i failed" >&2; exit 1; }
	[ $i = 1 ] && BIG_DIGEST=$dg
done
read -r _ MANY_BYTES < <(mk_oci "$W/oci/many" $((SMALL_KIB << 10)) "$NLAYERS") || { echo "bench.sh: mk_oci many failed" >&2; exit 1; }
chmod -R a+rX "$W/ng/www" "$W/oci"
sync

# ---------------------------------------------------------------- results
declare -A R   # R[key.rm] R[key.dr] R[key.ng]

# skopeo copy, timed; prints MB/s (10^6 bytes/s) or n/a
skopeo_mbps() { # bytes src dst [extra...]
	local bytes=$1 src=$2 dst=$3 t0 t1 out
	shift 3
	sync   # do not bill the previous step's dirty-page writeback to this one
	t0=$(now)
	if ! out=$(timeout 900 skopeo copy --quiet "$@" "$src" "$dst" 2>&1); then
		fail "skopeo copy $src -> $dst: $(echo "$out" | tail -3 | tr '\n' ' ')"
		echo n/a; return
	fi
	t1=$(now)
	awk -v b="$bytes" -v a="$t0" -v c="$t1" 'BEGIN { printf "%.1f", b / (c - a) / 1e6 }'
}

declare -A PORT=([rm]=$RM_PORT [dr]=$DR_PORT)

# big push: rounds alternate which registry goes first; best round reported
R[push_big.rm]=n/a R[push_big.dr]=n/a
PUSH_ALL=""
for i in $(seq "$PUSH_ROUNDS"); do
	if [ $((i % 2)) = 1 ]; then order="rm dr"; else order="dr rm"; fi
	repo=bench/big; [ $i = 1 ] || repo=bench/big$i
	for s in $order; do
		log "[$s] push big round $i (1 x $BIG_MIB MiB)"
		v=$(skopeo_mbps "$BIG_BYTES" "oci:$W/oci/big$i:latest" "docker://127.0.0.1:${PORT[$s]}/$repo:latest" --dest-tls-verify=false)
		log "[$s]   $v MB/s"
		PUSH_ALL="$PUSH_ALL $s=$v"
		R[push_big.$s]=$(awk -v a="${R[push_big.$s]}" -v b="$v" 'BEGIN { if (b == "n/a") print a; else if (a == "n/a" || b+0 > a+0) print b; else print a }')
	done
done
for s in rm dr; do
	p=${PORT[$s]}
	log "[$s] push many ($NLAYERS layers)"
	R[push_many.$s]=$(skopeo_mbps "$MANY_BYTES" "oci:$W/oci/many:latest" "docker://127.0.0.1:$p/bench/many:latest" --dest-tls-verify=false)
	log "[$s]   ${R[push_many.$s]} MB/s"
	log "[$s] pull big"
	rm -rf "$W/pull"; mkdir -p "$W/pull"
	R[pull_big.$s]=$(skopeo_mbps "$BIG_BYTES" "docker://127.0.0.1:$p/bench/big:latest" "dir:$W/pull" --src-tls-verify=false)
	log "[$s]   ${R[pull_big.$s]} MB/s"
	if [ -f "$W/pull/${BIG_DIGEST#sha256:}" ] && ! cmp -s "$W/pull/${BIG_DIGEST#sha256:}" "$W/oci/big1/blobs/sha256/${BIG_DIGEST#sha256:}"; then
		fail "[$s] pulled big layer differs from the pushed one"
	fi
	rm -rf "$W/pull"; mkdir -p "$W/pull"
	log "[$s] pull many"
	R[pull_many.$s]=$(skopeo_mbps "$MANY_BYTES" "docker://127.0.0.1:$p/bench/many:latest" "dir:$W/pull" --src-tls-verify=false)
	log "[$s]   ${R[pull_many.$s]} MB/s"
	rm -rf "$W/pull"
done

# ---- blob GET: GET_RUNS rounds, servers interleaved within each round so that
# drift (page cache, CPU frequency, neighbours) hits all three alike; best kept.
# The first round also warms the page cache.
curl_mbps() { # url -> MB/s or empty
	local v
	v=$(timeout 300 curl -sf -o /dev/null -w '%{speed_download}' "$1") || return 1
	awk -v b="$v" 'BEGIN { printf "%.1f", b / 1e6 }'
}
declare -A GURL=([rm]="http://127.0.0.1:$RM_PORT/v2/bench/big/blobs/$BIG_DIGEST"
                 [dr]="http://127.0.0.1:$DR_PORT/v2/bench/big/blobs/$BIG_DIGEST"
                 [ng]="http://127.0.0.1:$NG_PORT/big.blob")
# nginx sends the very file regmaster sends (a hard link into its store), so the
# comparison is of the servers alone; as root its workers run as root to read it.
hex=${BIG_DIGEST#sha256:}
ln "$W/rm/store/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data" "$W/ng/www/big.blob" ||
	fail "[ng] link regmaster's copy of the big layer"
R[get.rm]=n/a R[get.dr]=n/a R[get.ng]=n/a
GET_ALL=""
log "blob GET $BIG_MIB MiB, best of $GET_RUNS"
for i in $(seq "$GET_RUNS"); do
	for s in rm dr ng; do
		if ! v=$(curl_mbps "${GURL[$s]}"); then fail "[$s] GET ${GURL[$s]} (run $i)"; continue; fi
		GET_ALL="$GET_ALL $s=$v"
		R[get.$s]=$(awk -v a="${R[get.$s]}" -v b="$v" 'BEGIN { if (a == "n/a" || b+0 > a+0) print b; else print a }')
	done
done
log "  rm ${R[get.rm]}  dr ${R[get.dr]}  nginx ${R[get.ng]} MB/s"

# ---- wrk
ACCEPT='application/vnd.oci.image.manifest.v1+json'
# wrk 4.1 hangs on HEAD (waits for the Content-Length body), so blob HEAD
# uses bench/headload.c, which prints the same summary lines.
cc -O2 -pthread -o "$W/headload" "$here/headload.c" || { echo "bench.sh: cannot build headload" >&2; exit 1; }
wrk_rps() { # key server method url
	local key=$1 s=$2 m=$3 url=$4 code out rps non2xx sock
	# sanity check first: the request must succeed once
	if [ "$m" = HEAD ]; then
		code=$(curl -s -I -o /dev/null -w '%{http_code}' --max-time 10 "$url")
	else
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Accept: $ACCEPT" "$url")
	fi
	[ "$code" = 200 ] || fail "[$s] $key: $m $url answered $code before the wrk run"
	if [ "$m" = HEAD ]; then
		local hp=${url#http://127.0.0.1:}
		out=$(timeout 120 "$W/headload" 127.0.0.1 "${hp%%/*}" "/${hp#*/}" $WRK_C $WRK_S $WRK_T 2>&1)
	else
		out=$(timeout 120 wrk -t$WRK_T -c$WRK_C -d$WRK_D --timeout 5s -H "Accept: $ACCEPT" "$url" 2>&1)
	fi || { fail "[$s] $key: wrk failed: $(echo "$out" | tail -2 | tr '\n' ' ')"; echo n/a; return; }
	echo "$out" >"$W/wrk.$key.$s.txt"
	rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	non2xx=$(echo "$out" | awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }')
	sock=$(echo "$out" | awk '/Socket errors/ { sub(/^ *Socket errors: */, ""); print }')
	[ -n "$non2xx" ] && fail "[$s] $key: $non2xx non-2xx/3xx responses"
	[ -n "$sock" ] && fail "[$s] $key: socket errors: $sock"
	echo "${rps:-n/a}"
}
for s in rm dr; do
	p=${PORT[$s]}
	log "[$s] wrk manifest GET by tag"
	R[man.$s]=$(wrk_rps man $s GET "http://127.0.0.1:$p/v2/bench/big/manifests/latest")
	log "[$s] headload blob HEAD"
	R[head.$s]=$(wrk_rps head $s HEAD "http://127.0.0.1:$p/v2/bench/big/blobs/$BIG_DIGEST")
	log "[$s] wrk tags/list"
	R[tags.$s]=$(wrk_rps tags $s GET "http://127.0.0.1:$p/v2/bench/big/tags/list")
	log "[$s]   manifest ${R[man.$s]}  head ${R[head.$s]}  tags ${R[tags.$s]} req/s"
done

# ---- peak RSS (VmHWM, kB), and the proportional share now (Pss, kB: shared
# library pages split between the processes that map them, which VmHWM counts whole
# in each)
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
pss() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
rm_sum=0 rm_max=0 rm_max_name="" rm_detail="" rm_pss=0
status=$(rm_ctl status 2>&1)
pids="master:$RM_PID"
while read -r name pidf _; do
	case $pidf in pid=*) pids="$pids $name:${pidf#pid=}" ;; esac
done <<<"$status"
for np in $pids; do
	n=${np%%:*} p=${np#*:}
	v=$(hwm "$p"); v=${v:-0}
	rm_sum=$((rm_sum + v))
	s=$(pss "$p"); rm_pss=$((rm_pss + ${s:-0}))
	[ "$v" -gt "$rm_max" ] && { rm_max=$v; rm_max_name=$n; }
	rm_detail="$rm_detail $n=$((v / 1024))MiB"
done
restarts=$(echo "$status" | grep -o 'restarts=[1-9][0-9]*' | head -1)
[ -n "$restarts" ] && fail "regmaster workers restarted during the run: $(echo "$status" | grep 'restarts=[1-9]' | tr '\n' ';')"
dr_hwm=$(hwm "$DR_PID"); dr_hwm=${dr_hwm:-0}
dr_pss=$(pss "$DR_PID"); dr_pss=${dr_pss:-0}
ng_hwm=0
for p in $NG_PID $(pgrep -P "$NG_PID" 2>/dev/null); do v=$(hwm "$p"); ng_hwm=$((ng_hwm + ${v:-0})); done

# ---------------------------------------------------------------- report
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# median S ROUNDS: the median of server S's values in " s=v s=v ..." (n/a if none).
median() {
	# shellcheck disable=SC2086 # the rounds are words
	printf '%s\n' $2 | awk -F= -v s="$1" '$1 == s && $2 != "n/a" { print $2 }' | sort -n |
		awk '{ v[++n] = $1 } END { if (!n) { print "n/a"; exit }
			printf "%.1f", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
for s in rm dr; do R[push_med.$s]=$(median $s "$PUSH_ALL"); done
for s in rm dr ng; do R[get_med.$s]=$(median $s "$GET_ALL"); done
row() { printf '| %-40s | %15s | %15s | %6s |\n' "$1" "$2" "$3" "$4"; }
echo
echo "## regmaster vs docker-registry ($(date -u +%Y-%m-%d), $(nproc) cores, client and servers on one machine)"
echo "big image: 1 x $BIG_MIB MiB layer; many: $NLAYERS x $SMALL_KIB KiB layers; wrk -t$WRK_T -c$WRK_C -d$WRK_D"
echo
row workload regmaster docker-registry ratio
row ---------------------------------------- --------------- --------------- ------
row "push 1 x $BIG_MIB MiB, best of $PUSH_ROUNDS (MB/s)" "${R[push_big.rm]}" "${R[push_big.dr]}" "$(fdiv "${R[push_big.rm]}" "${R[push_big.dr]}")"
row "  median of $PUSH_ROUNDS (MB/s)" "${R[push_med.rm]}" "${R[push_med.dr]}" "$(fdiv "${R[push_med.rm]}" "${R[push_med.dr]}")"
row "push $NLAYERS layers (MB/s)" "${R[push_many.rm]}" "${R[push_many.dr]}" "$(fdiv "${R[push_many.rm]}" "${R[push_many.dr]}")"
row "pull 1 x $BIG_MIB MiB to dir: (MB/s)" "${R[pull_big.rm]}" "${R[pull_big.dr]}" "$(fdiv "${R[pull_big.rm]}" "${R[pull_big.dr]}")"
row "pull $NLAYERS layers to dir: (MB/s)" "${R[pull_many.rm]}" "${R[pull_many.dr]}" "$(fdiv "${R[pull_many.rm]}" "${R[pull_many.dr]}")"
row "blob GET $BIG_MIB MiB, best of $GET_RUNS (MB/s)" "${R[get.rm]}" "${R[get.dr]}" "$(fdiv "${R[get.rm]}" "${R[get.dr]}")"
row "  same file from nginx (MB/s)" "${R[get.ng]}" "" ""
row "  regmaster / nginx" "" "" "$(fdiv "${R[get.rm]}" "${R[get.ng]}")"
row "  median of $GET_RUNS (MB/s)" "${R[get_med.rm]}" "${R[get_med.dr]}" "$(fdiv "${R[get_med.rm]}" "${R[get_med.dr]}")"
row "  median from nginx; regmaster / nginx" "${R[get_med.ng]}" "" "$(fdiv "${R[get_med.rm]}" "${R[get_med.ng]}")"
row "manifest GET by tag (req/s)" "$(fmt "${R[man.rm]}")" "$(fmt "${R[man.dr]}")" "$(fdiv "${R[man.rm]}" "${R[man.dr]}")"
row "blob HEAD (req/s, headload)" "$(fmt "${R[head.rm]}")" "$(fmt "${R[head.dr]}")" "$(fdiv "${R[head.rm]}" "${R[head.dr]}")"
row "tags/list (req/s)" "$(fmt "${R[tags.rm]}")" "$(fmt "${R[tags.dr]}")" "$(fdiv "${R[tags.rm]}" "${R[tags.dr]}")"
row "peak RSS, sum of processes (MiB)" "$(mib $rm_sum)" "$(mib "$dr_hwm")" "$(fdiv $rm_sum "$dr_hwm")"
row "peak RSS, largest process (MiB)" "$(mib $rm_max) ($rm_max_name)" "$(mib "$dr_hwm")" "$(fdiv $rm_max "$dr_hwm")"
row "PSS at the end, sum of processes (MiB)" "$(mib $rm_pss)" "$(mib "$dr_pss")" "$(fdiv $rm_pss "$dr_pss")"
echo
echo "big push rounds (MB/s):$PUSH_ALL"
echo "blob GET rounds (MB/s):$GET_ALL"
echo "regmaster VmHWM per process:$rm_detail; nginx (all processes): $(mib $ng_hwm) MiB"
echo
echo "### targets"
target() { # label value op threshold
	local ok
	ok=$(awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN { if (v == "n/a" || v == "") print "n/a"; else if (op == ">=") print (v >= t) ? "MET" : "NOT MET"; else print (v <= t) ? "MET" : "NOT MET" }')
	printf -- '- %-44s %-8s (%s, need %s %s)\n' "$1" "$ok" "$2" "$3" "$4"
}
target "manifest GET >= 3x docker-registry" "$(fdiv "${R[man.rm]}" "${R[man.dr]}")" ">=" 3
target "blob HEAD >= 3x docker-registry" "$(fdiv "${R[head.rm]}" "${R[head.dr]}")" ">=" 3
target "blob GET >= 90% of nginx (best)" "$(fdiv "${R[get.rm]}" "${R[get.ng]}")" ">=" 0.9
target "blob GET >= 90% of nginx (median)" "$(fdiv "${R[get_med.rm]}" "${R[get_med.ng]}")" ">=" 0.9
target "big push >= 1.5x docker-registry (best)" "$(fdiv "${R[push_big.rm]}" "${R[push_big.dr]}")" ">=" 1.5
target "big push >= 1.5x docker-registry (median)" "$(fdiv "${R[push_med.rm]}" "${R[push_med.dr]}")" ">=" 1.5
target "peak RSS (sum) <= 1/4 docker-registry" "$(fdiv $rm_sum "$dr_hwm")" "<=" 0.25
target "peak RSS (largest) <= 1/4 docker-registry" "$(fdiv $rm_max "$dr_hwm")" "<=" 0.25
echo
if [ -s "$W/fails" ]; then
	echo "### failures / errors"
	sed 's/^/- /' "$W/fails"
	exit 1
fi
echo "no errors"
