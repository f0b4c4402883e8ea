#!/bin/bash
# test_audit_file.sh — master's side of the audit log with the real binaries: audit.file
# is opened by master and handed to authd, which holds it (httpd never does).
#
# What it tests (as root, then again as an ordinary user):
#   - start creates audit.file with mode 0640; authd holds it open, httpd does not
#   - logrotate's way: rename the file, `regmaster reload`: a new file is made and
#     authd holds the new one, not the renamed one; authd was not restarted
#   - audit.file emptied on reload: authd lets go of the file and keeps running
#   - audit.file a symbolic link: start refuses (O_NOFOLLOW) and says which file
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

# write_conf AUDIT: the instance's config with audit.file AUDIT.
write_conf() {
	t_write_config "$T_CONF"
	printf 'audit = { file = "%s"; };\n' "$1" >>"$T_CONF"
}

# holds WORKER PATH: WORKER has PATH open (its descriptors name it).
holds() {
	local pid fd
	t_status >/dev/null
	pid=$(t_worker_pid "$1")
	[ -n "$pid" ] || return 1
	for fd in "/proc/$pid/fd/"*; do
		[ "$(readlink -- "$fd" 2>/dev/null)" = "$2" ] && return 0
	done
	return 1
}

# reload: `regmaster reload`, then let master and authd take the new file.
reload() {
	t_rm reload
	sleep 0.5
}

body() {
	local log pid
	t_init audit || return 1
	log=$T_DIR/audit.log
	write_conf "$log"
	t_start || { fail "start with audit.file" "$T_OUT"; return 1; }
	t_check "start creates audit.file" test -f "$log"
	t_check "with mode 0640" test "$(stat -c %a "$log")" = 640
	t_check "authd holds it" t_wait_until 5 holds authd "$log"
	t_check "httpd does not" t_not holds httpd "$log"
	t_status >/dev/null
	pid=$(t_worker_pid authd)
	mv -- "$log" "$log.1"
	reload
	t_check "reload after a rename makes a new audit.file" test -f "$log"
	t_check "authd holds the new file" t_wait_until 5 holds authd "$log"
	t_check "and has let go of the renamed one" t_wait_until 5 t_not holds authd "$log.1"
	t_status >/dev/null
	t_check "authd was not restarted" test "$(t_worker_pid authd)" = "$pid"
	write_conf ""
	reload
	t_check "audit.file emptied on reload: authd lets go" \
		t_wait_until 5 t_not holds authd "$log"
	t_status >/dev/null
	t_check "and keeps running" test "$(t_worker_pid authd)" = "$pid"
	t_stop
	ln -s -- "$log.1" "$T_DIR/link.log"
	write_conf "$T_DIR/link.log"
	t_rm start
	t_check "start refuses an audit.file that is a symbolic link" test "$T_RC" -ne 0
	t_check "and names it" grep -q "link.log" <<<"$T_OUT"
}

t_run_modes body
t_summary
