#!/bin/bash
# test_cache_forward.sh — an edge with cache.push = "forward": pushes go to the upstream
# with the client's own credentials. The upstream is a regmaster with TLS and token auth
# (users "edge", the edge's own for its pulls, and "dev", a developer's); docker-registry
# sits under the edge's prefix dr/; a python server under bad/ misbehaves.
#
# What it tests (both modes: as root with privilege separation, and as a plain user):
#   1. skopeo pushes through the edge as dev: the image is on the upstream with the
#      same digests; it is pulled back through the edge (the cache) and directly.
#      A tag the edge has cached, moved by a push through it, is seen at once.
#   2. without credentials, and with a wrong password, the edge answers 401 with the
#      upstream's own challenge (the edge's own credentials are never lent).
#   3. the token flow by hand: a token from the upstream's realm, a POST through the
#      edge answered 202 with a Location mapped back to the edge, the monolithic PUT
#      there, the blob on the upstream; a mount from a name of the same upstream.
#   4. prefixed names: a push to dr/NAME lands in docker-registry as NAME; its absolute
#      Location comes back as the edge's /v2/dr/NAME/... path.
#   5. a 256 MiB layer pushed through the edge: httpd's peak memory stays far below it.
#   6. a misbehaving upstream (endless headers, a lying Content-Length, a Location that
#      maps nowhere, a close in the middle of the body): 502, and no descriptor left;
#      one that answers 401 before it reads the body: the client gets that 401.
#   7. (root mode) dockerd logs in to the edge, pulls through it and pushes a new name,
#      its layers mounted through the edge.
#   8. the upstream stopped: GET /v2/ is the edge's again, pulls come from the cache, a
#      push is a 502.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

PW=edgepw-$RANDOM$RANDOM
DEVPW=devpw-$RANDOM$RANDOM
EDGE=""		# the edge's host:port
EDGE_MURL=""	# its metrics listener
BAD_PORT=""
BAD_PID=""
TOKEN=""
CT=120		# seconds a docker command may take

# sk_digest REF [ARGS...]: the digest of docker://REF's manifest as skopeo reads it.
sk_digest() {
	local ref=$1
	shift
	timeout 60 skopeo inspect --raw "$@" "docker://$ref" 2>/dev/null |
		sha256sum | sed 's/^/sha256:/; s/ .*//'
}

# up_token SCOPE: a token of the upstream's realm for dev, into TOKEN.
up_token() {
	TOKEN=$(curl -s --max-time 30 --cacert "$PKI/ca.crt" -u "dev:$DEVPW" \
		"https://$UP_TLS/token?service=regmaster&scope=$1" | jq -r '.token // empty')
}

