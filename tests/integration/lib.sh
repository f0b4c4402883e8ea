# shellcheck shell=bash
# lib.sh — harness for regmaster's shell integration suites. Sourced, never run.
#
# A suite looks like:
#   #!/bin/bash
#   set -u
#   . "$(dirname "$0")/lib.sh"
#   body() { t_init demo; t_start; t_check "v2 answers" t_http_is 200 "$T_URL/v2/"; t_stop; }
#   t_run_modes body
#   t_summary
#
# Environment (all optional):
#   top_builddir, top_srcdir  build and source tree (default: two levels above this file)
#   REGMASTER                 the CLI binary (default: $top_builddir/master/regmaster)
#   REGMASTER_LIBEXECDIR      where workers are found (default: $top_builddir)
#   T_CMD_TIMEOUT             seconds any single regmaster command may take (default 20)
#   T_RESTART_TIMEOUT         seconds a killed worker has to be respawned (default 2)
#   T_SUITE_TIMEOUT           seconds the user-mode re-run may take as a whole (default 900)
#   T_KEEP=1                  keep temp dirs (for post-mortems)
#
# Modes: as root, t_run_modes runs the body once as root (privilege separation: worker
# users, chroots) and then re-runs the whole suite as the unprivileged user
# regmaster-test from a private copy of the binaries; as any other user it runs once.
# The counts of both runs add up into the one `N passed, N failed` line of t_summary.
#
# Safety: regmaster is stopped with its own `stop` verb, then by the PID in its pidfile;
# leftover workers only by PIDs this harness recorded and whose cmdline still reads
# "regmaster:". Nothing is ever killed by name.

T_LIB_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
T_SUITE_PATH=$(realpath -- "$0")
: "${top_builddir:=$(cd -- "$T_LIB_DIR/../.." && pwd)}"
: "${top_srcdir:=$(cd -- "$T_LIB_DIR/../.." && pwd)}"
: "${REGMASTER:=$top_builddir/master/regmaster}"
: "${REGMASTER_LIBEXECDIR:=$top_builddir}"
: "${T_CMD_TIMEOUT:=20}"
: "${T_RESTART_TIMEOUT:=2}"
: "${T_SUITE_TIMEOUT:=900}"
: "${T_KEEP:=0}"
export top_builddir top_srcdir REGMASTER REGMASTER_LIBEXECDIR

T_WORKERS="httpd storaged authd tunneld gcd"
T_TEST_USER=regmaster-test

T_PASS=0
T_FAIL=0
T_SKIP=0
T_NUM=${T_NUM_START:-0}   # a user-mode re-run continues the root run's numbering
T_MODE=user
[ "$(id -u)" -eq 0 ] && T_MODE=root
T_INSTANCES=()     # every instance dir t_init made; the cleanup trap walks them
T_PORTS_USED=" "   # ports handed out by this process, so two instances never share one
T_USER_AREA=""     # root mode: the private tree the user-mode re-run works in
T_OUT=""           # output of the last t_rm command
T_RC=0             # exit status of the last t_rm command
T_STATUS=""        # output of the last t_status

# ---------------------------------------------------------------- reporting

# t_diag TEXT...: a diagnostic line; never counted.
t_diag() { printf '# %s\n' "$@"; }

# ok DESC: count and print a pass.
ok() {
	T_NUM=$((T_NUM + 1))
	T_PASS=$((T_PASS + 1))
	printf 'ok %d - [%s] %s\n' "$T_NUM" "$T_MODE" "$1"
}

# fail DESC [DETAIL...]: count and print a failure, with details indented below it.
fail() {
	local line
	T_NUM=$((T_NUM + 1))
	T_FAIL=$((T_FAIL + 1))
	printf 'FAIL %d - [%s] %s\n' "$T_NUM" "$T_MODE" "$1"
	shift
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

# t_check DESC CMD...: ok if CMD succeeds, else fail (with T_OUT when CMD left one).
t_check() {
	local desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		fail "$desc" "command: $*"
		return 1
	fi
}

# skip DESC REASON: count a check that cannot run here (not root, no tool), with why.
skip() {
	T_NUM=$((T_NUM + 1))
	T_SKIP=$((T_SKIP + 1))
	printf 'ok %d - [%s] %s # SKIP %s\n' "$T_NUM" "$T_MODE" "$1" "$2"
}

# t_summary: the final line, `N passed, N failed` (then `, N skipped` when some were);
# non-zero exit on any failure, 77 (automake's SKIP) when every check was skipped.
t_summary() {
	if [ "$T_SKIP" -gt 0 ]; then
		printf '%d passed, %d failed, %d skipped\n' "$T_PASS" "$T_FAIL" "$T_SKIP"
	else
		printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
	fi
	[ "$T_FAIL" -eq 0 ] || exit 1
	[ "$T_PASS" -eq 0 ] && [ "$T_SKIP" -gt 0 ] && exit 77
	exit 0
}

# ---------------------------------------------------------------- time and polling

# t_now_ms: wall clock in milliseconds (EPOCHREALTIME avoids a fork per poll).
t_now_ms() {
	local t=${EPOCHREALTIME:-}
	if [ -n "$t" ]; then
		t=${t/,/.}
		printf '%s\n' "$(( ${t%.*} * 1000 + 10#$(printf '%.3s' "${t#*.}") ))"
	else
		date +%s%3N
	fi
}

# t_wait_until TIMEOUT_S CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout.
# Bounded both by the clock and by an iteration count, so a CMD that hangs briefly or
# a clock jump cannot make it spin forever.
t_wait_until() {
	local timeout=$1 deadline i max
	shift
	deadline=$(( $(t_now_ms) + ${timeout%.*} * 1000 ))
	max=$(( ${timeout%.*} * 10 + 10 ))
	for ((i = 0; i < max; i++)); do
		"$@" && return 0
		[ "$(t_now_ms)" -ge "$deadline" ] && break
		sleep 0.1
	done
	"$@"
}

# ---------------------------------------------------------------- HTTP

# T_NS_CMD: the prefix running a command where the current instance lives: empty on
# the host, (ip netns exec NS) once t_ns_use NS chose a namespace. The helpers that
# start regmaster or a peer, or ask it over HTTP, go through it.
T_NS_CMD=()

# t_ns_use [NS]: run the following instance and HTTP helpers inside NS (none: the host).
t_ns_use() {
	T_NS_CMD=()
	[ -z "${1:-}" ] || T_NS_CMD=(ip netns exec "$1")
}

# t_http_code URL: print the HTTP status of a GET (000 when no answer at all).
t_http_code() {
	local code
	code=$("${T_NS_CMD[@]}" curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null)
	printf '%s\n' "${code:-000}"
}

# t_http_is STATUS URL: succeed when GET URL answers STATUS.
t_http_is() { [ "$(t_http_code "$2")" = "$1" ]; }

# t_wait_http URL STATUS TIMEOUT: wait until URL answers STATUS; 1 on timeout.
t_wait_http() { t_wait_until "$3" t_http_is "$2" "$1"; }

# ---------------------------------------------------------------- ports

# t_port_in_use PORT: something listens on TCP PORT (any address).
t_port_in_use() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
		return
	fi
	# No ss: listening sockets are state 0A in /proc/net/tcp{,6}, port in hex.
	grep -qiE "^ *[0-9]+: [0-9A-F]+:$(printf '%04X' "$1") [0-9A-F]+:[0-9A-F]+ 0A" \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# t_pick_port: print a free loopback port in 20000-60000, preferring ports outside the
# kernel's ephemeral range (an outgoing connection could take one of those meanwhile).
t_pick_port() {
	local lo=0 hi=0 i p
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40001 ))
		if [ "$i" -lt 150 ] && [ "$lo" -gt 21000 ] && [ "$p" -ge "$lo" ] && [ "$p" -le "$hi" ]; then
			continue
		fi
		case $T_PORTS_USED in *" $p "*) continue ;; esac
		t_port_in_use "$p" && continue
		T_PORTS_USED="$T_PORTS_USED$p "
		printf '%s\n' "$p"
		return 0
	done
	return 1
}


# ---------------------------------------------------------------- HTTP helpers
# For suites that drive the API with curl; they set HDR and BODY (file paths)
# and read CODE after each request.
# shellcheck disable=SC2153 # HDR and BODY are the suite's

# req METHOD PATH [CURL ARGS...]: one request; sets CODE, headers in $HDR, body in $BODY.
# T_CURL_ARGS (an array, empty unless a suite sets it) goes on every request: a CA to
# trust, credentials.
T_CURL_ARGS=()
req() {
	local m=$1 p=$2
	shift 2
	case $p in http*) ;; *) p=$T_URL$p ;; esac
	if [ "$m" = HEAD ]; then
		CODE=$("${T_NS_CMD[@]}" curl -s --max-time 60 -I -D "$HDR" -o /dev/null -w '%{http_code}' \
			"${T_CURL_ARGS[@]}" "$@" "$p")
		: >"$BODY"
	else
		CODE=$("${T_NS_CMD[@]}" curl -s --max-time 60 -X "$m" -D "$HDR" -o "$BODY" -w '%{http_code}' \
			"${T_CURL_ARGS[@]}" "$@" "$p")
	fi
}

# hval NAME: the value of response header NAME (last one), CR stripped.
hval() {
	tr -d '\r' <"$HDR" | awk -v n="$1" 'BEGIN { n = tolower(n) }
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); r = v } }
		END { print r }'
}

# what: the last response, for failure details.
what() { printf 'status %s\n%s\nbody: %s\n' "$CODE" "$(tr -d '\r' <"$HDR")" "$(head -c 600 "$BODY")"; }

# t_serve NAME: a new instance NAME, started and answering /v2/, with the
# request helpers' HDR and BODY files in its directory; jq must be there
# (the API suites read JSON with it). Fails (counted) otherwise.
t_serve() {
	t_init "$1" || return 1
	t_start || {
		fail "start regmaster" "$T_OUT"
		return 1
	}
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	if ! t_wait_http "$T_URL/v2/" 200 10; then
		fail "the registry answers /v2/" "$(t_http_code "$T_URL/v2/")"
		return 1
	fi
	if ! command -v jq >/dev/null 2>&1; then
		fail "jq is installed (the suite reads JSON with it)"
		return 1
	fi
}

# is_code DESC STATUS: the last status is STATUS.
is_code() {
	if [ "$CODE" = "$2" ]; then ok "$1"; else fail "$1" "want $2" "$(what)"; fi
}

