#!/bin/bash
# test_edge_tunnel.sh — issue 11's edge nodes with issue 9's tunnel: an office edge
# (a regmaster in cache mode) whose upstream is the main registry reached through a
# relay, and the main registry and the edge behind one relay group with weights.
#
# Instances, all on loopback: a relay (master and tunneld only); the main registry,
# whose tunnel client publishes it on the relay twice: alone (PUB_MAIN, the edge's
# upstream) and in the group "office" with weight 1 (PUB_OFFICE); the edge, catch-all
# upstream http://127.0.0.1:PUB_MAIN, cache.push = "refuse", whose tunnel client
# publishes it in the group "office" with weight 3.
#
# What it tests:
#   - skopeo pulls through the edge an image pushed to the main registry: the digest
#     is the main registry's, and each blob crossed the tunnel once (the main
#     registry's log)
#   - 40 visitors of the office port each GET the manifest by digest: all 200 with
#     the digest; the edge answers 30 of them and the main registry 10 (3:1, smooth
#     weighted round-robin), and the edge answered its share from its store (the
#     main registry saw nothing but its own share)
#   - a push through the edge is refused with DENIED
#   - the main registry stopped: every office visitor reaches the edge, and skopeo
#     pulls the image through the office port from the edge's cache alone
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

TOKEN="edge-test-token-$RANDOM$RANDOM"
RELAY_PORT="" PUB_MAIN="" PUB_OFFICE="" FP=""
MAIN_HOST="" MAIN_LOG="" EDGE_HOST="" EDGE_LOG=""

trap 't_cleanup' EXIT
trap 't_cleanup; trap - EXIT; exit 130' INT
trap 't_cleanup; trap - EXIT; exit 143' TERM

# in_status TEXT: `status` on the relay prints a line with TEXT.
in_status() {
	t_use_instance RELAY
	t_status >/dev/null 2>&1
	printf '%s\n' "$T_STATUS" | grep -qF -- "$1"
}

relay_start() {
	t_init edge-relay || return 1
	RELAY_PORT=$(t_pick_port) && PUB_MAIN=$(t_pick_port) && PUB_OFFICE=$(t_pick_port) ||
		return 1
	t_relay_conf "$T_MPORT" "$RELAY_PORT" "$TOKEN" "$PUB_MAIN, $PUB_OFFICE"
	t_save_instance RELAY
	t_rm start
	t_check "the relay starts (master and tunneld)" [ "$T_RC" -eq 0 ] || return 1
	t_record_pid "$(t_pidfile_pid)"
	T_WORKERS=tunneld t_wait_until 10 t_all_running
	FP=$(t_cert_fingerprint "$T_RUN/tunnel-relay.crt")
}

# client_keys NAME PROXIES: the tunnel client's part of a config.
client_keys() {
	printf 'tunnel = { client = { relay = "localhost:%s"; token = "%s"; fingerprint = "%s";\n\tname = "%s"; proxies = ( %s ); }; };\n' \
		"$RELAY_PORT" "$TOKEN" "$FP" "$1" "$2"
}

