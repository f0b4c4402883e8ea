#!/bin/bash
# mkimages.sh — build test images as OCI layout directories, offline.
#
# What it makes (each an OCI image layout: oci-layout, index.json, blobs/sha256/...):
#   OUTDIR/multi     a 3-layer linux/amd64 image; layers are gzip'd tars holding
#                    ~100 KiB, 1 MiB and 5 MiB of /dev/urandom, config with
#                    rootfs.diff_ids = sha256 of the uncompressed tars.
#   OUTDIR/index     a two-platform OCI index (linux/amd64 + linux/arm64/v8), each
#                    platform its own manifest, config and one layer.
#   OUTDIR/artifact  an OCI 1.1 artifact manifest: artifactType
#                    application/vnd.example.sbom.v1, config = the empty descriptor,
#                    one layer blob, subject = the manifest of "multi".
#   OUTDIR/big       with -b MIB only: a 1-layer image whose layer holds MIB MiB of
#                    /dev/urandom (gzip -1: random bytes do not shrink anyway).
# Each layout names its top descriptor with org.opencontainers.image.ref.name = REF
# (default "latest"), so a test pushes it with e.g.
#   skopeo copy --dest-tls-verify=false oci:OUTDIR/multi:latest docker://127.0.0.1:PORT/repo:tag
# (the index needs `skopeo copy --all` to push both platforms).
#
# Output on stdout, one line per image: `NAME DIGEST` (the digest of the manifest or
# index the ref points at). Progress and errors go to stderr.
#
# Usage: mkimages.sh [-r REF] [-b MIB] [-v] OUTDIR
#   -r REF  ref name written into each index.json (default: latest)
#   -b MIB  also build OUTDIR/big
#   -v      verify with skopeo (inspect --raw and copy to a dir: transport) afterwards
#
# Needs only bash, tar, gzip, sha256sum, head, stat; no network. The content is random,
# so every run produces new digests (tests that need fresh blobs rely on that).
set -u
set -o pipefail

MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_INDEX=application/vnd.oci.image.index.v1+json
MT_CONFIG=application/vnd.oci.image.config.v1+json
MT_LAYER=application/vnd.oci.image.layer.v1.tar+gzip
MT_EMPTY=application/vnd.oci.empty.v1+json
ARTIFACT_TYPE=application/vnd.example.sbom.v1
SBOM_MT=application/vnd.example.sbom.v1+json
REF_ANNOTATION=org.opencontainers.image.ref.name

die() { printf 'mkimages: %s\n' "$*" >&2; exit 1; }
note() { printf 'mkimages: %s\n' "$*" >&2; }

# sha256 of a file, hex only.
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

size_of() { stat -c %s "$1"; }

# Scratch space for tars before they are compressed; removed on exit.
WORK=""
cleanup() { if [ -n "$WORK" ]; then rm -rf -- "$WORK"; fi; }
trap cleanup EXIT

# layout_init DIR: an empty OCI layout (blobs are added by put_blob_*).
layout_init() {
	rm -rf -- "$1"
	mkdir -p -- "$1/blobs/sha256" || die "cannot create $1"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
}

# put_blob_file LAYOUT FILE: move FILE into LAYOUT's blob store; sets BLOB_DIGEST and
# BLOB_SIZE (the caller builds a descriptor from them).
put_blob_file() {
	local hex
	hex=$(sha256_of "$2") || die "sha256sum $2"
	BLOB_SIZE=$(size_of "$2")
	BLOB_DIGEST="sha256:$hex"
	mv -f -- "$2" "$1/blobs/sha256/$hex" || die "cannot store blob $hex"
}

# put_blob_string LAYOUT STRING: store STRING's exact bytes (no newline added) as a blob.
put_blob_string() {
	local tmp="$WORK/blob.$$"
	printf '%s' "$2" >"$tmp" || die "cannot write $tmp"
	put_blob_file "$1" "$tmp"
}

