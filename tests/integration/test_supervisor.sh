#!/bin/bash
# test_supervisor.sh — regmaster as a supervisor, end to end, with the real binaries.
#
# What it tests (as root: with privilege separation, then again as an ordinary user):
#   - GET /v2/ answers 200, body {}, Docker-Distribution-API-Version: registry/2.0
#   - `status` lists all five workers running; master's PID matches the pidfile
#   - root: each worker runs as its own user (all four uids), its own group, CapEff 0,
#     NoNewPrivs 1, chrooted (httpd: run_dir/empty, tunneld: run_dir/tunneld; storaged, gcd: storage
#     root; authd: auth dir); user mode: the invoking uid, no chroot
#   - a second `start` fails with a clear message and leaves the first one serving
#   - `check` accepts the valid config
#   - `reload` keeps serving, master's PID unchanged
#   - storaged killed: /v2/ fails only with 5xx, then recovers
#   - kill -9 of each worker: respawned within T_RESTART_TIMEOUT (2 s) with a new PID
#     and restarts+1, /v2/ answers 200 again
#   - a worker that keeps failing at start is throttled, not respawned in a tight loop,
#     and the rest keeps serving
#   - `stop` leaves no process behind; then `status` and `stop` exit 3
#   - bad configs (unknown key, bad bool, bad listen address, syntax error): `check`
#     exits 1 and `start` fails, both naming regmaster.conf:LINE; nothing starts
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

# ---------------------------------------------------------------- running instance

# test_v2: the API root answers as the Distribution spec says.
test_v2() {
	local hdr=$T_DIR/v2.hdr body=$T_DIR/v2.body code
	code=$(curl -s --max-time 5 -D "$hdr" -o "$body" -w '%{http_code}' "$T_URL/v2/")
	if [ "$code" = 200 ]; then ok "GET /v2/ answers 200"; else fail "GET /v2/ answers 200" "got $code"; fi
	if tr -d '\r' <"$hdr" | grep -qi '^Docker-Distribution-API-Version: *registry/2\.0 *$'; then
		ok "/v2/ sends Docker-Distribution-API-Version: registry/2.0"
	else
		fail "/v2/ sends Docker-Distribution-API-Version: registry/2.0" "$(cat "$hdr")"
	fi
	# Allow only a trailing newline after the {}.
	if [ "$(tr -d '\r\n' <"$body")" = '{}' ]; then
		ok "/v2/ body is {}"
	else
		fail "/v2/ body is {}" "body: $(head -c 200 "$body")"
	fi
}

# test_status_lists_workers: status format and every worker running.
test_status_lists_workers() {
	local w pid mpid
	if t_status; then ok "status exits 0 while running"; else fail "status exits 0 while running" "rc $T_RC" "$T_OUT"; fi
	mpid=$(t_status_master_pid)
	if [ -n "$mpid" ] && [ "$mpid" = "$(t_pidfile_pid)" ] && t_is_ours "$mpid"; then
		ok "status first line names the master PID of the pidfile"
	else
		fail "status first line names the master PID of the pidfile" "pidfile: $(t_pidfile_pid)" "$T_STATUS"
	fi
	case $(t_cmdline "$mpid") in
	"regmaster: master"*) ok "master's title is 'regmaster: master'" ;;
	*) fail "master's title is 'regmaster: master'" "cmdline: $(t_cmdline "$mpid")" ;;
	esac
	for w in $T_WORKERS; do
		pid=$(t_worker_pid "$w")
		if [ -n "$pid" ] && [ "$(t_worker_field "$w" state)" = running ] &&
			printf '%s\n' "$T_STATUS" | grep -qE "^$w pid=[0-9]+ uptime=[0-9]+s restarts=[0-9]+ state=running\$"; then
			ok "status lists $w running"
		else
			fail "status lists $w running" "$T_STATUS"
			continue
		fi
		case $(t_cmdline "$pid") in
		"regmaster: $w"*) ok "$w's title is 'regmaster: $w'" ;;
		*) fail "$w's title is 'regmaster: $w'" "cmdline of $pid: $(t_cmdline "$pid")" ;;
		esac
	done
}

# expected_root NAME: the directory worker NAME must be chrooted to, as root.
expected_root() {
	case $1 in
	httpd) realpath -m -- "$T_RUN/empty" ;;
	tunneld) realpath -m -- "$T_RUN/tunneld" ;;
	storaged | gcd) realpath -m -- "$T_STORE" ;;
	authd) realpath -m -- "$T_AUTH" ;;
	esac
}

