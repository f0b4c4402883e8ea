#!/bin/bash
# test_clients_tls.sh — skopeo, podman, containerd's ctr and (as root) dockerd push to and
# pull from regmaster over TLS, verified against a CA this suite makes with openssl, with
# passwords: once with Basic auth only (auth.token = false) and once with Docker token
# auth (auth.token = true). The client machinery (our own containerd, podman's temp
# storage, our own dockerd) is test_clients.sh's, from lib.sh.
#
# Per phase (basic, token), a fresh regmaster: http.tls_listen on a free loopback port,
# a server certificate for localhost and 127.0.0.1 (SANs) signed by the suite's CA, an
# htpasswd file with alice (`regmaster user add`, password on stdin) and bob
# (`htpasswd -B`), no rules (users may do everything, anonymous nothing), an audit file.
#   - /v2/ without credentials: 401 with a Basic challenge, or a Bearer one naming
#     https://HOST/token; with them 200. GET /token: 404 with Basic only, else a token.
#   - skopeo (alice): copy --dest-cert-dir --dest-creds of the 3-layer layout, regmaster
#     reports its digest and serves every manifest and blob with its sha256; copy back
#     --src-cert-dir --src-creds into a new layout with the same digest and blobs; the
#     audit file has the manifest push with that digest. Wrong password: fails with an
#     auth error and a login failure in the audit file; no credentials: fails; no CA:
#     fails on the certificate.
#   - podman (alice): login --cert-dir --password-stdin, then test_clients.sh's round
#     trip (push, pull, Docker schema 2 tag, digests and layers) with --cert-dir; logout,
#     and a pull of the private repository fails with an auth error.
#   - ctr (bob): test_clients.sh's round trip: push with --user and --tlscacert, pull with
#     --user and --hosts-dir (a hosts.toml naming the CA); a wrong password fails.
#   - docker (root only; DOCKER_CONFIG in the temp dir, ~/.docker untouched): on [::1]
#     docker login fails on the certificate until dockerd trusts the CA through
#     /etc/docker/certs.d/[::1]:PORT/ca.crt (dockerd has no option for that root; the
#     dir is made for this port only and removed, with certs.d if we made it), then
#     succeeds. On 127.0.0.1 (dockerd neither verifies nor reads certs.d for 127/8, and
#     cannot parse [::1] in image names: see client_docker) docker login
#     --password-stdin, test_clients.sh's pull/tag/push (cross-repository mount)/pull by
#     digest; logout, and a pull fails (denied in the audit file).
#   - each client in the token phase went to /token (regmaster's log: GET, or POST for
#     containerd's OAuth2 form) and the audit file has a token issued for its repository;
#     in the basic phase no client asked for a token.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

PKI=""              # the phase's CA, server certificate and cert dir
TLS_PORT=""
AUDIT=""            # the phase's audit.file
PW_A=alice-Secr3t   # alice's password (regmaster user add)
PW_B=bob-Secr3t     # bob's password (htpasswd -B)
DK_CERTS=""         # /etc/docker/certs.d/HOST:PORT this suite made, if any
DK_CERTS_ROOT=""    # /etc/docker/certs.d when this suite made it
AUTH_ERR='unauthorized|authentication required|invalid username/password|denied|401'

# ---------------------------------------------------------------- set-up

# tls_auth_config TOKEN: the instance's config with a TLS listener, users, auth.token =
# TOKEN (true or false), an audit file and a log file. The harness's http and auth
# groups are replaced.
tls_auth_config() {
	TLS_PORT=$(t_pick_port) || return 1
	LOG=$T_DIR/regmaster.log
	AUDIT=$T_DIR/audit.log
	sed -i '/^http = /d; /^auth = /d' "$T_CONF"
	cat >>"$T_CONF" <<EOF
log_file = "$LOG";
http = { listen = [ "127.0.0.1:$T_PORT" ];
	tls_listen = [ "127.0.0.1:$TLS_PORT", "[::1]:$TLS_PORT" ]; };
tls = { certificate = [ "$PKI/server.crt" ]; key = [ "$PKI/server.key" ]; };
auth = { dir = "$T_AUTH"; htpasswd = "$T_AUTH/htpasswd"; token = $1; };
audit = { file = "$AUDIT"; };
EOF
}

