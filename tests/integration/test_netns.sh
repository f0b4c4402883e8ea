#!/bin/bash
# test_netns.sh — the namespace harness the tunnel suites stand on (lib.sh ns_*): two
# namespaces joined by veth where the private side reaches the public one and the
# public side cannot reach the private one; everything gone after cleanup. Root only:
# skipped, with the reason, otherwise.
set -u
. "$(dirname "$0")/lib.sh"

CHECKS=(
	"a listener in the private namespace answers the private side itself"
	"the public namespace cannot open a connection to the private side"
	"the private namespace opens a connection to a listener in the public one"
	"the host's own network has none of the namespaces' addresses"
	"cleanup deletes both namespaces and stops what ran in them"
)

body() {
	local why pub priv port pids="" p left=""
	if why=$(ns_unusable); then
		for c in "${CHECKS[@]}"; do skip "$c" "$why"; done
		return 0
	fi
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/regmaster-netns.XXXXXX") || return 1
	T_INSTANCES+=("$T_DIR")
	T_NS_LOG=$T_DIR/ns.log
	ns_pair netns || return 1
	pub=$NS_PUB
	priv=$NS_PRIV
	port=$(t_pick_port)

	ns_tcp_serve "$priv" "$NS_PRIV_IP" "$port"
	pids="$pids $T_BG_PID"
	ns_tcp_serve "$pub" "$NS_PUB_IP" "$port"
	pids="$pids $T_BG_PID"
	t_wait_until 5 ns_tcp_listening "$priv" "$port"
	t_wait_until 5 ns_tcp_listening "$pub" "$port"
	t_check "${CHECKS[0]}" ns_tcp_reaches "$priv" "$NS_PRIV_IP" "$port"
	if ns_tcp_reaches "$pub" "$NS_PRIV_IP" "$port"; then
		fail "${CHECKS[1]}" "$pub reached $NS_PRIV_IP:$port"
	else
		ok "${CHECKS[1]}"
	fi
	t_check "${CHECKS[2]}" ns_tcp_reaches "$priv" "$NS_PUB_IP" "$port"
	if ip -o addr show | grep -qE "${NS_PUB_IP%.*}\.[0-9]+/"; then
		fail "${CHECKS[3]}" "$(ip -o addr show | grep -F "${NS_PUB_IP%.*}.")"
	else
		ok "${CHECKS[3]}"
	fi

	ns_cleanup
	for p in $pids; do
		case $(t_proc_status "$p" State) in '' | Z*) ;; *) left="$left $p" ;; esac
	done
	if ns_gone "$pub" && ns_gone "$priv" && [ -z "$left" ]; then
		ok "${CHECKS[4]}"
	else
		fail "${CHECKS[4]}" "namespaces: $(ip netns list)" "still running:$left"
	fi
	t_bg_stop_all
}

body
t_cleanup
t_summary
