/*
 * cache_blob.c - blobs of cached names.  A blob the store lacks is
 * fetched once, however many clients ask for it at once: a table of
 * fetches in flight by repository and digest.  The fetch's bytes go to
 * storaged as an upload (a pipe, as a push's body) and to every client
 * that follows it, as they arrive; storaged hashes what it writes and
 * links the blob only when its digest matches, and every client's last
 * byte waits for storaged's verdict (the digest its write answer carries,
 * else the commit), so no client ever gets all of a wrong blob: a
 * mismatch cuts the clients' connections (the length was promised),
 * cancels the upload, and the next request fetches again.  httpd does not
 * hash the bytes itself: on the client's path that was half its work,
 * and storaged's hash is the one that decides what the store keeps.
 *
 * Late joiners catch up from httpd's memory: the first FETCH_KEEP bytes
 * are kept until the fetch ends, so a client that comes while they are
 * still all there starts from byte 0 at once; one that comes later waits
 * for the commit and is served from the store.  That bounds the memory a
 * fetch holds without asking storaged for the upload's file.  Reading the
 * upstream pauses while it is FETCH_AHEAD ahead of the slowest reader
 * (storaged's pipe or a client).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_int.h"
#include "httpd.h"
#include "log.h"
#include "regerr.h"
#include "util.h"

#define FETCH_KEEP	(16u << 20)
#define FETCH_AHEAD	(8u << 20)
#define PIPE_SIZE	(1u << 20)	/* storaged's copier reads 256 KiB */
#define BLOB_MAX	(UINT64_C(1) << 40)
#define MT_OCTET	"application/octet-stream"

enum fetch_state { F_SESSION, F_HEAD, F_BODY, F_DONE, F_FAILED };

struct fetch {
	struct fetch	*next;
	enum fetch_state state;
	size_t		 upi;
	char		 store[CACHE_NAME_MAX], remote[CACHE_NAME_MAX];
	char		 digest[DIGEST_STRMAX];
	char		 uuid[API_UUID_MAX];
	struct upreq	*up;
	uint64_t	 size, got, base, piped;
	struct buf	 data;			/* bytes [base, got) */
	int		 pipe_fd;
	int		 verified;		/* by storaged: the digest's */
	struct link	*wait_link;		/* storaged's answer due */
	uint32_t	 wait_id;
	struct ev_timer	 resume;
	struct creq	*readers;
};

static struct fetch *fetches;

static int pump(struct fetch *);
static void trim(struct fetch *);

static struct fetch *
fetch_find(const char *store, const char *digest)
{
	for (struct fetch *f = fetches; f; f = f->next)
		if (strcmp(f->store, store) == 0 &&
		    strcmp(f->digest, digest) == 0)
			return f;
	return NULL;
}

static void
fetch_unlist(struct fetch *f)
{
	for (struct fetch **pp = &fetches; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			return;
		}
}

static void
pipe_close(struct fetch *f)
{
	if (f->pipe_fd == -1)
		return;
	ev_del(f->pipe_fd);
	close(f->pipe_fd);
	f->pipe_fd = -1;
}

static void
fetch_free(struct fetch *f)
{
	fetch_unlist(f);
	if (f->wait_link != NULL && f->wait_link == httpd_storaged())
		link_forget(f->wait_link, f->wait_id);
	upstream_cancel(f->up);
	pipe_close(f);
	ev_timer_cancel(&f->resume);
	buf_free(&f->data);
	free(f);
}

/* Ended, and nobody follows it: gone. */
static void
fetch_maybe_free(struct fetch *f)
{
	if ((f->state == F_DONE || f->state == F_FAILED) && f->readers == NULL)
		fetch_free(f);
}

/* Ask storaged for f (one request at a time). */
static void
fetch_ask(struct fetch *f, struct msgb *mb, link_reply_cb cb)
{
	f->wait_link = httpd_storaged();
	f->wait_id = link_request(f->wait_link, mb, cb, f);
}

static void
upload_cancel(struct fetch *f)
{
	struct link *st = httpd_storaged();
	struct msgb mb;

	if (st == NULL || f->uuid[0] == '\0')
		return;
	msgb_init(&mb, M_UPLOAD_CANCEL);
	msgb_str(&mb, A_REPO, f->store);
	msgb_str(&mb, A_UUID, f->uuid);
	(void)link_request(st, &mb, NULL, NULL);
}

