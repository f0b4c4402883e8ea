#!/bin/bash
# test_tls.sh — TLS of issue 7 with the real binaries, against a CA the suite makes with
# openssl: an ECDSA and an RSA server certificate (certbot-style fullchain.pem and
# privkey.pem), a client CA and a client certificate.
#
# What it tests (as root with privilege separation, then the basic parts again as an
# ordinary user):
#   - curl --cacert pushes a blob and a manifest over TLS and pulls them back
#   - TLS 1.0 and 1.1 refused, 1.2 and 1.3 spoken; ALPN http/1.1; a TLS 1.2 cipher is
#     ECDHE with an AEAD
#   - SNI picks the RSA or the ECDSA certificate by name; an unknown name gets the first
#   - resumption with session tickets: s_client -sess_out / -sess_in says "Reused"
#     (TLS 1.2 and 1.3)
#   - a client certificate the client CA signed names the user (httpd's log); one of
#     another CA fails the handshake; no certificate at all is fine
#   - tls.client_crl: a revoked client certificate fails the handshake after reload,
#     its old ticket does not resume, another certificate of the CA still works
#   - plain HTTP still answers beside TLS
#   - kill -9 of authd (the key holder): master restarts it and resends the keys, new
#     handshakes work again
# Root only:
#   - `regmaster reload` with a new certificate while a 1 GiB blob is pulled over TLS:
#     the pull completes with the right sha256, a new connection sees the new
#     certificate (fingerprints compared)
#   - a key that does not match its certificate on reload: the old certificate stays,
#     the log says why, and `regmaster check` fails naming the key
#   - a search of the running httpd's memory (/proc/PID/mem over /proc/PID/maps) finds
#     none of the private keys' secret numbers (EC scalar, RSA prime p) while authd's
#     memory holds them (so the search can fail)
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

PKI=""		# the suite's CA, certificates and keys
TLS_PORT=""
LOG=""

# pki_make DIR: the CA, server pairs ec (reg.test, 127.0.0.1) and rsa (rsa.test), a
# client CA with client alice, and an unrelated CA with client mallory.
pki_make() {
	local d=$1
	mkdir -p "$d" && (
		cd "$d" || exit 1
		ossl() { openssl "$@" >/dev/null 2>&1; }
		ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout ca.key -out ca.pem -days 30 -subj /CN=regmaster-test-ca || exit 1
		ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout other.key -out other.pem -days 30 -subj /CN=other-ca || exit 1
		leaf ec reg.test "DNS:reg.test,IP:127.0.0.1" "-newkey ec -pkeyopt ec_paramgen_curve:P-256" &&
			leaf rsa rsa.test "DNS:rsa.test" "-newkey rsa:2048" &&
			leaf ec2 reg.test "DNS:reg.test,IP:127.0.0.1" "-newkey ec -pkeyopt ec_paramgen_curve:P-256" &&
			client alice ca && client mallory other && client bob ca && revoke bob
	)
}

# revoke NAME: crl.pem, the CA's revocation list, with NAME.crt revoked.
revoke() {
	printf '%s\n' '[ca]' 'default_ca = tca' '[tca]' 'database = index.txt' \
		'crlnumber = crlnumber' 'default_md = sha256' 'default_crl_days = 30' >ca.cnf &&
		: >index.txt && echo 01 >crlnumber &&
		openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -revoke "$1.crt" \
			>/dev/null 2>&1 &&
		openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl -out crl.pem \
			>/dev/null 2>&1
}

# leaf NAME CN SAN KEYOPTS: NAME/fullchain.pem and NAME/privkey.pem signed by the CA.
leaf() {
	mkdir -p "$1" || return 1
	# shellcheck disable=SC2086 # KEYOPTS are words
	openssl req $4 -nodes -keyout "$1/privkey.pem" -out "$1/req.csr" -subj "/CN=$2" \
		>/dev/null 2>&1 &&
		openssl x509 -req -in "$1/req.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 30 -out "$1/cert.pem" -extfile <(printf 'subjectAltName=%s\n' "$3") \
			>/dev/null 2>&1 &&
		cat "$1/cert.pem" ca.pem >"$1/fullchain.pem" && chmod 0600 "$1/privkey.pem"
}

# client NAME CA: a client certificate NAME.crt/NAME.key signed by CA.
client() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-out "$1.csr" -subj "/CN=$1" >/dev/null 2>&1 &&
		openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
			-days 30 -out "$1.crt" >/dev/null 2>&1
}