# check_ids PID FIELD WANT: all four ids of a Uid:/Gid: line equal WANT.
check_ids() {
	[ "$(t_proc_status "$1" "$2")" = "$3 $3 $3 $3" ]
}

# test_privsep_root: each worker's credentials, capabilities and chroot.
test_privsep_root() {
	local w pid user uid gid root want
	t_status
	for w in $T_WORKERS; do
		pid=$(t_worker_pid "$w")
		user=regmaster-$w
		if ! uid=$(id -u "$user" 2>/dev/null); then
			fail "user $user exists" "start should create it"
			continue
		fi
		gid=$(id -g "$user")
		if [ -z "$pid" ] || [ ! -r "/proc/$pid/status" ]; then
			fail "$w has a live PID in status" "$T_STATUS"
			continue
		fi
		if check_ids "$pid" Uid "$uid"; then ok "$w runs as $user (uid $uid, all four)"; else
			fail "$w runs as $user (uid $uid, all four)" "Uid: $(t_proc_status "$pid" Uid)"
		fi
		if check_ids "$pid" Gid "$gid"; then ok "$w runs with group $gid (all four)"; else
			fail "$w runs with group $gid (all four)" "Gid: $(t_proc_status "$pid" Gid)"
		fi
		# Supplementary groups must not keep root's (setgroups was called).
		case " $(t_proc_status "$pid" Groups) " in
		*" 0 "*) fail "$w has no root supplementary group" "Groups: $(t_proc_status "$pid" Groups)" ;;
		*) ok "$w has no root supplementary group" ;;
		esac
		if [ "$(t_proc_status "$pid" CapEff)" = 0000000000000000 ] &&
			[ "$(t_proc_status "$pid" CapPrm)" = 0000000000000000 ]; then
			ok "$w has no capabilities"
		else
			fail "$w has no capabilities" "CapEff: $(t_proc_status "$pid" CapEff) CapPrm: $(t_proc_status "$pid" CapPrm)"
		fi
		if [ "$(t_proc_status "$pid" NoNewPrivs)" = 1 ]; then ok "$w has NoNewPrivs"; else
			fail "$w has NoNewPrivs" "NoNewPrivs: $(t_proc_status "$pid" NoNewPrivs)"
		fi
		root=$(readlink "/proc/$pid/root")
		want=$(expected_root "$w")
		if [ "$root" = "$want" ]; then ok "$w is chrooted to $want"; else
			fail "$w is chrooted to $want" "root is '$root'"
		fi
	done
	pid=$(t_pidfile_pid)
	if [ -n "$pid" ] && check_ids "$pid" Uid 0; then ok "master stays root"; else
		fail "master stays root" "Uid: $(t_proc_status "$pid" Uid)"
	fi
}

# test_privsep_user: started by an ordinary user, everything runs as that user, unjailed.
test_privsep_user() {
	local w pid uid root
	uid=$(id -u)
	t_status
	for w in $T_WORKERS; do
		pid=$(t_worker_pid "$w")
		if [ -z "$pid" ] || [ ! -r "/proc/$pid/status" ]; then
			fail "$w has a live PID in status" "$T_STATUS"
			continue
		fi
		if check_ids "$pid" Uid "$uid"; then ok "$w runs as the invoking user ($uid)"; else
			fail "$w runs as the invoking user ($uid)" "Uid: $(t_proc_status "$pid" Uid)"
		fi
		# Reading /proc/PID/root needs the worker to stay dumpable in this mode.
		if root=$(readlink "/proc/$pid/root" 2>&1) && [ "$root" = / ]; then
			ok "$w is not chrooted"
		else
			fail "$w is not chrooted" "readlink /proc/$pid/root: $root"
		fi
	done
}

# test_double_start: a second master must refuse and leave the first one alone.
test_double_start() {
	local pid
	pid=$(t_pidfile_pid)
	if t_rm start; then
		fail "second start fails" "exit 0; output: $T_OUT"
	else
		ok "second start fails (exit $T_RC)"
	fi
	if printf '%s\n' "$T_OUT" | grep -qiE 'already|running'; then
		ok "second start says regmaster is already running"
	else
		fail "second start says regmaster is already running" "output: $T_OUT"
	fi
	if [ "$(t_pidfile_pid)" = "$pid" ] && t_is_ours "$pid" && t_http_is 200 "$T_URL/v2/"; then
		ok "first master keeps its pidfile and keeps serving"
	else
		fail "first master keeps its pidfile and keeps serving" "pid was $pid, pidfile $(t_pidfile_pid)"
	fi
}

