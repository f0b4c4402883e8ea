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

MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_INDEX=application/vnd.oci.image.index.v1+json
MT_DOCKER=application/vnd.docker.distribution.manifest.v2+json
MT_DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json
ACCEPT="$MT_MANIFEST, $MT_INDEX, $MT_DOCKER, $MT_DOCKER_LIST"
NS=regtest          # containerd namespace of the suite
CT=60               # seconds one client command may take

CTRD_PID=""         # the containerd this suite runs, if any
CTRD_CONF=""
SOCK=""
POD_DIR=""          # podman's storage and configuration
HOST=""             # 127.0.0.1:PORT of regmaster
LOG=""              # regmaster's log_file
CODE=""
GOT=""
OUT=""              # output of the last client command (cl)

# ---------------------------------------------------------------- helpers

# layout_blobs LAYOUT: the digests of an OCI layout's blobs, one a line.
layout_blobs() { (cd "$1/blobs/sha256" && printf 'sha256:%s\n' *); }

# layout_manifests LAYOUT: the digests of the layout's manifests: the one its
# index.json names and, when that is an index, the manifests it lists.
layout_manifests() {
	local top
	top=$(jq -r '.manifests[0].digest' <"$1/index.json")
	printf '%s\n' "$top"
	jq -r 'select(.mediaType == "'"$MT_INDEX"'") | .manifests[].digest' \
		<"$1/blobs/sha256/${top#sha256:}"
}

# layout_parts LAYOUT: sets MANIFESTS and BLOBS (arrays): the layout's manifests, and
# the rest of its blobs (configs and layers), which a registry serves as blobs.
layout_parts() {
	local m
	mapfile -t MANIFESTS < <(layout_manifests "$1")
	m=" ${MANIFESTS[*]} "
	mapfile -t BLOBS < <(layout_blobs "$1" | while read -r b; do
		case $m in *" $b "*) ;; *) printf '%s\n' "$b" ;; esac
	done)
}

# cl DESC CMD...: run a client command (ctr_ or pod, which bound it by CT seconds),
# output in OUT; ok when it succeeds, else a failure with its output. Returns its status.
cl() {
	local desc=$1 rc
	shift
	"$@" >"$T_DIR/cl.out" 2>&1 </dev/null
	rc=$?
	OUT=$(cat "$T_DIR/cl.out")
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc" "command: $*" "exit $rc" "$(tail -n 20 "$T_DIR/cl.out")"
	fi
	return "$rc"
}

# head_digest REPO REF: sets GOT to the Docker-Content-Digest of a manifest HEAD
# (empty unless 200).
head_digest() {
	GOT=""
	req HEAD "/v2/$1/manifests/$2" -H "Accept: $ACCEPT"
	[ "$CODE" = 200 ] && GOT=$(hval Docker-Content-Digest)
}

# blob_ok REPO DIGEST: regmaster serves the blob, and its sha256 is its name.
blob_ok() {
	req GET "/v2/$1/blobs/$2"
	[ "$CODE" = 200 ] && [ "$(dg "$BODY")" = "$2" ]
}

# blobs_served REPO DIGEST...: every blob is served from REPO with its digest; prints
# the ones that are not.
blobs_served() {
	local repo=$1 b bad=""
	shift
	for b in "$@"; do
		blob_ok "$repo" "$b" || bad="$bad $b($CODE)"
	done
	printf '%s' "${bad# }"
}

# manifests_served REPO DIGEST...: every manifest is served by digest from REPO, the
# body's sha256 being its digest; prints the ones that are not.
manifests_served() {
	local repo=$1 m bad=""
	shift
	for m in "$@"; do
		req GET "/v2/$repo/manifests/$m" -H "Accept: $ACCEPT"
		[ "$CODE" = 200 ] && [ "$(dg "$BODY")" = "$m" ] || bad="$bad $m($CODE)"
	done
	printf '%s' "${bad# }"
}

# log_mark: the size of regmaster's log now (where log_missing_gets starts reading).
log_mark() { stat -c %s "$LOG" 2>/dev/null || echo 0; }

