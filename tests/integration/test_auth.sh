#!/bin/bash
# test_auth.sh — httpd's side of users and access, with the real regmaster and curl,
# step by step (as root with privilege separation, then as an ordinary user):
#   - open mode (no auth.htpasswd) is unchanged and /token is not served; httpd and
#     authd start OpenSSL only when a reload adds users (then in their sandbox, without
#     openssl.cnf), and Basic and tokens work after that reload
#   - Basic: 401 + Basic challenge without credentials; right password 200, wrong 401
#     and an audit line; {user}/* rules: push into one's own namespace works, into
#     another's is 403 DENIED; an anonymous pull a rule allows works, its push is 401;
#     the catalog needs the catalog right; a mount from a repository the user cannot
#     pull (or without from) does not mount (202), one it can pull does (201); a hash
#     made by `htpasswd -B` logs in, `regmaster user add` logs in without a restart;
#     failures trip the rate limit (429 + Retry-After) and it recovers
#   - token: 401 Bearer challenge with the right scope, GET /token with Basic, the
#     retry with Bearer; a token for repo A does not open repo B; a tampered token,
#     an expired one signed by another key, and one from before authd's restart are
#     refused; wrong password at /token 401 with a Basic challenge; the OAuth2 form
#     (POST /token) works
#   - the audit file's lines parse with jq and carry push, pull, delete and denied
#     records with their fields
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

MT=application/vnd.oci.image.manifest.v1+json

# auth_conf RULES [EXTRA]: the instance's config with auth on and an audit log.
auth_conf() {
	t_write_config "$T_CONF"
	sed -i '/^auth = /d' "$T_CONF"
	cat >>"$T_CONF" <<EOF
auth = { dir = "$T_AUTH"; htpasswd = "$T_AUTH/htpasswd"; realm = "rm-test";
  max_failures = 3; failure_window = "3s"; $2
  rules = ( $1 ); };
audit = { file = "$T_DIR/audit.log"; };
EOF
}

# adduser NAME PASSWORD: `regmaster user add`, the password on stdin.
adduser() {
	REGMASTER_LIBEXECDIR=$T_LIBEXEC timeout 20 "$REGMASTER" -c "$T_CONF" user add "$1" \
		>"$T_DIR/add.out" 2>&1 <<<"$2"
}

RULES='{ who = "*"; repo = "{user}/*"; allow = "pull,push,delete"; },
  { who = "anonymous"; repo = "public/*"; allow = "pull"; },
  { who = "alice"; repo = "*"; allow = "*"; }'

# serve_on CODE: start the instance of $T_CONF; its /v2/ answers CODE.
serve_on() {
	t_start || {
		fail "start regmaster" "$T_OUT"
		return 1
	}
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	t_wait_until 10 t_http_is "$1" "$T_URL/v2/" ||
		fail "/v2/ answers $1" "$(t_http_code "$T_URL/v2/")"
}

# auth_serve NAME [EXTRA]: an instance with auth, users alice and bob, started.
auth_serve() {
	t_init "$1" || return 1
	auth_conf "$RULES" "${2:-}"
	if ! adduser alice alicepw || ! adduser bob bobpw; then
		fail "user add" "$(cat "$T_DIR/add.out")"
		return 1
	fi
	serve_on 401
}

# mkimage DIR: a config blob, a layer and a manifest naming them in DIR.
mkimage() {
	mkdir -p "$1"
	head -c 2000 /dev/urandom >"$1/layer"
	printf '{"architecture":"amd64","os":"linux","n":"%s"}' "$RANDOM$RANDOM" >"$1/config"
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
		"$MT" "$(dg "$1/config")" "$(stat -c %s "$1/config")" \
		"$(dg "$1/layer")" "$(stat -c %s "$1/layer")" >"$1/manifest"
}

# push REPO DIR CURLARGS...: blobs (monolithic POST), then the manifest as tag v1;
# CODE is the manifest PUT's, or the first failing blob's.
push() {
	local repo=$1 dir=$2 f
	shift 2
	for f in config layer; do
		req POST "/v2/$repo/blobs/uploads/?digest=$(dg "$dir/$f")" "$@" \
			-H 'Content-Type: application/octet-stream' --data-binary "@$dir/$f"
		[ "$CODE" = 201 ] || return 0
	done
	req PUT "/v2/$repo/manifests/v1" "$@" -H "Content-Type: $MT" \
		--data-binary "@$dir/manifest"
}

test_open() {
	t_init open || return 1
	echo "log_file = \"$T_DIR/regmaster.log\";" >>"$T_CONF"
	serve_on 200 || return 1
	mkimage "$T_DIR/img"
	push open/app "$T_DIR/img"
	is_code "open mode: push without credentials" 201
	req GET /v2/open/app/manifests/v1
	is_code "open mode: pull without credentials" 200
	req GET "/token?service=regmaster"
	is_code "open mode: no /token" 404
	test_open_to_users
	t_stop
}