# is_err DESC STATUS CODE: status and an OCI error body carrying CODE.
is_err() {
	if [ "$CODE" = "$2" ] && grep -q "\"code\":\"$3\"" "$BODY"; then
		ok "$1"
	else
		fail "$1" "want $2 $3" "$(what)"
	fi
}

# is_hdr DESC NAME VALUE: the last response's header NAME is exactly VALUE.
is_hdr() {
	local v
	v=$(hval "$2")
	if [ "$v" = "$3" ]; then ok "$1"; else fail "$1" "want $2: $3" "got: $v" "$(what)"; fi
}

# loc: the path of the last Location header (an absolute URL loses its origin).
loc() {
	local l
	l=$(hval Location)
	case $l in http://* | https://*) l=/${l#*://*/} ;; esac
	printf '%s\n' "$l"
}

# same DESC WANT GOT [DETAIL...]: ok when WANT = GOT, else a failure showing both.
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "want: $2" "got:  $3" "${@:4}"
	fi
}

# dg FILE: the sha256 digest of FILE.
dg() { printf 'sha256:%s\n' "$(sha256sum "$1" | cut -d' ' -f1)"; }

# build_images DIR [OPTIONS...]: a fresh image set (random content) from mkimages.sh
# (OPTIONS: its -b MIB for a big one), its digests in DIR.digests.
build_images() {
	if bash "$T_LIB_DIR/mkimages.sh" "${@:2}" "$1" >"$1.digests" 2>"$1.err"; then
		return 0
	fi
	fail "mkimages.sh builds the test images" "$(cat "$1.err")"
	return 1
}

# t_skopeo_copy DESC ARGS...: `skopeo copy -q ARGS` (bounded); ok DESC, or fail with
# skopeo's output.
t_skopeo_copy() {
	local desc=$1
	shift
	if "${T_NS_CMD[@]}" timeout 120 skopeo copy -q "$@" >"$T_DIR/sk.out" 2>&1; then
		ok "$desc"
		return 0
	fi
	fail "$desc" "$(cat "$T_DIR/sk.out")"
	return 1
}

# img_digest DIR NAME: the digest mkimages.sh reported for image NAME of set DIR.
img_digest() { awk -v n="$2" '$1 == n { print $2 }' "$1.digests"; }

# ---------------------------------------------------------------- the store and gc

blobdir() { printf '%s/docker/registry/v2/blobs/sha256\n' "$T_STORE"; }

# store_blobs: every blob of the store, "sha256:HEX" a line, sorted.
store_blobs() {
	find "$(blobdir)" -name data -type f 2>/dev/null |
		sed 's|.*/\([0-9a-f]\{64\}\)/data$|sha256:\1|' | sort
}

# rehash_all: every blob's data hashes to its directory's name.
rehash_all() {
	local f h bad=0
	while IFS= read -r f; do
		h=$(sha256sum "$f" | cut -d' ' -f1)
		[ "$(basename "$(dirname "$f")")" = "$h" ] || { t_diag "bad blob $f"; bad=1; }
	done < <(find "$(blobdir)" -name data -type f)
	return "$bad"
}

# layout_set LAYOUT: the blobs of an OCI layout, sorted.
layout_set() { (cd "$1/blobs/sha256" && printf 'sha256:%s\n' *) | sort; }

# has_all SET LIST: every line of LIST is in SET (both sorted).
has_all() { [ -z "$(comm -13 <(printf '%s\n' "$1") <(printf '%s\n' "$2"))" ]; }
has_none() { [ -z "$(comm -12 <(printf '%s\n' "$1") <(printf '%s\n' "$2"))" ]; }

# swept_left: the directories a sweep renamed (.regmaster-swept-HEX) that storaged
# has not freed yet, under blobs/ and the repositories' _layers.
swept_left() {
	find "$T_STORE/docker/registry/v2" -name '.regmaster-swept-*' 2>/dev/null
}

# gc_run ARGS...: `regmaster gc ARGS`; its output in GC_OUT.  A run frees what it
# swept on a thread after it ends: waited for (30 s at most), so that the store
# checks after it see the store as the next run would.
gc_run() {
	local i
	T_CMD_TIMEOUT=120 t_rm gc "$@"
	GC_OUT=$T_OUT
	t_diag "gc $*: $(tail -1 <<<"$GC_OUT")"
	for i in $(seq 1 300); do
		[ -z "$(swept_left)" ] && break
		sleep 0.1
	done
	return "$T_RC"
}

# gc_field WORD: the number before WORD in the last gc summary line (gc_run's).
gc_field() { tail -1 <<<"$GC_OUT" | grep -o "[0-9]* $1" | head -1 | cut -d' ' -f1; }

# t_relay_conf MPORT RELAY_PORT TOKEN PORTS [MORE]: the current instance's config as a
# relay on 127.0.0.1 (only master and tunneld run; metrics on MPORT), publishing PORTS;
# MORE (libconfig settings) goes into tunnel.relay too.
t_relay_conf() {
	cat >"$T_CONF" <<EOF
run_dir = "$T_RUN";
log_level = "debug";
log_file = "$T_DIR/log";
storage = { root = "$T_STORE"; };
auth = { dir = "$T_AUTH"; };
workers = { httpd = false; storaged = false; authd = false; tunneld = true; gcd = false; };
metrics = { listen = [ "127.0.0.1:$1" ]; };
tunnel = { relay = { listen = [ "127.0.0.1:$2" ]; token = "$3";
	ports = "$4"; bind_address = "127.0.0.1"; ${5:-} }; };
EOF
}

# t_pki_make DIR: DIR/ca.crt and its key, DIR/server.crt and .key for localhost and
# 127.0.0.1 and ::1, and DIR/certs/ca.crt (a cert dir for containers/image clients).
t_pki_make() {
	local d=$1
	mkdir -p "$d/certs" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-keyout "$d/ca.key" -out "$d/ca.crt" -subj /CN=regmaster-test-ca \
		>/dev/null 2>&1 &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
			-CA "$d/ca.crt" -CAkey "$d/ca.key" -keyout "$d/server.key" \
			-out "$d/server.crt" -subj /CN=localhost \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
			-addext "basicConstraints=critical,CA:FALSE" \
			-addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1 &&
		chmod 0600 "$d/server.key" && cp -- "$d/ca.crt" "$d/certs/ca.crt"
}

# t_tls_token_upstream NAME USER PW [USER PW]...: a regmaster instance NAME, started,
# as the cache suites' upstream: TLS with a certificate of a CA made here (PKI), token
# auth, the users in its htpasswd. Its https host:port in UP_TLS, its log in UP_LOG.
PKI=""
# shellcheck disable=SC2034 # the suites use them
UP_TLS="" UP_LOG=""
t_tls_token_upstream() {
	local tport
	t_init "$1" || return 1
	shift
	t_pki_make "$T_DIR/pki" || {
		fail "openssl makes the CA and the upstream's certificate"
		return 1
	}
	PKI=$T_DIR/pki
	tport=$(t_pick_port) || return 1
	sed -i '/^http = /d; /^auth = /d' "$T_CONF"
	cat >>"$T_CONF" <<EOF
log_file = "$T_DIR/regmaster.log";
http = { listen = [ "127.0.0.1:$T_PORT" ]; tls_listen = [ "127.0.0.1:$tport" ]; };
tls = { certificate = [ "$PKI/server.crt" ]; key = [ "$PKI/server.key" ]; };
auth = { dir = "$T_AUTH"; htpasswd = "$T_AUTH/htpasswd"; token = true; };
EOF
	: >"$T_AUTH/htpasswd"
	while [ $# -ge 2 ]; do
		htpasswd -bB -C 5 "$T_AUTH/htpasswd" "$1" "$2" >/dev/null 2>&1 || {
			fail "htpasswd adds user $1"
			return 1
		}
		shift 2
	done
	t_check "the upstream regmaster starts (TLS, token auth)" t_start || return 1
	# shellcheck disable=SC2034 # the suites use them
	UP_TLS=127.0.0.1:$tport UP_LOG=$T_DIR/regmaster.log
}

# t_images NAME [OPTIONS...]: a fresh image set (build_images DIR OPTIONS) in IMGS,
# readable by the worker users, removed with the instances.
IMGS=""
t_images() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/regmaster-$1-img.XXXXXX") || return 1
	T_INSTANCES+=("$d")
	# a level down: build_images writes its digests and errors beside IMGS
	IMGS=$d/img
	mkdir -p "$IMGS" && chmod 0755 "$d" "$IMGS" || return 1
	build_images "$IMGS" "${@:2}"
}

# t_cache_images NAME: the tools the cache suites need are there, and a fresh image set
# with a 256 MiB image (mkimages.sh -b 256) is in IMGS, removed with the instances.
t_cache_images() {
	local tool
	for tool in "$DOCKER_REGISTRY" skopeo jq curl openssl htpasswd python3; do
		command -v "$tool" >/dev/null 2>&1 && continue
		fail "$tool is installed (the $1 suite needs it)"
		return 1
	done
	t_images "$1" -b 256
}

# layout_blob_digests LAYOUT: the config and layer digests of an OCI layout's image.
layout_blob_digests() {
	local m
	m=$(jq -r '.manifests[0].digest' "$1/index.json")
	jq -r '.config.digest, .layers[].digest' "$1/blobs/sha256/${m#sha256:}"
}

# log_reqs LOG METHOD PATH [MARK]: how many `METHOD PATH` requests the regmaster that
# writes LOG logged (past byte MARK).
log_reqs() { tail -c +"$((${4:-0} + 1))" "$1" 2>/dev/null | grep -c -- ": $2 $3\$"; }

# t_cert_fingerprint CRT: sha256:HEX of a PEM certificate, as tunnel.client.fingerprint
# and the relay's log write it.
t_cert_fingerprint() {
	printf 'sha256:%s\n' "$(openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null |
		sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')"
}

# ---------------------------------------------------------------- instances

# t_write_config FILE: the minimal config of the current instance (see t_init).
t_write_config() {
	cat >"$1" <<EOF
# regmaster integration test instance $T_NAME ($T_MODE mode)
run_dir = "$T_RUN";
log_level = "debug";
http = { listen = [ "127.0.0.1:$T_PORT" ]; };
metrics = { listen = [ "127.0.0.1:$T_MPORT" ]; };
storage = { root = "$T_STORE"; delete = true; };
auth = { dir = "$T_AUTH"; };
workers = { httpd = true; storaged = true; authd = true; tunneld = true; gcd = true; };
EOF
}

