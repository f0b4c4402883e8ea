/*
 * status.c - the relay's status page server (see status.h): one request per
 * connection, a bounded head read within a deadline, a bounded number of
 * connections, Basic auth before anything else is said.
 *
 * bcrypt is slow on purpose and tunneld's one loop also carries the
 * tunnel's bytes, so a page that reloads itself must not cost a bcrypt each
 * time and a guesser must not stall the tunnel: credentials that checked
 * out are remembered a while (as keyed hashes), and only a few bcrypt
 * checks a second are made; past that the answer is 429.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "authhdr.h"
#include "ev.h"
#include "htpasswd.h"
#include "http.h"
#include "log.h"
#include "status.h"
#include "util.h"

#define STATUS_CONNS_MAX	32
#define STATUS_LISTEN_MAX	4
#define STATUS_TIMEOUT_MS	10000	/* to send a head, or to read us */
#define CHECKS_PER_S		2	/* bcrypt checks a second */
#define ACCEPT_PAUSE_MS		1000	/* out of descriptors: wait */
#define REMEMBER_N		8	/* credentials remembered */
#define REMEMBER_MS		(10 * 60 * 1000)
#define REALM			"regmaster relay"

struct sconn {
	int		 fd;
	struct buf	 in, out;
	struct ev_timer	 timer;
	struct sconn	*next, **prevp;
};

struct remembered {
	unsigned char	 mac[32];	/* HMAC(key, user NUL password) */
	uint64_t	 until;		/* ms; 0: free */
};

static status_doc_fn doc_fn;
static struct htpasswd users;
static int users_set;
static unsigned char mac_key[32];
static struct remembered remembered[REMEMBER_N];
static uint64_t checks_second;
static int checks_left;
static int listeners[STATUS_LISTEN_MAX];
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

/* No credentials (refused ones replace the old too): nobody gets in. */
static void
users_drop(void)
{
	htpasswd_clear(&users);
	users_set = 0;
	OPENSSL_cleanse(remembered, sizeof(remembered));
}

/* New credentials: what was remembered of the old ones is forgotten. */
static void
users_replace(struct htpasswd *h)
{
	users_drop();
	users = *h;
	users_set = 1;
	if (RAND_bytes(mac_key, sizeof(mac_key)) != 1)
		fatalx("status: no random bytes for the credential key");
}

int
status_auth_set(const char *user, const char *hash, char *err,
    size_t errlen)
{
	struct htpasswd h = { 0 };

	users_drop();
	if (!htpasswd_name_valid(user)) {
		snprintf(err, errlen, "status user \"%s\" is not a valid name",
		    user);
		return -1;
	}
	if (htpasswd_check(hash, "") == -1) {
		snprintf(err, errlen, "status password is not a bcrypt hash "
		    "(make one with htpasswd -nB)");
		return -1;
	}
	h.e = xcalloc(1, sizeof(*h.e));
	h.e[0].name = xstrdup(user);
	h.e[0].hash = xstrdup(hash);
	h.n = 1;
	users_replace(&h);
	return 0;
}

int
status_auth_htpasswd(const char *data, size_t len, char *err, size_t errlen)
{
	struct htpasswd h = { 0 };
	size_t skipped = 0, first_bad = 0;

	users_drop();
	if (htpasswd_parse(data, len, &h, &skipped, &first_bad, err,
	    errlen) == -1)
		return -1;
	if (skipped)
		log_warnx("status htpasswd: %zu lines skipped (not name:bcrypt),"
		    " the first at line %zu", skipped, first_bad);
	if (h.n == 0) {
		htpasswd_clear(&h);
		snprintf(err, errlen, "status htpasswd file has no user");
		return -1;
	}
	users_replace(&h);
	return 0;
}