# up_has_blob DIGEST: the upstream's store holds that blob.
up_has_blob() {
	local h=${1#sha256:}
	t_use_instance UP
	[ -f "$T_STORE/docker/registry/v2/blobs/sha256/${h:0:2}/$h/data" ]
}

# metric NAME: the edge's value of metric NAME (unlabelled).
metric() {
	curl -s --max-time 5 "$EDGE_MURL/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# httpd_fds: how many descriptors the edge's httpd holds.
httpd_fds() {
	t_use_instance EDGE
	t_status >/dev/null 2>&1
	find "/proc/$(t_worker_pid httpd)/fd" -mindepth 1 2>/dev/null | wc -l
}

edge_start() {
	t_init edge || return 1
	cat >>"$T_CONF" <<EOF
log_file = "$T_DIR/regmaster.log";
cache = { push = "forward"; upstreams = (
	{ url = "https://$UP_TLS"; username = "edge"; password = "$PW";
	  ca = "$PKI/ca.crt"; ttl = "1h"; },
	{ prefix = "dr/"; url = "$DR_URL"; },
	{ prefix = "bad/"; url = "http://127.0.0.1:$BAD_PORT"; }
); };
EOF
	t_check "the edge (cache.push = forward) starts" t_start || return 1
	EDGE=127.0.0.1:$T_PORT
	EDGE_MURL=$T_MURL
	t_save_instance EDGE
}

test_push_pull() {
	local want d
	want=$(img_digest "$IMGS" multi)
	t_skopeo_copy "skopeo pushes through the edge as the upstream's user" \
		--dest-tls-verify=false --dest-creds "dev:$DEVPW" \
		"oci:$IMGS/multi:latest" "docker://$EDGE/team/fwd:v1" || return 1
	d=$(sk_digest "$UP_TLS/team/fwd:v1" --creds "dev:$DEVPW" --cert-dir "$PKI/certs")
	same "the image is on the upstream, its digest the pushed one" "$want" "$d"
	d=$(jq -r '.manifests[0].digest' "$IMGS/multi/index.json")
	for d in $(jq -r '.config.digest, .layers[].digest' \
		"$IMGS/multi/blobs/sha256/${d#sha256:}"); do
		if up_has_blob "$d"; then ok "the upstream holds blob ${d:7:12}"; else
			fail "the upstream holds blob ${d:7:12}"; fi
	done
	t_use_instance EDGE
	t_skopeo_copy "an anonymous pull through the edge (fetched with its own credentials)" \
		--src-tls-verify=false "docker://$EDGE/team/fwd:v1" "oci:$T_DIR/anon:latest"
	t_skopeo_copy "the image is pulled back through the edge" --src-tls-verify=false \
		--src-creds "dev:$DEVPW" "docker://$EDGE/team/fwd:v1" "oci:$T_DIR/back:latest"
	d=$(sk_digest "$EDGE/team/fwd:v1" --tls-verify=false --creds "dev:$DEVPW")
	same "... with the same digest" "$want" "$d"
	t_skopeo_copy "and directly from the upstream" --src-cert-dir "$PKI/certs" \
		--src-creds "dev:$DEVPW" "docker://$UP_TLS/team/fwd:v1" "oci:$T_DIR/direct:latest"
	same "the two pulls hold the same blobs" "$(layout_set "$T_DIR/back")" \
		"$(layout_set "$T_DIR/direct")"
}

# A tag the edge has cached (ttl 1h) moved by a push through the edge: the next pull
# through the edge sees the new digest at once.
test_moved_tag() {
	local d
	t_skopeo_copy "skopeo pushes team/moved:v1 through the edge" --dest-tls-verify=false \
		--dest-creds "dev:$DEVPW" "oci:$IMGS/multi:latest" "docker://$EDGE/team/moved:v1"
	d=$(sk_digest "$EDGE/team/moved:v1" --tls-verify=false)
	same "the edge serves (and caches) its digest" "$(img_digest "$IMGS" multi)" "$d"
	t_skopeo_copy "an index pushed to the same tag through the edge" --all \
		--dest-tls-verify=false --dest-creds "dev:$DEVPW" "oci:$IMGS/index:latest" \
		"docker://$EDGE/team/moved:v1"
	d=$(sk_digest "$EDGE/team/moved:v1" --tls-verify=false)
	same "the edge serves the moved tag at once, not after its ttl" \
		"$(img_digest "$IMGS" index)" "$d"
}

test_unauthorized() {
	local up
	req POST "https://$UP_TLS/v2/team/fwd/blobs/uploads/" --cacert "$PKI/ca.crt"
	up=$(hval WWW-Authenticate)
	req POST "http://$EDGE/v2/team/fwd/blobs/uploads/"
	is_err "a push without credentials: 401 from the edge" 401 UNAUTHORIZED
	same "... with the upstream's challenge" "$up" "$(hval WWW-Authenticate)"
	req POST "http://$EDGE/v2/team/fwd/blobs/uploads/" -u "dev:wrong"
	is_err "a wrong password: 401" 401 UNAUTHORIZED
	same "... with the upstream's challenge" "$up" "$(hval WWW-Authenticate)"
	case $up in *"realm=\"https://$UP_TLS/token\""*)
		ok "the challenge names the upstream's token service" ;;
	*) fail "the challenge names the upstream's token service" "$up" ;; esac
	req GET "http://$EDGE/v2/"
	is_code "GET /v2/ on the edge is the upstream's: 401" 401
	same "... with its challenge" "$(printf '%s' "$up" | sed 's/,scope=.*//')" \
		"$(hval WWW-Authenticate | sed 's/,scope=.*//')"
	if timeout 60 skopeo copy -q --dest-tls-verify=false --dest-creds "dev:wrong" \
		"oci:$IMGS/multi:latest" "docker://$EDGE/team/wrong:v1" >"$T_DIR/sk.out" 2>&1; then
		fail "skopeo with a wrong password is refused"
	else
		ok "skopeo with a wrong password is refused"
	fi
}

