#!/bin/bash
# test_uploads.sh — upload sessions against the real registry, with small bounds
# configured: the sessions one client address may hold and those of one repository
# are bounded (429 TOOMANYREQUESTS past them, while another address or repository is
# still served), a finished or cancelled session frees its slot, sessions found in
# the store at start count for their repository, and a session idle past
# storage.upload_expiry is removed from disk (its location then answers 404
# BLOB_UPLOAD_UNKNOWN), those found at start too. And a request body that does not
# arrive whole adds nothing to its upload: a chunked PATCH that is malformed or cut
# off mid-chunk leaves the offset it had before, and the final PUT with the digest of
# the data without it succeeds; a good chunked PATCH keeps its bytes. Runs as root
# (privilege separation) and as an ordinary user.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

PER_ADDR=3
PER_REPO=5
HDR=""
BODY=""

# uploads_config EXPIRY: the instance's config with small session bounds.
uploads_config() {
	cat >"$T_CONF" <<EOF
run_dir = "$T_RUN";
log_level = "debug";
http = { listen = [ "127.0.0.1:$T_PORT" ]; };
storage = { root = "$T_STORE"; delete = true; upload_expiry = "$1";
	max_uploads_per_address = $PER_ADDR; max_uploads_per_repository = $PER_REPO; };
auth = { dir = "$T_AUTH"; };
workers = { httpd = true; storaged = true; authd = true; tunneld = true; gcd = true; };
EOF
}

# start_instance NAME EXPIRY: a fresh instance with uploads_config, answering /v2/.
start_instance() {
	t_init "$1" || return 1
	uploads_config "$2"
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	if ! t_start || ! t_wait_http "$T_URL/v2/" 200 10; then
		fail "$1: regmaster starts" "$T_OUT"
		return 1
	fi
}

# post ADDR REPO: POST a new session from client address ADDR.
post() { req POST "/v2/$2/blobs/uploads/" --interface "$1"; }

# uploads_dir REPO: where the store keeps REPO's sessions.
uploads_dir() { printf '%s/docker/registry/v2/repositories/%s/_uploads\n' "$T_STORE" "$1"; }

# ---------------------------------------------------------------- quotas

test_quotas() {
	local i l1 l2 f=$T_DIR/blob
	for ((i = 1; i <= PER_ADDR; i++)); do
		post 127.0.0.1 q/a
		is_code "address bound: POST $i of $PER_ADDR from 127.0.0.1: 202" 202
		[ "$i" = 1 ] && l1=$(loc)
		[ "$i" = 2 ] && l2=$(loc)
	done
	post 127.0.0.1 q/a
	is_err "address bound: POST $((PER_ADDR + 1)) from 127.0.0.1: 429 TOOMANYREQUESTS" 429 TOOMANYREQUESTS
	if grep -q "from this address" "$BODY"; then
		ok "address bound: the 429 says which bound"
	else
		fail "address bound: the 429 says which bound" "$(what)"
	fi
	post 127.0.0.1 q/other
	is_err "address bound: the bound is per address, whatever the repository" 429 TOOMANYREQUESTS
	post 127.0.0.2 q/a
	is_code "address bound: another address (127.0.0.2) still gets 202" 202
	# q/a now holds PER_ADDR + 1 sessions: one more fills it
	post 127.0.0.3 q/a
	is_code "repository bound: session $PER_REPO of q/a (127.0.0.3): 202" 202
	post 127.0.0.4 q/a
	is_err "repository bound: session $((PER_REPO + 1)) of q/a from a fresh address: 429" 429 TOOMANYREQUESTS
	if grep -q "in this repository" "$BODY"; then
		ok "repository bound: the 429 says which bound"
	else
		fail "repository bound: the 429 says which bound" "$(what)"
	fi
	post 127.0.0.4 q/b
	is_code "repository bound: another repository still gets 202" 202
	# a finished session frees its slot (of the address and of the repository)
	head -c 5000 /dev/urandom >"$f"
	req PUT "$l1?digest=$(dg "$f")" -H 'Content-Type: application/octet-stream' --data-binary "@$f"
	is_code "a session finished by PUT: 201" 201
	post 127.0.0.1 q/a
	is_code "the finished session's slot is free again: 202" 202
	post 127.0.0.1 q/a
	is_err "and only that one: 429" 429 TOOMANYREQUESTS
	req DELETE "$l2"
	is_code "a session cancelled by DELETE: 204" 204
	post 127.0.0.1 q/c
	is_code "the cancelled session's slot is free again: 202" 202
	post 127.0.0.6 q/a
	is_code "the cancelled session's slot in q/a is free again: 202" 202
	# q/a holds PER_REPO sessions on disk: after a restart they still count
	t_stop
	if ! t_start || ! t_wait_http "$T_URL/v2/" 200 10; then
		fail "quotas: regmaster restarts" "$T_OUT"
		return 1
	fi
	post 127.0.0.5 q/a
	is_err "after a restart, the sessions on disk count for q/a: 429" 429 TOOMANYREQUESTS
	post 127.0.0.1 q/d
	is_code "after a restart, an address starts afresh: 202" 202
}

