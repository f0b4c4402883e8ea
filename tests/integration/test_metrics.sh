#!/bin/bash
# test_metrics.sh — issue 10's metrics and health on metrics.listen, end to end.
#
# What it tests:
#   - the metrics listener serves /metrics (text/plain; version=0.0.4), /healthz,
#     /readyz and nothing else (404, 405); the registry API is not served there, nor
#     /metrics on http.listen
#   - counters move with requests: 10 manifest GETs add exactly 10 to
#     registry_http_requests_total{method="GET",route="manifest",code="2xx"}, the
#     duration histogram counts them, a blob GET and an upload move the byte counters,
#     wrong passwords move both auth failure names by exactly their number; routes are
#     kinds, never paths
#   - promtool check metrics passes on the page; promtool check rules/config pass on
#     etc/regmaster-alerts.yml and etc/prometheus.yml
#   - a real Prometheus (its own port, data dir and config, stopped by PID) scrapes the
#     instance: the target is up and sees the same counts
#   - a worker that does not answer (SIGSTOP) is left out after the bounded wait
#     (regmaster_worker_metrics_ok 0) and the page still comes promptly
#   - /readyz answers 503 naming storaged while storaged is stopped (its write probe
#     times out), and 503 once it is killed with SIGKILL twice (watched by a burst of
#     requests: master restarts it at once, then after its backoff), 200 again after
#     master restarted it (regmaster_worker_restarts_total 2)
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
USER_NAME=metrics
USER_PASS=scrape-me-not
PAGE=""

trap 'prom_stop; t_cleanup' EXIT
trap 'prom_stop; t_cleanup; trap - EXIT; exit 130' INT
trap 'prom_stop; t_cleanup; trap - EXIT; exit 143' TERM

# scrape: the metrics page into $PAGE (a file); 1 unless it answers 200.
scrape() {
	PAGE=$T_DIR/metrics.txt
	[ "$(curl -s --max-time 10 -o "$PAGE" -w '%{http_code}' "$T_MURL/metrics")" = 200 ]
}

# mval SERIES: the value of SERIES (name and labels exactly as written) in $PAGE, or
# 0 when the page has no such series (a counter not yet incremented).
mval() {
	awk -v s="$1" 'index($0, s " ") == 1 { print $2; found = 1; exit }
		END { if (!found) print 0 }' "$PAGE"
}

# push_image REPO TAG: an empty config blob and a manifest naming it; sets MDIGEST.
push_image() {
	local cfg=$T_DIR/config.json man=$T_DIR/manifest.json
	printf '{}' >"$cfg"
	req POST "/v2/$1/blobs/uploads/?digest=$(dg "$cfg")" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$cfg"
	[ "$CODE" = 201 ] || return 1
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":2},"layers":[]}' \
		"$MT_MANIFEST" application/vnd.oci.image.config.v1+json "$(dg "$cfg")" >"$man"
	req PUT "/v2/$1/manifests/$2" -H "Content-Type: $MT_MANIFEST" --data-binary "@$man"
	MDIGEST=$(dg "$man")
	[ "$CODE" = 201 ]
}

test_listener() {
	local ctype
	req GET "$T_MURL/healthz"
	is_code "/healthz answers 200" 200
	same "/healthz says ok" ok "$(cat "$BODY")"
	req GET "$T_MURL/readyz"
	is_code "/readyz answers 200 with every worker up" 200
	req GET "$T_MURL/metrics"
	is_code "/metrics answers 200" 200
	ctype=$(hval Content-Type)
	case $ctype in
	"text/plain; version=0.0.4"*) ok "/metrics is text/plain; version=0.0.4" ;;
	*) fail "/metrics is text/plain; version=0.0.4" "got: $ctype" ;;
	esac
	req HEAD "$T_MURL/metrics"
	is_code "HEAD /metrics answers 200" 200
	req GET "$T_MURL/v2/"
	is_code "the registry API is not served on the metrics listener" 404
	req GET "$T_MURL/other"
	is_code "other paths are 404 on the metrics listener" 404
	req POST "$T_MURL/metrics"
	is_code "POST /metrics is 405" 405
	req GET /metrics
	is_code "/metrics is not served on http.listen" 404
}

