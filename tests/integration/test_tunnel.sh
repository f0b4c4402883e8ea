#!/bin/bash
# test_tunnel.sh — issue 9: tunneld publishes a registry of a private host through a
# relay, on loopback, with the real binaries (as root: privilege separation and the
# seccomp filters, then again as an ordinary user).
#
# Instances: a relay (workers: master and tunneld only) with a self-signed certificate
# it makes at its first start; a client beside a full regmaster (its registry is the
# proxy's local service), pinning the relay's fingerprint; more clients for the
# refusals and for load balancing.
#
# What it tests:
#   - the relay logs its certificate's fingerprint, the one openssl computes
#   - GET /v2/ and a skopeo push and pull through the relay's public port, the digests
#     identical to the image's; the pushed blobs are in the client's own registry
#   - a blob GET through the relay is whole while 20 wrong passwords at once hit the
#     relay's status page (bcrypt off tunneld's loop): each is 401 or 429
#   - a relay-only host (no httpd) serves metrics.listen from tunneld: /metrics passes
#     promtool with the tunnel's figures and tunneld's up/restarts (0, then 1 after a
#     kill -9), /healthz, /readyz; other paths 404
#   - `regmaster status` on the relay prints the client, its connections and the group;
#     on the client, the state of each connection of its pool
#   - kill -9 of the relay's tunneld, then of the client's: master restarts it, the
#     client reconnects, and pulls through the relay work again within seconds
#   - the relay down when the client starts: the client keeps trying and connects when
#     the relay comes up
#   - a wrong token, a wrong fingerprint, a port outside tunnel.relay.ports: refused,
#     with a clear line in the client's log and (token, port) in the relay's
#   - `check` refuses a client that has no way to verify the relay
#   - 20 visitors fetching 4 MiB each through one tunnel connection all finish while a
#     visitor on the same connection reads nothing
#   - tunnel.relay.visitors_per_address = 4: more visitors from 127.0.0.1 are closed
#     at once, one from 127.0.0.2 gets in, one leaving lets 127.0.0.1 in again; one log
#     line for a run of refusals, each counted on the metrics page
#   - the relay reloaded with tls.certificate: a client trusting it by tunnel.client.ca
#     connects by the name it holds, one dialling another name is refused
#   - two clients in one group, weights 60/40, two tiny local services that answer
#     their own name: 1000 visitors split within 3 points; one client stopped: every
#     new visitor reaches the other; started again: the split comes back
#   - health checks: two clients in one group, 60/40, one checking its service by TCP
#     connect, the other by HTTP GET; the second's service stopped while its client
#     runs: within seconds every new visitor reaches the first, `status` and the
#     status page's /status.json show it unhealthy, each end logs the change once;
#     the service back: the split returns to 60/40; both services down: a visitor is
#     closed at once
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

TOKEN="tunnel-test-token-$RANDOM$RANDOM"
RELAY_PORT=""   # where tunnel clients connect
PUB=""          # the registry's public port on the relay
PUB2=""         # the name services' group's public port
PUB3=""         # the bulk service's public port
PUB4=""         # the health-checked group's public port
SP=""           # the relay's status page
MP=""           # the relay's metrics.listen (tunneld serves it: no httpd there)
RELAY_EXTRA=""  # more keys of tunnel.relay
SP_HASH=""      # bcrypt of the status page's password
FP=""           # the relay's certificate, sha256:HEX
NAMES_PIDS=()   # the tiny name services this suite runs
NAMES_PID=""

# names_is_ours: NAMES_PID still runs tunnel_names.py (not a reused PID).
names_is_ours() {
	[ -r "/proc/$NAMES_PID/cmdline" ] && tr '\0' ' ' <"/proc/$NAMES_PID/cmdline" | grep -q tunnel_names.py
}
names_stop() {
	for NAMES_PID in "${NAMES_PIDS[@]}"; do
		t_stop_peer "$NAMES_PID" names_is_ours
	done
	NAMES_PIDS=()
}
trap 'names_stop; t_cleanup' EXIT
trap 'names_stop; t_cleanup; trap - EXIT; exit 130' INT
trap 'names_stop; t_cleanup; trap - EXIT; exit 143' TERM