# log_missing_gets MARK REPO KIND DIGEST...: the digests with no
# `GET /v2/REPO/KIND/DIGEST` (KIND blobs or manifests) in regmaster's log past MARK.
log_missing_gets() {
	local mark=$1 repo=$2 kind=$3 d miss="" tail
	shift 3
	tail=$(tail -c +"$((mark + 1))" "$LOG")
	for d in "$@"; do
		grep -qF "GET /v2/$repo/$kind/$d" <<<"$tail" || miss="$miss $d"
	done
	printf '%s' "${miss# }"
}

# ---------------------------------------------------------------- containerd

# ctr_ ARGS...: ctr on our containerd and namespace, bounded by CT seconds.
ctr_() { timeout -k 5 "$CT" ctr -a "$SOCK" -n "$NS" "$@"; }

# ctrd_is_ours: CTRD_PID is alive and still runs containerd with our config.
ctrd_is_ours() {
	[ -n "$CTRD_PID" ] && [ "$(t_cmdline "$CTRD_PID")" = "containerd --config $CTRD_CONF" ]
}
ctrd_gone() { ! ctrd_is_ours; }
ctrd_up() { timeout 5 ctr -a "$SOCK" version >/dev/null 2>&1; }

# ctrd_start: a containerd of our own under $T_DIR/c; 1 when it does not answer in 15 s.
ctrd_start() {
	local d=$T_DIR/c
	mkdir -p "$d"
	CTRD_CONF=$d/config.toml
	SOCK=$d/containerd.sock
	# The socket path must fit a sockaddr_un (108 bytes, with the ".ttrpc" one).
	if [ "${#SOCK}" -gt 100 ]; then
		fail "containerd's socket path fits a sockaddr_un" "$SOCK"
		return 1
	fi
	cat >"$CTRD_CONF" <<EOF
# containerd of regmaster's test_clients.sh ($T_MODE mode): content and images only.
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$SOCK"
  uid = $(id -u)
  gid = $(id -g)
[ttrpc]
  address = "$SOCK.ttrpc"
  uid = $(id -u)
  gid = $(id -g)
[debug]
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
	containerd --config "$CTRD_CONF" >"$d/containerd.log" 2>&1 </dev/null &
	CTRD_PID=$!
	t_diag "containerd: pid $CTRD_PID socket $SOCK"
	if t_wait_until 15 ctrd_up; then
		ok "containerd of our own answers on its socket"
		return 0
	fi
	fail "containerd of our own answers on its socket" "$SOCK" "$(tail -n 20 "$d/containerd.log")"
	ctrd_stop
	return 1
}

# ctrd_stop: stop our containerd by its PID (TERM, then KILL), and reap it.
ctrd_stop() {
	t_stop_peer "$CTRD_PID" ctrd_is_ours
	CTRD_PID=""
}

# ctr_image_digest NAME: the target digest of a containerd image.
ctr_image_digest() { ctr_ images ls 2>/dev/null | awk -v n="$1" '$1 == n { print $3 }'; }

# ctr_content_held DIGEST...: those of the digests containerd's content store holds.
ctr_content_held() {
	local have d held=""
	have=$(ctr_ content ls -q 2>/dev/null)
	for d in "$@"; do
		grep -qx "$d" <<<"$have" && held="$held $d"
	done
	printf '%s' "${held# }"
}

# ctr_content_bad DIGEST...: the digests whose content in containerd's store is
# missing or does not hash to them.
ctr_content_bad() {
	local d bad="" got
	for d in "$@"; do
		got=$(ctr_ content get "$d" 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "sha256:$got" = "$d" ] || bad="$bad $d"
	done
	printf '%s' "${bad# }"
}