# test_check_valid: the test's own config passes `check`.
test_check_valid() {
	if t_rm check; then ok "check accepts a valid config"; else
		fail "check accepts a valid config" "exit $T_RC" "$T_OUT"
	fi
}

# test_reload: SIGHUP path; no gap in service, same master.
test_reload() {
	local pid i bad=""
	pid=$(t_pidfile_pid)
	if t_rm reload; then ok "reload exits 0"; else fail "reload exits 0" "exit $T_RC" "$T_OUT"; fi
	for ((i = 0; i < 10; i++)); do
		t_http_is 200 "$T_URL/v2/" || bad="$bad $(t_http_code "$T_URL/v2/")@$i"
		sleep 0.2
	done
	if [ -z "$bad" ]; then ok "/v2/ keeps answering 200 across reload"; else
		fail "/v2/ keeps answering 200 across reload" "non-200 probes:$bad"
	fi
	t_status
	if [ "$(t_pidfile_pid)" = "$pid" ] && [ "$(t_status_master_pid)" = "$pid" ] && t_is_ours "$pid"; then
		ok "master PID unchanged by reload"
	else
		fail "master PID unchanged by reload" "before $pid, pidfile $(t_pidfile_pid)" "$T_STATUS"
	fi
	if t_wait_until 5 t_all_running; then ok "all workers running after reload"; else
		fail "all workers running after reload" "$T_STATUS"
	fi
}

# uptime_at_least NAME SECONDS: worker NAME has been up that long (fresh status).
uptime_at_least() {
	local up
	t_status || return 1
	up=$(t_worker_field "$1" uptime)
	[ -n "$up" ] && [ "$up" -ge "$2" ]
}

# respawned NAME OLDPID: status shows NAME with a PID other than OLDPID.
respawned() {
	local pid
	t_status || return 1
	pid=$(t_worker_pid "$1")
	[ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$2" ]
}

# title_is PID NAME: the process has set its title to "regmaster: NAME".
title_is() { case $(t_cmdline "$1") in "regmaster: $2"*) return 0 ;; esac; return 1; }

# test_kill_worker NAME: kill -9 and watch master bring it back.
test_kill_worker() {
	local w=$1 old restarts t0 t1 new newr
	# A worker killed right after a (re)start may count as failing at start and be
	# backed off; let it run a moment first.
	t_wait_until 5 uptime_at_least "$w" 1
	old=$(t_worker_pid "$w")
	restarts=$(t_worker_field "$w" restarts)
	if [ -z "$old" ] || ! title_is "$old" "$w"; then
		fail "$w: live PID before kill -9" "$T_STATUS"
		return
	fi
	t0=$(t_now_ms)
	kill -KILL "$old"
	if t_wait_until "$T_RESTART_TIMEOUT" respawned "$w" "$old"; then
		t1=$(t_now_ms)
		ok "$w respawned after kill -9 within ${T_RESTART_TIMEOUT} s ($((t1 - t0)) ms)"
	else
		fail "$w respawned after kill -9 within ${T_RESTART_TIMEOUT} s" "$T_STATUS"
		# Give it more time so the next tests do not all fail for this one reason.
		t_wait_until 5 respawned "$w" "$old"
	fi
	new=$(t_worker_pid "$w")
	newr=$(t_worker_field "$w" restarts)
	if [ -n "$newr" ] && [ -n "$restarts" ] && [ "$newr" -ge $((restarts + 1)) ]; then
		ok "$w restarts counter went from $restarts to $newr"
	else
		fail "$w restarts counter incremented" "before '$restarts', after '$newr'"
	fi
	if t_wait_until 3 title_is "$new" "$w"; then ok "$w new PID $new is a live 'regmaster: $w'"; else
		fail "$w new PID $new is a live 'regmaster: $w'" "cmdline: $(t_cmdline "$new")"
	fi
	if t_wait_http "$T_URL/v2/" 200 5; then ok "/v2/ answers 200 after $w respawn"; else
		fail "/v2/ answers 200 after $w respawn" "last code $(t_http_code "$T_URL/v2/")"
	fi
	t_wait_until 5 t_all_running
}

