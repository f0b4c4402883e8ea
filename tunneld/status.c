/*
 * status.c - tunneld's small HTTP listeners (see status.h): the relay's
 * status page, and on a host without httpd the metrics listener's pages
 * (lib/mpage; master gathers them).  One request per connection, a
 * bounded head read within a deadline, a bounded number of connections;
 * on the status page Basic auth (status_auth.c) before anything else is
 * said.  While a password is checked off the loop, or master gathers a
 * page, the connection is not read: nothing more is buffered.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "http.h"
#include "log.h"
#include "mpage.h"
#include "status.h"
#include "util.h"
#include "worker.h"

#define STATUS_CONNS_MAX	32
#define STATUS_LISTEN_MAX	8
#define METRICS_PAGE_MAX	(64u << 20)	/* bytes of a page we read */
#define STATUS_TIMEOUT_MS	10000	/* to send a head, or to read us */
#define ACCEPT_PAUSE_MS		1000	/* out of descriptors: wait */
#define REALM			"regmaster relay"

enum spage { SP_HTML, SP_JSON, SP_NONE };

struct sconn {
	int		 fd;
	struct buf	 in, out;
	struct ev_timer	 timer;
	struct status_check *check;	/* the password being checked */
	enum spage	 page;		/* asked for, once let in */
	int		 metrics;	/* on the metrics listener */
	enum mpage	 mpage;		/* there: the page asked for */
	uint32_t	 asking;	/* master's request id; 0: none */
	int		 head_only;
	unsigned	 retry;		/* Retry-After, seconds; 0: none */
	struct sconn	*next, **prevp;
};

static status_doc_fn doc_fn;
static struct slistener {
	int	 fd;
	int	 metrics;
} listeners[STATUS_LISTEN_MAX];
static int nlisteners;
static struct ev_timer accept_resume;
static struct sconn *conns;
static int nconns;

static void sconn_io(int, int, void *);

void
status_set_doc(status_doc_fn fn)
{
	doc_fn = fn;
}

static void
sconn_close(struct sconn *c)
{
	ev_timer_cancel(&c->timer);
	status_auth_cancel(c->check);
	if (c->asking)
		link_forget(worker_master(), c->asking);
	ev_del(c->fd);
	close(c->fd);
	*c->prevp = c->next;
	if (c->next)
		c->next->prevp = c->prevp;
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
	nconns--;
}

static void
sconn_timeout(void *arg)
{
	sconn_close(arg);
}

/* The whole answer into c->out; the connection closes after it. */
static void
respond(struct sconn *c, int status, const char *ctype, const char *body,
    size_t len, int head_only)
{
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Security-Policy: default-src 'none'; "
	    "style-src 'unsafe-inline'\r\n", status,
	    http_status_text(status), ctype, len);
	if (status == 401)
		buf_puts(&c->out, "WWW-Authenticate: Basic realm=\"" REALM
		    "\", charset=\"UTF-8\"\r\n");
	if (c->retry)
		buf_printf(&c->out, "Retry-After: %u\r\n", c->retry);
	buf_puts(&c->out, "Connection: close\r\n\r\n");
	if (!head_only)
		buf_append(&c->out, body, len);
	ev_set(c->fd, EV_WRITE);
}

static void
respond_text(struct sconn *c, int status, int head_only)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status,
	    http_status_text(status));

	respond(c, status, "text/plain; charset=utf-8", body, (size_t)n,
	    head_only);
}

/* The page or the document, from a fresh document. */
static void
respond_doc(struct sconn *c, int html, int head_only)
{
	json_t *doc = doc_fn ? doc_fn() : NULL;
	struct buf b;
	char *s;

	if (doc == NULL) {
		respond_text(c, 503, head_only);
		return;
	}
	buf_init(&b);
	if (html)
		status_html(doc, &b);
	else if ((s = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS)) !=
	    NULL) {
		buf_puts(&b, s);
		buf_puts(&b, "\n");
		free(s);
	}
	json_decref(doc);
	respond(c, 200, html ? "text/html; charset=utf-8" :
	    "application/json", buf_head(&b), buf_avail(&b), head_only);
	buf_free(&b);
}

/* Let in: what was asked for. */
static void
serve_page(struct sconn *c)
{
	if (c->page == SP_NONE)
		respond_text(c, 404, c->head_only);
	else
		respond_doc(c, c->page == SP_HTML, c->head_only);
}

/* The password check's answer (status_auth). */
static void
on_auth(int status, void *arg)
{
	struct sconn *c = arg;

	c->check = NULL;
	if (status == 503)
		c->retry = 1;
	if (status != 0)
		respond_text(c, status, c->head_only);
	else
		serve_page(c);
}

/* The metrics page master made, read from its memfd (closed). */
static void
respond_fd(struct sconn *c, const struct mpage_answer *a)
{
	struct buf b;
	ssize_t n = 0;

	buf_init(&b);
	if (a->size <= METRICS_PAGE_MAX) {
		buf_reserve(&b, a->size);
		while (b.len < a->size && (n = pread(a->fd, buf_tail(&b),
		    a->size - b.len, (off_t)b.len)) > 0)
			b.len += (size_t)n;
	}
	close(a->fd);
	if (b.len != a->size) {
		log_warnx("metrics page: %zu of %zu bytes read", b.len,
		    a->size);
		c->retry = 1;
		respond_text(c, 503, c->head_only);
	} else
		respond(c, a->status, a->ctype, buf_head(&b), b.len,
		    c->head_only);
	buf_free(&b);
}