# ctr_roundtrip IMGDIR SRC REPO [--all-platforms]: import layout SRC, push it to
# regmaster as REPO:v1, remove it, pull it back; check digests and content throughout.
ctr_roundtrip() {
	local imgs=$1 src=$2 repo=$3 all=${4:-} want ref mark tar miss
	want=$(img_digest "$imgs" "$src")
	ref=$HOST/$repo:v1
	tar=$T_DIR/$src.tar
	layout_parts "$imgs/$src"
	# shellcheck disable=SC2086 # $all is empty or one word
	cl "ctr images import: the $src layout" \
		ctr_ images import --no-unpack $all --base-name "src/$src" "$tar" || return 1
	same "ctr: the imported $src has the layout's digest" "$want" \
		"$(ctr_image_digest "src/$src:latest")"
	cl "ctr images tag $repo:v1" ctr_ images tag "src/$src:latest" "$ref" || return 1
	cl "ctr images push --plain-http $repo:v1" ctr_ images push --plain-http "$ref" || return 1
	head_digest "$repo" v1
	same "regmaster reports the layout's digest for $repo:v1 pushed by ctr" "$want" "$GOT" "$(what)"
	same "regmaster serves every manifest ctr pushed to $repo, by digest" \
		"" "$(manifests_served "$repo" "${MANIFESTS[@]}")"
	same "regmaster serves every blob ctr pushed to $repo, each with its digest" \
		"" "$(blobs_served "$repo" "${BLOBS[@]}")"

	cl "ctr images rm --sync: $src is removed from containerd" \
		ctr_ images rm --sync "src/$src:latest" "$ref"
	same "containerd's content store holds no blob of $src any more" \
		"" "$(ctr_content_held "${MANIFESTS[@]}" "${BLOBS[@]}")"

	mark=$(log_mark)
	if [ "$T_MODE" = root ]; then
		# shellcheck disable=SC2086 # $all is empty or one word
		cl "ctr images pull --plain-http --snapshotter native ${all:+$all }$repo:v1 (fetch, unpack)" \
			ctr_ images pull --plain-http --snapshotter native $all "$ref" || return 1
	else
		# Unpacking mounts, which a containerd without a user namespace may not do.
		# shellcheck disable=SC2086 # $all is empty or one word
		cl "ctr content fetch --plain-http ${all:+$all }$repo:v1" \
			ctr_ content fetch --plain-http $all "$ref" || return 1
	fi
	same "ctr: the pulled $repo:v1 has the layout's digest" "$want" "$(ctr_image_digest "$ref")"
	same "containerd's content store holds every blob of $src with its sha256" \
		"" "$(ctr_content_bad "${MANIFESTS[@]}" "${BLOBS[@]}")"
	miss="$(log_missing_gets "$mark" "$repo" manifests "${MANIFESTS[@]}")"
	miss="$miss${miss:+ }$(log_missing_gets "$mark" "$repo" blobs "${BLOBS[@]}")"
	miss=${miss% }
	same "the pull of $repo:v1 fetched every manifest and blob from regmaster (its log)" "" "$miss"
}

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

DKD_PID=""          # the dockerd this suite runs (root mode), if any
DK_DIR=""

# dk ARGS...: the docker client on our dockerd, bounded by CT seconds.
dk() { timeout -k 5 "$CT" docker -H "unix://$DK_DIR/docker.sock" "$@"; }

# dkd_is_ours: DKD_PID is alive and still runs dockerd with our data root.
dkd_is_ours() {
	[ -n "$DKD_PID" ] || return 1
	case $(t_cmdline "$DKD_PID") in
	"dockerd --data-root $DK_DIR/root "*) return 0 ;;
	esac
	return 1
}
dkd_up() { timeout 5 docker -H "unix://$DK_DIR/docker.sock" version >/dev/null 2>&1; }

# dkd_start: a dockerd of our own under $T_DIR/d; 1 when it does not answer in 30 s.
dkd_start() {
	DK_DIR=$T_DIR/d
	mkdir -p "$DK_DIR" || return 1
	dockerd --data-root "$DK_DIR/root" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/docker.pid" -H "unix://$DK_DIR/docker.sock" \
		--bridge=none --iptables=false --ip6tables=false --storage-driver=vfs \
		>"$DK_DIR/dockerd.log" 2>&1 </dev/null &
	DKD_PID=$!
	t_diag "dockerd: pid $DKD_PID dir $DK_DIR"
	if t_wait_until 30 dkd_up; then
		ok "dockerd of our own answers on its socket"
		return 0
	fi
	fail "dockerd of our own answers on its socket" "$(tail -n 20 "$DK_DIR/dockerd.log")"
	dkd_stop
	return 1
}

