#!/usr/bin/env bash
# bench/bench_tunnel.sh — issue 9: a registry reached through a relay, four ways, on
# loopback. Not a test (not in make check); see bench/README.md.
#
# usage: bench/bench_tunnel.sh [--rounds N] [--only PATH[,PATH...]] [--mib N]
#                              [--idle N] [--wrk-s S] [--base DIR] [--storm N] [--keep]
#   PATH    direct  the registry itself
#           ssh     `ssh -R` (aes128-gcm@openssh.com) to an sshd of our own: the
#                   public port is sshd's forward, the ssh client dials the registry
#           socat   two socat hops: public port -> socat -> socat -> registry
#           tunnel  regmaster's own: a relay instance (tunneld) and a client instance
#                   (tunneld) publishing the registry on a relay port
#           base    the same as tunnel, with the build tree of --base DIR (before
#                   and after a change in one run; in the default list with --base)
#   --rounds N  rounds, paths interleaved within each; medians reported (default 3)
#   --mib N     size of the blob (default 1024)
#   --idle N    idle visitor connections for the memory row (default 1000)
#   --wrk-s S   seconds of each wrk run (default 5)
#   --base DIR  a second build tree for the base path
#   --storm N   also the latency of one connection while N clients keep sending wrong
#               passwords to the relay's status page (a bcrypt hash of cost 10), on
#               the tunnel and base paths (default 0: not measured)
#   --keep      keep the work dir (configs, logs, wrk outputs)
# environment: REGMASTER_BUILD (build tree, default the directory above this script),
#   REGMASTER_LIBEXECDIR (workers, default the build tree), BENCH_TMPDIR.
#
# Per path: blob GET MB/s (curl -o /dev/null, size checked), manifest GET by tag req/s
# (wrk -c64), the latency of one connection (wrk -c1 --latency: p50, p99, mean; "added"
# is the path's minus direct's), and the relay's memory with --idle visitor connections
# open and silent: the public side's processes (tunnel: the relay's tunneld; ssh: our
# sshd and its children; socat: the first hop and its forks), VmRSS and PSS summed,
# after minus before, divided by the connections. A path that cannot be set up prints
# "PATH: not available (why)" and the other rows still come. Everything listens on
# 127.0.0.1 and is stopped by its PID from the EXIT trap.

set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
export REGMASTER_LIBEXECDIR=${REGMASTER_LIBEXECDIR:-$BUILD}
ROUNDS=3 ONLY="" MIB=1024 IDLE=1000 WRK_S=5 KEEP=0 BASE_BUILD= STORM=0
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=${2:-}; shift ;;
	--only) ONLY=${2:-}; shift ;;
	--mib) MIB=${2:-}; shift ;;
	--idle) IDLE=${2:-}; shift ;;
	--wrk-s) WRK_S=${2:-}; shift ;;
	--base) BASE_BUILD=${2:-}; shift ;;
	--storm) STORM=${2:-}; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) sed -n '2,35p' "$0"; exit 0 ;;
	*) echo "bench_tunnel.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
case $ROUNDS$MIB$IDLE$WRK_S$STORM in *[!0-9]* | '') echo "bench_tunnel.sh: --rounds, --mib, --idle, --wrk-s, --storm take numbers" >&2; exit 2 ;; esac
[ -z "$BASE_BUILD" ] || [ -x "$BASE_BUILD/master/regmaster" ] ||
	{ echo "bench_tunnel.sh: --base names no build tree: $BASE_BUILD" >&2; exit 2; }
[ -n "$ONLY" ] || ONLY="direct,ssh,socat${BASE_BUILD:+,base},tunnel"
PATHS=""
for p in ${ONLY//,/ }; do
	case $p in
	direct | ssh | socat | tunnel | base) PATHS="$PATHS $p" ;;
	*) echo "bench_tunnel.sh: --only takes direct, ssh, socat, base, tunnel" >&2; exit 2 ;;
	esac
done
[ -n "$PATHS" ] || { echo "bench_tunnel.sh: --only names no path" >&2; exit 2; }

for t in curl wrk python3 timeout awk sha256sum; do
	command -v $t >/dev/null || { echo "bench_tunnel.sh: missing tool: $t" >&2; exit 1; }
