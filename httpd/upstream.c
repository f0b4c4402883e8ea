/*
 * upstream.c - the HTTP client of the pull-through cache (upstream.h):
 * connection, TLS, request, response head and body, on httpd's loop.
 * Authentication and redirects are in upstream_auth.c.
 *
 * Connections are kept for the next exchange with the same host
 * (upstream_pool.c); one the upstream closed while it idled, found dead
 * before any byte of the answer came, is dialled anew once (GET and HEAD
 * are safe to send again).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "conf.h"
#include "ev.h"
#include "log.h"
#include "resolve.h"
#include "upstream_int.h"
#include "util.h"

#define UP_STALL_MS	30000		/* silence that ends an exchange */
/* A forwarded push waits longer: the client's own pace is bounded by
 * http.body_timeout before its bytes get here, and an upstream's commit of
 * a big layer (a copy inside its storage) may be silent for minutes. */
#define UP_FWD_STALL_MS	300000
#define UP_READ		(64 * 1024)

static void up_io(int fd, int events, void *arg);

/* Close the connection (the exchange may start again: redirect, auth). */
void
up_disconnect(struct upreq *r)
{
	if (r->rs != NULL)
		resolve_cancel(r->rs);
	r->rs = NULL;
	if (r->ssl != NULL)
		SSL_free(r->ssl);
	r->ssl = NULL;
	if (r->fd != -1) {
		ev_del(r->fd);
		close(r->fd);
	}
	r->fd = -1;
	buf_reset(&r->in);
	buf_reset(&r->out);
	buf_reset(&r->head);
	r->state = UP_IDLE;
}

static void
up_buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
}

void
up_free(struct upreq *r)
{
	up_disconnect(r);
	ev_timer_cancel(&r->timer);
	buf_free(&r->in);
	if (r->fwd)	/* both held the client's credentials */
		up_buf_wipe(&r->out), up_buf_wipe(&r->fwd_hdrs);
	buf_free(&r->out);
	buf_free(&r->head);
	buf_free(&r->fwd_hdrs);
	if (r->child != NULL)
		upstream_cancel(r->child);
	explicit_bzero(r->authz, sizeof(r->authz));
	free(r);
}

/* The exchange failed: tell the owner once, then free. */
void
up_fail(struct upreq *r, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	r->ops->done(r, why, r->arg);
	up_free(r);
}

void
upstream_cancel(struct upreq *r)
{
	if (r != NULL)
		up_free(r);
}

static void
up_timeout(void *arg)
{
	struct upreq *r = arg;
	uint64_t stall = r->fwd ? UP_FWD_STALL_MS : UP_STALL_MS;

	/* paused, r waits for its reader (a slow client), not the upstream */
	if (r->paused)
		r->progress_ms = ev_now();
	if (ev_now() - r->progress_ms < stall) {
		ev_timer_arm(&r->timer, stall - (ev_now() - r->progress_ms));
		return;
	}
	up_fail(r, "%s: no answer for %d s", r->t.host, (int)(stall / 1000));
}

/* The request text: method, target, Host, Accept, Authorization. */
static void
up_request_text(struct upreq *r)
{
	int v6 = strchr(r->t.host, ':') != NULL;
	int dflt = strcmp(r->t.port, r->t.tls ? "443" : "80") == 0;

	buf_printf(&r->out, "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n"
	    "User-Agent: regmaster-cache\r\n", r->method,
	    r->t.path, v6 ? "[" : "", r->t.host, v6 ? "]" : "",
	    dflt ? "" : ":", dflt ? "" : r->t.port);
	if (r->accept[0])
		buf_printf(&r->out, "Accept: %s\r\n", r->accept);
	if (r->authz[0])
		buf_printf(&r->out, "Authorization: %s\r\n", r->authz);
	if (buf_avail(&r->fwd_hdrs))
		buf_append(&r->out, buf_head(&r->fwd_hdrs),
		    buf_avail(&r->fwd_hdrs));
	buf_puts(&r->out, "\r\n");
}

