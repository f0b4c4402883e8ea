/*
 * mux_stream.c - the visitor streams of a tunnel connection: the table,
 * moving bytes between a stream's socket and its frames within the flow
 * control windows, half closes and resets.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mux_int.h"
#include "util.h"

#define STREAM_PULL_BURST	4

static void stream_event(int fd, int events, void *arg);

static struct mstream **
bucket(struct mux *m, uint32_t id)
{
	return &m->table[id & (MUX_BUCKETS - 1)];
}

struct mstream *
stream_find(struct mux *m, uint32_t id)
{
	struct mstream *s;

	for (s = *bucket(m, id); s; s = s->hnext)
		if (s->id == id)
			return s;
	return NULL;
}

static struct mstream *
stream_new(struct mux *m, uint32_t id, int fd, int compress)
{
	struct mstream *s = xcalloc(1, sizeof(*s));

	s->mux = m;
	s->id = id;
	s->fd = fd;
	s->compress = compress != 0;
	tzip_enc_init(&s->zenc);
	tzip_dec_init(&s->zdec);
	s->send_win = MUX_WINDOW;
	s->recv_avail = MUX_WINDOW;
	buf_init(&s->out);
	s->hnext = *bucket(m, id);
	*bucket(m, id) = s;
	LIST_INSERT_HEAD(&m->streams, s, all);
	m->nstreams++;
	m->st.opened++;
	return s;
}

/* One frame's payload through zlib at a time: tunneld has one thread. */
static uint8_t zbuf[TF_DATA_MAX];

/* The encoder of a stream's outgoing DATA: len bytes at data may be
 * rewritten in place, shorter, with *flags saying how (TF_F_ZLIB, from
 * lib/tzip for a proxy with compression); the result's length. */
static size_t
mux_stream_encoder(struct mstream *s, uint8_t *data, size_t len,
    uint8_t *flags)
{
	const uint8_t *p;
	size_t n;

	*flags = 0;
	if (!s->compress)
		return len;
	p = tzip_send(&s->zenc, data, len, zbuf, &n, flags);
	if (p != data)
		memcpy(data, p, n);	/* shorter than what it replaces */
	return n;
}

/* The decoder of incoming DATA: the stream bytes of the frame (its
 * payload itself, or zbuf) and their number in *n; NULL with *err if the
 * frame cannot be decoded (deflated on a stream that is not compressed,
 * or not as our encoder deflates). */
static const uint8_t *
mux_stream_decoder(struct mstream *s, const struct tframe *f, size_t *n,
    const char **err)
{
	if (!s->compress) {
		if (f->flags & TF_F_ZLIB)
			return *err = "deflated DATA on a stream without "
			    "compression", NULL;
		*n = f->len;
		return f->payload;
	}
	return tzip_recv(&s->zdec, f->flags, f->payload, f->len, zbuf, n,
	    err);
}

static void
stream_interest(struct mstream *s)
{
	struct mux *m = s->mux;
	int ev = 0;

	if (s->connecting)
		ev = EV_WRITE;
	else {
		if (!s->rd_eof && s->send_win > 0) {
			if (!mux_out_full(m))
				ev |= EV_READ;
			else if (!s->blocked) {
				s->blocked = 1;
				TAILQ_INSERT_TAIL(&m->blocked, s, bl);
			}
		}
		if (buf_avail(&s->out) > 0)
			ev |= EV_WRITE;
	}
	if (ev != s->events) {
		s->events = ev;
		ev_set(s->fd, ev);
	}
}

void
streams_unblock(struct mux *m)
{
	struct mstream *s;

	while ((s = TAILQ_FIRST(&m->blocked)) != NULL) {
		TAILQ_REMOVE(&m->blocked, s, bl);
		s->blocked = 0;
		stream_interest(s);
	}
}

void
stream_free(struct mstream *s, int rst)
{
	struct mux *m = s->mux;
	struct mstream **pp;
	uint8_t f[TF_HDR + 8];

	if (rst && !m->dead)
		mux_queue(m, f, tframe_close(f, s->id, 1, 0));
	if (m->ops->stream_end)
		m->ops->stream_end(m, s);
	for (pp = bucket(m, s->id); *pp != s; pp = &(*pp)->hnext)
		;
	*pp = s->hnext;
	LIST_REMOVE(s, all);
	if (s->blocked)
		TAILQ_REMOVE(&m->blocked, s, bl);
	m->nstreams--;
	ev_del(s->fd);
	close(s->fd);
	buf_free(&s->out);
	if (s->compress && s->zenc.in > 0)
		log_debug("stream %u: %llu bytes sent as %llu", s->id,
		    (unsigned long long)s->zenc.in,
		    (unsigned long long)s->zenc.out);
	tzip_enc_free(&s->zenc);
	tzip_dec_free(&s->zdec);
	free(s);
}

/* Every stream of a dying connection: its socket closed at once, so a
 * visitor sees the end now rather than a hang. */