# dkd_leftovers: PIDs of processes still running from our docker dir (dockerd's
# containerd and shims).
dkd_leftovers() { [ -z "$DK_DIR" ] || pgrep -f -- "$DK_DIR/exec" || true; }

# dkd_stop: stop our dockerd by its PID, then whatever it started that outlived it.
dkd_stop() {
	local p
	t_stop_peer "$DKD_PID" dkd_is_ours
	DKD_PID=""
	t_wait_until 10 test -z "$(dkd_leftovers)"
	for p in $(dkd_leftovers); do
		kill -KILL "$p" 2>/dev/null
	done
}

# served_layers REPO REF: the layer digests of the manifest regmaster serves.
served_layers() {
	req GET "/v2/$1/manifests/$2" -H "Accept: $ACCEPT"
	jq -r '.layers[].digest' <"$BODY" 2>/dev/null | tr '\n' ' '
}

test_docker() {
	local imgs=$1 want src dst mark miss pushed layers config
	want=$(img_digest "$imgs" multi)
	src=$HOST/clients/docker-src
	dst=$HOST/clients/docker
	layout_parts "$imgs/multi"
	config=$(jq -r '.config.digest' <"$imgs/multi/blobs/sha256/${want#sha256:}")
	layers=$(jq -r '.layers[].digest' <"$imgs/multi/blobs/sha256/${want#sha256:}" | tr '\n' ' ')
	# --preserve-digests: podman's recompressed copies of these layers are in
	# regmaster already, and skopeo would otherwise reuse them in a new manifest.
	cl "skopeo copy: the 3-layer image into regmaster for docker" \
		timeout "$CT" skopeo copy -q --preserve-digests --dest-tls-verify=false \
		"oci:$imgs/multi:latest" "docker://$src:v1" || return 1
	dkd_start || return 1
	mark=$(log_mark)
	cl "docker pull clients/docker-src:v1" dk pull "$src:v1" || return 1
	cl "docker image inspect clients/docker-src:v1" \
		dk image inspect --format '{{join .RepoDigests " "}}' "$src:v1"
	same "docker: the pulled image's RepoDigests name the layout's digest" "$src@$want" "$OUT"
	# shellcheck disable=SC2086 # the layer digests are words
	miss=$(log_missing_gets "$mark" clients/docker-src blobs $layers)
	same "docker's pull fetched every layer from regmaster (its log)" "" "$miss"

	cl "docker tag clients/docker-src:v1 clients/docker:v1" dk tag "$src:v1" "$dst:v1"
	cl "docker push clients/docker:v1" dk push "$dst:v1" || return 1
	pushed=$(grep -o 'digest: sha256:[0-9a-f]*' <<<"$OUT" | cut -d' ' -f2)
	t_check "docker mounted the layers from clients/docker-src instead of uploading them" \
		grep -q 'Mounted from clients/docker-src' "$T_DIR/cl.out"
	head_digest clients/docker v1
	same "regmaster reports the digest docker pushed for clients/docker:v1" "$pushed" "$GOT" "$(what)"
	same "regmaster serves clients/docker:v1 as Docker schema 2" "$MT_DOCKER" "$(hval Content-Type)"
	same "the manifest docker pushed names the layout's layers" "$layers" \
		"$(served_layers clients/docker v1)"
	req GET /v2/clients/docker/tags/list
	same "tags/list of clients/docker" '{"name":"clients/docker","tags":["v1"]}' \
		"$(jq -c . <"$BODY" 2>/dev/null)" "$(what)"

	cl "docker rmi: both names" dk rmi "$src:v1" "$dst:v1"
	cl "docker images: none left" dk images -q
	same "docker holds no image" "" "$OUT"
	mark=$(log_mark)
	cl "docker pull clients/docker by digest" dk pull "$dst@$pushed" || return 1
	cl "docker image inspect clients/docker@digest" \
		dk image inspect --format '{{.Id}}' "$dst@$pushed"
	same "docker: the image pulled by digest has the config's digest as ID" "$config" "$OUT"
	same "the pull by digest reached regmaster (its log)" "" \
		"$(log_missing_gets "$mark" clients/docker manifests "$pushed")"
	dkd_stop
	t_check "dockerd and what it started are stopped" \
		test -z "$(dkd_leftovers)$(dkd_is_ours && echo alive)"
}