/* The fetch failed: clients mid-blob are cut off, the others answered;
 * nothing is stored, and the next request starts over. */
static void
fetch_fail(struct fetch *f, const char *why, int status)
{
	struct creq *q = f->readers, *next;

	log_warnx("cache: %s@%s: %s", f->store, f->digest, why);
	fetch_unlist(f);
	f->state = F_FAILED;
	upstream_cancel(f->up);
	f->up = NULL;
	pipe_close(f);
	upload_cancel(f);
	f->readers = NULL;
	for (; q != NULL; q = next) {
		next = q->next;
		q->f = NULL;
		if (q->c->responded)
			conn_stream_abort(q->c);
		else
			cache_upstream_error(q->c, why, status);
	}
	fetch_free(f);
}

/* storaged found the bytes are not the digest: nothing is kept. */
static void
fetch_mismatch(struct fetch *f)
{
	cache_stats.mismatches++;
	fetch_fail(f, "the upstream's blob does not match its digest: "
	    "discarded", 502);
}

/* The store has it now: a waiting client is served from there. */
static void
serve_stored(struct creq *q)
{
	cache_ask_store(q->c, M_BLOB_OPEN, q->store, api_on_blob);
}

/* The upload is a blob: waiting readers go to the store. */
static void
on_commit(struct link *l, struct msg *m, void *arg)
{
	struct fetch *f = arg;
	struct creq **pp, *q;

	f->wait_link = NULL;
	if (m != NULL && m->type == M_ERR && msg_u64(m, A_CODE, 0) ==
	    RE_DIGEST_INVALID) {
		fetch_mismatch(f);
		return;
	}
	if (m == NULL || m->type != M_BLOB) {
		fetch_fail(f, m && msg_str(m, A_TEXT) ? msg_str(m, A_TEXT) :
		    "storaged did not store the blob", 502);
		return;
	}
	/* stored, so verified: the readers may have their last byte */
	f->verified = 1;
	if (pump(f) == -1)
		return;
	fetch_unlist(f);
	f->state = F_DONE;
	for (pp = &f->readers; (q = *pp) != NULL;) {
		if (!q->waiting) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		q->f = NULL;
		serve_stored(q);
	}
	fetch_maybe_free(f);
}

/* All in storaged's hands: commit. */
static void
commit(struct fetch *f)
{
	struct msgb mb;

	if (f->state != F_BODY || httpd_storaged() == NULL) {
		fetch_fail(f, "storaged went away", 503);
		return;
	}
	msgb_init(&mb, M_UPLOAD_COMMIT);
	msgb_str(&mb, A_REPO, f->store);
	msgb_str(&mb, A_UUID, f->uuid);
	msgb_str(&mb, A_DIGEST, f->digest);
	fetch_ask(f, &mb, on_commit);
}

/* storaged's digest of all it wrote, when it is one of our algorithm: 1
 * it is the blob's, 0 unknown (the commit tells), -1 it is not. */
static int
written_digest(const struct fetch *f, const struct msg *m)
{
	const char *s = msg_str(m, A_DIGEST);
	struct digest want, got;

	if (s == NULL || digest_parse(s, &got) != 0 ||
	    digest_parse(f->digest, &want) != 0 || got.alg != want.alg)
		return 0;
	return digest_equal(&want, &got) ? 1 : -1;
}

/* storaged read the whole body from the pipe (or failed to): its digest
 * lets the readers have their last byte, and the commit makes it a blob. */
static void
on_write(struct link *l, struct msg *m, void *arg)
{
	struct fetch *f = arg;
	int v;

	f->wait_link = NULL;
	if (m == NULL || m->type != M_UPLOAD ||
	    msg_u64(m, A_OFFSET, 0) != f->size) {
		fetch_fail(f, "storaged refused the upload", 502);
		return;
	}
	if ((v = written_digest(f, m)) == -1) {
		fetch_mismatch(f);
		return;
	}
	f->verified = v == 1;
	if (f->verified && pump(f) == -1)
		return;
	commit(f);
}

/* The bytes a reader may have now: all, once storaged verified them;
 * else all but the last, which waits for its verdict. */
