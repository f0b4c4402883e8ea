/*
 * upstream_body.c - an upstream's response: the head (lib/http's parser,
 * its limits), then the body by its framing, each bounded by the caller's
 * maximum.  A body shorter than its length, malformed chunks or a head
 * that never ends fail the exchange with the reason.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

#include "upstream_int.h"

/* The caller has the body: done, then r is freed; its connection is kept
 * when the answer ended exactly where its framing said (nothing read
 * after it, none of it left unread) and the upstream keeps it open. */
static enum up_consumed
up_complete(struct upreq *r)
{
	if (r->resp.keep_alive && r->body_framing != 2 &&
	    buf_avail(&r->in) == 0 && (r->ssl == NULL ||
	    SSL_pending(r->ssl) == 0))
		(void)uppool_put(r);
	r->ops->done(r, NULL, r->arg);
	up_free(r);
	return UPC_GONE;
}

/* Framing of the body after head h; -1 when r failed. */
static int
up_framing(struct upreq *r, const struct http_request *h)
{
	if (strcmp(r->method, "HEAD") == 0 || h->status == 204 ||
	    h->status == 304) {
		r->body_framing = 0;
		r->body_left = 0;
		return 0;
	}
	if (h->chunked) {
		r->body_framing = 1;
		http_chunked_init(&r->chunk);
		return 0;
	}
	if (h->content_length < 0) {
		r->body_framing = 2;
		return 0;
	}
	if ((uint64_t)h->content_length > r->body_max) {
		up_fail(r, "%s: a body of %lld bytes, more than %llu",
		    r->t.host, (long long)h->content_length,
		    (unsigned long long)r->body_max);
		return -1;
	}
	r->body_framing = 0;
	r->body_left = (uint64_t)h->content_length;
	return 0;
}

/* The head in r->in, parsed into r->resp: UPC_MORE when the body follows
 * (or more head bytes are needed: r->state stays UP_HEAD). */
static enum up_consumed
up_head(struct upreq *r)
{
	size_t n = buf_avail(&r->in) < HTTP_MAX_HEAD ? buf_avail(&r->in) :
	    HTTP_MAX_HEAD;
	int rc;

	buf_reset(&r->head);
	buf_append(&r->head, buf_head(&r->in), n);
	if ((rc = http_parse_response(r->head.data, n, &r->resp)) == 0)
		return UPC_MORE;
	if (rc < 0) {
		up_fail(r, "%s: malformed response head (%d)", r->t.host, -rc);
		return UPC_GONE;
	}
	buf_consume(&r->in, (size_t)rc);
	if (r->resp.status < 200)
		return buf_avail(&r->in) ? up_head(r) : UPC_MORE;
	if (up_intercept(r))
		return UPC_GONE;
	if (up_framing(r, &r->resp) == -1)
		return UPC_GONE;
	if (r->ops->head(r, &r->resp, r->arg) == -1) {
		up_free(r);
		return UPC_GONE;
	}
	r->state = UP_BODY;
	if (r->body_framing == 0 && r->body_left == 0)
		return up_complete(r);
	return UPC_MORE;
}

/* Payload p[0..n) to the caller, counted against the maximum. */
static enum up_consumed
up_payload(struct upreq *r, const char *p, size_t n)
{
	r->body_got += n;
	if (r->body_got > r->body_max) {
		up_fail(r, "%s: a body of more than %llu bytes", r->t.host,
		    (unsigned long long)r->body_max);
		return UPC_GONE;
	}
	if (n == 0)
		return UPC_MORE;
	switch (r->ops->data(r, p, n, r->arg)) {
	case -1:
		up_free(r);
		return UPC_GONE;
	case 1:
		r->paused = 1;
		break;
	}
	return UPC_MORE;
}

/* Chunked framing: payload runs to the caller until the last chunk. */
static enum up_consumed
up_chunks(struct upreq *r)
{
	const char *p;
	size_t n;
	ssize_t used;
	int done = 0;

	while (buf_avail(&r->in) > 0 && !done && !r->paused) {
		used = http_chunked_step(&r->chunk, buf_head(&r->in),
		    buf_avail(&r->in), &p, &n, &done);
		if (used < 0) {
			up_fail(r, "%s: malformed chunked body", r->t.host);
			return UPC_GONE;
		}
		buf_consume(&r->in, (size_t)used);
		if (n > 0 && up_payload(r, p, n) == UPC_GONE)
			return UPC_GONE;
	}
	if (done)
		return up_complete(r);
	return r->paused ? UPC_PAUSE : UPC_MORE;
}

enum up_consumed
up_consume(struct upreq *r)
{
	size_t n;

	if (r->state == UP_HEAD) {
		enum up_consumed c = up_head(r);
		if (c != UPC_MORE || r->state == UP_HEAD ||
		    buf_avail(&r->in) == 0)
			return c;
	}
	if (r->body_framing == 1)
		return up_chunks(r);
	n = buf_avail(&r->in);
	if (r->body_framing == 0 && n > r->body_left)
		n = (size_t)r->body_left;	/* what follows is not ours */
	if (up_payload(r, buf_head(&r->in), n) == UPC_GONE)
		return UPC_GONE;
	/* bytes after the body stay: up_complete sees them, and drops the
	 * connection */
	buf_consume(&r->in, n);
	if (r->body_framing == 0 && (r->body_left -= n) == 0)
		return up_complete(r);
	return r->paused ? UPC_PAUSE : UPC_MORE;
}

enum up_consumed
up_sunk(struct upreq *r, size_t n)
{
	if (up_payload(r, NULL, n) == UPC_GONE)
		return UPC_GONE;
	if ((r->body_left -= n) == 0)
		return up_complete(r);
	if (r->paused) {
		ev_set(r->fd, 0);
		return UPC_PAUSE;
	}
	return UPC_MORE;
}

void
up_eof(struct upreq *r, int clean)
{
	if (up_redial(r))
		return;
	if (r->state == UP_BODY && r->body_framing == 2 && clean) {
		(void)up_complete(r);
		return;
	}
	if (r->state == UP_BODY && r->body_framing == 0)
		up_fail(r, "%s: connection closed %llu bytes before the end "
		    "of the body", r->t.host,
		    (unsigned long long)r->body_left);
	else
		up_fail(r, "%s: connection closed %s", r->t.host,
		    r->state == UP_HEAD ? "before a complete response head" :
		    "inside the body");
}