# relay_config: the current instance as a relay; only master and tunneld run.
relay_config() {
	t_relay_conf "$MP" "$RELAY_PORT" "$TOKEN" "$PUB-$((PUB + 1)), $PUB2, $PUB3, $PUB4" \
		"status_listen = [ \"127.0.0.1:$SP\" ]; status_user = \"admin\";
	status_password = \"$SP_HASH\"; $RELAY_EXTRA"
}

# client_config NAME TOKEN FINGERPRINT PROXIES [ONLY_TUNNELD]: the current instance as
# a tunnel client with the libconfig PROXIES list.  The relay is named CL_HOST,
# "localhost" unless set: as root, tunneld resolves it inside its chroot (master
# copies the resolver's files); CL_CA, if set, is tunnel.client.ca.
CL_HOST=localhost
CL_CA=""
client_config() {
	local workers="httpd = true; storaged = true; authd = true; tunneld = true; gcd = true;"
	[ -n "${5:-}" ] && workers="httpd = false; storaged = false; authd = false; tunneld = true; gcd = false;"
	cat >"$T_CONF" <<EOF
run_dir = "$T_RUN";
log_level = "debug";
log_file = "$T_DIR/log";
http = { listen = [ "127.0.0.1:$T_PORT" ]; };
storage = { root = "$T_STORE"; delete = true; };
auth = { dir = "$T_AUTH"; };
workers = { $workers };
tunnel = { client = { relay = "$CL_HOST:$RELAY_PORT"; token = "$2"; fingerprint = "$3";
	ca = "$CL_CA"; name = "$1"; pool = 2; proxies = ( $4 ); }; };
EOF
}

# start_only_tunneld: t_start for an instance whose only worker is tunneld; what start
# printed stays in START_OUT.
START_OUT=""
start_only_tunneld() {
	local pid
	t_rm start
	START_OUT=$T_OUT
	[ "$T_RC" -eq 0 ] || { t_diag "start exited $T_RC:" "$T_OUT"; return 1; }
	pid=$(t_pidfile_pid) && t_record_pid "$pid"
	T_WORKERS=tunneld t_wait_until 10 t_all_running
}

# in_log TEXT: the current instance's log has a line with TEXT.
in_log() { grep -qF -- "$1" "$T_DIR/log" 2>/dev/null; }
log_line() { grep -F -- "$1" "$T_DIR/log" 2>/dev/null | tail -1; }

# via_relay_ok: GET /v2/ through the relay's public port answers 200.
via_relay_ok() { t_http_is 200 "http://127.0.0.1:$PUB/v2/"; }

# relay_status_has TEXT: `status` on the relay prints a line with TEXT.
relay_status_has() {
	local keep=$T_NAME
	t_use_instance relay
	t_status >/dev/null 2>&1
	t_use_instance "$keep"
	printf '%s\n' "$T_STATUS" | grep -qF -- "$1"
}

# ---------------------------------------------------------------- start, first pulls

setup_relay() {
	t_init relay || return 1
	RELAY_PORT=$(t_pick_port) && PUB=$(t_pick_port) && PUB2=$(t_pick_port) &&
		PUB3=$(t_pick_port) && PUB4=$(t_pick_port) && SP=$(t_pick_port) &&
		MP=$(t_pick_port) || return 1
	SP_HASH=$(htpasswd -nbB -C 5 admin statuspw | cut -d: -f2-)
	relay_config
	t_save_instance relay
	t_check "the relay starts with master and tunneld alone" start_only_tunneld || return 1
	FP=$(t_cert_fingerprint "$T_RUN/tunnel-relay.crt")
	t_check "the relay says its certificate's fingerprint at start ($FP)" \
		grep -qF "fingerprint $FP" <<<"$START_OUT"
}

setup_client() {
	t_init client || return 1
	client_config c1 "$TOKEN" "$FP" "{ name = \"registry\"; local = \"127.0.0.1:$T_PORT\"; remote_port = $PUB; }"
	t_save_instance client
	t_check "the client starts beside its registry" t_start || return 1
	t_check "GET /v2/ answers through the relay's public port" t_wait_until 10 via_relay_ok
	t_check "the client logs its proxy published" in_log "proxy registry: published on the relay's port $PUB"
	t_check "relay status shows the client with its two connections" \
		relay_status_has "tunnel client c1 address=127.0.0.1:"
	t_check "relay status shows the group on its port" relay_status_has "tunnel group registry port=$PUB members=1"
	printf '%s\n' "$T_STATUS" | grep '^tunnel' | sed 's/^/# relay: /'
	t_check "client status shows both its connections up" t_wait_until 5 pool_up c1
}

