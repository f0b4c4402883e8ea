/*
 * api_blob.c - the blob endpoints of the Distribution API: GET (sendfile of
 * the descriptor storaged opens, with single ranges), HEAD, DELETE, and
 * uploads: POST (session, cross-repository mount, monolithic ?digest=),
 * PATCH (chunks, Content-Range or appended, Content-Length or chunked), PUT
 * (last chunk and commit), GET (status) and DELETE (cancel).
 *
 * Upload bytes never pass through httpd's memory on plain TCP: the request
 * body is spliced into a pipe whose read end storaged holds (M_UPLOAD_WRITE).
 * storaged's answer and the end of the body race; the request goes on once
 * both are known, or fails as soon as either fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "httpd.h"
#include "log.h"
#include "regerr.h"
#include "util.h"

#define MT_OCTET	"application/octet-stream"

static void upload_next(struct conn *);

/* Headers every blob answer carries. */
void
api_blob_headers(struct conn *c, const char *digest)
{
	conn_header(c, "Docker-Content-Digest", "%s", digest);
	conn_header(c, "ETag", "\"%s\"", digest);
	conn_header(c, "Accept-Ranges", "bytes");
	conn_header(c, "Cache-Control", "max-age=31536000");
}

/* A blob descriptor: send it whole, or the asked range (206 / 416). */
void
api_on_blob(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	struct api_req *r = c->api;
	uint64_t size, a, b;
	int fd;

	if (!api_reply_ok(c, m, M_BLOB))
		return;
	size = msg_u64(m, A_SIZE, 0);
	if ((fd = msg_take_fd(m, A_FD)) == -1) {
		log_warnx("storaged opened %s without a descriptor", r->digest);
		api_error(c, RE_INTERNAL, NULL);
		return;
	}
	switch (http_parse_range(http_header_get(&c->req, "Range"), size, &a,
	    &b)) {
	case 0:
		api_blob_headers(c, r->digest);
		conn_header(c, "Content-Range", "bytes %llu-%llu/%llu",
		    (unsigned long long)a, (unsigned long long)b,
		    (unsigned long long)size);
		conn_respond_fd(c, 206, MT_OCTET, fd, a, b - a + 1);
		break;
	case 1:
		close(fd);
		conn_header(c, "Content-Range", "bytes */%llu",
		    (unsigned long long)size);
		api_error(c, RE_RANGE_INVALID, NULL);
		break;
	default:
		api_blob_headers(c, r->digest);
		conn_respond_fd(c, 200, MT_OCTET, fd, 0, size);
		break;
	}
}

/* A blob exists: its headers and length, no body (HEAD). */
void
api_on_blob_stat(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;

	if (!api_reply_ok(c, m, M_BLOB))
		return;
	api_blob_headers(c, c->api->digest);
	conn_respond_length(c, 200, MT_OCTET, msg_u64(m, A_SIZE, 0));
}

/* The blob is unlinked from the repository: 202. */
static void
on_blob_delete(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;

	if (!api_reply_ok(c, m, M_DONE))
		return;
	audit_note(c, "delete", 202, c->api->digest, 0);
	conn_header(c, "Docker-Content-Digest", "%s", c->api->digest);
	conn_respond(c, 202, NULL, "", 0);
}

/* GET, HEAD, DELETE /v2/<name>/blobs/<digest> */
void
api_blob(struct conn *c)
{
	struct api_req *r = c->api;
	struct msgb mb;
	link_reply_cb cb;

	if (api_parse_digest(c, r->ref, r->digest, sizeof(r->digest)) == -1)
		return;
	switch (c->req.method) {
	case HTTP_M_GET:
		msgb_init(&mb, M_BLOB_OPEN);
		cb = api_on_blob;
		break;
	case HTTP_M_DELETE:
		if (!api_delete_enabled(c))
			return;
		msgb_init(&mb, M_BLOB_DELETE);
		cb = on_blob_delete;
		break;
	default:
		msgb_init(&mb, M_BLOB_STAT);
		cb = api_on_blob_stat;
		break;
	}
	msgb_str(&mb, A_REPO, r->repo);
	msgb_str(&mb, A_DIGEST, r->digest);
	api_send(c, &mb, cb);
}