# tls_config: the instance's config with a TLS listener, both certificates, the
# client CA and a log file.
tls_config() {
	TLS_PORT=$(t_pick_port) || return 1
	LOG=$T_DIR/regmaster.log
	cat >>"$T_CONF" <<EOF
log_file = "$LOG";
http = { listen = [ "127.0.0.1:$T_PORT" ]; tls_listen = [ "127.0.0.1:$TLS_PORT" ]; };
tls = { certificate = [ "$PKI/ec/fullchain.pem", "$PKI/rsa/fullchain.pem" ];
	key = [ "$PKI/ec/privkey.pem", "$PKI/rsa/privkey.pem" ];
	client_ca = "$PKI/ca.pem"; };
EOF
	# the config's http group replaces the harness's: drop the first one
	sed -i '0,/^http = /{/^http = /d}' "$T_CONF"
}

# tcurl ARGS...: curl over TLS to reg.test (resolved to the instance), our CA trusted.
tcurl() {
	curl -s --max-time 120 --cacert "$PKI/ca.pem" \
		--resolve "reg.test:$TLS_PORT:127.0.0.1" --resolve "rsa.test:$TLS_PORT:127.0.0.1" "$@"
}

# sclient ARGS...: openssl s_client to the TLS listener, its output (stdin closed).
sclient() {
	timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$PKI/ca.pem" "$@" \
		</dev/null 2>&1
}

# sclient_req ARGS...: s_client sending one request and waiting for the answer (a
# TLS 1.3 ticket arrives after the handshake).
sclient_req() {
	(printf 'GET /v2/ HTTP/1.1\r\nHost: reg.test\r\nConnection: close\r\n\r\n'; sleep 1) |
		timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$PKI/ca.pem" \
			-ign_eof "$@" 2>&1
}

# fingerprint NAME: the SHA-256 fingerprint of the certificate the server shows NAME.
fingerprint() {
	sclient -servername "$1" | openssl x509 -noout -fingerprint -sha256 2>/dev/null |
		sed 's/.*=//'
}
file_fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }

# has DESC TEXT REGEX: TEXT matches the extended REGEX.
has() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else fail "$1" "want /$3/" "$2"; fi
}
lacks() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then fail "$1" "unwanted /$3/" "$2"; else ok "$1"; fi
}

# log_wait REGEX: the log shows REGEX within 5 s.
log_has() { grep -Eq -- "$1" "$LOG" 2>/dev/null; }
log_wait() { t_wait_until 5 log_has "$1"; }

# tls_up, rsa_up: a TLS handshake with the ECDSA, the RSA certificate completes.
tls_up() { sclient -servername reg.test | grep -q 'Verify return code: 0'; }
rsa_up() { sclient -servername rsa.test | grep -q 'Verify return code: 0'; }

# ---------------------------------------------------------------- the parts