main_start() {
	t_init edge-main || return 1
	MAIN_HOST=127.0.0.1:$T_PORT
	MAIN_LOG=$T_DIR/log
	{
		printf 'log_file = "%s";\n' "$MAIN_LOG"
		client_keys main "{ name = \"main\"; local = \"$MAIN_HOST\"; remote_port = $PUB_MAIN; },
	{ name = \"office-main\"; local = \"$MAIN_HOST\"; remote_port = $PUB_OFFICE;
	  group = \"office\"; weight = 1; }"
	} >>"$T_CONF"
	t_save_instance MAIN
	t_check "the main registry starts with its tunnel client" t_start || return 1
	t_check "the main registry answers on the relay's port" \
		t_wait_http "http://127.0.0.1:$PUB_MAIN/v2/" 200 15
	t_skopeo_copy "skopeo pushes team/app:v1 to the main registry" --dest-tls-verify=false \
		"oci:$IMGS/multi:latest" "docker://$MAIN_HOST/team/app:v1"
}

edge_start() {
	t_init edge-office || return 1
	EDGE_HOST=127.0.0.1:$T_PORT
	EDGE_LOG=$T_DIR/log
	{
		printf 'log_file = "%s";\n' "$EDGE_LOG"
		printf 'cache = { upstreams = ( { prefix = ""; url = "http://127.0.0.1:%s"; ttl = "1h"; } );\n\tpush = "refuse"; };\n' \
			"$PUB_MAIN"
		client_keys edge "{ name = \"office-edge\"; local = \"$EDGE_HOST\"; remote_port = $PUB_OFFICE;
	  group = \"office\"; weight = 3; }"
	} >>"$T_CONF"
	t_save_instance EDGE
	t_check "the edge starts with its tunnel client" t_start || return 1
	t_check "the relay's office group has both members" \
		t_wait_until 15 in_status "tunnel group office port=$PUB_OFFICE members=2"
}

test_pull_through_tunnel() {
	local want d n once=yes mark
	want=$(img_digest "$IMGS" multi)
	mark=$(stat -c %s "$MAIN_LOG")
	t_skopeo_copy "skopeo pulls team/app:v1 through the edge" --src-tls-verify=false \
		"docker://$EDGE_HOST/team/app:v1" "oci:$T_DIR/pulled:latest"
	same "... with the main registry's digest" "$want" \
		"$(jq -r '.manifests[0].digest' "$T_DIR/pulled/index.json" 2>/dev/null)"
	for d in $(layout_blob_digests "$IMGS/multi"); do
		n=$(log_reqs "$MAIN_LOG" GET "/v2/team/app/blobs/$d" "$mark")
		[ "$n" = 1 ] || { once="no: $d $n"; break; }
	done
	same "each blob crossed the tunnel to the main registry once" yes "$once"
}

# office_round N MARK_MAIN MARK_EDGE: N visitors of the office port GET the manifest
# by digest; sets OK200 (answers 200 with the digest), AT_MAIN and AT_EDGE (the
# requests each one logged).
OK200=0 AT_MAIN=0 AT_EDGE=0
office_round() {
	local want path i d
	want=$(img_digest "$IMGS" multi)
	path=/v2/team/app/manifests/$want
	OK200=0
	for i in $(seq 1 "$1"); do
		d=$(curl -s --max-time 10 -o /dev/null -D - -H "Accept: $ACCEPT" \
			"http://127.0.0.1:$PUB_OFFICE$path" |
			tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }')
		[ "$d" = "$want" ] && OK200=$((OK200 + 1))
	done
	AT_MAIN=$(log_reqs "$MAIN_LOG" GET "$path" "$2")
	AT_EDGE=$(log_reqs "$EDGE_LOG" GET "$path" "$3")
}

test_office_split() {
	local mm me
	mm=$(stat -c %s "$MAIN_LOG")
	me=$(stat -c %s "$EDGE_LOG")
	office_round 40 "$mm" "$me"
	same "40 office visitors get the manifest by digest" 40 "$OK200"
	t_diag "office split: edge $AT_EDGE, main $AT_MAIN"
	t_check "the edge (weight 3) answered 30 of 40 and the main registry (1) 10, within 2" \
		[ "$AT_EDGE" -ge 28 -a "$AT_EDGE" -le 32 ]
	same "the edge answered its share from its store (the main registry saw only its own)" \
		40 "$((AT_EDGE + AT_MAIN))"
}

test_edge_refuses_push() {
	HDR=$T_DIR/push.hdr BODY=$T_DIR/push.body
	req POST "http://$EDGE_HOST/v2/team/app/blobs/uploads/"
	is_err "a push to the edge is refused with DENIED" 403 DENIED
}

test_main_down() {
	local mm me want
	want=$(img_digest "$IMGS" multi)
	t_use_instance MAIN
	t_check "the main registry stops" t_stop
	t_check "the office group keeps the edge alone" \
		t_wait_until 15 in_status "tunnel group office port=$PUB_OFFICE members=1"
	me=$(stat -c %s "$EDGE_LOG")
	mm=$(stat -c %s "$MAIN_LOG")
	office_round 10 "$mm" "$me"
	same "with the main registry down, 10 office visitors get the manifest" 10 "$OK200"
	same "... all from the edge" 10 "$AT_EDGE"
	t_skopeo_copy "skopeo pulls team/app:v1 through the office port from the edge's cache" \
		--src-tls-verify=false "docker://127.0.0.1:$PUB_OFFICE/team/app:v1" \
		"oci:$T_DIR/office:latest"
	same "... with the main registry's digest" "$want" \
		"$(jq -r '.manifests[0].digest' "$T_DIR/office/index.json" 2>/dev/null)"
}

body() {
	t_require_tools skopeo jq curl openssl || return 1
	t_images edge || return 1
	relay_start || return 1
	main_start || return 1
	edge_start || return 1
	test_pull_through_tunnel
	test_office_split
	test_edge_refuses_push
	test_main_down
	t_use_instance EDGE
	t_check "the edge stops" t_stop
	t_use_instance RELAY
	t_check "the relay stops" t_stop
}

t_run_modes body
t_summary
