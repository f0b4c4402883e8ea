#!/bin/bash
# test_store_owner.sh — issue 8, ownership: start never walks the store; what another
# program wrote as root is given to storaged when storaged's write meets it.
#
# What it tests (root: storaged runs as its own user; as a user only what needs no chown):
#   - root: a registry:2 run as root left a repository's directory, some blob prefix
#     directories and a new blob (with its layer link) root-owned; `check` reports those
#     entries (count, examples, "repairs them on demand") and still exits 0
#   - start returns fast (the time is printed; asserted < 5 s only, machines are noisy)
#   - the old content pulls (manifest by tag, every blob), the registry:2 blob too, and
#     a blob only root could read (a restore: 0700 directory, 0600 file)
#   - a delete as the first write into another root-owned repository succeeds
#   - a skopeo push, a delete of the old manifest (its root-owned tag directory: a tree
#     removal), a curl monolithic upload (its blob's prefix directory root's) and a
#     manifest PUT into that repository succeed
#   - storaged owns the repaired entries afterwards; master logged the repairs
#   - hostile: symlinks planted in the repository (to a root-owned file and a directory
#     outside the store) are never followed or changed by a repair or by `check`
#   - both modes: `check` on a store storaged owns reports nothing; start is fast
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

SU=regmaster-storaged     # storaged's user (the default users.storaged)
SKOPEO_TIMEOUT=90
START_MAX_MS=5000         # generous: the point is "no walk of the store", not a benchmark

V2=docker/registry/v2
MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_CONFIG=application/vnd.oci.image.config.v1+json
MT_LAYER=application/vnd.oci.image.layer.v1.tar+gzip

# start_timed DESC: `regmaster start`, its wall time in START_MS; ok if it returned 0
# within START_MAX_MS; then waits (bounded) until every worker runs and /v2/ answers.
start_timed() {
	local t0 t1 pid
	t0=$(t_now_ms)
	t_rm start
	t1=$(t_now_ms)
	START_MS=$((t1 - t0))
	t_diag "$1: start returned $T_RC in $START_MS ms"
	pid=$(t_pidfile_pid) && t_record_pid "$pid"
	if [ "$T_RC" -eq 0 ] && [ "$START_MS" -lt "$START_MAX_MS" ]; then
		ok "$1: start returns within $START_MAX_MS ms ($START_MS ms)"
	else
		fail "$1: start returns within $START_MAX_MS ms" "exit $T_RC in $START_MS ms" "$T_OUT"
	fi
	t_wait_until 10 t_all_running && t_wait_http "$T_URL/v2/" 200 10
}

# sk ARGS...: skopeo against the instance, bounded.
sk() { timeout -k 5 "$SKOPEO_TIMEOUT" skopeo "$@" >"$T_DIR/sk.out" 2>&1; }

# push_image LAYOUT REPO:TAG: skopeo copy of an OCI layout's latest into the instance.
push_image() { sk copy -q --dest-tls-verify=false "oci:$1:latest" "docker://127.0.0.1:$T_PORT/$2"; }

# as_registry2_root PATH...: what a registry:2 run as root leaves: root:root, dirs 0755,
# files 0644 (its umask 022), never following a symlink.
as_registry2_root() {
	local p
	for p in "$@"; do
		chown -R -P root:root "$p" &&
			find "$p" -type d -exec chmod 0755 {} + &&
			find "$p" -type f -exec chmod 0644 {} + || return 1
	done
}

# registry2_blob FILE REPO: FILE stored the way registry:2 as root stores a blob, and
# linked into REPO: its blob directory and _layers link root-owned. Sets R2_DIGEST.
registry2_blob() {
	local hex d l
	R2_DIGEST=$(dg "$1")
	hex=${R2_DIGEST#sha256:}
	d=$T_STORE/$V2/blobs/sha256/${hex:0:2}/$hex
	l=$T_STORE/$V2/repositories/$2/_layers/sha256/$hex
	mkdir -p "$d" "$l" && cp -- "$1" "$d/data" && printf '%s' "$R2_DIGEST" >"$l/link" &&
		as_registry2_root "$d" "$l"
}

# owner PATH: user name of PATH itself (never followed).
owner() { stat -c %U -- "$1" 2>/dev/null; }

# not_owned_by USER PATH...: the paths (under the given ones) USER does not own.
not_owned_by() {
	local u=$1
	shift
	find -P "$@" ! -user "$u" 2>/dev/null
}

# image_manifest OUT CONFIG_DIGEST CONFIG_SIZE LAYER_DIGEST LAYER_SIZE
image_manifest() {
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[{"mediaType":"%s","digest":"%s","size":%s}]}' \
		"$MT_MANIFEST" "$MT_CONFIG" "$2" "$3" "$MT_LAYER" "$4" "$5" >"$1"
}

