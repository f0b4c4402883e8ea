#!/bin/bash
# test_cli_auth.sh — the admin verbs of issue 7 with the real binary: `regmaster user`,
# `regmaster cert --self-signed` and what `regmaster check` says about TLS, users and
# the audit log. Nothing is started: these verbs work on files.
#
# What it tests (as root, then again as an ordinary user):
#   - user add reads the password from stdin; `htpasswd -vb` (apache2-utils) accepts it
#     and refuses a wrong one; bcrypt cost 10 by default, --cost N otherwise; the file
#     is mode 0640, group authd's as root
#   - a line `htpasswd -B` wrote is listed and kept byte for byte across add, passwd, del
#   - passwd changes the password (old refused, new accepted); del removes the user
#   - add of an existing user, passwd/del of a missing one: exit 1, file unchanged
#   - a password on the command line is refused (exit 2) and lands nowhere
#   - on a terminal (a pty): asked twice, not echoed; two different answers refused
#   - empty, over-72-byte passwords and bad names are refused; list NAME says 0/1
#   - eight concurrent adds all land; comments, MD5 lines and repeated names are kept
#     byte for byte by add (with a warning); passwd turns an MD5 line into bcrypt; del
#     removes every line of a name
#   - without auth.htpasswd the user verbs exit 1 saying so
#   - cert --self-signed: openssl x509 shows CN and every SAN (DNS and IP), P-256 key
#     matching the certificate, mode 0600 key, one year; refuses to overwrite without
#     --force; bad host names refused; curl --cacert verifies a TLS server using it
#   - check: passes on good files; fails on a key that does not match, on an expired
#     certificate, on a missing htpasswd, on an audit.file in a missing directory;
#     warns (exit 0) on a certificate expiring in 10 days, on a non-bcrypt line, on a
#     key or password file others may read, as root on a password file authd cannot
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

# write_conf [EXTRA]: the instance's config with users, TLS files and audit log.
write_conf() {
	cat >"$T_CONF" <<EOF
run_dir = "$T_RUN";
http = { listen = [ "127.0.0.1:$T_PORT" ]; };
storage = { root = "$T_STORE"; };
auth = { dir = "$T_AUTH"; htpasswd = "$HT"; };
tls = { certificate = [ "$CERT" ]; key = [ "$KEY" ]; };
audit = { file = "${AUDIT:-$T_DIR/audit.log}"; };
EOF
}

# rc_is DESC WANT: the last command exited WANT.
rc_is() {
	if [ "$T_RC" = "$2" ]; then ok "$1"; else fail "$1" "want exit $2, got $T_RC" "$T_OUT"; fi
}

# out_has DESC REGEX: the last command's output matches REGEX.
out_has() {
	if printf '%s\n' "$T_OUT" | grep -qE -- "$2"; then ok "$1"; else fail "$1" "want /$2/" "$T_OUT"; fi
}

# text_has TEXT DESC REGEX: TEXT matches REGEX.
text_has() {
	if printf '%s\n' "$1" | grep -qE -- "$3"; then ok "$2"; else fail "$2" "want /$3/" "$1"; fi
}

# verifies NAME PASSWORD: htpasswd accepts PASSWORD for NAME in the file.
verifies() { htpasswd -vb "$HT" "$1" "$2" >/dev/null 2>&1; }

# line_of NAME: NAME's line in the file.
line_of() { grep -- "^$1:" "$HT"; }

# names: the listed users, space-separated.
names() { t_rm user list >/dev/null; printf '%s\n' "$T_OUT" | tr '\n' ' ' | sed 's/ $//'; }

