/*
 * conn.c - httpd's connections: nonblocking reads of request heads, request
 * bodies spliced from the socket into a pipe to storaged (no user-space copy
 * on plain TCP), responses written from memory or sendfile()d from a
 * descriptor storaged opened, keep-alive and pipelining, and every timeout
 * and limit a hostile client could otherwise abuse.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "oci.h"
#include "proxyv2.h"
#include "regerr.h"
#include "tls.h"
#include "util.h"
#include "worker.h"

#define READ_CHUNK	(64 * 1024)
#define SEND_CHUNK	(4 * 1024 * 1024)
#define SPLICE_CHUNK	(1024 * 1024)
/* TLS has no sendfile here (no kTLS): files go out in mapped windows */
#define TLS_FILE_CHUNK	(256 * 1024)
#define ADDR_BUCKETS	1024
#define LINGER_MS	2000
/* A streamed response's queue: what a producer may have waiting. */
#define STREAM_OUT_MAX	(256 * 1024)
/* All request bodies held in memory at once (manifests): past this, 503. */
#define MEM_BODY_BUDGET	(64 * 1024 * 1024)
/* What one client address may hold of it: four maximal manifests. */
#define MEM_BODY_SHARE	(MEM_BODY_BUDGET / 4)
/* An in-memory body's first reservation; it doubles as bytes arrive. */
#define MEM_BODY_STEP	(64 * 1024)

_Static_assert(MEM_BODY_SHARE >= OCI_MANIFEST_MAX,
    "one address must be able to send one maximal manifest");

/*
 * What one client address holds: connections, upload bodies and memory.
 * Each connection points at its entry, so the accounting per event is a
 * field update; the hash is searched only on accept and close.
 */
struct addr_count {
	struct addr_count *next;
	char		 addr[64];
	int		 n;		/* connections open */
	int		 bodies;	/* upload bodies moving to storaged */
	size_t		 mem;		/* bytes of in-memory bodies held */
};

static int nconns;
static size_t mem_bodies;		/* bytes of SINK_MEM bodies held */
static struct conn *conns;		/* all open connections */
static struct conn *closed;		/* closed, freed on the next loop turn */
static struct ev_timer reaper;
static int reaper_ready;
static struct addr_count *addr_counts[ADDR_BUCKETS];

static void conn_io(int, int, void *);
static void conn_pipe_io(int, int, void *);
static void conn_timeout(void *);
static void conn_close(struct conn *);
static void file_unmap(struct conn *);
static void conn_next(struct conn *);
static void conn_linger(struct conn *);
static void conn_linger_read(struct conn *);
static void conn_update_events(struct conn *);
static void body_pump(struct conn *);
static void body_finish(struct conn *, int);

int
conn_count(void)
{
	return nconns;
}

static unsigned
addr_hash(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % ADDR_BUCKETS;
}

/* Count a connection from addr: its entry, NULL when over its limit. */
static struct addr_count *
addr_take(const char *addr)
{
	struct addr_count **pp = &addr_counts[addr_hash(addr)], *a;

	for (a = *pp; a; a = a->next)
		if (strcmp(a->addr, addr) == 0)
			break;
	if (a == NULL) {
		a = xcalloc(1, sizeof(*a));
		memcpy(a->addr, addr, sizeof(a->addr));
		a->next = *pp;
		*pp = a;
	}
	/* a fresh entry has n == 0, below any limit (at least 1) */
	if (a->n >= conf_int(P_HTTP_MAXCONN_IP))
		return NULL;
	a->n++;
	return a;
}

/* A connection of the address closed; its entry goes with the last. */
static void
addr_release(struct addr_count *ac)
{
	struct addr_count **pp = &addr_counts[addr_hash(ac->addr)], *a;

	if (--ac->n > 0)
		return;
	if (ac->bodies != 0 || ac->mem != 0)
		fatalx("%s: shares held past its last connection", ac->addr);
	for (; (a = *pp); pp = &a->next)
		if (a == ac) {
			*pp = a->next;
			free(a);
			return;
		}
	fatalx("%s: address entry not in its bucket", ac->addr);
}

static void
addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	const void *p = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (inet_ntop(ss->ss_family, p, out, (socklen_t)len) == NULL)
		str_copy(out, "unknown", len);
}

/* Is a request body being read (its timer checks stalls and rate)? */
static int
body_moving(const struct conn *c)
{
	return c->body_sink != SINK_NONE && !c->body_done;
}

/* Arm the body timer for the nearer of its checks: stall, rate window. */
static void
body_timer_arm(struct conn *c, uint64_t now)
{
	uint64_t next;

	next = c->progress_ms + (uint64_t)conf_int(P_HTTP_BODY_TIMEOUT) * 1000;
	if (conf_int(P_HTTP_BODY_MIN_RATE) > 0 && c->rate_ms +
	    (uint64_t)conf_int(P_HTTP_BODY_RATE_WINDOW) * 1000 < next)
		next = c->rate_ms +
		    (uint64_t)conf_int(P_HTTP_BODY_RATE_WINDOW) * 1000;
	ev_timer_arm(&c->timer, next > now ? next - now : 0);
}

/* Start a rate window: the body owes body_min_rate from here on. */
static void
body_window_start(struct conn *c, uint64_t now)
{
	c->rate_ms = now;
	c->rate_bytes = c->body_total;
}

/*
 * Arm the timer for the phase the connection is in. A head has a deadline
 * from its first byte that later bytes do not move; bodies and responses
 * have a stall timeout that I/O pushes on (conn_progress, checked when the
 * timer fires, so a byte costs no timer operation).
 */
