#!/bin/bash
# test_tunnel_options.sh — issue 9's per-proxy options and the relay's status page, on
# loopback: a relay instance (tunneld, its status page) and a registry instance with
# its tunnel client publishing two proxies of the same registry: "plain" to
# http.listen, and "zp" with compression and proxy_protocol to http.proxy_listen.
#
# What it tests (as root, then again as an ordinary user):
#   - the client dials the relay and "plain"'s local service by name (localhost,
#     when it is 127.0.0.1 first: httpd listens there), looked up off tunneld's loop
#   - through "zp", a visitor from 127.0.0.2 reaches the registry, which logs the
#     visitor's address (the tunnel client's PROXY v2 header), not the tunnel's
#   - blobs of text (compressible) and of random bytes (not) pushed through "zp"
#     come back identical through "zp" and through "plain"; a manifest too
#   - the relay's status page: 401 without credentials; /status.json names the
#     client and both proxies with their port; headless Chromium renders the client
#   - health checks of both proxies ("tcp", and "http:/v2/" on the PROXY listener,
#     which the check must greet with a LOCAL header): healthy, never unhealthy
#   - the relay reloaded onto status_htpasswd: the file's user gets in, the old
#     status_user no longer does
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

TOKEN=""
RL="" PUB_PLAIN="" PUB_ZP="" SP=""
RELAY_DIR=""

relay_conf() {
	local hash
	hash=$(htpasswd -nbB -C 5 admin statuspw | cut -d: -f2-)
	cat >"$T_CONF" <<EOF
run_dir = "$T_RUN";
log_level = "debug";
log_file = "$T_DIR/regmaster.log";
http = { listen = [ "127.0.0.1:$T_PORT" ]; };
storage = { root = "$T_STORE"; };
auth = { dir = "$T_AUTH"; };
workers = { httpd = false; storaged = false; gcd = false; authd = true; tunneld = true; };
tunnel = { relay = { listen = [ "127.0.0.1:$RL" ]; token = "$TOKEN";
	ports = "$PUB_PLAIN-$PUB_ZP"; bind_address = "127.0.0.1";
	status_listen = [ "127.0.0.1:$SP" ]; status_user = "admin";
	status_password = "$hash"; }; };
EOF
}

# LOCALNAME: localhost where the resolver gives 127.0.0.1 first (the service
# dialled is the first address), else the address itself.
LOCALNAME=127.0.0.1
[ "$(getent ahosts localhost 2>/dev/null | awk 'NR == 1 { print $1 }')" = 127.0.0.1 ] &&
	LOCALNAME=localhost

client_conf() {
	cat >"$T_CONF" <<EOF
run_dir = "$T_RUN";
log_level = "debug";
log_file = "$T_DIR/regmaster.log";
http = { listen = [ "127.0.0.1:$T_PORT" ]; proxy_listen = [ "127.0.0.1:$PP" ]; };
storage = { root = "$T_STORE"; delete = true; };
auth = { dir = "$T_AUTH"; };
workers = { httpd = true; storaged = true; authd = true; tunneld = true; gcd = true; };
tunnel = { client = { relay = "$LOCALNAME:$RL"; token = "$TOKEN"; insecure = true;
	name = "reg-a";
	proxies = (
		{ name = "plain"; local = "$LOCALNAME:$T_PORT"; remote_port = $PUB_PLAIN;
		  health = "tcp"; },
		{ name = "zp"; local = "127.0.0.1:$PP"; remote_port = $PUB_ZP;
		  compression = true; proxy_protocol = true; health = "http:/v2/"; }
	); }; };
EOF
}

relay_up() {
	t_init relay || return 1
	RELAY_DIR=$T_DIR
	RL=$(t_pick_port) && SP=$(t_pick_port) && PUB_PLAIN=$(t_pick_port) || return 1
	PUB_ZP=$((PUB_PLAIN + 1))
	relay_conf
	T_WORKERS="authd tunneld" t_start || { fail "the relay starts" "$T_OUT"; return 1; }
	RELAY_CONF=$T_CONF
}

client_up() {
	t_init client || return 1
	PP=$(t_pick_port) || return 1
	client_conf
	t_start || { fail "the registry with its tunnel client starts" "$T_OUT"; return 1; }
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
}

# via PORT PATH [CURL ARGS]: status of GET PATH on the relay's public PORT.
via() {
	local port=$1 path=$2
	shift 2
	curl -s --max-time 30 -o "$T_DIR/via.body" -w '%{http_code}' "$@" \
		"http://127.0.0.1:$port$path"
}
via_is() { [ "$(via "$@")" = 200 ]; }
logged() { grep -qF -- "$1" "$T_DIR/regmaster.log"; }

# push_blob PORT FILE: a monolithic upload of FILE through PORT; its digest in $PUSHED.
push_blob() {
	PUSHED=$(dg "$2")
	req POST "http://127.0.0.1:$1/v2/tun/app/blobs/uploads/?digest=$PUSHED" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$2"
	[ "$CODE" = 201 ]
}
# pulls_same PORT FILE: GET of FILE's blob through PORT gives its bytes.
pulls_same() {
	curl -s --max-time 60 -o "$T_DIR/pulled" "http://127.0.0.1:$1/v2/tun/app/blobs/$(dg "$2")" &&
		cmp -s "$T_DIR/pulled" "$2"
}

