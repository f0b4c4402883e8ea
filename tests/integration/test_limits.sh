#!/bin/bash
# test_limits.sh - hostile and slow clients against the real registry, with short
# limits configured: a head sent too slowly gets 408 and the connection closes; a
# body that stalls is abandoned and the upload keeps exactly what it had; an idle
# keep-alive connection is closed; a client address over its connection limit gets
# 429; malformed heads get 400; the 257th upload body written at once gets 429; and
# while all that happens, other clients are served at once. Then attacks from one
# address (limits_clients.py): a head trickling in, manifest bodies that promise
# 4 MiB and drip, one address sending many big manifests, 256 stalled upload bodies;
# another address is still served, the attacker is limited, drips slower than
# http.body_min_rate are cut, httpd's memory stays bounded. And HTTP/1.0 keep-alive
# and 417 answers. Runs as root (privilege separation) and as an ordinary user.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

LIMIT_PER_ADDR=6

# limits_config [BODY_TIMEOUT]: the instance's config with second-scale timeouts;
# L_IDLE, L_MAXCONN_IP and L_HTTP_EXTRA (more http keys) change it.
limits_config() {
	cat >"$T_CONF" <<EOF
run_dir = "$T_RUN";
log_level = "debug";
http = { listen = [ "127.0.0.1:$T_PORT" ];
	header_timeout = 2; idle_timeout = ${L_IDLE:-2}; body_timeout = ${1:-2};
	max_connections_per_address = ${L_MAXCONN_IP:-$LIMIT_PER_ADDR}; ${L_HTTP_EXTRA:-} };
storage = { root = "$T_STORE"; delete = true; };
auth = { dir = "$T_AUTH"; };
EOF
}

# open_conn FD: a raw TCP connection to the registry on descriptor FD.
open_conn() { eval "exec $1<>/dev/tcp/127.0.0.1/$T_PORT"; }
close_conn() { eval "exec $1>&-"; }

# read_all FD SECS: whatever the server sends until it closes, bounded in time.
read_all() { timeout "$2" cat <&"$1" 2>/dev/null; }

# fast_v2: another client is answered in under a second.
fast_v2() {
	local t
	t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 "$T_URL/v2/")
	awk -v t="$t" 'BEGIN { exit !(t > 0 && t < 1.0) }'
}

test_slow_head() {
	local out t0 t1
	open_conn 5
	printf 'GET /v2/ HTTP/1.1\r\nHost: x\r\n' >&5
	t_check "a slow head does not hold up other clients" fast_v2
	t0=$(t_now_ms)
	out=$(read_all 5 6)
	t1=$(t_now_ms)
	close_conn 5
	case $out in
	"HTTP/1.1 408 "*) ok "a head not finished within header_timeout gets 408" ;;
	*) fail "a head not finished within header_timeout gets 408" "got: ${out:0:80}" ;;
	esac
	if [ $((t1 - t0)) -ge 500 ] && [ $((t1 - t0)) -lt 5500 ]; then
		ok "the 408 comes after about header_timeout ($((t1 - t0)) ms)"
	else
		fail "the 408 comes after about header_timeout" "$((t1 - t0)) ms"
	fi
}

test_idle_close() {
	local out
	open_conn 5
	printf 'GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n' >&5
	# The answer, then the server closes the idle connection: cat ends by itself.
	out=$(read_all 5 6)
	close_conn 5
	case $out in
	"HTTP/1.1 200 "*"{}") ok "an idle keep-alive connection is closed after idle_timeout" ;;
	*) fail "an idle keep-alive connection is closed after idle_timeout" "got: ${out:0:120}" ;;
	esac
}

# upload_range URL: the Range header of the upload's status ("0-9" for 10
# bytes; Distribution answers "0-0" for an empty upload too).
upload_range() {
	curl -s -D - -o /dev/null "$1" | tr -d '\r' |
		awk 'tolower($1) == "range:" { print $2 }'
}

