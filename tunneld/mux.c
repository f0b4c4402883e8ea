/*
 * mux.c - a tunnel connection (see mux.h): nonblocking TLS driven by the
 * event loop, frames in and out, the heartbeat, and its end.  Streams are
 * mux_stream.c's.  Frames are only queued by the streams' callbacks; the
 * TLS writes happen in the connection's own event, so a stream never sees
 * its connection freed under it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "log.h"
#include "mux_int.h"
#include "util.h"

/* Records gathered for one write(): a 16 KiB record a write() costs a
 * syscall and a wake-up of the peer per record. */
#define MUX_TLS_WBUF	(256 * 1024)

static void mux_event(int fd, int events, void *arg);
static void mux_ping(void *arg);
static void mux_flush(void *arg);

/* The TLS session on fd: reads straight from the socket, writes through a
 * buffer that mux_write flushes once it has written all it can. */
static void
mux_bios(struct mux *m)
{
	BIO *sock = BIO_new_socket(m->fd, BIO_NOCLOSE);
	BIO *wb = BIO_new(BIO_f_buffer());

	if (sock == NULL || wb == NULL ||
	    BIO_set_write_buffer_size(wb, MUX_TLS_WBUF) != 1 ||
	    BIO_up_ref(sock) != 1)
		fatalx("the tunnel's TLS BIOs: out of memory");
	BIO_push(wb, sock);
	SSL_set_bio(m->ssl, sock, wb);	/* one reference each */
}

/* Bytes not yet given to the kernel: queued frames, gathered records. */
static size_t
mux_unsent(const struct mux *m)
{
	return buf_avail(&m->out) + BIO_wpending(SSL_get_wbio(m->ssl));
}

static void
peer_name(struct mux *m)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(m->fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    addr_format((struct sockaddr *)&ss, m->peer, sizeof(m->peer)) == -1)
		str_copy(m->peer, "?", sizeof(m->peer));
}

struct mux *
mux_new(int fd, SSL *ssl, int server, const struct mux_ops *ops, void *arg)
{
	struct mux *m = xcalloc(1, sizeof(*m));

	m->fd = fd;
	m->ssl = ssl;
	m->server = server;
	m->ops = ops;
	m->arg = arg;
	m->in = xcalloc(1, MUX_IN_MAX);
	m->next_id = 1;
	m->last_rx = ev_now();
	buf_init(&m->out);
	LIST_INIT(&m->streams);
	TAILQ_INIT(&m->blocked);
	peer_name(m);
	mux_bios(m);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	m->events = EV_READ | EV_WRITE;
	ev_add(fd, m->events, mux_event, m);
	ev_timer_init(&m->ping_timer, mux_ping, m);
	ev_timer_init(&m->flush_timer, mux_flush, m);
	ev_timer_arm(&m->ping_timer, MUX_PING_MS);
	return m;
}

static void
mux_free(struct mux *m)
{
	buf_free(&m->out);
	free(m->in);
	SSL_free(m->ssl);
	close(m->fd);
	free(m);
}

void
mux_close(struct mux *m, const char *why)
{
	if (m->dead)
		return;
	m->dead = 1;
	str_copy(m->why, why, sizeof(m->why));
	streams_close_all(m);
	ev_timer_cancel(&m->ping_timer);
	ev_timer_cancel(&m->flush_timer);
	ev_del(m->fd);
	if (m->handshaken)
		(void)SSL_shutdown(m->ssl);	/* best effort, nonblocking */
	ERR_clear_error();
	if (m->ops->closed)
		m->ops->closed(m, m->why);
	if (!m->busy)
		mux_free(m);
}

void
mux_close_after_flush(struct mux *m, const char *why)
{
	str_copy(m->why, why, sizeof(m->why));
	m->flush_close = 1;
	mux_want_write(m);
	if (mux_unsent(m) == 0 && !m->busy)
		mux_close(m, why);
}

void *
mux_arg(const struct mux *m)
{
	return m->arg;
}

SSL *
mux_ssl(const struct mux *m)
{
	return m->ssl;
}

const char *
mux_peer(const struct mux *m)
{
	return m->peer;
}

void
mux_set_authed(struct mux *m)
{
	m->authed = 1;
}

size_t
mux_nstreams(const struct mux *m)
{
	return m->nstreams;
}