# ossl_late WORKER: WORKER logged that OpenSSL started in its sandbox, so it did not
# start at preload.
ossl_late() { grep -q "$1\[[0-9]*\]: .*OpenSSL started after the sandbox" "$T_DIR/regmaster.log"; }

# The open instance of test_open gets users and tokens by a reload: httpd and authd
# start OpenSSL then, and Basic and the token flow work.
test_open_to_users() {
	local w
	for w in httpd authd; do
		t_check "open mode: $w has not started OpenSSL" t_not ossl_late $w
	done
	auth_conf "$RULES" "token = true;"
	echo "log_file = \"$T_DIR/regmaster.log\";" >>"$T_CONF"
	if ! adduser alice alicepw; then
		fail "user add" "$(cat "$T_DIR/add.out")"
		return 1
	fi
	t_rm reload >/dev/null 2>&1
	t_check "reload to users: /v2/ asks for credentials" \
		t_wait_until 10 t_http_is 401 "$T_URL/v2/"
	for w in httpd authd; do
		t_check "reload to users: $w started OpenSSL in its sandbox" \
			t_wait_until 5 ossl_late $w
	done
	req GET /v2/ -u alice:alicepw
	is_code "after the reload: alice's password is 200" 200
	req GET /v2/ -u alice:wrongpw
	is_code "after the reload: a wrong password is 401" 401
	token_for alice:alicepw repository:open/app:pull
	is_code "after the reload: GET /token" 200
	req GET /v2/open/app/manifests/v1 -H "Authorization: Bearer $TOK"
	is_code "after the reload: a pull with the token" 200
}

test_basic_login() {
	req GET /v2/
	is_err "no credentials: 401 UNAUTHORIZED" 401 UNAUTHORIZED
	is_hdr "the Basic challenge" WWW-Authenticate 'Basic realm="rm-test"'
	req GET /v2/ -u alice:alicepw
	is_code "right password: 200" 200
	req GET /v2/ -u alice:nope
	is_err "wrong password: 401" 401 UNAUTHORIZED
	req GET /v2/ -H 'Authorization: Digest abc'
	is_err "an unknown scheme: 401" 401 UNAUTHORIZED
	req GET /v2/ -H 'Authorization: Basic !!!'
	is_err "malformed Basic: 401" 401 UNAUTHORIZED
}

test_basic_access() {
	mkimage "$T_DIR/img"
	push bob/app "$T_DIR/img" -u bob:bobpw
	is_code "bob pushes into bob/*" 201
	req GET /v2/bob/app/manifests/v1 -u bob:bobpw
	is_code "bob pulls it back" 200
	push alice/app "$T_DIR/img" -u bob:bobpw
	is_err "bob pushes into alice/*: 403 DENIED" 403 DENIED
	push alice/app "$T_DIR/img" -u alice:alicepw
	is_code "alice pushes into alice/*" 201
	push public/lib "$T_DIR/img" -u alice:alicepw
	is_code "alice pushes into public/*" 201
	req GET /v2/public/lib/manifests/v1
	is_code "anonymous pull of public/* (a rule)" 200
	req POST /v2/public/lib/blobs/uploads/
	is_err "anonymous push into public/*: 401" 401 UNAUTHORIZED
	req GET /v2/bob/app/manifests/v1
	is_err "anonymous pull of bob/*: 401" 401 UNAUTHORIZED
	req GET /v2/_catalog -u bob:bobpw
	is_err "catalog without the catalog right: 403" 403 DENIED
	req GET /v2/_catalog -u alice:alicepw
	is_code "catalog with it: 200" 200
	req DELETE "/v2/bob/app/manifests/$(dg "$T_DIR/img/manifest")" -u bob:bobpw
	is_code "bob deletes his manifest" 202
}

test_mount() {
	local d
	d=$(dg "$T_DIR/img/layer")
	req POST "/v2/bob/other/blobs/uploads/?mount=$d&from=alice/app" -u bob:bobpw
	is_code "mount from a repository bob cannot pull: no mount (202)" 202
	req POST "/v2/bob/other/blobs/uploads/?mount=$d" -u bob:bobpw
	is_code "mount without from: no mount (202)" 202
	req POST "/v2/bob/other/blobs/uploads/?mount=$d&from=public/lib" -u bob:bobpw
	is_code "mount from a repository bob can pull: 201" 201
}

