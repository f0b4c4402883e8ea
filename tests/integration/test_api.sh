#!/bin/bash
# test_api.sh — the OCI Distribution API (v1.1) of regmaster, end to end: curl drives
# every endpoint and error code against the real binaries, then skopeo copies real
# images in and out.
#
# What it tests:
#   - /v2/ (GET, HEAD); unknown endpoints; 405 with Allow; NAME_INVALID names; path
#     traversal attempts (../, %2e%2e, %2F) rejected without touching the store; a
#     request head over 16 KiB answered 431
#   - uploads: monolithic POST ?digest=, POST + 3 PATCHes with Content-Range + PUT,
#     a chunked (Transfer-Encoding) PATCH, PUT with a final chunk, wrong Content-Range
#     -> 416, a wrong digest -> DIGEST_INVALID with the blob absent afterwards, status
#     GET (204, Range, Docker-Upload-UUID), cancel DELETE, unknown sessions
#   - cross-repository mount with and without from=, and the fallback to an upload
#   - blob GET (headers, body), Range -> 206, unsatisfiable -> 416, HEAD, 404s,
#     isolation between repositories
#   - manifests: PUT by tag and by digest, MANIFEST_BLOB_UNKNOWN (also for a layer
#     type that merely contains "foreign", or a foreign one without urls), MANIFEST_INVALID,
#     TAG_INVALID, a body over 100 KiB (passed to storaged as a descriptor), > 4 MiB
#     -> 413; GET/HEAD by tag and digest with Docker-Content-Digest = sha256 of the
#     body; Accept negotiation
#   - tags/list and _catalog with n/last paging through Link headers; bad n; unknown
#     repository -> NAME_UNKNOWN
#   - referrers: OCI-Subject on the PUT of an artifact, the list with and without an
#     artifactType filter (OCI-Filters-Applied)
#   - DELETE of a manifest by tag then by digest, of a blob; with storage.delete =
#     false (second instance) DELETE answers 405 UNSUPPORTED
#   - pipelined requests; a malformed chunked body; clients leaving mid-body
#   - skopeo: a 3-layer image and a two-platform index (mkimages.sh) copied into the
#     registry and back to an OCI layout with unchanged digests; an OCI 1.1 artifact
#     pushed next to its subject shows in the subject's referrers
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

EMPTY_DIGEST=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_INDEX=application/vnd.oci.image.index.v1+json
MT_CONFIG=application/vnd.oci.image.config.v1+json
MT_LAYER=application/vnd.oci.image.layer.v1.tar+gzip
ARTIFACT_TYPE=application/vnd.example.sbom.v1
ZEROS=sha256:0000000000000000000000000000000000000000000000000000000000000000

# ---------------------------------------------------------------- helpers

# is_body DESC FILE: the last body equals FILE.
is_body() {
	if cmp -s "$BODY" "$2"; then ok "$1"; else fail "$1" "body differs from $2" "$(what)"; fi
}

# t_true DESC CMD...: ok when CMD succeeds (details: the last response).
t_true() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else fail "$d" "command: $*" "$(what)"; fi
}

# contains LIST WORDS: the space-separated WORDS appear in LIST, in a row.
contains() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }

fsize() { stat -c %s "$1"; }

# push REPO FILE: a monolithic upload; sets PUSHED (the digest). 0 on 201.
push() {
	PUSHED=$(dg "$2")
	req POST "/v2/$1/blobs/uploads/?digest=$PUSHED" -H 'Content-Type: application/octet-stream' \
		--data-binary "@$2"
	[ "$CODE" = 201 ]
}

# put_manifest REPO REF FILE [MEDIATYPE]: PUT a manifest.
put_manifest() {
	req PUT "/v2/$1/manifests/$2" -H "Content-Type: ${4:-$MT_MANIFEST}" --data-binary "@$3"
}

# image_manifest OUT CONFIG_DIGEST CONFIG_SIZE LAYER_DIGEST LAYER_SIZE [EXTRA_JSON]
image_manifest() {
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[{"mediaType":"%s","digest":"%s","size":%s}]%s}' \
		"$MT_MANIFEST" "$MT_CONFIG" "$2" "$3" "$MT_LAYER" "$4" "$5" "${6:-}" >"$1"
}

# store_snapshot: every path under the store, for "nothing was touched" checks.
store_snapshot() { (cd "$T_STORE" && find . -print | LC_ALL=C sort); }

# follow_pages PATH JQ: GET PATH and every Link rel="next" after it; prints the JQ
# selection of every page, one item per line. Fails on a non-200 page or a loop.
follow_pages() {
	local p=$1 i link
	for ((i = 0; i < 100; i++)); do
		req GET "$p"
		[ "$CODE" = 200 ] || return 1
		jq -r "$2" <"$BODY" || return 1
		link=$(hval Link)
		[ -n "$link" ] || return 0
		p=$(printf '%s\n' "$link" | sed -n 's/^<\([^>]*\)>; *rel="next"$/\1/p')
		[ -n "$p" ] || return 1
	done
	return 1
}

# ---------------------------------------------------------------- the base and routing