# squeeze CODES...: "503 503 503 200" -> "503x3 200", to keep failure output readable.
squeeze() { printf '%s\n' "$@" | uniq -c | awk '{ printf "%s%s", (NR > 1 ? " " : ""), ($1 > 1 ? $2 "x" $1 : $2) }'; }

# test_storaged_outage: while storaged is down /v2/ may only fail with 5xx, and it
# comes back without anyone touching httpd.
test_storaged_outage() {
	local pid codes="" code i deadline seen5xx=0 bad=""
	t_wait_until 5 uptime_at_least storaged 1
	pid=$(t_worker_pid storaged)
	[ -n "$pid" ] || {
		fail "storaged has a PID before the outage" "$T_STATUS"
		return
	}
	kill -KILL "$pid"
	deadline=$(($(t_now_ms) + 8000))
	for ((i = 0; i < 200; i++)); do
		code=$(t_http_code "$T_URL/v2/")
		codes="$codes $code"
		case $code in
		200) break ;;
		5??) seen5xx=1 ;;
		*) bad="$bad $code" ;;
		esac
		[ "$(t_now_ms)" -ge "$deadline" ] && break
		sleep 0.05
	done
	if [ "$code" = 200 ]; then ok "/v2/ recovers after storaged is killed"; else
		# shellcheck disable=SC2086 # split the code list on purpose
		fail "/v2/ recovers after storaged is killed" "codes: $(squeeze $codes)"
	fi
	if [ -z "$bad" ]; then ok "/v2/ fails only with 5xx while storaged is down"; else
		# shellcheck disable=SC2086
		fail "/v2/ fails only with 5xx while storaged is down" "codes: $(squeeze $codes)"
	fi
	# shellcheck disable=SC2086
	[ "$seen5xx" = 1 ] && t_diag "codes during the outage: $(squeeze $codes)"
	t_wait_until 5 t_all_running
}

# test_stop: stop takes everything down and says so afterwards.
test_stop() {
	local pids left
	t_status
	pids=$(cut -d' ' -f1 <"$T_DIR/pids" | tr '\n' ' ')
	if t_rm stop; then ok "stop exits 0"; else fail "stop exits 0" "exit $T_RC" "$T_OUT"; fi
	# stop promises to return only after every process exited: no grace period here.
	left=$(t_leftovers | tr '\n' ' ')
	if [ -z "${left// /}" ]; then ok "stop leaves no regmaster process behind"; else
		fail "stop leaves no regmaster process behind" "recorded: $pids" "still alive: $left"
		local p
		for p in $left; do t_diag "$p: $(t_cmdline "$p")"; done
	fi
	if t_port_in_use "$T_PORT"; then fail "port $T_PORT closed after stop"; else
		ok "port $T_PORT closed after stop"
	fi
	t_rm status
	if [ "$T_RC" -eq 3 ]; then ok "status exits 3 after stop"; else
		fail "status exits 3 after stop" "exit $T_RC" "$T_OUT"
	fi
	t_rm stop
	if [ "$T_RC" -eq 3 ]; then ok "stop exits 3 when not running"; else
		fail "stop exits 3 when not running" "exit $T_RC" "$T_OUT"
	fi
}

# suite_running: the tests that share one running instance.
suite_running() {
	local w
	t_init supervisor || return
	if t_start; then ok "start exits 0"; else
		fail "start exits 0" "exit $T_RC" "$T_OUT"
		return
	fi
	if t_wait_http "$T_URL/v2/" 200 10; then ok "/v2/ reachable after start"; else
		fail "/v2/ reachable after start" "code $(t_http_code "$T_URL/v2/")" "$T_STATUS"
	fi
	test_v2
	test_status_lists_workers
	if [ "$T_MODE" = root ]; then test_privsep_root; else test_privsep_user; fi
	test_double_start
	test_check_valid
	test_reload
	test_storaged_outage
	for w in $T_WORKERS; do test_kill_worker "$w"; done
	test_stop
}

# ---------------------------------------------------------------- throttling

# make_failing_libexec DIR NAME: a libexec dir where NAME exits 1 at once and the
# other workers are the real binaries.
make_failing_libexec() {
	local d=$1 bad=$2 w
	mkdir -p "$d" || return 1
	for w in $T_WORKERS; do
		if [ "$w" = "$bad" ]; then
			printf '#!/bin/sh\nexit 1\n' >"$d/$w" && chmod 0755 "$d/$w"
		else
			ln -s -- "$(t_worker_path "$w")" "$d/$w"
		fi
	done
}