test_user_add() {
	local grp mode
	rm_in 'first-secret' user add alice
	rc_is "user add alice (password on stdin) exits 0" 0
	t_check "htpasswd -vb accepts the password user add set" verifies alice first-secret
	t_check "htpasswd -vb refuses another password" t_not verifies alice first-secreT
	# shellcheck disable=SC2016 # a literal bcrypt prefix
	case $(line_of alice) in
	'alice:$2y$10$'*) ok "default bcrypt cost is 10" ;;
	*) fail "default bcrypt cost is 10" "$(line_of alice)" ;;
	esac
	mode=$(stat -c %a "$HT")
	same "the file is mode 0640" 640 "$mode"
	if [ "$T_MODE" = root ]; then
		grp=$(id -gn regmaster-authd 2>/dev/null)
	else
		grp=$(id -gn)
	fi
	same "the file's group is ${grp:-that of authd}" "$grp" "$(stat -c %G "$HT")"
	rm_in 'x' user add --cost 4 cost4
	# shellcheck disable=SC2016 # a literal bcrypt prefix
	case $(line_of cost4) in
	'cost4:$2y$04$'*) ok "--cost 4 makes a cost 4 hash" ;;
	*) fail "--cost 4 makes a cost 4 hash" "$(line_of cost4)" "$T_OUT" ;;
	esac
	t_check "the cost 4 hash verifies" verifies cost4 x
	rm_in '' user del cost4
}

test_htpasswd_line_kept() {
	local bob bob2
	htpasswd -Bb -C 5 "$HT" bob bob-pw >/dev/null 2>&1
	bob=$(line_of bob)
	same "user list shows alice and a user htpasswd -B added, in file order" "alice bob" "$(names)"
	rm_in 'carol-pw' user add carol
	rc_is "user add carol beside the htpasswd line" 0
	same "list after add" "alice bob carol" "$(names)"
	same "bob's line is kept byte for byte across add" "$bob" "$(line_of bob)"
	rm_in 'second-secret' user passwd alice
	rc_is "user passwd alice exits 0" 0
	t_check "the new password verifies" verifies alice second-secret
	t_check "the old password no longer does" t_not verifies alice first-secret
	same "bob's line is kept across passwd" "$bob" "$(line_of bob)"
	t_rm user del carol
	rc_is "user del carol exits 0" 0
	same "list after del" "alice bob" "$(names)"
	bob2=$(line_of bob)
	same "bob's line is kept across del" "$bob" "$bob2"
	t_check "bob's htpasswd -B password still verifies" verifies bob bob-pw
}

test_user_errors() {
	local before
	before=$(sha256sum <"$HT")
	rm_in 'other' user add alice
	rc_is "add of an existing user exits 1" 1
	out_has "and says it exists" "alice exists"
	rm_in 'pw' user passwd nobody
	rc_is "passwd of a missing user exits 1" 1
	t_rm user del nobody
	rc_is "del of a missing user exits 1" 1
	out_has "and says there is no such user" "no user nobody"
	rm_in '' user add dave argv-secret
	rc_is "a password on the command line is refused with exit 2" 2
	out_has "saying passwords are never taken from the command line" "never taken from the command line"
	t_check "the argv password landed nowhere in the file" t_not grep -q "dave" "$HT"
	rm_in '' user add erin
	rc_is "an empty password is refused" 1
	rm_in "$(printf 'p%.0s' {1..73})" user add erin
	rc_is "a 73-byte password is refused (bcrypt would ignore the rest)" 1
	rm_in 'pw' user add 'a:b'
	rc_is "a name with ':' is refused with exit 2" 2
	t_rm user del "alice:\$2y"
	rc_is "del of a name with ':' is refused too (it would match alice's line)" 2
	same "none of the refused edits changed the file" "$before" "$(sha256sum <"$HT")"
	t_rm user list bob
	rc_is "user list bob exits 0" 0
	t_rm user list nobody
	rc_is "user list nobody exits 1" 1
	t_rm user frob
	rc_is "an unknown user verb is a usage error (exit 2)" 2
}

# write_pty_driver FILE: a python script running ARGV on a pseudo-terminal, typing
# $PW1 at the "Password for" prompt and $PW2 at "Again:"; prints what the terminal
# showed, exits as the command did.
write_pty_driver() {
	cat >"$1" <<'EOF'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def until(s):
    global out
    end = time.time() + 10
    while s not in out and time.time() < end:
        try:
            out += os.read(fd, 1024)
        except OSError:
            return
until(b"Password for")
os.write(fd, os.environ["PW1"].encode() + b"\n")
until(b"Again:")
os.write(fd, os.environ["PW2"].encode() + b"\n")
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(st))
EOF
}