const struct mux_stats *
mux_stats(const struct mux *m)
{
	return &m->st;
}

static void
mux_interest(struct mux *m)
{
	int ev = EV_READ;

	if (!m->draining && (!m->handshaken || mux_unsent(m) > 0 ||
	    m->rd_wants_write))
		ev |= EV_WRITE;
	if (ev != m->events) {
		m->events = ev;
		ev_set(m->fd, ev);
	}
}

/*
 * Frames were queued.  Within the connection's own event they go out at
 * its end; else at the end of this loop turn (mux_flush), with whatever
 * else the turn queued, and EPOLLOUT is asked for only if the socket is
 * full: asking first cost two epoll_ctl and a turn of the loop per burst.
 */
void
mux_want_write(struct mux *m)
{
	if (!m->dead && !m->draining && !m->busy && !(m->events & EV_WRITE) &&
	    !ev_timer_armed(&m->flush_timer))
		ev_timer_arm(&m->flush_timer, 0);
}

void
mux_queue(struct mux *m, const void *p, size_t len)
{
	buf_append(&m->out, p, len);
	mux_want_write(m);
}

int
mux_out_full(const struct mux *m)
{
	return buf_avail(&m->out) >= MUX_OUT_HIGH;
}

void
mux_send_ctrl(struct mux *m, const char *json, size_t len)
{
	uint8_t hdr[TF_HDR];

	if (m->dead || len == 0 || len > TF_CTRL_MAX)
		fatalx("control message of %zu bytes", len);
	tframe_header(hdr, TF_CTRL, 0, 0, (uint32_t)len);
	buf_append(&m->out, hdr, sizeof(hdr));
	mux_queue(m, json, len);
}

/* Heartbeat: a ping every MUX_PING_MS; silence for MUX_DEAD_MS is death. */
static void
mux_ping(void *arg)
{
	struct mux *m = arg;
	uint8_t f[TF_HDR + 8];

	if (m->draining) {
		mux_close(m, m->why);
		return;
	}
	if (ev_now() - m->last_rx > MUX_DEAD_MS) {
		mux_close(m, "no heartbeat for 6 s: the tunnel is dead");
		return;
	}
	mux_queue(m, f, tframe_ping(f, 0, ++m->ping_seq));
	ev_timer_arm(&m->ping_timer, MUX_PING_MS);
}

/* A TLS error as text, for the log line. */
static const char *
tls_why(struct mux *m, int r, const char *what)
{
	unsigned long e = ERR_peek_last_error();

	snprintf(m->why, sizeof(m->why), "%s: %s", what, e ? ERR_reason_error_string(e) :
	    r == 0 ? "connection closed" : strerror(errno));
	ERR_clear_error();
	return m->why;
}