/* ------------------------------------------------------------ uploads */

/* Location, Range and Docker-Upload-UUID of an upload in progress. */
static void
upload_respond(struct conn *c, int status)
{
	struct api_req *r = c->api;

	conn_header(c, "Location", "/v2/%s/blobs/uploads/%s", r->repo,
	    r->uuid);
	/* Distribution's form: "0-0" for an empty upload too */
	conn_header(c, "Range", "0-%llu", (unsigned long long)(r->offset ?
	    r->offset - 1 : 0));
	conn_header(c, "Docker-Upload-UUID", "%s", r->uuid);
	conn_respond(c, status, NULL, "", 0);
}

/* 201 for a blob now in the repository. */
static void
blob_created(struct conn *c, const char *digest)
{
	conn_header(c, "Location", "/v2/%s/blobs/%s", c->api->repo, digest);
	conn_header(c, "Docker-Content-Digest", "%s", digest);
	conn_respond(c, 201, NULL, "", 0);
}

/* Drop a session nobody will finish; nobody waits for the answer. */
static void
upload_cancel_quiet(struct api_req *r)
{
	struct link *st = httpd_storaged();
	struct msgb mb;

	if (st == NULL || r->uuid[0] == '\0')
		return;
	msgb_init(&mb, M_UPLOAD_CANCEL);
	msgb_str(&mb, A_REPO, r->repo);
	msgb_str(&mb, A_UUID, r->uuid);
	(void)link_request(st, &mb, NULL, NULL);
}

/* Fail the request; a monolithic upload takes its session with it. */
static void
upload_fail(struct conn *c, int e, const char *detail)
{
	if (c->api->monolithic)
		upload_cancel_quiet(c->api);
	api_error(c, e, detail);
}

/* storaged's answer was not m_type: cancel (if ours alone) and answer. */
static int
upload_reply_ok(struct conn *c, struct msg *m, int type)
{
	if (c->api->monolithic && (m == NULL || m->type != type))
		upload_cancel_quiet(c->api);
	return api_reply_ok(c, m, type);
}

/* The request body could not be moved (conn's err): answer. */
static void
upload_body_failed(struct conn *c, int err)
{
	if (c->api->monolithic)
		upload_cancel_quiet(c->api);
	switch (err) {
	case 408:
		api_error_status(c, 408, "BLOB_UPLOAD_INVALID",
		    "request body timeout", NULL);
		break;
	case 400:
		api_error(c, RE_BLOB_UPLOAD_INVALID, "malformed request body");
		break;
	case -1:
		/* the client left; the answer only closes the connection */
		api_error(c, RE_BLOB_UPLOAD_INVALID, "incomplete request body");
		break;
	default:
		api_error(c, RE_INTERNAL, "storage stopped reading the upload");
		break;
	}
}

/* Where an upload stands: 204 for GET, 202 for a PATCH with no body. */
static void
on_upload_status(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;

	if (!api_reply_ok(c, m, M_UPLOAD))
		return;
	c->api->offset = msg_u64(m, A_OFFSET, 0);
	upload_respond(c, c->req.method == HTTP_M_GET ? 204 : 202);
}

/* The upload became a blob (201), or its digest did not match. */
static void
on_upload_commit(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	struct api_req *r = c->api;

	if (m && m->type == M_ERR &&
	    msg_u64(m, A_CODE, 0) == RE_DIGEST_INVALID)
		upload_cancel_quiet(r);	/* as Distribution: start over */
	else if (r->monolithic && (m == NULL || m->type != M_BLOB))
		upload_cancel_quiet(r);
	if (!api_reply_ok(c, m, M_BLOB))
		return;
	audit_note(c, "push", 201, r->digest, msg_u64(m, A_SIZE, r->offset));
	blob_created(c, r->digest);
}