# pty_add NAME PW1 PW2: user add NAME on a terminal; sets T_RC and T_OUT.
pty_add() {
	T_OUT=$(PW1=$2 PW2=$3 REGMASTER_LIBEXECDIR=$T_LIBEXEC timeout -k 5 "$T_CMD_TIMEOUT" \
		python3 "$T_DIR/ptydrive.py" "$REGMASTER" -c "$T_CONF" user add "$1" 2>&1)
	T_RC=$?
}

# test_tty: on a terminal the password is asked twice, without echo.
test_tty() {
	if ! command -v python3 >/dev/null; then
		fail "python3 is installed (it drives a pseudo-terminal)"
		return
	fi
	write_pty_driver "$T_DIR/ptydrive.py"
	pty_add tina 'tty-Secret-1' 'tty-Secret-1'
	rc_is "user add on a terminal exits 0" 0
	out_has "asking for the password" "Password for tina:"
	out_has "and asking again" "Again:"
	if printf '%s' "$T_OUT" | grep -q 'tty-Secret-1'; then
		fail "the password is not echoed" "$T_OUT"
	else
		ok "the password is not echoed"
	fi
	t_check "the password typed on the terminal verifies" verifies tina tty-Secret-1
	pty_add tom 'one-pw' 'other-pw'
	rc_is "two different passwords on the terminal: exit 1" 1
	out_has "saying they differ" "passwords differ"
	t_check "and tom was not added" t_not grep -q '^tom:' "$HT"
}

# test_concurrent_adds: eight adds at once all land (the flock serializes them).
test_concurrent_adds() {
	local i pids=() bad=0 got
	for i in 1 2 3 4 5 6 7 8; do
		REGMASTER_LIBEXECDIR=$T_LIBEXEC timeout -k 5 "$T_CMD_TIMEOUT" \
			"$REGMASTER" -c "$T_CONF" user add --cost 4 "c$i" \
			>"$T_DIR/c$i.out" 2>&1 <<<"pw$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do wait "${pids[$i]}" || bad=$((bad + 1)); done
	same "eight concurrent adds all exit 0" 0 "$bad" "$(cat "$T_DIR"/c*.out)"
	got=$(grep -c '^c[1-8]:' "$HT")
	same "all eight users are in the file" 8 "$got"
	for i in 1 2 3 4 5 6 7 8; do verifies "c$i" "pw$i" || bad=$((bad + 1)); done
	same "each of them verifies with its own password" 0 "$bad"
	t_check "alice and bob survived the concurrent edits" verifies bob bob-pw
}

# test_foreign_line: lines authd ignores (comments, MD5, repeated names) are kept
# byte for byte by every edit; only the named user's lines change.
test_foreign_line() {
	local md5 dup
	printf '# team accounts\r\n' >>"$HT"
	htpasswd -mb "$HT" md5user md5pw >/dev/null 2>&1
	md5=$(line_of md5user)
	t_rm check
	rc_is "check passes with an MD5 line" 0
	out_has "but warns about it" "warning: .*htpasswd:[0-9]+: 1 line authd ignores"
	rm_in 'frank-pw' user add frank
	rc_is "with an MD5 line and a comment in the file, add exits 0" 0
	out_has "warning about the line authd ignores" "htpasswd:[0-9]+: 1 line authd ignores"
	t_check "frank verifies" verifies frank frank-pw
	same "the MD5 line is kept byte for byte" "$md5" "$(line_of md5user)"
	t_check "the comment is kept, CRLF and all" grep -q $'^# team accounts\r$' "$HT"
	case " $(names) " in
	*" md5user "*) fail "list leaves out the MD5 user authd ignores" "$(names)" ;;
	*) ok "list leaves out the MD5 user authd ignores" ;;
	esac
	rm_in 'x' user add md5user
	rc_is "add of the MD5 line's name is refused as existing" 1
	rm_in 'now-bcrypt' user passwd md5user
	rc_is "passwd turns the MD5 line into bcrypt" 0
	t_check "md5user verifies with the new password" verifies md5user now-bcrypt
	same "in one line" 1 "$(grep -c '^md5user:' "$HT")"
	dup=$(line_of frank)
	printf '%s\n' "$dup" >>"$HT"
	t_rm user del frank
	rc_is "del of a name with two lines exits 0" 0
	same "and removes both" 0 "$(grep -c '^frank:' "$HT")"
	t_check "the comment survived passwd and del" grep -q '^# team accounts' "$HT"
	t_rm user del md5user
}