/* TCP is up: start TLS (name verified), or send. */
static int
up_connected(struct upreq *r)
{
	SSL_CTX *ctx;

	if (!r->t.tls) {
		r->state = UP_SEND;
		return 0;
	}
	if ((ctx = up_ssl_ctx(r->upi)) == NULL)
		return -1;
	if ((r->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(r->ssl, r->fd) != 1 ||
	    SSL_set1_host(r->ssl, r->t.host) != 1 ||
	    (strchr(r->t.host, ':') == NULL && strspn(r->t.host,
	    "0123456789.") != strlen(r->t.host) &&
	    SSL_set_tlsext_host_name(r->ssl, r->t.host) != 1))
		return -1;
	SSL_set_connect_state(r->ssl);
	r->state = UP_HANDSHAKE;
	return 0;
}

/* Addresses came: dial the first (a failure says so; no fallback). */
static void
up_resolved(const struct addrinfo *res, int err, void *arg)
{
	struct upreq *r = arg;

	r->rs = NULL;
	if (err != 0) {
		up_fail(r, "%s: %s", r->t.host, gai_strerror(err));
		return;
	}
	r->fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, res->ai_protocol);
	if (r->fd == -1 || (connect(r->fd, res->ai_addr, res->ai_addrlen) ==
	    -1 && errno != EINPROGRESS)) {
		up_fail(r, "%s port %s: %s", r->t.host, r->t.port,
		    strerror(errno));
		return;
	}
	r->state = UP_CONNECT;
	up_request_text(r);
	ev_add(r->fd, EV_WRITE, up_io, r);
}

/* Start (or start again) the exchange on r's target: on an idle
 * connection to it if there is one, else on a new one. */
void
up_dial(struct upreq *r)
{
	up_disconnect(r);
	r->progress_ms = ev_now();
	if (!ev_timer_armed(&r->timer))
		ev_timer_arm(&r->timer, UP_STALL_MS);
	r->reused = !r->fresh_only && uppool_take(r) == 0;
	if (r->reused) {
		r->state = UP_SEND;
		up_request_text(r);
		ev_add(r->fd, EV_WRITE, up_io, r);
		return;
	}
	r->state = UP_RESOLVE;
	r->rs = resolve_start(r->t.host, r->t.port, SOCK_STREAM, up_resolved,
	    r);
}

int
up_redial(struct upreq *r)
{
	if (!r->reused || r->state > UP_HEAD || buf_avail(&r->in) > 0 ||
	    r->fresh_only)
		return 0;
	r->fresh_only = 1;
	up_dial(r);
	return 1;
}