# The Distribution flow by hand, with a token of the upstream's.
test_token_flow() {
	local loc blob d sep
	up_token "repository:team/curl:push,pull"
	if [ -n "$TOKEN" ]; then ok "a token from the upstream's realm"; else
		fail "a token from the upstream's realm"; return 1; fi
	req POST "http://$EDGE/v2/team/curl/blobs/uploads/" -H "Authorization: Bearer $TOKEN"
	is_code "POST through the edge with the token: 202" 202
	loc=$(hval Location)
	case $loc in /v2/team/curl/blobs/uploads/?*) ok "its Location is the edge's path ($loc)" ;;
	*) fail "its Location is the edge's path" "$(what)" ;; esac
	if [ -n "$(hval Docker-Upload-UUID)" ] && [ -n "$(hval Range)" ]; then
		ok "Docker-Upload-UUID and Range are passed back"
	else
		fail "Docker-Upload-UUID and Range are passed back" "$(what)"
	fi
	head -c 300000 /dev/urandom >"$T_DIR/blob.bin"
	blob=$(dg "$T_DIR/blob.bin")
	req PATCH "http://$EDGE$loc" -H "Authorization: Bearer $TOKEN" \
		-H "Content-Type: application/octet-stream" -H "Transfer-Encoding: chunked" \
		--data-binary "@$T_DIR/blob.bin"
	is_code "a chunked PATCH through the edge: 202" 202
	same "... Range counts the bytes" "0-299999" "$(hval Range)"
	loc=$(hval Location)
	case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
	req PUT "http://$EDGE$loc${sep}digest=$blob" -H "Authorization: Bearer $TOKEN"
	is_code "the closing PUT through the edge: 201" 201
	same "... with the digest" "$blob" "$(hval Docker-Content-Digest)"
	if up_has_blob "$blob"; then ok "the upstream holds the blob"; else
		fail "the upstream holds the blob"; fi
	up_token "repository:team/mounted:push,pull&scope=repository:team/curl:pull"
	req POST "http://$EDGE/v2/team/mounted/blobs/uploads/?mount=$blob&from=team/curl" \
		-H "Authorization: Bearer $TOKEN"
	is_code "a mount from a name of the same upstream: 201" 201
	same "... its Location the edge's" "/v2/team/mounted/blobs/$blob" "$(hval Location)"
	req POST "http://$EDGE/v2/team/mounted/blobs/uploads/?mount=$blob&from=dr/other/x" \
		-H "Authorization: Bearer $TOKEN"
	is_code "a mount from another upstream's name starts an upload instead: 202" 202
	d=$(hval Location)
	req DELETE "http://$EDGE$d" -H "Authorization: Bearer $TOKEN"
	is_code "... which DELETE cancels through the edge: 204" 204
}

# Prefixed names: dr/NAME is docker-registry's NAME.
test_prefixed() {
	local want d
	want=$(img_digest "$IMGS" multi)
	req POST "http://$EDGE/v2/dr/other/fwd/blobs/uploads/"
	is_code "POST to dr/other/fwd through the edge: docker-registry's 202" 202
	case $(hval Location) in "/v2/dr/other/fwd/blobs/uploads/"*"_state="*)
		ok "its absolute Location comes back as the edge's dr/ path" ;;
	*) fail "its absolute Location comes back as the edge's dr/ path" "$(what)" ;; esac
	req DELETE "http://$EDGE$(hval Location)"
	t_skopeo_copy "skopeo pushes to dr/other/fwd through the edge" --dest-tls-verify=false \
		--dest-creds "dev:$DEVPW" "oci:$IMGS/multi:latest" "docker://$EDGE/dr/other/fwd:v1"
	d=$(sk_digest "$DR_HOST/other/fwd:v1" --tls-verify=false)
	same "docker-registry holds it as other/fwd, the same digest" "$want" "$d"
}