done
[ -x "$BUILD/master/regmaster" ] || { echo "bench_tunnel.sh: build first: $BUILD/master/regmaster" >&2; exit 1; }
# The idle row holds --idle sockets in one process, and the paths twice that.
ulimit -n $((IDLE * 4 + 1024)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

W=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/regmaster-tunnelbench.XXXXXX")
chmod 755 "$W"
PIDS=""            # background processes started here, stopped by the EXIT trap
INSTANCES=""       # regmaster configs started here, stopped with their stop verb
declare -A URL WHY R RELAY_PIDS HOP_PIDS STATUS_URL

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# stop_pid PID: TERM, KILL after 5 s, if PID is still a child of ours.
stop_pid() {
	local p=$1 i
	[ "$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)" = $$ ] || return 0
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

rm_ctl() { # conf args...
	local conf=$1 b=$BUILD lx=$REGMASTER_LIBEXECDIR
	shift
	case $conf in "$W"/base-*) b=$BASE_BUILD lx=$BASE_BUILD ;; esac
	REGMASTER_LIBEXECDIR=$lx timeout 30 "$b/master/regmaster" -c "$conf" "$@"
}

cleanup() {
	local rc=$? p c
	trap - EXIT INT TERM
	for p in $PIDS; do stop_pid "$p"; done
	for c in $INSTANCES; do rm_ctl "$c" stop >>"${c%/*}/stop.log" 2>&1; done
	if [ $KEEP = 1 ]; then log "work dir kept: $W"; else rm -rf "$W"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bg LOG CMD...: a background process of ours; sets BG.
bg() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 </dev/null &
	BG=$!
	PIDS="$BG $PIDS"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for S CMD...: poll CMD every 0.1 s for at most S seconds.
wait_for() {
	local s=$1 i
	shift
	for ((i = 0; i < s * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1")" = "$2" ]; }
listening() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# ---------------------------------------------------------------- the registry

# origin_start: a regmaster registry on a free port, holding bench/big:latest whose
# one layer is the --mib blob; sets RM_PORT BLOB BLOB_BYTES.
origin_start() {
	local d=$W/origin
	RM_PORT=$(free_port)
	mkdir -p "$d"
	# Many idle visitors arrive from 127.0.0.1 through every path: no per-address cap.
	cat >"$d/regmaster.conf" <<EOF
run_dir = "$d/run";
log_file = "$d/regmaster.log";
http = { listen = [ "127.0.0.1:$RM_PORT" ]; max_connections = 20000;
         max_connections_per_address = 20000; header_timeout = 600; };
storage = { root = "$d/store"; };
auth = { dir = "$d/auth"; };
EOF
	rm_ctl "$d/regmaster.conf" start >"$d/start.log" 2>&1 || { cat "$d/start.log" >&2; return 1; }
	INSTANCES="$INSTANCES $d/regmaster.conf"
	wait_for 10 answers "http://127.0.0.1:$RM_PORT/v2/" 200 || return 1
	log "registry on 127.0.0.1:$RM_PORT; pushing a $MIB MiB blob"
	head -c $((MIB << 20)) /dev/urandom >"$W/blob" || return 1
	BLOB=sha256:$(sha256sum "$W/blob" | cut -d' ' -f1)
	BLOB_BYTES=$((MIB << 20))
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}' \
		"$BLOB" >"$W/config.json"
	push_blob "$W/blob" && push_blob "$W/config.json" && push_manifest && rm -f "$W/blob"
}

# push_blob FILE: a monolithic upload (POST, then PUT ?digest=) into bench/big.
push_blob() {
	local base=http://127.0.0.1:$RM_PORT loc dg code
	dg=sha256:$(sha256sum "$1" | cut -d' ' -f1)
	loc=$(curl -s -o /dev/null -X POST -w '%{redirect_url}' "$base/v2/bench/big/blobs/uploads/")
	[ -n "$loc" ] || loc=$(curl -s -D - -o /dev/null -X POST "$base/v2/bench/big/blobs/uploads/" |
		tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
	case $loc in http*) ;; *) loc=$base$loc ;; esac
	case $loc in *\?*) loc="$loc&digest=$dg" ;; *) loc="$loc?digest=$dg" ;; esac
	code=$(curl -s -o /dev/null -w '%{http_code}' -T "$1" -H 'Content-Type: application/octet-stream' "$loc")
	[ "$code" = 201 ] || { echo "bench_tunnel.sh: push of $1 answered $code" >&2; return 1; }
}

push_manifest() {
	local cfg code
	cfg=sha256:$(sha256sum "$W/config.json" | cut -d' ' -f1)
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%d},"layers":[{"mediaType":"%s","digest":"%s","size":%d}]}' \
		application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.config.v1+json \
		"$cfg" "$(stat -c %s "$W/config.json")" application/vnd.oci.image.layer.v1.tar+gzip \
		"$BLOB" "$BLOB_BYTES" >"$W/manifest.json"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$W/manifest.json" \
		-H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
		"http://127.0.0.1:$RM_PORT/v2/bench/big/manifests/latest")
	[ "$code" = 201 ] || { echo "bench_tunnel.sh: manifest push answered $code" >&2; return 1; }
}