test_base() {
	req GET /v2/
	is_code "GET /v2/ answers 200" 200
	t_true "GET /v2/ body is {}" [ "$(cat "$BODY")" = '{}' ]
	is_hdr "/v2/ names the API version" Docker-Distribution-API-Version registry/2.0
	req HEAD /v2/
	is_code "HEAD /v2/ answers 200" 200
	req GET /v2
	is_code "GET /v2 (no slash) answers 200" 200
	req GET /v2/no/such/endpoint
	is_code "unknown endpoint: 404" 404
	req GET /favicon.ico
	is_code "path outside /v2/: 404" 404
	req PATCH /v2/foo/manifests/latest
	is_err "PATCH on a manifest: 405 UNSUPPORTED" 405 UNSUPPORTED
	is_hdr "405 lists the allowed methods" Allow "GET, HEAD, PUT, DELETE"
	req POST "/v2/foo/blobs/$ZEROS"
	is_err "POST on a blob: 405" 405 UNSUPPORTED
	req GET /v2/UPPER/tags/list
	is_err "upper-case name: 400 NAME_INVALID" 400 NAME_INVALID
	req GET /v2/a__-b/tags/list
	is_err "malformed name: 400 NAME_INVALID" 400 NAME_INVALID
	req GET "/v2/$(head -c 300 /dev/zero | tr '\0' a)/tags/list"
	is_err "overlong name: 400 NAME_INVALID" 400 NAME_INVALID
	req GET /v2/nosuchrepo/tags/list
	is_err "tags of an unknown repository: 404 NAME_UNKNOWN" 404 NAME_UNKNOWN
}

test_traversal() {
	local before after p
	before=$(store_snapshot)
	for p in /v2/a/../b/tags/list /v2/../../etc/blobs/uploads/ /v2/%2e%2e/b/tags/list \
		/v2/a/%2E%2E/%2e%2e/x/blobs/uploads/ /v2/a%2Fb/tags/list /v2/a%2f..%2fb/manifests/x \
		"/v2/a%00b/tags/list" /v2/./a/blobs/uploads/; do
		req POST "$p" --path-as-is
		case $CODE in
		400 | 404 | 405) ok "traversal attempt $p rejected ($CODE)" ;;
		*) fail "traversal attempt $p rejected" "$(what)" ;;
		esac
	done
	req GET /v2/a/../b/tags/list --path-as-is
	is_err "name with .. segments: NAME_INVALID" 400 NAME_INVALID
	req GET /v2/a%2Fb/tags/list --path-as-is
	is_code "%2F in a path: 400" 400
	after=$(store_snapshot)
	t_true "traversal attempts left the store untouched" [ "$before" = "$after" ]
}

test_big_head() {
	local big
	big=$(head -c 17000 /dev/zero | tr '\0' a)
	req GET /v2/ -H "X-Big: $big"
	is_code "a request head over 16 KiB: 431" 431
	req GET /v2/
	is_code "the registry still answers after the 431" 200
}

# ---------------------------------------------------------------- uploads

test_monolithic() {
	local f=$T_DIR/mono d
	head -c 100000 /dev/urandom >"$f"
	d=$(dg "$f")
	req POST "/v2/up/mono/blobs/uploads/?digest=$d" -H 'Content-Type: application/octet-stream' --data-binary "@$f"
	is_code "monolithic POST ?digest= answers 201" 201
	is_hdr "monolithic POST: Location of the blob" Location "/v2/up/mono/blobs/$d"
	is_hdr "monolithic POST: Docker-Content-Digest" Docker-Content-Digest "$d"
	req GET "/v2/up/mono/blobs/$d"
	is_body "the monolithic blob reads back" "$f"
	# An empty blob, monolithic with no body at all.
	req POST "/v2/up/mono/blobs/uploads/?digest=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" -H 'Content-Length: 0'
	is_code "monolithic POST of the empty blob answers 201" 201
	# Wrong digest: refused, nothing stored.
	head -c 5000 /dev/urandom >"$f.bad"
	req POST "/v2/up/mono/blobs/uploads/?digest=$ZEROS" --data-binary "@$f.bad"
	is_err "monolithic POST with a wrong digest: DIGEST_INVALID" 400 DIGEST_INVALID
	req HEAD "/v2/up/mono/blobs/$(dg "$f.bad")"
	is_code "the wrongly-digested blob is absent" 404
	req HEAD "/v2/up/mono/blobs/$ZEROS"
	is_code "nothing is stored under the claimed digest" 404
	req POST "/v2/up/mono/blobs/uploads/?digest=sha256:xyz" --data-binary "@$f.bad"
	is_err "monolithic POST with a malformed digest: DIGEST_INVALID" 400 DIGEST_INVALID
}