test_stalled_body() {
	local loc out off
	loc=$(curl -s -D - -o /dev/null -X POST "$T_URL/v2/limits/blobs/uploads/" |
		tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
	case $loc in
	/v2/*) loc=$T_URL$loc ;;
	esac
	printf '0123456789' | curl -s -o /dev/null -X PATCH --data-binary @- \
		-H 'Content-Type: application/octet-stream' "$loc"
	off=$(upload_range "$loc")
	t_check "the first chunk is stored (0-9, got $off)" test "$off" = 0-9
	open_conn 5
	printf 'PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nContent-Range: 10-1009\r\n\r\nabcdefghij' \
		"${loc#"$T_URL"}" >&5
	t_check "a stalled body does not hold up other clients" fast_v2
	out=$(read_all 5 8)
	close_conn 5
	case $out in
	"" | "HTTP/1.1 4"* | "HTTP/1.1 5"*) ok "a body stalled past body_timeout is abandoned" ;;
	*) fail "a body stalled past body_timeout is abandoned" "got: ${out:0:120}" ;;
	esac
	off=$(upload_range "$loc")
	t_check "the abandoned chunk left the upload as it was (0-9, got $off)" test "$off" = 0-9
	printf 'abcdefghij' | curl -s -o /dev/null -X PATCH --data-binary @- \
		-H 'Content-Range: 10-19' -H 'Content-Type: application/octet-stream' "$loc"
	off=$(upload_range "$loc")
	t_check "the client resends the chunk and goes on (0-19, got $off)" test "$off" = 0-19
}

test_per_address_limit() {
	local i out code
	for i in $(seq 1 "$LIMIT_PER_ADDR"); do
		open_conn $((i + 10))
	done
	open_conn 30
	out=$(read_all 30 3)
	close_conn 30
	case $out in
	"HTTP/1.1 429 "*TOOMANYREQUESTS*) ok "connection $((LIMIT_PER_ADDR + 1)) from one address gets 429" ;;
	*) fail "connection $((LIMIT_PER_ADDR + 1)) from one address gets 429" "got: ${out:0:120}" ;;
	esac
	for i in $(seq 1 "$LIMIT_PER_ADDR"); do
		close_conn $((i + 10))
	done
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$T_URL/v2/")
	t_check "after they close, the address is served again" test "$code" = 200
}

# raw_status REQUEST: the status code the server answers a raw request with.
raw_status() {
	local out
	open_conn 5
	printf '%b' "$1" >&5
	out=$(read_all 5 4 | head -c 200 | tr -d '\0')
	close_conn 5
	printf '%s' "$out" | head -1 | awk '{ print $2 }'
}

test_malformed_heads() {
	local s
	s=$(raw_status 'GET /v2/ HTTP/1.1\r\nHost: x\r\n folded: y\r\n\r\n')
	t_check "a folded header gets 400 (got $s)" test "$s" = 400
	s=$(raw_status 'GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx')
	t_check "a duplicate Content-Length gets 400 (got $s)" test "$s" = 400
	s=$(raw_status 'POST /v2/a/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
	t_check "Content-Length with Transfer-Encoding gets 400 (got $s)" test "$s" = 400
	s=$(raw_status 'GET /v2/ HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n')
	t_check "a NUL byte in a header gets 400 (got $s)" test "$s" = 400
	s=$(raw_status 'GET /v2/ HTTP/9.9\r\nHost: x\r\n\r\n')
	t_check "an unknown HTTP version gets 505 (got $s)" test "$s" = 505
	s=$(raw_status 'GET /v2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n')
	t_check "an unknown Transfer-Encoding gets 501 (got $s)" test "$s" = 501
	t_check "after all that the registry still answers" fast_v2
}

# test_chunk_overflow: a chunk size that overflows ends the request with 400
# and the upload keeps what it had.
test_chunk_overflow() {
	local loc s off
	loc=$(curl -s -D - -o /dev/null -X POST "$T_URL/v2/limits/blobs/uploads/" |
		tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
	s=$(raw_status "PATCH $loc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n")
	t_check "a chunk size that overflows gets 400 (got $s)" test "$s" = 400
	off=$(upload_range "$T_URL$loc")
	t_check "the upload is still empty (0-0, got $off)" test "$off" = 0-0
}

# test_body_budget: manifest bodies are held in memory, so all of them together
# are capped (64 MiB): 20 slow 4 MiB PUTs at once get some 503s, httpd's memory
# stays bounded, and it keeps serving.
test_body_budget() {
	local i codes n503 rss pid
	head -c $((4 * 1024 * 1024 - 16)) /dev/zero | tr '\0' ' ' >"$T_DIR/big.json"
	for i in $(seq 1 20); do
		# each from its own address: the per-address limit here is 6
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 --limit-rate 1M \
			--interface "127.0.1.$i" \
			-X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
			--data-binary @"$T_DIR/big.json" "$T_URL/v2/limits/manifests/big$i" \
			>"$T_DIR/budget.$i" &
	done
	wait
	codes=$(cat "$T_DIR"/budget.*)
	n503=$(printf '%s\n' "$codes" | grep -c '^503$')
	t_check "over the in-memory body budget, PUTs get 503 ($n503 of 20)" test "$n503" -ge 1
	t_check "the others are parsed and refused as invalid, not lost" \
		test "$(printf '%s\n' "$codes" | grep -cvE '^(503|400)$')" = 0
	t_status
	pid=$(t_worker_pid httpd)
	rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	if grep -q __asan_init "$(t_worker_path httpd)"; then
		# ASan keeps freed memory in quarantine: its peak says nothing
		t_diag "AddressSanitizer build: httpd's peak memory ($rss KiB) not checked"
	else
		t_check "httpd's peak memory stayed bounded (${rss} KiB)" \
			test "${rss:-999999}" -lt 131072
	fi
	t_check "and it keeps serving" fast_v2
}

# upload_writers N PORT: python opens N upload sessions and N+1 connections (five per
# source address, the per-address limit being 6); N of them send a PATCH head and one
# byte of a 1000-byte body and stall; then the last PATCHes a whole 10-byte body;
# then all stalled ones close and the last tries again on a new connection. Prints
# the two statuses of the last.
upload_writers() {
	timeout 20 python3 - "$1" "$2" <<'PY'
import re, socket, sys, time
n, port = int(sys.argv[1]), int(sys.argv[2])

def conn(i):
    s = socket.socket()
    s.bind(("127.0.2.%d" % (i // 5 + 1), 0))
    s.connect(("127.0.0.1", port))
    return s

def head(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\r\n\r\n")[0].decode("latin-1")

def status(h):
    return h.split(" ")[1] if h.startswith("HTTP/1.1 ") else "none"

def patch(s, loc, length, body):
    s.sendall(("PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
               "Content-Length: %d\r\nContent-Range: 0-%d\r\n\r\n" % (loc, length, length - 1)).encode() + body)

ctl = socket.create_connection(("127.0.0.1", port))
locs = []
for i in range(n + 1):
    ctl.sendall(b"POST /v2/limits/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    locs.append(re.search(r"(?im)^location: *(\S+)", head(ctl)).group(1))
stalled = [conn(i) for i in range(n)]
for s, loc in zip(stalled, locs):
    patch(s, loc, 1000, b"X")
time.sleep(0.5)
last = conn(n)
patch(last, locs[n], 10, b"0123456789")
first = status(head(last))
for s in stalled:
    s.close()
time.sleep(0.5)
again = conn(n)
patch(again, locs[n], 10, b"0123456789")
print(first, status(head(again)))
PY
}

test_upload_writers() {
	local got
	# The stalled bodies must outlive a slow machine's setup of the others.
	limits_config 30
	t_rm reload
	got=$(upload_writers 256 "$T_PORT")
	t_check "the 257th upload body written at once gets 429 (got: ${got% *})" \
		test "${got% *}" = 429
	t_check "once the others end, the same PATCH is stored (got: ${got#* })" \
		test "${got#* }" = 202
	t_check "and it keeps serving" fast_v2
}

# ------------------------------------------------ attacks from one address

# clients VERB: run limits_clients.py VERB against the instance (bounded).
clients() {
	timeout 90 python3 "$T_LIB_DIR/limits_clients.py" "$1" "$T_PORT" \
		"$(t_worker_pid httpd)" 2>&1
}

# field OUTPUT KEY [N]: the Nth word (default 2) of OUTPUT's line starting with KEY.
field() { printf '%s\n' "$1" | awk -v k="$2" -v n="${3:-2}" '$1 == k { print $n; exit }'; }

# between V LO HI: LO <= V < HI for integers (false if V is not a number).
between() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]; }

# served ST WANT MS LIMIT: status ST is WANT and came in under LIMIT ms.
served() { [ "$1" = "$2" ] && between "$3" 0 "$4"; }

# rss_bounded DESC RSS MAX: httpd's resident memory RSS (KiB, as the clients read it
# during the attack) was under MAX (not checked under AddressSanitizer, whose
# quarantine keeps freed memory).
rss_bounded() {
	if grep -q __asan_init "$(t_worker_path httpd)"; then
		t_diag "AddressSanitizer build: $1 not checked"
	else
		t_check "$1" between "$2" 1 "$3"
	fi
}

# dos_config [EXTRA]: long idle and stall timeouts, so that only the limits under test
# can cut an attacker; many connections per address, so that the attacker gets far.
dos_config() {
	L_IDLE=30 L_MAXCONN_IP=600 L_HTTP_EXTRA=${1:-} limits_config 30
	t_rm reload
	sleep 1
}

# A head that trickles in a byte a second is cut header_timeout (2 s) after its
# first byte, not after idle_timeout (30 s); another address is served meanwhile.
test_head_deadline() {
	local out st ms
	out=$(clients head)
	st=$(field "$out" cut) ms=$(field "$out" cut 3)
	t_check "a head trickling in a byte a second gets 408 (got $st)" test "$st" = 408
	t_check "its 408 comes header_timeout after its first byte, not idle_timeout ($ms ms)" \
		between "$ms" 1500 5500
	st=$(field "$out" victim) ms=$(field "$out" victim 3)
	t_check "meanwhile another address is answered at once ($st in $ms ms)" \
		served "$st" 200 "$ms" 1000
}

# 16 manifest PUTs that promise 4 MiB (Content-Length or chunked) and drip: they
# hold what they sent, not what they promised, so another address's PUT is stored.
test_mem_drip() {
	local out st ms
	out=$(clients memdrip)
	st=$(field "$out" victim) ms=$(field "$out" victim 3)
	t_check "16 dripping 4 MiB manifest PUTs: another address's PUT is stored ($st in $ms ms)" \
		served "$st" 201 "$ms" 2000
	rss_bounded "httpd's memory stays small under the drip ($(field "$out" rss) KiB)" \
		"$(field "$out" rss)" 32768
}

# One address sends 3.5 MiB of 17 manifests: it gets a quarter of the 64 MiB budget
# (four), the rest 429, and another address's PUT is stored.
test_mem_share() {
	local out held n429 st ms
	out=$(clients memshare)
	held=$(field "$out" held) n429=$(field "$out" refused429)
	t_check "one address holds at most a quarter of the body budget ($held of 17 held)" \
		between "$held" 1 5
	t_check "its other big manifest PUTs get 429 ($n429 of 17)" between "$n429" 12 17
	st=$(field "$out" victim) ms=$(field "$out" victim 3)
	t_check "another address's manifest PUT is stored meanwhile ($st in $ms ms)" \
		served "$st" 201 "$ms" 2000
	rss_bounded "httpd's memory stays bounded ($(field "$out" rss) KiB)" \
		"$(field "$out" rss)" 49152
}

# 256 PATCH bodies from one address that start and stall: the address gets
# max_upload_bodies_per_address (32) of storaged's 256, another address's gets in.
test_upload_slots() {
	local out held n429 st ms
	out=$(clients slots)
	held=$(field "$out" held) n429=$(field "$out" refused429)
	t_check "one address gets 32 upload bodies at once ($held held)" test "$held" = 32
	t_check "its 224 others get 429 ($n429)" test "$n429" = 224
	st=$(field "$out" victim) ms=$(field "$out" victim 3)
	t_check "another address's upload body is stored meanwhile ($st in $ms ms)" \
		served "$st" 202 "$ms" 2000
}

# With body_min_rate 1024 over 3 s: a manifest and an upload body dripping a byte a
# second get 408 within the window (the upload keeps what it had); 4 KiB/s passes.
test_min_rate() {
	local out st ms what
	dos_config "body_min_rate = 1024; body_rate_window = 3;"
	out=$(clients rate)
	for what in manifest upload; do
		st=$(field "$out" "$what") ms=$(field "$out" "$what" 3)
		t_check "the $what body dripping a byte a second gets 408 ($st)" test "$st" = 408
		t_check "within the 3 s window, long before body_timeout ($ms ms)" \
			between "$ms" 2500 7000
	done
	t_check "the cut upload kept what it had (0-9, got $(field "$out" range))" \
		test "$(field "$out" range)" = 0-9
	st=$(field "$out" fine) ms=$(field "$out" fine 3)
	t_check "a body sent at 4 KiB/s is stored ($st after $ms ms)" test "$st" = 202
}

# HTTP/1.0 with Connection: keep-alive is answered so and kept open; an Expect the
# server cannot meet gets "417 Expectation Failed".
test_http_small() {
	local out
	out=$(clients http10)
	t_check "an HTTP/1.0 keep-alive answer says Connection: keep-alive ($(field "$out" first 3))" \
		test "$(field "$out" first 3)" = keepalive=1
	t_check "and a second request on it is answered ($(field "$out" second))" \
		test "$(field "$out" second)" = 200
	t_check "an unmet Expect gets 417 Expectation Failed ($(printf '%s\n' "$out" | sed -n 's/^expect //p'))" \
		test "$(printf '%s\n' "$out" | sed -n 's/^expect //p' | tr -d '\r')" = "HTTP/1.1 417 Expectation Failed"
}

body() {
	t_init limits || return 1
	limits_config
	t_start || {
		fail "regmaster starts with short limits" "$T_OUT"
		return 1
	}
	t_wait_http "$T_URL/v2/" 200 10 || fail "the registry answers /v2/"
	test_slow_head
	test_idle_close
	test_stalled_body
	test_per_address_limit
	test_malformed_heads
	test_chunk_overflow
	test_http_small
	dos_config
	test_head_deadline
	test_mem_drip
	test_mem_share
	test_upload_slots
	test_min_rate
	limits_config
	t_rm reload
	test_body_budget
	test_upload_writers
	t_stop
}

t_run_modes body
t_summary