# test_no_htpasswd: the user verbs need auth.htpasswd.
test_no_htpasswd() {
	local saved=$HT
	HT=""
	write_conf
	rm_in 'pw' user add alice
	rc_is "user add without auth.htpasswd exits 1" 1
	out_has "saying auth.htpasswd is not set" "auth.htpasswd is not set"
	HT=$saved
	write_conf
}

test_cert() {
	local text sum
	t_rm cert --self-signed localhost 127.0.0.1 ::1 reg.test.example
	rc_is "cert --self-signed exits 0" 0
	text=$(openssl x509 -in "$CERT" -noout -text 2>&1)
	text_has "$text" "the subject is CN = localhost" "Subject: CN ?= ?localhost"
	text_has "$text" "SAN DNS:localhost" "DNS:localhost"
	text_has "$text" "SAN IP 127.0.0.1" "IP Address:127\.0\.0\.1"
	text_has "$text" "SAN IP ::1" "IP Address:0:0:0:0:0:0:0:1"
	text_has "$text" "SAN DNS:reg.test.example" "DNS:reg\.test\.example"
	text_has "$text" "an X.509 v3 certificate" "Version: 3"
	text_has "$text" "a P-256 key" "prime256v1|P-256"
	same "the key is mode 0600" 600 "$(stat -c %a "$KEY")"
	same "the key matches the certificate" "$(openssl x509 -in "$CERT" -noout -pubkey 2>&1)" \
		"$(openssl pkey -in "$KEY" -pubout 2>&1)"
	t_check "valid for more than 364 days" valid_for 364
	t_check "valid for no more than 366 days" t_not valid_for 366
	sum=$(cat "$CERT" "$KEY" | sha256sum)
	t_rm cert --self-signed other.example
	rc_is "a second cert without --force exits 1" 1
	out_has "saying --force replaces it" "exists \(--force replaces it\)"
	same "and leaves both files as they were" "$sum" "$(cat "$CERT" "$KEY" | sha256sum)"
	t_rm cert --self-signed 'bad_host!' localhost
	rc_is "a host that is neither a DNS name nor an IP is refused (exit 2)" 2
	t_rm cert localhost
	rc_is "cert without --self-signed is a usage error" 2
	t_rm cert --self-signed --force localhost 127.0.0.1
	rc_is "cert --force replaces the pair" 0
	t_check "with a new certificate" t_not same_sum "$sum"
	test_cert_serves
}

# valid_for DAYS: the certificate is still valid DAYS days from now.
valid_for() { openssl x509 -in "$CERT" -noout -checkend $(($1 * 86400)) >/dev/null 2>&1; }

# same_sum SUM: the pair's checksum is SUM.
same_sum() { [ "$(cat "$CERT" "$KEY" | sha256sum)" = "$1" ]; }

