#!/usr/bin/env bash
# bench/slowdisk.sh — do lookups stay fast while a push waits on a slow disk?
# Not a test; see bench/README.md.  Root only: it throttles writes to the
# disk holding the work dir (cgroup v1 blkio, root group) and lowers the
# kernel's dirty-page limits so writers must wait for that disk, then puts
# both back (EXIT trap).  The whole machine's writes to that disk are slowed
# while it runs (about 15 s).
#
# usage: bench/slowdisk.sh [MB_PER_S]      (default 50)
#   REGMASTER_BUILD   build tree (default: the directory above this script)
#   BENCH_TMPDIR      where the work dir goes (default: $TMPDIR or /tmp)
#   REGMASTER_LIBEXECDIR  workers as DIR/NAME/NAME (default: the build tree),
#                     e.g. to compare another storaged
#
# Prints wrk's manifest GET rate and latency (1 thread, 8 connections, 3 s)
# with an idle disk, then while curl pushes a 256 MiB blob under the throttle.

set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
MBPS=${1:-50}
BLKIO=/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device
MT=application/vnd.oci.image.manifest.v1+json

[ "$(id -u)" = 0 ] || { echo "slowdisk.sh: needs root" >&2; exit 1; }
[ -w "$BLKIO" ] || { echo "slowdisk.sh: no cgroup v1 blkio throttle ($BLKIO)" >&2; exit 1; }
for t in wrk curl sha256sum timeout findmnt; do
	command -v $t >/dev/null || { echo "slowdisk.sh: missing tool: $t" >&2; exit 1; }
done

W=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/regmaster-slowdisk.XXXXXX")
chmod 755 "$W"
DEV=$(findmnt -no MAJ:MIN -T "$W")
OLD_RATIO=$(cat /proc/sys/vm/dirty_ratio) OLD_BG=$(cat /proc/sys/vm/dirty_background_ratio)
OLD_BYTES=$(cat /proc/sys/vm/dirty_bytes) OLD_BG_BYTES=$(cat /proc/sys/vm/dirty_background_bytes)
export REGMASTER_LIBEXECDIR=${REGMASTER_LIBEXECDIR:-$BUILD}

rm_ctl() { "$BUILD/master/regmaster" -c "$W/regmaster.conf" "$@"; }

restore() {
	echo "$DEV 0" >"$BLKIO" 2>/dev/null
	# writing one of a bytes/ratio pair clears the other
	if [ "$OLD_BYTES" != 0 ]; then echo "$OLD_BYTES" >/proc/sys/vm/dirty_bytes
	else echo "$OLD_RATIO" >/proc/sys/vm/dirty_ratio; fi
	if [ "$OLD_BG_BYTES" != 0 ]; then echo "$OLD_BG_BYTES" >/proc/sys/vm/dirty_background_bytes
	else echo "$OLD_BG" >/proc/sys/vm/dirty_background_ratio; fi
}
cleanup() {
	restore
	rm_ctl stop >/dev/null 2>&1
	rm -rf -- "$W"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
cat >"$W/regmaster.conf" <<EOF
run_dir = "$W/run";
log_file = "$W/regmaster.log";
http = { listen = [ "127.0.0.1:$port" ]; };
storage = { root = "$W/store"; delete = true; };
auth = { dir = "$W/auth"; };
EOF
rm_ctl start || exit 1
U=http://127.0.0.1:$port/v2/bench/slow

# A manifest to look up, and the 256 MiB blob to push.
head -c $((256 * 1024 * 1024)) /dev/urandom >"$W/blob"
BD=sha256:$(sha256sum <"$W/blob" | cut -d' ' -f1)
echo '{}' >"$W/config"
CD=sha256:$(sha256sum <"$W/config" | cut -d' ' -f1)
printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":3},"layers":[]}' \
	"$MT" "$CD" >"$W/manifest"
if ! curl -sf -o /dev/null -X POST --data-binary @"$W/config" "$U/blobs/uploads/?digest=$CD" ||
	! curl -sf -o /dev/null -X PUT -H "Content-Type: $MT" --data-binary @"$W/manifest" "$U/manifests/latest"; then
	echo "slowdisk.sh: setting up the manifest failed" >&2
	exit 1
fi

load() {
	timeout 20 wrk -t1 -c8 -d3s --latency -H "Accept: $MT" "$U/manifests/latest" |
		awk '/^ +Latency +[0-9]/ { avg = $2; max = $4 } / 99% / { p99 = $2 }
			/^Requests\/sec/ { rps = $2 }
			END { printf "%10s req/s  avg %-9s p99 %-9s max %s\n", rps, avg, p99, max }'
}

printf 'idle disk:              '
load
sync
echo "$DEV $((MBPS * 1000 * 1000))" >"$BLKIO"
echo $((32 * 1024 * 1024)) >/proc/sys/vm/dirty_bytes
echo $((8 * 1024 * 1024)) >/proc/sys/vm/dirty_background_bytes
timeout 120 curl -s -o "$W/push.out" -w '%{http_code} %{time_total}\n' -X POST -T - \
	-H 'Content-Type: application/octet-stream' "$U/blobs/uploads/?digest=$BD" \
	<"$W/blob" >"$W/push.code" &
push=$!
sleep 0.5
printf 'push on %3s MB/s disk:   ' "$MBPS"
load
wait $push
read -r code secs <"$W/push.code"
restore
echo "push: HTTP $code in $secs s"
[ "$code" = 201 ]