# suite_throttle: a worker that fails at every start is backed off, not spun.
suite_throttle() {
	local n state w others_ok=1
	t_init throttle || return
	make_failing_libexec "$T_DIR/libexec" gcd || {
		fail "throttle: build failing libexec dir"
		return
	}
	T_LIBEXEC=$T_DIR/libexec
	t_rm start
	if [ "$T_RC" -eq 0 ]; then ok "throttle: start exits 0 although gcd fails"; else
		fail "throttle: start exits 0 although gcd fails" "exit $T_RC" "$T_OUT"
		return
	fi
	t_record_pid "$(t_pidfile_pid)"
	sleep 5
	t_status
	n=$(t_worker_field gcd restarts)
	state=$(t_worker_field gcd state)
	if [ -n "$n" ] && [ "$n" -lt 10 ]; then ok "throttle: gcd restarted only $n times in 5 s"; else
		fail "throttle: gcd restarted fewer than 10 times in 5 s" "restarts '$n'" "$T_STATUS"
	fi
	# Backing off is not giving up: within 5 s the first retries must have happened.
	if [ -n "$n" ] && [ "$n" -ge 1 ]; then ok "throttle: gcd was retried ($n restarts)"; else
		fail "throttle: gcd was retried at least once in 5 s" "restarts '$n'" "$T_STATUS"
	fi
	case $state in
	throttled | starting) ok "throttle: gcd state is $state" ;;
	*) fail "throttle: gcd state is throttled or starting" "state '$state'" "$T_STATUS" ;;
	esac
	for w in httpd storaged authd tunneld; do
		[ "$(t_worker_field "$w" state)" = running ] || others_ok=0
	done
	if [ "$others_ok" = 1 ]; then ok "throttle: the other workers keep running"; else
		fail "throttle: the other workers keep running" "$T_STATUS"
	fi
	if t_wait_http "$T_URL/v2/" 200 5; then ok "throttle: /v2/ still answers 200"; else
		fail "throttle: /v2/ still answers 200" "code $(t_http_code "$T_URL/v2/")"
	fi
	if t_stop && [ -z "$(t_leftovers)" ]; then ok "throttle: stop leaves nothing behind"; else
		fail "throttle: stop leaves nothing behind" "stop exit $T_RC: $T_OUT" "left: $(t_leftovers | tr '\n' ' ')"
	fi
}

# ---------------------------------------------------------------- bad configs

# write_bad_config FILE KIND: a config with one mistake of KIND, each on its own
# line in the middle of the file so the line number is meaningful.
write_bad_config() {
	local f=$1
	{
		printf '# regmaster integration test: bad config (%s)\n' "$2"
		printf 'run_dir = "%s";\n' "$T_RUN"
		printf 'log_level = "debug";\n'
		printf 'http = {\n'
		case $2 in
		unknown-key) printf '  lisen = [ "127.0.0.1:%s" ];   # BAD\n' "$T_PORT" ;;
		bad-listen) printf '  listen = [ "999.1.1.1:99999" ];   # BAD\n' ;;
		*) printf '  listen = [ "127.0.0.1:%s" ];\n' "$T_PORT" ;;
		esac
		printf '};\n'
		printf 'storage = {\n'
		printf '  root = "%s";\n' "$T_STORE"
		case $2 in
		bad-bool) printf '  delete = "maybe";   # BAD\n' ;;
		*) printf '  delete = true;\n' ;;
		esac
		printf '};\n'
		printf 'auth = { dir = "%s"; };\n' "$T_AUTH"
		case $2 in
		syntax) printf 'workers = { httpd = true; storaged = ; };   # BAD\n' ;;
		*) printf 'workers = { httpd = true; storaged = true; authd = true; tunneld = true; gcd = true; };\n' ;;
		esac
	} >"$f"
}

# names_line OUTPUT LINE: OUTPUT mentions regmaster.conf:LINE (and not e.g. :LINE0).
names_line() { printf '%s\n' "$1" | grep -qE "regmaster\.conf:$2([^0-9]|\$)"; }