test_big() {
	local layer peak pid
	layer=$(jq -r '.manifests[0].digest' "$IMGS/big/index.json")
	layer=$(jq -r '.layers[0].digest' "$IMGS/big/blobs/sha256/${layer#sha256:}")
	t_skopeo_copy "skopeo pushes a 256 MiB layer through the edge" --dest-tls-verify=false \
		--dest-creds "dev:$DEVPW" "oci:$IMGS/big:latest" "docker://$EDGE/team/big:v1"
	if up_has_blob "$layer"; then ok "the upstream holds the 256 MiB layer"; else
		fail "the upstream holds the 256 MiB layer"; fi
	t_use_instance EDGE
	if grep -q 'seccomp filter off: sanitizer build' "$T_DIR/regmaster.log"; then
		skip "the edge's httpd peaks below 64 MiB" "ASan's shadow memory and quarantine"
		return 0
	fi
	t_status >/dev/null 2>&1
	pid=$(t_worker_pid httpd)
	peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	if [ -n "$peak" ] && [ "$peak" -lt 65536 ]; then
		ok "the edge's httpd peaked at $peak KiB (< 64 MiB) for a 256 MiB body"
	else
		fail "the edge's httpd peaked below 64 MiB for a 256 MiB body" "VmHWM '$peak' KiB"
	fi
}

# bad_start: the misbehaving upstream under bad/, on BAD_PORT from the start (a port
# picked and bound only later could be taken in between); the harness stops it if the
# suite ends early.
bad_start() {
	BAD_PORT=$(t_pick_port) || return 1
	cat >"$T_DIR/bad_upstream.py" <<'PY'
import socket, sys, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', int(sys.argv[1])))
srv.listen(16)
open(sys.argv[2], 'w').close()
def serve(s):
    data = b''
    while b'\r\n\r\n' not in data:
        got = s.recv(65536)
        if not got:
            return
        data += got
    line = data.split(b'\r\n', 1)[0].decode()
    try:
        if '/endless/' in line:
            s.sendall(b'HTTP/1.1 202 Accepted\r\n')
            for _ in range(400):
                s.sendall(b'X-Pad: ' + b'a' * 100 + b'\r\n')
        elif '/short/' in line:
            s.sendall(b'HTTP/1.1 202 Accepted\r\nContent-Length: 5000\r\n\r\n{"x":')
        elif '/badloc/' in line:
            s.sendall(b'HTTP/1.1 202 Accepted\r\nLocation: /elsewhere/x\r\n'
                      b'Content-Length: 0\r\n\r\n')
        elif '/gone/' in line:
            s.recv(65536)
        elif '/early/' in line:
            # answers before the body and reads no more of it for a while
            s.sendall(b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic '
                      b'realm="early"\r\nContent-Length: 0\r\n\r\n')
            time.sleep(90)	# longer than the client waits
    except OSError:
        pass
    s.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	t_bg "$T_DIR/bad_upstream.log" python3 "$T_DIR/bad_upstream.py" "$BAD_PORT" \
		"$T_DIR/bad.ready"
	BAD_PID=$T_BG_PID
	t_wait_until 10 test -e "$T_DIR/bad.ready" || {
		fail "the misbehaving upstream listens on $BAD_PORT"
		return 1
	}
}