# mono_push REPO FILE: a monolithic upload; 0 on 201.
mono_push() {
	req POST "/v2/$1/blobs/uploads/?digest=$(dg "$2")" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$2"
	[ "$CODE" = 201 ]
}

# ---------------------------------------------------------------- root: repair on demand

# prepare_store: first start, images pushed, stop; then the registry:2-as-root damage.
# Sets IMG, REPO_DIR, ROOT_PREFIXES (blob prefix dirs made root's), NEW_BLOB/NEW_CFG.
prepare_store() {
	local b hex
	IMG=$T_DIR/img
	mkdir -p "$IMG"
	build_images "$IMG/a" && build_images "$IMG/c" || {
		fail "build test images" "$(cat "$IMG"/*.err 2>/dev/null | tail -n 5)"
		return 1
	}
	start_timed "first start (empty store)"
	push_image "$IMG/a/multi" own/app:v1 || {
		fail "push the first image" "$(cat "$T_DIR/sk.out")"
		return 1
	}
	push_image "$IMG/a/multi" own/del:v1 || fail "push the first image again" \
		"$(cat "$T_DIR/sk.out")"
	t_stop
	REPO_DIR=$T_STORE/$V2/repositories/own/app
	layout_parts "$IMG/a/multi"
	A_MANIFEST=${MANIFESTS[0]}
	A_BLOBS=("${BLOBS[@]}")
	ROOT_PREFIXES=()
	for b in "${A_BLOBS[@]:0:2}"; do
		hex=${b#sha256:}
		ROOT_PREFIXES+=("$T_STORE/$V2/blobs/sha256/${hex:0:2}")
	done
	# the blob and config the curl push adds: their prefix dirs made root's too
	NEW_BLOB=$T_DIR/new.blob
	NEW_CFG=$T_DIR/new.cfg
	head -c 70000 /dev/urandom >"$NEW_BLOB"
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"n":"%s"}' \
		"$RANDOM$RANDOM" >"$NEW_CFG"
	for b in "$(dg "$NEW_BLOB")" "$(dg "$NEW_CFG")"; do
		hex=${b#sha256:}
		mkdir -p "$T_STORE/$V2/blobs/sha256/${hex:0:2}"
		ROOT_PREFIXES+=("$T_STORE/$V2/blobs/sha256/${hex:0:2}")
	done
	# a blob restored from a backup as root alone may read it
	head -c 3000 /dev/urandom >"$T_DIR/r3.blob"
	registry2_blob "$T_DIR/r3.blob" own/app || return 1
	R3_DIGEST=$R2_DIGEST
	head -c 5000 /dev/urandom >"$T_DIR/r2.blob"
	registry2_blob "$T_DIR/r2.blob" own/app &&
		as_registry2_root "$REPO_DIR" "${REPO_DIR%/app}/del" "${ROOT_PREFIXES[@]}" || return 1
	hex=${R3_DIGEST#sha256:}
	chmod 0700 "$T_STORE/$V2/blobs/sha256/${hex:0:2}/$hex" &&
		chmod 0600 "$T_STORE/$V2/blobs/sha256/${hex:0:2}/$hex/data"
}

# plant_symlinks: a compromised storaged's links in the repository, to root's things
# outside the store; OUTSIDE_FILE and OUTSIDE_DIR stay root's 0600.
plant_symlinks() {
	OUTSIDE_FILE=$T_DIR/outside-file
	OUTSIDE_DIR=$T_DIR/outside-dir
	: >"$OUTSIDE_FILE" && chmod 0600 "$OUTSIDE_FILE"
	mkdir -p "$OUTSIDE_DIR" && : >"$OUTSIDE_DIR/f" && chmod 0600 "$OUTSIDE_DIR/f"
	ln -s "$OUTSIDE_FILE" "$REPO_DIR/_layers/sha256/evil-file"
	ln -s "$OUTSIDE_DIR" "$REPO_DIR/_layers/sha256/evil-dir"
	ln -s "$OUTSIDE_FILE" "$REPO_DIR/_manifests/tags/evil"
	chown -h root:root "$REPO_DIR/_layers/sha256/evil-file" "$REPO_DIR/_layers/sha256/evil-dir" \
		"$REPO_DIR/_manifests/tags/evil"
}

# check_reports: `check` as root names the root-owned entries and says start repairs
# them, exit 0.
check_reports() {
	local lines
	t_rm check
	same "check exits 0 with root-owned entries (start repairs them)" 0 "$T_RC" "$T_OUT"
	t_check "check counts the entries storaged cannot write" \
		grep -qE "^regmaster: [0-9]+ entries of $T_STORE are not $SU's: storaged cannot write them" \
		<<<"$T_OUT"
	t_check "check says start repairs them on demand" grep -q "start repairs them on demand" \
		<<<"$T_OUT"
	t_check "check names one of them" grep -qF "$T_STORE/$V2/" <<<"$T_OUT"
	mapfile -t lines < <(grep -m 3 'regmaster: ' <<<"$T_OUT")
	t_diag "${lines[@]}"
}

# pull_old: the content that was there before is served, the registry:2 blob too.
pull_old() {
	local bad
	head_digest own/app v1
	same "the old tag still resolves (root-owned tag)" "$A_MANIFEST" "$GOT"
	bad=$(manifests_served own/app "$A_MANIFEST")
	same "the old manifest is served by digest" "" "$bad"
	bad=$(blobs_served own/app "${A_BLOBS[@]}")
	same "every old blob is served (some under root-owned prefixes)" "" "$bad"
	bad=$(blobs_served own/app "$R2_DIGEST")
	same "the blob registry:2 wrote as root is served" "" "$bad"
	bad=$(blobs_served own/app "$R3_DIGEST")
	same "a blob only root could read (0700 directory, 0600 file) is served" "" "$bad"
	sk copy -q --src-tls-verify=false "docker://127.0.0.1:$T_PORT/own/app:v1" \
		"oci:$T_DIR/pulled:v1"
	same "skopeo pulls the old image" 0 "$?" "$(cat "$T_DIR/sk.out")"
}

# delete_first: a delete as the first write into a root-owned repository: the tag
# directory's removal (a rename of the tree) and the revision link's.
delete_first() {
	local del=${REPO_DIR%/app}/del
	req DELETE "/v2/own/del/manifests/$A_MANIFEST"
	is_code "a delete as the first write into a root-owned repository answers 202" 202
	t_check "its root-owned tag directory is gone" t_not test -e "$del/_manifests/tags/v1"
	t_check "its root-owned revision link is gone" \
		t_not test -e "$del/_manifests/revisions/sha256/${A_MANIFEST#sha256:}/link"
	t_check "master repaired the tag directory for the removal" \
		grep -q "gave [0-9]* entries at $del/_manifests/tags/v1 " "$T_DIR/regmaster.log"
}

# push_new: pushes into the root-owned repository succeed.
push_new() {
	local m=$T_DIR/new.manifest
	push_image "$IMG/c/multi" own/app:v2
	same "skopeo pushes a new image into the root-owned repository" 0 "$?" \
		"$(cat "$T_DIR/sk.out")" "$(tail -n 20 "$T_DIR/regmaster.log")"
	head_digest own/app v2
	same "the new tag resolves" "$(img_digest "$IMG/c" multi)" "$GOT"
	req DELETE "/v2/own/app/manifests/$A_MANIFEST"
	is_code "a delete of the old manifest (its root-owned tag directory removed) answers 202" 202
	t_check "the deleted manifest's tag directory is gone" \
		t_not test -e "$REPO_DIR/_manifests/tags/v1"
	head_digest own/app v1
	same "the deleted manifest's tag answers nothing" "" "$GOT"
	mono_push own/app "$NEW_BLOB"
	is_code "a monolithic upload under a root-owned prefix directory answers 201" 201
	mono_push own/app "$NEW_CFG"
	is_code "a monolithic upload of its config answers 201" 201
	image_manifest "$m" "$(dg "$NEW_CFG")" "$(stat -c %s "$NEW_CFG")" "$(dg "$NEW_BLOB")" \
		"$(stat -c %s "$NEW_BLOB")"
	req PUT /v2/own/app/manifests/v1 -H "Content-Type: $MT_MANIFEST" --data-binary "@$m"
	is_code "a manifest PUT of the tag again answers 201" 201
	head_digest own/app v1
	same "the tag resolves to the new manifest" "$(dg "$m")" "$GOT"
}

# owners_after: storaged owns what the writes met; master said so in its log.
owners_after() {
	local hex bad
	same "the repository's directory is storaged's" "$SU" "$(owner "$REPO_DIR")"
	bad=$(not_owned_by "$SU" "$REPO_DIR/_layers" "$REPO_DIR/_manifests/revisions" \
		"$REPO_DIR/_uploads" | grep -v /evil)
	same "its _layers, revisions and _uploads are storaged's" "" "$bad"
	hex=$(dg "$NEW_BLOB")
	hex=${hex#sha256:}
	same "the root-owned prefix directory of the new blob is storaged's" "$SU" \
		"$(owner "$T_STORE/$V2/blobs/sha256/${hex:0:2}")"
	same "the new blob is storaged's" "$SU" \
		"$(owner "$T_STORE/$V2/blobs/sha256/${hex:0:2}/$hex/data")"
	t_check "master logged the repairs" grep -q "gave [0-9]* entries at $T_STORE/$V2/" \
		"$T_DIR/regmaster.log"
	t_check "storaged logged what master gave back" \
		grep -q "master gave [0-9]* entries at $V2/" "$T_DIR/regmaster.log"
}

# symlinks_untouched: nothing a planted link points at changed, nor the link.
symlinks_untouched() {
	local l
	same "the root file a planted symlink points at stays root's" root "$(owner "$OUTSIDE_FILE")"
	same "the root file in the directory a symlink points at stays root's" root \
		"$(owner "$OUTSIDE_DIR/f")"
	same "the outside directory stays root's" root "$(owner "$OUTSIDE_DIR")"
	for l in "$REPO_DIR/_layers/sha256/evil-file" "$REPO_DIR/_layers/sha256/evil-dir" \
		"$REPO_DIR/_manifests/tags/evil"; do
		same "the planted symlink ${l#"$REPO_DIR"/} itself is left as it was" root "$(owner "$l")"
	done
	same "the outside file's mode is unchanged" 600 "$(stat -c %a "$OUTSIDE_FILE")"
}

suite_repair() {
	t_init owner || return
	printf 'log_file = "%s";\n' "$T_DIR/regmaster.log" >>"$T_CONF"
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	prepare_store || return
	plant_symlinks
	check_reports
	symlinks_untouched
	start_timed "start on the root-owned store"
	pull_old
	delete_first
	push_new
	owners_after
	symlinks_untouched
	t_stop
	t_rm check
	t_check "check after the repairs still exits 0" test "$T_RC" -eq 0
}

# ---------------------------------------------------------------- both modes

# suite_clean: on a store storaged owns, check reports nothing and start is fast.
suite_clean() {
	local i
	t_init clean || return
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	# a few thousand entries in the Distribution layout, written by storaged's user
	mkdir -p "$T_STORE/$V2/repositories" "$T_STORE/$V2/blobs/sha256"
	for ((i = 0; i < 300; i++)); do
		mkdir -p "$T_STORE/$V2/repositories/bulk/r$i/_layers/sha256/$i" \
			"$T_STORE/$V2/repositories/bulk/r$i/_manifests/revisions/sha256"
	done
	[ "$T_MODE" = root ] && t_start && t_stop   # creates the users; gives the root away
	[ "$T_MODE" = root ] && chown -R -P "$SU:$SU" "$T_STORE"
	t_rm check
	same "check on a store storaged owns exits 0" 0 "$T_RC" "$T_OUT"
	t_check "check reports no entry storaged cannot write" \
		t_not grep -q "storaged cannot write" <<<"$T_OUT"
	start_timed "start on a store storaged owns"
	t_stop
}

body() {
	[ "$T_MODE" = root ] && suite_repair
	suite_clean
	return 0
}

t_require_tools skopeo jq && t_run_modes body
t_summary