void
streams_close_all(struct mux *m)
{
	struct mstream *s;

	while ((s = LIST_FIRST(&m->streams)) != NULL)
		stream_free(s, 0);
}

/* Both ways done: the stream is over. */
static int
stream_done(struct mstream *s)
{
	return s->rd_eof && s->wr_shut;
}

/* Socket -> frames: read what the window allows as one DATA frame. */
static int
stream_pull(struct mstream *s)
{
	struct mux *m = s->mux;
	size_t room = s->send_win < TF_DATA_MAX ? s->send_win : TF_DATA_MAX;
	uint8_t *p, flags, f[TF_HDR + 8];
	ssize_t n;

	if (room == 0 || s->rd_eof || mux_out_full(m))
		return 0;
	buf_reserve(&m->out, TF_HDR + room);
	p = (uint8_t *)buf_tail(&m->out);
	if ((n = read(s->fd, p + TF_HDR, room)) > 0) {
		size_t len = mux_stream_encoder(s, p + TF_HDR, (size_t)n,
		    &flags);
		tframe_header(p, TF_DATA, flags, s->id, (uint32_t)len);
		m->out.len += TF_HDR + len;
		s->send_win -= (uint32_t)n;
		s->bytes_out += (uint64_t)n;
		m->st.bytes_out += (uint64_t)n;
		mux_want_write(m);
		return 0;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == -1)
		return -1;
	s->rd_eof = 1;
	mux_queue(m, f, tframe_close(f, s->id, 0, 0));
	return 0;
}

/* Credit the peer with what was drained, once it is worth a frame. */
static void
stream_credit(struct mstream *s, int force)
{
	uint8_t f[TF_HDR + 8];

	if (s->unacked == 0 || (!force && s->unacked < MUX_CREDIT_AT))
		return;
	mux_queue(s->mux, f, tframe_window(f, s->id, s->unacked));
	s->recv_avail += s->unacked;
	s->unacked = 0;
}

/* Frames -> socket: write what is buffered; a half close follows it. */
static int
stream_push(struct mstream *s)
{
	uint32_t mine;
	ssize_t n;

	while (buf_avail(&s->out) > 0) {
		n = write(s->fd, buf_head(&s->out), buf_avail(&s->out));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0)
			return -1;
		buf_consume(&s->out, (size_t)n);
		mine = (size_t)n < s->own ? (uint32_t)n : s->own;
		s->own -= mine;
		s->unacked += (uint32_t)n - mine;
	}
	if (buf_avail(&s->out) == 0)
		buf_free(&s->out);	/* an idle stream holds no buffer */
	stream_credit(s, 0);
	if (buf_avail(&s->out) == 0 && s->peer_eof && !s->wr_shut) {
		shutdown(s->fd, SHUT_WR);
		s->wr_shut = 1;
	}
	return 0;
}

/* The local service's connect finished (client). */
static int
stream_connected(struct mstream *s)
{
	struct mux *m = s->mux;
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err) {
		log_info("stream %u: the local service refused: %s", s->id,
		    strerror(err ? err : errno));
		return -1;
	}
	s->connecting = 0;
	if (m->ops->connected)
		m->ops->connected(m, s);
	return 0;
}

static void
stream_event(int fd, int events, void *arg)
{
	struct mstream *s = arg;

	if (s->connecting) {
		if (stream_connected(s) == -1) {
			stream_free(s, 1);
			return;
		}
		events |= EV_WRITE;
	}
	if ((events & EV_WRITE) && stream_push(s) == -1) {
		stream_free(s, 1);
		return;
	}
	/* a few frames a wake-up: fewer turns of the loop per byte */
	for (int i = 0; (events & EV_READ) && i < STREAM_PULL_BURST; i++) {
		size_t before = buf_avail(&s->mux->out);
		if (stream_pull(s) == -1) {
			stream_free(s, 1);
			return;
		}
		if (buf_avail(&s->mux->out) - before < TF_HDR + TF_DATA_MAX)
			break;		/* the socket had no more */
	}
	if (stream_done(s))
		stream_free(s, 0);
	else
		stream_interest(s);
}

void
mux_stream_prepend(struct mstream *s, const void *p, size_t len)
{
	struct buf b;

	if (len > TF_OPEN_MAX)
		fatalx("%zu bytes to prepend", len);
	buf_init(&b);
	buf_append(&b, p, len);
	buf_append(&b, buf_head(&s->out), buf_avail(&s->out));
	buf_free(&s->out);
	s->out = b;
	s->own += (uint32_t)len;	/* not the peer's: never credited */
}

/* Stream bytes straight from the frame to the socket when nothing waits
 * before them (no copy through out); what the socket does not take is
 * kept in out.  -1: the socket failed. */
