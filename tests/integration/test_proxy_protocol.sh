#!/bin/bash
# test_proxy_protocol.sh — httpd's http.proxy_listen (issue 9): connections there
# start with a PROXY protocol v2 header, and the address it names is the client's.
#
# What it tests (as root, then again as an ordinary user):
#   - a PROXY v2 header (IPv4 and IPv6 sources) then a request: answered; the debug
#     log and the audit log show the header's address, not 127.0.0.1
#   - a LOCAL header: answered as the proxy itself (127.0.0.1)
#   - no header, a garbled one (version 1 in the binary form): the connection is
#     closed unanswered, with a log line; a header that never ends: closed after
#     http.header_timeout
#   - per-address limits count the header's address: over
#     max_connections_per_address from one visitor refused, another visitor served
#   - authd's failed-login counting goes by the header's address: one visitor's
#     guesses get it 429, another visitor still gets 401
#   - plain http.listen never parses PROXY: a header there is a 400
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

PC=$T_LIB_DIR/proxy_client.py

# pc ARGS...: proxy_client.py on the proxy port; its output in $PC_OUT.
pc() { PC_OUT=$(timeout 20 python3 "$PC" "$PPORT" "$@" 2>&1); }
# pc_plain ARGS...: the same against plain http.listen.
pc_plain() { PC_OUT=$(timeout 20 python3 "$PC" "$T_PORT" "$@" 2>&1); }
status_is() { [ "$PC_OUT" = "status $1" ]; }
pc_answers() { pc "$@" && [ "${PC_OUT#status }" != closed ] && [ "${PC_OUT#status }" != none ]; }
logged() { grep -qF -- "$1" "$T_DIR/regmaster.log"; }
audited() {
	jq -e --arg a "$1" --arg s "$2" 'select(.addr == $a and .action == "denied" and
		(.status | tostring) == $s)' "$T_DIR/audit.log" >/dev/null 2>&1
}

write_conf() {
	t_write_config "$T_CONF"
	sed -i -e '/^auth = /d' -e '/^http = /d' "$T_CONF"
	cat >>"$T_CONF" <<EOF
http = { listen = [ "127.0.0.1:$T_PORT" ]; proxy_listen = [ "127.0.0.1:$PPORT" ];
  header_timeout = 2; max_connections_per_address = 2; };
log_file = "$T_DIR/regmaster.log";
auth = { dir = "$T_AUTH"; htpasswd = "$T_AUTH/htpasswd"; realm = "rm-test";
  max_failures = 3; failure_window = "60s";
  rules = ( { who = "anonymous"; repo = "public/*"; allow = "pull"; } ); };
audit = { file = "$T_DIR/audit.log"; };
EOF
}

# address_checks: the header's address in logs, audit, and LOCAL.
address_checks() {
	pc 203.0.113.7 /v2/private/app/manifests/v1
	t_check "PROXY v4 header, then a request: answered (401, auth on)" status_is 401
	t_check "the debug log names the header's address" \
		t_wait_until 5 logged "203.0.113.7: GET /v2/private/app/manifests/v1"
	t_check "the audit line carries it" t_wait_until 5 audited 203.0.113.7 401
	pc 2001:db8::5 /v2/private/app/manifests/v1
	t_check "PROXY v6 header: answered" status_is 401
	t_check "the audit line carries the IPv6 address" t_wait_until 5 audited 2001:db8::5 401
	pc local /v2/private/app/manifests/v2
	t_check "a LOCAL header: answered" status_is 401
	t_check "as the proxy itself" \
		t_wait_until 5 logged "127.0.0.1: GET /v2/private/app/manifests/v2"
}

refusal_checks() {
	pc none
	t_check "no PROXY header: closed unanswered" status_is closed
	t_check "with a log line" \
		t_wait_until 5 logged "refused on http.proxy_listen: no PROXY v2 signature"
	pc badversion
	t_check "a garbled header (version 1): closed unanswered" status_is closed
	t_check "with a log line" t_wait_until 5 logged "PROXY protocol version is not 2"
	pc partial - --wait 6
	t_check "a header that never ends: closed" status_is closed
	t_check "after http.header_timeout, logged" \
		t_wait_until 5 logged "no PROXY header within"
	pc_plain 203.0.113.8
	t_check "a PROXY header on plain http.listen: 400" status_is 400
	t_check "and the plain listener never took its address" t_not logged "203.0.113.8"
}

limit_checks() {
	local bg u
	timeout 20 python3 "$PC" "$PPORT" 198.51.100.1 --hold 3 --linger 4 \
		>"$T_DIR/hold.out" 2>&1 &
	bg=$!
	sleep 1.5
	pc 198.51.100.2
	t_check "while one visitor holds its 2 connections, another is served" status_is 401
	wait "$bg"
	t_check "the visitor's third connection is refused (max 2 per address)" \
		test "$(tr '\n' ' ' <"$T_DIR/hold.out")" = "status 401 status 401 status closed "
	t_check "logged under the visitor's address" logged \
		"198.51.100.1: too many connections from this address (via PROXY from 127.0.0.1)"
	for u in u1 u2 u3; do pc 192.0.2.50 /v2/ --user "$u:wrong"; done
	pc 192.0.2.50 /v2/ --user u4:wrong
	t_check "a visitor's 4th failed login (max_failures 3): 429" status_is 429
	pc 192.0.2.51 /v2/ --user u5:wrong
	t_check "another visitor's first: 401 (authd counts the header's address)" status_is 401
}

body() {
	t_require_tools python3 jq htpasswd || return 1
	t_init proxyproto || return 1
	PPORT=$(t_pick_port) || { fail "no free port"; return 1; }
	htpasswd -B -b -C 5 -c "$T_AUTH/htpasswd" alice alicepw >/dev/null 2>&1
	write_conf
	t_start || { fail "start with http.proxy_listen" "$T_OUT"; return 1; }
	t_check "proxy_listen answers after a header" t_wait_until 10 pc_answers 127.0.0.9 /v2/
	address_checks
	refusal_checks
	limit_checks
	t_stop
}

t_run_modes body
t_summary