# A target of the longest length a request may have (4096), whose forwarded path
# (the ref escaped again, the query kept) cannot fit an upstream request: an error
# for that client, and httpd goes on (it once exited on it).
test_long_target() {
	local pid t=/v2/app/blobs/sha256:1?
	t_use_instance EDGE
	t_status >/dev/null
	pid=$(t_worker_pid httpd)
	t=$t$(head -c $((4096 - ${#t})) /dev/zero | tr '\0' a)
	req HEAD "http://$EDGE$t"
	t_check "a forwarded path too long for the upstream: an error for the client ($CODE)" \
		[ "$CODE" -ge 400 -a "$CODE" -lt 500 ]
	t_status >/dev/null
	same "... and httpd goes on (the same process)" "$pid" "$(t_worker_pid httpd)"
}

# An upstream that misbehaves, under bad/.
test_bad_upstream() {
	local before after n
	before=$(httpd_fds)
	req POST "http://$EDGE/v2/bad/endless/blobs/uploads/"
	is_err "endless headers from the upstream: 502" 502 UNAVAILABLE
	req POST "http://$EDGE/v2/bad/short/blobs/uploads/"
	is_err "a body shorter than its Content-Length: 502" 502 UNAVAILABLE
	req POST "http://$EDGE/v2/bad/badloc/blobs/uploads/"
	is_err "a Location that maps to no name of the edge: 502" 502 UNAVAILABLE
	head -c 8388608 /dev/urandom >"$T_DIR/gone.bin"
	req PATCH "http://$EDGE/v2/bad/gone/blobs/uploads/u1" --data-binary "@$T_DIR/gone.bin"
	is_code "the upstream closes in the middle of the body: 502" 502
	# more than the socket buffers and the pipe between hold
	head -c 33554432 /dev/urandom >"$T_DIR/early.bin"
	req PATCH "http://$EDGE/v2/bad/early/blobs/uploads/u1" --data-binary "@$T_DIR/early.bin"
	is_code "the upstream answers 401 before reading the body: the client gets it" 401
	same "... with its challenge" 'Basic realm="early"' "$(hval WWW-Authenticate)"
	n=$(metric registry_cache_forward_errors_total)
	same "the edge counts the four failed exchanges" 4 "$n"
	n=$(metric registry_cache_pushes_forwarded_total)
	if [ "${n:-0}" -gt 20 ]; then ok "and the forwarded ones ($n)"; else
		fail "and the forwarded ones" "got '$n'"; fi
	t_wait_until 10 test "$(httpd_fds)" -le "$before"
	after=$(httpd_fds)
	same "no descriptor is left behind" "$before" "$after"
	t_bg_stop "$BAD_PID"
	BAD_PID=""
}

# dockerd (root mode only) logs in to the edge, pulls through it and pushes a new
# name: the layers are mounted from the first name, through the edge.
test_docker() {
	local pushed up
	if [ "$T_MODE" != root ] || ! command -v dockerd >/dev/null 2>&1; then
		skip "docker pushes through the edge" "dockerd runs in root mode only"
		return 0
	fi
	dkd_start || return 1
	if printf '%s' "$DEVPW" | dk login -u dev --password-stdin "$EDGE" >"$T_DIR/dk.out" 2>&1
	then
		ok "docker login to the edge (a token of the upstream's)"
	else
		fail "docker login to the edge (a token of the upstream's)" "$(cat "$T_DIR/dk.out")"
	fi
	t_check "docker pulls team/fwd:v1 through the edge" dk pull -q "$EDGE/team/fwd:v1"
	dk tag "$EDGE/team/fwd:v1" "$EDGE/team/docker:v1"
	if dk push "$EDGE/team/docker:v1" >"$T_DIR/dk.out" 2>&1; then
		ok "docker pushes team/docker:v1 through the edge"
	else
		fail "docker pushes team/docker:v1 through the edge" "$(cat "$T_DIR/dk.out")"
	fi
	pushed=$(grep -o 'digest: sha256:[0-9a-f]*' "$T_DIR/dk.out" | cut -d' ' -f2)
	up=$(sk_digest "$UP_TLS/team/docker:v1" --creds "dev:$DEVPW" --cert-dir "$PKI/certs")
	same "the upstream holds it, with the digest docker reported" "$pushed" "$up"
	dkd_stop
}

# The upstream stopped: the edge answers GET /v2/ itself, pulls come from the cache,
# pushes fail cleanly.
test_upstream_down() {
	local d
	t_use_instance UP
	t_check "the upstream stops" t_stop
	t_use_instance EDGE
	req GET "http://$EDGE/v2/"
	is_code "with the upstream down, GET /v2/ is answered by the edge: 200" 200
	t_skopeo_copy "... and the pushed image is pulled from the cache" --src-tls-verify=false \
		"docker://$EDGE/team/fwd:v1" "oci:$T_DIR/down:latest"
	d=$(sk_digest "$EDGE/team/fwd:v1" --tls-verify=false)
	same "... with the same digest" "$(img_digest "$IMGS" multi)" "$d"
	req POST "http://$EDGE/v2/team/fwd/blobs/uploads/"
	is_err "a push with the upstream down: 502" 502 UNAVAILABLE
}

body() {
	t_cache_images fwd || return 1
	t_tls_token_upstream fwd-up edge "$PW" dev "$DEVPW" || return 1
	t_save_instance UP
	mkdir -p "$T_DIR/dr"
	dr_start "$T_DIR/dr" || return 1
	bad_start || return 1
	edge_start || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	test_unauthorized
	test_push_pull
	test_moved_tag
	test_token_flow
	test_prefixed
	test_docker
	test_big
	test_long_target
	test_bad_upstream
	test_upstream_down
	t_use_instance EDGE
	t_check "the edge stops" t_stop
	dr_stop
	rm -rf -- "$IMGS/big"
}

t_run_modes body
t_summary
