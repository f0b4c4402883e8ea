#!/bin/bash
# test_status_page.sh — the relay's status page server (tunneld/status.c) serving a
# fixture document through tests/integration/status_serve, checked with curl and in
# headless Chromium (issue 9: "test the HTML page in headless Chromium").
#
# What it tests:
#   - Basic auth before anything: no credentials, a wrong password, an unknown user
#     (checked against a dummy hash, like a real one) get 401 with a Basic challenge;
#     a bcrypt hash (status_user/status_password) and an htpasswd file
#     (status_htpasswd) both let their users in
#   - GET / is HTML, GET /status.json is the document itself (same JSON as the
#     fixture), HEAD has no body, other paths 404, other methods 405
#   - Chromium renders the clients, the group's members with weights and health;
#     the client that named itself <script> is text in the DOM, no script element
#   - wrong password in Chromium: the page is not shown
#   - the bcrypt checks run off the loop (lib/pwcheck) under a token bucket
#     (burst 4, 4 a second): a burst of wrong passwords gets 429 with
#     Retry-After, while credentials that already checked out are still served
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

SERVE=$top_builddir/tests/integration/status_serve
FIXTURE=$top_srcdir/tests/integration/status_fixture.json
DIR=""
SPID=""

# serve ARGS...: start status_serve with ARGS after the fixture; sets URL.
serve() {
	rm -f "$DIR/port"
	"$SERVE" "$DIR/port" "$FIXTURE" "$@" >>"$DIR/serve.log" 2>&1 &
	SPID=$!
	t_wait_until 5 test -s "$DIR/port" || return 1
	URL="http://127.0.0.1:$(cat "$DIR/port")"
}
unserve() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=""; }

# code [CURL ARGS...] PATH: the status of a request to PATH.
code() {
	local path=${*: -1}
	curl -s -o "$DIR/body" -D "$DIR/hdr" -w '%{http_code}' "${@:1:$#-1}" "$URL$path"
}
is() { [ "$1" = "$2" ]; }

# dom USER:PASS: Chromium's DOM of the page (lib.sh's t_chromium_dom), into
# $DIR/dom.html.
dom() {
	local rc=0
	t_chromium_dom "$URL/" "$1" || rc=$?
	printf '%s\n' "$T_DOM" >"$DIR/dom.html"
	return "$rc"
}
in_dom() { grep -qF -- "$1" "$DIR/dom.html"; }

auth_checks() {
	t_check "no credentials: 401" is "$(code /)" 401
	t_check "with a Basic challenge" grep -qi '^WWW-Authenticate: Basic realm="regmaster relay"' "$DIR/hdr"
	t_check "wrong password: 401" is "$(code -u admin:wrong /)" 401
	t_check "unknown user: 401" is "$(code -u mallory:s3cret /)" 401
	t_check "after a bcrypt against the dummy hash, as for a real user" \
		grep -q "status page: unknown user for mallory" "$DIR/serve.log"
	t_check "a Bearer token is no credential: 401" is "$(code -H 'Authorization: Bearer abc' /)" 401
	t_check "right password: 200" is "$(code -u admin:s3cret /)" 200
	t_check "as HTML" grep -qi '^Content-Type: text/html' "$DIR/hdr"
	t_check "/status.json: 200" is "$(code -u admin:s3cret /status.json)" 200
	t_check "is the relay's document" \
		test "$(jq -S . "$DIR/body")" = "$(jq -S . "$FIXTURE")"
	t_check "HEAD: 200" is "$(code -I -u admin:s3cret /)" 200
	t_check "with the page's length and without its body" \
		test "$(grep -ci '^Content-Length: [1-9]' "$DIR/hdr")" = 1 -a \
		"$(grep -c '<html' "$DIR/body")" = 0
	t_check "another path: 404" is "$(code -u admin:s3cret /admin)" 404
	t_check "POST: 405" is "$(code -X POST -u admin:s3cret /)" 405
}

chromium_checks() {
	t_check "Chromium loads the page" dom admin:s3cret
	t_check "its DOM has the clients" in_dom "<td>registry-a</td><td>198.51.100.10:40001</td>"
	t_check "the group with its port" in_dom "registry · port 5000"
	t_check "members with weights and health" \
		in_dom "<td>docker-registry</td><td>60</td><td><span class=\"up\">healthy</span>"
	t_check "and the unhealthy one" in_dom "<td>40</td><td><span class=\"down\">unhealthy</span>"
	t_check "a client named <script> is text" \
		in_dom "&lt;script&gt;alert('owned')&lt;/script&gt;"
	t_check "no script element in the DOM" t_not grep -qi '<script' "$DIR/dom.html"
	t_check "no injected img element" t_not grep -qi '<img' "$DIR/dom.html"
	dom admin:wrong
	t_check "Chromium with a wrong password: no clients shown" t_not in_dom "registry-a"
}

# A burst of 20 wrong passwords at once: the bucket holds 4 checks and
# refills 4 a second, so most are answered 429 without a bcrypt, each with a
# Retry-After; credentials that checked out before are still served.
guess_checks() {
	local i n429=0 n401=0 nother=0 pids=()
	for i in $(seq 1 20); do
		curl -s -o /dev/null -D "$DIR/guess$i.hdr" -w '%{http_code}\n' \
			-u "admin:guess$i" "$URL/" >"$DIR/guess$i.code" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 1 20); do
		case $(cat "$DIR/guess$i.code") in
		429) n429=$((n429 + 1)) ;;
		401) n401=$((n401 + 1)) ;;
		*) nother=$((nother + 1)) ;;
		esac
	done
	t_check "a burst of 20 wrong passwords: some 429 ($n429), the checked ones 401 ($n401)" \
		test "$n429" -gt 0 -a "$n401" -gt 0 -a "$nother" = 0
	t_check "429 says when to come back (Retry-After)" \
		sh -c "grep -l '^HTTP/1.1 429' '$DIR'/guess*.hdr | head -1 | xargs grep -qi '^Retry-After: [1-9]'"
	t_check "the log names the wrong passwords" grep -q "status page: wrong password for admin" "$DIR/serve.log"
	t_check "credentials that checked out are still served" \
		is "$(code -u admin:s3cret /status.json)" 200
}

body() {
	local hash
	t_require_tools chromium curl jq htpasswd || return 1
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/regmaster-statuspage.XXXXXX")
	hash=$(htpasswd -nbB -C 5 admin s3cret | cut -d: -f2-)
	serve user admin "$hash" || { fail "status_serve starts" "$(cat "$DIR/serve.log")"; return 1; }
	auth_checks
	chromium_checks
	guess_checks
	unserve
	t_check "a hash that is not bcrypt is refused at start" \
		t_not "$SERVE" "$DIR/port" "$FIXTURE" user admin plaintext
	htpasswd -bBc -C 5 "$DIR/htpasswd" bob bobpw >/dev/null 2>&1
	htpasswd -bB -C 5 "$DIR/htpasswd" carol carolpw >/dev/null 2>&1
	serve htpasswd "$DIR/htpasswd" || { fail "status_serve starts (htpasswd)"; return 1; }
	t_check "htpasswd file: its users log in" is "$(code -u carol:carolpw /status.json)" 200
	t_check "htpasswd file: the hash's user is not one of them" is "$(code -u admin:s3cret /)" 401
	unserve
	[ "$T_KEEP" = 1 ] || rm -rf "$DIR"
}

trap unserve EXIT
body
t_summary