/* The bytes are in: commit, or tell where the upload stands. */
static void
upload_next(struct conn *c)
{
	struct api_req *r = c->api;
	struct msgb mb;

	if (r->up_next == UP_STATUS && r->w_reply == UPW_OK) {
		upload_respond(c, 202);
		return;
	}
	if (r->up_next == UP_STATUS) {
		msgb_init(&mb, M_UPLOAD_STATUS);
		msgb_str(&mb, A_REPO, r->repo);
		msgb_str(&mb, A_UUID, r->uuid);
		api_send(c, &mb, on_upload_status);
		return;
	}
	msgb_init(&mb, M_UPLOAD_COMMIT);
	msgb_str(&mb, A_REPO, r->repo);
	msgb_str(&mb, A_UUID, r->uuid);
	msgb_str(&mb, A_DIGEST, r->digest);
	api_send(c, &mb, on_upload_commit);
}

/*
 * Tell storaged how the body of a chunked write ended: with len payload
 * bytes (clean) or, when !clean, not whole. Only httpd can tell a clean
 * end from a cut-off one (either closes the pipe), and storaged keeps the
 * bytes only when told they are all there. Once, and only while storaged
 * has not answered (after that the write is over on its side).
 */
static void
upload_write_end(struct api_req *r, int clean, uint64_t len)
{
	struct msgb mb;

	if (!r->w_confirm || r->w_reply != UPW_PENDING ||
	    httpd_storaged() != r->w_link)
		return;
	r->w_confirm = 0;
	msgb_init(&mb, M_UPLOAD_END);
	msgb_str(&mb, A_REPO, r->repo);
	msgb_str(&mb, A_UUID, r->uuid);
	msgb_u64(&mb, A_REQID, r->w_id);
	if (clean)
		msgb_u64(&mb, A_LENGTH, len);
	link_notify(r->w_link, &mb);
}

/* The request is over before its chunked body was: storaged undoes it. */
void
api_upload_closed(struct conn *c)
{
	if (c->api)
		upload_write_end(c->api, 0, 0);
}

/* storaged's answer to an upload write (before or after the body ends). */
static void
on_upload_write(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	struct api_req *r = c->api;

	/* an error answers now; conn drops the unread rest of the body (and
	 * storaged is done with the write: no M_UPLOAD_END) */
	if (m == NULL || m->type != M_UPLOAD)
		r->w_reply = UPW_FAILED;
	if (!upload_reply_ok(c, m, M_UPLOAD))
		return;
	r->offset = msg_u64(m, A_OFFSET, 0);
	r->w_reply = UPW_OK;
	if (r->w_body == UPW_OK)
		upload_next(c);
	else if (r->w_body == UPW_FAILED)
		upload_body_failed(c, r->w_body_err);
	/* else the body is still moving: on_upload_body goes on */
}

/* The end of an upload body (before or after storaged answered). */
static void
on_upload_body(struct conn *c, int err)
{
	struct api_req *r = c->api;

	upload_write_end(r, err == 0, c->body_total);
	if (err == 0) {
		r->w_body = UPW_OK;
		if (r->w_reply == UPW_OK)
			upload_next(c);
		return;
	}
	r->w_body = UPW_FAILED;
	r->w_body_err = err;
	/* storaged closed the pipe: its answer says why, and is coming */
	if (err == 502 && r->w_reply == UPW_PENDING)
		return;
	upload_body_failed(c, err);
}

/*
 * Where the body goes: *off from Content-Range (else UINT64_MAX, append),
 * *len and *has_len when the byte count is known. -1 answered 416.
 */
static int
upload_span(struct conn *c, uint64_t *off, uint64_t *len, int *has_len)
{
	const char *cr = http_header_get(&c->req, "Content-Range");
	uint64_t a, b, cl;

	cl = c->req.content_length > 0 ? (uint64_t)c->req.content_length : 0;
	*off = UINT64_MAX;
	*has_len = !c->req.chunked;
	*len = cl;
	if (cr == NULL)
		return 0;
	if (http_parse_content_range(cr, &a, &b) == -1) {
		api_error(c, RE_RANGE_INVALID, "malformed Content-Range");
		return -1;
	}
	if (!c->req.chunked && cl != b - a + 1) {
		api_error(c, RE_RANGE_INVALID,
		    "Content-Range does not match Content-Length");
		return -1;
	}
	*off = a;
	*len = b - a + 1;
	*has_len = 1;
	return 0;
}