/* Drive the handshake; 0 while it goes on or done, -1 failed. */
static int
mux_handshake(struct mux *m)
{
	int r = SSL_do_handshake(m->ssl);

	if (r == 1) {
		m->handshaken = 1;
		if (m->ops->ready && m->ops->ready(m) == -1) {
			if (!m->dead)
				mux_close(m, "refused after the TLS handshake");
			return -1;
		}
		return 0;
	}
	switch (SSL_get_error(m->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		tls_why(m, r, "TLS handshake");
		if (!m->server && SSL_get_verify_result(m->ssl) != X509_V_OK)
			snprintf(m->why + strlen(m->why), sizeof(m->why) -
			    strlen(m->why), " (%s)", X509_verify_cert_error_string(
			    SSL_get_verify_result(m->ssl)));
		mux_close(m, m->why);
		return -1;
	}
}

/* The frames in the input, each handled; what is left is kept for more. */
static int
mux_frames(struct mux *m)
{
	size_t off = 0;
	const char *err;
	struct tframe f;
	long n;

	while (!m->dead && !m->flush_close && (n = tframe_parse(m->in + off,
	    m->inlen - off, &f, &err)) > 0) {
		off += (size_t)n;
		if (!m->authed && f.type != TF_CTRL && f.type != TF_PING)
			err = "a stream frame before authentication";
		else if (f.type == TF_CTRL) {
			if (m->ops->ctrl)
				m->ops->ctrl(m, f.payload, f.len);
			continue;
		} else if (f.type == TF_PING) {
			uint8_t pf[TF_HDR + 8];
			if (!(f.flags & TF_F_ACK))
				mux_queue(m, pf, tframe_ping(pf, 1, f.ping));
			continue;
		} else if (stream_frame(m, &f, &err) == 0)
			continue;
		n = -1;
		break;
	}
	if (n == -1 && !m->dead) {
		snprintf(m->why, sizeof(m->why), "protocol error: %s", err);
		mux_close(m, m->why);
	}
	if (m->dead)
		return -1;
	if (m->flush_close)	/* we said our last word: the rest is moot */
		off = m->inlen;
	memmove(m->in, m->in + off, m->inlen - off);
	m->inlen -= off;
	return 0;
}

/* Read what TLS has, frame by frame; -1 once the connection is closed. */
static int
mux_read(struct mux *m)
{
	int r;

	m->rd_wants_write = 0;
	for (;;) {
		r = SSL_read(m->ssl, m->in + m->inlen, (int)(MUX_IN_MAX -
		    m->inlen));
		if (r > 0) {
			m->inlen += (size_t)r;
			m->last_rx = ev_now();
			if (mux_frames(m) == -1)
				return -1;
			continue;
		}
		switch (SSL_get_error(m->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			return 0;
		case SSL_ERROR_WANT_WRITE:
			m->rd_wants_write = 1;
			return 0;
		case SSL_ERROR_ZERO_RETURN:
			mux_close(m, m->draining ? m->why :
			    "the peer closed the tunnel");
			return -1;
		default:
			mux_close(m, m->draining ? m->why : tls_why(m, r,
			    "reading the tunnel"));
			return -1;
		}
	}
}

/* Write what is queued; -1 once the connection is closed. */
static int
mux_write(struct mux *m)
{
	size_t had = buf_avail(&m->out);
	int r;

	m->wr_wants_read = 0;
	while (buf_avail(&m->out) > 0) {
		size_t n = buf_avail(&m->out);
		r = SSL_write(m->ssl, buf_head(&m->out), n > INT_MAX ? INT_MAX :
		    (int)n);
		if (r > 0) {
			buf_consume(&m->out, (size_t)r);
			continue;
		}
		switch (SSL_get_error(m->ssl, r)) {
		case SSL_ERROR_WANT_WRITE:
			goto out;
		case SSL_ERROR_WANT_READ:
			m->wr_wants_read = 1;
			goto out;
		default:
			mux_close(m, tls_why(m, r, "writing the tunnel"));
			return -1;
		}
	}
	buf_compact(&m->out);
	if (BIO_flush(SSL_get_wbio(m->ssl)) <= 0 &&
	    !BIO_should_retry(SSL_get_wbio(m->ssl))) {
		mux_close(m, tls_why(m, -1, "writing the tunnel"));
		return -1;
	}
out:
	if (had >= MUX_OUT_LOW && buf_avail(&m->out) < MUX_OUT_LOW)
		streams_unblock(m);
	return 0;
}

/*
 * Our last word (an error) is sent: close_notify and a half close, then
 * read until the peer closes too, at most MUX_PING_MS.  Closing at once
 * with the peer's frames unread would make the kernel reset the
 * connection, and the peer might lose the error it should log.
 */
static void
mux_drain(struct mux *m)
{
	m->draining = 1;
	(void)SSL_shutdown(m->ssl);
	ERR_clear_error();
	shutdown(m->fd, SHUT_WR);
	ev_timer_arm(&m->ping_timer, MUX_PING_MS);
}

/* The end of the connection's turn: its last word sent, the interest
 * that follows from what is left; freed if it died meanwhile. */
static void
mux_settle(struct mux *m)
{
	if (!m->dead && m->flush_close && !m->draining &&
	    mux_unsent(m) == 0)
		mux_drain(m);
	if (!m->dead)
		mux_interest(m);
	if (--m->busy == 0 && m->dead)
		mux_free(m);
}

static void
mux_event(int fd, int events, void *arg)
{
	struct mux *m = arg;

	m->busy++;
	if (!m->handshaken)
		(void)mux_handshake(m);
	if (!m->dead && m->handshaken && mux_read(m) == 0 && !m->draining)
		(void)mux_write(m);
	mux_settle(m);
}

static void
mux_flush(void *arg)
{
	struct mux *m = arg;

	m->busy++;
	if (!m->dead && m->handshaken && !m->draining)
		(void)mux_write(m);
	mux_settle(m);
}