# t_init NAME: a fresh instance: temp dir, free port, config. Sets
#   T_NAME T_DIR T_CONF T_RUN T_STORE T_AUTH T_PORT T_URL T_PIDFILE T_LIBEXEC
#   T_MPORT T_MURL (the metrics listener: its own free port, never the default)
# The store and auth dirs are made empty here; under root, regmaster itself must give
# them to the worker users. Configs a test writes by hand should keep run_dir = $T_RUN,
# so the cleanup finds any master such a config manages to start.
t_init() {
	T_NAME=$1
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/regmaster-$1.XXXXXX") || {
		fail "t_init $1: mktemp"
		return 1
	}
	T_DIR=$(realpath -- "$T_DIR")
	T_INSTANCES+=("$T_DIR")
	# World-traversable so the worker users can reach their chroots through it.
	chmod 0755 "$T_DIR"
	T_RUN=$T_DIR/run
	T_STORE=$T_DIR/store
	T_AUTH=$T_DIR/auth
	T_CONF=$T_DIR/regmaster.conf
	T_PIDFILE=$T_RUN/regmaster.pid
	T_LIBEXEC=$REGMASTER_LIBEXECDIR
	mkdir -p "$T_RUN" "$T_STORE" "$T_AUTH"
	: >"$T_DIR/pids"
	# Put into regmaster's environment so this instance's processes can be recognised
	# even after their parent is gone (if master passes its environment on).
	T_TAG="regmaster-itest-$$-$1-$RANDOM"
	printf '%s\n' "$T_TAG" >"$T_DIR/tag"
	T_PORT=$(t_pick_port) || {
		fail "t_init $1: no free port"
		return 1
	}
	# shellcheck disable=SC2034 # the suites use it
	T_URL="http://127.0.0.1:$T_PORT"
	T_MPORT=$(t_pick_port) || {
		fail "t_init $1: no free port for metrics"
		return 1
	}
	# shellcheck disable=SC2034 # the suites use it
	T_MURL="http://127.0.0.1:$T_MPORT"
	t_write_config "$T_CONF"
	t_diag "instance $T_NAME: dir $T_DIR port $T_PORT"
}

# t_save_instance KEY: remember the current instance (the variables t_init sets) under
# KEY, a word of letters, digits and _; t_use_instance KEY makes it current again. For
# suites that run several instances side by side (test_tunnel.sh: a relay and clients).
T_INSTANCE_VARS="T_NAME T_DIR T_CONF T_RUN T_STORE T_AUTH T_PORT T_URL T_PIDFILE T_LIBEXEC T_TAG"
t_save_instance() {
	local v
	for v in $T_INSTANCE_VARS; do printf -v "T_SAVED_${1}_$v" '%s' "${!v}"; done
}
t_use_instance() {
	local v n
	for v in $T_INSTANCE_VARS; do
		n=T_SAVED_${1}_$v
		printf -v "$v" '%s' "${!n}"
	done
}

# t_rm ARGS...: run regmaster (bounded by T_CMD_TIMEOUT) on the current instance's
# config; sets T_RC and T_OUT (stdout+stderr). Output goes through a file, never a
# pipe, so a daemon that kept our stdout open could not hang the harness.
t_rm_conf() {
	local conf=$1 out=$T_DIR/last.out
	shift
	REGMASTER_LIBEXECDIR=$T_LIBEXEC REGMASTER_TEST_TAG=$T_TAG "${T_NS_CMD[@]}" \
		timeout -k 5 "$T_CMD_TIMEOUT" "$REGMASTER" -c "$conf" "$@" >"$out" 2>&1 </dev/null
	T_RC=$?
	T_OUT=$(cat "$out")
	return "$T_RC"
}
t_rm() { t_rm_conf "$T_CONF" "$@"; }

# rm_in INPUT ARGS...: regmaster with INPUT on stdin; sets T_RC and T_OUT.
rm_in() {
	local input=$1 out=$T_DIR/last.out
	shift
	REGMASTER_LIBEXECDIR=$T_LIBEXEC "${T_NS_CMD[@]}" timeout -k 5 "$T_CMD_TIMEOUT" \
		"$REGMASTER" -c "$T_CONF" "$@" >"$out" 2>&1 <<<"$input"
	T_RC=$?
	T_OUT=$(cat "$out")
	return "$T_RC"
}

# t_pidfile_pid [FILE]: the PID in a pidfile (default: the instance's), if it is one.
t_pidfile_pid() {
	local f=${1:-$T_PIDFILE} pid=""
	[ -r "$f" ] || return 1
	read -r pid _ <"$f" || [ -n "$pid" ] || return 1
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	printf '%s\n' "$pid"
}

# t_is_ours PID: PID is alive and is a regmaster process (cmdline "regmaster:...").
# A zombie has an empty cmdline, so it does not count as alive.
t_is_ours() {
	local cmd
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")
	case $cmd in "regmaster:"*) return 0 ;; esac
	return 1
}

# t_cmdline PID: the process's cmdline with NULs as spaces, trailing blanks dropped.
t_cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | sed 's/ *$//'; }

# t_proc_start PID: the process's start time (clock ticks since boot, /proc/PID/stat
# field 22); with the PID it names one process even after the PID is reused.
t_proc_start() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# Fields after the command name, which may hold spaces and ends at the last ")".
	local -a f
	read -r -a f <<<"${stat##*) }"
	[ "${#f[@]}" -ge 20 ] && printf '%s\n' "${f[19]}"
}

# t_record_pid PID: remember a live process of the current instance ("PID START" in
# $T_DIR/pids) for the leftover checks and the cleanup.
t_record_pid() {
	local st
	[ -n "$1" ] || return 0
	st=$(t_proc_start "$1") || return 0
	grep -qx "$1 $st" "$T_DIR/pids" 2>/dev/null || printf '%s %s\n' "$1" "$st" >>"$T_DIR/pids"
}

# t_recorded_alive [DIR]: recorded PIDs that are still the very process recorded and
# still a regmaster process. Another user's regmaster that got a reused PID is not ours.
t_recorded_alive() {
	local pid st
	while read -r pid st; do
		[ -n "$pid" ] && t_is_ours "$pid" && [ "$(t_proc_start "$pid")" = "$st" ] &&
			printf '%s\n' "$pid"
	done 2>/dev/null <"${1:-$T_DIR}/pids"
}

# t_status: run `status`; sets T_STATUS and records every PID it lists.
t_status() {
	local rc p
	t_rm status
	rc=$T_RC
	T_STATUS=$T_OUT
	for p in $(printf '%s\n' "$T_STATUS" | grep -oE '(\(pid |pid=)[0-9]+' | grep -oE '[0-9]+'); do
		t_record_pid "$p"
	done
	return "$rc"
}

# t_status_master_pid: the PID from the first status line `regmaster: running (pid N)`.
t_status_master_pid() {
	printf '%s\n' "$T_STATUS" | sed -n '1s/^regmaster: running (pid \([0-9][0-9]*\)).*/\1/p'
}

# t_worker_field NAME FIELD: FIELD (pid, uptime, restarts, state) of worker NAME from
# the last t_status; uptime loses its "s".
t_worker_field() {
	printf '%s\n' "$T_STATUS" | awk -v n="$1" -v f="$2" '
		$1 == n { for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k)
			if (k == f) { v = $i; sub(/^[^=]*=/, "", v); sub(/s$/, "", v); print v; exit } } }'
}
t_worker_pid() { t_worker_field "$1" pid; }

# t_all_running: a fresh status lists every worker with state=running.
t_all_running() {
	local w
	t_status || return 1
	for w in $T_WORKERS; do
		[ "$(t_worker_field "$w" state)" = running ] || return 1
	done
}

# t_start [ARGS...]: `regmaster start`; on success records master's PID from the pidfile
# and waits (bounded) until status lists every worker running. Returns start's status;
# what start printed stays in T_START_OUT (T_OUT is the last status's by then).
# shellcheck disable=SC2034 # the suites read it
T_START_OUT=""
t_start() {
	local pid
	t_rm start "$@"
	# shellcheck disable=SC2034 # the suites read it
	T_START_OUT=$T_OUT
	if [ "$T_RC" -ne 0 ]; then
		t_diag "start exited $T_RC:" "$T_OUT"
		return "$T_RC"
	fi
	pid=$(t_pidfile_pid) && t_record_pid "$pid"
	t_wait_until 10 t_all_running || t_diag "not all workers running 10 s after start:" "$T_STATUS"
	return 0
}

# t_gone PID...: none of the PIDs is a live regmaster process.
t_gone() {
	local p
	for p in "$@"; do t_is_ours "$p" && return 1; done
	return 0
}

# t_stop: `regmaster stop`, then wait (bounded) for the master PID to vanish.
t_stop() {
	local pid rc
	pid=$(t_pidfile_pid)
	t_rm stop
	rc=$T_RC
	[ -n "$pid" ] && t_wait_until 10 t_gone "$pid"
	return "$rc"
}

# t_ancestors_include PID ANCESTORS: PID descends from one of the space-separated PIDs.
t_ancestors_include() {
	local p=$1 i pp
	for ((i = 0; i < 64; i++)); do
		pp=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		case $pp in '' | 0 | 1) return 1 ;; esac
		case " $2 " in *" $pp "*) return 0 ;; esac
		p=$pp
	done
	return 1
}

# t_leftovers [DIR]: print live regmaster processes belonging to an instance (default
# the current one): recorded PIDs, descendants of its masters, processes chrooted under
# its dir, and processes carrying this run's tag in their environment.
t_leftovers() {
	local dir=${1:-$T_DIR} recorded p pid
	recorded=$(t_recorded_alive "$dir" | tr '\n' ' ')
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		t_is_ours "$pid" || continue
		if case " $recorded " in *" $pid "*) true ;; *) false ;; esac ||
			t_ancestors_include "$pid" "$recorded" || t_belongs_to "$pid" "$dir"; then
			printf '%s\n' "$pid"
		fi
	done
}