# sp_code USER:PASS: the status of a GET of the relay's /status.json.
sp_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -u "$1" "http://127.0.0.1:$SP/status.json"; }

# storm_code I: the answers to the storm's wrong password I (status_storm).
storm_code() { cat "$T_DIR/storm$1.code" 2>/dev/null; }

# status_storm: a 32 MiB blob pushed to the client's registry comes back whole through
# the relay's public port while 20 wrong passwords at once hit the relay's status page:
# their bcrypt checks run off tunneld's loop, the one that carries the blob.  (What is
# asserted is the outcome, not the time it takes.)
status_storm() {
	local blob=$T_DIR/storm.blob back=$T_DIR/storm.back d code i pids=() n429=0 n401=0
	head -c $((32 * 1024 * 1024)) /dev/urandom >"$blob"
	d=sha256:$(sha256sum "$blob" | cut -d' ' -f1)
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$blob" \
		-H 'Content-Type: application/octet-stream' "$T_URL/v2/storm/b/blobs/uploads/?digest=$d")
	t_check "a 32 MiB blob is pushed to the client's registry ($code)" [ "$code" = 201 ]
	t_check "the status page's admin logs in before the storm" [ "$(sp_code admin:statuspw)" = 200 ]
	curl -s --max-time 120 -o "$back" "http://127.0.0.1:$PUB/v2/storm/b/blobs/$d" &
	pids+=($!)
	for i in $(seq 1 20); do
		curl -s --max-time 60 -o /dev/null -w '%{http_code}' -u "admin:storm$i" \
			"http://127.0.0.1:$SP/status.json" >"$T_DIR/storm$i.code" &
		pids+=($!)
	done
	wait "${pids[@]}"
	t_check "during a bcrypt storm on the status page, the blob GET through the tunnel is whole" \
		[ "sha256:$(sha256sum "$back" | cut -d' ' -f1)" = "$d" ]
	for i in $(seq 1 20); do
		case $(storm_code "$i") in
		401) n401=$((n401 + 1)) ;;
		429) n429=$((n429 + 1)) ;;
		esac
	done
	t_check "the storm's 20 wrong passwords: 401 ($n401) or 429 past the bcrypt budget ($n429)" \
		[ "$((n401 + n429))" = 20 -a "$n429" -gt 0 -a "$n401" -gt 0 ]
	t_check "the admin who logged in before still gets in (remembered, no bcrypt)" \
		[ "$(sp_code admin:statuspw)" = 200 ]
	rm -f "$blob" "$back"
}

# pool_up NAME: `status` on the current instance shows its two connections up.
pool_up() {
	t_status >/dev/null
	[ "$(grep -c "^tunnel connection [01] name=$1 relay=localhost:$RELAY_PORT state=up" \
		<<<"$T_STATUS")" = 2 ]
}

# skopeo_round_trip WHAT: push the test image through the relay, pull it back, compare.
IMG=""
skopeo_round_trip() {
	local what=$1 host=127.0.0.1:$PUB digest back=$T_DIR/back-$RANDOM
	digest=$(awk '$1 == "multi" { print $2 }' "$IMG.digests")
	t_skopeo_copy "skopeo pushes through the relay ($what)" --dest-tls-verify=false \
		"oci:$IMG/multi:latest" "docker://$host/tun/multi:$what" || return 1
	t_skopeo_copy "skopeo pulls through the relay ($what)" --src-tls-verify=false \
		"docker://$host/tun/multi:$what" "oci:$back:latest" || return 1
	t_check "the image pulled through the relay has the image's digest ($what)" \
		[ "$(jq -r '.manifests[0].digest' <"$back/index.json")" = "$digest" ]
	t_check "the client's own registry holds what was pushed ($what)" \
		t_http_is 200 "$T_URL/v2/tun/multi/manifests/$digest"
}

# ---------------------------------------------------------------- relay-only metrics

# mp_get PATH: GET PATH on the relay's metrics listener into $T_DIR/mp.body; the status.
mp_get() { curl -s --max-time 10 -o "$T_DIR/mp.body" -w '%{http_code}' "http://127.0.0.1:$MP$1"; }

