/*
 * forward.c - an edge's pushes forwarded to its upstream (cache.push =
 * "forward"): uploads (POST, the mount form too, PATCH, PUT, GET of the
 * status, DELETE), manifest PUT and DELETE, blob DELETE, the HEAD a push
 * checks a blob with, and GET /v2/, the one that hands the client the
 * upstream's challenge.
 *
 * The client's credentials pass through, the edge's own never do: the
 * upstream decides who pushes, and a 401 comes back with its challenge as
 * it is, so docker and skopeo fetch their token from the upstream's token
 * service themselves.  The edge's configured username and password are
 * for its own pulls; lending them to whoever reaches the edge would let
 * anyone push as the edge.
 *
 * The request body streams: conn.c moves it into a pipe (bounded by the
 * pipe, and by http.uploads_per_ip and the body timeouts as a local
 * upload's), and it is read from there into the upstream's connection as
 * that takes it, re-framed as chunks when the client sent chunks.  The
 * answer to a push is a head and a short body (JSON at most): the body is
 * held, up to FWD_RESP_MAX, and the answer sent once it is complete, so a
 * failing upstream still gets a clean error to the client.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "cache.h"
#include "conf.h"
#include "forward.h"
#include "fwdmap.h"
#include "log.h"
#include "mtext.h"
#include "regerr.h"
#include "upstream.h"
#include "util.h"

#define FWD_RESP_MAX	(1024 * 1024)	/* the body of a push's answer */
#define FWD_VALUE_MAX	2000		/* a header passed back (conn's) */
#define FWD_READ	(64 * 1024)	/* body bytes moved per step */
#define FWD_CHUNK_HEAD	10		/* "%08x\r\n" */

enum fwd_body { FB_NONE, FB_MOVING, FB_DONE };

struct fwd {
	struct conn	*c;
	size_t		 upi;
	struct upreq	*up;
	int		 pipe_rd;	/* the client's body, from conn.c */
	int		 chunked;	/* re-framed as chunks upstream */
	enum fwd_body	 body;
	int		 base;		/* GET /v2/: answered here if the
					   upstream cannot be reached */
	int		 status;	/* of the upstream's head */
	int64_t		 length;	/* its Content-Length (HEAD) */
	char		 store[CACHE_NAME_MAX];	/* the cache's repository */
	char		 ctype[256];
	struct buf	 hdrs;		/* "name\0value\0" to pass back */
	struct buf	 resp;		/* its body */
};

/* What the client says that the upstream needs; Content-Length and
 * Transfer-Encoding are the edge's to write (it re-frames). */
static const char *const passed_on[] = { "Authorization", "Content-Type",
	"Content-Range", "Accept" };
/* What the upstream says that a pushing client reads. */
static const char *const passed_back[] = { "Location", "Docker-Upload-UUID",
	"Range", "Content-Range", "Docker-Content-Digest", "WWW-Authenticate",
	"OCI-Subject", "Retry-After" };

static uint64_t forwarded, failed;

int
forward_on(void)
{
	return conf_int(P_CACHE_PUSH) == CACHE_PUSH_FORWARD;
}

/* ------------------------------------------------------------ request */

/* The query for the upstream: a mount's from= as the upstream's name, or
 * no mount when the source is not that upstream's. */
static int
request_query(const struct conn *c, size_t upi, char *out, size_t len)
{
	char from[OCI_NAME_MAX + 1], remote[CACHE_NAME_MAX],
	    store[CACHE_NAME_MAX];
	int rc, i = -1, mirror = 0;

	rc = http_query_get(c->req.query, "from", from, sizeof(from));
	if (rc == 0)
		return str_copy(out, c->req.query, len);
	if (rc == 1 && oci_name_valid(from))
		i = cache_route(upstream_at(0), upstream_count(), from, remote,
		    sizeof(remote), store, sizeof(store), &mirror);
	return fwd_query_map(c->req.query, i == (int)upi && !mirror ? remote :
	    NULL, out, len);
}