test_users() {
	htpasswd -B -b -C 5 "$T_AUTH/htpasswd" carol carolpw >/dev/null 2>&1
	t_wait_until 5 t_http_is_auth carol:carolpw
	req GET /v2/ -u carol:carolpw
	is_code "a hash made by htpasswd -B logs in" 200
	adduser erin erinpw
	t_wait_until 5 t_http_is_auth erin:erinpw
	req GET /v2/ -u erin:erinpw
	is_code "regmaster user add, then login without restart" 200
	REGMASTER_LIBEXECDIR=$T_LIBEXEC timeout 20 "$REGMASTER" -c "$T_CONF" user del erin >/dev/null 2>&1
	sleep 2.5
	req GET /v2/ -u erin:erinpw
	is_err "a deleted user is refused within seconds, cache or not" 401 UNAUTHORIZED
}

# t_http_is_auth USER:PW: GET /v2/ with those credentials answers 200.
t_http_is_auth() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' -u "$1" --max-time 3 "$T_URL/v2/")" = 200 ]
}

# from 127.0.0.2, so that the rest of the suite's address is not limited
test_rate_limit() {
	local i ra
	for i in 1 2 3 4; do
		req GET /v2/ -u "bob:guess$i" --interface 127.0.0.2
	done
	is_err "repeated failures: 429 TOOMANYREQUESTS" 429 TOOMANYREQUESTS
	ra=$(hval Retry-After)
	t_check "with a Retry-After ($ra)" test "${ra:-0}" -ge 1
	req GET /v2/ -u dave:x --interface 127.0.0.2
	is_code "the address is limited for another name too" 429
	sleep "$((${ra:-3} + 1))"
	req GET /v2/ -u bob:bobpw --interface 127.0.0.2
	is_code "after Retry-After the right password gets in" 200
	test_rate_burst
}

# Guesses for bob from 127.0.0.3 do not lock bob out of a clean address;
# a burst of parallel guesses from 127.0.0.5 gets no more than max_failures
# bcrypts (attempts are counted when tried, not when they fail).
test_rate_burst() {
	local i codes
	for i in 1 2 3 4; do
		req GET /v2/ -u "bob:guess$i" --interface 127.0.0.3
	done
	is_code "guesses for bob from one address: 429" 429
	req GET /v2/ -u bob:bobpw --interface 127.0.0.4
	is_code "bob from another address is not locked out" 200
	codes=$(for i in $(seq 12); do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 \
			--interface 127.0.0.5 -u "dave:burst$i" "$T_URL/v2/" &
	done; wait)
	t_check "12 parallel guesses: at most 3 reach bcrypt (401), the rest 429 ($(echo $codes))" \
		test "$(echo "$codes" | grep -c 401)" -le 3 -a "$(echo "$codes" | grep -c 429)" -ge 9
}

# audit_has ACTION JQ-FILTER DESC: some audit line has ACTION and passes the filter.
audit_has() {
	if jq -e -s --arg a "$1" "[.[] | select(.action == \$a) | select($2)] | length > 0" \
		"$T_DIR/audit.log" >/dev/null 2>&1; then
		ok "$3"
	else
		fail "$3" "$(tail -20 "$T_DIR/audit.log")"
	fi
}

test_audit() {
	t_wait_until 5 grep -q '"action":"delete"' "$T_DIR/audit.log"
	t_check "every audit line parses with jq" jq -e . "$T_DIR/audit.log"
	audit_has push '.user == "bob" and .repo == "bob/app" and .status == 201 and
		(.digest | startswith("sha256:")) and .bytes > 0 and .addr == "127.0.0.1"' \
		"audit: push with user, repo, digest, bytes"
	audit_has pull '.repo == "public/lib" and .user == null and .ref == "v1" and
		.status == 200 and .bytes > 0' "audit: anonymous pull with ref and bytes"
	audit_has delete '.user == "bob" and .repo == "bob/app" and .status == 202' \
		"audit: delete"
	audit_has denied '.user == "bob" and .repo == "alice/app" and .status == 403' \
		"audit: denied (403) with the user"
	audit_has denied '.status == 401 and .repo == "bob/app"' "audit: denied (401)"
	audit_has login_failed '.user == "alice"' "audit: the wrong password (authd's line)"
	audit_has denied '.status == 429' "audit: rate-limited requests"
}

test_basic() {
	auth_serve basic || return 1
	test_basic_login
	test_basic_access
	test_mount
	test_users
	test_rate_limit
	test_audit
	t_stop
}

# token_for USER:PW SCOPE...: GET /token; TOK is the token.
token_for() {
	local cred=$1 q="service=regmaster" s
	shift
	for s in "$@"; do q="$q&scope=$s"; done
	req GET "/token?$q" -u "$cred"
	TOK=$(jq -r '.token // empty' <"$BODY" 2>/dev/null)
}

# foreign_token TOKEN: an expired token with TOKEN's header (kid), another key's.
foreign_token() {
	python3 - "$1" <<'PY'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
def b(x): return base64.urlsafe_b64encode(x).rstrip(b"=").decode()
h = sys.argv[1].split(".")[0]
hdr = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))
now = int(time.time())
pay = {"iss": "regmaster", "sub": "bob", "aud": "regmaster", "exp": now - 600,
       "nbf": now - 1200, "iat": now - 1200, "jti": "x",
       "access": [{"type": "repository", "name": "bob/app", "actions": ["pull"]}]}