# ---------------------------------------------------------------- podman

# pod ARGS...: podman on the suite's storage and configuration only, bounded by CT s.
pod() {
	timeout -k 5 "$CT" env HOME="$POD_DIR/home" XDG_RUNTIME_DIR="$POD_DIR/xdg" \
		XDG_CONFIG_HOME="$POD_DIR/home/.config" XDG_DATA_HOME="$POD_DIR/home/.local/share" \
		TMPDIR="$POD_DIR/tmp" \
		CONTAINERS_CONF="$POD_DIR/containers.conf" \
		CONTAINERS_STORAGE_CONF="$POD_DIR/storage.conf" \
		CONTAINERS_REGISTRIES_CONF="$POD_DIR/registries.conf" \
		podman "$@"
}

pod_setup() {
	POD_DIR=$T_DIR/p
	mkdir -p "$POD_DIR/home" "$POD_DIR/xdg" "$POD_DIR/tmp" "$POD_DIR/networks"
	chmod 0700 "$POD_DIR/xdg"
	cat >"$POD_DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$POD_DIR/root"
runroot = "$POD_DIR/runroot"
rootless_storage_path = "$POD_DIR/root"
EOF
	cat >"$POD_DIR/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "$POD_DIR/libpod"
[network]
network_config_dir = "$POD_DIR/networks"
EOF
	printf 'unqualified-search-registries = []\n' >"$POD_DIR/registries.conf"
	printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$POD_DIR/policy.json"
}

# pod_teardown: stop rootless podman's pause process (1 if it would not stop), and make
# podman's storage removable: vfs leaves layer roots read-only (0555), which only root
# could remove.
pod_teardown() {
	local rc=0
	pod_stop_pause || rc=1
	[ -n "$POD_DIR" ] && [ -d "$POD_DIR" ] && chmod -R u+w -- "$POD_DIR" 2>/dev/null
	return "$rc"
}

# pod_pause_alive PID: PID is still rootless podman's pause process: ours, and either
# `catatonit -P` (when catatonit is installed) or podman's own, whose cmdline is
# just "podman".
pod_pause_alive() {
	[ -O "/proc/$1" ] || return 1
	case $(t_cmdline "$1") in
	"catatonit -P" | */catatonit\ -P | podman) return 0 ;;
	esac
	return 1
}
pod_pause_gone() { ! pod_pause_alive "$1"; }

# pod_stop_pause: rootless podman leaves a pause process that keeps its user
# namespace; stop it by the PID podman recorded, if it still is that process.
pod_stop_pause() {
	local f pid=""
	[ -n "$POD_DIR" ] || return 0
	f=$POD_DIR/libpod/pause.pid
	[ -r "$f" ] && read -r pid <"$f"
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	if pod_pause_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		t_wait_until 5 pod_pause_gone "$pid" || kill -KILL "$pid" 2>/dev/null
		t_wait_until 2 pod_pause_gone "$pid" || return 1
	fi
	rm -f -- "$f"
}

