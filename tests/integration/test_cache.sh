#!/bin/bash
# test_cache.sh — the pull-through cache (cache.upstreams): a regmaster serving as
# upstream over TLS (a CA this suite makes with openssl) with token auth, Debian's
# docker-registry as a second, foreign upstream, and the cache regmaster in front.
#
# What it tests (both modes: as root with privilege separation, and as a plain user):
#   1. skopeo pulls an image through the cache from each upstream; the digests are the
#      upstream's; the cache's store then holds it under PREFIX + NAME.
#   2. upstreams stopped: the same pulls are served from the cache.
#   3. 20 concurrent pulls of an image the cache never saw: exactly one upstream GET
#      per blob (counted in docker-registry's access log).
#   4. a tag moved upstream is seen after the ttl and not before.
#   5. a lying upstream (a python server serving a corrupted blob) is caught: the
#      client's transfer fails, nothing is stored, a metric counts it.
#   6. a push to a cached name is refused with DENIED; with a mirror upstream, a name
#      no prefix takes is the host's own when it holds it, else fetched from the mirror.
#   7. the first bytes of a 256 MiB layer reach the client before the cache holds
#      it all.
#   8. upstream connections are kept: a pull (manifest, then each blob) from
#      docker-registry behind a relay that counts connections (conn_relay.py) opens
#      one; after the relay restarts (the idle connection closed under the cache) the
#      next pull opens one new connection and succeeds.
#   9. Bearer tokens are kept: an upstream (a python server) that wants a token for
#      every request answers the first one 401 and its token service once; four blob
#      fetches in a row cost one token request and one 401. (Its answers come in one
#      write, head and body together: the token used to be read twice then.)
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

ACCEPT="application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"
CACHE_URL=""
LIAR_PID=""
CACHE_MURL=""
CACHE_STORE=""
GOT=""
LIAR_PORT=""
RELAY_PID=""
RELAY_PORT=""
TOK_PORT=""
PW=cachepw-$RANDOM$RANDOM

# sk_digest REF [ARGS...]: the digest skopeo sees for docker://REF.
sk_digest() {
	local ref=$1
	shift
	timeout 60 skopeo inspect --raw --tls-verify=false "$@" "docker://$ref" 2>/dev/null |
		sha256sum | sed 's/^/sha256:/; s/ .*//'
}