static void
respond_answer(struct sconn *c, const struct mpage_answer *a)
{
	if (a->fd != -1)
		respond_fd(c, a);
	else
		respond(c, a->status, a->ctype, a->text, a->size,
		    c->head_only);
}

/* master's answer to /metrics or /readyz. */
static void
on_master_page(struct link *l, struct msg *m, void *arg)
{
	struct sconn *c = arg;
	struct mpage_answer a;

	c->asking = 0;
	mpage_answer(c->mpage, m, &a);
	respond_answer(c, &a);
}

/* A request on the metrics listener: no credentials, as on httpd's. */
static void
handle_metrics(struct sconn *c, const struct http_request *req)
{
	struct mpage_answer a;

	c->mpage = mpage_route(req->path);
	if (c->mpage == MPAGE_METRICS || c->mpage == MPAGE_READYZ) {
		c->asking = mpage_ask(c->mpage, on_master_page, c);
		ev_set(c->fd, 0);	/* on_master_page resumes */
		return;
	}
	mpage_answer(c->mpage, NULL, &a);
	respond_answer(c, &a);
}

static void
handle(struct sconn *c, const struct http_request *req)
{
	int rc;

	c->head_only = req->method == HTTP_M_HEAD;
	if (req->method != HTTP_M_GET && !c->head_only) {
		respond_text(c, 405, 0);
		return;
	}
	if (c->metrics) {
		handle_metrics(c, req);
		return;
	}
	c->page = strcmp(req->path, "/") == 0 ? SP_HTML :
	    strcmp(req->path, "/status.json") == 0 ? SP_JSON : SP_NONE;
	rc = status_auth(http_header_get(req, "Authorization"), &c->retry,
	    on_auth, c, &c->check);
	if (rc == -1)
		ev_set(c->fd, 0);	/* on_auth resumes */
	else if (rc != 0)
		respond_text(c, rc, c->head_only);
	else
		serve_page(c);
}

static void
sconn_read(struct sconn *c)
{
	struct http_request req;
	ssize_t n;
	int r;

	buf_reserve(&c->in, HTTP_MAX_HEAD - buf_avail(&c->in));
	n = recv(c->fd, buf_tail(&c->in), HTTP_MAX_HEAD - buf_avail(&c->in),
	    0);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		sconn_close(c);
		return;
	}
	if (n == -1)
		return;
	c->in.len += (size_t)n;
	r = http_parse_request(buf_head(&c->in), buf_avail(&c->in), &req);
	if (r == 0 && buf_avail(&c->in) < HTTP_MAX_HEAD)
		return;
	if (r > 0)
		handle(c, &req);
	else
		respond_text(c, r < 0 ? -r : 431, 0);
}

static void
sconn_write(struct sconn *c)
{
	ssize_t n = send(c->fd, buf_head(&c->out), buf_avail(&c->out),
	    MSG_NOSIGNAL);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		sconn_close(c);
		return;
	}
	buf_consume(&c->out, (size_t)n);
	if (buf_avail(&c->out) == 0)
		sconn_close(c);
}

static void
sconn_io(int fd, int events, void *arg)
{
	struct sconn *c = arg;

	if (buf_avail(&c->out) || (events & EV_WRITE))
		sconn_write(c);
	else if (events & EV_READ)
		sconn_read(c);
}

static void
listeners_watch(int on)
{
	for (int i = 0; i < nlisteners; i++)
		ev_set(listeners[i].fd, on ? EV_READ : 0);
}

static void
on_accept_resume(void *arg)
{
	listeners_watch(1);
}

static void
on_accept(int lfd, int events, void *arg)
{
	const struct slistener *sl = arg;
	struct sconn *c;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		if (nconns >= STATUS_CONNS_MAX) {
			close(fd);	/* a flood: the page can wait */
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->metrics = sl->metrics;
		buf_init(&c->in);
		buf_init(&c->out);
		ev_timer_init(&c->timer, sconn_timeout, c);
		ev_timer_arm(&c->timer, STATUS_TIMEOUT_MS);
		c->next = conns;
		if (conns)
			conns->prevp = &c->next;
		c->prevp = &conns;
		conns = c;
		nconns++;
		ev_add(fd, EV_READ, sconn_io, c);
	}
	if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
		return;
	log_warn("status page: accept");
	/* out of descriptors or memory, the socket stays readable: a pause
	 * rather than a loop spinning on it */
	listeners_watch(0);
	ev_timer_arm(&accept_resume, ACCEPT_PAUSE_MS);
}

static void
listener_add(int fd, int metrics)
{
	if (nlisteners == STATUS_LISTEN_MAX) {
		log_warnx("status page and metrics: more than %d listen "
		    "addresses", STATUS_LISTEN_MAX);
		close(fd);
		return;
	}
	if (nlisteners == 0)
		ev_timer_init(&accept_resume, on_accept_resume, NULL);
	listeners[nlisteners].fd = fd;
	listeners[nlisteners].metrics = metrics;
	ev_add(fd, EV_READ, on_accept, &listeners[nlisteners++]);
}

void
status_start(int fd)
{
	listener_add(fd, 0);
}

void
status_start_metrics(int fd)
{
	listener_add(fd, 1);
}