# layers_vs_diff_ids REPO REF CONFIG_FILE: every layer of REPO:REF's manifest is served
# with its digest and, uncompressed, is the diff_id CONFIG_FILE lists at its place;
# prints the layers that are not.
layers_vs_diff_ids() {
	local repo=$1 ref=$2 config=$3 i n layer want got bad=""
	req GET "/v2/$repo/manifests/$ref" -H "Accept: $ACCEPT"
	cp -- "$BODY" "$T_DIR/pod-manifest.json"
	n=$(jq '.layers | length' <"$T_DIR/pod-manifest.json")
	[ "$n" = "$(jq '.rootfs.diff_ids | length' <"$config")" ] || {
		printf 'manifest has %s layers' "$n"
		return
	}
	for ((i = 0; i < n; i++)); do
		layer=$(jq -r ".layers[$i].digest" <"$T_DIR/pod-manifest.json")
		want=$(jq -r ".rootfs.diff_ids[$i]" <"$config")
		req GET "/v2/$repo/blobs/$layer"
		got=sha256:$(gzip -dc <"$BODY" 2>/dev/null | sha256sum | cut -d' ' -f1)
		if [ "$CODE" != 200 ] || [ "$(dg "$BODY")" != "$layer" ] || [ "$got" != "$want" ]; then
			bad="$bad $layer($CODE, uncompressed $got)"
		fi
	done
	printf '%s' "${bad# }"
}