# mp_sample NAME: the value of the sample NAME (with its labels) on the page last got.
mp_sample() { awk -v n="$1" '$1 == n { print $2 }' "$T_DIR/mp.body"; }

# relay_metrics RESTARTS: the relay runs no httpd, so tunneld serves metrics.listen:
# /metrics is the page master gathers (promtool accepts it) with the tunnel's figures
# and tunneld's up and restart series; /healthz, /readyz; other paths 404.
relay_metrics() {
	local out
	t_check "relay-only host: GET /metrics on metrics.listen answers 200" [ "$(mp_get /metrics)" = 200 ]
	if out=$(promtool check metrics <"$T_DIR/mp.body" 2>&1); then
		ok "relay-only host: promtool check metrics passes on the page"
	else
		fail "relay-only host: promtool check metrics passes on the page" "$out"
	fi
	t_check "the page counts the tunnel client (regmaster_tunnel_clients $(mp_sample regmaster_tunnel_clients))" \
		[ "$(mp_sample regmaster_tunnel_clients)" = 1 ]
	t_check "the page has the stream and byte figures" \
		grep -q '^regmaster_tunnel_bytes_in_total [1-9]' "$T_DIR/mp.body"
	t_check "tunneld is up on the page" [ "$(mp_sample 'regmaster_worker_up{worker="tunneld"}')" = 1 ]
	t_check "tunneld's restarts on the page: $1" \
		[ "$(mp_sample 'regmaster_worker_restarts_total{worker="tunneld"}')" = "$1" ]
	t_check "its figures passed master's check" \
		[ "$(mp_sample 'regmaster_worker_metrics_ok{worker="tunneld"}')" = 1 ]
	t_check "no httpd series on a relay-only host" t_not grep -q 'worker="httpd"' "$T_DIR/mp.body"
	t_check "relay-only host: /healthz 200" [ "$(mp_get /healthz)" = 200 ]
	t_check "relay-only host: /readyz 200 ready" [ "$(mp_get /readyz)" = 200 -a "$(cat "$T_DIR/mp.body")" = ready ]
	t_check "relay-only host: another path 404" [ "$(mp_get /v2/)" = 404 ]
}

# ---------------------------------------------------------------- failures

# kill9 INSTANCE: kill -9 that instance's tunneld; then master has restarted it and
# pulls through the relay work again within seconds.
# pull_ok: the image pushed first reads back through the relay.
pull_ok() {
	timeout 60 skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$PUB/tun/multi:first" \
		>/dev/null 2>&1
}

OLD_PID="" NEW_PID=""
# tunneld_replaced: the current instance's tunneld runs with a PID not OLD_PID.
tunneld_replaced() {
	t_status >/dev/null
	NEW_PID=$(t_worker_pid tunneld)
	[ -n "$NEW_PID" ] && [ "$NEW_PID" != 0 ] && [ "$NEW_PID" != "$OLD_PID" ]
}

kill9() {
	local inst=$1 t0
	t_use_instance "$inst"
	t_status
	OLD_PID=$(t_worker_pid tunneld)
	kill -9 "$OLD_PID"
	t0=$(t_now_ms)
	t_wait_until "$T_RESTART_TIMEOUT" tunneld_replaced
	t_check "kill -9 of the $inst's tunneld: master restarts it (pid $OLD_PID -> $NEW_PID)" tunneld_replaced
	t_use_instance client
	if t_wait_until 10 via_relay_ok; then
		ok "after kill -9 of the $inst's tunneld, /v2/ answers through the relay again ($(( $(t_now_ms) - t0 )) ms)"
	else
		fail "after kill -9 of the $inst's tunneld, /v2/ answers through the relay again"
	fi
	[ -n "$IMG" ] && t_check "a pull through the relay works after kill -9 of the $inst's tunneld" \
		pull_ok
}

relay_late() {
	t_use_instance relay
	t_check "the relay stops" t_stop
	t_use_instance client
	t_check "the client stops" t_stop
	: >"$T_DIR/log"
	t_check "the client starts while the relay is down" t_start
	t_check "the client keeps trying the relay that is down" t_wait_until 5 in_log "Connection refused"
	t_check "the client's tunneld keeps running meanwhile" t_all_running
	t_use_instance relay
	t_check "the relay comes up" start_only_tunneld
	t_use_instance client
	t_check "the client connects when the relay is up: /v2/ answers through it" t_wait_until 15 via_relay_ok
}

