#!/bin/bash
# test_tunnel_netns.sh — issue 9 across a real network boundary. Two namespaces joined
# by veth (lib.sh ns_pair): the relay in the public one, a registry with its tunnel
# client in the private one, which the public side cannot reach (a firewall drops new
# connections into it). Through the relay's public port, from the public side:
#   - skopeo pushes and pulls a 256 MiB image, digests identical, and the registry
#     behind the tunnel holds what was pushed;
#   - Debian's docker-registry as the local service of a second proxy works too;
#   - 100 visitors at once, one of them reading nothing: the other 99 get every byte,
#     at the speed they have without the silent one and near a lone visitor's.
# Root only (namespaces): skipped, with the reason, otherwise.
# shellcheck disable=SC2154 # T_SAVED_relay_* are set by lib.sh's t_save_instance
set -u
. "$(dirname "$0")/lib.sh"

TOKEN=""
RELAY_LISTEN=""     # NS_PUB_IP:PORT tunnel clients dial
PUB_RM=""           # the relay's public port of the registry proxy
PUB_DR=""           # ... and of the docker-registry proxy
declare -A INST_NS  # the namespace of each instance

# save_instance NAME NS: remember the current instance and the namespace it lives in;
# use_instance NAME makes it current again, its namespace the helpers'.
save_instance() {
	t_save_instance "$1"
	INST_NS[$1]=$2
}
use_instance() {
	t_use_instance "$1"
	t_ns_use "${INST_NS[$1]}"
}

# base_config: what every instance here has (t_init's paths, a log file).
base_config() {
	cat <<EOF
# regmaster integration test instance $T_NAME ($T_MODE mode), namespace ${INST_NS[$T_NAME]:-}
run_dir = "$T_RUN";
log_level = "debug";
log_file = "$T_DIR/regmaster.log";
storage = { root = "$T_STORE"; delete = true; };
auth = { dir = "$T_AUTH"; };
EOF
}

# relay_up: the relay instance in the public namespace (tunneld, and authd for its
# key), its tunnel listener on the veth address, public ports for two proxies.
relay_up() {
	local rl
	t_init relay || return 1
	save_instance relay "$NS_PUB"
	use_instance relay
	rl=$(t_pick_port) && PUB_RM=$(t_pick_port) && PUB_DR=$((PUB_RM + 1)) || return 1
	RELAY_LISTEN=$NS_PUB_IP:$rl
	{
		base_config
		cat <<EOF
http = { listen = [ "127.0.0.1:$T_PORT" ]; };
workers = { httpd = false; storaged = false; gcd = false; authd = true; tunneld = true; };
tunnel = { relay = { listen = [ "$RELAY_LISTEN" ]; token = "$TOKEN";
	ports = "$PUB_RM-$PUB_DR"; }; };
EOF
	} >"$T_CONF"
	# A relay-only host: t_start waits for these workers only.
	T_WORKERS="authd tunneld" t_check "the relay starts in $NS_PUB" t_start || { t_diag "$T_OUT"; return 1; }
	printf '%s\n' "$T_START_OUT" >"$T_DIR/start.out"
	t_check "the relay listens for tunnel clients on $RELAY_LISTEN" \
		t_wait_until 10 ns_tcp_listening "$NS_PUB" "$rl"
}

# relay_fingerprint: the sha256 fingerprint the relay logged for its certificate (start
# prints it before the log file takes over).
relay_fingerprint() {
	cat "$T_SAVED_relay_T_DIR/start.out" "$T_SAVED_relay_T_DIR/regmaster.log" 2>/dev/null |
		grep -oE 'fingerprint sha256:[0-9a-f]{64}' | head -n 1 | cut -d' ' -f2
}

# cert_fingerprint FILE: sha256 of a PEM certificate's DER, as tunnel.client.fingerprint.
cert_fingerprint() {
	printf 'sha256:%s\n' "$(openssl x509 -in "$1" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)"
}

