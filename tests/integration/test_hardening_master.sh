#!/bin/bash
# test_hardening_master.sh — the supervisor's part of issue 6 (hardening), end to end.
#
# What it tests (as root: with privilege separation, then again as an ordinary user):
#   - root: a racer running as storaged's user swaps a repository's root-owned
#     directory with a symlink to a directory outside the store (renameat2
#     RENAME_EXCHANGE) during 20 pushes, each of which makes storaged ask master to
#     repair that directory: no file outside the store changes owner, names vanishing
#     under the walk do not end a repair; a file hard-linked into the store keeps its
#     owner (and is logged); every push is answered; without the racer, a push gives
#     the repository's root-owned entries to storaged
#   - a worker's children do not outlive it: a wrapper httpd leaves one child that
#     escaped with setsid and one orphan; kill -9 of httpd and then `stop` leave none of
#     them alive; root: no process of any worker user is left after stop
#   - run_dir or auth.dir a symlink to a directory: start refuses, naming the symlink,
#     and the target's owner and mode are unchanged; a 0700 auth.dir and run_dir stay
#     0700 and every worker (authd too) runs
#   - a stale pidfile (no lock held) naming a live unrelated process: stop and reload
#     say "not running", exit 3, and signal nothing
#   - root: `status` run by an ordinary user while the root daemon runs says it runs
#     (pid) but needs root, exit 4
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

: "${RACER:=$top_builddir/tests/integration/racer}"
RACE_FILES=${RACE_FILES:-3000}   # entries the walk has to pass while the racer swaps
RACE_STARTS=${RACE_STARTS:-20}   # pushes, each asking for a repair
RACE_BASE=""

# ---------------------------------------------------------------- chown race (root)

# fill_dir DIR N: N empty root-owned 0600 files f0..f(N-1) in DIR.
fill_dir() {
	local i
	mkdir -p "$1" && (cd "$1" && for ((i = 0; i < $2; i++)); do : >"f$i"; done) &&
		chown -R root:root "$1" && chmod 0600 "$1"/f*
}

# race_real_dir: whichever of sha256/ and swap/ in RACE_BASE is the real directory now.
race_real_dir() {
	local n
	for n in sha256 swap; do
		[ -d "$RACE_BASE/$n" ] && [ ! -L "$RACE_BASE/$n" ] && printf '%s\n' "$RACE_BASE/$n"
	done
}

# race_push I: a monolithic upload of a fresh blob into the race repository; its
# layer link goes where the racer swaps. Sets CODE.
race_push() {
	printf 'race blob %s %s' "$1" "$RANDOM$RANDOM" >"$T_DIR/blob"
	CODE=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X POST \
		-H 'Content-Type: application/octet-stream' --data-binary "@$T_DIR/blob" \
		"$T_URL/v2/race/blobs/uploads/?digest=$(dg "$T_DIR/blob")")
}

# race_round I: give the real directory back to root, race one push (which makes
# storaged ask master for a repair of it) against the swaps.
race_round() {
	local real pid
	real=$(race_real_dir)
	[ -n "$real" ] && chown -R -P root:root "$real"
	rm -f "$T_DIR/racer.stop"
	"$RACER" regmaster-storaged "$RACE_BASE" sha256 swap 60 "$T_DIR/racer.stop" \
		>"$T_DIR/racer.out" 2>&1 &
	pid=$!
	sleep 0.2
	race_push "$1"
	: >"$T_DIR/racer.stop"
	wait "$pid"
	printf 'round %s: push %s, %s swaps\n' "$1" "$CODE" "$(cat "$T_DIR/racer.out")" \
		>>"$T_DIR/race.log"
	[ -n "$CODE" ] && [ "$CODE" != 000 ]
}

