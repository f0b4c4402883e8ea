#!/usr/bin/env bash
# bench/bench_auth.sh — what auth costs on the hot path: manifest GET req/s with
# wrk (-t2 -c64, keep-alive) against one regmaster without auth, and one with
# auth.htpasswd and auth.token on, asked with Basic on every request (wrk -H) and
# with a Bearer token, and without auth but a header as long as the token (what
# the bytes cost alone); ROUNDS rounds interleaved, medians printed.  Not a test;
# see bench/README.md.
#
# usage: bench/bench_auth.sh [--tls] [--keep]
#   --tls   the listeners speak TLS (http.tls_listen, a self-signed certificate)
#   --keep  keep the work dir
# environment: REGMASTER_BUILD (build tree), BENCH_TMPDIR, ROUNDS (3), WRK_S (5)
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
TLS=0 KEEP=0
for a in "$@"; do
	case $a in
	--tls) TLS=1 ;;
	--keep) KEEP=1 ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) echo "bench_auth.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
ROUNDS=${ROUNDS:-3} WRK_S=${WRK_S:-5}
for t in wrk curl jq python3 timeout awk; do
	command -v $t >/dev/null || { echo "bench_auth.sh: missing tool: $t" >&2; exit 1; }
done
W=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/regmaster-bauth.XXXXXX")
chmod 755 "$W"
PIDS=()
SCHEME=http
[ $TLS = 1 ] && SCHEME=https

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
rm_ctl() { # conf args...
	local c=$1
	shift
	REGMASTER_LIBEXECDIR=$BUILD timeout 30 "$BUILD/master/regmaster" -c "$c" "$@"
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cleanup() {
	local rc=$? d p
	trap - EXIT INT TERM
	for d in "$W"/open "$W"/auth; do
		[ -f "$d/c.conf" ] && rm_ctl "$d/c.conf" stop >/dev/null 2>&1
	done
	for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && kill -TERM "$p"; done
	if [ $KEEP = 1 ]; then log "work dir kept: $W"; else rm -rf "$W"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# instance NAME AUTHLINE: config, start; prints the base URL.
instance() {
	local d=$W/$1 port listen
	port=$(free_port)
	mkdir -p "$d/run" "$d/store" "$d/auth"
	listen="listen = [ \"127.0.0.1:$port\" ];"
	[ $TLS = 1 ] && listen="listen = [ \"127.0.0.1:$(free_port)\" ]; tls_listen = [ \"127.0.0.1:$port\" ];"
	cat >"$d/c.conf" <<EOF
run_dir = "$d/run";
log_level = "warning";
http = { $listen };
storage = { root = "$d/store"; };
auth = { dir = "$d/auth"; $2 };
EOF
	if [ $TLS = 1 ]; then
		echo "tls = { certificate = [ \"$d/auth/cert.pem\" ]; key = [ \"$d/auth/key.pem\" ]; };" >>"$d/c.conf"
		rm_ctl "$d/c.conf" cert --self-signed 127.0.0.1 >/dev/null || exit 1
	fi
	if [ -n "$2" ]; then
		rm_ctl "$d/c.conf" user add bench <<<"benchpw" >/dev/null || exit 1
	fi
	rm_ctl "$d/c.conf" start >"$d/start.log" 2>&1 || { cat "$d/start.log" >&2; exit 1; }
	PIDS+=("$(cut -d' ' -f1 <"$d/run/regmaster.pid" 2>/dev/null)")
	printf '%s://127.0.0.1:%s\n' "$SCHEME" "$port"
}

# push URL CURLARGS...: a small image as bench/app:v1
push() {
	local u=$1 f d config_d="" layer_d=""
	shift
	printf '{"architecture":"amd64","os":"linux"}' >"$W/config"
	head -c 4096 /dev/urandom >"$W/layer"
	for f in config layer; do
		d=sha256:$(sha256sum "$W/$f" | cut -d' ' -f1)
		if [ $f = config ]; then config_d=$d; else layer_d=$d; fi
		curl -skf -o /dev/null "$@" -X POST --data-binary "@$W/$f" \
			-H 'Content-Type: application/octet-stream' \
			"$u/v2/bench/app/blobs/uploads/?digest=$d" || return 1
	done
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":4096}]}' \
		"$config_d" "$(stat -c %s "$W/config")" "$layer_d" >"$W/manifest"
	curl -skf -o /dev/null "$@" -X PUT --data-binary "@$W/manifest" \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		"$u/v2/bench/app/manifests/v1"
}

# rps URL [HEADER]: wrk's requests/s of manifest GET (0 on non-2xx or errors).
rps() {
	local out
	out=$(timeout $((WRK_S + 30)) wrk -t2 -c64 -d"${WRK_S}s" \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' ${2:+-H "$2"} \
		"$1/v2/bench/app/manifests/v1" 2>&1)
	if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
		log "wrk: errors: $(grep -E 'Non-2xx|Socket errors' <<<"$out")"
		echo 0
		return
	fi
	awk '/Requests\/sec/ { print $2 }' <<<"$out"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

log "starting two instances ($SCHEME)"
OPEN=$(instance open "") || exit 1
AUTH=$(instance auth "htpasswd = \"$W/auth/auth/htpasswd\"; token = true; token_ttl = \"1h\";") || exit 1
for _ in $(seq 50); do curl -sk -o /dev/null "$AUTH/v2/" && break; sleep 0.1; done
push "$OPEN" || { echo "push (open) failed" >&2; exit 1; }
push "$AUTH" -u bench:benchpw || { echo "push (auth) failed" >&2; exit 1; }
BASIC="Authorization: Basic $(printf 'bench:benchpw' | base64 -w0)"
TOK=$(curl -sk -u bench:benchpw "$AUTH/token?service=regmaster&scope=repository:bench/app:pull" | jq -r .token)
if [ -z "$TOK" ] || [ "$TOK" = null ]; then echo "no token" >&2; exit 1; fi
BEARER="Authorization: Bearer $TOK"
# as many header bytes as the token, to no auth: what the bytes cost alone
PAD="X-Pad: $(printf '%*s' "${#TOK}" '' | tr ' ' x)"
# one: a run of kind K (open, basic, bearer) into K.rps
one() {
	case $1 in
	open) rps "$OPEN" >>"$W/open.rps" ;;
	basic) rps "$AUTH" "$BASIC" >>"$W/basic.rps" ;;
	bearer) rps "$AUTH" "$BEARER" >>"$W/bearer.rps" ;;
	open_pad) rps "$OPEN" "$PAD" >>"$W/open_pad.rps" ;;
	esac
}
log "warm-up (after the first request: caches filled, pages hot)"
WRK_S=2 rps "$OPEN" >/dev/null
WRK_S=2 rps "$AUTH" "$BASIC" >/dev/null
WRK_S=2 rps "$AUTH" "$BEARER" >/dev/null
# the kind that goes first rotates, so a drift of the machine's load is shared
order=(open basic bearer open_pad)
for r in $(seq "$ROUNDS"); do
	log "round $r: ${order[*]}"
	for k in "${order[@]}"; do one "$k"; done
	order=("${order[@]:1}" "${order[0]}")
done
o=$(median <"$W/open.rps")
printf '\n%-34s %12s %10s   %s\n' "manifest GET, wrk -t2 -c64 ($SCHEME)" "req/s (med)" "vs open" "rounds"
for k in open basic bearer open_pad; do
	v=$(median <"$W/$k.rps")
	printf '%-34s %12.0f %9.1f%%   %s\n' "$k" "$v" "$(awk -v a="$v" -v b="$o" 'BEGIN { print (b > 0 ? 100 * a / b : 0) }')" \
		"$(tr '\n' ' ' <"$W/$k.rps")"
done
echo "(open_pad: no auth, an X-Pad header as long as the token)"