# private_up DR_HOST: the registry and its tunnel client in the private namespace, as
# one instance: proxies "registry" (this httpd) and "dr" (docker-registry at DR_HOST).
private_up() {
	local fp verify
	fp=$(relay_fingerprint)
	same "the relay logs the fingerprint of the certificate it made" \
		"$(cert_fingerprint "$T_SAVED_relay_T_RUN/tunnel-relay.crt")" "$fp" \
		"$(cat "$T_SAVED_relay_T_DIR/start.out")"
	verify="fingerprint = \"$fp\";"
	if [ -z "$fp" ]; then
		t_diag "no fingerprint in the relay's log; the client runs insecure"
		verify="insecure = true;"
	fi
	t_init priv || return 1
	save_instance priv "$NS_PRIV"
	use_instance priv
	{
		base_config
		cat <<EOF
# on every address, so only the firewall keeps the public side out
http = { listen = [ "0.0.0.0:$T_PORT" ]; };
workers = { httpd = true; storaged = true; authd = true; gcd = true; tunneld = true; };
tunnel = { client = { relay = "$RELAY_LISTEN"; token = "$TOKEN"; $verify
	proxies = (
		{ name = "registry"; local = "127.0.0.1:$T_PORT"; remote_port = $PUB_RM; },
		{ name = "dr"; local = "$1"; remote_port = $PUB_DR; }
	); }; };
EOF
	} >"$T_CONF"
	t_check "the registry with its tunnel client starts in $NS_PRIV" t_start || { t_diag "$T_OUT"; return 1; }
	t_check "the registry answers /v2/ inside the private namespace" t_wait_http "$T_URL/v2/" 200 10
}

# pub_code PORT PATH: the HTTP status of a GET from the public namespace.
pub_code() {
	t_ns_use "$NS_PUB"
	t_http_code "http://$NS_PUB_IP:$1$2"
	t_ns_use "${INST_NS[$T_NAME]}"
}
pub_is() { [ "$(pub_code "$1" "$2")" = "$3" ]; }

# pub ARGS...: a command in the public namespace (the visitors' side).
pub() { ip netns exec "$NS_PUB" "$@"; }

# sk DESC ARGS...: t_skopeo_copy DESC ARGS from the public namespace.
sk() {
	local rc
	t_ns_use "$NS_PUB"
	t_skopeo_copy "$@"
	rc=$?
	t_ns_use "${INST_NS[$T_NAME]}"
	return "$rc"
}

# pushed_digest_is REPO TAG DIGEST: the registry, asked inside the private namespace,
# serves REPO:TAG as DIGEST.
pushed_digest_is() {
	head_digest "$1" "$2"
	[ "$GOT" = "$3" ]
}