static int
stream_deliver(struct mstream *s, const uint8_t *p, size_t len)
{
	ssize_t n = 0;

	if (!s->connecting && buf_avail(&s->out) == 0) {
		n = write(s->fd, p, len);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n < 0)
			n = 0;
		s->unacked += (uint32_t)n;	/* own is 0: out was empty */
	}
	if ((size_t)n < len)
		buf_append(&s->out, p + n, len - (size_t)n);
	return s->connecting ? 0 : stream_push(s);
}

/* An incoming DATA frame for s, within what its window allows. */
static int
stream_data(struct mstream *s, const struct tframe *f, const char **err)
{
	const uint8_t *p;
	size_t got;

	if (s->peer_eof)
		return *err = "DATA after CLOSE", -1;
	if ((p = mux_stream_decoder(s, f, &got, err)) == NULL)
		return -1;
	if (got > s->recv_avail)
		return *err = "DATA beyond the stream's window", -1;
	s->recv_avail -= (uint32_t)got;
	s->bytes_in += got;
	s->mux->st.bytes_in += got;
	if (stream_deliver(s, p, got) == -1) {
		stream_free(s, 1);
		return 0;
	}
	stream_interest(s);
	return 0;
}

static int
stream_close_frame(struct mstream *s, const struct tframe *f)
{
	if (f->flags & TF_F_RST) {
		stream_free(s, 0);
		return 0;
	}
	s->peer_eof = 1;
	if (!s->connecting && stream_push(s) == -1) {
		stream_free(s, 1);
		return 0;
	}
	if (stream_done(s))
		stream_free(s, 0);
	else
		stream_interest(s);
	return 0;
}

/* A stream frame from the peer (DATA, OPEN, CLOSE, WINDOW); -1 with err
 * when the peer broke the protocol. */
int
stream_frame(struct mux *m, const struct tframe *f, const char **err)
{
	struct mstream *s = stream_find(m, f->stream);

	if (f->type == TF_OPEN) {
		if (m->server || s != NULL)
			return *err = m->server ? "OPEN from a client" :
			    "OPEN of a stream in use", -1;
		if (m->ops->open)
			m->ops->open(m, f->stream, f->payload, f->len);
		return 0;
	}
	if (s == NULL)		/* it ended here; the peer's frames crossed */
		return 0;
	switch (f->type) {
	case TF_DATA:
		return stream_data(s, f, err);
	case TF_CLOSE:
		return stream_close_frame(s, f);
	case TF_WINDOW:
		if (f->value > TF_WINDOW_MAX - s->send_win)
			return *err = "WINDOW past its maximum", -1;
		s->send_win += f->value;
		stream_interest(s);
		return 0;
	default:
		return *err = "not a stream frame", -1;
	}
}

/* Watch a new stream's socket. */
static struct mstream *
stream_start(struct mux *m, uint32_t id, int fd, int connecting,
    int compress)
{
	struct mstream *s = stream_new(m, id, fd, compress);

	s->connecting = connecting != 0;
	s->events = connecting ? EV_WRITE : EV_READ;
	ev_add(fd, s->events, stream_event, s);
	return s;
}

struct mstream *
mux_stream_open(struct mux *m, int fd, const void *payload, size_t len,
    int compress)
{
	uint8_t hdr[TF_HDR];
	uint32_t id;

	if (m->dead || !m->authed || m->nstreams >= MUX_STREAMS_MAX ||
	    len > TF_OPEN_MAX) {
		close(fd);
		return NULL;
	}
	do {
		id = m->next_id++;
	} while (id == 0 || stream_find(m, id) != NULL);
	tframe_header(hdr, TF_OPEN, 0, id, (uint32_t)len);
	buf_append(&m->out, hdr, sizeof(hdr));
	mux_queue(m, payload, len);
	return stream_start(m, id, fd, 0, compress);
}

struct mstream *
mux_stream_accept(struct mux *m, uint32_t id, int fd, int connecting,
    int compress)
{
	if (m->dead || id == 0 || stream_find(m, id) != NULL ||
	    m->nstreams >= MUX_STREAMS_MAX) {
		close(fd);
		mux_stream_refuse(m, id);
		return NULL;
	}
	return stream_start(m, id, fd, connecting, compress);
}

void
mux_stream_refuse(struct mux *m, uint32_t id)
{
	uint8_t f[TF_HDR + 8];

	if (!m->dead && id != 0)
		mux_queue(m, f, tframe_close(f, id, 1, 0));
}

void
mux_stream_set_tag(struct mstream *s, void *tag)
{
	s->tag = tag;
}

void *
mux_stream_tag(const struct mstream *s)
{
	return s->tag;
}

uint32_t
mux_stream_id(const struct mstream *s)
{
	return s->id;
}

int
mux_stream_fd(const struct mstream *s)
{
	return s->fd;
}

void
mux_stream_bytes(const struct mstream *s, uint64_t *in, uint64_t *out)
{
	*in = s->bytes_in;
	*out = s->bytes_out;
}