msg = b(json.dumps(hdr).encode()) + "." + b(json.dumps(pay).encode())
k = ec.generate_private_key(ec.SECP256R1())
r, s = utils.decode_dss_signature(k.sign(msg.encode(), ec.ECDSA(hashes.SHA256())))
print(msg + "." + b(r.to_bytes(32, "big") + s.to_bytes(32, "big")))
PY
}

# tamper TOKEN: the token with its payload's second character changed.
tamper() {
	local h=${1%%.*} rest=${1#*.} c
	c=${rest:1:1}
	[ "$c" = A ] && c=B || c=A
	printf '%s.%s%s%s\n' "$h" "${rest:0:1}" "$c" "${rest:2}"
}

# t_is_ours_new WORKER OLDPID: the worker runs again with another PID.
t_is_ours_new() {
	local p
	t_status >/dev/null 2>&1 || return 1
	p=$(t_worker_field "$1" pid)
	[ -n "$p" ] && [ "$p" != "$2" ] && [ "$(t_worker_field "$1" state)" = running ]
}

test_token_scopes() {
	req GET /v2/bob/other/tags/list -H "Authorization: Bearer $TOK"
	is_code "a token for bob/app does not open bob/other" 401
	t_check "insufficient_scope" grep -q 'error="insufficient_scope"' "$HDR"
	token_for bob:bobpw "repository:alice/app:pull"
	req GET /v2/alice/app/tags/list -H "Authorization: Bearer $TOK"
	is_code "a token asked for alice/app grants bob nothing there" 401
	token_for bob:bobpw "repository:bob/app:pull"
	req GET /v2/bob/app/manifests/v1 -H "Authorization: Bearer $(tamper "$TOK")"
	is_code "a tampered token: 401" 401
	t_check "invalid_token" grep -q 'error="invalid_token"' "$HDR"
	req GET /v2/bob/app/manifests/v1 -H "Authorization: Bearer $(foreign_token "$TOK")"
	is_code "an expired token signed by another key: 401" 401
}

test_token_flow() {
	req GET /v2/bob/app/manifests/v1
	is_code "no token: 401" 401
	is_hdr "the Bearer challenge names realm, service and scope" WWW-Authenticate \
		"Bearer realm=\"$T_URL/token\",service=\"regmaster\",scope=\"repository:bob/app:pull\""
	token_for bob:bobpw "repository:bob/app:pull,push"
	is_code "GET /token with Basic: 200" 200
	t_check "the answer has token, access_token, expires_in, issued_at" jq -e \
		'.token == .access_token and .expires_in > 0 and (.issued_at | test("Z$"))' "$BODY"
	mkimage "$T_DIR/img"
	push bob/app "$T_DIR/img" -H "Authorization: Bearer $TOK"
	is_code "push with the Bearer token: 201" 201
	req GET /v2/bob/app/manifests/v1 -H "Authorization: Bearer $TOK"
	is_code "the retry with Bearer: 200" 200
	test_token_scopes
	token_for bob:nope "repository:bob/app:pull"
	is_err "wrong password at /token: 401" 401 UNAUTHORIZED
	is_hdr "with a Basic challenge" WWW-Authenticate 'Basic realm="rm-test"'
	req GET "/token?service=other&scope=repository:bob/app:pull" -u bob:bobpw
	is_err "a token for another service: 400" 400 UNSUPPORTED
}

test_token_oauth() {
	local tok authd
	req POST /token -d grant_type=password -d username=bob -d password=bobpw \
		-d service=regmaster -d client_id=test --data-urlencode "scope=repository:bob/app:pull"
	tok=$(jq -r '.access_token // empty' <"$BODY")
	req GET /v2/bob/app/manifests/v1 -H "Authorization: Bearer $tok"
	is_code "a token from the OAuth2 form (POST /token) opens bob/app" 200
	# authd's restart makes a new key: older tokens stop verifying
	t_status
	authd=$(t_worker_field authd pid)
	if [ -n "$authd" ] && t_is_ours "$authd"; then
		kill "$authd"
		t_wait_until 10 t_is_ours_new authd "$authd"
		t_wait_until 5 t_http_is 401 "$T_URL/v2/"
		req GET /v2/bob/app/manifests/v1 -H "Authorization: Bearer $tok"
		is_code "a token from before authd's restart: 401" 401
	fi
}

test_token() {
	auth_serve token "token = true;" || return 1
	test_token_flow
	test_token_oauth
	t_stop
}

body() {
	test_open
	test_basic
	test_token
}

t_run_modes body
t_summary