static uint64_t
reader_limit(const struct fetch *f)
{
	if (f->verified || f->got < f->size)
		return f->got;
	return f->size > 0 ? f->size - 1 : 0;
}

static void
reader_push(struct fetch *f, struct creq *q)
{
	uint64_t lim = reader_limit(f);
	size_t n;

	while (!q->waiting && q->c->responded && q->sent < lim) {
		n = conn_stream_push(q->c, buf_head(&f->data) + (q->sent -
		    f->base), (size_t)(lim - q->sent));
		if (n == 0)
			break;
		q->sent += n;
	}
}

/* A reader's connection drained: its share (the pipe is not touched
 * here, so nothing can fail under the caller). */
static void
reader_more(struct conn *c, void *arg)
{
	struct creq *q = arg;

	if (q->f == NULL)
		return;
	reader_push(q->f, q);
	trim(q->f);
}

/* The size is known: answer the reader, from byte 0 if it is there. */
static void
reader_begin(struct fetch *f, struct creq *q)
{
	if (f->base > 0) {
		q->waiting = 1;
		return;
	}
	api_blob_headers(q->c, f->digest);
	audit_note(q->c, "pull", 200, f->digest, f->size);
	conn_respond_stream(q->c, 200, MT_OCTET, f->size, reader_more, q);
}

/* Bytes into storaged's pipe; a full pipe waits for writability. */
static int
pipe_push(struct fetch *f)
{
	ssize_t n;

	while (f->pipe_fd != -1 && f->piped < f->got) {
		n = write(f->pipe_fd, buf_head(&f->data) + (f->piped - f->base),
		    (size_t)(f->got - f->piped));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			ev_set(f->pipe_fd, EV_WRITE);
			return 0;
		}
		if (n <= 0)
			return -1;
		f->piped += (uint64_t)n;
	}
	if (f->pipe_fd != -1)
		ev_set(f->pipe_fd, 0);
	if (f->piped == f->size)
		pipe_close(f);	/* storaged has every byte: its answer comes */
	return 0;
}

/* The slowest reader's offset: the pipe, or a client streaming. */
static uint64_t
slowest(const struct fetch *f)
{
	uint64_t m = f->piped;

	for (const struct creq *q = f->readers; q; q = q->next)
		if (!q->waiting && q->sent < m)
			m = q->sent;
	return m;
}

/* Forget what every reader has, once past the bytes kept for joiners;
 * resume the upstream (from the loop) when readers caught up. */
static void
trim(struct fetch *f)
{
	uint64_t m = slowest(f);

	/* no buf_compact here: moving the bytes ahead (up to FETCH_AHEAD) at
	 * every chunk cost more than the rest of the fetch; buf_reserve
	 * moves them when the buffer's end is reached, rarely */
	if (f->got > FETCH_KEEP && m > f->base) {
		buf_consume(&f->data, (size_t)(m - f->base));
		f->base = m;
	}
	if (f->up != NULL && f->got - m < FETCH_AHEAD / 2 &&
	    !ev_timer_armed(&f->resume))
		ev_timer_arm(&f->resume, 0);
}

/* Hand on what arrived; -1 when the fetch failed (and f is gone). */
static int
pump(struct fetch *f)
{
	if (pipe_push(f) == -1) {
		fetch_fail(f, "storaged stopped reading the upload", 502);
		return -1;
	}
	for (struct creq *q = f->readers; q; q = q->next)
		reader_push(f, q);
	trim(f);
	return 0;
}

static void
on_pipe(int fd, int events, void *arg)
{
	(void)pump(arg);
}

static void
on_resume(void *arg)
{
	struct fetch *f = arg;

	if (f->up != NULL)
		upstream_resume(f->up);
}

/* The upload's pipe to storaged: it writes what arrives. */
static int
upload_pipe(struct fetch *f)
{
	struct msgb mb;
	int fds[2];

	if (httpd_storaged() == NULL || pipe2(fds, O_CLOEXEC | O_NONBLOCK) ==
	    -1)
		return -1;
	msgb_init(&mb, M_UPLOAD_WRITE);
	msgb_str(&mb, A_REPO, f->store);
	msgb_str(&mb, A_UUID, f->uuid);
	msgb_u64(&mb, A_OFFSET, 0);
	msgb_u64(&mb, A_LENGTH, f->size);
	msgb_fd(&mb, A_FD, fds[0]);
	fetch_ask(f, &mb, on_write);
	f->pipe_fd = fds[1];
	/* a 64 KiB pipe cost a wakeup of each side every 64 KiB; best
	 * effort (pipe-max-size may be lower): only the speed depends on it */
	(void)fcntl(f->pipe_fd, F_SETPIPE_SZ, PIPE_SIZE);
	ev_add(f->pipe_fd, 0, on_pipe, f);
	return 0;
}