/*
 * Move the request body into the upload (storaged reads the pipe), then
 * upload_next. Without a body there is nothing to write.
 */
static void
upload_write(struct conn *c)
{
	struct api_req *r = c->api;
	struct link *st;
	struct msgb mb;
	uint64_t off, len;
	int fds[2], has_len;

	if (upload_span(c, &off, &len, &has_len) == -1)
		return;
	if (!conn_has_body(c)) {
		upload_next(c);
		return;
	}
	if ((st = httpd_storaged()) == NULL) {
		upload_fail(c, RE_UNAVAILABLE, "storage is not available");
		return;
	}
	/* one address must not take every body storaged can take at once */
	if (conn_upload_slot(c) == -1) {
		log_info("%s: too many upload bodies from this address",
		    c->addr);
		upload_fail(c, RE_TOOMANYREQUESTS,
		    "too many uploads at once from this address");
		return;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("pipe2");
		upload_fail(c, RE_INTERNAL, NULL);
		return;
	}
	msgb_init(&mb, M_UPLOAD_WRITE);
	msgb_str(&mb, A_REPO, r->repo);
	msgb_str(&mb, A_UUID, r->uuid);
	msgb_u64(&mb, A_OFFSET, off);
	if (has_len)
		msgb_u64(&mb, A_LENGTH, len);
	if ((r->w_confirm = c->req.chunked))
		msgb_u64(&mb, A_FLAGS, UPLOAD_F_CONFIRM);
	msgb_fd(&mb, A_FD, fds[0]);
	r->w_body = r->w_reply = UPW_PENDING;
	r->w_link = st;
	r->w_id = link_request(st, &mb, on_upload_write, c);
	conn_wait(c, st, r->w_id);
	conn_body_to_pipe(c, fds[1], on_upload_body);
}

/* A new session: answer 202, or (monolithic) write and commit it. */
static void
on_upload_start(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	struct api_req *r = c->api;
	const char *uuid;

	if (!api_reply_ok(c, m, M_UPLOAD))
		return;
	uuid = msg_str(m, A_UUID);
	if (str_copy(r->uuid, uuid, sizeof(r->uuid)) == -1 ||
	    strspn(uuid, "0123456789abcdefABCDEF-") != strlen(uuid)) {
		log_warnx("storaged gave a bad upload id");
		api_error(c, RE_INTERNAL, NULL);
		return;
	}
	r->offset = msg_u64(m, A_OFFSET, 0);
	if (r->monolithic) {
		r->up_next = UP_COMMIT;
		upload_write(c);
		return;
	}
	upload_respond(c, 202);
}

/* Ask storaged for a new upload session. */
static void
upload_session(struct conn *c)
{
	struct msgb mb;

	msgb_init(&mb, M_UPLOAD_START);
	msgb_str(&mb, A_REPO, c->api->repo);
	/* storaged bounds the sessions one address may hold */
	msgb_str(&mb, A_ADDR, c->addr);
	api_send(c, &mb, on_upload_start);
}

/* The mount answer: 201, or any refusal falls back to an upload. */
static void
on_mount(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;

	conn_wait_done(c);
	if (m == NULL) {
		api_unavailable(c);
		return;
	}
	if (m->type != M_BLOB) {
		/* not mountable (absent, or not readable from there): upload */
		log_debug("mount of %s into %s refused", c->api->digest,
		    c->api->repo);
		upload_session(c);
		return;
	}
	audit_note(c, "push", 201, c->api->digest, 0);	/* a mount: no bytes */
	blob_created(c, c->api->digest);
}