test_chunked_upload() {
	local f=$T_DIR/chunks d n l u rest
	head -c 300000 /dev/urandom >"$f"
	d=$(dg "$f")
	head -c 100000 "$f" >"$f.1"
	tail -c +100001 "$f" | head -c 100000 >"$f.2"
	tail -c +200001 "$f" >"$f.3"
	req POST /v2/up/chunks/blobs/uploads/
	is_code "POST starts an upload: 202" 202
	l=$(loc)
	u=$(hval Docker-Upload-UUID)
	t_true "POST: Location names the session" [ "$l" = "/v2/up/chunks/blobs/uploads/$u" ]
	is_hdr "POST: Range 0-0" Range 0-0
	t_true "POST: Content-Length 0" [ "$(hval Content-Length)" = 0 ]
	req PATCH "$l" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 0-99999' --data-binary "@$f.1"
	is_code "PATCH chunk 1 (Content-Range 0-99999): 202" 202
	is_hdr "PATCH chunk 1: Range 0-99999" Range 0-99999
	is_hdr "PATCH chunk 1: Docker-Upload-UUID" Docker-Upload-UUID "$u"
	l=$(loc)
	# Out of order, and a range that disagrees with the body: 416, session kept.
	req PATCH "$l" -H 'Content-Range: 150000-249999' --data-binary "@$f.2"
	is_code "PATCH at a wrong offset: 416" 416
	req PATCH "$l" -H 'Content-Range: 100000-100009' --data-binary "@$f.2"
	is_code "PATCH whose Content-Range disagrees with Content-Length: 416" 416
	req PATCH "$l" -H 'Content-Range: bogus' --data-binary "@$f.2"
	is_code "PATCH with a malformed Content-Range: 416" 416
	req GET "$l"
	is_code "upload status: 204" 204
	is_hdr "upload status: Range 0-99999 (rejected chunks left no trace)" Range 0-99999
	is_hdr "upload status: Docker-Upload-UUID" Docker-Upload-UUID "$u"
	t_true "upload status: Location" [ "$(loc)" = "$l" ]
	req PATCH "$l" -H 'Content-Range: 100000-199999' --data-binary "@$f.2"
	is_code "PATCH chunk 2: 202" 202
	is_hdr "PATCH chunk 2: Range 0-199999" Range 0-199999
	req PATCH "$(loc)" -H "Content-Range: bytes 200000-299999/300000" --data-binary "@$f.3"
	is_code "PATCH chunk 3 (bytes a-b/total form): 202" 202
	is_hdr "PATCH chunk 3: Range 0-299999" Range 0-299999
	req PUT "$(loc)?digest=$d"
	is_code "PUT ?digest= commits: 201" 201
	is_hdr "PUT: Location of the blob" Location "/v2/up/chunks/blobs/$d"
	is_hdr "PUT: Docker-Content-Digest" Docker-Content-Digest "$d"
	req GET "/v2/up/chunks/blobs/$d"
	is_body "the chunked upload reads back" "$f"
	req GET "$l"
	is_err "a committed session is gone: BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN

	# Chunked transfer encoding, no Content-Range (as docker does), then a PUT that
	# carries the last chunk itself.
	req POST /v2/up/te/blobs/uploads/
	l=$(loc)
	req PATCH "$l" -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' --data-binary "@$f.1"
	is_code "chunked Transfer-Encoding PATCH: 202" 202
	is_hdr "chunked PATCH: Range 0-99999" Range 0-99999
	req PATCH "$(loc)" --data-binary "@$f.2"
	is_code "PATCH without Content-Range appends: 202" 202
	is_hdr "appended PATCH: Range 0-199999" Range 0-199999
	req PUT "$(loc)?digest=$d" -H 'Content-Type: application/octet-stream' --data-binary "@$f.3"
	is_code "PUT with the final chunk: 201" 201
	req HEAD "/v2/up/te/blobs/$d"
	is_code "the chunked-encoding upload is stored" 200
	is_hdr "its size is right" Content-Length 300000

	# A wrong digest at commit: refused, the blob absent, the session cancelled.
	rest=$T_DIR/rest
	head -c 70000 /dev/urandom >"$rest"
	req POST /v2/up/bad/blobs/uploads/
	l=$(loc)
	req PATCH "$l" --data-binary "@$rest"
	req PUT "$(loc)?digest=$ZEROS"
	is_err "PUT with a wrong digest: DIGEST_INVALID" 400 DIGEST_INVALID
	req HEAD "/v2/up/bad/blobs/$(dg "$rest")"
	is_code "after a wrong digest the content is not stored" 404
	req HEAD "/v2/up/bad/blobs/$ZEROS"
	is_code "after a wrong digest nothing is under the claimed digest" 404
	req GET "$l"
	is_err "after a wrong digest the session is gone" 404 BLOB_UPLOAD_UNKNOWN

	req POST /v2/up/bad/blobs/uploads/
	l=$(loc)
	req PUT "$l"
	is_err "PUT without ?digest=: DIGEST_INVALID" 400 DIGEST_INVALID
	req PUT "$l?digest=md5:abc"
	case $CODE in
	400) ok "PUT with an unsupported digest: 400 ($(jq -r '.errors[0].code' <"$BODY" 2>/dev/null))" ;;
	*) fail "PUT with an unsupported digest: 400" "$(what)" ;;
	esac
	req DELETE "$l"
	is_code "DELETE of an upload session: 204" 204
	req GET "$l"
	is_err "a cancelled session is gone" 404 BLOB_UPLOAD_UNKNOWN
	req GET /v2/up/bad/blobs/uploads/not-a-uuid
	is_err "an unknown session: BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
	req PATCH /v2/up/bad/blobs/uploads/00000000-0000-4000-8000-000000000000 --data-binary "@$rest"
	is_err "PATCH of an unknown session: BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
	req GET /v2/
	is_code "the registry answers after all that" 200
}