static void
conn_arm_timer(struct conn *c)
{
	int64_t secs;

	c->progress_ms = now_ms();
	if (c->tls_hs || c->proxy_hdr) {
		/* a handshake or a PROXY header is the first part of the
		 * first head */
		c->head_timed = 1;
		secs = conf_int(P_HTTP_HEADER_TIMEOUT);
	} else if (c->state == CS_HEAD && buf_avail(&c->in) == 0) {
		c->head_timed = 0;
		secs = conf_int(P_HTTP_IDLE_TIMEOUT);
	} else if (c->state == CS_HEAD) {
		if (c->head_timed)
			return;
		c->head_timed = 1;
		secs = conf_int(P_HTTP_HEADER_TIMEOUT);
	} else if (body_moving(c)) {
		body_timer_arm(c, c->progress_ms);
		return;
	} else if (c->wait_link && !c->body_sink && !buf_avail(&c->out) &&
	    !c->file_left)
		secs = 0;	/* waiting on storaged: its link has its own fate */
	else
		secs = conf_int(P_HTTP_BODY_TIMEOUT);
	if (secs)
		ev_timer_arm(&c->timer, (uint64_t)secs * 1000);
	else
		ev_timer_cancel(&c->timer);
}

/* Bytes moved: the stall timeout starts over (lazily, see conn_timeout). */
static inline void
conn_progress(struct conn *c)
{
	c->progress_ms = ev_now();
}

/* recv or send on the connection, through TLS when it speaks it. */
static inline ssize_t
io_read(struct conn *c, void *p, size_t n)
{
	return c->tls ? tls_read(c, p, n) : recv(c->fd, p, n, 0);
}

static inline ssize_t
io_write(struct conn *c, const void *p, size_t n)
{
	return c->tls ? tls_write(c, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
}

static void
reject_fast(int fd, int status, const char *code)
{
	char body[128], msg[384];
	int bn, n;

	bn = snprintf(body, sizeof(body),
	    "{\"errors\":[{\"code\":\"%s\",\"message\":\"%s\"}]}", code,
	    http_status_text(status));
	n = snprintf(msg, sizeof(msg), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "application/json\r\nConnection: close\r\nContent-Length: %d\r\n"
	    "\r\n%s", status, http_status_text(status), bn, body);
	if (bn > 0 && bn < (int)sizeof(body) && n > 0 && n < (int)sizeof(msg) &&
	    write(fd, msg, (size_t)n) < 0)
		log_debug("write: %s", strerror(errno));
	close(fd);
}

static void
conn_new(int fd, const struct sockaddr_storage *ss, int flags)
{
	int tls = (flags & LISTEN_F_TLS) != 0;
	struct addr_count *ac;
	struct conn *c;
	char addr[64];
	void *ssl = NULL;
	int on = 1;

	addr_text(ss, addr, sizeof(addr));
	if ((ac = addr_take(addr)) == NULL) {
		log_info("%s: too many connections from this address", addr);
		if (tls)
			close(fd);	/* it cannot read a plain answer */
		else
			reject_fast(fd, 429, "TOOMANYREQUESTS");
		return;
	}
	if (tls && (ssl = tls_new(fd)) == NULL) {
		log_warnx("%s: no TLS certificate to answer with", addr);
		close(fd);
		addr_release(ac);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->tls = ssl;
	c->tls_hs = ssl != NULL;
	c->tls_want = ssl ? EV_READ : 0;	/* the ClientHello */
	c->proxy_hdr = (flags & LISTEN_F_PROXY) != 0;
	c->metrics_port = (flags & LISTEN_F_METRICS) != 0;
	c->fd = fd;
	c->ac = ac;
	memcpy(c->addr, addr, sizeof(c->addr));
	c->state = CS_HEAD;
	c->pipe_fd = c->file_fd = -1;
	c->keep_alive = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	ev_timer_init(&c->timer, conn_timeout, c);
	c->next = conns;
	if (conns)
		conns->prevp = &c->next;
	c->prevp = &conns;
	conns = c;
	ev_add(fd, EV_READ, conn_io, c);
	conn_arm_timer(c);
	if (++nconns >= conf_int(P_HTTP_MAXCONN))
		conn_pause_accept(1);
}

/* Accept what is pending on a listening socket. */
void
conn_accept(int lfd, int flags)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	for (int i = 0; i < 64 && nconns < conf_int(P_HTTP_MAXCONN); i++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		conn_new(fd, &ss, flags);
	}
}

/* Give back the memory budget this connection's body held. */
static void
body_mem_free(struct conn *c)
{
	mem_bodies -= c->body_mem;
	c->ac->mem -= c->body_mem;
	c->body_mem = 0;
	buf_free(&c->body);
}

/* 0 if delta more bytes of bodies fit in memory, else 503 or 429. */
static int
body_mem_room(const struct conn *c, size_t delta)
{
	if (mem_bodies + delta > MEM_BODY_BUDGET) {
		log_info("%s: in-memory body budget full", c->addr);
		return 503;
	}
	if (c->ac->mem + delta > MEM_BODY_SHARE) {
		log_info("%s: over its share of the in-memory body budget",
		    c->addr);
		return 429;
	}
	return 0;
}

/*
 * Let the in-memory body hold need bytes. The buffer doubles (from buf's
 * first 256 bytes), so what is counted is at most twice what arrived; the
 * check is on the size the buffer is about to take, the count on the size
 * it took. 0, or 503 / 429 when the budget / the address's share is full.
 */
static int
body_mem_grow(struct conn *c, size_t need)
{
	size_t ncap, took;
	int err;

	if (need <= c->body.cap)
		return 0;
	for (ncap = c->body.cap ? c->body.cap : 256; ncap < need; ncap *= 2)
		;
	if ((err = body_mem_room(c, ncap - c->body_mem)) != 0)
		return err;
	buf_reserve(&c->body, need - buf_avail(&c->body));
	took = c->body.cap - c->body_mem;
	mem_bodies += took;
	c->ac->mem += took;
	c->body_mem = c->body.cap;
	return 0;
}

/* Close the pipe to storaged; the address's upload body slot is free. */
static void
body_pipe_close(struct conn *c)
{
	if (c->pipe_fd != -1) {
		ev_del(c->pipe_fd);	/* conn_body_to_pipe always added it */
		close(c->pipe_fd);
		c->pipe_fd = -1;
		c->pipe_watched = 0;
	}
	if (c->body_slot) {
		c->ac->bodies--;
		c->body_slot = 0;
	}
}

/* The body phase is over, read or not. */
static void
body_release(struct conn *c)
{
	body_pipe_close(c);
	c->body_sink = SINK_NONE;
	c->body_cb = NULL;
}

/* Free the connections closed since the last loop turn. */
static void
conn_reap(void *arg)
{
	struct conn *c;

	while ((c = closed) != NULL) {
		closed = c->next;
		free(c);
	}
}

static void
conn_close(struct conn *c)
{
	if (c->state == CS_CLOSED)
		return;
	c->state = CS_CLOSED;
	metrics_request_end(c);
	if (c->api)
		api_conn_closed(c);
	conn_wait_done(c);
	body_release(c);
	if (c->file_fd != -1)
		close(c->file_fd);
	ev_timer_cancel(&c->timer);
	*c->prevp = c->next;
	if (c->next)
		c->next->prevp = c->prevp;
	ev_del(c->fd);
	if (c->tls)
		tls_free(c->tls);
	file_unmap(c);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->hdrs);
	buf_free(&c->head);
	body_mem_free(c);
	addr_release(c->ac);
	/*
	 * Callers up the stack (conn_io, body_finish, ...) still look at
	 * c->state after a callback answered and closed: free c later.
	 */
	c->next = closed;
	closed = c;
	if (!reaper_ready) {
		ev_timer_init(&reaper, conn_reap, NULL);
		reaper_ready = 1;
	}
	if (!ev_timer_armed(&reaper))
		ev_timer_arm(&reaper, 0);
	if (nconns-- >= conf_int(P_HTTP_MAXCONN))
		conn_pause_accept(0);
}