# t_belongs_to PID DIR: the process is chrooted under the instance DIR or carries its
# tag in its environment (both unreadable for other users' processes: then it is not).
t_belongs_to() {
	local root tag=""
	root=$(readlink "/proc/$1/root" 2>/dev/null)
	case $root in "$2" | "$2"/*) return 0 ;; esac
	read -r tag 2>/dev/null <"$2/tag"
	[ -n "$tag" ] && tr '\0' '\n' 2>/dev/null <"/proc/$1/environ" | grep -qx "REGMASTER_TEST_TAG=$tag"
}

# t_proc_status PID FIELD: a field of /proc/PID/status, tabs squeezed to single spaces.
t_proc_status() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status" 2>/dev/null
}

# t_worker_path NAME: the worker binary REGMASTER_LIBEXECDIR resolves NAME to, the
# same way regmaster does (DIR/NAME/NAME, else DIR/NAME).
t_worker_path() {
	local d=${2:-$REGMASTER_LIBEXECDIR}
	if [ -f "$d/$1/$1" ]; then
		printf '%s\n' "$d/$1/$1"
	else
		printf '%s\n' "$d/$1"
	fi
}

# t_require_tools TOOL...: fail (counted) for each tool not on PATH; 1 if any is missing.
t_require_tools() {
	local tool missing=0
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 && continue
		fail "$tool is installed (this suite exists to run it)"
		missing=1
	done
	return "$missing"
}

# t_require_binaries: fail (counted) when the binaries under test are missing.
t_require_binaries() {
	local w missing=""
	[ -x "$REGMASTER" ] || missing="$missing $REGMASTER"
	for w in $T_WORKERS; do
		[ -x "$(t_worker_path "$w")" ] || missing="$missing $(t_worker_path "$w")"
	done
	[ -z "$missing" ] && return 0
	fail "binaries under test exist" "missing:$missing" "build first: ./configure && make"
	return 1
}

# ---------------------------------------------------------------- cleanup

# t_kill_pid PID: TERM, then KILL, a process that is still a regmaster process.
t_kill_pid() {
	t_is_ours "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	t_wait_until 5 t_gone "$1" && return 0
	kill -KILL "$1" 2>/dev/null
	t_wait_until 2 t_gone "$1"
}

# t_stop_peer PID IS_OURS: stop a peer server the suite started (docker-registry,
# containerd) by PID: TERM while IS_OURS (a command: PID still runs that server, not a
# reused PID), KILL if it still runs after 10 s; then reap it.
t_stop_peer() {
	local pid=$1 is_ours=$2
	[ -n "$pid" ] || return 0
	if "$is_ours"; then
		kill -TERM "$pid" 2>/dev/null
		t_wait_until 10 t_not "$is_ours" || kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}
t_not() { ! "$@"; }

# t_cleanup_instance DIR: stop whatever runs from that instance, then remove it.
t_cleanup_instance() {
	local dir=$1 pid p left
	pid=$(t_pidfile_pid "$dir/run/regmaster.pid")
	if [ -n "$pid" ] && t_is_ours "$pid"; then
		t_diag "cleanup: stopping master $pid of $dir"
		# regmaster's own stop only ever acts on this instance's run_dir.
		REGMASTER_LIBEXECDIR=${T_LIBEXEC:-$REGMASTER_LIBEXECDIR} \
			timeout -k 5 "$T_CMD_TIMEOUT" "$REGMASTER" -c "$dir/regmaster.conf" stop \
			>/dev/null 2>&1 </dev/null
		if ! t_wait_until 5 t_gone "$pid"; then
			# Signals only when the PID is provably this instance's master.
			if t_recorded_alive "$dir" | grep -qx "$pid" || t_belongs_to "$pid" "$dir"; then
				t_kill_pid "$pid"
			else
				t_diag "cleanup: $pid in $dir's pidfile is not known to be ours; left alone"
			fi
		fi
	fi
	left=$(t_leftovers "$dir" | tr '\n' ' ')
	if [ -n "${left// /}" ]; then
		t_diag "cleanup: killing leftover regmaster processes of $dir: $left"
		for p in $left; do t_kill_pid "$p"; done
	fi
	if [ "$T_KEEP" = 1 ]; then
		t_diag "kept $dir"
	else
		rm -rf -- "$dir"
	fi
}

# t_cleanup: the EXIT trap; idempotent.
t_cleanup() {
	local d f
	for d in "${T_INSTANCES[@]}"; do
		[ -d "$d" ] && t_cleanup_instance "$d"
	done
	T_INSTANCES=()
	if [ -n "$T_USER_AREA" ] && [ -d "$T_USER_AREA" ]; then
		# A user-mode run that died leaves its instances behind: stop their masters.
		for f in "$T_USER_AREA"/tmp/regmaster-*/run/regmaster.pid; do
			[ -e "$f" ] && t_cleanup_instance "${f%/run/regmaster.pid}"
		done
		[ "$T_KEEP" = 1 ] || rm -rf -- "$T_USER_AREA"
		T_USER_AREA=""
	fi
	t_chromium_reap
	t_bg_stop_all
	ns_cleanup
}
trap t_cleanup EXIT
trap 't_cleanup; trap - EXIT; exit 130' INT
trap 't_cleanup; trap - EXIT; exit 143' TERM

# ---------------------------------------------------------------- docker-registry
# Debian's docker-registry (Distribution 2.8) as a peer on the same store, for
# test_interop.sh and test_bigstore.sh. A suite that starts one must stop it
# first in its EXIT/INT/TERM traps (dr_stop; t_cleanup).

DOCKER_REGISTRY=${DOCKER_REGISTRY:-/usr/bin/docker-registry}
DR_PID=""   # the docker-registry this suite runs, if any
DR_URL=""
DR_HOST=""
DR_N=0      # how many docker-registry runs so far (names their config and log)

# dr_is_ours: DR_PID is alive and still runs docker-registry (not a reused PID).
dr_is_ours() {
	[ -n "$DR_PID" ] && [ -r "/proc/$DR_PID/cmdline" ] &&
		tr '\0' ' ' 2>/dev/null <"/proc/$DR_PID/cmdline" | grep -q '^[^ ]*docker-registry serve '
}

# dr_start STORE: run docker-registry on STORE at a free loopback port; sets DR_PID,
# DR_URL, DR_HOST. 1 when it does not answer /v2/ within 10 s.
dr_start() {
	local port conf log
	port=$(t_pick_port) || return 1
	DR_N=$((DR_N + 1))
	conf=$T_DIR/docker-registry-$DR_N.yml
	log=$T_DIR/docker-registry-$DR_N.log
	# Upload purging off: it would rewrite _uploads behind the test's back.
	cat >"$conf" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $1
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
EOF
	"${T_NS_CMD[@]}" "$DOCKER_REGISTRY" serve "$conf" >"$log" 2>&1 </dev/null &
	DR_PID=$!
	DR_HOST=127.0.0.1:$port
	DR_URL=http://$DR_HOST
	t_diag "docker-registry $DR_N: pid $DR_PID port $port store $1"
	if t_wait_http "$DR_URL/v2/" 200 10; then
		return 0
	fi
	fail "docker-registry answers /v2/ on $1" "$(cat "$log")"
	dr_stop
	return 1
}

# dr_stop: stop our docker-registry by its PID (TERM, then KILL), and reap it.
dr_stop() {
	t_stop_peer "$DR_PID" dr_is_ours
	DR_PID=""
}

# ---------------------------------------------------------------- prometheus
# Debian's prometheus as a scraper of an instance's metrics listener, for
# test_metrics.sh: its own free port, data dir and config under T_DIR, stopped
# by PID. A suite that starts one stops it first in its traps (prom_stop).

PROM_PID=""
PROM_URL=""

# prom_is_ours: PROM_PID is alive and still runs prometheus (not a reused PID).
prom_is_ours() {
	[ -n "$PROM_PID" ] && [ -r "/proc/$PROM_PID/cmdline" ] &&
		tr '\0' ' ' 2>/dev/null <"/proc/$PROM_PID/cmdline" | grep -q '^[^ ]*prometheus '
}

# prom_start TARGET: prometheus scraping http://TARGET/metrics every second; sets
# PROM_PID and PROM_URL. 1 when it is not ready within 20 s.
prom_start() {
	local port conf=$T_DIR/prometheus.yml log=$T_DIR/prometheus.log
	port=$(t_pick_port) || return 1
	cat >"$conf" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: regmaster
    static_configs:
      - targets: ["$1"]
EOF
	prometheus --config.file="$conf" --storage.tsdb.path="$T_DIR/prometheus-data" \
		--web.listen-address="127.0.0.1:$port" >"$log" 2>&1 </dev/null &
	PROM_PID=$!
	PROM_URL=http://127.0.0.1:$port
	t_diag "prometheus: pid $PROM_PID port $port target $1"
	t_wait_http "$PROM_URL/-/ready" 200 20 && return 0
	fail "prometheus becomes ready" "$(tail -20 "$log")"
	prom_stop
	return 1
}

# prom_stop: stop our prometheus by its PID (TERM, then KILL), and reap it.
prom_stop() {
	t_stop_peer "$PROM_PID" prom_is_ours
	PROM_PID=""
}

