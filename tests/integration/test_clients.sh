#!/bin/bash
# test_clients.sh — three more real clients use regmaster as they would any registry:
# containerd's `ctr` (containerd's own resolver and fetcher: the code path of a
# Kubernetes node), `podman` (containers/image, with its own storage) and `docker`
# (dockerd's own distribution client). Images come from mkimages.sh (OCI layouts,
# offline).
#
# What it tests (both modes: as root with privilege separation, and as a plain user):
#   1. containerd: a containerd of our own (temp root, state and socket; CRI and the
#      snapshotters that cannot work here disabled) imports the 3-layer image and the
#      two-platform index from tars of their layouts; `ctr images push --plain-http`
#      puts them into regmaster, whose Docker-Content-Digest is the layout's digest and
#      which serves every manifest by digest and every blob, each with its sha256.
#      The images are then removed from containerd (`images rm --sync` collects their
#      content: none of their blobs is left) and pulled back: the pulled image has the
#      layout's digest, every blob of the layout is in containerd's content store with
#      the right sha256 (read back with `ctr content get`), and regmaster's debug log
#      shows the GET of every manifest and blob, so the content came from regmaster
#      and not from a cache. The index is pulled with --all-platforms (both platforms
#      fetched). tags/list names the tag ctr pushed.
#      As root the pull is `ctr images pull --snapshotter native`, which also unpacks:
#      containerd checks every layer's uncompressed digest against the config's
#      diff_ids. As a plain user containerd runs without a user namespace of its own
#      (no rootlesskit), so it cannot mount to unpack: there the pull is
#      `ctr content fetch`, the same fetch without the unpack.
#   2. podman (storage driver vfs, its storage, run root, tmp dir and configuration
#      files in the temp dir; as a plain user it is rootless podman with a one-uid user
#      namespace): `podman load -i` of the image's layout as a tar (OCI archive),
#      `podman push --digestfile` to regmaster, whose Docker-Content-Digest is the
#      digest podman wrote and whose manifest names the layout's config. podman
#      recompresses layers it pushes from its storage, so the layers are compared with
#      what they must hold, not with the layout's compressed bytes: each layer regmaster
#      serves has its digest as sha256 and, uncompressed, the diff_id of the layout's
#      config (which regmaster serves unchanged). Then `podman rmi`, no image left, and
#      `podman pull` from regmaster (its log shows the GET of every layer): `podman
#      image inspect` gives the pushed digest, the config's digest as image ID and the
#      layout's diff_ids as layers. A second tag is pushed as a Docker schema 2
#      manifest (--format v2s2): regmaster serves it with the Docker media type and
#      podman's digest, tags/list lists both tags, and podman pulls it back (again
#      every layer GET in regmaster's log) with the same layers.
#
# containerd is started by this suite, in the background, and stopped by its PID (only
# after checking that PID still runs containerd with our config); rootless podman's
# pause process (PID in podman's tmp dir) likewise. The packaged containerd service
# plays no part. Both clients talk to 127.0.0.1 only. Outside the temp dir, podman as
# root only keeps its blob-info cache in /var/lib/containers/cache (containers/image
# has no switch for it; skopeo as root uses it too), which holds digests and
# locations, never content, and makes the empty /run/containers/networks (fixed in
# its network code).
#   3. docker (root mode only: dockerd needs root, and rootless docker needs rootlesskit,
#      which Debian 12's docker.io lacks; the user-mode run says so in a diagnostic):
#      a dockerd of our own (temp data and exec roots, its own socket, vfs storage, no
#      bridge or iptables; it runs its own containerd under its exec root) `docker
#      pull`s the 3-layer image that skopeo put into regmaster (RepoDigests names the
#      layout's digest; regmaster's log shows the GET of every layer), tags and `docker
#      push`es it to another repository (docker mounts the layers from the first one;
#      regmaster serves the Docker schema 2 manifest docker reports, naming the layout's
#      layers), removes both and pulls the new one back by digest (image ID = the
#      config's digest).
#
# Without containerd, ctr, podman (or, as root, dockerd and docker) the suite reports
# that as a failure. dockerd is stopped by its PID like containerd, and a containerd
# it started that outlives it is stopped by PID too (its command line names our dir).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