test_podman() {
	local imgs=$1 mdig mfile config cfgfile diffids id pushed pushed2 mark layers miss inspect
	local ref=$HOST/clients/podman repo=clients/podman
	pod_setup
	mdig=$(img_digest "$imgs" multi)
	mfile=$imgs/multi/blobs/sha256/${mdig#sha256:}
	config=$(jq -r .config.digest <"$mfile")
	cfgfile=$imgs/multi/blobs/sha256/${config#sha256:}
	diffids=$(jq -c .rootfs.diff_ids <"$cfgfile")
	id=${config#sha256:}

	# podman load, not pull oci:DIR: podman names an image pulled from an OCI
	# directory after its path, which must then be lowercase (mktemp's are not).
	cl "podman load -i: the 3-layer image (a tar of its layout)" \
		pod load --signature-policy "$POD_DIR/policy.json" -i "$T_DIR/multi.tar" || return 1
	cl "podman images" pod images -q --no-trunc
	same "podman: the loaded image's ID is the layout's config digest" "sha256:$id" "$OUT"
	cl "podman push --tls-verify=false $repo:v1" \
		pod push --tls-verify=false --signature-policy "$POD_DIR/policy.json" \
		--digestfile "$POD_DIR/digest1" "$id" "docker://$ref:v1" || return 1
	pushed=$(cat "$POD_DIR/digest1" 2>/dev/null)
	head_digest clients/podman v1
	same "regmaster reports the digest podman pushed for clients/podman:v1" "$pushed" "$GOT" "$(what)"
	req GET "/v2/clients/podman/manifests/v1" -H "Accept: $ACCEPT"
	same "regmaster serves the manifest podman pushed (sha256 of the body)" "$pushed" "$(dg "$BODY")"
	same "the manifest podman pushed names the layout's config" "$config" \
		"$(jq -r .config.digest <"$BODY" 2>/dev/null)"
	t_check "regmaster serves the config podman pushed, unchanged" blob_ok clients/podman "$config"
	layers=$(jq -r '.layers[].digest' <"$BODY" 2>/dev/null | tr '\n' ' ')
	if [ "$layers" != "$(jq -r '.layers[].digest' <"$mfile" | tr '\n' ' ')" ]; then
		t_diag "podman recompressed the layers it pushed (their digests differ from the layout's)"
	fi
	same "every layer regmaster serves is its digest and, uncompressed, the config's diff_id" \
		"" "$(layers_vs_diff_ids clients/podman v1 "$cfgfile")"

	cl "podman rmi: the image is removed from podman's storage" pod rmi -f "$id"
	cl "podman images" pod images -q --no-trunc
	same "podman's storage holds no image" "" "$OUT"
	mark=$(log_mark)
	cl "podman pull --tls-verify=false $repo:v1" \
		pod pull --tls-verify=false --signature-policy "$POD_DIR/policy.json" "$ref:v1" || return 1
	# shellcheck disable=SC2086 # the layer digests are words
	miss=$(log_missing_gets "$mark" clients/podman blobs $layers)
	same "the pull of clients/podman:v1 fetched every layer from regmaster (its log)" "" "$miss"
	cl "podman image inspect $repo:v1" pod image inspect "$ref:v1"
	inspect=$OUT
	same "podman: the pulled image has the pushed digest" "$pushed" \
		"$(jq -r '.[0].Digest' <<<"$inspect" 2>/dev/null)"
	same "podman: the pulled image's ID is the config's digest" "$id" \
		"$(jq -r '.[0].Id' <<<"$inspect" 2>/dev/null)"
	same "podman: the pulled image's layers are the layout's diff_ids" "$diffids" \
		"$(jq -c '.[0].RootFS.Layers' <<<"$inspect" 2>/dev/null)"
	same "podman: RepoDigests names regmaster's copy" "$ref@$pushed" \
		"$(jq -r '.[0].RepoDigests[]' <<<"$inspect" 2>/dev/null | grep -F "$ref@")"

	# A second tag, as Docker schema 2: the blobs are there already.
	cl "podman tag $repo:v1 $repo:v2" pod tag "$ref:v1" "$ref:v2"
	cl "podman push --format v2s2 $repo:v2" \
		pod push --tls-verify=false --signature-policy "$POD_DIR/policy.json" --format v2s2 \
		--digestfile "$POD_DIR/digest2" "$ref:v2" "docker://$ref:v2" || return 1
	pushed2=$(cat "$POD_DIR/digest2" 2>/dev/null)
	head_digest clients/podman v2
	same "regmaster reports the digest podman pushed for clients/podman:v2" "$pushed2" "$GOT" "$(what)"
	same "regmaster serves clients/podman:v2 as Docker schema 2" "$MT_DOCKER" "$(hval Content-Type)"
	req GET /v2/clients/podman/tags/list
	same "tags/list of clients/podman" '{"name":"clients/podman","tags":["v1","v2"]}' \
		"$(jq -c '{name, tags: (.tags | sort)}' <"$BODY" 2>/dev/null)" "$(what)"
	cl "podman rmi both tags" pod rmi -f "$id"
	mark=$(log_mark)
	cl "podman pull --tls-verify=false $repo:v2 (Docker schema 2)" \
		pod pull --tls-verify=false --signature-policy "$POD_DIR/policy.json" "$ref:v2" || return 1
	# shellcheck disable=SC2086 # the layer digests are words
	miss=$(log_missing_gets "$mark" clients/podman blobs $layers)
	same "the pull of clients/podman:v2 fetched every layer from regmaster (its log)" "" "$miss"
	cl "podman image inspect $repo:v2" pod image inspect "$ref:v2"
	same "podman: the pulled v2 has the pushed digest" "$pushed2" \
		"$(jq -r '.[0].Digest' <<<"$OUT" 2>/dev/null)"
	same "podman: the pulled v2's layers are the layout's diff_ids" "$diffids" \
		"$(jq -c '.[0].RootFS.Layers' <<<"$OUT" 2>/dev/null)"
	cl "podman rmi -a" pod rmi -a -f
	cl "podman images" pod images -q
	same "podman's storage holds no image at the end" "" "$OUT"
}

# ---------------------------------------------------------------- the suite

trap 'ctrd_stop; dkd_stop; pod_teardown; t_cleanup' EXIT
trap 'ctrd_stop; dkd_stop; pod_teardown; t_cleanup; trap - EXIT; exit 130' INT
trap 'ctrd_stop; dkd_stop; pod_teardown; t_cleanup; trap - EXIT; exit 143' TERM

body() {
	local tool tools="containerd ctr podman skopeo curl jq tar gzip" imgs src missing=0
	[ "$T_MODE" = root ] && tools="$tools dockerd docker"
	for tool in $tools; do
		command -v "$tool" >/dev/null 2>&1 && continue
		fail "$tool is installed (this suite exists to run it)"
		missing=1
	done
	[ "$missing" = 0 ] || return 1
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