/* "/v2/REMOTE/..." of c's route, with its query; -1 if it does not fit. */
static int
request_path(const struct conn *c, size_t upi, const char *remote,
    char *out, size_t len)
{
	char ref[3 * API_REF_MAX], q[HTTP_MAX_TARGET + 1];
	const char *kind;

	switch (c->api->route) {
	case R_BASE:
		return str_copy(out, "/v2/", len);
	case R_UPLOAD_START:
	case R_UPLOAD:
		kind = "blobs/uploads/";
		break;
	case R_MANIFEST:
		kind = "manifests/";
		break;
	default:
		kind = "blobs/";
		break;
	}
	ref[0] = '\0';
	if (c->api->route != R_UPLOAD_START && http_query_escape(c->api->ref,
	    "-._~:@+=", ref, sizeof(ref)) == -1)
		return -1;
	if (request_query(c, upi, q, sizeof(q)) == -1)
		return -1;
	return snprintf(out, len, "/v2/%s/%s%s%s%s", remote, kind, ref,
	    q[0] ? "?" : "", q) >= (int)len ? -1 : 0;
}

/* The client's headers the upstream needs, and the body's framing. */
static void
request_headers(const struct conn *c, struct fwd *f, struct buf *out)
{
	const struct http_request *h = &c->req;

	for (size_t k = 0; k < sizeof(passed_on) / sizeof(passed_on[0]); k++)
		for (int i = http_header_index(h, passed_on[k], 0); i >= 0;
		    i = http_header_index(h, passed_on[k], i + 1))
			buf_printf(out, "%s: %s\r\n", passed_on[k],
			    h->hdr[i].value);
	if (h->chunked) {
		f->chunked = 1;
		buf_puts(out, "Transfer-Encoding: chunked\r\n");
	} else if (h->content_length >= 0)
		buf_printf(out, "Content-Length: %lld\r\n",
		    (long long)h->content_length);
	else if (h->method == HTTP_M_PUT || h->method == HTTP_M_POST ||
	    h->method == HTTP_M_PATCH)
		buf_puts(out, "Content-Length: 0\r\n");
}

/* ------------------------------------------------------------ answer */

/* The exchange is over: its pipe and connection go now, not with the
 * next request on a kept-alive connection. */
static void
fwd_release(struct fwd *f)
{
	upstream_cancel(f->up);
	f->up = NULL;
	if (f->pipe_rd != -1) {
		ev_del(f->pipe_rd);
		close(f->pipe_rd);
		f->pipe_rd = -1;
	}
}

/* The upstream could not be asked, or failed: 502 (504 for silence). */
static void
fwd_error(struct fwd *f, const char *why)
{
	struct conn *c = f->c;

	failed++;
	fwd_release(f);
	log_warnx("forward: %s %s to %s: %s", c->req.method_str, c->req.path,
	    upstream_at(f->upi)->url, why);
	if (f->base && f->status == 0) {
		api_base(c);	/* pulls from the cache go on */
		return;
	}
	api_error_status(c, strstr(why, "no answer") ? 504 : 502,
	    "UNAVAILABLE", "the upstream registry did not answer the "
	    "forwarded request", NULL);
}

/* The upstream's answer, its headers passed back, to the client. */
static void
fwd_respond(struct fwd *f)
{
	struct conn *c = f->c;
	const char *p = f->hdrs.data, *end = p + f->hdrs.len, *v;

	forwarded++;
	fwd_release(f);
	while (p != NULL && p < end) {
		v = p + strlen(p) + 1;
		conn_header(c, p, "%s", v);
		p = v + strlen(v) + 1;
	}
	if (c->req.method != HTTP_M_GET && c->req.method != HTTP_M_HEAD)
		audit_note(c, "forward", f->status, NULL, c->body_total);
	/* the cache must not serve the tag's old digest until its ttl */
	if (c->api->route == R_MANIFEST && f->status / 100 == 2 &&
	    strchr(c->api->ref, ':') == NULL)
		cache_tag_pushed(f->store, c->api->ref);
	if (c->req.method == HTTP_M_HEAD)
		conn_respond_length(c, f->status, f->ctype[0] ? f->ctype : NULL,
		    f->length > 0 ? (uint64_t)f->length : 0);
	else
		conn_respond(c, f->status, f->ctype[0] ? f->ctype : NULL,
		    f->resp.data, f->resp.len);
}

/* The upstream's Location as the edge's: its name with the prefix back,
 * one that routes to the same upstream; another host's is passed on. */