# users_make: bob by htpasswd -B, then alice by `regmaster user add` (password on stdin).
users_make() {
	htpasswd -cbB -C 5 "$T_AUTH/htpasswd" bob "$PW_B" >/dev/null 2>&1 || {
		fail "htpasswd -B adds bob"
		return 1
	}
	rm_in "$PW_A" user add alice
	if [ "$T_RC" != 0 ]; then
		fail "regmaster user add alice (password on stdin)" "$T_OUT"
		return 1
	fi
	printf '%s\n' "$PW_A" >"$T_DIR/alice.pw"
}

has_token() { jq -e '.token | length > 0' "$BODY" >/dev/null 2>&1; }

# challenged: the TLS listener answers /v2/ without credentials with 401.
challenged() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --cacert "$PKI/ca.crt" \
		"https://$HOST/v2/")" = 401 ]
}

# ---------------------------------------------------------------- checks

# fails_with DESC REGEX CMD...: CMD fails and its output matches REGEX (any case).
fails_with() {
	local desc=$1 re=$2 rc
	shift 2
	"$@" >"$T_DIR/cl.out" 2>&1 </dev/null
	rc=$?
	if [ "$rc" -ne 0 ] && grep -Eqi -- "$re" "$T_DIR/cl.out"; then
		ok "$desc"
	else
		fail "$desc" "command: $*" "exit $rc, want a failure matching /$re/" \
			"$(tail -n 10 "$T_DIR/cl.out")"
	fi
}

# audit_count FILTER: the audit lines the jq FILTER selects.
audit_count() { jq -c "select($1)" <"$AUDIT" 2>/dev/null | wc -l; }
audit_has() { [ "$(audit_count "$1")" -gt 0 ]; }

# audit_wait DESC FILTER: an audit line FILTER selects appears within 5 s (httpd
# batches its records to authd).
audit_wait() {
	if t_wait_until 5 audit_has "$2"; then
		ok "$1"
	else
		fail "$1" "no audit line with $2" "$(tail -n 5 "$AUDIT" 2>/dev/null)"
	fi
}

# token_flow PHASE CLIENT MARK REPO: in the token phase CLIENT asked /token after MARK
# (GET, or POST: OAuth2) and a token for REPO was issued; in the basic phase it did not.
token_flow() {
	local phase=$1 client=$2 tail req
	tail=$(tail -c +"$(($3 + 1))" "$LOG")
	req=$(grep -oE '(GET|POST) /token' <<<"$tail" | sort -u | tr '\n' ' ')
	if [ "$phase" = basic ]; then
		same "$client used Basic auth only: no /token request in regmaster's log" "" "$req"
		return
	fi
	if [ -n "$req" ]; then
		ok "$client ran the token flow: ${req% } in regmaster's log"
	else
		fail "$client ran the token flow: a /token request in regmaster's log"
	fi
	audit_wait "the audit file has a token issued to $client for $4" \
		".action == \"token\" and .repo == \"$4\" and .status == 200"
}

# ---------------------------------------------------------------- skopeo

# sk ARGS...: skopeo with an empty auth file of our own, bounded by CT seconds.
sk() { timeout -k 5 "$CT" env REGISTRY_AUTH_FILE="$T_DIR/skopeo-auth.json" skopeo "$@"; }