# refused DESC NAME TOKEN FINGERPRINT PROXIES CLIENT_TEXT RELAY_TEXT: a client that the
# relay (or the client itself) refuses, with its reason in the logs.
refused() {
	t_init "$2" || return 1
	client_config "$2" "$3" "$4" "$5" only-tunneld
	t_save_instance "$2"
	start_only_tunneld
	t_check "$1: the client says why" t_wait_until 10 in_log "$6"
	t_diag "client: $(log_line "$6")"
	if [ -n "$7" ]; then
		t_use_instance relay
		t_check "$1: the relay says why" t_wait_until 5 in_log "$7"
		t_diag "relay: $(log_line "$7")"
		t_use_instance "$2"
	fi
	t_check "$1: the client stops" t_stop
}

# check_refuses TEXT: `check` fails on the current config, saying TEXT.
check_refuses() {
	t_rm check
	[ "$T_RC" -ne 0 ] && grep -qF -- "$1" <<<"$T_OUT"
}

refusals() {
	local good="{ name = \"r\"; local = \"127.0.0.1:1\"; remote_port = $PUB2; }"
	local outside=$((PUB + 7))
	refused "wrong token" bad_token "not-the-token" "$FP" "$good" \
		"refused us: authentication failed: wrong token" "tunnel client bad_token from 127.0.0.1:"
	t_use_instance relay
	t_check "wrong token: the relay's line names it" in_log "wrong token: refused"
	refused "wrong fingerprint" bad_fp "$TOKEN" "sha256:$(printf '%064d' 0)" "$good" \
		"is not tunnel.client.fingerprint: refused" ""
	refused "port outside the range" bad_port "$TOKEN" "$FP" \
		"{ name = \"far\"; local = \"127.0.0.1:1\"; remote_port = $outside; }" \
		"proxy far: refused by the relay: port $outside is outside the relay's ports" \
		"proxy far refused: port $outside is outside"
	t_use_instance bad_token
	client_config x "$TOKEN" "" "$good" only-tunneld
	t_check "check refuses a client with no way to verify the relay" check_refuses "to verify the relay"
}

# ---------------------------------------------------------------- load balancing

# split N [PORT A B]: N visitors on PORT (the names group's), counted per name; prints
# the counts of names A and B (alpha, beta).
split() {
	local out a b
	out=$(timeout 120 python3 "$T_LIB_DIR/tunnel_names.py" count "${2:-$PUB2}" "$1")
	a=$(awk -v n="${3:-alpha}" '$1 == n { print $2 }' <<<"$out")
	b=$(awk -v n="${4:-beta}" '$1 == n { print $2 }' <<<"$out")
	t_diag "visitors: $(tr '\n' ' ' <<<"$out")" >&2
	printf '%s %s\n' "${a:-0}" "${b:-0}"
}

# near_60_40 A B: A is 60 % of A+B within 3 points, and A+B the visitors sent.
near_60_40() { [ $(($1 + $2)) -eq "$3" ] && [ "$1" -ge $((570 * $3 / 1000)) ] && [ "$1" -le $((630 * $3 / 1000)) ]; }

# weighted NAME WEIGHT SERVICE_PORT: a client with the names group's proxy.
weighted() {
	t_init "$1" || return 1
	client_config "$1" "$TOKEN" "$FP" "{ name = \"names\"; local = \"127.0.0.1:$3\"; remote_port = $PUB2; group = \"names\"; weight = $2; }" only-tunneld
	t_save_instance "$1"
	t_check "client $1 (weight $2) starts" start_only_tunneld
}