test_counters() {
	local s=registry_http_requests_total h=registry_http_request_duration_seconds
	local lab='{method="GET",route="manifest",code="2xx"}' before hbefore pulled pushed i
	if push_image metrics/one v1; then ok "push a small image"; else
		fail "push a small image" "$(what)"
		return 1
	fi
	scrape || fail "scrape before the GETs"
	before=$(mval "$s$lab")
	hbefore=$(mval "${h}_count$lab")
	pulled=$(mval registry_blob_bytes_pulled_total)
	pushed=$(mval registry_blob_bytes_pushed_total)
	for ((i = 0; i < 10; i++)); do
		req GET /v2/metrics/one/manifests/v1 -H "Accept: $MT_MANIFEST"
	done
	req GET "/v2/metrics/one/blobs/$(dg "$T_DIR/config.json")"
	scrape || fail "scrape after the GETs"
	same "10 manifest GETs add 10 to $s$lab" "$((before + 10))" "$(mval "$s$lab")"
	same "the duration histogram counted them" "$((hbefore + 10))" "$(mval "${h}_count$lab")"
	if [ "$(mval "${h}_bucket{method=\"GET\",route=\"manifest\",code=\"2xx\",le=\"+Inf\"}")" = \
		"$((hbefore + 10))" ]; then ok "the +Inf bucket holds every observation"; else
		fail "the +Inf bucket holds every observation" "$(grep "${h}_bucket" "$PAGE" | head -20)"
	fi
	same "a 2-byte blob GET adds 2 pulled bytes" "$((pulled + 2))" \
		"$(mval registry_blob_bytes_pulled_total)"
	if [ "$(mval registry_blob_bytes_pushed_total)" -ge "$((pushed + 0))" ] &&
		[ "$(mval registry_blob_bytes_pushed_total)" -ge 2 ]; then
		ok "the upload counted its pushed bytes"
	else
		fail "the upload counted its pushed bytes" "$(grep bytes_pushed "$PAGE")"
	fi
	if grep -q 'metrics/one' "$PAGE"; then
		fail "routes are kinds, never paths" "$(grep 'metrics/one' "$PAGE" | head -3)"
	else ok "routes are kinds, never paths"; fi
	same "storaged counts the repository" 1 "$(mval registry_store_repositories)"
	same "nothing is in flight but the scrape's own (not counted)" 0 \
		"$(mval registry_http_in_flight_requests)"
}

test_promtool() {
	local out
	scrape || fail "scrape for promtool"
	if out=$(promtool check metrics <"$PAGE" 2>&1); then
		ok "promtool check metrics passes on the page"
	else
		fail "promtool check metrics passes on the page" "$out"
	fi
	if out=$(cd "$top_srcdir/etc" && promtool check rules regmaster-alerts.yml 2>&1); then
		ok "promtool check rules passes on etc/regmaster-alerts.yml"
	else
		fail "promtool check rules passes on etc/regmaster-alerts.yml" "$out"
	fi
	if out=$(cd "$top_srcdir/etc" && promtool check config prometheus.yml 2>&1); then
		ok "promtool check config passes on etc/prometheus.yml"
	else
		fail "promtool check config passes on etc/prometheus.yml" "$out"
	fi
}

test_prometheus() {
	local lab='{method="GET",route="manifest",code="2xx"}' want
	prom_start "127.0.0.1:$T_MPORT" || return 1
	if t_wait_until 20 prom_value_is 'up{job="regmaster"}' 1; then
		ok "Prometheus scrapes the target: up is 1"
	else
		fail "Prometheus scrapes the target: up is 1" \
			"$(curl -s "$PROM_URL/api/v1/targets" | head -c 1500)"
	fi
	scrape || fail "scrape before Prometheus' view"
	want=$(( $(mval "registry_http_requests_total$lab") + 10 ))
	for ((i = 0; i < 10; i++)); do
		req GET /v2/metrics/one/manifests/v1 -H "Accept: $MT_MANIFEST"
	done
	if t_wait_until 15 prom_value_is "registry_http_requests_total$lab" "$want"; then
		ok "Prometheus sees the 10 further GETs ($want in all)"
	else
		fail "Prometheus sees the 10 further GETs" "want $want" \
			"got $(prom_value "registry_http_requests_total$lab")"
	fi
	if [ "$(prom_value "registry_http_request_duration_seconds_count$lab")" = "$want" ]; then
		ok "Prometheus has the histogram's observations"
	else
		fail "Prometheus has the histogram's observations" \
			"$(prom_value "registry_http_request_duration_seconds_count$lab")"
	fi
	prom_stop
}

test_auth_failures() {
	local a b
	scrape || fail "scrape before the failed logins"
	a=$(mval registry_auth_failure_total)
	same "a wrong password is refused" 401 \
		"$(curl -s -o /dev/null -w '%{http_code}' -u "$USER_NAME:wrong" "$T_URL/v2/")"
	same "an unknown user is refused" 401 \
		"$(curl -s -o /dev/null -w '%{http_code}' -u nobody:wrong "$T_URL/v2/")"
	scrape || fail "scrape after the failed logins"
	b=$(mval registry_auth_failure_total)
	same "two failed logins add 2 to registry_auth_failure_total" "$((a + 2))" "$b"
	same "registry_auth_failure_count says the same" "$b" \
		"$(mval registry_auth_failure_count)"
}

# serve_with_user: the instance with one user (the registry wants a login, the
# metrics listener never does); the API requests log in.
serve_with_user() {
	t_init metrics || return 1
	htpasswd -B -C 5 -b -c "$T_AUTH/htpasswd" "$USER_NAME" "$USER_PASS" 2>/dev/null || {
		fail "htpasswd -B writes the user file"
		return 1
	}
	sed -i "s|^auth = { dir = \"$T_AUTH\"; };|auth = { dir = \"$T_AUTH\"; htpasswd = \"$T_AUTH/htpasswd\"; };|" \
		"$T_CONF"
	grep -q 'htpasswd = ' "$T_CONF" || { fail "the config names the user file"; return 1; }
	T_CURL_ARGS=(-u "$USER_NAME:$USER_PASS")
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	t_start || { fail "start regmaster" "$T_OUT"; return 1; }
	t_wait_http "$T_MURL/readyz" 200 10 || fail "/readyz answers 200 within 10 s"
}

# A stopped worker cannot answer: the page comes after the bounded wait without it.
test_hung_worker() {
	local pid t0 t1
	t_status
	pid=$(t_worker_pid gcd)
	[ -n "$pid" ] || { fail "gcd's pid from status" "$T_STATUS"; return 1; }
	kill -STOP "$pid"
	t0=$(t_now_ms)
	scrape || fail "scrape with gcd stopped"
	t1=$(t_now_ms)
	kill -CONT "$pid"
	same "a stopped gcd is left out: metrics_ok 0" 0 \
		"$(mval 'regmaster_worker_metrics_ok{worker="gcd"}')"
	same "the others are in" 1 "$(mval 'regmaster_worker_metrics_ok{worker="httpd"}')"
	if [ $((t1 - t0)) -lt 3000 ]; then ok "the page came within 3 s ($((t1 - t0)) ms)"; else
		fail "the page came within 3 s" "$((t1 - t0)) ms"
	fi
	t_wait_until 5 scrape_has 'regmaster_worker_metrics_ok{worker="gcd"}' 1 &&
		ok "gcd is back on the page once resumed" ||
		fail "gcd is back on the page once resumed" "$(grep metrics_ok "$PAGE")"
}

# scrape_has SERIES VALUE: a fresh scrape shows SERIES at VALUE.
scrape_has() { scrape && [ "$(mval "$1")" = "$2" ]; }

# readyz_burst N FILE: N GET /readyz over one kept-alive connection, a status a line.
readyz_burst() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf 'url = "%s/readyz"\noutput = "/dev/null"\n' "$T_MURL"
	done >"$2.cfg"
	curl -s --max-time 60 -w '%{http_code}\n' -K "$2.cfg" >"$2" 2>/dev/null
}