# roundtrip NAME PORT IMGS IMG REPO: push layout IMG through public port PORT and pull
# it back into a dir:, from the public side; digests of manifest and layers checked.
roundtrip() {
	local name=$1 port=$2 imgs=$3 img=$4 repo=$5 want layout pulled l bad=""
	want=$(img_digest "$imgs" "$img")
	layout=$imgs/$img
	pulled=$T_DIR/pulled-$name
	sk "$name: skopeo pushes $img through the relay's public port" \
		--dest-tls-verify=false "oci:$layout:latest" "docker://$NS_PUB_IP:$port/$repo:v1" || return 1
	rm -rf "$pulled"
	sk "$name: skopeo pulls it back through the relay" --src-tls-verify=false \
		"docker://$NS_PUB_IP:$port/$repo:v1" "dir:$pulled" || return 1
	same "$name: the pulled manifest has the pushed digest" "$want" "$(dg "$pulled/manifest.json")"
	for l in $(jq -r '.layers[].digest' <"$layout/blobs/sha256/${want#sha256:}"); do
		[ "$(dg "$pulled/${l#sha256:}" 2>/dev/null)" = "$l" ] || bad="$bad $l"
	done
	same "$name: every pulled layer is byte for byte the pushed one" "" "${bad# }"
}

# silent_visitor_case IMGS: the 99 + 1 visitors; the blobs are from the big and multi
# images pushed through the registry proxy before.
silent_visitor_case() {
	local imgs=$1 small big single alone with f i
	small=$(jq -r '.layers[2].digest' <"$imgs/multi/blobs/sha256/$(img_digest "$imgs" multi | cut -d: -f2)")
	big=$(jq -r '.layers[0].digest' <"$imgs/big/blobs/sha256/$(img_digest "$imgs" big | cut -d: -f2)")
	f=$T_DIR/visitors
	for i in 1 2 3 4 5; do
		pub timeout -k 5 180 python3 "$T_LIB_DIR/visitors.py" "$NS_PUB_IP" "$PUB_RM" "/v2/tunnel/multi/blobs/$small" 1 \
			>"$f.single.$i" 2>&1
	done
	single=$(cat "$f".single.* | jq -s '[.[] | select(.ok == 1) | .wall] | sort | .[length / 2 | floor] // empty')
	pub timeout -k 5 180 python3 "$T_LIB_DIR/visitors.py" "$NS_PUB_IP" "$PUB_RM" "/v2/tunnel/multi/blobs/$small" 99 \
		>"$f.alone" 2>&1
	pub timeout -k 5 180 python3 "$T_LIB_DIR/visitors.py" --silent "/v2/tunnel/big/blobs/$big" \
		"$NS_PUB_IP" "$PUB_RM" "/v2/tunnel/multi/blobs/$small" 99 >"$f.with" 2>&1
	alone=$(jq -r .wall <"$f.alone" 2>/dev/null)
	with=$(jq -r .wall <"$f.with" 2>/dev/null)
	t_diag "5 MiB blob: one visitor ${single:-?} s; 99 at once ${alone:-?} s; 99 beside a silent one ${with:-?} s"
	same "99 visitors beside a silent one: every body complete and its digest right" 99 \
		"$(jq -r .ok <"$f.with" 2>/dev/null)" "$(cat "$f.with")"
	same "the silent visitor's stream stayed open, stalled, the whole time" true \
		"$(jq -r .silent_open <"$f.with" 2>/dev/null)" "$(cat "$f.with")"
	same "99 visitors without the silent one: every body right" 99 "$(jq -r .ok <"$f.alone" 2>/dev/null)" \
		"$(cat "$f.alone")"
	same "the silent visitor does not slow the 99 (at most 1.5x their time without it, +0.5 s)" yes \
		"$(awk -v a="$alone" -v w="$with" 'BEGIN { if (a > 0 && w > 0 && w <= 1.5 * a + 0.5) print "yes" }')" \
		"without: $alone s, with: $with s"
	same "the 99 move at full speed: their time is under 3x 99 lone visitors' time" yes \
		"$(awk -v s="$single" -v w="$with" 'BEGIN { if (s > 0 && w > 0 && w <= 3 * 99 * s) print "yes" }')" \
		"one visitor: $single s, 99 beside the silent one: $with s"
}

body() {
	local why c imgs
	if why=$(ns_unusable); then
		for c in "the relay publishes a registry of the private namespace" \
			"skopeo push and pull of a 256 MiB image through the relay" \
			"docker-registry as the local service" "99 visitors beside a silent one"; do
			skip "$c" "$why"
		done
		return 0
	fi
	t_require_tools skopeo jq curl python3 "$DOCKER_REGISTRY" || return 1
	TOKEN=$(head -c 32 /dev/urandom | sha256sum | cut -c1-48)
	ns_pair tun || return 1
	relay_up || return 1

	t_init dr || return 1
	save_instance dr "$NS_PRIV"
	use_instance dr
	t_check "docker-registry runs in the private namespace" dr_start "$T_STORE" || return 1
	private_up "$DR_HOST" || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body

	if pub curl -s -o /dev/null --max-time 3 "http://$NS_PRIV_IP:$T_PORT/v2/"; then
		fail "the public side cannot reach the registry directly" "it answered on $NS_PRIV_IP:$T_PORT"
	else
		ok "the public side cannot reach the registry directly"
	fi
	t_check "the relay's public port $PUB_RM answers /v2/ from the registry, from the public side" \
		t_wait_until 20 pub_is "$PUB_RM" /v2/ 200 ||
		t_diag "relay log:" "$(tail -n 15 "$T_SAVED_relay_T_DIR/regmaster.log")" \
			"client log:" "$(tail -n 15 "$T_DIR/regmaster.log")"

	imgs=$T_DIR/imgs
	build_images "$imgs" -b 256 || return 1
	roundtrip registry "$PUB_RM" "$imgs" big tunnel/big
	t_check "the registry behind the tunnel serves tunnel/big:v1 as the pushed digest" \
		pushed_digest_is tunnel/big v1 "$(img_digest "$imgs" big)"
	roundtrip registry-multi "$PUB_RM" "$imgs" multi tunnel/multi

	t_check "the relay's public port $PUB_DR answers /v2/ from docker-registry" \
		t_wait_until 10 pub_is "$PUB_DR" /v2/ 200
	roundtrip docker-registry "$PUB_DR" "$imgs" multi tunnel/dr

	silent_visitor_case "$imgs"
	use_instance dr
	dr_stop
}

body
t_cleanup
t_summary