# layout_bad DIR DIGEST...: the digests a layout lacks or holds with other content.
layout_bad() {
	local dir=$1 d bad=""
	shift
	for d in "$@"; do
		[ -f "$dir/blobs/sha256/${d#sha256:}" ] &&
			[ "$(dg "$dir/blobs/sha256/${d#sha256:}")" = "$d" ] || bad="$bad $d"
	done
	printf '%s' "${bad# }"
}

client_skopeo() {
	local phase=$1 imgs=$2 want mark ref=docker://$HOST/clients/skopeo:v1 out=$T_DIR/sk-pull
	want=$(img_digest "$imgs" multi)
	layout_parts "$imgs/multi"
	mark=$(log_mark)
	cl "skopeo copy --dest-cert-dir --dest-creds: push clients/skopeo:v1 over TLS" \
		sk copy -q --preserve-digests --dest-cert-dir "$PKI/certs" --dest-creds "alice:$PW_A" \
		"oci:$imgs/multi:latest" "$ref" || return 1
	head_digest clients/skopeo v1
	same "regmaster reports the layout's digest for clients/skopeo:v1" "$want" "$GOT" "$(what)"
	same "regmaster serves every manifest and blob skopeo pushed, each with its digest" "" \
		"$(manifests_served clients/skopeo "${MANIFESTS[@]}")$(blobs_served clients/skopeo "${BLOBS[@]}")"
	cl "skopeo copy --src-cert-dir --src-creds: pull clients/skopeo:v1 over TLS" \
		sk copy -q --src-cert-dir "$PKI/certs" --src-creds "alice:$PW_A" "$ref" "oci:$out:v1" ||
		return 1
	same "skopeo: the pulled image has the pushed digest" "$want" \
		"$(jq -r '.manifests[0].digest' <"$out/index.json" 2>/dev/null)"
	same "skopeo: every manifest and blob pulled has its digest" "" \
		"$(layout_bad "$out" "${MANIFESTS[@]}" "${BLOBS[@]}")"
	token_flow "$phase" skopeo "$mark" clients/skopeo
	audit_wait "the audit file has alice's push of clients/skopeo:v1 with its digest" \
		".action == \"push\" and .user == \"alice\" and .repo == \"clients/skopeo\" and .ref == \"v1\" and .digest == \"$want\""
	fails_with "skopeo with a wrong password fails with an auth error" "$AUTH_ERR" \
		sk inspect --cert-dir "$PKI/certs" --creds alice:wrong-pw "$ref"
	audit_wait "the audit file has alice's failed login" \
		'.action == "login_failed" and .user == "alice" and .status == 401'
	fails_with "skopeo without credentials fails on the private repository" "$AUTH_ERR" \
		sk inspect --cert-dir "$PKI/certs" --no-creds "$ref"
	fails_with "skopeo without the CA fails on the certificate" 'x509|certificate' \
		sk inspect --creds "alice:$PW_A" "$ref"
}

# ---------------------------------------------------------------- podman

client_podman() {
	local phase=$1 imgs=$2 mark
	pod_setup
	POD_REG_ARGS=(--cert-dir "$PKI/certs")
	mark=$(log_mark)
	cl_from "$T_DIR/alice.pw" "podman login --cert-dir --password-stdin (alice)" \
		pod login --cert-dir "$PKI/certs" -u alice --password-stdin "$HOST" || return 1
	t_check "podman keeps the login in its temp dir" grep -qF "$HOST" "$POD_DIR/auth.json"
	pod_roundtrip "$imgs"
	token_flow "$phase" podman "$mark" clients/podman
	cl "podman logout" pod logout "$HOST"
	fails_with "after logout, podman pull of the private clients/podman:v1 fails (auth)" \
		"$AUTH_ERR" pod pull "${POD_REG_ARGS[@]}" --signature-policy "$POD_DIR/policy.json" \
		"$HOST/clients/podman:v1"
	t_check "no podman process is left (rootless: its pause process stopped)" pod_teardown
}

# ---------------------------------------------------------------- containerd

# hosts_dir DIR [CA]: a containerd hosts directory for HOST over https, trusting CA.
# ctr 1.6 speaks plain HTTP to a loopback host unless a hosts.toml names https
# (--tlscacert alone does not change that), so the CA comes this way.
hosts_dir() {
	mkdir -p "$1/$HOST" && cat >"$1/$HOST/hosts.toml" <<EOF
server = "https://$HOST"
[host."https://$HOST"]
  capabilities = ["pull", "resolve", "push"]
${2:+  ca = \"$2\"}
EOF
}

client_ctr() {
	local phase=$1 imgs=$2 mark
	ctrd_start || return 1
	hosts_dir "$T_DIR/hosts" "$PKI/ca.crt" && hosts_dir "$T_DIR/hosts-noca" || return 1
	CTR_PUSH_ARGS=(--user "bob:$PW_B" --hosts-dir "$T_DIR/hosts" --tlscacert "$PKI/ca.crt")
	CTR_PULL_ARGS=(--user "bob:$PW_B" --hosts-dir "$T_DIR/hosts")
	mark=$(log_mark)
	ctr_roundtrip "$imgs" multi clients/ctr
	token_flow "$phase" ctr "$mark" clients/ctr
	fails_with "ctr with a wrong password fails with an auth error" "$AUTH_ERR" \
		ctr_ content fetch --user bob:wrong-pw --hosts-dir "$T_DIR/hosts" "$HOST/clients/ctr:v1"
	fails_with "ctr without the CA fails on the certificate" 'x509|certificate' \
		ctr_ content fetch --user "bob:$PW_B" --hosts-dir "$T_DIR/hosts-noca" "$HOST/clients/ctr:v1"
	ctrd_stop
	t_check "containerd stopped" ctrd_gone
}

# ---------------------------------------------------------------- docker

# dk_trust: dockerd trusts our CA for HOST: /etc/docker/certs.d/HOST/ca.crt, a dir only
# this suite uses (its port is this instance's); certs.d itself made when missing.
dk_trust() {
	local root=/etc/docker/certs.d
	if [ ! -d "$root" ]; then
		mkdir -p "$root" || return 1
		DK_CERTS_ROOT=$root
	fi
	[ -e "$root/$HOST" ] && return 1
	mkdir "$root/$HOST" && DK_CERTS=$root/$HOST && cp -- "$PKI/ca.crt" "$DK_CERTS/ca.crt"
}

# dk_untrust: remove exactly what dk_trust made.
dk_untrust() {
	if [ -n "$DK_CERTS" ]; then
		rm -f -- "$DK_CERTS/ca.crt"
		rmdir -- "$DK_CERTS"
		DK_CERTS=""
	fi
	if [ -n "$DK_CERTS_ROOT" ]; then
		rmdir -- "$DK_CERTS_ROOT" 2>/dev/null
		DK_CERTS_ROOT=""
	fi
	return 0
}

# home_docker: what ~/.docker holds (names and mtimes), to show docker left it alone.
home_docker() { find "${HOME:-/root}/.docker" -printf '%p %T@\n' 2>/dev/null | sort; }

# docker_verified_login: over [::1], docker login fails until dockerd trusts our CA in
# certs.d, then succeeds; logged out again.
docker_verified_login() {
	fails_with "docker login on $HOST before dockerd trusts the CA fails on the certificate" \
		'x509|certificate' dk login -u alice -p "$PW_A" "$HOST"
	t_check "dockerd trusts the CA: /etc/docker/certs.d/$HOST/ca.crt" dk_trust || return 1
	cl_from "$T_DIR/alice.pw" "docker login --password-stdin (alice) on $HOST, CA verified" \
		dk login -u alice --password-stdin "$HOST" || return 1
	cl "docker logout $HOST" dk logout "$HOST"
}

# dockerd takes every registry on 127.0.0.0/8 as insecure (added to its
# insecure-registries unconditionally): for those it reads no certs.d, verifies no
# certificate and falls back to plain HTTP. It does verify [::1], which that rule does
# not cover, but dockerd 20.10 cannot parse an image reference naming [::1] (nor can
# skopeo 1.9). So docker's CA check is its login on [::1]; its push and pull run over
# TLS on 127.0.0.1, unverified by dockerd's own rule.
client_docker() {
	local phase=$1 imgs=$2 mark before host4=$HOST pulls
	local pulled='.action == "pull" and .repo == "clients/docker"'
	before=$(home_docker)
	cl "skopeo copy: the 3-layer image into clients/docker-src for docker" \
		sk copy -q --preserve-digests --dest-cert-dir "$PKI/certs" --dest-creds "alice:$PW_A" \
		"oci:$imgs/multi:latest" "docker://$HOST/clients/docker-src:v1" || return 1
	dkd_start || return 1
	HOST="[::1]:$TLS_PORT"
	docker_verified_login
	HOST=$host4
	mark=$(log_mark)
	cl_from "$T_DIR/alice.pw" "docker login --password-stdin (alice) on $HOST" \
		dk login -u alice --password-stdin "$HOST" || return 1
	t_check "docker keeps the login in DOCKER_CONFIG in the temp dir" \
		grep -qF "$HOST" "$DK_DIR/config/config.json"
	docker_roundtrip "$imgs"
	token_flow "$phase" docker "$mark" clients/docker
	cl "docker logout" dk logout "$HOST"
	dk rmi -f "$HOST/clients/docker-src:v1" "$HOST/clients/docker:v1" >/dev/null 2>&1
	# dockerd reports its plain-HTTP fallback's error, so regmaster's side is read
	# from the audit file: no pull served (with token auth also a denial recorded).
	pulls=$(audit_count "$pulled")
	fails_with "after logout, docker pull of the private clients/docker:v1 fails" . \
		dk pull "$HOST/clients/docker:v1"
	[ "$phase" = token ] && audit_wait "regmaster denied that anonymous pull (audit file)" \
		'.action == "denied" and .user == null and .repo == "clients/docker"'
	sleep 1
	same "regmaster served no pull of clients/docker after the logout (audit file)" \
		"$pulls" "$(audit_count "$pulled")"
	dkd_stop
	t_check "dockerd and what it started are stopped" \
		test -z "$(dkd_leftovers)$(dkd_is_ours && echo alive)"
	t_check "the CA dir under /etc/docker/certs.d is removed" dk_untrust
	same "docker left ~/.docker as it was" "$before" "$(home_docker)"
}

# ---------------------------------------------------------------- the suite

all_stop() { ctrd_stop; dkd_stop; pod_teardown; dk_untrust; }
trap 'all_stop; t_cleanup' EXIT
trap 'all_stop; t_cleanup; trap - EXIT; exit 130' INT
trap 'all_stop; t_cleanup; trap - EXIT; exit 143' TERM

# phase NAME TOKEN IMGS: a regmaster with auth.token = TOKEN, every client against it.
phase() {
	local name=$1 token=$2 imgs=$3 want
	t_init "ctls-$name" || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	PKI=$T_DIR/pki
	t_pki_make "$PKI" || {
		fail "openssl makes the CA and the server certificate"
		return 1
	}
	tls_auth_config "$token" && users_make || return 1
	# The layouts as tars (OCI archives), which ctr and podman load.
	tar -C "$imgs/multi" -cf "$T_DIR/multi.tar" . || {
		fail "tar the multi layout"
		return 1
	}
	HOST=127.0.0.1:$TLS_PORT
	T_URL=https://$HOST
	T_CURL_ARGS=(--cacert "$PKI/ca.crt" -u "alice:$PW_A")
	t_start || {
		fail "start regmaster ($name)" "$T_OUT"
		return 1
	}
	t_check "regmaster answers /v2/ over TLS with 401 ($name)" t_wait_until 10 challenged ||
		return 1
	T_CURL_ARGS=(--cacert "$PKI/ca.crt")
	req GET /v2/
	T_CURL_ARGS=(--cacert "$PKI/ca.crt" -u "alice:$PW_A")
	want='Basic realm="regmaster"'
	[ "$token" = true ] && want="Bearer realm=\"https://$HOST/token\",service=\"regmaster\""
	same "401 without credentials challenges with $name" "$want" "$(hval WWW-Authenticate)" "$(what)"
	req GET /v2/
	is_code "/v2/ with alice's password over TLS: 200" 200
	# (a repository no client uses: token_flow looks for each client's own tokens)
	req GET "/token?service=regmaster&scope=repository:clients/probe:pull"
	if [ "$token" = true ]; then
		is_code "GET /token with alice's password: 200" 200
		t_check "/token answers a token" has_token
	else
		is_code "auth.token = false: no /token (404)" 404
	fi
	client_skopeo "$name" "$imgs"
	client_podman "$name" "$imgs"
	client_ctr "$name" "$imgs"
	if [ "$T_MODE" = root ]; then
		client_docker "$name" "$imgs"
	fi
	T_CURL_ARGS=()
	t_check "regmaster stops ($name)" t_stop
}

body() {
	local tools="containerd ctr podman skopeo curl jq tar gzip openssl htpasswd" imgs
	[ "$T_MODE" = root ] && tools="$tools dockerd docker"
	# shellcheck disable=SC2086 # the tools are words
	t_require_tools $tools || return 1
	[ "$T_MODE" = root ] ||
		t_diag "docker: root mode only (dockerd needs root; rootless docker needs rootlesskit)"
	imgs=$(mktemp -d "${TMPDIR:-/tmp}/regmaster-ctls-img.XXXXXX") || return 1
	T_INSTANCES+=("$imgs")
	build_images "$imgs/img" || return 1
	phase basic false "$imgs/img"
	all_stop
	phase token true "$imgs/img"
	all_stop
}

t_run_modes body
t_summary