test_mount() {
	local f=$T_DIR/mnt d
	head -c 50000 /dev/urandom >"$f"
	push mnt/src "$f"
	d=$PUSHED
	req POST "/v2/mnt/dst/blobs/uploads/?mount=$d&from=mnt/src"
	is_code "mount from another repository: 201" 201
	is_hdr "mount: Location of the blob" Location "/v2/mnt/dst/blobs/$d"
	is_hdr "mount: Docker-Content-Digest" Docker-Content-Digest "$d"
	req GET "/v2/mnt/dst/blobs/$d"
	is_body "the mounted blob reads back" "$f"
	req POST "/v2/mnt/dst2/blobs/uploads/?mount=$d"
	is_code "mount without from= (OCI 1.1): 201" 201
	req HEAD "/v2/mnt/dst2/blobs/$d"
	is_code "the blob mounted without from= is in the repository" 200
	req POST "/v2/mnt/dst3/blobs/uploads/?mount=$ZEROS&from=mnt/src"
	is_code "mount of an unknown blob falls back to an upload: 202" 202
	t_true "the fallback names an upload session" [ -n "$(hval Docker-Upload-UUID)" ]
	req DELETE "$(loc)"
	req POST "/v2/mnt/dst3/blobs/uploads/?mount=$d&from=BAD"
	is_code "mount from an invalid name falls back to an upload: 202" 202
	req DELETE "$(loc)"
	req HEAD "/v2/mnt/other/blobs/$d"
	is_code "a blob is not readable through a repository that lacks it" 404
}

test_blob_get() {
	local f=$T_DIR/get d n
	head -c 123457 /dev/urandom >"$f"
	push get/blob "$f"
	d=$PUSHED
	req GET "/v2/get/blob/blobs/$d"
	is_code "blob GET: 200" 200
	is_body "blob GET: the content" "$f"
	is_hdr "blob GET: Content-Length" Content-Length 123457
	is_hdr "blob GET: Content-Type" Content-Type application/octet-stream
	is_hdr "blob GET: Docker-Content-Digest" Docker-Content-Digest "$d"
	is_hdr "blob GET: ETag" ETag "\"$d\""
	is_hdr "blob GET: Accept-Ranges" Accept-Ranges bytes
	is_hdr "blob GET: Cache-Control" Cache-Control max-age=31536000
	req GET "/v2/get/blob/blobs/$d" -H 'Range: bytes=1000-1999'
	is_code "blob GET with Range: 206" 206
	is_hdr "206: Content-Range" Content-Range "bytes 1000-1999/123457"
	is_hdr "206: Content-Length" Content-Length 1000
	tail -c +1001 "$f" | head -c 1000 >"$f.part"
	is_body "206: the range's bytes" "$f.part"
	req GET "/v2/get/blob/blobs/$d" -H 'Range: bytes=-10'
	tail -c 10 "$f" >"$f.tail"
	is_code "suffix range: 206" 206
	is_body "suffix range: the last 10 bytes" "$f.tail"
	req GET "/v2/get/blob/blobs/$d" -H 'Range: bytes=123000-999999'
	is_hdr "range past the end is clipped" Content-Range "bytes 123000-123456/123457"
	req GET "/v2/get/blob/blobs/$d" -H 'Range: bytes=123457-'
	is_code "unsatisfiable range: 416" 416
	is_hdr "416: Content-Range bytes */size" Content-Range "bytes */123457"
	req HEAD "/v2/get/blob/blobs/$d"
	is_code "blob HEAD: 200" 200
	is_hdr "blob HEAD: Content-Length" Content-Length 123457
	is_hdr "blob HEAD: Docker-Content-Digest" Docker-Content-Digest "$d"
	req GET "/v2/get/blob/blobs/$ZEROS"
	is_err "unknown blob: 404 BLOB_UNKNOWN" 404 BLOB_UNKNOWN
	req HEAD "/v2/get/blob/blobs/$ZEROS"
	is_code "unknown blob HEAD: 404" 404
	req GET "/v2/get/blob/blobs/sha256:nothex"
	is_err "malformed digest: 400 DIGEST_INVALID" 400 DIGEST_INVALID
	# Keep-alive: several requests on one connection.
	n=$(curl -s -o /dev/null -w '%{http_code} %{num_connects}\n' "$T_URL/v2/get/blob/blobs/$d" \
		--next -s -o /dev/null -w '%{http_code} %{num_connects}\n' -r 0-0 "$T_URL/v2/get/blob/blobs/$d" \
		--next -s -o /dev/null -w '%{http_code} %{num_connects}\n' "$T_URL/v2/" | tr '\n' ' ')
	t_true "three requests on one keep-alive connection" [ "$n" = "200 1 206 0 200 0 " ]
}

# ---------------------------------------------------------------- manifests

# make_image REPO: push a config and a layer; sets MF (manifest file), MFD (digest).
make_image() {
	local repo=$1 cfg=$T_DIR/cfg.$RANDOM lay=$T_DIR/lay.$RANDOM cd cs
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"x":"%s"}' \
		"$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)" "$RANDOM" >"$cfg"
	head -c 20000 /dev/urandom >"$lay"
	push "$repo" "$cfg" || fail "push config to $repo" "$(what)"
	cd=$PUSHED
	cs=$(fsize "$cfg")
	push "$repo" "$lay" || fail "push layer to $repo" "$(what)"
	MF=$T_DIR/manifest.$RANDOM.json
	image_manifest "$MF" "$cd" "$cs" "$PUSHED" "$(fsize "$lay")"
	MFD=$(dg "$MF")
	CFG_DIGEST=$cd
	CFG_SIZE=$cs
	LAYER_DIGEST=$PUSHED
	LAYER_SIZE=$(fsize "$lay")
}