# prom_value QUERY: the value of the first series of an instant PromQL query
# (empty when it has none).
prom_value() {
	curl -s --max-time 5 -G "$PROM_URL/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}

# prom_value_is QUERY VALUE: the query's value is VALUE now.
prom_value_is() { [ "$(prom_value "$1")" = "$2" ]; }
# ---------------------------------------------------------------- background helpers
# Small servers a suite runs itself (a page server, a TCP listener in a namespace):
# started with t_bg, stopped by PID with t_bg_stop, and by the cleanup trap.

T_BG_PIDS=" "   # "PID:START" of every process t_bg started and did not stop yet

# t_bg LOG CMD...: run CMD in the background, output to LOG; sets T_BG_PID.
t_bg() {
	local log=$1 st
	shift
	"$@" >"$log" 2>&1 </dev/null &
	T_BG_PID=$!
	st=$(t_proc_start "$T_BG_PID") || st=gone
	T_BG_PIDS="$T_BG_PIDS$T_BG_PID:$st "
}

# t_bg_alive PID START: PID still is the process t_bg started (not a reused PID).
t_bg_alive() { [ "$(t_proc_start "$1" 2>/dev/null)" = "$2" ]; }

# t_bg_stop PID: TERM, then KILL after 5 s, a process t_bg started; then reap it.
t_bg_stop() {
	local e st=""
	for e in $T_BG_PIDS; do
		[ "${e%%:*}" = "$1" ] && st=${e#*:}
	done
	[ -n "$st" ] || return 0
	if t_bg_alive "$1" "$st"; then
		kill -TERM "$1" 2>/dev/null
		t_wait_until 5 t_not t_bg_alive "$1" "$st" || kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	T_BG_PIDS=${T_BG_PIDS/ $1:$st / }
}

t_bg_stop_all() {
	local e
	for e in $T_BG_PIDS; do t_bg_stop "${e%%:*}"; done
}

# ---------------------------------------------------------------- network namespaces
# Two namespaces joined by a veth pair, for the tunnel suites: NS_PUB (the relay's
# public host, address NS_PUB_IP) and NS_PRIV (a host in a private network, NS_PRIV_IP).
# The private side opens connections to the public side; new connections from the
# public side to the private one are dropped, as a NAT or firewall in front of a private
# network would (iptables in NS_PRIV: conntrack state NEW arriving on the veth); the
# answers to the private side's own connections pass. The veth ends are made inside
# the namespaces, so the host's own network never sees them or their addresses.

NS_PUB=""
NS_PRIV=""
NS_PUB_IP=10.209.0.1
NS_PRIV_IP=10.209.0.2
T_NETNS=()   # namespaces this process made; ns_cleanup deletes them by name

# ns_unusable: print why namespaces cannot be made here; status 1 (nothing printed)
# when they can.
ns_unusable() {
	local t
	if [ "$(id -u)" -ne 0 ]; then
		echo "network namespaces need root"
		return 0
	fi
	for t in ip iptables python3; do
		command -v "$t" >/dev/null 2>&1 || {
			echo "$t is not installed"
			return 0
		}
	done
	return 1
}

# ns_pair TAG: make NS_PUB=rm-TAG-pub-$$ and NS_PRIV=rm-TAG-priv-$$ as described above.
# 1 (a failure counted) when any step fails; what was made is still deleted on exit.
ns_pair() {
	NS_PUB=rm-$1-pub-$$
	NS_PRIV=rm-$1-priv-$$
	if ! ns_pair_make >"$T_NS_LOG" 2>&1; then
		fail "network namespaces $NS_PUB and $NS_PRIV joined by veth" "$(cat "$T_NS_LOG")"
		return 1
	fi
	t_diag "namespaces: $NS_PUB ($NS_PUB_IP) and $NS_PRIV ($NS_PRIV_IP)"
}
T_NS_LOG=/dev/null

ns_pair_make() {
	ip netns add "$NS_PUB" || return 1
	T_NETNS+=("$NS_PUB")
	ip netns add "$NS_PRIV" || return 1
	T_NETNS+=("$NS_PRIV")
	ip link add pub0 netns "$NS_PUB" type veth peer name priv0 netns "$NS_PRIV" || return 1
	ip -n "$NS_PUB" addr add "$NS_PUB_IP/30" dev pub0 &&
		ip -n "$NS_PRIV" addr add "$NS_PRIV_IP/30" dev priv0 || return 1
	ip -n "$NS_PUB" link set lo up && ip -n "$NS_PUB" link set pub0 up &&
		ip -n "$NS_PRIV" link set lo up && ip -n "$NS_PRIV" link set priv0 up || return 1
	ip netns exec "$NS_PRIV" iptables -A INPUT -i priv0 -m conntrack --ctstate NEW -j DROP
}

# ns_exec NS CMD...: run CMD inside namespace NS.
ns_exec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ns_gone NS: namespace NS does not exist (any more).
ns_gone() { ! ip netns list 2>/dev/null | grep -q "^$1\( \|$\)"; }

# ns_empty NS: no process runs inside NS.
ns_empty() { [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; }

# ns_cleanup: stop what still runs inside our namespaces (every process there was
# started by this suite: TERM, KILL after 5 s), then delete them by name.
ns_cleanup() {
	local ns p
	for ns in "${T_NETNS[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
		t_wait_until 5 ns_empty "$ns" ||
			for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	T_NETNS=()
}

# ns_tcp_serve NS ADDR PORT: a listener in NS answering "pong" to every connection;
# sets T_BG_PID.
ns_tcp_serve() {
	t_bg "$T_DIR/serve-$1-$3.log" ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.sendall(b"pong\n")
    c.close()' "$2" "$3"
}

# ns_tcp_reaches NS ADDR PORT: from NS, a connection to ADDR:PORT gets "pong" within 2 s.
ns_tcp_reaches() {
	ip netns exec "$1" python3 -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    sys.exit(0 if c.recv(16) == b"pong\n" else 1)
except OSError as e:
    print(e, file=sys.stderr)
    sys.exit(1)' "$2" "$3" 2>>"$T_DIR/reach.log"
}

# ns_tcp_listening NS PORT: something listens on TCP PORT in NS.
ns_tcp_listening() { [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null)" ]; }

# ---------------------------------------------------------------- headless Chromium
# Chromium renders a page (the tunnel relay's status page) and prints its DOM.
# Without credentials: `chromium --headless=new --dump-dom`, with a virtual time budget
# so the page's own scripts (fetch of its JSON) run before the DOM is taken. With Basic
# auth, --dump-dom will not do: http://user:pass@host/ is accepted for the top page, but
# the document keeps the credentials in its URL and Chromium then blocks every
# subresource whose URL carries them (a relative fetch('/status.json') included).
# cdp_dump.py drives Chromium over the DevTools pipe instead and sets an Authorization
# header on every request. Each run has its own temp --user-data-dir, is bounded by
# T_CHROMIUM_TIMEOUT, and what it leaves running is found by that dir and stopped by PID.

: "${CHROMIUM:=chromium}"
: "${T_CHROMIUM_TIMEOUT:=30}"
T_CHROMIUM_DIRS=()   # user-data-dirs of the runs so far; t_chromium_reap walks them
T_DOM=""             # the DOM of the last t_chromium_dom

# t_chromium_dom URL [USER:PASSWORD [TEXT]]: render URL; sets T_DOM. 1 when Chromium
# fails or times out (T_DOM then ends with its complaint). With credentials, also 1 when
# the page answers an HTTP error, and it waits (bounded) for TEXT to appear when given.
t_chromium_dom() {
	local url=$1 cred=${2:-} text=${3:-} udd rc
	udd=$(mktemp -d "${TMPDIR:-/tmp}/regmaster-chromium.XXXXXX") || return 1
	T_CHROMIUM_DIRS+=("$udd")
	if [ -z "$cred" ]; then
		timeout -k 5 "$T_CHROMIUM_TIMEOUT" "$CHROMIUM" --headless=new --no-sandbox \
			--no-first-run --user-data-dir="$udd/profile" --virtual-time-budget=5000 \
			--dump-dom "$url" >"$udd/dom" 2>"$udd/err" </dev/null
	else
		timeout -k 5 "$T_CHROMIUM_TIMEOUT" python3 "$T_LIB_DIR/cdp_dump.py" \
			--chromium "$CHROMIUM" --auth "$cred" ${text:+--wait-for "$text"} \
			--timeout "$((T_CHROMIUM_TIMEOUT - 2))" "$udd/profile" "$url" \
			>"$udd/dom" 2>"$udd/err" </dev/null
	fi
	rc=$?
	T_DOM=$(cat "$udd/dom")
	[ "$rc" -eq 0 ] || T_DOM="$T_DOM$(printf '\nchromium exit %s: ' "$rc"; grep -v 'dbus\|^$' "$udd/err" | tail -n 5)"
	t_chromium_reap
	return "$rc"
}

# t_chromium_pids DIR: processes still running with DIR as their user data dir.
t_chromium_pids() {
	local p
	for p in /proc/[0-9]*; do
		case $(t_cmdline "${p#/proc/}") in
		*"--user-data-dir=$1/profile"*) printf '%s\n' "${p#/proc/}" ;;
		esac
	done
}

t_chromium_none() { [ -z "$(t_chromium_pids "$1")" ]; }

# t_chromium_reap: stop (by PID) whatever the runs so far left running, remove their dirs.
t_chromium_reap() {
	local d p
	for d in "${T_CHROMIUM_DIRS[@]}"; do
		for p in $(t_chromium_pids "$d"); do kill -TERM "$p" 2>/dev/null; done
		t_wait_until 3 t_chromium_none "$d" ||
			for p in $(t_chromium_pids "$d"); do kill -KILL "$p" 2>/dev/null; done
		[ "$T_KEEP" = 1 ] || rm -rf -- "$d"
	done
	T_CHROMIUM_DIRS=()
}

# ---------------------------------------------------------------- modes

# t_ensure_test_user: create the unprivileged user of the user-mode run if missing.
t_ensure_test_user() {
	getent passwd "$T_TEST_USER" >/dev/null && return 0
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$T_TEST_USER"
}

# t_make_user_area: a private mini build tree the test user can read: the binaries in
# their build-tree places and a copy of tests/integration (the real trees may sit in a
# directory that user cannot enter), and the build-tree files a suite lists in
# T_USER_EXTRA (paths relative to top_builddir, e.g. bench/genstore). Sets T_USER_AREA.
t_make_user_area() {
	local a w f
	a=$(mktemp -d /tmp/regmaster-usermode.XXXXXX) || return 1
	T_USER_AREA=$a
	mkdir -p "$a/master" "$a/tests/integration" "$a/tmp" "$a/home" || return 1
	cp -- "$REGMASTER" "$a/master/regmaster" || return 1
	for w in $T_WORKERS; do
		mkdir -p "$a/$w" && cp -- "$(t_worker_path "$w")" "$a/$w/$w" || return 1
	done
	cp -R -- "$T_LIB_DIR/." "$a/tests/integration/" || return 1
	[ -f "$a/tests/integration/$(basename -- "$T_SUITE_PATH")" ] ||
		cp -- "$T_SUITE_PATH" "$a/tests/integration/" || return 1
	for f in ${T_USER_EXTRA:-}; do
		mkdir -p "$a/$(dirname -- "$f")" && cp -- "$top_builddir/$f" "$a/$f" || return 1
	done
	chmod -R u+rwX,go+rX "$a" && chmod 0755 "$a/master/regmaster"
	chown -R "$T_TEST_USER:$(id -g "$T_TEST_USER")" "$a"
}

# t_run_as_test_user: re-run this suite as the test user; adds its counts to ours.
t_run_as_test_user() {
	local a gid suite result envs
	t_ensure_test_user || {
		fail "create user $T_TEST_USER for the user-mode run"
		return 1
	}
	t_make_user_area || {
		fail "prepare user-mode tree under /tmp"
		return 1
	}
	a=$T_USER_AREA
	gid=$(id -g "$T_TEST_USER")
	suite=$a/tests/integration/$(basename -- "$T_SUITE_PATH")
	result=$a/result
	t_diag "---- user-mode run as $T_TEST_USER in $a"
	# A clean environment: only what the suite needs, nothing of root's.
	envs=(env -i "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
		"HOME=$a/home" "TMPDIR=$a/tmp" "LANG=C" "LC_ALL=C"
		"top_builddir=$a" "top_srcdir=$top_srcdir" "REGMASTER=$a/master/regmaster"
		"REGMASTER_LIBEXECDIR=$a" "T_CMD_TIMEOUT=$T_CMD_TIMEOUT"
		"T_RESTART_TIMEOUT=$T_RESTART_TIMEOUT" "T_KEEP=$T_KEEP" "T_CHILD_RESULT=$result"
		"T_NUM_START=$T_NUM")
	if command -v setpriv >/dev/null 2>&1; then
		(cd "$a" && timeout -k 10 "$T_SUITE_TIMEOUT" setpriv --reuid="$T_TEST_USER" \
			--regid="$gid" --init-groups -- "${envs[@]}" bash "$suite")
	else
		(cd "$a" && timeout -k 10 "$T_SUITE_TIMEOUT" runuser -u "$T_TEST_USER" -- \
			"${envs[@]}" bash "$suite")
	fi
	t_add_child_result "$result"
}

# t_add_child_result FILE: add `PASS FAIL` written by the user-mode run to our counts.
t_add_child_result() {
	local p="" f=""
	if [ -r "$1" ] && read -r p f <"$1" && [[ $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
		t_diag "user mode: $p passed, $f failed"
		T_PASS=$((T_PASS + p))
		T_FAIL=$((T_FAIL + f))
		T_NUM=$((T_NUM + p + f))
	else
		T_MODE=user fail "user-mode run reported its result"
	fi
}

# t_run_modes BODY: run the suite body in every mode this user can (see top).
t_run_modes() {
	local body=$1
	if [ -n "${T_CHILD_RESULT:-}" ]; then
		# We are the user-mode re-run: report counts to the root run and leave.
		T_MODE=user
		t_require_binaries && "$body"
		t_cleanup
		printf '%s %s\n' "$T_PASS" "$T_FAIL" >"$T_CHILD_RESULT"
		exit 0
	fi
	t_require_binaries || return 1
	"$body"
	t_cleanup
	if [ "$T_MODE" = root ]; then
		t_diag "root mode: $T_PASS passed, $T_FAIL failed"
		t_run_as_test_user
		T_MODE=root
		t_cleanup
	fi
}

# ---------------------------------------------------------------- real clients
# containerd's ctr, podman and docker against regmaster, shared by test_clients.sh
# (plain HTTP) and test_clients_tls.sh (TLS and auth). A suite sets HOST
# (127.0.0.1:PORT the clients use), LOG (regmaster's log_file), HDR and BODY, and the
# clients' registry options: CTR_PUSH_ARGS, CTR_PULL_ARGS, POD_REG_ARGS (arrays).

MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_INDEX=application/vnd.oci.image.index.v1+json
MT_DOCKER=application/vnd.docker.distribution.manifest.v2+json
MT_DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json
ACCEPT="$MT_MANIFEST, $MT_INDEX, $MT_DOCKER, $MT_DOCKER_LIST"
NS=regtest          # containerd namespace of the suite
CT=60               # seconds one client command may take

CTRD_PID=""         # the containerd this suite runs, if any
CTRD_CONF=""
SOCK=""
POD_DIR=""          # podman's storage and configuration
HOST=""             # 127.0.0.1:PORT of regmaster
LOG=""              # regmaster's log_file
CODE=""
GOT=""
OUT=""              # output of the last client command (cl)
CTR_PUSH_ARGS=(--plain-http)
CTR_PULL_ARGS=(--plain-http)
POD_REG_ARGS=(--tls-verify=false)

# ---------------------------------------------------------------- helpers

# layout_blobs LAYOUT: the digests of an OCI layout's blobs, one a line.
layout_blobs() { (cd "$1/blobs/sha256" && printf 'sha256:%s\n' *); }

# layout_manifests LAYOUT: the digests of the layout's manifests: the one its
# index.json names and, when that is an index, the manifests it lists.
layout_manifests() {
	local top
	top=$(jq -r '.manifests[0].digest' <"$1/index.json")
	printf '%s\n' "$top"
	jq -r 'select(.mediaType == "'"$MT_INDEX"'") | .manifests[].digest' \
		<"$1/blobs/sha256/${top#sha256:}"
}

# layout_parts LAYOUT: sets MANIFESTS and BLOBS (arrays): the layout's manifests, and
# the rest of its blobs (configs and layers), which a registry serves as blobs.
layout_parts() {
	local m
	mapfile -t MANIFESTS < <(layout_manifests "$1")
	m=" ${MANIFESTS[*]} "
	mapfile -t BLOBS < <(layout_blobs "$1" | while read -r b; do
		case $m in *" $b "*) ;; *) printf '%s\n' "$b" ;; esac
	done)
}

# cl DESC CMD...: run a client command (ctr_, pod, dk, which bound it by CT seconds),
# output in OUT; ok when it succeeds, else a failure with its output. Returns its status.
cl() { cl_from /dev/null "$@"; }

# cl_from FILE DESC CMD...: cl with FILE as the command's stdin (a password).
cl_from() {
	local in=$1 desc=$2 rc
	shift 2
	"$@" >"$T_DIR/cl.out" 2>&1 <"$in"
	rc=$?
	OUT=$(cat "$T_DIR/cl.out")
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc" "command: $*" "exit $rc" "$(tail -n 20 "$T_DIR/cl.out")"
	fi
	return "$rc"
}

# head_digest REPO REF: sets GOT to the Docker-Content-Digest of a manifest HEAD
# (empty unless 200).
head_digest() {
	GOT=""
	req HEAD "/v2/$1/manifests/$2" -H "Accept: $ACCEPT"
	[ "$CODE" = 200 ] && GOT=$(hval Docker-Content-Digest)
}

# blob_ok REPO DIGEST: regmaster serves the blob, and its sha256 is its name.
blob_ok() {
	req GET "/v2/$1/blobs/$2"
	[ "$CODE" = 200 ] && [ "$(dg "$BODY")" = "$2" ]
}

# blobs_served REPO DIGEST...: every blob is served from REPO with its digest; prints
# the ones that are not.
blobs_served() {
	local repo=$1 b bad=""
	shift
	for b in "$@"; do
		blob_ok "$repo" "$b" || bad="$bad $b($CODE)"
	done
	printf '%s' "${bad# }"
}

# manifests_served REPO DIGEST...: every manifest is served by digest from REPO, the
# body's sha256 being its digest; prints the ones that are not.
manifests_served() {
	local repo=$1 m bad=""
	shift
	for m in "$@"; do
		req GET "/v2/$repo/manifests/$m" -H "Accept: $ACCEPT"
		[ "$CODE" = 200 ] && [ "$(dg "$BODY")" = "$m" ] || bad="$bad $m($CODE)"
	done
	printf '%s' "${bad# }"
}

# log_mark: the size of regmaster's log now (where log_missing_gets starts reading).
log_mark() { stat -c %s "$LOG" 2>/dev/null || echo 0; }

# log_missing_gets MARK REPO KIND DIGEST...: the digests with no
# `GET /v2/REPO/KIND/DIGEST` (KIND blobs or manifests) in regmaster's log past MARK.
log_missing_gets() {
	local mark=$1 repo=$2 kind=$3 d miss="" tail
	shift 3
	tail=$(tail -c +"$((mark + 1))" "$LOG")
	for d in "$@"; do
		grep -qF "GET /v2/$repo/$kind/$d" <<<"$tail" || miss="$miss $d"
	done
	printf '%s' "${miss# }"
}

# ---------------------------------------------------------------- containerd

# ctr_ ARGS...: ctr on our containerd and namespace, bounded by CT seconds.
ctr_() { timeout -k 5 "$CT" ctr -a "$SOCK" -n "$NS" "$@"; }

# ctrd_is_ours: CTRD_PID is alive and still runs containerd with our config.
ctrd_is_ours() {
	[ -n "$CTRD_PID" ] && [ "$(t_cmdline "$CTRD_PID")" = "containerd --config $CTRD_CONF" ]
}
ctrd_gone() { ! ctrd_is_ours; }
ctrd_up() { timeout 5 ctr -a "$SOCK" version >/dev/null 2>&1; }

# ctrd_start: a containerd of our own under $T_DIR/c; 1 when it does not answer in 15 s.
ctrd_start() {
	local d=$T_DIR/c
	mkdir -p "$d"
	CTRD_CONF=$d/config.toml
	SOCK=$d/containerd.sock
	# The socket path must fit a sockaddr_un (108 bytes, with the ".ttrpc" one).
	if [ "${#SOCK}" -gt 100 ]; then
		fail "containerd's socket path fits a sockaddr_un" "$SOCK"
		return 1
	fi
	cat >"$CTRD_CONF" <<EOF
# containerd of regmaster's client suites ($T_MODE mode): content and images only.
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$SOCK"
  uid = $(id -u)
  gid = $(id -g)
[ttrpc]
  address = "$SOCK.ttrpc"
  uid = $(id -u)
  gid = $(id -g)
[debug]
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
	containerd --config "$CTRD_CONF" >"$d/containerd.log" 2>&1 </dev/null &
	CTRD_PID=$!
	t_diag "containerd: pid $CTRD_PID socket $SOCK"
	if t_wait_until 15 ctrd_up; then
		ok "containerd of our own answers on its socket"
		return 0
	fi
	fail "containerd of our own answers on its socket" "$SOCK" "$(tail -n 20 "$d/containerd.log")"
	ctrd_stop
	return 1
}

# ctrd_stop: stop our containerd by its PID (TERM, then KILL), and reap it.
ctrd_stop() {
	t_stop_peer "$CTRD_PID" ctrd_is_ours
	CTRD_PID=""
}

# ctr_image_digest NAME: the target digest of a containerd image.
ctr_image_digest() { ctr_ images ls 2>/dev/null | awk -v n="$1" '$1 == n { print $3 }'; }

# ctr_content_held DIGEST...: those of the digests containerd's content store holds.
ctr_content_held() {
	local have d held=""
	have=$(ctr_ content ls -q 2>/dev/null)
	for d in "$@"; do
		grep -qx "$d" <<<"$have" && held="$held $d"
	done
	printf '%s' "${held# }"
}

# ctr_content_bad DIGEST...: the digests whose content in containerd's store is
# missing or does not hash to them.
ctr_content_bad() {
	local d bad="" got
	for d in "$@"; do
		got=$(ctr_ content get "$d" 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "sha256:$got" = "$d" ] || bad="$bad $d"
	done
	printf '%s' "${bad# }"
}

# ctr_roundtrip IMGDIR SRC REPO [--all-platforms]: import layout SRC, push it to
# regmaster as REPO:v1 (ctr's registry options CTR_PUSH_ARGS), remove it, pull it back
# (CTR_PULL_ARGS); check digests and content throughout.
ctr_roundtrip() {
	local imgs=$1 src=$2 repo=$3 all=${4:-} want ref mark tar miss
	want=$(img_digest "$imgs" "$src")
	ref=$HOST/$repo:v1
	tar=$T_DIR/$src.tar
	layout_parts "$imgs/$src"
	# shellcheck disable=SC2086 # $all is empty or one word
	cl "ctr images import: the $src layout" \
		ctr_ images import --no-unpack $all --base-name "src/$src" "$tar" || return 1
	same "ctr: the imported $src has the layout's digest" "$want" \
		"$(ctr_image_digest "src/$src:latest")"
	cl "ctr images tag $repo:v1" ctr_ images tag "src/$src:latest" "$ref" || return 1
	cl "ctr images push ${CTR_PUSH_ARGS[*]} $repo:v1" \
		ctr_ images push "${CTR_PUSH_ARGS[@]}" "$ref" || return 1
	head_digest "$repo" v1
	same "regmaster reports the layout's digest for $repo:v1 pushed by ctr" "$want" "$GOT" "$(what)"
	same "regmaster serves every manifest ctr pushed to $repo, by digest" \
		"" "$(manifests_served "$repo" "${MANIFESTS[@]}")"
	same "regmaster serves every blob ctr pushed to $repo, each with its digest" \
		"" "$(blobs_served "$repo" "${BLOBS[@]}")"

	cl "ctr images rm --sync: $src is removed from containerd" \
		ctr_ images rm --sync "src/$src:latest" "$ref"
	same "containerd's content store holds no blob of $src any more" \
		"" "$(ctr_content_held "${MANIFESTS[@]}" "${BLOBS[@]}")"

	mark=$(log_mark)
	if [ "$T_MODE" = root ]; then
		# shellcheck disable=SC2086 # $all is empty or one word
		cl "ctr images pull ${CTR_PULL_ARGS[*]} --snapshotter native ${all:+$all }$repo:v1 (fetch, unpack)" \
			ctr_ images pull "${CTR_PULL_ARGS[@]}" --snapshotter native $all "$ref" || return 1
	else
		# Unpacking mounts, which a containerd without a user namespace may not do.
		# shellcheck disable=SC2086 # $all is empty or one word
		cl "ctr content fetch ${CTR_PULL_ARGS[*]} ${all:+$all }$repo:v1" \
			ctr_ content fetch "${CTR_PULL_ARGS[@]}" $all "$ref" || return 1
	fi
	same "ctr: the pulled $repo:v1 has the layout's digest" "$want" "$(ctr_image_digest "$ref")"
	same "containerd's content store holds every blob of $src with its sha256" \
		"" "$(ctr_content_bad "${MANIFESTS[@]}" "${BLOBS[@]}")"
	miss="$(log_missing_gets "$mark" "$repo" manifests "${MANIFESTS[@]}")"
	miss="$miss${miss:+ }$(log_missing_gets "$mark" "$repo" blobs "${BLOBS[@]}")"
	miss=${miss% }
	same "the pull of $repo:v1 fetched every manifest and blob from regmaster (its log)" "" "$miss"
}

# ---------------------------------------------------------------- docker

DKD_PID=""          # the dockerd this suite runs (root mode), if any
DK_DIR=""

# dk ARGS...: the docker client on our dockerd, bounded by CT seconds; its
# configuration (logins) in our dir, never ~/.docker.
dk() {
	timeout -k 5 "$CT" env DOCKER_CONFIG="$DK_DIR/config" \
		docker -H "unix://$DK_DIR/docker.sock" "$@"
}

# dkd_is_ours: DKD_PID is alive and still runs dockerd with our data root.
dkd_is_ours() {
	[ -n "$DKD_PID" ] || return 1
	case $(t_cmdline "$DKD_PID") in
	"dockerd --data-root $DK_DIR/root "*) return 0 ;;
	esac
	return 1
}
dkd_up() { timeout 5 docker -H "unix://$DK_DIR/docker.sock" version >/dev/null 2>&1; }

# dkd_start [ARGS...]: a dockerd of our own under $T_DIR/d (ARGS: more options, e.g.
# --config-file); 1 when it does not answer in 30 s.
dkd_start() {
	DK_DIR=$T_DIR/d
	mkdir -p "$DK_DIR" || return 1
	dockerd --data-root "$DK_DIR/root" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/docker.pid" -H "unix://$DK_DIR/docker.sock" \
		--bridge=none --iptables=false --ip6tables=false --storage-driver=vfs "$@" \
		>"$DK_DIR/dockerd.log" 2>&1 </dev/null &
	DKD_PID=$!
	t_diag "dockerd: pid $DKD_PID dir $DK_DIR"
	if t_wait_until 30 dkd_up; then
		ok "dockerd of our own answers on its socket"
		return 0
	fi
	fail "dockerd of our own answers on its socket" "$(tail -n 20 "$DK_DIR/dockerd.log")"
	dkd_stop
	return 1
}

# dkd_leftovers: PIDs of processes still running from our docker dir (dockerd's
# containerd and shims).
dkd_leftovers() { [ -z "$DK_DIR" ] || pgrep -f -- "$DK_DIR/exec" || true; }
dkd_none_left() { [ -z "$(dkd_leftovers)" ]; }

# dkd_stop: stop our dockerd by its PID, then whatever it started that outlived it.
dkd_stop() {
	local p
	t_stop_peer "$DKD_PID" dkd_is_ours
	DKD_PID=""
	# a function, so that each try lists them again
	t_wait_until 10 dkd_none_left
	for p in $(dkd_leftovers); do
		kill -KILL "$p" 2>/dev/null
	done
}

# served_layers REPO REF: the layer digests of the manifest regmaster serves.
served_layers() {
	req GET "/v2/$1/manifests/$2" -H "Accept: $ACCEPT"
	jq -r '.layers[].digest' <"$BODY" 2>/dev/null | tr '\n' ' '
}

# docker_roundtrip IMGS: our dockerd pulls the 3-layer image of IMGS that is in
# regmaster as clients/docker-src:v1, pushes it as clients/docker:v1 (mounting the
# layers), removes both and pulls the new one back by digest; digests checked throughout.
docker_roundtrip() {
	local imgs=$1 want src dst mark miss pushed layers config
	want=$(img_digest "$imgs" multi)
	src=$HOST/clients/docker-src
	dst=$HOST/clients/docker
	config=$(jq -r '.config.digest' <"$imgs/multi/blobs/sha256/${want#sha256:}")
	layers=$(jq -r '.layers[].digest' <"$imgs/multi/blobs/sha256/${want#sha256:}" | tr '\n' ' ')
	mark=$(log_mark)
	cl "docker pull clients/docker-src:v1" dk pull "$src:v1" || return 1
	cl "docker image inspect clients/docker-src:v1" \
		dk image inspect --format '{{join .RepoDigests " "}}' "$src:v1"
	same "docker: the pulled image's RepoDigests name the layout's digest" "$src@$want" "$OUT"
	# shellcheck disable=SC2086 # the layer digests are words
	miss=$(log_missing_gets "$mark" clients/docker-src blobs $layers)
	same "docker's pull fetched every layer from regmaster (its log)" "" "$miss"

	cl "docker tag clients/docker-src:v1 clients/docker:v1" dk tag "$src:v1" "$dst:v1"
	cl "docker push clients/docker:v1" dk push "$dst:v1" || return 1
	pushed=$(grep -o 'digest: sha256:[0-9a-f]*' <<<"$OUT" | cut -d' ' -f2)
	t_check "docker mounted the layers from clients/docker-src instead of uploading them" \
		grep -q 'Mounted from clients/docker-src' "$T_DIR/cl.out"
	head_digest clients/docker v1
	same "regmaster reports the digest docker pushed for clients/docker:v1" "$pushed" "$GOT" "$(what)"
	same "regmaster serves clients/docker:v1 as Docker schema 2" "$MT_DOCKER" "$(hval Content-Type)"
	same "the manifest docker pushed names the layout's layers" "$layers" \
		"$(served_layers clients/docker v1)"
	req GET /v2/clients/docker/tags/list
	same "tags/list of clients/docker" '{"name":"clients/docker","tags":["v1"]}' \
		"$(jq -c . <"$BODY" 2>/dev/null)" "$(what)"

	cl "docker rmi: both names" dk rmi "$src:v1" "$dst:v1"
	cl "docker images: none left" dk images -q
	same "docker holds no image" "" "$OUT"
	mark=$(log_mark)
	cl "docker pull clients/docker by digest" dk pull "$dst@$pushed" || return 1
	cl "docker image inspect clients/docker@digest" \
		dk image inspect --format '{{.Id}}' "$dst@$pushed"
	same "docker: the image pulled by digest has the config's digest as ID" "$config" "$OUT"
	same "the pull by digest reached regmaster (its log)" "" \
		"$(log_missing_gets "$mark" clients/docker manifests "$pushed")"
}

# ---------------------------------------------------------------- podman

# pod ARGS...: podman on the suite's storage and configuration only, bounded by CT s.
pod() {
	timeout -k 5 "$CT" env HOME="$POD_DIR/home" XDG_RUNTIME_DIR="$POD_DIR/xdg" \
		XDG_CONFIG_HOME="$POD_DIR/home/.config" XDG_DATA_HOME="$POD_DIR/home/.local/share" \
		TMPDIR="$POD_DIR/tmp" \
		CONTAINERS_CONF="$POD_DIR/containers.conf" \
		CONTAINERS_STORAGE_CONF="$POD_DIR/storage.conf" \
		CONTAINERS_REGISTRIES_CONF="$POD_DIR/registries.conf" \
		REGISTRY_AUTH_FILE="$POD_DIR/auth.json" \
		podman "$@"
}

pod_setup() {
	POD_DIR=$T_DIR/p
	mkdir -p "$POD_DIR/home" "$POD_DIR/xdg" "$POD_DIR/tmp" "$POD_DIR/networks"
	chmod 0700 "$POD_DIR/xdg"
	cat >"$POD_DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$POD_DIR/root"
runroot = "$POD_DIR/runroot"
rootless_storage_path = "$POD_DIR/root"
EOF
	cat >"$POD_DIR/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "$POD_DIR/libpod"
[network]
network_config_dir = "$POD_DIR/networks"
EOF
	printf 'unqualified-search-registries = []\n' >"$POD_DIR/registries.conf"
	printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$POD_DIR/policy.json"
	# podman wants the auth file REGISTRY_AUTH_FILE names to exist
	printf '{"auths":{}}\n' >"$POD_DIR/auth.json"
}

# pod_teardown: stop rootless podman's pause process (1 if it would not stop), and make
# podman's storage removable: vfs leaves layer roots read-only (0555), which only root
# could remove.
pod_teardown() {
	local rc=0
	pod_stop_pause || rc=1
	[ -n "$POD_DIR" ] && [ -d "$POD_DIR" ] && chmod -R u+w -- "$POD_DIR" 2>/dev/null
	return "$rc"
}

# pod_pause_alive PID: PID is still rootless podman's pause process: ours, and either
# `catatonit -P` (when catatonit is installed) or podman's own, whose cmdline is
# just "podman".
pod_pause_alive() {
	[ -O "/proc/$1" ] || return 1
	case $(t_cmdline "$1") in
	"catatonit -P" | */catatonit\ -P | podman) return 0 ;;
	esac
	return 1
}
pod_pause_gone() { ! pod_pause_alive "$1"; }

# pod_stop_pause: rootless podman leaves a pause process that keeps its user
# namespace; stop it by the PID podman recorded, if it still is that process.
pod_stop_pause() {
	local f pid=""
	[ -n "$POD_DIR" ] || return 0
	f=$POD_DIR/libpod/pause.pid
	[ -r "$f" ] && read -r pid <"$f"
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	if pod_pause_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		t_wait_until 5 pod_pause_gone "$pid" || kill -KILL "$pid" 2>/dev/null
		t_wait_until 2 pod_pause_gone "$pid" || return 1
	fi
	rm -f -- "$f"
}

# layers_vs_diff_ids REPO REF CONFIG_FILE: every layer of REPO:REF's manifest is served
# with its digest and, uncompressed, is the diff_id CONFIG_FILE lists at its place;
# prints the layers that are not.
layers_vs_diff_ids() {
	local repo=$1 ref=$2 config=$3 i n layer want got bad=""
	req GET "/v2/$repo/manifests/$ref" -H "Accept: $ACCEPT"
	cp -- "$BODY" "$T_DIR/pod-manifest.json"
	n=$(jq '.layers | length' <"$T_DIR/pod-manifest.json")
	[ "$n" = "$(jq '.rootfs.diff_ids | length' <"$config")" ] || {
		printf 'manifest has %s layers' "$n"
		return
	}
	for ((i = 0; i < n; i++)); do
		layer=$(jq -r ".layers[$i].digest" <"$T_DIR/pod-manifest.json")
		want=$(jq -r ".rootfs.diff_ids[$i]" <"$config")
		req GET "/v2/$repo/blobs/$layer"
		got=sha256:$(gzip -dc <"$BODY" 2>/dev/null | sha256sum | cut -d' ' -f1)
		if [ "$CODE" != 200 ] || [ "$(dg "$BODY")" != "$layer" ] || [ "$got" != "$want" ]; then
			bad="$bad $layer($CODE, uncompressed $got)"
		fi
	done
	printf '%s' "${bad# }"
}

# pod_roundtrip IMGS: podman (pod_setup done) loads the 3-layer image of IMGS, pushes it
# to regmaster as clients/podman:v1 and as Docker schema 2 :v2 (podman's registry
# options POD_REG_ARGS), removes it and pulls both back; digests and layers checked.
pod_roundtrip() {
	local imgs=$1 mdig mfile config cfgfile diffids id pushed pushed2 mark layers miss inspect
	local ref=$HOST/clients/podman repo=clients/podman
	mdig=$(img_digest "$imgs" multi)
	mfile=$imgs/multi/blobs/sha256/${mdig#sha256:}
	config=$(jq -r .config.digest <"$mfile")
	cfgfile=$imgs/multi/blobs/sha256/${config#sha256:}
	diffids=$(jq -c .rootfs.diff_ids <"$cfgfile")
	id=${config#sha256:}

	# podman load, not pull oci:DIR: podman names an image pulled from an OCI
	# directory after its path, which must then be lowercase (mktemp's are not).
	cl "podman load -i: the 3-layer image (a tar of its layout)" \
		pod load --signature-policy "$POD_DIR/policy.json" -i "$T_DIR/multi.tar" || return 1
	cl "podman images" pod images -q --no-trunc
	same "podman: the loaded image's ID is the layout's config digest" "sha256:$id" "$OUT"
	cl "podman push $repo:v1" \
		pod push "${POD_REG_ARGS[@]}" --signature-policy "$POD_DIR/policy.json" \
		--digestfile "$POD_DIR/digest1" "$id" "docker://$ref:v1" || return 1
	pushed=$(cat "$POD_DIR/digest1" 2>/dev/null)
	head_digest clients/podman v1
	same "regmaster reports the digest podman pushed for clients/podman:v1" "$pushed" "$GOT" "$(what)"
	req GET "/v2/clients/podman/manifests/v1" -H "Accept: $ACCEPT"
	same "regmaster serves the manifest podman pushed (sha256 of the body)" "$pushed" "$(dg "$BODY")"
	same "the manifest podman pushed names the layout's config" "$config" \
		"$(jq -r .config.digest <"$BODY" 2>/dev/null)"
	t_check "regmaster serves the config podman pushed, unchanged" blob_ok clients/podman "$config"
	layers=$(jq -r '.layers[].digest' <"$BODY" 2>/dev/null | tr '\n' ' ')
	if [ "$layers" != "$(jq -r '.layers[].digest' <"$mfile" | tr '\n' ' ')" ]; then
		t_diag "podman recompressed the layers it pushed (their digests differ from the layout's)"
	fi
	same "every layer regmaster serves is its digest and, uncompressed, the config's diff_id" \
		"" "$(layers_vs_diff_ids clients/podman v1 "$cfgfile")"

	cl "podman rmi: the image is removed from podman's storage" pod rmi -f "$id"
	cl "podman images" pod images -q --no-trunc
	same "podman's storage holds no image" "" "$OUT"
	mark=$(log_mark)
	cl "podman pull $repo:v1" \
		pod pull "${POD_REG_ARGS[@]}" --signature-policy "$POD_DIR/policy.json" "$ref:v1" || return 1
	# shellcheck disable=SC2086 # the layer digests are words
	miss=$(log_missing_gets "$mark" clients/podman blobs $layers)
	same "the pull of clients/podman:v1 fetched every layer from regmaster (its log)" "" "$miss"
	cl "podman image inspect $repo:v1" pod image inspect "$ref:v1"
	inspect=$OUT
	same "podman: the pulled image has the pushed digest" "$pushed" \
		"$(jq -r '.[0].Digest' <<<"$inspect" 2>/dev/null)"
	same "podman: the pulled image's ID is the config's digest" "$id" \
		"$(jq -r '.[0].Id' <<<"$inspect" 2>/dev/null)"
	same "podman: the pulled image's layers are the layout's diff_ids" "$diffids" \
		"$(jq -c '.[0].RootFS.Layers' <<<"$inspect" 2>/dev/null)"
	same "podman: RepoDigests names regmaster's copy" "$ref@$pushed" \
		"$(jq -r '.[0].RepoDigests[]' <<<"$inspect" 2>/dev/null | grep -F "$ref@")"

	# A second tag, as Docker schema 2: the blobs are there already.
	cl "podman tag $repo:v1 $repo:v2" pod tag "$ref:v1" "$ref:v2"
	cl "podman push --format v2s2 $repo:v2" \
		pod push "${POD_REG_ARGS[@]}" --signature-policy "$POD_DIR/policy.json" --format v2s2 \
		--digestfile "$POD_DIR/digest2" "$ref:v2" "docker://$ref:v2" || return 1
	pushed2=$(cat "$POD_DIR/digest2" 2>/dev/null)
	head_digest clients/podman v2
	same "regmaster reports the digest podman pushed for clients/podman:v2" "$pushed2" "$GOT" "$(what)"
	same "regmaster serves clients/podman:v2 as Docker schema 2" "$MT_DOCKER" "$(hval Content-Type)"
	req GET /v2/clients/podman/tags/list
	same "tags/list of clients/podman" '{"name":"clients/podman","tags":["v1","v2"]}' \
		"$(jq -c '{name, tags: (.tags | sort)}' <"$BODY" 2>/dev/null)" "$(what)"
	cl "podman rmi both tags" pod rmi -f "$id"
	mark=$(log_mark)
	cl "podman pull $repo:v2 (Docker schema 2)" \
		pod pull "${POD_REG_ARGS[@]}" --signature-policy "$POD_DIR/policy.json" "$ref:v2" || return 1
	# shellcheck disable=SC2086 # the layer digests are words
	miss=$(log_missing_gets "$mark" clients/podman blobs $layers)
	same "the pull of clients/podman:v2 fetched every layer from regmaster (its log)" "" "$miss"
	cl "podman image inspect $repo:v2" pod image inspect "$ref:v2"
	same "podman: the pulled v2 has the pushed digest" "$pushed2" \
		"$(jq -r '.[0].Digest' <<<"$OUT" 2>/dev/null)"
	same "podman: the pulled v2's layers are the layout's diff_ids" "$diffids" \
		"$(jq -c '.[0].RootFS.Layers' <<<"$OUT" 2>/dev/null)"
	cl "podman rmi -a" pod rmi -a -f
	cl "podman images" pod images -q
	same "podman's storage holds no image at the end" "" "$OUT"
}