balance() {
	local pa pb a b
	pa=$(t_pick_port) && pb=$(t_pick_port) || return 1
	python3 "$T_LIB_DIR/tunnel_names.py" serve alpha "$pa" & NAMES_PIDS+=($!)
	python3 "$T_LIB_DIR/tunnel_names.py" serve beta "$pb" & NAMES_PIDS+=($!)
	weighted w_alpha 60 "$pa"
	weighted w_beta 40 "$pb"
	t_check "both clients join the names group" t_wait_until 10 relay_status_has "tunnel group names port=$PUB2 members=2"
	read -r a b < <(split 1000)
	t_check "60/40: 1000 visitors split within 3 points (alpha $a, beta $b)" near_60_40 "$a" "$b" 1000
	t_use_instance w_beta
	t_check "client beta stops" t_stop
	t_check "the group loses beta" t_wait_until 10 relay_status_has "tunnel group names port=$PUB2 members=1"
	read -r a b < <(split 200)
	t_check "beta stopped: every new visitor reaches alpha (alpha $a, beta $b)" [ "$a" -eq 200 ]
	t_check "client beta starts again" start_only_tunneld
	t_check "beta is back in the group" t_wait_until 10 relay_status_has "tunnel group names port=$PUB2 members=2"
	read -r a b < <(split 1000)
	t_check "beta back: the split returns (alpha $a, beta $b)" near_60_40 "$a" "$b" 1000
	names_stop
}

# ---------------------------------------------------------------- health checks

# member_health CLIENT WEIGHT yes|no: `status` on the relay shows CLIENT's member of
# the health group so.
member_health() { relay_status_has "tunnel member health client=$1 proxy=svc weight=$2 healthy=$3 "; }

# json_unhealthy CLIENT: the relay's /status.json has CLIENT's member unhealthy.
json_unhealthy() {
	curl -s --max-time 10 -u admin:statuspw "http://127.0.0.1:$SP/status.json" |
		jq -e --arg c "$1" '.groups[] | select(.group == "health") | .members[] |
			select(.client == $c) | .healthy == false' >/dev/null
}

# health_client NAME WEIGHT SERVICE_PORT HEALTH: a client of the health group.
health_client() {
	t_init "$1" || return 1
	client_config "$1" "$TOKEN" "$FP" "{ name = \"svc\"; local = \"127.0.0.1:$3\"; remote_port = $PUB4; group = \"health\"; weight = $2; health = \"$4\"; }" only-tunneld
	t_save_instance "$1"
	t_check "client $1 (weight $2, health $4) starts" start_only_tunneld
}

# split_health N: split on the health group's port, gamma and delta.
split_health() { split "$1" "$PUB4" gamma delta; }

DELTA_PID=""
# delta_serve PORT: delta's tiny HTTP service, its PID in DELTA_PID.
delta_serve() {
	python3 "$T_LIB_DIR/tunnel_names.py" httpserve delta "$1" & DELTA_PID=$!
	NAMES_PIDS+=("$DELTA_PID")
}

tunneld_runs() { T_WORKERS=tunneld t_all_running; }

# logged_once TEXT: the current instance's log has exactly one line with TEXT.
logged_once() { [ "$(grep -cF -- "$1" "$T_DIR/log")" = 1 ]; }

# all_closed_fast OUT MS: 20 visitors all closed unanswered, in under 5 s.
all_closed_fast() { [ "$1" = "none 20" ] && [ "$2" -lt 5000 ]; }