part_push_pull() {
	local blob=$T_DIR/blob cfg=$T_DIR/config.json mf=$T_DIR/manifest.json d c got code
	head -c 300000 /dev/urandom >"$blob"
	printf '{"architecture":"amd64","os":"linux"}' >"$cfg"
	d=$(dg "$blob")
	c=$(dg "$cfg")
	code=$(tcurl -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
		--data-binary "@$blob" "https://reg.test:$TLS_PORT/v2/tls/app/blobs/uploads/?digest=$d")
	same "a blob pushed over TLS is created" 201 "$code"
	tcurl -o /dev/null -X POST --data-binary "@$cfg" \
		"https://reg.test:$TLS_PORT/v2/tls/app/blobs/uploads/?digest=$c"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
		"$c" "$(stat -c %s "$cfg")" "$d" "$(stat -c %s "$blob")" >"$mf"
	code=$(tcurl -o /dev/null -w '%{http_code}' -X PUT \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$mf" \
		"https://reg.test:$TLS_PORT/v2/tls/app/manifests/v1")
	same "a manifest PUT over TLS is created" 201 "$code"
	got=$(tcurl "https://reg.test:$TLS_PORT/v2/tls/app/manifests/v1" \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' | sha256sum | cut -d' ' -f1)
	same "the manifest pulled over TLS is the one pushed" "$(dg "$mf")" "sha256:$got"
	got=$(tcurl "https://reg.test:$TLS_PORT/v2/tls/app/blobs/$d" | sha256sum | cut -d' ' -f1)
	same "the blob pulled over TLS is the one pushed" "$d" "sha256:$got"
	got=$(curl -s "$T_URL/v2/tls/app/blobs/$d" | sha256sum | cut -d' ' -f1)
	same "plain HTTP serves the same blob beside TLS" "$d" "sha256:$got"
}

part_protocols() {
	local out
	out=$(sclient -tls1 -servername reg.test)
	lacks "TLS 1.0 is refused" "$out" 'Cipher is [A-Z]'
	out=$(sclient -tls1_1 -servername reg.test)
	lacks "TLS 1.1 is refused" "$out" 'Cipher is [A-Z]'
	out=$(sclient -tls1_2 -servername reg.test -alpn http/1.1)
	has "TLS 1.2 is spoken, with ECDHE and AES-GCM" "$out" 'New, TLSv1.2, Cipher is ECDHE-ECDSA-AES(128|256)-GCM'
	has "ALPN agrees on http/1.1" "$out" 'ALPN protocol: http/1.1'
	out=$(sclient -tls1_2 -servername reg.test -cipher AES128-SHA)
	lacks "a TLS 1.2 cipher without ECDHE and AEAD is refused" "$out" 'Cipher is [A-Z]'
	out=$(sclient -tls1_3 -servername reg.test)
	has "TLS 1.3 is spoken" "$out" 'New, TLSv1.3, Cipher is TLS_'
	has "the chain verifies against the suite's CA" "$out" 'Verify return code: 0 \(ok\)'
}

part_sni() {
	local out
	out=$(sclient -servername rsa.test)
	has "SNI rsa.test gets the RSA certificate" "$out" 'subject=CN ?= ?rsa.test'
	has "its handshake is signed with RSA (authd's key)" "$out" 'Peer signature type: RSA'
	out=$(sclient -tls1_2 -sigalgs RSA+SHA256 -servername rsa.test)
	has "TLS 1.2 with a PKCS#1 v1.5 signature works too" "$out" 'Peer signature type: RSA$'
	# authd signs a raw RSA input only if it is a PSS encoding: each hash TLS uses
	local v h
	for v in tls1_2 tls1_3; do
		for h in 256 384 512; do
			out=$(sclient -$v -sigalgs rsa_pss_rsae_sha$h -servername rsa.test)
			has "$v: authd signs rsa_pss_rsae_sha$h" "$out" "Peer signing digest: SHA$h"
		done
	done
	t_check "and refused none of them" t_not log_has 'signature refused'
	out=$(sclient -servername reg.test)
	has "SNI reg.test gets the ECDSA certificate" "$out" 'subject=CN ?= ?reg.test'
	has "its handshake is signed with ECDSA" "$out" 'Peer signature type: ECDSA'
	out=$(sclient -servername unknown.test)
	has "an unknown name gets the first certificate" "$out" 'subject=CN ?= ?reg.test'
}

part_resumption() {
	local v out s=$T_DIR/sess
	for v in tls1_2 tls1_3; do
		rm -f "$s"
		sclient_req -$v -servername reg.test -sess_out "$s" >/dev/null
		out=$(sclient_req -$v -servername reg.test -sess_in "$s")
		has "$v: a session ticket resumes the session" "$out" '^Reused, TLSv1\.[23]'
		has "$v: the resumed connection answers HTTP" "$out" 'HTTP/1.1 200'
	done
}

part_client_cert() {
	local code
	code=$(tcurl -o /dev/null -w '%{http_code}' --cert "$PKI/alice.crt" --key "$PKI/alice.key" \
		"https://reg.test:$TLS_PORT/v2/")
	same "a client certificate of the client CA is accepted" 200 "$code"
	t_check "its CN is the connection's user (httpd's log)" log_wait 'client certificate of alice'
	code=$(tcurl -o /dev/null -w '%{http_code}' "https://reg.test:$TLS_PORT/v2/")
	same "no client certificate is fine too" 200 "$code"
	code=$(tcurl -o /dev/null -w '%{http_code}' --cert "$PKI/mallory.crt" \
		--key "$PKI/mallory.key" "https://reg.test:$TLS_PORT/v2/")
	same "a client certificate of another CA fails the handshake" 000 "$code"
	t_check "and names no user" t_not log_has 'client certificate of mallory'
}

# part_client_crl: tls.client_crl set by reload refuses bob's revoked certificate,
# and only his; a ticket bob got before does not resume.
part_client_crl() {
	local code s=$T_DIR/sess.bob out
	code=$(tcurl -o /dev/null -w '%{http_code}' --cert "$PKI/bob.crt" --key "$PKI/bob.key" \
		"https://reg.test:$TLS_PORT/v2/")
	same "without a revocation list bob's certificate is accepted" 200 "$code"
	sclient_req -tls1_3 -servername reg.test -cert "$PKI/bob.crt" -key "$PKI/bob.key" \
		-sess_out "$s" >/dev/null
	sed -i "s|client_ca = \"$PKI/ca.pem\";|& client_crl = \"$PKI/crl.pem\";|" "$T_CONF"
	t_check "regmaster check accepts the revocation list" t_rm check
	t_rm reload >/dev/null 2>&1
	sleep 1
	code=$(tcurl -o /dev/null -w '%{http_code}' --cert "$PKI/bob.crt" --key "$PKI/bob.key" \
		"https://reg.test:$TLS_PORT/v2/")
	same "after reload with the list, bob's revoked certificate fails the handshake" 000 "$code"
	out=$(sclient_req -tls1_3 -servername reg.test -sess_in "$s")
	has "and bob's ticket from before does not resume" "$out" '^New, TLSv1\.3'
	code=$(tcurl -o /dev/null -w '%{http_code}' --cert "$PKI/alice.crt" --key "$PKI/alice.key" \
		"https://reg.test:$TLS_PORT/v2/")
	same "alice's certificate of the same CA still works" 200 "$code"
	sed -i "s| client_crl = \"$PKI/crl.pem\";||" "$T_CONF"
	t_rm reload >/dev/null 2>&1
	sleep 1
}

# part_client_ca_change: a session alice's certificate opened under the old
# client CA does not resume once reload put another CA in its place.
part_client_ca_change() {
	local s=$T_DIR/sess.alice out
	sclient_req -tls1_3 -servername reg.test -cert "$PKI/alice.crt" -key "$PKI/alice.key" \
		-sess_out "$s" >/dev/null
	out=$(sclient_req -tls1_3 -servername reg.test -sess_in "$s")
	has "alice's session resumes under the same client CA" "$out" '^Reused, TLSv1\.3'
	sed -i "s|client_ca = \"$PKI/ca.pem\"|client_ca = \"$PKI/other.pem\"|" "$T_CONF"
	t_rm reload >/dev/null 2>&1
	sleep 1
	out=$(sclient_req -tls1_3 -servername reg.test -sess_in "$s")
	has "after reload to another client CA it does not resume" "$out" '^New, TLSv1\.3'
	sed -i "s|client_ca = \"$PKI/other.pem\"|client_ca = \"$PKI/ca.pem\"|" "$T_CONF"
	t_rm reload >/dev/null 2>&1
	sleep 1
}

part_authd_restart() {
	local old new
	t_status
	old=$(t_worker_pid authd)
	t_is_ours "$old" && kill -KILL "$old"
	new_authd() { t_status && new=$(t_worker_pid authd) && [ -n "$new" ] && [ "$new" != "$old" ] && [ "$(t_worker_field authd state)" = running ]; }
	t_check "master restarts authd after kill -9" t_wait_until 10 new_authd
	t_check "new handshakes work again (keys resent)" t_wait_until 5 tls_up
	t_check "and both keys are back" t_wait_until 3 rsa_up
}

basic_parts() {
	part_push_pull
	part_protocols
	part_sni
	part_resumption
	part_client_cert
	part_client_crl
	part_client_ca_change
	part_authd_restart
}

# ---------------------------------------------------------------- root only

# part_reload_in_flight: a new certificate while a 1 GiB pull runs.
part_reload_in_flight() {
	local big=$T_DIR/big d code old new pid got
	head -c 1G /dev/zero | tr '\0' 'r' >"$big"
	d=$(dg "$big")
	# streamed (chunked) from stdin: --data-binary would hold it in memory
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -T - \
		-H 'Content-Type: application/octet-stream' \
		"$T_URL/v2/tls/big/blobs/uploads/?digest=$d" <"$big")
	same "a 1 GiB blob is pushed" 201 "$code"
	rm -f "$big"
	old=$(fingerprint reg.test)
	same "the server shows the first certificate" "$(file_fingerprint "$PKI/ec/cert.pem")" "$old"
	tcurl --limit-rate 200M "https://reg.test:$TLS_PORT/v2/tls/big/blobs/$d" |
		sha256sum >"$T_DIR/big.sum" &
	pid=$!
	sleep 1
	cp "$PKI/ec2/fullchain.pem" "$PKI/ec/fullchain.pem"
	cp "$PKI/ec2/privkey.pem" "$PKI/ec/privkey.pem"
	t_rm reload
	new_cert() { [ "$(fingerprint reg.test)" = "$(file_fingerprint "$PKI/ec2/cert.pem")" ]; }
	t_check "after reload a new connection sees the new certificate" t_wait_until 5 new_cert
	t_check "the pull was still in flight then" kill -0 "$pid"
	wait "$pid"
	got=$(cut -d' ' -f1 "$T_DIR/big.sum")
	same "the 1 GiB pull begun before the reload completes with the right digest" "$d" "sha256:$got"
}

part_bad_key_reload() {
	local before
	before=$(fingerprint reg.test)
	cp "$PKI/rsa/privkey.pem" "$PKI/ec/privkey.pem"
	t_rm reload
	t_check "the log says the key does not match" log_wait "$PKI/ec/privkey.pem: does not match"
	same "the old certificate is kept" "$before" "$(fingerprint reg.test)"
	t_check "handshakes still work" tls_up
	t_rm check
	same "regmaster check fails on the mismatched key" 1 "$T_RC"
	has "naming it" "$T_OUT" "$PKI/ec/privkey.pem: does not match"
	cp "$PKI/ec2/privkey.pem" "$PKI/ec/privkey.pem"
}

# secrets KEYFILE: the key's secret number (EC scalar or RSA prime p), hex.
secret_hex() {
	if openssl pkey -in "$1" -noout -text 2>/dev/null | grep -q '^prime1:'; then
		openssl pkey -in "$1" -noout -text | awk '/^prime1:/{f=1;next} /^[a-z]/{f=0} f' |
			tr -d ' :\n'
	else
		openssl pkey -in "$1" -noout -text | awk '/^priv:/{f=1;next} /^[a-zA-Z]/{f=0} f' |
			tr -d ' :\n'
	fi
}

# mem_holds PID HEX...: the process's readable memory holds one of the numbers (big-
# or little-endian, leading zero bytes dropped). Says how often on stderr.
mem_holds() {
	python3 - "$@" <<'EOF'
import re, sys
pid, secrets = sys.argv[1], sys.argv[2:]
needles = []
for h in secrets:
    b = bytes.fromhex(h).lstrip(b'\0')
    needles += [b, b[::-1]]
found = 0
with open('/proc/%s/maps' % pid) as maps, open('/proc/%s/mem' % pid, 'rb', 0) as mem:
    for line in maps:
        addr, perms = line.split()[:2]
        if 'r' not in perms or line.rstrip().endswith('[vvar]'):
            continue
        lo, hi = (int(x, 16) for x in addr.split('-'))
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except (OSError, OverflowError, ValueError):
            continue
        for n in needles:
            if data.find(n) != -1:
                found += 1
print(found, file=sys.stderr)
sys.exit(0 if found else 1)
EOF
}

part_memory() {
	local ec rsa hp ap
	ec=$(secret_hex "$PKI/ec/privkey.pem")
	rsa=$(secret_hex "$PKI/rsa/privkey.pem")
	[ ${#ec} -ge 60 ] && [ ${#rsa} -ge 250 ] || {
		fail "the keys' secret numbers are read" "ec=${#ec} rsa=${#rsa} hex digits"
		return
	}
	# handshakes with both keys first: whatever httpd ever held is in its memory now
	sclient -servername reg.test >/dev/null
	sclient -servername rsa.test >/dev/null
	t_status
	hp=$(t_worker_pid httpd)
	ap=$(t_worker_pid authd)
	t_check "authd's memory holds the EC scalar (the search works)" \
		mem_holds "$ap" "$ec" 2>/dev/null
	t_check "authd's memory holds the RSA prime p" mem_holds "$ap" "$rsa" 2>/dev/null
	t_check "httpd's memory holds neither" t_not mem_holds "$hp" "$ec" "$rsa" 2>/dev/null
}

body() {
	t_init tls || return
	PKI=$T_DIR/pki
	pki_make "$PKI" || {
		fail "make the suite's CA and certificates with openssl"
		return
	}
	tls_config || return
	if ! t_start; then
		fail "start with TLS" "$T_OUT"
		return
	fi
	t_check "the TLS listener answers" t_wait_until 10 tls_up
	basic_parts
	if [ "$T_MODE" = root ]; then
		part_memory
		part_reload_in_flight
		part_bad_key_reload
	fi
	t_stop
}

t_run_modes body
t_summary