/* SSL's result r: bytes, 0 to wait (events set), -1 failed. */
static int
ssl_result(struct upreq *r, int n)
{
	switch (SSL_get_error(r->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		r->events = EV_READ;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		r->events = EV_WRITE;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return -2;
	default:
		return -1;
	}
}

static ssize_t
up_write(struct upreq *r, const void *p, size_t n)
{
	ssize_t w;

	if (r->ssl == NULL) {
		w = send(r->fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && (errno == EAGAIN || errno == EINTR))
			return r->events = EV_WRITE, 0;
		return w;
	}
	w = SSL_write(r->ssl, p, (int)n);
	return w > 0 ? w : ssl_result(r, (int)w);
}

/* At most max bytes onto the end of b: >0 read, 0 wait, -2 end of
 * stream, -1 error. */
static ssize_t
up_read(struct upreq *r, struct buf *b, size_t max)
{
	ssize_t n;

	buf_reserve(b, max);
	if (r->ssl == NULL) {
		n = recv(r->fd, buf_tail(b), max, 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return r->events = EV_READ, 0;
		if (n == 0)
			return -2;
	} else if ((n = SSL_read(r->ssl, buf_tail(b), (int)max)) <= 0)
		return ssl_result(r, (int)n);
	if (n > 0)
		b->len += (size_t)n;
	return n;
}

/* Where the next read goes: the caller's sink for a body of known length
 * that r->in holds nothing of (never past the body's end: the connection
 * may serve the next exchange), else r->in. */
static ssize_t
up_read_next(struct upreq *r, int *sunk)
{
	struct buf *sink;

	*sunk = r->state == UP_BODY && r->body_framing == 0 &&
	    buf_avail(&r->in) == 0 && r->ops->sink != NULL &&
	    (sink = r->ops->sink(r, r->arg)) != NULL;
	if (!*sunk)
		return up_read(r, &r->in, UP_READ);
	return up_read(r, sink, r->body_left < UP_READ ?
	    (size_t)r->body_left : UP_READ);
}

/* The TLS handshake's step: 1 done, 0 wait, -1 failed (verification). */
static int
up_handshake(struct upreq *r)
{
	int n = SSL_do_handshake(r->ssl);
	long v;

	if (n == 1)
		return 1;
	if (ssl_result(r, n) == 0)
		return 0;
	if ((v = SSL_get_verify_result(r->ssl)) != X509_V_OK)
		up_fail(r, "%s: certificate not verified: %s", r->t.host,
		    X509_verify_cert_error_string(v));
	else
		up_fail(r, "%s: TLS handshake failed: %s", r->t.host,
		    ERR_reason_error_string(ERR_get_error()));
	ERR_clear_error();
	return -1;
}

/* The next bytes of a request body into r->out: 1 some (or the end), 0
 * to wait for upstream_send_more, -1 when r is gone. */
static int
up_body_more(struct upreq *r)
{
	int rc = r->body(r, &r->out, r->arg);

	if (rc == -1) {
		up_free(r);
		return -1;
	}
	r->body_sent = rc == 1;
	if (rc == 0 && !buf_avail(&r->out)) {
		r->events = 0;
		return 0;
	}
	return 1;
}

void
upstream_send_more(struct upreq *r)
{
	r->progress_ms = ev_now();
	if (r->state == UP_SEND)
		up_io(r->fd, EV_WRITE, r);
}

/* Connect, handshake and send: 1 when the request is out, 0 to wait,
 * -1 when r failed (and is gone). */
static int
up_send_step(struct upreq *r)
{
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t n;

	if (r->state == UP_CONNECT) {
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0)
			return up_fail(r, "%s port %s: %s", r->t.host,
			    r->t.port, strerror(err ? err : errno)), -1;
		if (up_connected(r) == -1)
			return up_fail(r, "%s: TLS setup failed", r->t.host),
			    -1;
	}
	if (r->state == UP_HANDSHAKE) {
		if ((err = up_handshake(r)) != 1)
			return err;
		r->state = UP_SEND;
	}
	while (buf_avail(&r->out) || (r->body && !r->body_sent)) {
		if (!buf_avail(&r->out)) {
			if ((n = up_body_more(r)) != 1)
				return (int)n;
			continue;
		}
		if ((n = up_write(r, buf_head(&r->out),
		    buf_avail(&r->out))) == 0)
			return 0;
		if (n < 0 && up_redial(r))
			return -1;
		if (n < 0 && r->fwd && r->body)
			break;	/* it may have answered early: read that */
		if (n < 0)
			return up_fail(r, "%s: connection lost while sending",
			    r->t.host), -1;
		buf_consume(&r->out, (size_t)n);
	}
	r->state = UP_HEAD;
	r->events = EV_READ;
	return 1;
}

/* A forwarded body is going and the upstream's side is readable: 1 if it
 * answered (or closed) before taking it all, to be read now; 0 when that
 * was TLS's own business (a session ticket) and the body goes on. */
static int
up_early_answer(struct upreq *r)
{
	ssize_t n = up_read(r, &r->in, UP_READ);

	r->events = 0;
	if (n == 0)
		return 0;
	r->state = UP_HEAD;
	return 1;
}

static void
up_io(int fd, int events, void *arg)
{
	struct upreq *r = arg;
	int rc;

	r->progress_ms = ev_now();
	r->events = 0;
	if (r->fwd && r->state == UP_SEND && (events & EV_READ) &&
	    up_early_answer(r))
		;	/* read below: a 401 need not wait for the body */
	else if (r->state < UP_HEAD && (rc = up_send_step(r)) != 1) {
		if (rc == 0)
			ev_set(r->fd, r->events | (r->fwd && r->state ==
			    UP_SEND ? EV_READ : 0));
		return;
	}
	if (r->paused) {
		ev_set(r->fd, 0);
		return;
	}
	up_receive(r);
}

/* Read and hand on what arrived until the socket has no more, r pauses,
 * or the exchange ends; r may be gone on return. */
void
up_receive(struct upreq *r)
{
	ssize_t n;
	int sunk;

	for (;;) {
		if (buf_avail(&r->in) > 0) {
			switch (up_consume(r)) {
			case UPC_GONE:
				return;
			case UPC_PAUSE:
				ev_set(r->fd, 0);
				return;
			default:
				break;
			}
		}
		n = up_read_next(r, &sunk);
		if (n == 0) {
			ev_set(r->fd, r->events);
			return;
		}
		if (n < 0) {
			up_eof(r, n == -2);
			return;
		}
		if (sunk && up_sunk(r, (size_t)n) != UPC_MORE)
			return;	/* gone, or paused: ev_set by up_sunk */
	}
}

void
upstream_resume(struct upreq *r)
{
	if (!r->paused)
		return;
	r->paused = 0;
	r->progress_ms = ev_now();
	if (r->fd != -1 && r->state >= UP_HEAD)
		up_receive(r);
}

struct upreq *
up_new(size_t upi, const char *method, const struct up_ops *ops, void *arg)
{
	struct upreq *r = xcalloc(1, sizeof(*r));

	r->upi = upi;
	r->fd = -1;
	str_copy(r->method, method, sizeof(r->method));
	buf_init(&r->in);
	buf_init(&r->out);
	buf_init(&r->head);
	buf_init(&r->fwd_hdrs);
	ev_timer_init(&r->timer, up_timeout, r);
	r->ops = ops;
	r->arg = arg;
	return r;
}