test_manifests() {
	local r=img/app mf2 big huge bad d2 pad
	make_image "$r"
	put_manifest "$r" v1 "$MF"
	is_code "manifest PUT by tag: 201" 201
	is_hdr "manifest PUT: Docker-Content-Digest is the body's sha256" Docker-Content-Digest "$MFD"
	is_hdr "manifest PUT: Location by digest" Location "/v2/$r/manifests/$MFD"
	t_true "manifest PUT: no OCI-Subject without a subject" [ -z "$(hval OCI-Subject)" ]

	req GET "/v2/$r/manifests/v1" -H "Accept: $MT_MANIFEST"
	is_code "manifest GET by tag: 200" 200
	is_body "manifest GET by tag: the bytes pushed" "$MF"
	is_hdr "manifest GET: Content-Type is the stored media type" Content-Type "$MT_MANIFEST"
	is_hdr "manifest GET: Docker-Content-Digest" Docker-Content-Digest "$(dg "$BODY")"
	is_hdr "manifest GET: ETag" ETag "\"$MFD\""
	req GET "/v2/$r/manifests/$MFD"
	is_code "manifest GET by digest (no Accept): 200" 200
	is_body "manifest GET by digest: the bytes pushed" "$MF"
	req HEAD "/v2/$r/manifests/v1" -H "Accept: $MT_MANIFEST"
	is_code "manifest HEAD: 200" 200
	is_hdr "manifest HEAD: Content-Length" Content-Length "$(fsize "$MF")"
	is_hdr "manifest HEAD: Docker-Content-Digest" Docker-Content-Digest "$MFD"
	req GET "/v2/$r/manifests/v1" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'
	is_err "manifest GET whose Accept excludes its type: 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
	req GET "/v2/$r/manifests/v1" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H "Accept: $MT_MANIFEST, $MT_INDEX"
	is_code "Accept spread over several header lines: 200" 200
	req GET "/v2/$r/manifests/v1" -H 'Accept: */*'
	is_code "Accept */*: 200" 200
	req GET "/v2/$r/manifests/nosuchtag"
	is_err "unknown tag: 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
	req GET "/v2/$r/manifests/$ZEROS"
	is_err "unknown digest: 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
	req GET "/v2/nosuch/repo/manifests/v1"
	case $CODE in 404) ok "manifest of an unknown repository: 404 ($(jq -r '.errors[0].code' <"$BODY" 2>/dev/null))" ;;
	*) fail "manifest of an unknown repository: 404" "$(what)" ;; esac

	# By digest: a second manifest (different annotations), PUT at its digest.
	mf2=$T_DIR/m2.json
	image_manifest "$mf2" "$CFG_DIGEST" "$CFG_SIZE" "$LAYER_DIGEST" "$LAYER_SIZE" ',"annotations":{"k":"v2"}'
	d2=$(dg "$mf2")
	put_manifest "$r" "$d2" "$mf2"
	is_code "manifest PUT by digest: 201" 201
	is_hdr "manifest PUT by digest: Docker-Content-Digest" Docker-Content-Digest "$d2"
	put_manifest "$r" "$ZEROS" "$mf2"
	is_err "manifest PUT at a digest that is not its own: DIGEST_INVALID" 400 DIGEST_INVALID

	# Refusals.
	bad=$T_DIR/bad.json
	image_manifest "$bad" "$CFG_DIGEST" "$CFG_SIZE" "$ZEROS" 5
	put_manifest "$r" v-missing "$bad"
	is_err "manifest naming a missing blob: MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN
	# Only Docker's foreign and OCI's non-distributable layers with urls may be
	# missing: a media type that merely contains "foreign" is an ordinary layer.
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.example.foreign.diff","digest":"%s","size":5,"urls":["https://example.com/x"]}]}' \
		"$MT_MANIFEST" "$MT_CONFIG" "$CFG_DIGEST" "$CFG_SIZE" "$ZEROS" >"$bad"
	put_manifest "$r" v-fake-foreign "$bad"
	is_err "a \"foreign\"-containing layer type with a missing blob: MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"%s","size":5}]}' \
		"$MT_MANIFEST" "$MT_CONFIG" "$CFG_DIGEST" "$CFG_SIZE" "$ZEROS" >"$bad"
	put_manifest "$r" v-foreign-nourls "$bad"
	is_err "a foreign layer without urls and a missing blob: MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN
	printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip","digest":"%s","size":5,"urls":["https://example.com/x"]}]}' \
		"$MT_MANIFEST" "$MT_CONFIG" "$CFG_DIGEST" "$CFG_SIZE" "$ZEROS" >"$bad"
	put_manifest "$r" v-nondist "$bad"
	is_code "a non-distributable layer with urls need not be here: 201" 201
	printf '{"schemaVersion":2,' >"$bad"
	put_manifest "$r" v-bad "$bad"
	is_err "invalid JSON: MANIFEST_INVALID" 400 MANIFEST_INVALID
	put_manifest "$r" -bad-tag "$MF"
	is_err "invalid tag on PUT: TAG_INVALID" 400 TAG_INVALID
	put_manifest "$r" "sha256:short" "$MF"
	is_err "malformed digest reference on PUT: DIGEST_INVALID" 400 DIGEST_INVALID
	req PUT "/v2/$r/manifests/empty" -H "Content-Type: $MT_MANIFEST" -H 'Content-Length: 0'
	is_err "empty manifest: MANIFEST_INVALID" 400 MANIFEST_INVALID

	# Over 100 KiB: storaged gets it as a descriptor, not inline.
	big=$T_DIR/big.json
	pad=$(head -c 150000 /dev/zero | tr '\0' x)
	image_manifest "$big" "$CFG_DIGEST" "$CFG_SIZE" "$LAYER_DIGEST" "$LAYER_SIZE" ",\"annotations\":{\"pad\":\"$pad\"}"
	put_manifest "$r" big "$big"
	is_code "a 150 KiB manifest PUT: 201" 201
	is_hdr "the 150 KiB manifest's digest" Docker-Content-Digest "$(dg "$big")"
	req GET "/v2/$r/manifests/big"
	is_body "the 150 KiB manifest reads back" "$big"
	huge=$T_DIR/huge.json
	head -c 4300000 /dev/zero | tr '\0' ' ' >"$huge"
	put_manifest "$r" huge "$huge"
	is_code "a manifest over 4 MiB: 413" 413
	MANIFEST_REPO=$r
	MANIFEST_V1=$MFD
}