static void
cred_mac(const struct authhdr *a, unsigned char mac[32])
{
	unsigned int n = 32;
	size_t ul = strlen(a->user), pl = strlen(a->pass);
	unsigned char msg[AUTHHDR_USER_MAX + 1 + AUTHHDR_PASS_MAX];

	memcpy(msg, a->user, ul);
	msg[ul] = 0;
	memcpy(msg + ul + 1, a->pass, pl);
	if (HMAC(EVP_sha256(), mac_key, sizeof(mac_key), msg, ul + 1 + pl,
	    mac, &n) == NULL)
		fatalx("status: HMAC-SHA256");
	OPENSSL_cleanse(msg, sizeof(msg));
}

/* The slot remembering mac (not yet expired), or NULL. */
static struct remembered *
remembered_find(const unsigned char mac[32], uint64_t now)
{
	for (int i = 0; i < REMEMBER_N; i++)
		if (remembered[i].until > now &&
		    CRYPTO_memcmp(remembered[i].mac, mac, 32) == 0)
			return &remembered[i];
	return NULL;
}

static void
remember(const unsigned char mac[32], uint64_t now)
{
	struct remembered *r = &remembered[0];

	for (int i = 1; i < REMEMBER_N; i++)
		if (remembered[i].until < r->until)
			r = &remembered[i];
	memcpy(r->mac, mac, 32);
	r->until = now + REMEMBER_MS;
}

/* 0 if the request's credentials are good, else the status to answer. */
static int
auth_check(const struct http_request *req)
{
	const struct htpasswd_entry *e;
	struct authhdr a = { 0 };
	unsigned char mac[32];
	uint64_t now = ev_now();
	int rc = 401;

	if (!users_set ||
	    authhdr_parse(http_header_get(req, "Authorization"), &a) !=
	    AH_BASIC || (e = htpasswd_find(&users, a.user)) == NULL)
		goto done;
	cred_mac(&a, mac);
	if (remembered_find(mac, now) != NULL) {
		rc = 0;
		goto done;
	}
	if (now / 1000 != checks_second) {
		checks_second = now / 1000;
		checks_left = CHECKS_PER_S;
	}
	if (checks_left == 0) {
		rc = 429;
		goto done;
	}
	checks_left--;
	if (htpasswd_check(e->hash, a.pass) == 1) {
		remember(mac, now);
		rc = 0;
	} else
		log_info("status page: wrong password for %s", a.user);
done:
	authhdr_clear(&a);
	return rc;
}

static void
sconn_close(struct sconn *c)
{
	ev_timer_cancel(&c->timer);
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
	    "style-src 'unsafe-inline'\r\n%sConnection: close\r\n\r\n",
	    status, http_status_text(status), ctype, len,
	    status == 401 ? "WWW-Authenticate: Basic realm=\"" REALM "\", "
	    "charset=\"UTF-8\"\r\n" : "");
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

static void
handle(struct sconn *c, const struct http_request *req)
{
	int head_only = req->method == HTTP_M_HEAD, rc;

	if (req->method != HTTP_M_GET && !head_only) {
		respond_text(c, 405, 0);
		return;
	}
	if ((rc = auth_check(req)) != 0) {
		respond_text(c, rc, head_only);
		return;
	}
	if (strcmp(req->path, "/") == 0)
		respond_doc(c, 1, head_only);
	else if (strcmp(req->path, "/status.json") == 0)
		respond_doc(c, 0, head_only);
	else
		respond_text(c, 404, head_only);
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
		ev_set(listeners[i], on ? EV_READ : 0);
}

static void
on_accept_resume(void *arg)
{
	listeners_watch(1);
}

static void
on_accept(int lfd, int events, void *arg)
{
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

void
status_start(int fd)
{
	if (nlisteners == STATUS_LISTEN_MAX) {
		log_warnx("status page: more than %d listen addresses",
		    STATUS_LISTEN_MAX);
		close(fd);
		return;
	}
	if (nlisteners == 0)
		ev_timer_init(&accept_resume, on_accept_resume, NULL);
	listeners[nlisteners++] = fd;
	ev_add(fd, EV_READ, on_accept, NULL);
}