/* The upstream's head: 200 with a length, or the fetch fails. */
static int
fx_head(struct upreq *u, const struct http_request *h, void *arg)
{
	struct fetch *f = arg;
	struct creq *q, *next;
	char why[96];

	if (h->status != 200 || h->content_length < 0 ||
	    (uint64_t)h->content_length > BLOB_MAX) {
		(void)snprintf(why, sizeof(why), h->status != 200 ? "the "
		    "upstream answered %d" : "the upstream sent no length",
		    h->status);
		f->up = NULL;	/* the caller frees u */
		fetch_fail(f, why, h->status == 200 ? 502 : h->status);
		return -1;
	}
	f->size = (uint64_t)h->content_length;
	if (upload_pipe(f) == -1) {
		f->up = NULL;
		fetch_fail(f, "no upload to storaged", 503);
		return -1;
	}
	f->state = F_BODY;
	for (q = f->readers; q; q = next) {
		next = q->next;
		reader_begin(f, q);
	}
	return 0;
}

static int
fx_data(struct upreq *u, const char *p, size_t n, void *arg)
{
	struct fetch *f = arg;

	if (p != NULL)		/* else it was read into f->data */
		buf_append(&f->data, p, n);
	f->got += n;
	cache_stats.bytes += n;
	if (pipe_push(f) == -1) {
		f->up = NULL;	/* the caller frees u */
		fetch_fail(f, "storaged stopped reading the upload", 502);
		return -1;
	}
	for (struct creq *q = f->readers; q; q = q->next)
		reader_push(f, q);
	trim(f);
	return f->got - slowest(f) > FETCH_AHEAD;
}

/* All bytes are in (storaged's answer to the write judges them), or
 * the exchange failed. */
static void
fx_done(struct upreq *u, const char *why, void *arg)
{
	struct fetch *f = arg;

	f->up = NULL;
	if (why != NULL)
		fetch_fail(f, why, 502);
}

/* The fetch's buffer: the upstream reads the body into it. */
static struct buf *
fx_sink(struct upreq *u, void *arg)
{
	return &((struct fetch *)arg)->data;
}

static const struct up_ops fetch_ops = { fx_head, fx_data, fx_done,
	fx_sink };

/* storaged opened the upload session: ask the upstream. */
static void
on_session(struct link *l, struct msg *m, void *arg)
{
	struct fetch *f = arg;
	const char *uuid = m ? msg_str(m, A_UUID) : NULL;
	char path[600], scope[400];

	f->wait_link = NULL;
	if (m == NULL || m->type != M_UPLOAD || uuid == NULL ||
	    str_copy(f->uuid, uuid, sizeof(f->uuid)) == -1) {
		fetch_fail(f, "storaged opened no upload", 503);
		return;
	}
	(void)snprintf(path, sizeof(path), "/v2/%s/blobs/%s", f->remote,
	    f->digest);
	(void)snprintf(scope, sizeof(scope), "repository:%s:pull", f->remote);
	f->state = F_HEAD;
	cache_stats.fetches++;
	f->up = upstream_start(f->upi, "GET", path, NULL, scope, BLOB_MAX,
	    &fetch_ops, f);
}

static struct fetch *
fetch_start(struct creq *q)
{
	struct fetch *f = xcalloc(1, sizeof(*f));
	struct msgb mb;

	f->upi = q->upi;
	memcpy(f->store, q->store, sizeof(f->store));
	memcpy(f->remote, q->remote, sizeof(f->remote));
	str_copy(f->digest, q->c->api->digest, sizeof(f->digest));
	f->pipe_fd = -1;
	buf_init(&f->data);
	ev_timer_init(&f->resume, on_resume, f);
	f->next = fetches;
	fetches = f;
	msgb_init(&mb, M_UPLOAD_START);
	msgb_str(&mb, A_REPO, f->store);
	msgb_str(&mb, A_ADDR, "cache");
	fetch_ask(f, &mb, on_session);
	return f;
}