test_tags_catalog() {
	local r=list/tags t got want
	make_image "$r"
	for t in b a e c d; do
		put_manifest "$r" "$t" "$MF"
		[ "$CODE" = 201 ] || fail "push tag $t" "$(what)"
	done
	req GET "/v2/$r/tags/list"
	is_code "tags/list: 200" 200
	is_hdr "tags/list: Content-Type" Content-Type application/json
	t_true "tags/list: all tags, sorted" [ "$(jq -c . <"$BODY")" = '{"name":"list/tags","tags":["a","b","c","d","e"]}' ]
	t_true "tags/list without n: no Link" [ -z "$(hval Link)" ]
	req GET "/v2/$r/tags/list?n=2"
	t_true "tags/list?n=2: two tags" [ "$(jq -c .tags <"$BODY")" = '["a","b"]' ]
	is_hdr "tags/list?n=2: Link to the next page" Link "</v2/$r/tags/list?n=2&last=b>; rel=\"next\""
	req GET "/v2/$r/tags/list?n=2&last=b"
	t_true "tags/list?n=2&last=b: the next two" [ "$(jq -c .tags <"$BODY")" = '["c","d"]' ]
	got=$(follow_pages "/v2/$r/tags/list?n=2" '.tags[]' | tr '\n' ' ')
	t_true "following Link pages yields every tag once" [ "$got" = "a b c d e " ]
	req GET "/v2/$r/tags/list?n=5"
	t_true "tags/list?n=5 (exactly all): no Link" [ -z "$(hval Link)" ]
	req GET "/v2/$r/tags/list?n=abc"
	is_err "tags/list?n=abc: 400" 400 PAGINATION_NUMBER_INVALID
	req GET "/v2/$r/tags/list?n=-1"
	is_code "tags/list?n=-1: 400" 400
	req GET "/v2/$r/tags/list?n=0"
	is_code "tags/list?n=0: 200" 200
	req GET "/v2/$r/tags/list?n=999999999"
	is_code "tags/list with a huge n is capped, not refused" 200

	make_image list/r1
	put_manifest list/r1 x "$MF"
	make_image list/r2
	put_manifest list/r2 x "$MF"
	req GET /v2/_catalog
	is_code "_catalog: 200" 200
	want=$(jq -r '.repositories[]' <"$BODY" | tr '\n' ' ')
	t_true "_catalog lists the repositories, sorted" contains "$want" "list/r1 list/r2 list/tags"
	req GET "/v2/_catalog?n=1"
	is_hdr "_catalog?n=1: Link to the next page" Link "</v2/_catalog?n=1&last=$(jq -r '.repositories[0]' <"$BODY")>; rel=\"next\""
	got=$(follow_pages "/v2/_catalog?n=1" '.repositories[]' | tr '\n' ' ')
	t_true "_catalog paged by one: the same list" [ "$got" = "$want" ]
	req GET "/v2/_catalog?n=x"
	is_code "_catalog?n=x: 400" 400
}