# ---------------------------------------------------------------- the paths
# Each PATH_setup sets URL[PATH] (the public base URL), RELAY_PIDS[PATH] (the
# processes whose memory is the relay's) and HOP_PIDS[PATH] (every process between
# visitor and registry, both ends: whose CPU time a GET costs), as commands printing
# them; or WHY[PATH].

direct_setup() {
	URL[direct]=http://127.0.0.1:$RM_PORT
	RELAY_PIDS[direct]=""
	HOP_PIDS[direct]=""
}

ssh_setup() {
	local d=$W/ssh port fwd
	command -v sshd >/dev/null || command -v /usr/sbin/sshd >/dev/null || { WHY[ssh]="sshd not installed"; return 1; }
	mkdir -p "$d" && chmod 700 "$d"
	# sshd as root wants its privilege separation directory, made at boot by the package.
	[ "$(id -u)" = 0 ] && [ ! -d /run/sshd ] && mkdir -m 0755 /run/sshd
	if ! ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" || ! ssh-keygen -q -t ed25519 -N '' -f "$d/id"; then
		WHY[ssh]="ssh-keygen failed"
		return 1
	fi
	cp "$d/id.pub" "$d/authorized_keys"
	port=$(free_port)
	fwd=$(free_port)
	cat >"$d/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PidFile $d/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding remote
Ciphers aes128-gcm@openssh.com
Compression no
MaxStartups 100
EOF
	bg "$d/sshd.log" "$(command -v sshd || echo /usr/sbin/sshd)" -D -e -f "$d/sshd_config"
	SSHD_PID=$BG
	wait_for 5 listening "$port" || { WHY[ssh]="sshd did not listen: $(tail -n 2 "$d/sshd.log" | tr '\n' ' ')"; return 1; }
	bg "$d/ssh.log" ssh -N -F /dev/null -i "$d/id" -p "$port" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ExitOnForwardFailure=yes \
		-o Ciphers=aes128-gcm@openssh.com -o Compression=no \
		-R "127.0.0.1:$fwd:127.0.0.1:$RM_PORT" "$(id -un)@127.0.0.1"
	SSH_PID=$BG
	wait_for 10 answers "http://127.0.0.1:$fwd/v2/" 200 || { WHY[ssh]="no forward: $(tail -n 2 "$d/ssh.log" | tr '\n' ' ')"; return 1; }
	URL[ssh]=http://127.0.0.1:$fwd
	RELAY_PIDS[ssh]="tree $SSHD_PID"
	HOP_PIDS[ssh]="tree_all $SSHD_PID $SSH_PID"
}

socat_setup() {
	local d=$W/socat pub mid
	command -v socat >/dev/null || { WHY[socat]="socat not installed"; return 1; }
	mkdir -p "$d"
	pub=$(free_port)
	mid=$(free_port)
	bg "$d/hop2.log" socat "TCP-LISTEN:$mid,bind=127.0.0.1,fork,reuseaddr,backlog=4096" "TCP:127.0.0.1:$RM_PORT"
	SOCAT2_PID=$BG
	bg "$d/hop1.log" socat "TCP-LISTEN:$pub,bind=127.0.0.1,fork,reuseaddr,backlog=4096" "TCP:127.0.0.1:$mid"
	SOCAT1_PID=$BG
	wait_for 5 answers "http://127.0.0.1:$pub/v2/" 200 || { WHY[socat]="no answer through the hops"; return 1; }
	URL[socat]=http://127.0.0.1:$pub
	RELAY_PIDS[socat]="tree $SOCAT1_PID"
	HOP_PIDS[socat]="tree_all $SOCAT1_PID $SOCAT2_PID"
}

# tunnel_conf NAME BODY: an instance config with tunneld (and authd, the keeper of
# keys) only, and the tunnel group BODY.
tunnel_conf() {
	local d=$W/$1
	mkdir -p "$d"
	cat >"$d/regmaster.conf" <<EOF2
run_dir = "$d/run";
log_file = "$d/regmaster.log";
log_level = "info";
http = { listen = [ "127.0.0.1:$(free_port)" ]; };
storage = { root = "$d/store"; };
auth = { dir = "$d/auth"; };
workers = { httpd = false; storaged = false; gcd = false; authd = true; tunneld = true; };
tunnel = { $2 };
EOF2
}