# test_cert_serves: a TLS server with the pair; curl trusting the certificate verifies.
test_cert_serves() {
	local port pid code i
	port=$(t_pick_port) || return 0
	openssl s_server -accept "127.0.0.1:$port" -cert "$CERT" -key "$KEY" -www -quiet \
		>/dev/null 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < 50; i++)); do t_port_in_use "$port" && break; sleep 0.1; done
	code=$(curl -s --max-time 5 --cacert "$CERT" -o /dev/null -w '%{http_code}' \
		"https://localhost:$port/")
	same "curl --cacert CERT verifies a server using it (by name)" 200 "$code"
	code=$(curl -s --max-time 5 --cacert "$CERT" -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:$port/")
	same "and by IP address SAN" 200 "$code"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ca_sign KEY CN START END OUT: a self-signed certificate with given dates (openssl ca:
# req cannot back-date in OpenSSL 3.0).
ca_sign() {
	local d=$T_DIR/ca
	rm -rf "$d" && mkdir -p "$d" && : >"$d/index.txt" && echo 01 >"$d/serial"
	cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = c
[ c ]
database = $d/index.txt
new_certs_dir = $d
serial = $d/serial
default_md = sha256
policy = p
unique_subject = no
[ p ]
commonName = supplied
EOF
	openssl req -new -key "$1" -subj "/CN=$2" -out "$d/req.csr" 2>/dev/null &&
		openssl ca -batch -config "$d/ca.cnf" -selfsign -keyfile "$1" -in "$d/req.csr" \
			-startdate "$3" -enddate "$4" -out "$5" >/dev/null 2>&1
}

test_check() {
	local other=$T_DIR/other.key soon
	t_rm check
	rc_is "check passes with the pair, the htpasswd and audit.file" 0
	openssl ecparam -name prime256v1 -genkey -noout -out "$other" 2>/dev/null
	cp "$KEY" "$T_DIR/good.key"
	cp "$other" "$KEY"
	t_rm check
	rc_is "check fails (exit 1) on a key that does not match its certificate" 1
	out_has "naming the key" "$KEY: does not match"
	cp "$T_DIR/good.key" "$KEY"
	soon=$(date -u -d '+10 days' +%Y%m%d%H%M%SZ)
	ca_sign "$KEY" soon "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" "$soon" "$CERT"
	t_rm check
	rc_is "check passes (exit 0) on a certificate that expires in 10 days" 0
	out_has "with a warning that it expires within 30 days" "warning: $CERT: expires in (9|10) days"
	ca_sign "$KEY" old 20200101000000Z 20210101000000Z "$CERT"
	t_rm check
	rc_is "check fails on an expired certificate" 1
	out_has "saying it expired" "$CERT: expired on 2021-01-01"
	t_rm cert --self-signed --force localhost
	mv "$HT" "$HT.away"
	t_rm check
	rc_is "check fails when auth.htpasswd does not exist" 1
	out_has "saying user add creates it" "does not exist \(regmaster user add"
	mv "$HT.away" "$HT"
	AUDIT=$T_DIR/no/such/dir/audit.log write_conf
	t_rm check
	rc_is "check fails on an audit.file in a missing directory" 1
	out_has "naming the directory" "no/such/dir: No such file"
	write_conf
	t_rm check
	rc_is "check passes again once all is right" 0
	t_check "without a warning" t_not grep -q warning <<<"$T_OUT"
	chmod 0644 "$KEY" "$HT"
	t_rm check
	rc_is "check passes with a key and a password file others may read" 0
	out_has "warning about the key's mode" "warning: $KEY: mode 0644"
	out_has "and about the password file's" "warning: $HT is readable by every user"
	chmod 0600 "$KEY"
	chmod 0640 "$HT"
	cat >"$T_DIR/tlsonly.conf" <<EOF
run_dir = "$T_RUN";
http = { listen = [ "127.0.0.1:$T_PORT" ]; tls_listen = [ "127.0.0.1:$T_PORT" ]; };
storage = { root = "$T_STORE"; };
auth = { dir = "$T_AUTH"; };
EOF
	t_rm_conf "$T_DIR/tlsonly.conf" check
	rc_is "check fails on http.tls_listen without a certificate and key" 1
	out_has "saying what it needs" "http.tls_listen needs tls.certificate and tls.key"
	if [ "$T_MODE" = root ]; then
		chgrp root "$HT"
		t_rm check
		out_has "as root, check warns when authd's user cannot read the file" \
			"authd's user .* cannot read it"
		rm_in 'pw' user add gina
		same "and user add gives it back authd's group" \
			"$(id -gn regmaster-authd)" "$(stat -c %G "$HT")"
	fi
}

body() {
	t_init cli || return 1
	HT=$T_AUTH/htpasswd
	CERT=$T_AUTH/cert.pem
	KEY=$T_AUTH/key.pem
	write_conf
	if ! command -v htpasswd >/dev/null || ! command -v openssl >/dev/null; then
		fail "htpasswd (apache2-utils) and openssl are installed"
		return 1
	fi
	test_user_add
	test_htpasswd_line_kept
	test_user_errors
	test_tty
	test_concurrent_adds
	test_no_htpasswd
	test_cert
	test_foreign_line
	test_check
}

t_run_modes body
t_summary