void
conn_wait(struct conn *c, struct link *l, uint32_t id)
{
	c->wait_link = l;
	c->wait_id = id;
	conn_arm_timer(c);
}

/* The answer came (or the link died): nothing to forget any more. */
void
conn_wait_done(struct conn *c)
{
	if (c->wait_link && c->state == CS_CLOSED)
		link_forget(c->wait_link, c->wait_id);
	c->wait_link = NULL;
}

void
conn_header(struct conn *c, const char *name, const char *fmt, ...)
{
	va_list ap;
	char val[2048];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(val) || strpbrk(val, "\r\n"))
		fatalx("bad header value for %s", name);
	buf_printf(&c->hdrs, "%s: %s\r\n", name, val);
}

static void
respond_head(struct conn *c, int status, const char *ctype, uint64_t len)
{
	if (c->responded)
		fatalx("second response to one request");
	c->responded = 1;
	c->status = status;
	/* answered while a request to storaged is out (an upload body that
	 * failed first): its reply must not answer a second time */
	if (c->wait_link) {
		link_forget(c->wait_link, c->wait_id);
		c->wait_link = NULL;
	}
	if (c->body_sink != SINK_NONE || (!c->body_done &&
	    c->body_kind != BK_NONE)) {
		/* the body was not (fully) read: the stream is unusable */
		body_release(c);
		c->keep_alive = 0;
	}
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\n"
	    "Docker-Distribution-API-Version: registry/2.0\r\n", status,
	    http_status_text(status));
	if (ctype)
		buf_printf(&c->out, "Content-Type: %s\r\n", ctype);
	if (status != 204 && !(status >= 100 && status < 200))
		buf_printf(&c->out, "Content-Length: %llu\r\n",
		    (unsigned long long)len);
	if (!c->keep_alive)
		buf_puts(&c->out, "Connection: close\r\n");
	else if (c->req.minor == 0)	/* HTTP/1.0 closes unless told */
		buf_puts(&c->out, "Connection: keep-alive\r\n");
	buf_append(&c->out, buf_head(&c->hdrs), buf_avail(&c->hdrs));
	buf_puts(&c->out, "\r\n");
	buf_reset(&c->hdrs);
}

static void
conn_start_write(struct conn *c)
{
	conn_arm_timer(c);
	conn_update_events(c);
	conn_io(c->fd, EV_WRITE, c);
}

void
conn_respond(struct conn *c, int status, const char *ctype, const void *body,
    size_t len)
{
	respond_head(c, status, ctype, len);
	if (c->req.method != HTTP_M_HEAD)
		buf_append(&c->out, body, len);
	conn_start_write(c);
}

void
conn_respond_length(struct conn *c, int status, const char *ctype,
    uint64_t len)
{
	respond_head(c, status, ctype, len);
	conn_start_write(c);
}

