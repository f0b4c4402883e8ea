#!/usr/bin/env bash
# bench/bench_tls.sh — TLS side by side: regmaster (key in authd, every handshake
# signed over the ca channel) vs a private nginx with the same certificate and key.
# Not a test; see bench/README.md.
#
# usage: bench/bench_tls.sh [--quick]
#   --quick  256 MiB blob, 3 s handshake runs (default: 1 GiB, 5 s)
# environment: REGMASTER_BUILD (build tree), BENCH_TMPDIR, ROUNDS (default 3),
#   GET_ONLY=1 (skip the handshakes)
#
# Measures, ROUNDS rounds interleaved, medians reported:
#   - blob GET over TLS (curl, one connection, MB/s); nginx sends the same file
#   - new TLS connections per second, full handshakes and resumed (tickets),
#     ECDSA P-256 and RSA 2048 certificates, bench/tlsconn.c with 2 client processes
# Both servers run one event loop (nginx worker_processes 1; regmaster's one httpd).
# Every process started here is stopped by PID from the EXIT trap.
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${REGMASTER_BUILD:-$(cd "$here/.." && pwd)}
ROUNDS=${ROUNDS:-3}
BIG_MIB=1024 HS_S=5
[ "${1:-}" = --quick ] && BIG_MIB=256 HS_S=3
for t in curl nginx openssl python3 cc timeout; do
	command -v $t >/dev/null || { echo "bench_tls.sh: missing $t" >&2; exit 1; }
done
W=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/regmaster-bench-tls.XXXXXX")
chmod 755 "$W"
RM_PID="" NG_PID=""
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
rm_ctl() { REGMASTER_LIBEXECDIR=$BUILD timeout 30 "$BUILD/master/regmaster" -c "$W/rm.conf" "$@"; }
stop_pid() {
	local i
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1"
	for i in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
}
cleanup() {
	trap - EXIT INT TERM
	[ -n "$RM_PID" ] && { rm_ctl stop >/dev/null 2>&1; stop_pid "$RM_PID"; }
	stop_pid "$NG_PID"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else print v[int((NR + 1) / 2)] }'; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0) print "n/a"; else printf "%.2f", a/b }'; }

# ---------------------------------------------------------------- certificates
cd "$W" || exit 1
o() { openssl "$@" >/dev/null 2>&1 || { echo "bench_tls.sh: openssl $1 failed" >&2; exit 1; }; }
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 3 -subj /CN=bench-ca
for k in ec rsa; do
	opts="-newkey ec -pkeyopt ec_paramgen_curve:P-256"
	[ $k = rsa ] && opts="-newkey rsa:2048"
	# shellcheck disable=SC2086
	o req $opts -nodes -keyout $k.key -out $k.csr -subj /CN=$k.bench
	o x509 -req -in $k.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3 -out $k.crt \
		-extfile <(printf 'subjectAltName=DNS:%s.bench\n' $k)
	cat $k.crt ca.pem >$k.full
done
cc -O2 -o tlsconn "$here/tlsconn.c" -lssl -lcrypto || exit 1

# ---------------------------------------------------------------- servers
RP=$(free_port) RT=$(free_port) NT=$(free_port)
mkdir -p rm/run rm/store rm/auth ng/tmp ng/www
cat >rm.conf <<EOF
run_dir = "$W/rm/run";
http = { listen = [ "127.0.0.1:$RP" ]; tls_listen = [ "127.0.0.1:$RT" ]; };
storage = { root = "$W/rm/store"; };
auth = { dir = "$W/rm/auth"; };
tls = { certificate = [ "$W/ec.full", "$W/rsa.full" ]; key = [ "$W/ec.key", "$W/rsa.key" ]; };
EOF
rm_ctl start >"$W/rm.log" 2>&1 || { cat "$W/rm.log" >&2; exit 1; }
RM_PID=$(cat rm/run/regmaster.pid)
cat >ng/nginx.conf <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
daemon off;
pid $W/ng/nginx.pid;
error_log $W/ng/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $W/ng/tmp/body;
    proxy_temp_path $W/ng/tmp/proxy;
    fastcgi_temp_path $W/ng/tmp/fastcgi;
    uwsgi_temp_path $W/ng/tmp/uwsgi;
    scgi_temp_path $W/ng/tmp/scgi;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen 127.0.0.1:$NT ssl;
        server_name ec.bench;
        ssl_certificate $W/ec.full;
        ssl_certificate_key $W/ec.key;
        root $W/ng/www;
    }
    server {
        listen 127.0.0.1:$NT ssl;
        server_name rsa.bench;
        ssl_certificate $W/rsa.full;
        ssl_certificate_key $W/rsa.key;
        root $W/ng/www;
    }
}
EOF
nginx -e "$W/ng/error.log" -c "$W/ng/nginx.conf" -p "$W/ng" >/dev/null 2>&1 &
NG_PID=$!
sleep 0.5
kill -0 "$NG_PID" 2>/dev/null || { cat ng/error.log >&2; exit 1; }
for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$RP/v2/" && break; sleep 0.1; done