# suite_chown_race: master's repair on demand walks a repository's directory that
# storaged's user swaps with a symlink to outside the store meanwhile.
suite_chown_race() {
	local outside bad i answered=0 owner real
	t_init race || return
	printf 'log_file = "%s";\n' "$T_DIR/regmaster.log" >>"$T_CONF"
	if [ ! -x "$RACER" ]; then
		fail "chown race: racer helper built ($RACER)" "run make check (check_PROGRAMS)"
		return
	fi
	t_start || {
		fail "chown race: start" "$T_OUT"
		return
	}
	outside=$T_DIR/outside
	RACE_BASE=$T_STORE/docker/registry/v2/repositories/race/_layers
	# Half the names only: a chown through the swapped path may also find nothing
	# there (ENOENT), which must not end the repair either.
	fill_dir "$outside" $((RACE_FILES / 2))
	: >"$T_DIR/hardlinked" && chmod 0600 "$T_DIR/hardlinked"
	fill_dir "$RACE_BASE/sha256" "$RACE_FILES"
	ln "$T_DIR/hardlinked" "$RACE_BASE/sha256/hardlink"
	ln -s "$outside" "$RACE_BASE/swap"
	# the racer, as storaged's user, renames inside _layers: that stays storaged's
	chown -h regmaster-storaged: "$RACE_BASE/.." "$RACE_BASE" "$RACE_BASE/swap"
	for ((i = 1; i <= RACE_STARTS; i++)); do
		race_round "$i" && answered=$((answered + 1))
	done
	t_diag "$(tail -n 3 "$T_DIR/race.log")"
	same "chown race: all $RACE_STARTS pushes are answered while the racer swaps" \
		"$RACE_STARTS" "$answered" "$(cat "$T_DIR/race.log")"
	t_check "chown race: master repaired while the racer swapped" \
		grep -q "gave [0-9]* entries at $RACE_BASE" "$T_DIR/regmaster.log"
	bad=$(find "$outside" ! -user root | head -n 5)
	if [ -z "$bad" ]; then ok "chown race: no file outside the store became storaged's"; else
		fail "chown race: no file outside the store became storaged's" \
			"$(find "$outside" ! -user root | wc -l) of $((RACE_FILES / 2)) changed, e.g.:" \
			"$(echo "$bad" | xargs ls -ln)"
	fi
	owner=$(stat -c %U "$T_DIR/hardlinked")
	same "chown race: a file hard-linked into the store stays root's" root "$owner"
	t_check "chown race: the hard link is logged" \
		grep -q 'hard links: not giving it to storaged' "$T_DIR/regmaster.log"
	# the racer gone: the repository's root-owned entries become storaged's on demand
	real=$(race_real_dir)
	if [ "$real" = "$RACE_BASE/swap" ]; then
		rm -f -- "$RACE_BASE/sha256" && mv -T -- "$real" "$RACE_BASE/sha256"
	fi
	chown -R -P root:root "$RACE_BASE/sha256"
	race_push final
	same "chown race: a push meeting root-owned entries succeeds" 201 "$CODE"
	owner=$(stat -c %U "$RACE_BASE/sha256/f0")
	same "chown race: a root-owned entry of the store still becomes storaged's" \
		regmaster-storaged "$owner"
	t_stop
}

# ---------------------------------------------------------------- orphans

HU=regmaster-th   # this suite's worker users, so pgrep -u sees only this instance's

# write_users_config: the instance config with the suite's own worker users (root).
write_users_config() {
	local w
	printf 'users = {' >>"$T_CONF"
	for w in $T_WORKERS; do printf ' %s = "%s-%s";' "$w" "$HU" "$w" >>"$T_CONF"; done
	printf ' };\n' >>"$T_CONF"
}

# make_forking_libexec DIR: real workers, but httpd first leaves two processes behind
# as its own user: one that escaped into its own session (setsid), one orphaned at
# once (its parent exits), both "sleep 1000", their PIDs appended to DIR/pids.
make_forking_libexec() {
	local d=$1 w drop=""
	mkdir -p "$d" && : >"$d/pids" && chmod 0666 "$d/pids" || return 1
	for w in $T_WORKERS; do
		[ "$w" = httpd ] || ln -s -- "$(t_worker_path "$w")" "$d/$w"
	done
	[ "$T_MODE" = root ] && drop="setpriv --reuid=$HU-httpd --regid=$HU-httpd --clear-groups --"
	cat >"$d/httpd" <<EOF
#!/bin/sh
# test wrapper: a worker that forks before it execs the real httpd
$drop setsid sh -c 'echo \$\$ >>"$d/pids"; exec sleep 1000' </dev/null >/dev/null 2>&1 3>&- &
$drop sh -c 'sleep 1000 </dev/null >/dev/null 2>&1 3>&- & echo \$! >>"$d/pids"' </dev/null >/dev/null 2>&1 3>&-
exec "$(t_worker_path httpd)" "\$@"
EOF
	chmod 0755 "$d/httpd"
}