# storaged_pid_is_not PID: status shows a running storaged other than PID.
storaged_pid_is_not() {
	local p
	t_status
	p=$(t_worker_pid storaged)
	# a worker being restarted shows pid 0: `kill 0` would hit our own
	# process group, so only a real, new pid counts
	case $p in '' | *[!0-9]* | 0 | 1) return 1 ;; esac
	[ "$p" != "$1" ] && [ "$(t_worker_field storaged state)" = running ]
}

test_readyz() {
	local pid pid2 seq=$T_DIR/readyz.seq poller t0 n503
	t_status
	pid=$(t_worker_pid storaged)
	[ -n "$pid" ] || { fail "storaged's pid from status" "$T_STATUS"; return 1; }
	# master restarts a worker that lived long at once, so the first drop lasts
	# only until the new storaged answers; a second death soon after waits out
	# the restart backoff (100 ms). A burst of requests watches both.
	t0=$(t_now_ms)
	readyz_burst 1500 "$seq" &
	poller=$!
	sleep 0.2
	t_is_ours "$pid" && kill -KILL "$pid"
	if t_wait_until 10 storaged_pid_is_not "$pid"; then
		pid2=$(t_worker_pid storaged)
		t_is_ours "$pid2" && kill -KILL "$pid2"
	else
		fail "master restarts storaged after SIGKILL" "$T_STATUS"
	fi
	wait "$poller"
	n503=$(grep -cx 503 "$seq")
	t_diag "readyz burst: $(wc -l <"$seq") requests in $(($(t_now_ms) - t0)) ms, $n503 answered 503"
	if [ "$n503" -gt 0 ]; then ok "/readyz answers 503 once storaged is killed"; else
		fail "/readyz answers 503 once storaged is killed" "$(uniq -c "$seq")"
	fi
	if t_wait_until 20 t_http_is 200 "$T_MURL/readyz"; then
		ok "/readyz answers 200 again after master restarted storaged"
	else
		fail "/readyz answers 200 again after the restart" "$(curl -s "$T_MURL/readyz")"
	fi
	same "/healthz answers 200" 200 "$(t_http_code "$T_MURL/healthz")"
	scrape || fail "scrape after the restart"
	same "regmaster_worker_restarts_total counts both restarts" 2 \
		"$(mval 'regmaster_worker_restarts_total{worker="storaged"}')"
	same "storaged is up again" 1 "$(mval 'regmaster_worker_up{worker="storaged"}')"
}