health_checks() {
	local pg pd a b t0 out
	pg=$(t_pick_port) && pd=$(t_pick_port) || return 1
	python3 "$T_LIB_DIR/tunnel_names.py" httpserve gamma "$pg" & NAMES_PIDS+=($!)
	delta_serve "$pd"
	health_client h_gamma 60 "$pg" tcp
	health_client h_delta 40 "$pd" "http:/healthz"
	t_check "both health-checked clients join the group" \
		t_wait_until 10 relay_status_has "tunnel group health port=$PUB4 members=2"
	t_check "both members healthy" member_health h_delta 40 yes
	read -r a b < <(split_health 500)
	t_check "health checks passing: 500 visitors split 60/40 within 3 points (gamma $a, delta $b)" \
		near_60_40 "$a" "$b" 500
	NAMES_PID=$DELTA_PID
	t_stop_peer "$DELTA_PID" names_is_ours
	t0=$(t_now_ms)
	t_check "delta's service stopped, its client running: the relay marks it unhealthy" \
		t_wait_until 10 member_health h_delta 40 no
	t_diag "unhealthy on the relay $(( $(t_now_ms) - t0 )) ms after delta's service stopped"
	t_use_instance h_delta
	t_check "delta's client still runs" tunneld_runs
	t_check "delta's client logs the change once" \
		logged_once "proxy svc: health check http:/healthz of 127.0.0.1:$pd failed 2 times"
	t_use_instance relay
	t_check "the relay logs the change once" logged_once "client h_delta proxy svc is unhealthy: skipped"
	t_check "the relay's /status.json shows delta unhealthy" json_unhealthy h_delta
	read -r a b < <(split_health 200)
	t_check "delta unhealthy: every new visitor reaches gamma (gamma $a, delta $b)" [ "$a" -eq 200 ]
	delta_serve "$pd"
	t_check "delta's service back: the relay marks it healthy" t_wait_until 10 member_health h_delta 40 yes
	t_use_instance h_delta
	t_check "delta's client logs its recovery once" \
		logged_once "proxy svc: health check http:/healthz passes again: healthy"
	read -r a b < <(split_health 500)
	t_check "delta healthy again: the split returns to 60/40 (gamma $a, delta $b)" near_60_40 "$a" "$b" 500
	names_stop
	t_check "both services stopped: gamma unhealthy too" t_wait_until 10 member_health h_gamma 60 no
	t0=$(t_now_ms)
	out=$(timeout 20 python3 "$T_LIB_DIR/tunnel_names.py" count "$PUB4" 20)
	t_check "every member unhealthy: 20 visitors closed unanswered at once ($out, $(( $(t_now_ms) - t0 )) ms)" \
		all_closed_fast "$out" $(( $(t_now_ms) - t0 ))
	for a in h_gamma h_delta; do
		t_use_instance "$a"
		t_check "$a: the client stops" t_stop
	done
}

# ---------------------------------------------------------------- a visitor that reads nothing

# stalled: 20 visitors at once fetch 4 MiB each from a local service through the
# relay while another visitor of the same client, on the same connections, reads
# nothing: its stream's window stops it alone, the 20 finish.
stalled() {
	local pb out size=$((4 * 1024 * 1024))
	pb=$(t_pick_port) || return 1
	python3 "$T_LIB_DIR/tunnel_names.py" bulk "$pb" "$size" & NAMES_PIDS+=($!)
	t_init bulk || return 1
	client_config bulk "$TOKEN" "$FP" "{ name = \"bulk\"; local = \"127.0.0.1:$pb\"; remote_port = $PUB3; }" only-tunneld
	sed -i 's/pool = 2;/pool = 1;/' "$T_CONF"
	t_save_instance bulk
	t_check "the bulk client starts" start_only_tunneld
	t_check "the bulk group is up" t_wait_until 10 relay_status_has "tunnel group bulk port=$PUB3 members=1"
	out=$(timeout 60 python3 "$T_LIB_DIR/tunnel_names.py" stall "$PUB3" 20 "$size")
	t_diag "stalled visitor: $out"
	t_check "a visitor reading nothing stalls no other: 20 of 20 complete" \
		grep -q "^complete 20 of 20 " <<<"$out"
	t_use_instance bulk
	t_check "bulk: the client stops" t_stop
	names_stop
}

# ---------------------------------------------------------------- visitors per address

# relay_reload: the relay re-reads relay_config; tunneld has the new values once
# `status` answers (master sent them before, on the same channel).
relay_reload() {
	t_use_instance relay
	relay_config
	: >"$T_DIR/log"
	t_rm reload && t_wait_until 5 in_log "configuration reloaded" &&
		t_wait_until 5 relay_status_has "tunnel group registry port=$PUB"
}