# is_sleeper PID: PID is a live "sleep 1000" (not a reused PID, not a zombie).
is_sleeper() { [ "$(t_cmdline "$1")" = "sleep 1000" ]; }

# sleepers_alive PIDS...: print those still alive.
sleepers_alive() {
	local p
	for p in "$@"; do is_sleeper "$p" && printf '%s ' "$p"; done
}
none_alive() { [ -z "$(sleepers_alive "$@")" ]; }

# user_procs: processes of this suite's worker users (root mode).
user_procs() {
	local w
	for w in $T_WORKERS; do pgrep -u "$HU-$w" 2>/dev/null; done | tr '\n' ' '
}

suite_orphans() {
	local first old later all
	t_init orphans || return
	[ "$T_MODE" = root ] && write_users_config
	make_forking_libexec "$T_DIR/libexec" || {
		fail "orphans: build the forking libexec dir"
		return
	}
	T_LIBEXEC=$T_DIR/libexec
	t_start || {
		fail "orphans: start" "$T_OUT"
		return
	}
	t_wait_until 10 test "$(wc -l <"$T_DIR/libexec/pids")" -ge 2
	read -r -a first < <(tr '\n' ' ' <"$T_DIR/libexec/pids")
	if [ "${#first[@]}" -ge 2 ] && [ "$(sleepers_alive "${first[@]}")" = "${first[0]} ${first[1]} " ]; then
		ok "orphans: httpd's wrapper left two processes behind (${first[*]})"
	else
		fail "orphans: httpd's wrapper left two processes behind" "pids: ${first[*]}"
	fi
	t_status
	old=$(t_worker_pid httpd)
	kill -KILL "$old"
	t_wait_until 5 respawned httpd "$old"
	if t_wait_until 5 none_alive "${first[@]}"; then
		ok "orphans: kill -9 of httpd takes its escaped and orphaned children along"
	else
		fail "orphans: kill -9 of httpd takes its escaped and orphaned children along" \
			"alive: $(sleepers_alive "${first[@]}")"
	fi
	t_wait_until 10 test "$(wc -l <"$T_DIR/libexec/pids")" -ge 4
	read -r -a all < <(tr '\n' ' ' <"$T_DIR/libexec/pids")
	later=$(sleepers_alive "${all[@]}")
	t_stop
	if none_alive "${all[@]}"; then ok "orphans: stop leaves no child of a worker alive"; else
		fail "orphans: stop leaves no child of a worker alive" "alive after stop: $(sleepers_alive "${all[@]}")" \
			"alive before stop: $later"
	fi
	if [ "$T_MODE" = root ]; then
		same "orphans: no process of any worker user is left after stop" "" "$(user_procs)"
	fi
	# A failing run must not leave them sleeping for a quarter of an hour.
	for old in $(sleepers_alive "${all[@]}"); do kill "$old"; done
}

# respawned NAME OLDPID: status shows NAME with a PID other than OLDPID.
respawned() {
	local pid
	t_status || return 1
	pid=$(t_worker_pid "$1")
	[ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$2" ]
}

# ---------------------------------------------------------------- run_dir and auth.dir

# owner_mode PATH: "uid:gid mode" of PATH itself.
owner_mode() { stat -c '%u:%g %a' -- "$1"; }

# test_dir_symlink WHICH: WHICH (run or auth) is a symlink to a directory: refused.
test_dir_symlink() {
	local which=$1 link target before after
	case $which in run) link=$T_RUN ;; auth) link=$T_AUTH ;; esac
	target=$T_DIR/real-$which
	mkdir -p "$target" && chmod 0711 "$target"
	[ "$T_MODE" = root ] && chown 65534:65534 "$target"
	before=$(owner_mode "$target")
	rm -rf -- "$link" && ln -s -- "$target" "$link"
	t_rm start
	if [ "$T_RC" -ne 0 ]; then ok "dirs: start refuses a symlinked $which dir (exit $T_RC)"; else
		fail "dirs: start refuses a symlinked $which dir" "exit 0: $T_OUT"
		t_record_pid "$(t_pidfile_pid)"
		t_stop
	fi
	if printf '%s\n' "$T_OUT" | grep -q "$link is a symbolic link"; then
		ok "dirs: start says $which dir is a symbolic link"
	else
		fail "dirs: start says $which dir is a symbolic link" "output: $T_OUT"
	fi
	after=$(owner_mode "$target")
	same "dirs: the $which symlink's target keeps owner and mode" "$before" "$after"
	rm -f -- "$link" && mkdir -p "$link"
}