static int
location_back(const struct fwd *f, const char *v, char *out, size_t len)
{
	char name[CACHE_NAME_MAX], remote[CACHE_NAME_MAX],
	    store[CACHE_NAME_MAX];
	int rc, mirror;

	rc = fwd_location_map(v, upstream_at(f->upi), out, len, name,
	    sizeof(name));
	if (rc == 1) {
		log_info("forward: %s sends the client to %s",
		    upstream_at(f->upi)->url, v);
		return str_copy(out, v, len);
	}
	if (rc == -1 || cache_route(upstream_at(0), upstream_count(), name,
	    remote, sizeof(remote), store, sizeof(store), &mirror) !=
	    (int)f->upi || mirror)
		return -1;
	return 0;
}

/* One header to pass back, checked (and Location mapped); -1 refused. */
static int
keep_header(struct fwd *f, const char *name, const char *v)
{
	char loc[FWD_LOCATION_MAX];

	if (strcmp(name, "Location") == 0) {
		if (location_back(f, v, loc, sizeof(loc)) == -1)
			return -1;
		v = loc;
	}
	if (strlen(v) > FWD_VALUE_MAX || !api_header_safe(v))
		return -1;
	buf_append(&f->hdrs, name, strlen(name) + 1);
	buf_append(&f->hdrs, v, strlen(v) + 1);
	return 0;
}

static int
fwd_head(struct upreq *u, const struct http_request *h, void *arg)
{
	struct fwd *f = arg;
	const char *ct = http_header_get(h, "Content-Type");
	size_t k;
	int i;

	f->status = h->status;
	f->length = h->content_length;
	if (ct == NULL || !api_header_safe(ct) ||
	    str_copy(f->ctype, ct, sizeof(f->ctype)) == -1)
		f->ctype[0] = '\0';
	for (k = 0; k < sizeof(passed_back) / sizeof(passed_back[0]); k++)
		for (i = http_header_index(h, passed_back[k], 0); i >= 0;
		    i = http_header_index(h, passed_back[k], i + 1))
			if (keep_header(f, passed_back[k], h->hdr[i].value)) {
				f->up = NULL;	/* freed on return */
				fwd_error(f, passed_back[k][0] == 'L' ?
				    "a Location that does not map back to "
				    "this edge" : "a header too long or not "
				    "text");
				return -1;
			}
	return 0;
}

static int
fwd_data(struct upreq *u, const char *p, size_t n, void *arg)
{
	buf_append(&((struct fwd *)arg)->resp, p, n);
	return 0;
}

static void
fwd_done(struct upreq *u, const char *why, void *arg)
{
	struct fwd *f = arg;

	f->up = NULL;
	if (why != NULL)
		fwd_error(f, why);
	else
		fwd_respond(f);
}

/* ------------------------------------------------------------ body */

/* The next run of the client's body, framed, into out (upstream.h's
 * up_body_fn). */
static int
fwd_body(struct upreq *u, struct buf *out, void *arg)
{
	struct fwd *f = arg;
	size_t skip = f->chunked ? FWD_CHUNK_HEAD : 0;
	char head[FWD_CHUNK_HEAD + 1];
	ssize_t n;

	if (f->body == FB_NONE)
		return 1;
	buf_reserve(out, FWD_READ + skip + 2);
	n = read(f->pipe_rd, buf_tail(out) + skip, FWD_READ);
	if (n > 0) {
		if (f->chunked) {
			(void)snprintf(head, sizeof(head), "%08x\r\n",
			    (unsigned)n);
			memcpy(buf_tail(out), head, FWD_CHUNK_HEAD);
		}
		out->len += skip + (size_t)n;
		if (f->chunked)
			buf_puts(out, "\r\n");
		return 0;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		ev_set(f->pipe_rd, EV_READ);
		return 0;
	}
	if (n == 0 && f->body == FB_DONE) {
		if (f->chunked)
			buf_puts(out, "0\r\n\r\n");
		return 1;
	}
	/* conn.c closes the pipe early only when it answered (and so
	 * dropped u) or closed: this is a read error */
	f->up = NULL;		/* freed on return */
	fwd_error(f, n == 0 ? "the client's body ended early" :
	    "the client's body could not be read");
	return -1;
}

/* The client's body has more for the upstream (or has ended). */
static void
fwd_pipe_io(int fd, int events, void *arg)
{
	struct fwd *f = arg;

	ev_set(fd, 0);
	if (f->up != NULL)
		upstream_send_more(f->up);
}