test_referrers() {
	local r=ref/app art=$T_DIR/artifact.json sbom=$T_DIR/sbom.json ad sd
	make_image "$r"
	put_manifest "$r" v1 "$MF"
	sd=$MFD
	printf '{}' >"$T_DIR/empty"
	push "$r" "$T_DIR/empty"
	t_true "the empty descriptor blob has its well-known digest" [ "$PUSHED" = "$EMPTY_DIGEST" ]
	printf '{"spdxVersion":"SPDX-2.3","n":%s}' "$RANDOM" >"$sbom"
	push "$r" "$sbom"
	printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"%s","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/spdx+json","digest":"%s","size":%s}],"subject":{"mediaType":"%s","digest":"%s","size":%s},"annotations":{"org.example":"yes"}}' \
		"$MT_MANIFEST" "$ARTIFACT_TYPE" "$EMPTY_DIGEST" "$PUSHED" "$(fsize "$sbom")" "$MT_MANIFEST" "$sd" "$(fsize "$MF")" >"$art"
	ad=$(dg "$art")
	req GET "/v2/$r/referrers/$sd"
	is_code "referrers before any: 200" 200
	t_true "referrers before any: an empty index" [ "$(jq -c '.manifests' <"$BODY")" = '[]' ]
	put_manifest "$r" "$ad" "$art"
	is_code "artifact PUT: 201" 201
	is_hdr "artifact PUT: OCI-Subject names the subject" OCI-Subject "$sd"
	req GET "/v2/$r/referrers/$sd"
	is_code "referrers: 200" 200
	is_hdr "referrers: Content-Type is the OCI index" Content-Type "$MT_INDEX"
	t_true "referrers: an OCI index" [ "$(jq -r '.mediaType, .schemaVersion' <"$BODY" | tr '\n' ' ')" = "$MT_INDEX 2 " ]
	t_true "referrers: lists the artifact with its artifactType" \
		[ "$(jq -r '.manifests[] | "\(.digest) \(.artifactType) \(.mediaType)"' <"$BODY")" = "$ad $ARTIFACT_TYPE $MT_MANIFEST" ]
	t_true "referrers: the descriptor carries the annotations and size" \
		[ "$(jq -r '.manifests[0] | "\(.annotations["org.example"]) \(.size)"' <"$BODY")" = "yes $(fsize "$art")" ]
	t_true "referrers without a filter: no OCI-Filters-Applied" [ -z "$(hval OCI-Filters-Applied)" ]
	req GET "/v2/$r/referrers/$sd?artifactType=$ARTIFACT_TYPE"
	is_hdr "filtered referrers: OCI-Filters-Applied" OCI-Filters-Applied artifactType
	t_true "filtered referrers: the artifact" [ "$(jq -r '.manifests[].digest' <"$BODY")" = "$ad" ]
	req GET "/v2/$r/referrers/$sd?artifactType=application/vnd.other"
	is_hdr "referrers filtered by another type: OCI-Filters-Applied" OCI-Filters-Applied artifactType
	t_true "referrers filtered by another type: empty" [ "$(jq -c '.manifests' <"$BODY")" = '[]' ]
	req GET "/v2/$r/referrers/sha256:bad"
	is_err "referrers of a malformed digest: DIGEST_INVALID" 400 DIGEST_INVALID
	req GET "/v2/$r/referrers/v1"
	is_err "referrers of a tag: DIGEST_INVALID" 400 DIGEST_INVALID
}

test_delete() {
	local r=$MANIFEST_REPO f=$T_DIR/del d
	req DELETE "/v2/$r/manifests/v1"
	is_code "manifest DELETE by tag: 202" 202
	req GET "/v2/$r/manifests/v1"
	is_err "the deleted tag is gone" 404 MANIFEST_UNKNOWN
	req GET "/v2/$r/manifests/$MANIFEST_V1"
	is_code "the manifest stays reachable by digest" 200
	req DELETE "/v2/$r/manifests/$MANIFEST_V1"
	is_code "manifest DELETE by digest: 202" 202
	req GET "/v2/$r/manifests/$MANIFEST_V1"
	is_err "the deleted manifest is gone" 404 MANIFEST_UNKNOWN
	req DELETE "/v2/$r/manifests/$MANIFEST_V1"
	is_err "DELETE of a deleted manifest: 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
	head -c 1000 /dev/urandom >"$f"
	push del/blob "$f"
	d=$PUSHED
	req DELETE "/v2/del/blob/blobs/$d"
	is_code "blob DELETE: 202" 202
	req GET "/v2/del/blob/blobs/$d"
	is_err "the deleted blob is gone" 404 BLOB_UNKNOWN
	req DELETE "/v2/del/blob/blobs/$d"
	is_err "DELETE of a deleted blob: 404 BLOB_UNKNOWN" 404 BLOB_UNKNOWN
}

test_delete_disabled() {
	local f
	t_init api-nodelete || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	sed -i 's/delete = true;/delete = false;/' "$T_CONF"
	t_start || {
		fail "start the instance with storage.delete = false" "$T_OUT"
		return 1
	}
	t_wait_http "$T_URL/v2/" 200 10
	f=$T_DIR/nd
	head -c 1000 /dev/urandom >"$f"
	push nd/repo "$f"
	make_image nd/repo
	put_manifest nd/repo v1 "$MF"
	req DELETE "/v2/nd/repo/manifests/v1"
	is_err "delete disabled: manifest DELETE 405 UNSUPPORTED" 405 UNSUPPORTED
	t_true "delete disabled: 405 carries an Allow without DELETE" [ "$(hval Allow)" = "GET, HEAD, PUT" ]
	req DELETE "/v2/nd/repo/manifests/$MFD"
	is_err "delete disabled: manifest DELETE by digest 405" 405 UNSUPPORTED
	req DELETE "/v2/nd/repo/blobs/$PUSHED"
	is_err "delete disabled: blob DELETE 405" 405 UNSUPPORTED
	req GET "/v2/nd/repo/manifests/v1"
	is_code "delete disabled: the manifest is still there" 200
	t_stop
}

# raw TEXT: send TEXT on one connection; the whole answer on stdout (3 s at most).
raw() {
	local out
	exec 3<>"/dev/tcp/127.0.0.1/$T_PORT" || return 1
	printf '%b' "$1" >&3
	out=$(timeout 3 cat <&3)
	exec 3<&-
	printf '%s\n' "$out"
}