# A storaged that does not answer (stopped) is not ready: the write probe times out.
test_readyz_hung() {
	local pid
	t_status
	pid=$(t_worker_pid storaged)
	[ -n "$pid" ] || { fail "storaged's pid from status" "$T_STATUS"; return 1; }
	kill -STOP "$pid"
	req GET "$T_MURL/readyz"
	kill -CONT "$pid"
	is_code "/readyz answers 503 while storaged is stopped" 503
	if grep -q storaged "$BODY"; then ok "the 503 names storaged"; else
		fail "the 503 names storaged" "$(what)"
	fi
	t_wait_until 10 t_http_is 200 "$T_MURL/readyz" && ok "ready again once it resumes" ||
		fail "ready again once it resumes" "$(curl -s "$T_MURL/readyz")"
}

# A second instance whose metrics port is taken (by the first) starts anyway,
# says so, and serves the registry; the first keeps its metrics.
test_port_taken() {
	local mport=$T_MPORT murl=$T_MURL
	t_init metrics-b || return 1
	sed -i "s/127.0.0.1:$T_MPORT\"/127.0.0.1:$mport\"/" "$T_CONF"
	# t_start's status poll would replace start's output: start by hand
	if t_rm start; then ok "an instance whose metrics port is taken starts"; else
		fail "an instance whose metrics port is taken starts" "$T_OUT"
		return 1
	fi
	t_record_pid "$(t_pidfile_pid)"
	t_wait_http "$T_URL/v2/" 200 10
	if grep -q "metrics.listen 127.0.0.1:$mport: serving no metrics there" <<<"$T_OUT"; then
		ok "start warns that it serves no metrics there"
	else
		fail "start warns that it serves no metrics there" "$T_OUT"
	fi
	same "that instance serves the registry" 200 "$(t_http_code "$T_URL/v2/")"
	same "the first instance still serves its metrics" 200 "$(t_http_code "$murl/metrics")"
	t_stop
}

body() {
	command -v prometheus >/dev/null && command -v promtool >/dev/null || {
		fail "prometheus and promtool are installed (Debian package prometheus)"
		return 1
	}
	command -v htpasswd >/dev/null || { fail "htpasswd is installed (apache2-utils)"; return 1; }
	serve_with_user || return 1
	test_listener
	test_counters
	test_promtool
	test_auth_failures
	test_prometheus
	test_hung_worker
	test_readyz_hung
	test_readyz
	test_port_taken	# the last: the cleanup stops the first instance
}

t_run_modes body
t_summary