test_containerd() {
	local imgs=$1 n
	ctrd_start || return 1
	ctr_roundtrip "$imgs" multi clients/ctr
	if [ "$T_MODE" = root ]; then
		n=$(ctr_ snapshots --snapshotter native ls 2>/dev/null | grep -c Committed)
		same "containerd unpacked the 3 layers pulled from regmaster (diff_ids checked)" 3 "$n"
	fi
	ctr_roundtrip "$imgs" index clients/ctr-index --all-platforms
	req GET /v2/clients/ctr/tags/list
	same "tags/list of clients/ctr" '{"name":"clients/ctr","tags":["v1"]}' \
		"$(jq -c . <"$BODY" 2>/dev/null)" "$(what)"
	ctrd_stop
	t_check "containerd stopped" ctrd_gone
}

# ---------------------------------------------------------------- docker

test_docker() {
	local imgs=$1
	# --preserve-digests: podman's recompressed copies of these layers are in
	# regmaster already, and skopeo would otherwise reuse them in a new manifest.
	cl "skopeo copy: the 3-layer image into regmaster for docker" \
		timeout "$CT" skopeo copy -q --preserve-digests --dest-tls-verify=false \
		"oci:$imgs/multi:latest" "docker://$HOST/clients/docker-src:v1" || return 1
	dkd_start || return 1
	docker_roundtrip "$imgs"
	dkd_stop
	t_check "dockerd and what it started are stopped" \
		test -z "$(dkd_leftovers)$(dkd_is_ours && echo alive)"
}

# ---------------------------------------------------------------- podman

test_podman() {
	pod_setup
	pod_roundtrip "$1"
}

# ---------------------------------------------------------------- the suite

trap 'ctrd_stop; dkd_stop; pod_teardown; t_cleanup' EXIT
trap 'ctrd_stop; dkd_stop; pod_teardown; t_cleanup; trap - EXIT; exit 130' INT
trap 'ctrd_stop; dkd_stop; pod_teardown; t_cleanup; trap - EXIT; exit 143' TERM

body() {
	local tools="containerd ctr podman skopeo curl jq tar gzip" imgs src
	[ "$T_MODE" = root ] && tools="$tools dockerd docker"
	# shellcheck disable=SC2086 # the tools are words
	t_require_tools $tools || return 1
	t_init clients || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	HOST=127.0.0.1:$T_PORT
	# The debug log names every request: it shows the pulls reached regmaster.
	LOG=$T_DIR/regmaster.log
	printf 'log_file = "%s";\n' "$LOG" >>"$T_CONF"
	imgs=$T_DIR/img
	build_images "$imgs" || return 1
	# The layouts as tars (OCI archives), which ctr and podman load.
	for src in multi index; do
		tar -C "$imgs/$src" -cf "$T_DIR/$src.tar" . || {
			fail "tar the $src layout"
			return 1
		}
	done
	t_start || {
		fail "start regmaster" "$T_OUT"
		return 1
	}
	t_wait_http "$T_URL/v2/" 200 10 || {
		fail "regmaster answers /v2/" "$(t_http_code "$T_URL/v2/")"
		return 1
	}
	test_containerd "$imgs"
	ctrd_stop
	test_podman "$imgs"
	t_check "no podman process is left (rootless: its pause process stopped)" pod_teardown
	if [ "$T_MODE" = root ]; then
		test_docker "$imgs"
	else
		t_diag "docker: root mode only (dockerd needs root; rootless docker needs rootlesskit)"
	fi
	t_check "regmaster stops" t_stop
}

t_run_modes body
t_summary