# test_bad_config KIND: check and start both reject it, naming the line.
test_bad_config() {
	local kind=$1 dir=$T_DIR/bad-$1 conf line
	mkdir -p "$dir"
	conf=$dir/regmaster.conf
	write_bad_config "$conf" "$kind"
	line=$(grep -n '# BAD' "$conf" | cut -d: -f1)
	t_rm_conf "$conf" check
	if [ "$T_RC" -eq 1 ]; then ok "check rejects $kind config (exit 1)"; else
		fail "check rejects $kind config (exit 1)" "exit $T_RC" "$T_OUT"
	fi
	if names_line "$T_OUT" "$line"; then ok "check names regmaster.conf:$line for $kind"; else
		fail "check names regmaster.conf:$line for $kind" "output: $T_OUT"
	fi
	t_rm_conf "$conf" start
	if [ "$T_RC" -ne 0 ]; then ok "start rejects $kind config (exit $T_RC)"; else
		fail "start rejects $kind config" "exit 0; output: $T_OUT"
		t_record_pid "$(t_pidfile_pid)"
		t_stop
	fi
	if names_line "$T_OUT" "$line"; then ok "start names regmaster.conf:$line for $kind"; else
		fail "start names regmaster.conf:$line for $kind" "output: $T_OUT"
	fi
	# Status is asked with the good config of the same run_dir.
	t_rm status
	if [ "$T_RC" -eq 3 ]; then ok "nothing runs after start with $kind config"; else
		fail "nothing runs after start with $kind config" "status exit $T_RC" "$T_OUT"
		t_stop
	fi
}

# suite_bad_configs: every kind of config mistake, against one instance's paths.
suite_bad_configs() {
	local kind
	t_init badconf || return
	for kind in unknown-key bad-bool bad-listen syntax; do test_bad_config "$kind"; done
}

# suite_relay_only: a relay host runs only tunneld: no other worker starts and
# the HTTP port is not even opened.
suite_relay_only() {
	t_init relay || return 1
	cat >"$T_CONF" <<EOF
run_dir = "$T_RUN";
http = { listen = [ "127.0.0.1:$T_PORT" ]; };
storage = { root = "$T_STORE"; };
auth = { dir = "$T_AUTH"; };
workers = { httpd = false; storaged = false; authd = false; gcd = false; tunneld = true; };
EOF
	t_rm start
	t_check "relay only: start exits 0" test "$T_RC" = 0
	# "running" comes with tunneld's first answer to master's ping, a
	# moment after status itself answers
	tunneld_running() { t_status && [ "$(t_worker_field tunneld state)" = running ]; }
	t_wait_until 5 tunneld_running
	t_check "relay only: status lists tunneld running" \
		test "$(t_worker_field tunneld state)" = running
	t_check "relay only: no httpd line in status" \
		test -z "$(printf '%s\n' "$T_STATUS" | grep '^httpd ')"
	t_check "relay only: the HTTP port is not opened" \
		test "$(t_http_code "$T_URL/v2/")" = 000
	t_stop
}

# suite_log_file: a daemon with log_file writes time-stamped lines of master
# and workers there; after the file is moved away, reload makes every process
# write to a new one (log rotation).
suite_log_file() {
	local log pid
	t_init logfile || return 1
	log=$T_DIR/regmaster.log
	cat >"$T_CONF" <<EOF
run_dir = "$T_RUN";
log_file = "$log";
log_level = "debug";
workers = { tunneld = true; };
http = { listen = [ "127.0.0.1:$T_PORT" ]; };
storage = { root = "$T_STORE"; };
auth = { dir = "$T_AUTH"; };
EOF
	t_start || {
		fail "log_file: start" "$T_OUT"
		return 1
	}
	t_wait_http "$T_URL/v2/" 200 10
	t_check "log_file: master's start is logged with a time stamp" \
		grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z regmaster\[[0-9]+\]: info: .*started' "$log"
	t_check "log_file: workers log there too" grep -q ' httpd\[[0-9]*\]: ' "$log"
	mv "$log" "$log.1"
	t_rm reload
	t_wait_until 5 test -s "$log"
	pid=$(t_worker_pid storaged)
	kill -KILL "$pid"
	t_wait_until 5 grep -q 'httpd\[[0-9]*\]: info: .*lost storaged' "$log"
	t_check "log_file: after reload master writes to the new file" \
		grep -q 'regmaster\[[0-9]*\]: .*killed by signal 9' "$log"
	t_check "log_file: after reload workers write to the new file" \
		grep -q 'httpd\[[0-9]*\]: info: .*lost storaged' "$log"
	t_check "log_file: the moved file got no more lines from workers" \
		test -z "$(grep 'lost storaged' "$log.1")"
	t_stop
}

body() {
	suite_running
	suite_throttle
	suite_bad_configs
	suite_relay_only
	suite_log_file
}

t_run_modes body
t_summary