/* The client's body is all in the pipe, or failed (err: conn.h's). */
static void
on_client_body(struct conn *c, int err)
{
	struct fwd *f = c->api->fwd;

	if (err == 0) {
		f->body = FB_DONE;
		return;
	}
	fwd_release(f);		/* the upstream sees a short body */
	if (err == 429 || err == 503)
		api_error(c, err == 429 ? RE_TOOMANYREQUESTS : RE_UNAVAILABLE,
		    "too many request bodies at once");
	else if (err == 408 || err == 413)
		api_error_status(c, err, "BLOB_UPLOAD_INVALID", err == 408 ?
		    "request body timeout" : "request body too large", NULL);
	else
		api_error(c, RE_BLOB_UPLOAD_INVALID, "incomplete or malformed "
		    "request body");
}

/* Move the client's body through a pipe; it may answer (the slot, or
 * the body failed at once), so it is the last thing done with f. */
static void
body_start(struct conn *c, struct fwd *f)
{
	int fds[2];

	if (!conn_has_body(c))
		return;
	if (conn_upload_slot(c) == -1) {
		log_info("%s: too many upload bodies from this address",
		    c->addr);
		fwd_release(f);
		api_error(c, RE_TOOMANYREQUESTS, "too many uploads at once "
		    "from this address");
		return;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("pipe2");
		fwd_release(f);
		api_error(c, RE_INTERNAL, NULL);
		return;
	}
	f->pipe_rd = fds[0];
	f->body = FB_MOVING;
	ev_add(f->pipe_rd, 0, fwd_pipe_io, f);
	conn_body_to_pipe(c, fds[1], on_client_body);
}

/* ------------------------------------------------------------ entry */

static const struct up_ops fwd_ops = { fwd_head, fwd_data, fwd_done, NULL };

int
forward_base(struct conn *c)
{
	size_t n = upstream_count(), i;

	if (!forward_on() || n == 0)
		return 0;
	for (i = 0; i < n && upstream_at(i)->prefix[0] != '\0'; i++)
		;
	if (i == n && n > 1)
		return 0;	/* no one upstream's challenge is the edge's */
	forward_request(c, i == n ? 0 : i, NULL, "");
	return 1;
}

void
forward_request(struct conn *c, size_t upi, const char *remote,
    const char *store)
{
	char path[UPSTREAM_PATH_MAX];	/* what upstream_forward takes */
	struct fwd *f;
	struct buf hdrs;

	if (request_path(c, upi, remote, path, sizeof(path)) == -1) {
		api_error(c, RE_NAME_INVALID, "the forwarded request would "
		    "be too long");
		return;
	}
	c->api->fwd = f = xcalloc(1, sizeof(*f));
	f->c = c;
	f->upi = upi;
	f->pipe_rd = -1;
	f->base = c->api->route == R_BASE;
	str_copy(f->store, store, sizeof(f->store));	/* the same bound */
	buf_init(&f->hdrs);
	buf_init(&f->resp);
	buf_init(&hdrs);
	request_headers(c, f, &hdrs);
	/* the exchange starts on the next loop turn (names resolve off the
	 * loop): no callback comes before the body is on its way */
	f->up = upstream_forward(upi, c->req.method_str, path,
	    hdrs.data ? buf_head(&hdrs) : "", buf_avail(&hdrs), fwd_body,
	    FWD_RESP_MAX, &fwd_ops, f);
	if (hdrs.data != NULL)		/* the client's credentials */
		explicit_bzero(hdrs.data, hdrs.cap);
	buf_free(&hdrs);
	body_start(c, f);
}

void
forward_conn_closed(struct conn *c)
{
	struct fwd *f = c->api ? c->api->fwd : NULL;

	if (f == NULL)
		return;
	c->api->fwd = NULL;
	fwd_release(f);
	buf_free(&f->hdrs);
	buf_free(&f->resp);
	free(f);
}

void
forward_metrics(struct buf *b)
{
	mtext_single(b, "registry_cache_pushes_forwarded_total", MT_COUNTER,
	    "requests forwarded to an upstream and answered by it", forwarded);
	mtext_single(b, "registry_cache_forward_errors_total", MT_COUNTER,
	    "forwarded requests the upstream did not answer", failed);
}
