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
#   6. a push to a cached name is refused with DENIED.
#   7. the first bytes of a 256 MiB layer reach the client before the cache holds
#      it all.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

ACCEPT="application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"
IMGS=""		# mkimages.sh's layouts
PKI=""		# the test CA and the upstream's certificate
UP_TLS=""	# the upstream regmaster's https host:port
CACHE_URL=""
LIAR_PID=""
LIAR_PORT=""
PW=cachepw-$RANDOM$RANDOM

# pki_make DIR: a CA and a certificate for 127.0.0.1 it signed.
pki_make() {
	local d=$1
	mkdir -p "$d" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
			-keyout "$d/ca.key" -out "$d/ca.crt" -subj /CN=regmaster-cache-ca \
			>/dev/null 2>&1 &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
			-CA "$d/ca.crt" -CAkey "$d/ca.key" -keyout "$d/server.key" \
			-out "$d/server.crt" -subj /CN=localhost \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			-addext "basicConstraints=critical,CA:FALSE" \
			-addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1 &&
		chmod 0644 "$d/server.key" "$d/ca.crt" && mkdir -p "$d/certs" &&
		cp -- "$d/ca.crt" "$d/certs/ca.crt"
}

# sk_digest REF [ARGS...]: the digest skopeo sees for docker://REF.
sk_digest() {
	local ref=$1
	shift
	timeout 60 skopeo inspect --raw --tls-verify=false "$@" "docker://$ref" 2>/dev/null |
		sha256sum | sed 's/^/sha256:/; s/ .*//'
}

# upstream_start: a regmaster with TLS, a user and token auth, the images pushed.
upstream_start() {
	t_init cache-up || return 1
	pki_make "$T_DIR/pki" || {
		fail "openssl makes the CA and the upstream's certificate"
		return 1
	}
	PKI=$T_DIR/pki
	local tport
	tport=$(t_pick_port) || return 1
	sed -i '/^http = /d; /^auth = /d' "$T_CONF"
	cat >>"$T_CONF" <<EOF
log_file = "$T_DIR/regmaster.log";
http = { listen = [ "127.0.0.1:$T_PORT" ]; tls_listen = [ "127.0.0.1:$tport" ]; };
tls = { certificate = [ "$PKI/server.crt" ]; key = [ "$PKI/server.key" ]; };
auth = { dir = "$T_AUTH"; htpasswd = "$T_AUTH/htpasswd"; token = true; };
EOF
	htpasswd -cbB -C 5 "$T_AUTH/htpasswd" edge "$PW" >/dev/null 2>&1 || {
		fail "htpasswd adds the cache's user"
		return 1
	}
	t_check "the upstream regmaster starts (TLS, token auth)" t_start
	UP_TLS=127.0.0.1:$tport
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
	{ prefix = "dr/"; url = "$DR_URL"; ttl = "1h"; },
	{ prefix = "liar/"; url = "http://127.0.0.1:$LIAR_PORT"; }
); };
EOF
	t_check "the cache regmaster starts" t_start
	CACHE_URL=$T_URL
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
	t_use_instance CACHE
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

body() {
	local tool
	for tool in "$DOCKER_REGISTRY" skopeo jq curl openssl htpasswd python3; do
		command -v "$tool" >/dev/null 2>&1 && continue
		fail "$tool is installed (the cache suite needs it)"
		return 1
	done
	IMGS=$(mktemp -d "${TMPDIR:-/tmp}/regmaster-cache-img.XXXXXX") || return 1
	T_INSTANCES+=("$IMGS")
	chmod 0755 "$IMGS"
	build_images "$IMGS" || return 1
	upstream_start || return 1
	mkdir -p "$T_DIR/dr"
	dr_start "$T_DIR/dr" || return 1
	t_skopeo_copy "skopeo pushes the image to docker-registry" --dest-tls-verify=false \
		"oci:$IMGS/multi:latest" "docker://$DR_HOST/other/app:v1"
	LIAR_PORT=$(t_pick_port)
	cache_start || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	test_pull_through
	test_refused_push
	t_use_instance CACHE
	t_check "the cache stops" t_stop
	t_use_instance UP
	t_check "the upstream stops" t_stop
	dr_stop
}

t_run_modes body
t_summary