/*
 * Corked while a file goes out, head included, the socket sends only full
 * segments (nginx's tcp_nopush); uncorking pushes the tail. Measured on
 * loopback: blob GETs went from 0.83-0.90 of nginx's speed to 0.98-1.06.
 * Not over TLS (nor does nginx cork there): each write is one 16 KiB
 * record, and holding records back until a 64 KiB segment fills only
 * delays the client's decryption (A/B, 256 MiB, three pairs of 5
 * rounds: 1.05 of nginx each time uncorked, 0.78-1.10 corked).
 */
static void
conn_cork(struct conn *c, int on)
{
	if (c->corked == on)
		return;
	c->corked = on;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

void
conn_respond_fd(struct conn *c, int status, const char *ctype, int fd,
    uint64_t off, uint64_t len)
{
	respond_head(c, status, ctype, len);
	if (c->req.method == HTTP_M_HEAD || len == 0)
		close(fd);
	else {
		if (c->tls == NULL)
			conn_cork(c, 1);
		c->file_fd = fd;
		c->file_off = (off_t)off;
		c->file_left = len;
		c->m_file = len;
	}
	conn_start_write(c);
}

void
conn_respond_stream(struct conn *c, int status, const char *ctype,
    uint64_t len, void (*more)(struct conn *, void *), void *arg)
{
	respond_head(c, status, ctype, len);
	if (c->req.method != HTTP_M_HEAD && len > 0) {
		c->stream_left = len;
		c->stream_more = more;
		c->stream_arg = arg;
		c->m_file = len;
	}
	conn_start_write(c);
}

size_t
conn_stream_push(struct conn *c, const void *p, size_t n)
{
	size_t room = buf_avail(&c->out) >= STREAM_OUT_MAX ? 0 :
	    STREAM_OUT_MAX - buf_avail(&c->out);

	if (n > room)
		n = room;
	if ((uint64_t)n > c->stream_left)
		n = (size_t)c->stream_left;
	if (n == 0 || c->state == CS_CLOSED)
		return 0;
	buf_append(&c->out, p, n);
	c->stream_left -= n;
	if (c->stream_left == 0)
		c->stream_more = NULL;
	conn_update_events(c);
	return n;
}

void
conn_stream_abort(struct conn *c)
{
	c->stream_more = NULL;
	conn_close(c);
}

void
conn_respond_error(struct conn *c, int e, const char *detail)
{
	char *body = oci_error_json(regerr_code(e), regerr_message(e), detail);

	conn_respond(c, regerr_status(e), "application/json", body,
	    strlen(body));
	free(body);
}

/* sendfile the file part: 1 when all is out, 0 to wait, -1 on error. */
static int
flush_file_plain(struct conn *c)
{
	ssize_t n;

	while (c->file_left) {
		size_t want = c->file_left > SEND_CHUNK ? SEND_CHUNK :
		    (size_t)c->file_left;
		n = sendfile(c->fd, c->file_fd, &c->file_off, want);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		if (n == 0)
			return -1;	/* the file is shorter than promised */
		c->file_left -= (uint64_t)n;
		conn_progress(c);
	}
	return 1;
}

/* Unmap the window of the file TLS was sending from. */
static void
file_unmap(struct conn *c)
{
	if (c->tls_fbuf != NULL)
		munmap(c->tls_fbuf, c->tls_fmaplen);
	c->tls_fbuf = NULL;
	c->tls_fbuf_len = 0;
}

/* Map the next window of the file, its pages in at once; -1 if not. */
static int
file_map(struct conn *c)
{
	static long page;
	size_t want = c->file_left > TLS_FILE_CHUNK ? TLS_FILE_CHUNK :
	    (size_t)c->file_left, skew;
	off_t at;
	void *p;

	if (page == 0)
		page = sysconf(_SC_PAGESIZE);
	at = c->file_off & ~(off_t)(page - 1);
	skew = (size_t)(c->file_off - at);
	file_unmap(c);
	p = mmap(NULL, want + skew, PROT_READ, MAP_SHARED | MAP_POPULATE,
	    c->file_fd, at);
	if (p == MAP_FAILED)
		return -1;
	c->tls_fbuf = p;
	c->tls_fmaplen = want + skew;
	c->tls_fbuf_off = skew;
	c->tls_fbuf_len = want;
	c->file_off += (off_t)want;
	c->file_left -= want;
	return 0;
}

/*
 * The same over TLS, which has no sendfile here (no kTLS): SSL_write
 * straight from a mapped window of the file (no copy before the cipher
 * reads it; SSL wants the same bytes again after a short write). The
 * blobs are immutable: storaged never truncates a file it handed out.
 */
static int
flush_file_tls(struct conn *c)
{
	ssize_t n;

	while (c->file_left || c->tls_fbuf_len) {
		if (c->tls_fbuf_len == 0 && file_map(c) == -1) {
			log_warn("%s: mmap of a blob", c->addr);
			return -1;
		}
		n = tls_write(c, c->tls_fbuf + c->tls_fbuf_off,
		    c->tls_fbuf_len);
		if (n == -1)
			return errno == EAGAIN ? 0 : -1;
		c->tls_fbuf_off += (size_t)n;
		c->tls_fbuf_len -= (size_t)n;
		conn_progress(c);
	}
	file_unmap(c);
	return 1;
}

/* Write what is queued; 1 when all of the response is out, -1 on error. */
static int
conn_flush(struct conn *c)
{
	ssize_t n;
	int r;

	while (buf_avail(&c->out)) {
		n = io_write(c, buf_head(&c->out), buf_avail(&c->out));
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		buf_consume(&c->out, (size_t)n);
		conn_progress(c);
	}
	if (c->file_fd != -1) {
		if ((r = c->tls ? flush_file_tls(c) : flush_file_plain(c)) != 1)
			return r;
		close(c->file_fd);
		c->file_fd = -1;
		conn_cork(c, 0);
	}
	if (c->stream_left > 0) {
		/* drained: the producer may queue more (never closes c) */
		if (c->stream_more)
			c->stream_more(c, c->stream_arg);
		return buf_avail(&c->out) ? conn_flush(c) : 0;
	}
	return c->responded ? 1 : 0;
}

static void
conn_update_events(struct conn *c)
{
	int ev = 0;

	if (c->state == CS_CLOSED)
		return;
	if (c->tls_hs) {
		ev_set(c->fd, c->tls_want);
		return;
	}
	if (buf_avail(&c->out) || c->file_left || c->tls_fbuf_len)
		ev |= EV_WRITE;
	ev |= c->tls_want;
	if (c->state == CS_HEAD || c->state == CS_LINGER ||
	    (c->body_sink != SINK_NONE &&
	    !c->body_done && !c->pipe_watched))
		ev |= EV_READ;
	ev_set(c->fd, ev);
}

/* Status for a failed head parse, then close after answering. */
static void
head_error(struct conn *c, int status)
{
	/* too large heads are SIZE_INVALID; every other bad head UNSUPPORTED */
	const char *code = status == 431 || status == 414 ?
	    regerr_code(RE_TOO_LARGE) : "UNSUPPORTED";
	char *body;

	c->state = CS_HANDLE;
	c->keep_alive = 0;
	c->body_kind = BK_NONE;
	memset(&c->req, 0, sizeof(c->req));
	c->req.method = HTTP_M_GET;
	body = oci_error_json(code, http_status_text(status), NULL);
	conn_respond(c, status, "application/json", body, strlen(body));
	free(body);
}

static void
conn_begin_request(struct conn *c)
{
	struct http_request *r = &c->req;

	c->state = CS_HANDLE;
	metrics_request_begin(c);
	c->responded = 0;
	c->keep_alive = r->keep_alive;
	c->body_done = 0;
	c->body_total = 0;
	if (r->chunked) {
		c->body_kind = BK_CHUNKED;
		http_chunked_init(&c->chunk);
	} else if (r->content_length > 0) {
		c->body_kind = BK_LENGTH;
		c->body_left = (uint64_t)r->content_length;
	} else {
		c->body_kind = BK_NONE;
		c->body_done = 1;
	}
	if (r->expect_continue == -1) {
		c->keep_alive = 0;
		conn_respond(c, 417, NULL, "", 0);
		return;
	}
	api_dispatch(c);
}

#define REBASE(p) ((p) = (p) ? c->head.data + ((p) - old) : NULL)

/* Move the parsed head out of the input buffer, which body reads reuse. */
static void
conn_keep_head(struct conn *c)
{
	struct http_request *r = &c->req;
	char *old = buf_head(&c->in);

	buf_reset(&c->head);
	buf_append(&c->head, old, r->head_len);
	REBASE(r->method_str);
	REBASE(r->target);
	REBASE(r->path);
	REBASE(r->query);
	for (int i = 0; i < r->nhdr; i++) {
		REBASE(r->hdr[i].name);
		REBASE(r->hdr[i].value);
	}
	buf_consume(&c->in, r->head_len);
}
#undef REBASE

/*
 * The client a PROXY header names takes the connection's place in the
 * per-address counts (a pending header counted as the proxy's own address,
 * so headers that never come are bounded like any connection).
 */
static int
proxy_client(struct conn *c, const struct proxyv2 *p)
{
	struct addr_count *ac;
	char addr[64];

	c->proxy_hdr = 0;
	if (p->local)
		return 1;	/* the proxy speaking for itself */
	addr_text(&p->src, addr, sizeof(addr));
	if ((ac = addr_take(addr)) == NULL) {
		log_info("%s: too many connections from this address (via "
		    "PROXY from %s)", addr, c->addr);
		conn_close(c);
		return -1;
	}
	log_debug("%s: PROXY header from %s", addr, c->addr);
	addr_release(c->ac);
	c->ac = ac;
	memcpy(c->addr, addr, sizeof(c->addr));
	return 1;
}

/*
 * On http.proxy_listen a connection starts with a PROXY v2 header, or is
 * refused.  1 once it is read (bytes after it stay in c->in for the head),
 * 0 while more is due, -1 when the connection was closed.
 */
static int
conn_read_proxy(struct conn *c)
{
	struct proxyv2 p;
	const char *err;
	ssize_t n;
	long r;

	for (;;) {
		r = proxyv2_parse((const uint8_t *)buf_head(&c->in),
		    buf_avail(&c->in), &p, &err);
		if (r > 0) {
			buf_consume(&c->in, (size_t)r);
			if (proxy_client(c, &p) == -1)
				return -1;
			/* from here on like a fresh connection of the client */
			c->head_timed = 0;
			conn_arm_timer(c);
			return 1;
		}
		if (r < 0) {
			log_info("%s: refused on http.proxy_listen: %s",
			    c->addr, err);
			conn_close(c);
			return -1;
		}
		buf_reserve(&c->in, READ_CHUNK);
		n = recv(c->fd, buf_tail(&c->in), buf_space(&c->in), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return -1;
		}
		if (n == -1)
			return 0;
		c->in.len += (size_t)n;
	}
}

static void
conn_read_head(struct conn *c)
{
	ssize_t n;
	int r;

	if (c->proxy_hdr && conn_read_proxy(c) != 1)
		return;
	for (;;) {
		/* a head ends with a newline: parse only when one arrived, so
		 * a client sending a byte at a time costs no rescans */
		if (buf_avail(&c->in) && (buf_avail(&c->in) >= HTTP_MAX_HEAD ||
		    memchr(buf_head(&c->in) + c->scanned, '\n',
		    buf_avail(&c->in) - c->scanned) != NULL)) {
			c->scanned = buf_avail(&c->in);
			r = http_parse_request(buf_head(&c->in),
			    buf_avail(&c->in), &c->req);
			if (r > 0) {
				c->scanned = 0;
				conn_keep_head(c);
				conn_begin_request(c);
				return;
			}
			if (r < 0) {
				head_error(c, -r);
				return;
			}
		}
		buf_reserve(&c->in, READ_CHUNK);
		n = io_read(c, buf_tail(&c->in), buf_space(&c->in));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (n == -1)
			return;
		c->in.len += (size_t)n;
		/* the head's deadline runs from its first byte, once */
		if (!c->head_timed)
			conn_arm_timer(c);
	}
}

/*
 * A TLS connection's event: the handshake's step while it runs (then the
 * request may already be there: read), and an operation that waited for
 * the other direction is retried.  -1 when there is nothing more to do.
 */
static int
conn_tls_events(struct conn *c, int *events)
{
	int r;

	if (c->tls_hs) {
		if ((r = tls_handshake(c)) == -1) {
			conn_close(c);
			return -1;
		}
		if (r == 0) {
			conn_update_events(c);
			return -1;
		}
		c->tls_hs = 0;
		conn_arm_timer(c);
		*events = EV_READ;
		return 0;
	}
	if (c->tls_want & *events) {
		*events |= c->tls_retry;
		c->tls_want = 0;
	}
	return 0;
}

static void
conn_io(int fd, int events, void *arg)
{
	struct conn *c = arg;
	int r;

	if (c->state == CS_LINGER) {
		if (events & EV_READ)
			conn_linger_read(c);
		return;
	}
	if (c->tls && conn_tls_events(c, &events) == -1)
		return;
	if (events & EV_WRITE) {
		if ((r = conn_flush(c)) == -1) {
			conn_close(c);
			return;
		}
		if (r == 1) {
			conn_next(c);
			return;
		}
	}
	if (events & EV_READ) {
		if (c->state == CS_HEAD)
			conn_read_head(c);
		else if (c->body_sink != SINK_NONE && !c->body_done)
			body_pump(c);
		else if (c->state == CS_HANDLE) {
			/* client hung up while we work: nothing to read now */
			char b;
			if (recv(c->fd, &b, 1, MSG_PEEK) == 0) {
				conn_close(c);
				return;
			}
		}
	}
	if (c->state != CS_CLOSED)
		conn_update_events(c);
}

/*
 * The connection ends after this answer.  The client may still be sending
 * (an early error, a bad head, a pipelined request): closing with unread
 * bytes makes the kernel send a reset that can destroy the answer before the
 * client reads it.  So stop writing, and read and drop what still arrives
 * until the client closes, for a short bounded time.
 */
static void
conn_linger(struct conn *c)
{
	c->state = CS_LINGER;
	if (c->tls)
		tls_shutdown(c);
	shutdown(c->fd, SHUT_WR);
	buf_reset(&c->in);
	ev_set(c->fd, EV_READ);
	ev_timer_arm(&c->timer, LINGER_MS);
}

static void
conn_linger_read(struct conn *c)
{
	char scratch[16384];
	ssize_t n;

	for (int i = 0; i < 64; i++) {
		n = recv(c->fd, scratch, sizeof(scratch), 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
	}
	conn_close(c);
}

/* The response is out: next request on this connection, or close. */
static void
conn_next(struct conn *c)
{
	metrics_request_end(c);
	if (!c->keep_alive || worker_stopping()) {
		conn_linger(c);
		return;
	}
	if (c->api)
		api_conn_closed(c);
	c->state = CS_HEAD;
	c->responded = 0;
	c->body_kind = BK_NONE;
	c->head_timed = 0;
	body_mem_free(c);
	conn_arm_timer(c);
	conn_update_events(c);
	if (buf_avail(&c->in) || (c->tls && tls_pending(c)))
		conn_read_head(c);	/* pipelined request */
	if (c->state != CS_CLOSED)
		conn_update_events(c);
}

/* End the body with 408: the upload keeps what it had before it. */
static void
body_abandon(struct conn *c)
{
	conn_body_cb cb = c->body_cb;

	body_release(c);
	c->keep_alive = 0;
	if (cb)
		cb(c, 408);
}

/*
 * The body's timer fired: a body without progress for body_timeout, or
 * that moved less than body_min_rate bytes a second over the last window,
 * is abandoned; else the timer goes on to the next check. Time spent
 * waiting for storaged to drain the pipe is not the client's: the window
 * starts over.
 */
static void
body_timer(struct conn *c)
{
	uint64_t now = now_ms(), rate, got, win;

	if (now - c->progress_ms >=
	    (uint64_t)conf_int(P_HTTP_BODY_TIMEOUT) * 1000) {
		log_info("%s: request body timeout", c->addr);
		body_abandon(c);
		return;
	}
	rate = (uint64_t)conf_int(P_HTTP_BODY_MIN_RATE);
	win = (uint64_t)conf_int(P_HTTP_BODY_RATE_WINDOW) * 1000;
	if (rate > 0 && now - c->rate_ms >= win) {
		got = c->body_total - c->rate_bytes;
		if (!c->pipe_watched && got * 1000 < rate * (now - c->rate_ms)) {
			log_info("%s: request body too slow: %llu bytes in "
			    "%llu ms", c->addr, (unsigned long long)got,
			    (unsigned long long)(now - c->rate_ms));
			body_abandon(c);
			return;
		}
		body_window_start(c, now);
	}
	body_timer_arm(c, now);
}

/* A response going out: 1 (timer re-armed) if it moved in body_timeout. */
static int
conn_still_moving(struct conn *c)
{
	uint64_t now = now_ms(), until;

	until = c->progress_ms + (uint64_t)conf_int(P_HTTP_BODY_TIMEOUT) * 1000;
	if (now >= until)
		return 0;
	ev_timer_arm(&c->timer, until - now);
	return 1;
}

static void
conn_timeout(void *arg)
{
	struct conn *c = arg;

	if (c->proxy_hdr) {
		log_info("%s: refused on http.proxy_listen: no PROXY header "
		    "within http.header_timeout", c->addr);
		conn_close(c);
		return;
	}
	if (c->state == CS_HEAD && buf_avail(&c->in)) {
		log_info("%s: request head timeout", c->addr);
		c->keep_alive = 0;
		head_error(c, 408);
		return;
	}
	if (body_moving(c)) {
		body_timer(c);
		return;
	}
	if (c->state == CS_HANDLE && conn_still_moving(c))
		return;
	conn_close(c);
}

int
conn_has_body(const struct conn *c)
{
	return c->body_kind != BK_NONE;
}

/* Tell a client that sent "Expect: 100-continue" to go on. */
static void
body_continue(struct conn *c)
{
	if (c->req.expect_continue == 1 && c->req.minor == 1) {
		buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		c->req.expect_continue = 0;
	}
}

static void
body_start(struct conn *c, enum body_sink sink, conn_body_cb cb)
{
	c->body_sink = sink;
	c->body_cb = cb;
	body_mem_free(c);
	if (c->body_kind == BK_NONE) {
		c->body_done = 1;
		body_release(c);
		cb(c, 0);
		return;
	}
	body_continue(c);
	conn_arm_timer(c);
	body_window_start(c, c->progress_ms);
	body_pump(c);
	if (c->state != CS_CLOSED)
		conn_update_events(c);
}

/*
 * Bodies read into memory count against one budget, and against their
 * client address's share of it, by the buffer they hold, which grows as
 * bytes arrive (body_mem_grow): a claimed Content-Length reserves nothing,
 * so a client that drips holds what it sent, not what it promised. Past
 * the budget a body gets 503, past its address's share 429; a request
 * that could not take a first step is refused before its first byte.
 */
void
conn_body_to_mem(struct conn *c, size_t max, conn_body_cb cb)
{
	size_t first;
	int err;

	c->body_max = max;
	if (c->body_kind == BK_LENGTH && c->body_left > max) {
		c->keep_alive = 0;
		cb(c, 413);
		return;
	}
	first = c->body_kind == BK_LENGTH && c->body_left < MEM_BODY_STEP ?
	    (size_t)c->body_left : MEM_BODY_STEP;
	if (c->body_kind != BK_NONE && (err = body_mem_room(c, first)) != 0) {
		c->keep_alive = 0;
		cb(c, err);
		return;
	}
	body_start(c, SINK_MEM, cb);
}

/* Upload bodies are counted from conn_body_to_pipe to the body's end. */
int
conn_upload_slot(const struct conn *c)
{
	return c->ac->bodies < conf_int(P_HTTP_UPLOADS_IP) ? 0 : -1;
}

void
conn_body_to_pipe(struct conn *c, int pipe_fd, conn_body_cb cb)
{
	c->ac->bodies++;
	c->body_slot = 1;
	c->pipe_fd = pipe_fd;
	fd_set_nonblock(pipe_fd);
	/* a large pipe lets splice move big runs per call */
	fcntl(pipe_fd, F_SETPIPE_SZ, SPLICE_CHUNK);
	ev_add(pipe_fd, 0, conn_pipe_io, c);
	c->pipe_watched = 0;
	body_start(c, SINK_PIPE, cb);
}

static void
conn_pipe_io(int fd, int events, void *arg)
{
	struct conn *c = arg;

	c->pipe_watched = 0;
	ev_set(fd, 0);
	/* the time storaged took to drain the pipe is not the client's */
	body_window_start(c, ev_now());
	body_pump(c);
	if (c->state != CS_CLOSED)
		conn_update_events(c);
}

/* Wait for the pipe to drain before moving more. */
static void
pipe_wait(struct conn *c)
{
	c->pipe_watched = 1;
	ev_set(c->pipe_fd, EV_WRITE);
}

/* End the body phase and hand the result to the API layer. */
static void
body_finish(struct conn *c, int err)
{
	conn_body_cb cb = c->body_cb;

	if (err == 0)
		c->body_done = 1;
	else
		c->keep_alive = 0;
	if (c->body_sink == SINK_PIPE)
		body_pipe_close(c);
	c->body_sink = SINK_NONE;
	c->body_cb = NULL;
	conn_arm_timer(c);
	if (cb)
		cb(c, err);
	if (err == -1 && c->state != CS_CLOSED && !c->responded &&
	    !c->wait_link)
		conn_close(c);
}

/* Put payload bytes into the sink; staging keeps what the pipe refused. */
static int
sink_put(struct conn *c, const char *p, size_t n)
{
	ssize_t w = 0;
	int err;

	c->body_total += n;
	if (c->body_sink == SINK_MEM) {
		if (buf_avail(&c->body) + n > c->body_max)
			return 413;
		if ((err = body_mem_grow(c, buf_avail(&c->body) + n)) != 0)
			return err;
		buf_append(&c->body, p, n);
		return 0;
	}
	if (c->body_sink == SINK_DISCARD)
		return 0;
	if (buf_avail(&c->body) == 0) {
		w = write(c->pipe_fd, p, n);
		if (w == -1 && errno != EAGAIN && errno != EINTR)
			return 502;
		if (w == -1)
			w = 0;
	}
	buf_append(&c->body, p + w, n - (size_t)w);
	return 0;
}

/* Drain staged bytes into the pipe; 1 if some remain (pipe full). */
static int
staging_flush(struct conn *c, int *err)
{
	ssize_t w;

	while (c->body_sink == SINK_PIPE && buf_avail(&c->body)) {
		w = write(c->pipe_fd, buf_head(&c->body), buf_avail(&c->body));
		if (w == -1) {
			if (errno == EAGAIN)
				return 1;
			if (errno == EINTR)
				continue;
			*err = 502;
			return 0;
		}
		buf_consume(&c->body, (size_t)w);
	}
	return 0;
}

/* Consume body bytes already read into c->in; error status or 0. */
static int
body_from_buffer(struct conn *c)
{
	const char *data;
	size_t dlen, n;
	ssize_t used;
	int done = 0, err;

	while (buf_avail(&c->in) && !c->body_done) {
		if (c->body_kind == BK_LENGTH) {
			n = buf_avail(&c->in) < c->body_left ?
			    buf_avail(&c->in) : (size_t)c->body_left;
			if ((err = sink_put(c, buf_head(&c->in), n)) != 0)
				return err;
			buf_consume(&c->in, n);
			c->body_left -= n;
			c->body_done = c->body_left == 0;
			continue;
		}
		used = http_chunked_step(&c->chunk, buf_head(&c->in),
		    buf_avail(&c->in), &data, &dlen, &done);
		if (used < 0)
			return 400;
		if (dlen && (err = sink_put(c, data, dlen)) != 0)
			return err;
		buf_consume(&c->in, (size_t)used);
		c->body_done = done;
		if (used == 0 && !done)
			break;
	}
	return 0;
}

/* Bytes the next splice may move straight from socket to pipe. */
static uint64_t
splice_room(struct conn *c)
{
	if (c->body_sink != SINK_PIPE || buf_avail(&c->in) ||
	    buf_avail(&c->body) || c->tls)
		return 0;	/* TLS bytes must be decrypted: body_recv */
	if (c->body_kind == BK_LENGTH)
		return c->body_left;
	return http_chunked_payload_left(&c->chunk);
}

/* splice() said EAGAIN: is the pipe full, or the socket empty? */
static int
pipe_is_full(struct conn *c)
{
	int inpipe = 0, cap = fcntl(c->pipe_fd, F_GETPIPE_SZ);

	if (ioctl(c->pipe_fd, FIONREAD, &inpipe) == -1 || cap <= 0)
		return 1;
	return inpipe + 4096 > cap;
}

/* Returns 1 to wait, 0 to continue, or sets *err. */
static int
body_splice(struct conn *c, uint64_t room, int *err)
{
	size_t want = room > SPLICE_CHUNK ? SPLICE_CHUNK : (size_t)room;
	ssize_t n;

	n = splice(c->fd, NULL, c->pipe_fd, NULL, want,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n == 0) {
		*err = -1;
		return 0;
	}
	if (n == -1) {
		if (errno == EAGAIN) {
			if (pipe_is_full(c))
				pipe_wait(c);
			return 1;
		}
		if (errno == EINTR)
			return 0;
		*err = errno == EPIPE ? 502 : -1;
		return 0;
	}
	c->body_total += (uint64_t)n;
	if (c->body_kind == BK_LENGTH) {
		c->body_left -= (uint64_t)n;
		c->body_done = c->body_left == 0;
	} else
		http_chunked_payload_skip(&c->chunk, (uint64_t)n);
	conn_progress(c);
	return 0;
}

/* Read more of the body into c->in; 1 to wait, 0 to continue. */
static int
body_recv(struct conn *c, int *err)
{
	ssize_t n;

	buf_reserve(&c->in, READ_CHUNK);
	n = io_read(c, buf_tail(&c->in), buf_space(&c->in));
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		*err = -1;
		return 0;
	}
	if (n == -1)
		return 1;
	c->in.len += (size_t)n;
	conn_progress(c);
	return 0;
}

/* Move as much of the request body as the socket and sink allow now. */
static void
body_pump(struct conn *c)
{
	uint64_t room;
	int err = 0;

	while (c->body_sink != SINK_NONE && err == 0) {
		if (staging_flush(c, &err)) {
			pipe_wait(c);
			return;
		}
		if (err)
			break;
		if (c->body_done)
			break;
		if ((err = body_from_buffer(c)) != 0 || c->body_done)
			continue;
		if (c->body_sink == SINK_PIPE && buf_avail(&c->body))
			continue;	/* flush staging first (SINK_MEM: the body) */
		if ((room = splice_room(c)) > 0) {
			if (body_splice(c, room, &err))
				return;
		} else if (body_recv(c, &err))
			return;
	}
	if (c->body_sink != SINK_NONE)
		body_finish(c, err);
}

/* On stop: idle keep-alive connections close now, busy ones after
 * their response. */
void
conn_stop_accepting(void)
{
	struct conn *c, *next;

	for (c = conns; c; c = next) {
		next = c->next;
		if (c->state == CS_HEAD && buf_avail(&c->in) == 0)
			conn_close(c);
	}
}