/*
 * ?mount=<digest>[&from=<repo>]: 1 if a mount was asked for (and sent), 0
 * if the request is a plain upload. A malformed mount falls back to an
 * upload, as in Distribution.
 */
static int
upload_try_mount(struct conn *c)
{
	struct api_req *r = c->api;
	char mount[DIGEST_INPUTMAX], from[OCI_NAME_MAX + 1];
	struct digest d;
	struct msgb mb;
	int has_from;

	if (http_query_get(c->req.query, "mount", mount, sizeof(mount)) != 1)
		return 0;
	/* with auth, only from a repository the client may pull (auth.c) */
	if (auth_on() && !r->auth.mount_ok)
		return 0;
	has_from = http_query_get(c->req.query, "from", from, sizeof(from));
	if (has_from == -1 || (has_from == 1 && !oci_name_valid(from)) ||
	    digest_parse(mount, &d) != 0 ||
	    digest_format(&d, r->digest, sizeof(r->digest)) == -1)
		return 0;
	msgb_init(&mb, M_BLOB_MOUNT);
	msgb_str(&mb, A_REPO, r->repo);
	msgb_str(&mb, A_DIGEST, r->digest);
	if (has_from == 1)
		msgb_str(&mb, A_FROM, from);
	api_send(c, &mb, on_mount);
	return 1;
}

/* POST /v2/<name>/blobs/uploads/ */
void
api_upload_start(struct conn *c)
{
	struct api_req *r = c->api;
	char digest[DIGEST_INPUTMAX];
	int rc;

	rc = api_query_str(c, "digest", digest, sizeof(digest),
	    RE_DIGEST_INVALID);
	if (rc == -1)
		return;
	if (rc == 1) {
		if (api_parse_digest(c, digest, r->digest,
		    sizeof(r->digest)) == -1)
			return;
		r->monolithic = 1;
	} else if (upload_try_mount(c))
		return;
	upload_session(c);
}

/* Upload ids are storaged's UUIDs; anything else cannot be one. */
static int
uuid_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < API_UUID_MAX && strspn(s,
	    "0123456789abcdefABCDEF-") == n;
}

/* The session is gone: 204, as Distribution answers. */
static void
on_upload_cancel(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;

	if (!api_reply_ok(c, m, M_DONE))
		return;
	conn_respond(c, 204, NULL, "", 0);
}

/* A request about one session that needs no body: status or cancel. */
static void
upload_ask(struct conn *c, int type, link_reply_cb cb)
{
	struct msgb mb;

	msgb_init(&mb, type);
	msgb_str(&mb, A_REPO, c->api->repo);
	msgb_str(&mb, A_UUID, c->api->uuid);
	api_send(c, &mb, cb);
}

/* GET, PATCH, PUT, DELETE /v2/<name>/blobs/uploads/<uuid> */
void
api_upload(struct conn *c)
{
	struct api_req *r = c->api;
	char digest[DIGEST_INPUTMAX];
	int rc;

	if (!uuid_ok(r->ref)) {
		api_error(c, RE_BLOB_UPLOAD_UNKNOWN, NULL);
		return;
	}
	memcpy(r->uuid, r->ref, strlen(r->ref) + 1);
	switch (c->req.method) {
	case HTTP_M_GET:
		upload_ask(c, M_UPLOAD_STATUS, on_upload_status);
		break;
	case HTTP_M_DELETE:
		upload_ask(c, M_UPLOAD_CANCEL, on_upload_cancel);
		break;
	case HTTP_M_PATCH:
		r->up_next = UP_STATUS;
		upload_write(c);
		break;
	default:
		rc = api_query_str(c, "digest", digest, sizeof(digest),
		    RE_DIGEST_INVALID);
		if (rc == 0)
			api_error(c, RE_DIGEST_INVALID,
			    "digest parameter missing");
		if (rc != 1 || api_parse_digest(c, digest, r->digest,
		    sizeof(r->digest)) == -1)
			return;
		r->up_next = UP_COMMIT;
		upload_write(c);
		break;
	}
}