# ---------------------------------------------------------------- blob
log "pushing a $BIG_MIB MiB blob"
head -c "${BIG_MIB}M" /dev/urandom >big
D=sha256:$(sha256sum big | cut -d' ' -f1)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -T - \
	"http://127.0.0.1:$RP/v2/bench/big/blobs/uploads/?digest=$D" <big)
[ "$code" = 201 ] || { echo "bench_tls.sh: push answered $code" >&2; exit 1; }
rm -f big
ln "$W/rm/store/docker/registry/v2/blobs/sha256/${D:7:2}/${D#sha256:}/data" ng/www/big.blob || exit 1
get() { # port path name -> MB/s
	timeout 300 curl -sf -o /dev/null -w '%{speed_download}' --cacert ca.pem \
		--resolve "$3:$1:127.0.0.1" "https://$3:$1$2" | awk '{ printf "%.0f\n", $1 / 1e6 }'
}
: >get.rm; : >get.ng
get "$RT" "/v2/bench/big/blobs/$D" ec.bench >/dev/null	# warm the page cache
for i in $(seq "$ROUNDS"); do
	get "$RT" "/v2/bench/big/blobs/$D" ec.bench >>get.rm
	get "$NT" /big.blob ec.bench >>get.ng
	log "blob GET round $i: rm $(tail -1 get.rm) nginx $(tail -1 get.ng) MB/s"
done

# ---------------------------------------------------------------- handshakes
hs() { # port name [-r] -> conns/s
	timeout $((HS_S + 30)) ./tlsconn 127.0.0.1 "$1" "$2" ca.pem "$HS_S" 2 ${3:-} |
		awk '{ print $2 }'
}
for k in ec rsa; do
	[ "${GET_ONLY:-0}" = 1 ] && break
	for m in new reuse; do
		: >"hs.$k.$m.rm"; : >"hs.$k.$m.ng"
		r=""; [ $m = reuse ] && r=-r
		for i in $(seq "$ROUNDS"); do
			hs "$RT" $k.bench $r >>"hs.$k.$m.rm"
			hs "$NT" $k.bench $r >>"hs.$k.$m.ng"
			log "handshakes $k $m round $i: rm $(tail -1 "hs.$k.$m.rm") nginx $(tail -1 "hs.$k.$m.ng")/s"
		done
	done
done

# ---------------------------------------------------------------- table
row() { # label file-prefix
	local a b
	a=$(median <"$2.rm") b=$(median <"$2.ng")
	printf '| %-40s | %9s | %9s | %5s | %s / %s |\n' "$1" "$a" "$b" "$(fdiv "$a" "$b")" \
		"$(paste -sd, "$2.rm")" "$(paste -sd, "$2.ng")"
}
echo
echo "TLS, medians of $ROUNDS rounds ($(nproc) cores, client on the same host)"
printf '| %-40s | %9s | %9s | %5s | %s |\n' "" regmaster nginx ratio "rounds rm / nginx"
printf '|%s|\n' "------------------------------------------|-----------|-----------|-------|------"
row "blob GET $BIG_MIB MiB over TLS (MB/s)" get
row "new conns/s, ECDSA P-256, full" hs.ec.new
row "new conns/s, ECDSA P-256, resumed" hs.ec.reuse
row "new conns/s, RSA 2048, full" hs.rsa.new
row "new conns/s, RSA 2048, resumed" hs.rsa.reuse
grep -q "killed by signal\|exited with status" "$W/rm/run/"*.log 2>/dev/null &&
	echo "a regmaster worker died during the run" >&2
exit 0