# make_layer LAYOUT NAME BYTES [LEVEL]: a gzip'd tar (gzip -LEVEL, default 6) holding
# NAME/data.bin of BYTES random bytes plus a small text file. Sets LAYER_DESC (JSON
# descriptor) and LAYER_DIFFID.
# The tar is made reproducible in everything but the random payload, so the only
# thing that differs between layers and runs is the content we want to differ.
make_layer() {
	local layout="$1" name="$2" bytes="$3" root="$WORK/rootfs-$2" tarf="$WORK/$2.tar"
	rm -rf -- "$root"
	mkdir -p -- "$root/$name" || die "mkdir $root"
	head -c "$bytes" /dev/urandom >"$root/$name/data.bin" || die "urandom"
	printf '%s layer of %s bytes\n' "$name" "$bytes" >"$root/$name/README"
	tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		-cf "$tarf" "$name" || die "tar $name"
	LAYER_DIFFID="sha256:$(sha256_of "$tarf")"
	gzip -n "-${4:-6}" "$tarf" || die "gzip $name"
	put_blob_file "$layout" "$tarf.gz"
	LAYER_DESC=$(printf '{"mediaType":"%s","digest":"%s","size":%s}' \
		"$MT_LAYER" "$BLOB_DIGEST" "$BLOB_SIZE")
	rm -rf -- "$root"
}

# make_config LAYOUT ARCH VARIANT DIFFIDS_JSON: an OCI image config; sets CONFIG_DESC.
make_config() {
	local arch="$2" variant="$3" diffids="$4" v=""
	if [ -n "$variant" ]; then v=$(printf ',"variant":"%s"' "$variant"); fi
	put_blob_string "$1" "$(printf '{"created":"1970-01-01T00:00:00Z","architecture":"%s"%s,"os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$arch" "$v" "$diffids")"
	CONFIG_DESC=$(printf '{"mediaType":"%s","digest":"%s","size":%s}' \
		"$MT_CONFIG" "$BLOB_DIGEST" "$BLOB_SIZE")
}

# make_manifest LAYOUT CONFIG_DESC LAYERS_JSON: store an image manifest; sets
# MANIFEST_DIGEST and MANIFEST_SIZE.
make_manifest() {
	put_blob_string "$1" "$(printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' \
		"$MT_MANIFEST" "$2" "$3")"
	MANIFEST_DIGEST=$BLOB_DIGEST
	MANIFEST_SIZE=$BLOB_SIZE
}

# write_layout_index LAYOUT MEDIATYPE DIGEST SIZE: index.json naming the top object REF.
write_layout_index() {
	printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"%s":"%s"}}]}' \
		"$MT_INDEX" "$2" "$3" "$4" "$REF_ANNOTATION" "$REF" >"$1/index.json" ||
		die "cannot write $1/index.json"
}

# build_multi DIR: the 3-layer amd64 image. Sets MULTI_DIGEST/MULTI_SIZE for the artifact.
build_multi() {
	local d="$1" layers="" diffids="" n bytes
	layout_init "$d"
	n=0
	for bytes in 102400 1048576 5242880; do
		n=$((n + 1))
		make_layer "$d" "layer$n" "$bytes"
		layers="$layers${layers:+,}$LAYER_DESC"
		diffids="$diffids${diffids:+,}\"$LAYER_DIFFID\""
	done
	make_config "$d" amd64 "" "$diffids"
	make_manifest "$d" "$CONFIG_DESC" "$layers"
	write_layout_index "$d" "$MT_MANIFEST" "$MANIFEST_DIGEST" "$MANIFEST_SIZE"
	MULTI_DIGEST=$MANIFEST_DIGEST
	MULTI_SIZE=$MANIFEST_SIZE
	printf 'multi %s\n' "$MULTI_DIGEST"
}

# build_big DIR MIB: the 1-layer image of -b.
build_big() {
	layout_init "$1"
	make_layer "$1" big $(($2 << 20)) 1
	make_config "$1" amd64 "" "\"$LAYER_DIFFID\""
	make_manifest "$1" "$CONFIG_DESC" "$LAYER_DESC"
	write_layout_index "$1" "$MT_MANIFEST" "$MANIFEST_DIGEST" "$MANIFEST_SIZE"
	printf 'big %s\n' "$MANIFEST_DIGEST"
}

