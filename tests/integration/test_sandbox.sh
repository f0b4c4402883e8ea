#!/bin/bash
# test_sandbox.sh — the workers' seccomp filters, in a real running regmaster:
#   - every worker runs with Seccomp: 2 (filter mode) in /proc/PID/status, and a push
#     and pull of a blob work under the filters
#   - a forbidden system call made inside a running worker (gdb makes it call fork, as
#     an exploit would) kills it with SIGSYS: the worker's handler logs "forbidden
#     system call N", master logs "killed by signal 31" and restarts it, and it serves
#   - sandbox.seccomp = false runs the workers without a filter, and says so
# Needs gdb (a test peer: bootstrap --test installs it).
set -u
. "$(dirname "$0")/lib.sh"

LOG=""

# forbidden_call: "NR GDB-EXPR" of a call no worker may make: fork (x86_64), or
# clone (aarch64) with flags SIGCHLD, i.e. a fork.
forbidden_call() {
	case $(uname -m) in
	x86_64) printf '57 (long)syscall(57)\n' ;;
	aarch64) printf '220 (long)syscall(220, 17, 0, 0, 0, 0)\n' ;;
	*) return 1 ;;
	esac
}

# sandbox_config ON: the instance's config with log_file and sandbox.seccomp = ON.
sandbox_config() {
	LOG=$T_DIR/regmaster.log
	t_write_config "$T_CONF"
	printf 'log_file = "%s";\nsandbox = { seccomp = %s; };\n' "$LOG" "$1" >>"$T_CONF"
}

# seccomp_mode PID: the Seccomp: field of a process (0 none, 2 filter).
seccomp_mode() { t_proc_status "$1" Seccomp; }

# every_worker_seccomp MODE: every worker in the last status runs in seccomp MODE.
every_worker_seccomp() {
	local w pid
	for w in $T_WORKERS; do
		pid=$(t_worker_pid "$w")
		[ -n "$pid" ] && [ "$(seccomp_mode "$pid")" = "$1" ] || return 1
	done
}

# push_pull_blob: upload a small blob monolithically and read it back.
push_pull_blob() {
	local body="sandboxed blob $T_MODE $RANDOM" dg loc code got
	dg=sha256:$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
	loc=$(curl -s -D - -o /dev/null --max-time 5 -X POST "$T_URL/v2/sb/blobs/uploads/" |
		tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
	[ -n "$loc" ] || return 1
	case $loc in http*) ;; *) loc=$T_URL$loc ;; esac
	case $loc in *\?*) loc="$loc&digest=$dg" ;; *) loc="$loc?digest=$dg" ;; esac
	code=$(printf '%s' "$body" | curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
		-X PUT -H 'Content-Type: application/octet-stream' --data-binary @- "$loc")
	[ "$code" = 201 ] || return 1
	got=$(curl -s --max-time 5 "$T_URL/v2/sb/blobs/$dg")
	[ "$got" = "$body" ]
}

# restarted W OLD: status shows worker W running under a pid other than OLD.
restarted() {
	local pid
	t_status >/dev/null 2>&1
	pid=$(t_worker_pid "$1")
	[ -n "$pid" ] && [ "$pid" != "$2" ] && [ "$(t_worker_field "$1" state)" = running ]
}

# kill_by_syscall W: make worker W call fork through gdb; check the death, the log
# lines, the restart under a filter, and that the registry serves again.
kill_by_syscall() {
	local w=$1 pid nr expr new
	read -r nr expr < <(forbidden_call)
	t_status >/dev/null 2>&1
	pid=$(t_worker_pid "$w")
	[ -n "$pid" ] || {
		fail "$w: has a pid before the forbidden call" "$T_STATUS"
		return 1
	}
	timeout -k 5 60 gdb -nx -p "$pid" -batch -ex "call $expr" >"$T_DIR/gdb.$w" 2>&1 </dev/null
	t_wait_until 10 t_not kill -0 "$pid" 2>/dev/null
	t_check "$w: a forbidden call ($nr) ends the worker" t_not kill -0 "$pid" 2>/dev/null
	t_wait_until 10 grep -q "$w\[$pid\]: error: sigsys: forbidden system call $nr\$" "$LOG"
	t_check "$w: its handler logged 'forbidden system call $nr'" \
		grep -q "$w\[$pid\]: error: sigsys: forbidden system call $nr\$" "$LOG"
	t_wait_until 10 grep -q "$w (pid $pid) killed by signal 31" "$LOG"
	t_check "$w: master logged 'killed by signal 31'" \
		grep -q "$w (pid $pid) killed by signal 31" "$LOG"
	t_wait_until 15 restarted "$w" "$pid"
	t_check "$w: restarted" restarted "$w" "$pid"
	new=$(t_worker_pid "$w")
	t_record_pid "$new"
	t_check "$w: the new $w runs under its filter too" \
		test "$(seccomp_mode "$new")" = 2
	t_wait_http "$T_URL/v2/" 200 10
	t_check "$w: the registry serves again" push_pull_blob
}

suite_on() {
	local w
	t_init sandbox || return 1
	sandbox_config true
	t_start || {
		fail "start with sandbox.seccomp = true" "$T_OUT"
		return 1
	}
	t_wait_http "$T_URL/v2/" 200 10
	t_status
	if grep -q 'seccomp filter off: sanitizer build' "$LOG"; then
		# sanitizer builds run unfiltered by design (see lib/sandbox.c)
		t_check "sanitizer build: every worker says its filter is off" \
			test "$(grep -c 'seccomp filter off: sanitizer build' "$LOG")" -eq \
			"$(wc -w <<<"$T_WORKERS")"
		t_stop
		return 0
	fi
	for w in $T_WORKERS; do
		t_check "$w runs with Seccomp: 2" test "$(seccomp_mode "$(t_worker_pid "$w")")" = 2
	done
	t_check "master itself runs without a filter" \
		test "$(seccomp_mode "$(t_status_master_pid)")" = 0
	t_check "a blob is pushed and pulled under the filters" push_pull_blob
	if ! command -v gdb >/dev/null 2>&1; then
		fail "gdb is installed (needed to make a worker do a forbidden call)"
	elif ! forbidden_call >/dev/null; then
		t_diag "no forbidden call known for $(uname -m): kill checks skipped"
	else
		for w in $T_WORKERS; do kill_by_syscall "$w"; done
	fi
	t_check "no other worker died of SIGSYS" \
		test "$(grep -c 'killed by signal 31' "$LOG")" -eq "$(wc -w <<<"$T_WORKERS")"
	t_stop
}

suite_off() {
	t_init sandbox-off || return 1
	sandbox_config false
	t_start || {
		fail "start with sandbox.seccomp = false" "$T_OUT"
		return 1
	}
	t_wait_http "$T_URL/v2/" 200 10
	t_status
	t_check "sandbox.seccomp = false: every worker runs with Seccomp: 0" every_worker_seccomp 0
	t_check "sandbox.seccomp = false: each worker logs that its filter is off" \
		test "$(grep -c 'seccomp filter off (sandbox.seccomp = false)' "$LOG")" -eq \
		"$(wc -w <<<"$T_WORKERS")"
	t_stop
}

body() {
	suite_on
	suite_off
}

t_run_modes body
t_summary