data_checks() {
	local text=$T_DIR/text.json rnd=$T_DIR/random.bin
	t_check "through the compressed PROXY proxy: /v2/ answers" \
		t_wait_until 15 via_is "$PUB_ZP" /v2/ --interface 127.0.0.2
	t_check "the registry logs the visitor's address (PROXY v2 through the tunnel)" \
		t_wait_until 5 logged "127.0.0.2: GET /v2/"
	t_check "through the plain proxy too" t_wait_until 15 via_is "$PUB_PLAIN" /v2/
	python3 -c 'import json,random; random.seed(9); print(json.dumps([{"digest": "sha256:%064x" % random.getrandbits(256), "size": random.randrange(10**9), "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"} for _ in range(30000)]))' >"$text"
	head -c 3000000 /dev/urandom >"$rnd"
	t_check "a text blob pushed through the compressed proxy" push_blob "$PUB_ZP" "$text"
	t_check "a random blob too" push_blob "$PUB_ZP" "$rnd"
	t_check "the text blob comes back identical through it" pulls_same "$PUB_ZP" "$text"
	t_check "and through the plain proxy" pulls_same "$PUB_PLAIN" "$text"
	t_check "the random blob through the compressed proxy" pulls_same "$PUB_ZP" "$rnd"
	t_check "and through the plain one" pulls_same "$PUB_PLAIN" "$rnd"
	t_check "the compressed proxy's text went deflated (under half its size)" \
		t_wait_until 5 deflated_text
}

# deflated_text: the tunnel client logged a stream that sent the text blob's bytes
# (the pull: more than the blob) as less than half.
deflated_text() {
	awk -v n="$(stat -c %s "$T_DIR/text.json")" '
		match($0, /stream [0-9]+: [0-9]+ bytes sent as [0-9]+/) {
			split(substr($0, RSTART, RLENGTH), w, " ")
			if (w[3] + 0 > n && w[7] * 2 < w[3] + 0) found = 1
		}
		END { exit !found }' "$T_DIR/regmaster.log"
}

# status_json: the relay's /status.json, into $RELAY_DIR/status.json.
status_json() {
	curl -s --max-time 10 -u admin:statuspw -o "$RELAY_DIR/status.json" \
		-w '%{http_code}' "http://127.0.0.1:$SP/status.json"
}
status_has() { [ "$(status_json)" = 200 ] && jq -e "$1" "$RELAY_DIR/status.json" >/dev/null; }

status_checks() {
	t_check "the status page without credentials: 401" \
		test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SP/")" = 401
	t_check "/status.json names the client" \
		t_wait_until 10 status_has '.role == "relay" and (.clients | map(.name) | index("reg-a"))'
	t_check "and both proxies in their groups with their ports" \
		status_has "[.groups[] | {group, port}] | (index({group: \"plain\", port: $PUB_PLAIN}) and index({group: \"zp\", port: $PUB_ZP}))"
	t_check "the bytes the visitors moved are counted" status_has '.bytes_in > 6000000'
	sleep 5	# at least two rounds of health checks more
	t_check "both health-checked proxies healthy (zp's GET starts with a LOCAL PROXY header)" \
		status_has '[.groups[].members[].healthy] == [true, true]'
	t_check "and never unhealthy since the client started" t_not logged "): unhealthy"
	t_chromium_dom "http://127.0.0.1:$SP/" admin:statuspw "reg-a" || true
	printf '%s\n' "$T_DOM" >"$RELAY_DIR/dom.html"
	t_check "headless Chromium renders the relay's client" \
		grep -qF "<td>reg-a</td><td>127.0.0.1:" "$RELAY_DIR/dom.html"
	t_check "and the compressed proxy's group" grep -qF "zp · port $PUB_ZP" "$RELAY_DIR/dom.html"
}

# htpasswd_checks: the relay reloaded onto status_htpasswd (master reads the file,
# tunneld gets its bytes): its user gets in, the old status_user no longer does.
htpasswd_checks() {
	local conf=$T_CONF pidfile=$T_PIDFILE
	htpasswd -bBc -C 5 "$RELAY_DIR/status.htpasswd" carol carolpw >/dev/null 2>&1
	sed -i -e 's|status_user = "admin";||' \
		-e "s|status_password = \"[^\"]*\";|status_htpasswd = \"$RELAY_DIR/status.htpasswd\";|" \
		"$RELAY_CONF"
	T_CONF=$RELAY_CONF
	t_rm reload
	T_CONF=$conf T_PIDFILE=$pidfile
	t_check "relay reload onto status_htpasswd" test "$T_RC" = 0
	t_check "the file's user gets in" t_wait_until 5 status_code_is carol:carolpw 200
	t_check "the old status_user does not" status_code_is admin:statuspw 401
}
status_code_is() {
	test "$(curl -s -o /dev/null -w '%{http_code}' -u "$1" "http://127.0.0.1:$SP/status.json")" = "$2"
}

body() {
	t_require_tools chromium curl jq htpasswd python3 || return 1
	TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	relay_up || return 1
	client_up || return 1
	data_checks
	status_checks
	htpasswd_checks
	t_stop
	T_CONF=$RELAY_CONF T_PIDFILE=$RELAY_DIR/run/regmaster.pid t_stop
}

t_run_modes body
t_summary