# visitor_limit: visitors_per_address = 4: four visitors from 127.0.0.1 hold their
# connections to the registry's public port, a fifth from there is closed at once,
# one from 127.0.0.2 still gets in; one of the four leaves: 127.0.0.1 gets in again.
# The refusal is logged (once, not per visitor) and counted on the metrics page.
visitor_limit() {
	local out total
	RELAY_EXTRA="visitors_per_address = 4;"
	t_check "the relay reloads with tunnel.relay.visitors_per_address = 4" relay_reload
	out=$(timeout 60 python3 "$T_LIB_DIR/visitor_limit.py" "$PUB" 4 7)
	t_diag "visitor_limit.py: $(tr '\n' ' ' <<<"$out")"
	total=$(awk '$1 == "refused_total" { print $2 }' <<<"$out")
	t_check "4 visitors from 127.0.0.1 get in and hold their connections" grep -qx "held 4" <<<"$out"
	t_check "7 more from 127.0.0.1 are each closed without a byte" \
		grep -qx "extra answered 0 refused 7" <<<"$out"
	t_check "a visitor from 127.0.0.2 still gets in" grep -qx "other answered" <<<"$out"
	t_check "one of the four left: 127.0.0.1 gets in again" grep -qx "again answered" <<<"$out"
	t_check "the relay logs the refusal, naming the address and the key" \
		in_log "visitor from 127.0.0.1 refused: 4 open from this address already (tunnel.relay.visitors_per_address)"
	t_check "a run of refusals: one log line, not one per visitor" \
		logged_once "visitor from 127.0.0.1 refused"
	t_check "each refusal is counted (regmaster_tunnel_visitors_refused_total = the $total the visitors saw)" \
		[ "$(mp_get /metrics)" = 200 -a "$(mp_sample regmaster_tunnel_visitors_refused_total)" = "$total" ]
	t_check "regmaster status on the relay shows them too (visitors_refused=$total)" \
		relay_status_has " visitors_refused=$total clients="
	RELAY_EXTRA=""
	t_check "the relay reloads without the key (default 256)" relay_reload
	out=$(timeout 60 python3 "$T_LIB_DIR/visitor_limit.py" "$PUB" 8 1)
	t_check "default limit: 9 visitors from 127.0.0.1 all get in" \
		grep -qx "extra answered 1 refused 0" <<<"$out"
}

# ---------------------------------------------------------------- a CA instead of a pin

# with_ca: the relay reloads with tls.certificate (a certificate for "localhost"
# only); a client that trusts it as its CA connects by that name; one that dials
# 127.0.0.1 fails the name check.
with_ca() {
	local crt key good="{ name = \"r\"; local = \"127.0.0.1:1\"; remote_port = $PUB2; }"
	t_use_instance relay
	crt=$T_DIR/relay-ca.crt key=$T_DIR/relay-ca.key
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$key" \
		-out "$crt" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
		>"$T_DIR/openssl.out" 2>&1; then
		fail "openssl makes the relay's certificate" "$(cat "$T_DIR/openssl.out")"
		return 1
	fi
	chmod 0644 "$crt" "$key"
	relay_config
	printf 'tls = { certificate = [ "%s" ]; key = [ "%s" ]; };\n' "$crt" "$key" >>"$T_CONF"
	: >"$T_DIR/log"
	t_check "the relay reloads with tls.certificate" t_rm reload
	t_check "the relay serves tls.certificate now" t_wait_until 5 in_log \
		"fingerprint $(t_cert_fingerprint "$crt")"
	CL_CA=$crt
	t_init ca_ok || return 1
	client_config ca_ok "$TOKEN" "" "$good" only-tunneld
	t_save_instance ca_ok
	start_only_tunneld
	t_check "a client verifying the relay with tunnel.client.ca connects" \
		t_wait_until 10 in_log "tunnel connection 0 to 127.0.0.1:$RELAY_PORT up"
	t_check "ca: the client stops" t_stop
	CL_HOST=127.0.0.1
	t_init ca_name || return 1
	client_config ca_name "$TOKEN" "" "$good" only-tunneld
	start_only_tunneld
	t_check "a relay whose certificate does not name it is refused, with the reason" \
		t_wait_until 10 in_log "certificate verify failed (IP address mismatch)"
	t_diag "client: $(log_line "certificate verify failed")"
	t_check "ca, wrong name: the client stops" t_stop
	CL_HOST=localhost CL_CA=""
}

body() {
	t_require_tools curl jq openssl python3 htpasswd || return 0
	setup_relay || return 1
	setup_client || return 1
	status_storm
	if command -v skopeo >/dev/null 2>&1; then
		IMG=$T_DIR/img
		build_images "$IMG" && skopeo_round_trip first
	else
		t_diag "skopeo not installed: the image round trip is skipped"
	fi
	t_use_instance relay
	relay_metrics 0
	kill9 relay
	t_use_instance relay
	t_check "the relay's log has the fingerprint once tunneld restarted" in_log "fingerprint $FP"
	t_check "the client is back on the relay" t_wait_until 10 relay_status_has "tunnel client c1 address="
	relay_metrics 1
	kill9 client
	relay_late
	refusals
	balance
	health_checks
	stalled
	visitor_limit
	with_ca
}

t_run_modes body
t_summary