test_robustness() {
	local l f=$T_DIR/abort n
	n=$(raw 'GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/nosuch/tags/list HTTP/1.1\r\nHost: x\r\n\r\nHEAD /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		grep -o 'HTTP/1.1 [0-9]*' | tr '\n' ' ')
	t_true "three pipelined requests get three answers in order" [ "$n" = "HTTP/1.1 200 HTTP/1.1 404 HTTP/1.1 200 " ]
	req POST /v2/rob/up/blobs/uploads/
	l=$(loc)
	n=$(raw "PATCH $l HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\nzz\\r\\n" | head -1 | tr -d '\r')
	t_true "a malformed chunked PATCH body: 400" [ "$n" = "HTTP/1.1 400 Bad Request" ]
	head -c 3000000 /dev/urandom >"$f"
	req POST /v2/rob/up/blobs/uploads/
	l=$(loc)
	curl -s -o /dev/null -X PATCH --limit-rate 1M --max-time 1 --data-binary "@$f" "$T_URL$l"
	raw "PUT /v2/rob/up/manifests/t HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 100\\r\\n\\r\\nabc" >/dev/null
	req GET "$l"
	is_code "the session survives a client that left mid-body" 204
	is_hdr "the incomplete chunk (Content-Length known) left nothing" Range 0-0
	req PUT "$l?digest=$(dg "$f")" --data-binary "@$f"
	is_code "the session is then finished by a complete upload" 201
	req POST /v2/rob/up/blobs/uploads/
	l=$(loc)
	curl -s -o /dev/null -X PATCH --limit-rate 1M --max-time 1 -H 'Transfer-Encoding: chunked' --data-binary "@$f" "$T_URL$l"
	req GET "$l"
	is_code "the session survives a client that left mid-body (chunked)" 204
	req GET /v2/
	is_code "the registry answers after clients left mid-body" 200
}

# ---------------------------------------------------------------- skopeo

test_skopeo() {
	local img=$T_DIR/img host=127.0.0.1:$T_PORT name digest got back
	if ! command -v skopeo >/dev/null 2>&1; then
		t_diag "skopeo not installed: real-client round trip skipped"
		return 0
	fi
	if ! bash "$T_LIB_DIR/mkimages.sh" "$img" >"$T_DIR/images" 2>"$T_DIR/mkimages.err"; then
		fail "mkimages.sh builds the test images" "$(cat "$T_DIR/mkimages.err")"
		return 1
	fi
	while read -r name digest; do
		case $name in multi | index) ;; *) continue ;; esac
		local all=()
		[ "$name" = index ] && all=(--all)
		if timeout 120 skopeo copy -q "${all[@]}" --dest-tls-verify=false "oci:$img/$name:latest" \
			"docker://$host/sk/$name:latest" >"$T_DIR/sk.out" 2>&1; then
			ok "skopeo copy pushes the $name image"
		else
			fail "skopeo copy pushes the $name image" "$(cat "$T_DIR/sk.out")"
			continue
		fi
		got=$(timeout 60 skopeo inspect --raw --tls-verify=false "docker://$host/sk/$name:latest" 2>"$T_DIR/sk.out" |
			sha256sum | cut -d' ' -f1)
		t_true "the pushed $name manifest has the layout's digest" [ "sha256:$got" = "$digest" ]
		back=$T_DIR/back-$name
		if timeout 120 skopeo copy -q "${all[@]}" --src-tls-verify=false "docker://$host/sk/$name:latest" \
			"oci:$back:latest" >"$T_DIR/sk.out" 2>&1; then
			ok "skopeo copy pulls the $name image back"
		else
			fail "skopeo copy pulls the $name image back" "$(cat "$T_DIR/sk.out")"
			continue
		fi
		t_true "the pulled $name image has the same digest" \
			[ "$(jq -r '.manifests[0].digest' <"$back/index.json")" = "$digest" ]
		t_true "every blob of the pulled $name image matches its digest" blobs_verify "$back"
	done <"$T_DIR/images"
	req GET /v2/sk/multi/tags/list
	t_true "skopeo's push is listed" [ "$(jq -c .tags <"$BODY")" = '["latest"]' ]
	# The OCI 1.1 artifact whose subject is "multi": pushed next to it, it refers to it.
	digest=$(awk '$1 == "artifact" { print $2 }' "$T_DIR/images")
	got=$(awk '$1 == "multi" { print $2 }' "$T_DIR/images")
	if timeout 120 skopeo copy -q --dest-tls-verify=false "oci:$img/artifact:latest" \
		"docker://$host/sk/multi:sbom" >"$T_DIR/sk.out" 2>&1; then
		ok "skopeo copy pushes the artifact"
	else
		fail "skopeo copy pushes the artifact" "$(cat "$T_DIR/sk.out")"
		return 1
	fi
	req GET "/v2/sk/multi/referrers/$got"
	t_true "the artifact skopeo pushed is a referrer of its subject" \
		[ "$(jq -r '.manifests[].digest' <"$BODY")" = "$digest" ]
}

# blobs_verify LAYOUT: every blob file's sha256 is its name.
blobs_verify() {
	local b
	for b in "$1"/blobs/sha256/*; do
		[ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || return 1
	done
}

# ---------------------------------------------------------------- the suite

body() {
	t_serve api || return 1
	test_base
	test_traversal
	test_big_head
	test_monolithic
	test_chunked_upload
	test_mount
	test_blob_get
	test_manifests
	test_tags_catalog
	test_referrers
	test_delete
	test_robustness
	test_skopeo
	t_stop
	test_delete_disabled
}

t_run_modes body
t_summary