# build_index DIR: one manifest per platform, tied together by an image index.
build_index() {
	local d="$1" entries="" arch variant plat
	layout_init "$d"
	for plat in amd64: arm64:v8; do
		arch=${plat%%:*}
		variant=${plat#*:}
		make_layer "$d" "$arch" 262144
		make_config "$d" "$arch" "$variant" "\"$LAYER_DIFFID\""
		make_manifest "$d" "$CONFIG_DESC" "$LAYER_DESC"
		if [ -n "$variant" ]; then variant=$(printf ',"variant":"%s"' "$variant"); fi
		entries="$entries${entries:+,}$(printf '{"mediaType":"%s","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"%s}}' \
			"$MT_MANIFEST" "$MANIFEST_DIGEST" "$MANIFEST_SIZE" "$arch" "$variant")"
	done
	put_blob_string "$d" "$(printf '{"schemaVersion":2,"mediaType":"%s","manifests":[%s]}' \
		"$MT_INDEX" "$entries")"
	write_layout_index "$d" "$MT_INDEX" "$BLOB_DIGEST" "$BLOB_SIZE"
	printf 'index %s\n' "$BLOB_DIGEST"
}

# build_artifact DIR: an SBOM-like artifact whose subject is the multi image. The
# subject's blobs are not copied here: a referrer only names its subject.
build_artifact() {
	local d="$1" empty layer
	layout_init "$d"
	# The empty descriptor of image-spec 1.1: the two bytes "{}".
	put_blob_string "$d" '{}'
	[ "$BLOB_DIGEST" = sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a ] ||
		die "empty blob digest is $BLOB_DIGEST"
	empty=$(printf '{"mediaType":"%s","digest":"%s","size":%s}' "$MT_EMPTY" "$BLOB_DIGEST" "$BLOB_SIZE")
	put_blob_string "$d" "$(printf '{"spdxVersion":"SPDX-2.3","name":"multi","nonce":"%s"}' \
		"$(head -c 16 /dev/urandom | sha256sum | cut -c1-32)")"
	layer=$(printf '{"mediaType":"%s","digest":"%s","size":%s}' "$SBOM_MT" "$BLOB_DIGEST" "$BLOB_SIZE")
	put_blob_string "$d" "$(printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"%s","config":%s,"layers":[%s],"subject":{"mediaType":"%s","digest":"%s","size":%s}}' \
		"$MT_MANIFEST" "$ARTIFACT_TYPE" "$empty" "$layer" "$MT_MANIFEST" "$MULTI_DIGEST" "$MULTI_SIZE")"
	write_layout_index "$d" "$MT_MANIFEST" "$BLOB_DIGEST" "$BLOB_SIZE"
	printf 'artifact %s\n' "$BLOB_DIGEST"
}

# verify_one DIR: skopeo must read the layout and copy every blob out of it.
# The index is copied with --all so both platforms' blobs are read.
verify_one() {
	local d="$1" out all=""
	out="$WORK/verify-$(basename "$1")"
	[ "$(basename "$d")" = index ] && all=--all
	skopeo inspect --raw "oci:$d:$REF" >/dev/null || die "skopeo inspect --raw rejects $d"
	rm -rf -- "$out"
	# shellcheck disable=SC2086 # $all is empty or one word
	skopeo copy -q $all "oci:$d:$REF" "dir:$out" >&2 || die "skopeo copy rejects $d"
	note "skopeo accepts $d"
}

main() {
	local opt verify=0 out big=""
	REF=latest
	OPTIND=1
	while getopts 'r:b:v' opt; do
		case $opt in
		r) REF=$OPTARG ;;
		b) big=$OPTARG ;;
		v) verify=1 ;;
		*) die "usage: mkimages.sh [-r REF] [-b MIB] [-v] OUTDIR" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 1 ] || die "usage: mkimages.sh [-r REF] [-b MIB] [-v] OUTDIR"
	case $big in *[!0-9]*) die "-b takes a size in MiB" ;; esac
	out=$1
	mkdir -p -- "$out" || die "cannot create $out"
	out=$(cd -- "$out" && pwd) || die "cannot enter $out"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/mkimages.XXXXXX") || die "mktemp"

	build_multi "$out/multi"
	build_index "$out/index"
	build_artifact "$out/artifact"
	[ -z "$big" ] || build_big "$out/big" "$big"

	if [ "$verify" = 1 ]; then
		command -v skopeo >/dev/null || die "-v needs skopeo"
		verify_one "$out/multi"
		verify_one "$out/index"
		verify_one "$out/artifact"
	fi
}

main "$@"