/* Follow the fetch of this blob (started now if none runs). */
static void
fetch_join(struct creq *q)
{
	struct fetch *f = fetch_find(q->store, q->c->api->digest);

	if (httpd_storaged() == NULL) {
		api_unavailable(q->c);
		return;
	}
	if (f == NULL)
		f = fetch_start(q);
	q->f = f;
	q->next = f->readers;
	f->readers = q;
	if (f->state == F_BODY)
		reader_begin(f, q);
}

void
cache_blob_left(struct creq *q)
{
	struct fetch *f = q->f;

	for (struct creq **pp = &f->readers; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	q->f = NULL;
	if (f->state == F_BODY)
		trim(f);
	fetch_maybe_free(f);
}

/* HEAD of a blob the store lacks: the upstream's answer, not stored. */
static int
bh_head(struct upreq *u, const struct http_request *h, void *arg)
{
	struct creq *q = ((struct conn *)arg)->api->cache;

	q->up_status = h->status;
	q->sent = h->content_length >= 0 ? (uint64_t)h->content_length : 0;
	return 0;
}

static int
bh_data(struct upreq *u, const char *p, size_t n, void *arg)
{
	return 0;
}

static void
bh_done(struct upreq *u, const char *why, void *arg)
{
	struct conn *c = arg;
	struct creq *q = c->api->cache;

	q->up = NULL;
	if (why != NULL || q->up_status != 200) {
		cache_upstream_error(c, why ? why : "the upstream's HEAD failed",
		    q->up_status);
		return;
	}
	api_blob_headers(c, c->api->digest);
	conn_respond_length(c, 200, MT_OCTET, q->sent);
}

static const struct up_ops bh_ops = { bh_head, bh_data, bh_done, NULL };

/* Not in the store: GET joins the fetch, HEAD asks the upstream. */
static void
blob_missing(struct conn *c)
{
	struct creq *q = c->api->cache;
	char path[600], scope[400];

	if (c->req.method == HTTP_M_GET) {
		fetch_join(q);
		return;
	}
	(void)snprintf(path, sizeof(path), "/v2/%s/blobs/%s", q->remote,
	    c->api->digest);
	(void)snprintf(scope, sizeof(scope), "repository:%s:pull", q->remote);
	q->up = upstream_start(q->upi, "HEAD", path, NULL, scope, 0, &bh_ops,
	    c);
}

static int
lacks_blob(const struct msg *m)
{
	uint64_t e = m != NULL && m->type == M_ERR ? msg_u64(m, A_CODE, 0) : 0;

	return e == RE_BLOB_UNKNOWN || e == RE_NAME_UNKNOWN;
}

/* storaged's answer served, unless it lacks the blob: then 0. */
static int
blob_served(struct link *l, struct msg *m, struct conn *c)
{
	if (!lacks_blob(m)) {
		(c->req.method == HTTP_M_GET ? api_on_blob :
		    api_on_blob_stat)(l, m, c);
		return 1;
	}
	conn_wait_done(c);
	return 0;
}

static void
on_stored_blob(struct link *l, struct msg *m, void *arg)
{
	if (!blob_served(l, m, arg))
		blob_missing(arg);
}

static void
stored_blob(struct conn *c)
{
	cache_ask_store(c, c->req.method == HTTP_M_GET ? M_BLOB_OPEN :
	    M_BLOB_STAT, c->api->cache->store, on_stored_blob);
}

/* A mirror's name: the host's own repository first. */
static void
on_own_blob(struct link *l, struct msg *m, void *arg)
{
	if (!blob_served(l, m, arg))
		stored_blob(arg);
}

void
cache_blob(struct conn *c)
{
	struct api_req *r = c->api;

	if (api_parse_digest(c, r->ref, r->digest, sizeof(r->digest)) == -1)
		return;
	if (r->cache->mirror_first)
		cache_ask_store(c, c->req.method == HTTP_M_GET ? M_BLOB_OPEN :
		    M_BLOB_STAT, r->repo, on_own_blob);
	else
		stored_blob(c);
}