# metric NAME: the cache's value of metric NAME (unlabelled).
metric() {
	curl -s --max-time 5 "$CACHE_MURL/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# head_digest URL NAME REF: Docker-Content-Digest of a manifest HEAD into GOT.
head_digest() {
	req HEAD "$1/v2/$2/manifests/$3" -H "Accept: $ACCEPT"
	GOT=$(hval Docker-Content-Digest)
}

# up_blob_gets REPO DIGEST: GETs of that blob the upstream regmaster logged.
up_blob_gets() {
	grep -c "GET /v2/$1/blobs/$2\$" "$UP_LOG" 2>/dev/null
}

# stored_blob DIGEST: the cache's store holds that blob's data.
stored_blob() {
	local h=${1#sha256:}
	[ -f "$CACHE_STORE/docker/registry/v2/blobs/sha256/${h:0:2}/$h/data" ]
}

# upstream_start: a regmaster with TLS, a user and token auth, the images pushed.
upstream_start() {
	t_tls_token_upstream cache-up edge "$PW" || return 1
	t_save_instance UP
	t_skopeo_copy "skopeo pushes an image to the upstream regmaster" \
		--dest-creds "edge:$PW" --dest-cert-dir "$PKI/certs" \
		"oci:$IMGS/multi:latest" "docker://$UP_TLS/team/app:v1"
}

# cache_start: the cache regmaster, both upstreams configured (ttl 4 s).
cache_start() {
	t_init cache || return 1
	cat >>"$T_CONF" <<EOF
log_file = "$T_DIR/regmaster.log";
cache = { upstreams = (
	{ prefix = "up/"; url = "https://$UP_TLS"; username = "edge"; password = "$PW";
	  ca = "$PKI/ca.crt"; ttl = "4s"; },
	{ prefix = "dr/"; url = "$DR_URL"; ttl = "1h"; mirror = true; },
	{ prefix = "liar/"; url = "http://127.0.0.1:$LIAR_PORT"; },
	{ prefix = "relay/"; url = "http://127.0.0.1:$RELAY_PORT"; ttl = "1h"; },
	{ prefix = "tok/"; url = "http://127.0.0.1:$TOK_PORT"; }
); };
EOF
	t_check "the cache regmaster starts" t_start
	CACHE_URL=$T_URL
	CACHE_MURL=$T_MURL
	CACHE_STORE=$T_STORE
	t_save_instance CACHE
}

# pull DESC REF DIGEST: skopeo copies REF from the cache; its digest is DIGEST.
pull() {
	local d
	t_skopeo_copy "$1" --src-tls-verify=false "docker://${CACHE_URL#http://}/$2" \
		"oci:$T_DIR/pull-$RANDOM:latest" || return 1
	d=$(sk_digest "${CACHE_URL#http://}/$2")
	same "$1: the digest is the upstream's" "$3" "$d"
}

test_pull_through() {
	local want
	want=$(img_digest "$IMGS" multi)
	pull "pull through the cache from the TLS, token upstream" up/team/app:v1 "$want"
	pull "pull through the cache from docker-registry" dr/other/app:v1 "$want"
	# dr/ is also the mirror (docker's registry-mirrors sends names without a prefix)
	pull "a name no prefix takes goes to the mirror upstream" other/app:v1 "$want"
	t_skopeo_copy "a push to a name the host owns is taken (beside the mirror)" \
		--dest-tls-verify=false "oci:$IMGS/multi:latest" \
		"docker://${CACHE_URL#http://}/other/app:mine"
	pull "the host's own repository of that name is served first" other/app:mine "$want"
	t_use_instance CACHE
	if [ -d "$T_STORE/docker/registry/v2/repositories/dr/other/app" ] &&
		[ -d "$T_STORE/docker/registry/v2/repositories/other/app" ]; then
		ok "the mirror's copy is in dr/other/app, the host's own in other/app"
	else
		fail "the mirror's copy is in dr/other/app, the host's own in other/app" \
			"$(ls -R "$T_STORE/docker/registry/v2/repositories" | head)"
	fi
	if [ -d "$T_STORE/docker/registry/v2/repositories/up/team/app" ]; then
		ok "the copy is stored in repository up/team/app"
	else
		fail "the copy is stored in repository up/team/app" "$(ls -R "$T_STORE" | head)"
	fi
}

test_refused_push() {
	req POST "$CACHE_URL/v2/up/team/app/blobs/uploads/"
	is_err "a push to a cached name is refused" 403 DENIED
	req PUT "$CACHE_URL/v2/up/team/app/manifests/v9" -H "Content-Type: application/json" \
		--data-binary '{}'
	is_err "a manifest push to a cached name is refused" 403 DENIED
}

# 20 skopeo pulls at once of an image the cache never saw: one upstream GET a blob.
test_concurrent() {
	local i pids=() bad=0 d n
	t_use_instance UP
	t_skopeo_copy "skopeo pushes the image again, as team/fresh" --dest-creds "edge:$PW" \
		--dest-cert-dir "$PKI/certs" "oci:$IMGS/multi:latest" "docker://$UP_TLS/team/fresh:v1"
	t_use_instance CACHE
	for i in $(seq 1 20); do
		timeout 120 skopeo copy -q --src-tls-verify=false \
			"docker://${CACHE_URL#http://}/up/team/fresh:v1" "oci:$T_DIR/conc-$i:latest" \
			>"$T_DIR/conc-$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || bad=$((bad + 1)); done
	same "20 concurrent pulls through the cache succeed" 0 "$bad" "$(cat "$T_DIR"/conc-*.out | head -20)"
	for d in $(layout_blob_digests "$IMGS/multi"); do
		n=$(up_blob_gets team/fresh "$d")
		same "the upstream served blob ${d:7:12} once for 20 pulls" 1 "$n"
	done
}

# A tag moved upstream: the old digest until the ttl (4 s) passed, then the new one.
test_moved_tag() {
	local old new
	old=$(img_digest "$IMGS" multi)
	head_digest "$CACHE_URL" up/team/app v1
	same "the cache serves the tag's digest" "$old" "$GOT" "$(what)"
	t_use_instance UP
	t_skopeo_copy "the tag is moved upstream (an index)" --all --dest-creds "edge:$PW" \
		--dest-cert-dir "$PKI/certs" "oci:$IMGS/index:latest" "docker://$UP_TLS/team/app:v1"
	new=$(img_digest "$IMGS" index)
	t_use_instance CACHE
	head_digest "$CACHE_URL" up/team/app v1
	same "before the ttl, the cache still serves the old digest" "$old" "$GOT" "$(what)"
	sleep 5
	head_digest "$CACHE_URL" up/team/app v1
	same "after the ttl, the cache serves the moved tag" "$new" "$GOT" "$(what)"
	t_skopeo_copy "the moved tag (both platforms) is pulled through the cache" --all \
		--src-tls-verify=false "docker://${CACHE_URL#http://}/up/team/app:v1" \
		"oci:$T_DIR/moved:latest"
}

# Upstreams stopped: what the cache holds is served, stale tags too.
test_upstream_down() {
	local want
	want=$(img_digest "$IMGS" index)
	t_use_instance UP
	t_check "the upstream regmaster stops" t_stop
	dr_stop
	sleep 5		# past up/'s ttl: the tag needs a revalidation that fails
	t_use_instance CACHE
	t_skopeo_copy "with the upstream down, the moved tag is pulled from the cache" \
		--all --src-tls-verify=false "docker://${CACHE_URL#http://}/up/team/app:v1" \
		"oci:$T_DIR/down-1:latest"
	head_digest "$CACHE_URL" up/team/app v1
	same "it is the digest last seen upstream" "$want" "$GOT"
	pull "with docker-registry down, its image is pulled from the cache" dr/other/app:v1 \
		"$(img_digest "$IMGS" multi)"
	n=$(metric registry_cache_stale_served_total)
	if [ "${n:-0}" -ge 1 ]; then ok "stale serves are counted ($n)"; else
		fail "stale serves are counted" "got '$n'" \
			"$(curl -s --max-time 5 "$CACHE_MURL/metrics" | grep -i 'cache\|worker' | head -20)"; fi
	req GET "$CACHE_URL/v2/up/team/never/manifests/v1"
	is_code "a manifest never cached, upstream down: 502" 502
	grep -q '"code":"UNAVAILABLE"' "$BODY" && ok "... with an OCI error" ||
		fail "... with an OCI error" "$(what)"
}

# A lying upstream serves a blob whose bytes are not its digest.
test_liar() {
	local good bad n
	head -c 1048576 /dev/urandom >"$T_DIR/good.bin"
	cp -- "$T_DIR/good.bin" "$T_DIR/bad.bin"
	# byte 1000 flipped (an 'X' written there was the same byte one run in 256)
	python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(1000); b = f.read(1)[0]
f.seek(1000); f.write(bytes([b ^ 0xff]))' "$T_DIR/bad.bin"
	good=$(dg "$T_DIR/good.bin")
	short=sha256:$(printf short | sha256sum | cut -d' ' -f1)
	python3 - "$LIAR_PORT" "$T_DIR/bad.bin" "$T_DIR/liar.log" "$short" <<'PY' &
import http.server, sys
port, path, log, SHORT = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
data = open(path, 'rb').read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open(log, 'a').write(self.path + '\n')
        if '/manifests/endless' in self.path:
            self.wfile.write(b'HTTP/1.1 200 OK\r\n' + b'X-Pad: ' + b'a' * 100 + b'\r\n')
            for _ in range(400):
                self.wfile.write(b'X-Pad: ' + b'a' * 100 + b'\r\n')
            return
        if self.path.endswith(SHORT):
            self.send_response(200)
            self.send_header('Content-Length', str(len(data) + 1000))
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True
            return
        if '/blobs/' in self.path:
            self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_response(404)
            self.send_header('Content-Length', '0')
            self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()
PY
	LIAR_PID=$!
	t_wait_until 10 t_port_in_use "$LIAR_PORT"
	: >"$T_DIR/got.bin"
	curl -s --max-time 30 -o "$T_DIR/got.bin" "$CACHE_URL/v2/liar/x/blobs/$good"
	n=$?
	bad=$(stat -c %s "$T_DIR/got.bin")
	# curl 18: the connection closed before the promised length
	if [ "$n" = 18 ] && [ "$bad" -lt 1048576 ]; then
		ok "a corrupted blob's transfer is cut off (curl $n after $bad bytes)"
	else
		fail "a corrupted blob's transfer is cut off" "curl $n, $bad bytes"
	fi
	if stored_blob "$good"; then fail "the corrupted blob is not stored"; else
		ok "the corrupted blob is not stored"; fi
	same "the mismatch is counted" 1 "$(metric registry_cache_digest_mismatches_total)"
	curl -s --max-time 30 -o /dev/null "$CACHE_URL/v2/liar/x/blobs/$good"
	same "the next request fetches again" 2 "$(grep -c /blobs/ "$T_DIR/liar.log")"
	: >"$T_DIR/got.bin"
	curl -s --max-time 30 -o "$T_DIR/got.bin" "$CACHE_URL/v2/liar/x/blobs/$short"
	n=$?
	same "a blob shorter than its Content-Length is cut off (curl 18)" 18 "$n"
	if stored_blob "$short"; then fail "the short blob is not stored"; else
		ok "the short blob is not stored"; fi
	req GET "$CACHE_URL/v2/liar/x/manifests/endless"
	is_code "endless headers from the upstream: 502" 502
	kill "$LIAR_PID" 2>/dev/null
	wait "$LIAR_PID" 2>/dev/null
	LIAR_PID=""
}

# The first bytes of a 256 MiB layer reach a (slow) client before the cache holds it.
test_big_stream() {
	local layer got pid
	layer=$(layout_blob_digests "$IMGS/big" | tail -1)
	curl -s --max-time 120 --limit-rate 64M -o "$T_DIR/big.bin" \
		"$CACHE_URL/v2/up/team/big/blobs/$layer" &
	pid=$!
	t_wait_until 10 test -s "$T_DIR/big.bin"
	got=$(stat -c %s "$T_DIR/big.bin" 2>/dev/null || echo 0)
	if [ "$got" -gt 0 ] && [ "$got" -lt 268435456 ] && ! stored_blob "$layer"; then
		ok "the first bytes ($got) of a 256 MiB layer arrive before the cache holds it"
	else
		fail "the first bytes of a 256 MiB layer arrive before the cache holds it" \
			"got $got bytes; stored: $(stored_blob "$layer" && echo yes || echo no)"
	fi
	wait "$pid"
	same "the whole layer arrives, its digest intact" "$layer" "$(dg "$T_DIR/big.bin")"
	t_wait_until 10 stored_blob "$layer"
	if stored_blob "$layer"; then ok "then the cache holds the layer"; else
		fail "then the cache holds the layer"; fi
	rm -f -- "$T_DIR/big.bin"
}

# relay_start: conn_relay.py in front of docker-registry, its log empty.
relay_start() {
	: >"$T_DIR/relay.log"
	python3 "$T_LIB_DIR/conn_relay.py" "$RELAY_PORT" "${DR_HOST#*:}" "$T_DIR/relay.log" \
		>/dev/null 2>&1 &
	RELAY_PID=$!
	t_wait_until 10 t_port_in_use "$RELAY_PORT"
}
relay_stop() {
	[ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null && wait "$RELAY_PID" 2>/dev/null
	RELAY_PID=""
}

# relay_pull NAME: the manifest of NAME:v1, then each blob, one after another,
# through the cache's relay/ upstream; the number of blobs whose bytes are their
# digest.
relay_pull() {
	local d good=0
	curl -s --max-time 30 -o /dev/null -H "Accept: $ACCEPT" \
		"$CACHE_URL/v2/relay/$1/manifests/v1"
	for d in $(layout_blob_digests "$IMGS/multi"); do
		curl -s --max-time 30 -o "$T_DIR/relay.blob" "$CACHE_URL/v2/relay/$1/blobs/$d"
		[ "$(dg "$T_DIR/relay.blob")" = "$d" ] && good=$((good + 1))
	done
	echo "$good"
}

# One upstream connection for a whole pull; a connection closed while idle is not
# reused.
test_conn_reuse() {
	local n
	n=$(layout_blob_digests "$IMGS/multi" | wc -l)
	relay_start
	same "a pull through the relay upstream gets every blob intact" "$n" \
		"$(relay_pull other/app)"
	same "... on one upstream connection (the relay counted)" 1 \
		"$(grep -c connection "$T_DIR/relay.log")"
	relay_stop		# closes the idle connection under the cache
	t_use_instance UP
	t_skopeo_copy "skopeo pushes the image to docker-registry again, as other/two" \
		--dest-tls-verify=false "oci:$IMGS/multi:latest" "docker://$DR_HOST/other/two:v1"
	t_use_instance CACHE
	relay_start
	same "after the upstream closed the idle connection, a pull still succeeds" "$n" \
		"$(relay_pull other/two)"
	same "... on one new connection" 1 "$(grep -c connection "$T_DIR/relay.log")"
	relay_stop
}

# An upstream that wants a Bearer token: one token request for a run of fetches.
test_token_kept() {
	local d good=0 n pid
	n=$(layout_blob_digests "$IMGS/multi" | wc -l)
	: >"$T_DIR/tok.log"
	python3 - "$TOK_PORT" "$IMGS/multi/blobs/sha256" "$T_DIR/tok.log" <<'PY' &
import http.server, json, os, sys
port, blobdir, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
TOKEN = 'tok-' + os.urandom(8).hex()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def note(self, what):
        with open(log, 'a') as f:
            f.write(what + ' ' + self.path + '\n')
    def reply(self, code, body, hdrs=()):
        # head and body in one write, as most servers send a small answer
        head = 'HTTP/1.1 %d %s\r\n' % (code, self.responses[code][0])
        for k, v in list(hdrs) + [('Content-Length', str(len(body)))]:
            head += '%s: %s\r\n' % (k, v)
        self.wfile.write(head.encode() + b'\r\n' + body)
    def do_GET(self):
        if self.path.startswith('/token?'):
            self.note('token')
            self.reply(200, json.dumps({'token': TOKEN, 'expires_in': 300}).encode())
            return
        if self.headers.get('Authorization') != 'Bearer ' + TOKEN:
            self.note('401')
            self.reply(401, b'{}', [('WWW-Authenticate', 'Bearer realm="http://127.0.0.1:%d/token",'
                                     'service="tok",scope="repository:x:pull"' % port)])
            return
        self.note('get')
        p = os.path.join(blobdir, self.path.rsplit(':', 1)[-1])
        if '/v2/x/blobs/sha256:' in self.path and os.path.isfile(p):
            self.reply(200, open(p, 'rb').read())
        else:
            self.reply(404, b'{}')
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
PY
	pid=$!
	t_wait_until 10 t_port_in_use "$TOK_PORT"
	for d in $(layout_blob_digests "$IMGS/multi"); do
		curl -s --max-time 30 -o "$T_DIR/tok.blob" "$CACHE_URL/v2/tok/x/blobs/$d"
		[ "$(dg "$T_DIR/tok.blob")" = "$d" ] && good=$((good + 1))
	done
	same "blobs fetched from an upstream that wants a Bearer token are intact" "$n" "$good"
	same "... $n fetches, one token request (the token is kept)" 1 \
		"$(grep -c '^token ' "$T_DIR/tok.log")"
	same "... and one 401 (later requests bring the token)" 1 "$(grep -c '^401 ' "$T_DIR/tok.log")"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

body() {
	t_cache_images cache || return 1
	upstream_start || return 1
	mkdir -p "$T_DIR/dr"
	dr_start "$T_DIR/dr" || return 1
	t_skopeo_copy "skopeo pushes the image to docker-registry" --dest-tls-verify=false \
		"oci:$IMGS/multi:latest" "docker://$DR_HOST/other/app:v1"
	LIAR_PORT=$(t_pick_port)
	RELAY_PORT=$(t_pick_port)
	TOK_PORT=$(t_pick_port)
	cache_start || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	t_use_instance UP
	t_skopeo_copy "skopeo pushes a 256 MiB layer to the upstream" --dest-creds "edge:$PW" \
		--dest-cert-dir "$PKI/certs" "oci:$IMGS/big:latest" "docker://$UP_TLS/team/big:v1"
	t_use_instance CACHE
	test_pull_through
	test_refused_push
	test_conn_reuse
	test_token_kept
	test_concurrent
	test_big_stream
	test_moved_tag
	test_liar
	test_upstream_down
	t_use_instance CACHE
	t_check "the cache stops" t_stop
	rm -rf -- "$IMGS/big"
}

t_run_modes body
t_summary
