/*
 * api_manifest.c - the metadata endpoints of the Distribution API:
 * manifests (GET and HEAD with Accept negotiation, PUT, DELETE by digest or
 * tag), tag lists and the catalog (paged with n/last and a Link header),
 * and the OCI 1.1 referrers list (paged by digest with n/last and a Link
 * header too, as its descriptors carry annotations of any size). storaged
 * answers them from its index; here requests are checked at the edge and
 * answers shaped for clients.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "regerr.h"
#include "util.h"

/* A value from storaged that goes into a header: printable, no CR/LF. */
int
api_header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* A digest storaged sent, canonical into out; -1 if it is none. */
static int
reply_digest(const struct msg *m, int attr, char *out, size_t len)
{
	const char *s = msg_str(m, attr);
	struct digest d;

	if (s == NULL || digest_parse(s, &d) != 0 ||
	    digest_format(&d, out, len) == -1)
		return -1;
	return 0;
}

/*
 * May a manifest of type mt answer this request? Every Accept header line
 * counts. Only a client that names types, none of them this one, is
 * refused; an index or list is served anyway, as Distribution does.
 */
static int
accept_ok(const struct conn *c, const char *mt)
{
	int i, seen = 0;

	for (i = http_header_index(&c->req, "Accept", 0); i != -1;
	    i = http_header_index(&c->req, "Accept", i + 1)) {
		if (c->req.hdr[i].value[0] == '\0')
			continue;
		seen = 1;
		if (oci_accept_ok(c->req.hdr[i].value, mt))
			return 1;
	}
	return !seen || strcmp(mt, MT_OCI_INDEX) == 0 ||
	    strcmp(mt, MT_DOCKER_LIST) == 0;
}

/* A manifest: check Accept, then send it (inline or a descriptor). */
void
api_on_manifest(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	char digest[DIGEST_STRMAX];
	const char *mt;
	uint64_t size;
	int fd;

	if (!api_reply_ok(c, m, M_MANIFEST))
		return;
	mt = msg_str(m, A_MEDIATYPE);
	size = msg_u64(m, A_SIZE, 0);
	fd = msg_take_fd(m, A_FD);
	if (reply_digest(m, A_DIGEST, digest, sizeof(digest)) == -1 ||
	    !api_header_safe(mt) || (fd == -1 && (!msg_has(m, A_BODY) ||
	    m->v[A_BODY].len != size))) {
		log_warnx("storaged sent a malformed manifest answer");
		if (fd != -1)
			close(fd);
		api_error(c, RE_INTERNAL, NULL);
		return;
	}
	if (!accept_ok(c, mt)) {
		if (fd != -1)
			close(fd);
		api_error(c, RE_MANIFEST_UNKNOWN, "the manifest's media type "
		    "is not in the request's Accept header");
		return;
	}
	if (c->req.method == HTTP_M_GET)
		audit_note(c, "pull", 200, digest, size);
	conn_header(c, "Docker-Content-Digest", "%s", digest);
	conn_header(c, "ETag", "\"%s\"", digest);
	if (fd != -1)
		conn_respond_fd(c, 200, *mt ? mt : NULL, fd, 0, size);
	else
		conn_respond(c, 200, *mt ? mt : NULL, m->v[A_BODY].p,
		    m->v[A_BODY].len);
}

/* The manifest is stored: 201 with its digest (and subject). */
static void
on_manifest_put(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	char digest[DIGEST_STRMAX], subject[DIGEST_STRMAX];

	if (!api_reply_ok(c, m, M_MANIFEST))
		return;
	if (reply_digest(m, A_DIGEST, digest, sizeof(digest)) == -1 ||
	    (msg_has(m, A_REF) &&
	    reply_digest(m, A_REF, subject, sizeof(subject)) == -1)) {
		log_warnx("storaged sent a malformed manifest answer");
		api_error(c, RE_INTERNAL, NULL);
		return;
	}
	audit_note(c, "push", 201, digest, c->body_total);
	conn_header(c, "Location", "/v2/%s/manifests/%s", c->api->repo,
	    digest);
	conn_header(c, "Docker-Content-Digest", "%s", digest);
	if (msg_has(m, A_REF))
		conn_header(c, "OCI-Subject", "%s", subject);
	conn_respond(c, 201, NULL, "", 0);
}