# ---------------------------------------------------------------- chunked bodies

# range_is DESC URL WANT: the session's status GET answers 204 with Range WANT.
range_is() {
	req GET "$2"
	if [ "$CODE" = 204 ] && [ "$(hval Range)" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "want 204 Range $3" "$(what)"
	fi
}

# range_now URL WANT: the status GET answers 204 with Range WANT.
range_now() { req GET "$1" && [ "$CODE" = 204 ] && [ "$(hval Range)" = "$2" ]; }

# raw TEXT: send TEXT on one connection; the answer's status line (3 s at most).
raw() {
	local out
	exec 3<>"/dev/tcp/127.0.0.1/$T_PORT" || return 1
	printf '%b' "$1" >&3
	out=$(timeout 3 cat <&3 | head -1 | tr -d '\r')
	exec 3<&-
	printf '%s\n' "$out"
}

# raw_cut TEXT: send TEXT on one connection and close it, answer unread.
raw_cut() {
	exec 3<>"/dev/tcp/127.0.0.1/$T_PORT" || return 1
	printf '%b' "$1" >&3
	sleep 0.3
	exec 3>&- 3<&-
}

test_chunked() {
	local l f=$T_DIR/c1 g=$T_DIR/c2 n line d
	head -c 3000 /dev/urandom >"$f"
	head -c 7000 /dev/urandom >"$g"
	# (a) a malformed chunk after good ones
	post 127.0.0.1 ch/a
	l=$(loc)
	req PATCH "$l" -H 'Content-Type: application/octet-stream' --data-binary "@$f"
	is_code "chunked (a): first PATCH (Content-Length) 202" 202
	line=$(raw "PATCH $l HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n6\\r\\n world\\r\\nzz\\r\\n")
	same "chunked (a): a malformed chunk after good ones: 400" "HTTP/1.1 400 Bad Request" "$line"
	if t_wait_until 10 range_now "$l" "0-2999"; then
		ok "chunked (a): the upload is back at its old offset (Range 0-2999)"
	else
		fail "chunked (a): the upload is back at its old offset (Range 0-2999)" "$(what)"
	fi
	req PUT "$l?digest=$(dg "$f")"
	is_code "chunked (a): PUT with the digest of the data without the bad request: 201" 201
	# (b) a connection cut off mid-chunk
	post 127.0.0.1 ch/b
	l=$(loc)
	req PATCH "$l" -H 'Content-Type: application/octet-stream' --data-binary "@$f"
	is_code "chunked (b): first PATCH (Content-Length) 202" 202
	raw_cut "PATCH $l HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n400\\r\\n0123456789abcdef0123456789"
	if t_wait_until 10 range_now "$l" "0-2999"; then
		ok "chunked (b): cut off mid-chunk, the upload is back at its old offset (Range 0-2999)"
	else
		fail "chunked (b): cut off mid-chunk, the upload is back at its old offset (Range 0-2999)" "$(what)"
	fi
	req PUT "$l?digest=$(dg "$f")"
	is_code "chunked (b): PUT with the digest of the data without the cut request: 201" 201
	# (c) a good chunked PATCH keeps its bytes, and the hash goes on
	post 127.0.0.1 ch/c
	l=$(loc)
	req PATCH "$l" -H 'Content-Type: application/octet-stream' --data-binary "@$f"
	line=$(raw "PATCH $l HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\nzz\\r\\n")
	same "chunked (c): a malformed one first: 400" "HTTP/1.1 400 Bad Request" "$line"
	t_wait_until 10 range_now "$l" "0-2999"
	l=$(loc)
	req PATCH "$l" -H 'Content-Type: application/octet-stream' -H 'Transfer-Encoding: chunked' --data-binary "@$g"
	is_code "chunked (c): a good chunked PATCH: 202" 202
	is_hdr "chunked (c): it keeps its bytes (Range 0-9999)" Range "0-9999"
	range_is "chunked (c): the status GET agrees" "$l" "0-9999"
	cat "$f" "$g" >"$T_DIR/c12"
	d=$(dg "$T_DIR/c12")
	req PUT "$l?digest=$d"
	is_code "chunked (c): PUT with the digest of both bodies: 201" 201
	req GET "/v2/ch/c/blobs/$d"
	n=$(sha256sum <"$BODY" | cut -d' ' -f1)
	same "chunked (c): the blob reads back with its digest" "${d#sha256:}" "$n"
}

# ---------------------------------------------------------------- expiry

# gone_404 URL: the session's location answers 404 BLOB_UPLOAD_UNKNOWN.
gone_404() { req GET "$1" && [ "$CODE" = 404 ] && grep -q '"code":"BLOB_UPLOAD_UNKNOWN"' "$BODY"; }

# test_expiry: started with upload_expiry 1h, a session is left on disk; restarted
# with 2s, that one and a fresh idle one are removed.
test_expiry() {
	local l u l0 u0 busy
	post 127.0.0.2 ex/b
	l0=$(loc)
	u0=${l0##*/}
	if [ -d "$(uploads_dir ex/b)/$u0" ]; then
		ok "expiry: the session is on disk"
	else
		fail "expiry: the session is on disk" "$(ls -la "$(uploads_dir ex/b)" 2>&1)"
	fi
	t_stop
	uploads_config 2s
	if ! t_start || ! t_wait_http "$T_URL/v2/" 200 10; then
		fail "expiry: regmaster restarts with upload_expiry 2s" "$T_OUT"
		return 1
	fi
	post 127.0.0.1 ex/a
	l=$(loc)
	u=${l##*/}
	# (no look at the disk now: on a stalled machine it could be gone already)
	req PATCH "$l" -H 'Content-Type: application/octet-stream' --data-binary 'some bytes'
	is_code "expiry: a session with some bytes: 202" 202
	is_hdr "expiry: the bytes are in (Range 0-9)" Range 0-9
	if t_wait_until 20 gone_404 "$l"; then
		ok "expiry: idle past upload_expiry, its location answers 404 BLOB_UPLOAD_UNKNOWN"
	else
		fail "expiry: idle past upload_expiry, its location answers 404 BLOB_UPLOAD_UNKNOWN" "$(what)"
	fi
	if [ ! -e "$(uploads_dir ex/a)/$u" ]; then
		ok "expiry: its directory is gone from disk"
	else
		fail "expiry: its directory is gone from disk" "$(ls -laR "$(uploads_dir ex/a)" 2>&1)"
	fi
	# its slot is free: the address can open PER_ADDR again
	for ((busy = 1; busy <= PER_ADDR; busy++)); do
		post 127.0.0.1 "ex/s$busy"
	done
	is_code "expiry: the expired session's slot is free" 202
	if [ ! -e "$(uploads_dir ex/b)/$u0" ]; then
		ok "expiry: a session found on disk at start expires too (directory gone)"
	else
		fail "expiry: a session found on disk at start expires too (directory gone)" \
			"$(ls -laR "$(uploads_dir ex/b)" 2>&1)"
	fi
	gone_404 "$l0"
	is_err "expiry: and its location answers 404 BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
}

body() {
	start_instance uploads 1h || return 1
	test_quotas
	test_chunked
	t_stop
	start_instance uploads-expiry 1h || return 1
	test_expiry
	t_stop
}

t_run_modes body
t_summary