# relay_fingerprint DIR: the relay's certificate fingerprint, from what start printed or
# its log (master logs the one it made), else from a certificate file in its run_dir.
relay_fingerprint() {
	local d=$1 f
	f=$(cat "$d/start.log" "$d/regmaster.log" 2>/dev/null | grep -oE 'fingerprint sha256:[0-9a-f]{64}' |
		head -n 1 | cut -d' ' -f2)
	if [ -z "$f" ]; then
		for c in "$d"/run/*.crt "$d"/run/*.pem "$d"/run/*/*.crt "$d"/run/*/*.pem; do
			[ -f "$c" ] || continue
			f=sha256:$(openssl x509 -in "$c" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
			[ "$f" = "sha256:$(: | sha256sum | cut -d' ' -f1)" ] && f="" && continue
			break
		done
	fi
	printf '%s\n' "$f"
}

# first_error FILE: the line of a start log that says what went wrong.
first_error() {
	grep -iE 'error|unknown|invalid|fail|fatal' "$1" 2>/dev/null | head -n 1 | cut -c1-160
}

# tunnel_path NAME: the tunnel path NAME (tunnel, base), instances $W/NAME-relay and
# $W/NAME-client (rm_ctl picks the build tree by the name).
tunnel_path() {
	local n=$1 rl pub token fp verify cap="" sp
	rl=$(free_port)
	pub=$(free_port)
	token=$(head -c 24 /dev/urandom | sha256sum | cut -c1-40)
	# The idle row's visitors all come from 127.0.0.1: no per-address cap (a
	# base build older than the key has none and would refuse it).
	[ "$n" = tunnel ] && cap="visitors_per_address = 0;"
	if [ "$STORM" -gt 0 ]; then
		sp=$(free_port)
		STATUS_URL[$n]=http://127.0.0.1:$sp/status.json
		cap="$cap status_listen = [ \"127.0.0.1:$sp\" ]; status_user = \"admin\";
			status_password = \"$STORM_HASH\";"
	fi
	tunnel_conf $n-relay "relay = { listen = [ \"127.0.0.1:$rl\" ]; token = \"$token\";
		ports = \"$pub-$pub\"; bind_address = \"127.0.0.1\"; $cap };"
	if ! rm_ctl "$W/$n-relay/regmaster.conf" start >"$W/$n-relay/start.log" 2>&1; then
		WHY[$n]="relay does not start: $(first_error "$W/$n-relay/start.log")"
		return 1
	fi
	INSTANCES="$INSTANCES $W/$n-relay/regmaster.conf"
	wait_for 10 listening "$rl" || { WHY[$n]="relay does not listen on $rl: $(first_error "$W/$n-relay/regmaster.log")"; return 1; }
	fp=$(relay_fingerprint "$W/$n-relay")
	verify="fingerprint = \"$fp\";"
	[ -n "$fp" ] || verify="insecure = true;"
	log "$n: relay on 127.0.0.1:$rl, client verifies with: $verify"
	tunnel_conf $n-client "client = { relay = \"127.0.0.1:$rl\"; token = \"$token\"; $verify
		proxies = ( { name = \"registry\"; local = \"127.0.0.1:$RM_PORT\"; remote_port = $pub; } ); };"
	if ! rm_ctl "$W/$n-client/regmaster.conf" start >"$W/$n-client/start.log" 2>&1; then
		WHY[$n]="client does not start: $(first_error "$W/$n-client/start.log")"
		return 1
	fi
	INSTANCES="$INSTANCES $W/$n-client/regmaster.conf"
	wait_for 20 answers "http://127.0.0.1:$pub/v2/" 200 ||
		{ WHY[$n]="public port $pub never answered /v2/: $(first_error "$W/$n-client/regmaster.log") $(first_error "$W/$n-relay/regmaster.log")"; return 1; }
	URL[$n]=http://127.0.0.1:$pub
	RELAY_PIDS[$n]="tunneld_of $W/$n-relay/regmaster.conf"
	HOP_PIDS[$n]="tunnel_pids $n"
}

tunnel_setup() {
	[ -x "$REGMASTER_LIBEXECDIR/tunneld/tunneld" ] || [ -x "$REGMASTER_LIBEXECDIR/tunneld" ] ||
		{ WHY[tunnel]="no tunneld binary"; return 1; }
	tunnel_path tunnel
}

base_setup() {
	[ -n "$BASE_BUILD" ] || { WHY[base]="no --base build tree"; return 1; }
	[ -x "$BASE_BUILD/tunneld/tunneld" ] || { WHY[base]="no tunneld in $BASE_BUILD"; return 1; }
	tunnel_path base
}

# ---------------------------------------------------------------- measurements

# tree PID: PID and its descendants.
tree() {
	ps -e -o pid=,ppid= | awk -v root="$1" '{ kid[$2] = kid[$2] " " $1 }
		END { q = root; while (q != "") { split(q, a, " "); q = ""
			for (i in a) { print a[i]; q = q " " kid[a[i]] } } }'
}

tree_all() {
	local p
	for p in "$@"; do tree "$p"; done
}

# tunnel_pids NAME: both tunnelds of the path, the relay's and the client's.
tunnel_pids() {
	tunneld_of "$W/$1-relay/regmaster.conf"
	tunneld_of "$W/$1-client/regmaster.conf"
}

# cpu_ticks PID...: user + system time of the processes and of their reaped children
# (socat's forks), in clock ticks.
cpu_ticks() {
	local p t=0 stat
	local -a f
	for p in "$@"; do
		stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		read -r -a f <<<"${stat##*) }"
		t=$((t + f[11] + f[12] + f[13] + f[14]))
	done
	echo "$t"
}

# tunneld_of CONF: the PID of the instance's tunneld, from its status.
tunneld_of() {
	rm_ctl "$1" status 2>/dev/null | awk '$1 == "tunneld" { for (i = 2; i <= NF; i++)
		if ($i ~ /^pid=/) { sub(/^pid=/, "", $i); print $i } }'
}

# mem PID...: "RSS PSS" in KiB, summed over the processes.
mem() {
	local p r=0 s=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		r=$((r + ${v:-0}))
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$r $s"
}

# blob_get PATH: one GET of the blob; MB/s (10^6 bytes/s), or nothing when it failed.
blob_get() {
	local out
	out=$(curl -s -o /dev/null --max-time 900 -w '%{http_code} %{size_download} %{speed_download}' \
		"${URL[$1]}/v2/bench/big/blobs/$BLOB") || { log "[$1] blob GET failed: $out"; return 1; }
	# shellcheck disable=SC2086 # three numbers
	set -- "$1" $out
	if [ "$2" != 200 ] || [ "$3" != "$BLOB_BYTES" ]; then
		log "[$1] blob GET: status $2, $3 of $BLOB_BYTES bytes"
		return 1
	fi
	awk -v b="$4" 'BEGIN { printf "%.1f\n", b / 1e6 }'
}

MANIFEST_ACCEPT=application/vnd.oci.image.manifest.v1+json

# wrk_run PATH CONNS [ARGS...]: wrk on the manifest by tag; its output in $W/wrk.out,
# 1 (and a log line) on errors or non-2xx answers.
wrk_run() {
	local p=$1 c=$2 t=2 bad
	shift 2
	[ "$c" -lt 2 ] && t=1
	timeout $((WRK_S + 30)) wrk -t$t -c"$c" -d"${WRK_S}s" --timeout 5s "$@" -H "Accept: $MANIFEST_ACCEPT" \
		"${URL[$p]}/v2/bench/big/manifests/latest" >"$W/wrk.out" 2>&1 || { log "[$p] wrk failed"; return 1; }
	cat "$W/wrk.out" >>"$W/wrk-$p.log"
	bad=$(grep -E 'Non-2xx|Socket errors' "$W/wrk.out" | tr -s ' ' | tr '\n' ';')
	[ -z "$bad" ] || { log "[$p] wrk -c$c: $bad"; return 1; }
}

# rps PATH: manifest GET requests/s with 64 connections.
rps() { wrk_run "$1" 64 && awk '/^Requests\/sec:/ { print $2 }' "$W/wrk.out"; }

# latency PATH: "P50 P99 MEAN" of one connection, in ms. On a few cores the one
# connection's latencies are often bimodal (whether the peers sleep between requests),
# so the mean is reported beside the percentiles.
latency() {
	wrk_run "$1" 1 --latency || return 1
	awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
			if (v ~ /s$/) return v * 1000; return v }
		$1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } $1 == "Latency" && $2 != "Distribution" { avg = ms($2) }
		END { if (p50 == "" || p99 == "" || avg == "") exit 1; printf "%.3f %.3f %.3f\n", p50, p99, avg }' "$W/wrk.out"
}

# idle_mem PATH: the relay's memory per idle visitor connection: "RSS PSS" in KiB
# per connection, or nothing (and a log line) when the connections did not all stay.
idle_mem() {
	local p=$1 pids before after open queued port=${URL[$1]##*:}
	# shellcheck disable=SC2086 # RELAY_PIDS holds a command and its argument
	pids=$(${RELAY_PIDS[$p]} | tr '\n' ' ')
	[ -n "${pids// /}" ] || { log "[$p] no relay process found"; return 1; }
	# shellcheck disable=SC2086 # the PIDs are words
	before=$(mem $pids)
	bg "$W/idle-$p.out" python3 -c '
import socket, sys, time
n, port, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
print("ready", len(socks), flush=True)
time.sleep(hold)
open_ = 0
for s in socks:
    s.setblocking(False)
    try:
        open_ += 0 if s.recv(1) == b"" else 1
    except BlockingIOError:
        open_ += 1
print("open", open_, flush=True)' "$IDLE" "$port" 6
	# In this $(...) subshell the holder is a child of the subshell: waited for here.
	wait_for 60 grep -q '^ready' "$W/idle-$p.out" ||
		{ log "[$p] $IDLE connections not made: $(tail -n 1 "$W/idle-$p.out")"; kill "$BG"; wait "$BG"; return 1; }
	sleep 3
	# shellcheck disable=SC2046 # the PIDs are words
	after=$(mem $(${RELAY_PIDS[$p]}))
	# Connections still in the listener's accept queue would cost the relay nothing yet.
	queued=$(ss -Hltn "sport = :$port" | awk '{ q += $2 } END { print q + 0 }')
	log "[$p] relay PIDs $pids: RSS/PSS KiB before $before, after $after; $queued not accepted yet;" \
		"$(ss -Htn state established "dport = :$RM_PORT" | wc -l) connections to the registry"
	[ "$queued" = 0 ] || { log "[$p] $queued visitors were never accepted"; kill "$BG"; wait "$BG"; return 1; }
	wait_for 20 grep -q '^open' "$W/idle-$p.out"
	wait "$BG"
	open=$(awk '$1 == "open" { print $2 }' "$W/idle-$p.out")
	[ "$open" = "$IDLE" ] || { log "[$p] only ${open:-0} of $IDLE idle connections stayed open"; return 1; }
	# shellcheck disable=SC2086 # four numbers
	set -- $before $after
	awk -v r0="$1" -v s0="$2" -v r1="$3" -v s1="$4" -v n="$IDLE" \
		'BEGIN { printf "%.1f %.1f\n", (r1 - r0) / n, (s1 - s0) / n }'
}

# storm_start PATH: --storm loops of wrong passwords at the path's status page (in
# this shell, so that storm_stop and the EXIT trap can stop them).
STORM_PIDS=""
storm_start() {
	local i
	STORM_PIDS=""
	for ((i = 0; i < STORM; i++)); do
		bg "$W/storm-$1-$i.log" bash -c 'while :; do
			curl -s -o /dev/null -w "%{http_code}\n" --max-time 10 -u "admin:wrong$RANDOM" "$0"
		done' "${STATUS_URL[$1]}"
		STORM_PIDS="$STORM_PIDS $BG"
	done
}
storm_stop() {
	local p
	for p in $STORM_PIDS; do stop_pid "$p"; done
	STORM_PIDS=""
}

# storm_round PATH: one connection's latency while the storm runs, into R[PATH.s*].
storm_round() {
	local v
	[ "$STORM" -gt 0 ] && [ -n "${STATUS_URL[$1]:-}" ] || return 0
	storm_start "$1"
	v=$(latency "$1") || v=""
	storm_stop
	# shellcheck disable=SC2086 # three numbers
	[ -n "$v" ] && set -- "$1" $v && R[$1.s50]="${R[$1.s50]:-} $2" &&
		R[$1.s99]="${R[$1.s99]:-} $3" && R[$1.savg]="${R[$1.savg]:-} $4"
	log "[$1] storm round: p50/p99/mean ${v:-n/a} ms; status page answers this round:" \
		"$(cat "$W/storm-$1"-*.log | sort | uniq -c | tr -s ' \n' ' ')"
}

# median VALUES...: their median (n/a if none).
median() {
	printf '%s\n' "$@" | awk '$1 != "" && $1 != "n/a"' | sort -g |
		awk '{ v[++n] = $1 } END { if (!n) { print "n/a"; exit }
			m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2; print m }'
}

# round PATH: one round of the path's figures, appended to R[PATH.*].
round() {
	local p=$1 v c0 c1
	# shellcheck disable=SC2046 # the PIDs are words
	c0=$(cpu_ticks $(${HOP_PIDS[$p]}))
	v=$(blob_get "$p") && R[$p.get]="${R[$p.get]:-} $v"
	# shellcheck disable=SC2046
	c1=$(cpu_ticks $(${HOP_PIDS[$p]}))
	[ -n "$v" ] && R[$p.cpu]="${R[$p.cpu]:-} $(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
		-v b="$BLOB_BYTES" 'BEGIN { printf "%.2f", d / hz / (b / 1073741824) }')"
	v=$(rps "$p") && R[$p.rps]="${R[$p.rps]:-} $v"
	if v=$(latency "$p"); then
		# shellcheck disable=SC2086 # three numbers
		set -- $v
		R[$p.p50]="${R[$p.p50]:-} $1"
		R[$p.p99]="${R[$p.p99]:-} $2"
		R[$p.avg]="${R[$p.avg]:-} $3"
	fi
	log "[$p] round: GET $(echo "${R[$p.get]:-}" | awk '{ print $NF }') MB/s, $(echo "${R[$p.rps]:-}" | awk '{ print $NF }') req/s, p50/p99/mean ${v:-n/a} ms"
	storm_round "$p"
}

# ---------------------------------------------------------------- report

minus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a") print "n/a"; else printf "%+.3f\n", a - b }'; }
fmt() { awk -v a="$1" -v d="$2" 'BEGIN { if (a == "" || a == "n/a") print "n/a"; else printf "%." d "f\n", a }'; }

report() {
	local p get rps p50 p99 avg add adda mem direct50 directavg cpu
	# shellcheck disable=SC2086 # the rounds are words
	direct50=$(median ${R[direct.p50]:-}) directavg=$(median ${R[direct.avg]:-})
	echo
	echo "## tunnel paths ($(date -u +%Y-%m-%d), $(nproc) cores, loopback; blob $MIB MiB, medians of $ROUNDS; wrk ${WRK_S}s)"
	echo
	printf '| %-7s | %9s | %9s | %10s | %7s | %7s | %8s | %9s | %10s | %15s |\n' path "GET MB/s" \
		"hop CPU s" "manif. r/s" "p50 ms" "p99 ms" "mean ms" "added p50" "added mean" "KiB/idle stream"
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' --------- ----------- ----------- ------------ --------- \
		--------- ---------- ----------- ------------ -----------------
	for p in $PATHS; do
		if [ -n "${WHY[$p]:-}" ]; then
			echo "$p: not available (${WHY[$p]})"
			continue
		fi
		# shellcheck disable=SC2086 # the rounds are words
		get=$(median ${R[$p.get]:-}) rps=$(median ${R[$p.rps]:-})
		# shellcheck disable=SC2086
		p50=$(median ${R[$p.p50]:-}) p99=$(median ${R[$p.p99]:-}) avg=$(median ${R[$p.avg]:-})
		# shellcheck disable=SC2086
		cpu=$(median ${R[$p.cpu]:-})
		[ "$p" = direct ] && cpu="-"
		add=$(minus "$p50" "$direct50") adda=$(minus "$avg" "$directavg")
		mem=${R[$p.mem]:-n/a}
		[ "$p" = direct ] && mem="-"
		printf '| %-7s | %9s | %9s | %10s | %7s | %7s | %8s | %9s | %10s | %15s |\n' "$p" "$(fmt "$get" 1)" \
			"$cpu" "$(fmt "$rps" 0)" "$(fmt "$p50" 3)" "$(fmt "$p99" 3)" "$(fmt "$avg" 3)" "$add" "$adda" "$mem"
	done
	echo
	echo "hop CPU s: user+system seconds per GiB of blob GET, summed over every process between visitor and registry"
	echo "KiB/idle stream: VmRSS / PSS of the public side's processes with $IDLE idle visitors, minus before, / $IDLE"
	for p in $PATHS; do
		[ -n "${WHY[$p]:-}" ] || echo "$p rounds: GET${R[$p.get]:-} | req/s${R[$p.rps]:-} | p50${R[$p.p50]:-} | p99${R[$p.p99]:-} | mean${R[$p.avg]:-} | cpu${R[$p.cpu]:-}"
	done
	storm_report
	targets
}

# storm_report: the --storm rows: one connection's latency beside the status page's
# bcrypt storm, and without it (the same rounds).
storm_report() {
	local p
	[ "$STORM" -gt 0 ] || return 0
	echo
	echo "### one connection while $STORM clients send wrong passwords to the relay's status page (bcrypt cost 10)"
	echo
	printf '| %-7s | %13s | %13s | %14s | %11s | %11s |\n' path "storm p50 ms" "storm p99 ms" \
		"storm mean ms" "calm p50 ms" "calm p99 ms"
	printf '|%s|%s|%s|%s|%s|%s|\n' --------- --------------- --------------- ---------------- \
		------------- -------------
	for p in $PATHS; do
		[ -n "${R[$p.s50]:-}" ] || continue
		# shellcheck disable=SC2086 # the rounds are words
		printf '| %-7s | %13s | %13s | %14s | %11s | %11s |\n' "$p" "$(fmt "$(median ${R[$p.s50]})" 3)" \
			"$(fmt "$(median ${R[$p.s99]})" 3)" "$(fmt "$(median ${R[$p.savg]})" 3)" \
			"$(fmt "$(median ${R[$p.p50]:-})" 3)" "$(fmt "$(median ${R[$p.p99]:-})" 3)"
		echo "$p storm rounds: p50${R[$p.s50]} | p99${R[$p.s99]} | mean${R[$p.savg]}"
	done
}

# targets: the issue's targets for the tunnel path, when it and its anchors ran.
targets() {
	local t s
	[ -z "${WHY[tunnel]:-}" ] && [ -n "${R[tunnel.get]:-}" ] || return 0
	echo
	echo "### targets (issue 9)"
	# shellcheck disable=SC2086
	t=$(median ${R[tunnel.get]}) s=$(median ${R[ssh.get]:-})
	awk -v t="$t" -v s="$s" 'BEGIN { if (s == "n/a") print "- GET >= 2x ssh -R: n/a"; else printf "- GET >= 2x ssh -R: %s (%.2fx)\n", t >= 2 * s ? "MET" : "NOT MET", t / s }'
	# shellcheck disable=SC2086
	t=$(median ${R[tunnel.rps]:-}) s=$(median ${R[ssh.rps]:-})
	awk -v t="$t" -v s="$s" 'BEGIN { if (s == "n/a" || t == "n/a") print "- req/s >= 2x ssh -R: n/a"; else printf "- req/s >= 2x ssh -R: %s (%.2fx)\n", t >= 2 * s ? "MET" : "NOT MET", t / s }'
	# shellcheck disable=SC2086
	t=$(median ${R[tunnel.p50]:-}) s=$(median ${R[direct.p50]:-})
	awk -v t="$t" -v s="$s" 'BEGIN { if (s == "n/a" || t == "n/a") print "- added p50 < 0.1 ms: n/a"; else printf "- added p50 < 0.1 ms: %s (%+.3f ms)\n", t - s < 0.1 ? "MET" : "NOT MET", t - s }'
	s=${R[tunnel.mem]:-n/a}
	awk -v m="${s%% *}" 'BEGIN { if (m == "n/a" || m == "") print "- relay memory < 16 KiB per idle stream: n/a"; else printf "- relay memory < 16 KiB per idle stream: %s (%.1f KiB RSS)\n", m < 16 ? "MET" : "NOT MET", m }'
}

# ---------------------------------------------------------------- main

if [ "$STORM" -gt 0 ]; then
	command -v htpasswd >/dev/null || { echo "bench_tunnel.sh: --storm needs htpasswd" >&2; exit 1; }
	STORM_HASH=$(htpasswd -nbB -C 10 admin "$(head -c 16 /dev/urandom | sha256sum | cut -c1-20)" | cut -d: -f2-)
fi
origin_start || { echo "bench_tunnel.sh: the registry could not be set up" >&2; exit 1; }
case $PATHS in *direct*) ;; *) log "no direct path: the added p50 column stays n/a" ;; esac
UP=""
for p in $PATHS; do
	log "[$p] setting up"
	if "${p}_setup"; then UP="$UP $p"; else log "[$p] not available: ${WHY[$p]:-?}"; fi
done
# The memory row first, on relays nothing has loaded yet: after the rounds, memory the
# relay freed stays resident and would hide what idle streams cost.
for p in $UP; do
	[ "$p" = direct ] && continue
	log "[$p] $IDLE idle visitors"
	R[$p.mem]=$(idle_mem "$p") && R[$p.mem]=$(echo "${R[$p.mem]}" | awk '{ printf "%s / %s", $1, $2 }') || R[$p.mem]=n/a
done
direct_setup
blob_get direct >/dev/null || true   # the page cache holds the blob from here on
for ((r = 1; r <= ROUNDS; r++)); do
	for p in $UP; do round "$p"; done
done
report