/* The manifest or tag is gone: 202. */
static void
on_manifest_delete(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;

	if (!api_reply_ok(c, m, M_DONE))
		return;
	audit_note(c, "delete", 202, NULL, 0);
	conn_respond(c, 202, NULL, "", 0);
}

/* A sealed memory file holding p[0..len), for bodies too big to inline. */
int
api_body_memfd(const char *p, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = memfd_create("manifest", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	/* storaged may then trust that what it hashes stays what it stores */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The manifest body is in memory: hand it to storaged. */
static void
on_manifest_body(struct conn *c, int err)
{
	struct api_req *r = c->api;
	const char *ct = http_header_get(&c->req, "Content-Type");
	size_t len = buf_avail(&c->body);
	struct msgb mb;
	int fd = -1;

	if (err == 413) {
		api_error(c, RE_TOO_LARGE, "manifests are limited to 4 MiB");
		return;
	}
	if (err == 408) {
		api_error_status(c, 408, "MANIFEST_INVALID",
		    "request body timeout", NULL);
		return;
	}
	if (err == 503) {
		api_error(c, RE_UNAVAILABLE, "too many manifests in flight");
		return;
	}
	if (err == 429) {
		api_error(c, RE_TOOMANYREQUESTS,
		    "too many manifests in flight from this address");
		return;
	}
	if (err != 0 || len == 0) {
		api_error(c, RE_MANIFEST_INVALID, err ? "malformed request "
		    "body" : "empty manifest");
		return;
	}
	if (len > API_INLINE_MAX &&
	    (fd = api_body_memfd(buf_head(&c->body), len)) == -1) {
		log_warn("memfd");
		api_error(c, RE_INTERNAL, NULL);
		return;
	}
	msgb_init(&mb, M_MANIFEST_PUT);
	msgb_str(&mb, A_REPO, r->repo);
	msgb_str(&mb, A_REF, r->ref);
	msgb_str(&mb, A_MEDIATYPE, ct ? ct : "");
	msgb_u64(&mb, A_SIZE, len);
	if (fd == -1)
		msgb_bytes(&mb, A_BODY, buf_head(&c->body), len);
	else
		msgb_fd(&mb, A_FD, fd);
	api_send(c, &mb, on_manifest_put);
}

/*
 * The reference of a manifest path: a digest (canonicalised into r->ref)
 * or a tag. An invalid tag is answered with bad_tag; -1 when answered.
 */
int
api_manifest_ref(struct conn *c, int bad_tag)
{
	struct api_req *r = c->api;

	if (strchr(r->ref, ':') != NULL)
		return api_parse_digest(c, r->ref, r->ref, sizeof(r->ref));
	if (!oci_tag_valid(r->ref)) {
		api_error(c, bad_tag, "invalid tag");
		return -1;
	}
	return 0;
}

/* GET, HEAD, PUT, DELETE /v2/<name>/manifests/<reference> */
void
api_manifest(struct conn *c)
{
	struct api_req *r = c->api;
	const char *ct;
	struct msgb mb;

	switch (c->req.method) {
	case HTTP_M_PUT:
		ct = http_header_get(&c->req, "Content-Type");
		if (api_manifest_ref(c, RE_TAG_INVALID) == -1)
			return;
		if (ct && (strlen(ct) > OCI_MEDIATYPE_MAX ||
		    !api_header_safe(ct))) {
			api_error(c, RE_MANIFEST_INVALID, "bad Content-Type");
			return;
		}
		conn_body_to_mem(c, OCI_MANIFEST_MAX, on_manifest_body);
		return;
	case HTTP_M_DELETE:
		if (api_manifest_ref(c, RE_MANIFEST_UNKNOWN) == -1 ||
		    !api_delete_enabled(c))
			return;
		msgb_init(&mb, M_MANIFEST_DELETE);
		msgb_str(&mb, A_REPO, r->repo);
		msgb_str(&mb, A_REF, r->ref);
		api_send(c, &mb, on_manifest_delete);
		return;
	default:
		if (api_manifest_ref(c, RE_MANIFEST_UNKNOWN) == -1)
			return;
		msgb_init(&mb, M_MANIFEST_GET);
		msgb_str(&mb, A_REPO, r->repo);
		msgb_str(&mb, A_REF, r->ref);
		api_send(c, &mb, api_on_manifest);
		return;
	}
}

/* ------------------------------------------------------------ listings */

/* Link: <...>; rel="next" when storaged says more remain after last. */
static int
list_link(struct conn *c, const char *last)
{
	struct api_req *r = c->api;
	char esc[3 * 256 + 1], n[32] = "";

	if (http_query_escape(last, "-._~/", esc, sizeof(esc)) == -1)
		return -1;
	if (r->has_n && snprintf(n, sizeof(n), "n=%llu&",
	    (unsigned long long)r->n) >= (int)sizeof(n))
		return -1;
	if (r->route == R_CATALOG)
		conn_header(c, "Link", "</v2/_catalog?%slast=%s>; rel=\"next\"",
		    n, esc);
	else
		conn_header(c, "Link", "</v2/%s/tags/list?%slast=%s>; "
		    "rel=\"next\"", r->repo, n, esc);
	return 0;
}

/* Answer with the JSON document of an M_LIST (inline, or a descriptor). */
static void
list_respond(struct conn *c, struct msg *m, const char *ctype)
{
	int fd = msg_take_fd(m, A_FD);

	if (fd != -1 && !msg_has(m, A_SIZE)) {
		close(fd);
		log_warnx("storaged sent a list descriptor without a size");
		api_error(c, RE_INTERNAL, NULL);
		return;
	}
	if (fd != -1)
		conn_respond_fd(c, 200, ctype, fd, 0, msg_u64(m, A_SIZE, 0));
	else
		conn_respond(c, 200, ctype, m->v[A_BODY].p, m->v[A_BODY].len);
}

/* A tags or catalog page, with a Link when more remain. */
static void
on_list(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	const char *last;

	if (!api_reply_ok(c, m, M_LIST))
		return;
	if ((last = msg_str(m, A_LAST)) != NULL && list_link(c, last) == -1) {
		log_warnx("storaged sent an overlong last entry");
		api_error(c, RE_INTERNAL, NULL);
		return;
	}
	list_respond(c, m, "application/json");
}

/* ?n=&last= of a listing into mb; -1 answered. */
static int
list_query(struct conn *c, struct msgb *mb)
{
	struct api_req *r = c->api;
	char last[256];
	int rc;

	if (api_query_u64(c, "n", API_LIST_MAX, &r->has_n, &r->n) == -1)
		return -1;
	if ((rc = api_query_str(c, "last", last, sizeof(last),
	    r->route == R_CATALOG ? RE_NAME_INVALID : RE_TAG_INVALID)) == -1)
		return -1;
	if (rc == 1 && last[0] != '\0')
		msgb_str(mb, A_LAST, last);
	if (r->has_n)
		msgb_u64(mb, A_COUNT, r->n);
	return 0;
}

/* GET /v2/<name>/tags/list */
void
api_tags(struct conn *c)
{
	struct msgb mb;

	msgb_init(&mb, M_TAGS_LIST);
	msgb_str(&mb, A_REPO, c->api->repo);
	if (list_query(c, &mb) == -1) {
		msgb_free(&mb);
		return;
	}
	api_send(c, &mb, on_list);
}

/* GET /v2/_catalog */
void
api_catalog(struct conn *c)
{
	struct msgb mb;

	msgb_init(&mb, M_CATALOG);
	if (list_query(c, &mb) == -1) {
		msgb_free(&mb);
		return;
	}
	api_send(c, &mb, on_list);
}

/* Link: <...>; rel="next" to the referrers page after digest last, with
 * the request's n and artifactType kept. */
static int
referrers_link(struct conn *c, const char *last)
{
	struct api_req *r = c->api;
	char filter[256], esc[3 * 256 + 1] = "", n[32] = "";

	if (r->filtered && (http_query_get(c->req.query, "artifactType", filter,
	    sizeof(filter)) != 1 || http_query_escape(filter, "-._~/", esc,
	    sizeof(esc)) == -1))
		return -1;
	if (r->has_n && snprintf(n, sizeof(n), "n=%llu&",
	    (unsigned long long)r->n) >= (int)sizeof(n))
		return -1;
	conn_header(c, "Link", "</v2/%s/referrers/%s?%slast=%s%s%s>; "
	    "rel=\"next\"", r->repo, r->digest, n, last,
	    r->filtered ? "&artifactType=" : "", esc);
	return 0;
}

/* A page of the referrers index of a digest, with a Link when more remain. */
static void
on_referrers(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	char last[DIGEST_STRMAX];

	if (!api_reply_ok(c, m, M_LIST))
		return;
	if (msg_has(m, A_LAST) && (reply_digest(m, A_LAST, last,
	    sizeof(last)) == -1 || referrers_link(c, last) == -1)) {
		log_warnx("storaged sent a malformed referrers page");
		api_error(c, RE_INTERNAL, NULL);
		return;
	}
	if (c->api->filtered)
		conn_header(c, "OCI-Filters-Applied", "artifactType");
	list_respond(c, m, MT_OCI_INDEX);
}

/* ?n=&last= of a referrers page into mb (last is a digest); -1 answered. */
static int
referrers_query(struct conn *c, struct msgb *mb)
{
	struct api_req *r = c->api;
	char last[DIGEST_STRMAX + 1], canon[DIGEST_STRMAX];
	int rc;

	if (api_query_u64(c, "n", API_LIST_MAX, &r->has_n, &r->n) == -1)
		return -1;
	if ((rc = api_query_str(c, "last", last, sizeof(last),
	    RE_DIGEST_INVALID)) == -1)
		return -1;
	if (rc == 1 && last[0] != '\0') {
		if (api_parse_digest(c, last, canon, sizeof(canon)) == -1)
			return -1;
		msgb_str(mb, A_LAST, canon);
	}
	if (r->has_n)
		msgb_u64(mb, A_COUNT, r->n);
	return 0;
}

/* GET /v2/<name>/referrers/<digest>[?artifactType=][&n=][&last=] */
void
api_referrers(struct conn *c)
{
	struct api_req *r = c->api;
	char filter[256];
	struct msgb mb;
	int rc;

	if (api_parse_digest(c, r->ref, r->digest, sizeof(r->digest)) == -1)
		return;
	if ((rc = http_query_get(c->req.query, "artifactType", filter,
	    sizeof(filter))) == -1) {
		api_error_status(c, 400, "UNSUPPORTED", "invalid artifactType",
		    "artifactType is malformed or too long");
		return;
	}
	msgb_init(&mb, M_REFERRERS);
	msgb_str(&mb, A_REPO, r->repo);
	msgb_str(&mb, A_DIGEST, r->digest);
	if (rc == 1 && filter[0] != '\0') {
		msgb_str(&mb, A_FILTER, filter);
		r->filtered = 1;
	}
	if (referrers_query(c, &mb) == -1) {
		msgb_free(&mb);
		return;
	}
	api_send(c, &mb, on_referrers);
}