suite_dirs() {
	local mode
	t_init dirs || return
	test_dir_symlink run
	test_dir_symlink auth
	chmod 0700 "$T_RUN" "$T_AUTH"
	if t_start && t_all_running; then ok "dirs: every worker runs with a 0700 run_dir and auth.dir"; else
		fail "dirs: every worker runs with a 0700 run_dir and auth.dir" "$T_OUT" "$T_STATUS"
	fi
	mode=$(stat -c %a "$T_AUTH")
	same "dirs: a 0700 auth.dir stays 0700 after start" 700 "$mode"
	mode=$(stat -c %a "$T_RUN")
	same "dirs: a 0700 run_dir stays 0700 after start" 700 "$mode"
	t_stop
	if [ "$T_MODE" = root ]; then
		chmod 0777 "$T_AUTH"
		t_start
		mode=$(stat -c %a "$T_AUTH")
		same "dirs: a world-writable auth.dir is tightened to 755" 755 "$mode"
		t_stop
	fi
}

# ---------------------------------------------------------------- pidfile and status

suite_stale_pidfile() {
	local spid verb
	t_init stale || return
	sleep 1000 >/dev/null 2>&1 &
	spid=$!
	printf '%s\n' "$spid" >"$T_PIDFILE"
	for verb in stop reload status; do
		t_rm "$verb"
		same "stale pidfile: $verb exits 3" 3 "$T_RC" "output: $T_OUT"
		if printf '%s\n' "$T_OUT" | grep -q 'not running'; then ok "stale pidfile: $verb says not running"; else
			fail "stale pidfile: $verb says not running" "output: $T_OUT"
		fi
		sleep 0.2
		if [ "$(t_cmdline "$spid")" = "sleep 1000" ]; then
			ok "stale pidfile: $verb signals nothing (pid $spid lives)"
		else
			fail "stale pidfile: $verb signals nothing (pid $spid lives)"
			break
		fi
	done
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	rm -f -- "$T_PIDFILE"
}

# suite_status_nonroot (root): an ordinary user asks the status of a root daemon.
suite_status_nonroot() {
	local rm gid mpid out rc
	t_init status || return
	t_start || {
		fail "status as a user: start" "$T_OUT"
		return
	}
	t_ensure_test_user || {
		fail "status as a user: create $T_TEST_USER"
		return
	}
	gid=$(id -g "$T_TEST_USER")
	rm=$T_DIR/regmaster-copy   # the build tree may be closed to that user
	cp -- "$REGMASTER" "$rm" && chmod 0755 "$rm"
	mpid=$(t_pidfile_pid)
	out=$(timeout -k 5 "$T_CMD_TIMEOUT" setpriv --reuid="$T_TEST_USER" --regid="$gid" \
		--init-groups -- "$rm" -c "$T_CONF" status 2>&1 </dev/null)
	rc=$?
	same "status as a user of a root daemon exits 4" 4 "$rc" "output: $out"
	if printf '%s\n' "$out" | grep -q "running (pid $mpid) but status needs root"; then
		ok "status as a user says it runs (pid $mpid) but needs root"
	else
		fail "status as a user says it runs (pid $mpid) but needs root" "output: $out"
	fi
	t_stop
}

body() {
	[ "$T_MODE" = root ] && suite_chown_race
	suite_orphans
	suite_dirs
	suite_stale_pidfile
	[ "$T_MODE" = root ] && suite_status_nonroot
	return 0
}

t_run_modes body
t_summary
