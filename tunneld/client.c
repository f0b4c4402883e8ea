/*
 * client.c - the client role: a pool of tunnel.client.pool connections to
 * the relay, each dialled, verified (a CA bundle and the relay's name, or
 * the pinned fingerprint; unverified only with insecure, said loudly),
 * answered (the token's HMAC) and registered; each redialled forever with
 * backoff and jitter when it fails or dies, from the very first start.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "client.h"
#include "conf.h"
#include "ctrl.h"
#include "log.h"
#include "tunneld.h"
#include "util.h"

static struct cconn pool[CLIENT_POOL_MAX];
static unsigned npool;
static struct tunnel_proxy *proxies;
static size_t nproxies;
static char relay_host[256], relay_port[16], name[TUNNEL_NAME_MAX];
static uint8_t pin[32];
static int pinned, started;
static char *ca_pem;
static size_t ca_len;
static SSL_CTX *ctx;
static char *running;		/* the settings the pool was started with */

static void dial(struct cconn *);
static const struct mux_ops client_ops;

const struct tunnel_proxy *
client_proxy(const char *n)
{
	for (size_t i = 0; i < nproxies; i++)
		if (strcmp(proxies[i].name, n) == 0)
			return &proxies[i];
	return NULL;
}

/* The next try of c, after its backoff with jitter (80-120 %). */
static void
redial_later(struct cconn *c)
{
	uint64_t d = c->backoff_ms * (80 + arc4random_uniform(41)) / 100;

	c->state = CS_IDLE;
	ev_timer_arm(&c->timer, d);
	c->backoff_ms = c->backoff_ms * 2 > CLIENT_BACKOFF_MAX_MS ?
	    CLIENT_BACKOFF_MAX_MS : c->backoff_ms * 2;
	log_debug("connection %u: next try in %llu ms", c->index,
	    (unsigned long long)d);
}

static void
on_timer(void *arg)
{
	struct cconn *c = arg;

	if (c->state == CS_DIALLING) {
		log_warnx("relay %s:%s: connect timed out", relay_host,
		    relay_port);
		ev_del(c->fd);
		close(c->fd);
		c->fd = -1;
		redial_later(c);
	} else if (c->state == CS_IDLE)
		dial(c);
}

/* TLS on the connected socket: the relay's name for SNI and, with a CA,
 * for verification. */
static void
tunnel_start(struct cconn *c)
{
	struct in6_addr a6;
	struct in_addr a4;
	int ip = inet_pton(AF_INET, relay_host, &a4) == 1 ||
	    inet_pton(AF_INET6, relay_host, &a6) == 1;
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL) {
		close(c->fd);
		redial_later(c);
		return;
	}
	if (!ip)
		SSL_set_tlsext_host_name(ssl, relay_host);
	if (ca_pem && (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
	    relay_host) : SSL_set1_host(ssl, relay_host)) != 1)
		log_warnx("relay %s: its name cannot be checked", relay_host);
	c->state = CS_TUNNEL;
	c->mux = mux_new(c->fd, ssl, 0, &client_ops, c);
	c->fd = -1;
}

static void
on_connect(int fd, int events, void *arg)
{
	struct cconn *c = arg;
	socklen_t sl = sizeof(int);
	int err = 0;

	ev_timer_cancel(&c->timer);
	ev_del(fd);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err) {
		log_warnx("relay %s:%s: %s (connection %u retries)", relay_host,
		    relay_port, strerror(err ? err : errno), c->index);
		close(fd);
		c->fd = -1;
		redial_later(c);
		return;
	}
	tunnel_start(c);
}

/* The relay's addresses: a name of several, each try takes the next. */
static void
on_relay_addr(const struct addrinfo *res, int err, void *arg)
{
	struct cconn *c = arg;
	const struct addrinfo *ai;
	unsigned n;
	int on = 1;

	c->lookup = NULL;
	if (err != 0) {
		log_warnx("relay %s: %s", relay_host, gai_strerror(err));
		redial_later(c);
		return;
	}
	for (ai = res, n = 0; ai; ai = ai->ai_next)
		n++;
	for (ai = res, n = c->tries++ % n; n > 0; n--)
		ai = ai->ai_next;
	c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd != -1) {
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
		    errno != EINPROGRESS) {
			log_warn("relay %s:%s", relay_host, relay_port);
			close(c->fd);
			c->fd = -1;
		}
	}
	if (c->fd == -1) {
		redial_later(c);
		return;
	}
	c->state = CS_DIALLING;
	ev_add(c->fd, EV_WRITE, on_connect, c);
	ev_timer_arm(&c->timer, CLIENT_DIAL_MS);
}

/* Every dial looks the relay up again (off the loop): a relay that moves
 * is found at the next reconnect. */
static void
dial(struct cconn *c)
{
	c->state = CS_RESOLVING;
	c->lookup = resolve_start(relay_host, relay_port, SOCK_STREAM,
	    on_relay_addr, c);
}

static void
hex_of(const uint8_t *b, char *out)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The relay is the one we mean: pinned fingerprint, or the CA's verdict
 * (the handshake already failed without it), or insecure. */
static int
on_ready(struct mux *mx)
{
	uint8_t fp[32];
	char hex[65];

	if (pinned) {
		if (tun_peer_fingerprint(mux_ssl(mx), fp) == -1 ||
		    CRYPTO_memcmp(fp, pin, sizeof(fp)) != 0) {
			hex_of(fp, hex);
			log_warnx("relay %s: certificate fingerprint sha256:%s "
			    "is not tunnel.client.fingerprint: refused",
			    mux_peer(mx), hex);
			return -1;
		}
	} else if (ca_pem == NULL)
		log_warnx("relay %s: certificate NOT verified "
		    "(tunnel.client.insecure = true)", mux_peer(mx));
	return 0;
}

static void
send_msg(struct mux *mx, const struct ctrl_msg *m)
{
	size_t len;
	char *json = ctrl_format(m, &len);

	if (json == NULL)
		fatalx("a %s message does not format", ctrl_type_name(m->type));
	mux_send_ctrl(mx, json, len);
	free(json);
}

static void
send_health(struct mux *mx, const char *proxy, int healthy)
{
	struct ctrl_msg *m = xcalloc(1, sizeof(*m));

	m->type = CTRL_HEALTH;
	str_copy(m->name, proxy, sizeof(m->name));
	m->healthy = healthy;
	send_msg(mx, m);
	free(m);
}

/* A proxy's health changed: every connection registered says so (the
 * relay keeps it per client; one that is dying must not swallow the
 * news). */
static void
health_changed(const char *proxy, int healthy)
{
	for (unsigned i = 0; i < npool; i++)
		if (pool[i].mux && pool[i].registered)
			send_health(pool[i].mux, proxy, healthy);
}

/* Right behind the registration, on the same connection, so the relay
 * knows a proxy that is down before it sends it a visitor. */
static void
send_health_all(struct mux *mx)
{
	for (size_t i = 0; i < nproxies; i++)
		if (strcmp(proxies[i].health, "none") != 0)
			send_health(mx, proxies[i].name,
			    health_of(proxies[i].name));
}

/* The challenge answered, and the proxies registered right after. */
static void
on_challenge(struct cconn *c, const struct ctrl_msg *ch)
{
	struct ctrl_msg *m = xcalloc(1, sizeof(*m));

	m->type = CTRL_AUTH;
	if (tun_mac(mux_ssl(c->mux), conf_str(P_TUNNEL_CLIENT_TOKEN),
	    ch->nonce, m->mac) == -1) {
		free(m);
		mux_close(c->mux, "no TLS exporter value");
		return;
	}
	str_copy(m->name, name, sizeof(m->name));
	str_copy(m->version, TUNNEL_VERSION, sizeof(m->version));
	m->conn = c->index;
	send_msg(c->mux, m);
	memset(m, 0, sizeof(*m));
	m->type = CTRL_REGISTER;
	for (size_t i = 0; i < nproxies; i++) {
		struct ctrl_proxy *p = &m->proxies[m->n++];
		str_copy(p->name, proxies[i].name, sizeof(p->name));
		str_copy(p->group, proxies[i].group, sizeof(p->group));
		p->remote_port = proxies[i].remote_port;
		p->weight = proxies[i].weight;
		p->compression = proxies[i].compression;
		p->proxy_protocol = proxies[i].proxy_protocol;
		str_copy(p->health, proxies[i].health, sizeof(p->health));
	}
	send_msg(c->mux, m);
	free(m);
	send_health_all(c->mux);
	c->registered = 1;
	mux_set_authed(c->mux);
}

static void
on_registered(struct cconn *c, const struct ctrl_msg *m)
{
	c->state = CS_UP;
	c->up_ms = now_ms();
	c->backoff_ms = CLIENT_BACKOFF_MIN_MS;
	for (size_t i = 0; i < m->n; i++) {
		const struct tunnel_proxy *p = client_proxy(m->results[i].name);
		if (c->index != 0)
			continue;	/* every connection hears the same */
		if (m->results[i].ok)
			log_info("proxy %s: published on the relay's port %u",
			    m->results[i].name, p ? p->remote_port : 0);
		else
			log_warnx("proxy %s: refused by the relay: %s",
			    m->results[i].name, m->results[i].error);
	}
	log_info("tunnel connection %u to %s up", c->index, mux_peer(c->mux));
}

static void
on_ctrl(struct mux *mx, const uint8_t *p, size_t len)
{
	struct cconn *c = mux_arg(mx);
	struct ctrl_msg *m = xmalloc(sizeof(*m));
	char err[256];

	if (ctrl_parse(p, len, m, err, sizeof(err)) == -1) {
		log_warnx("relay %s: bad control message: %s", mux_peer(mx),
		    err);
		mux_close(mx, "bad control message");
	} else if (m->type == CTRL_CHALLENGE && c->state == CS_TUNNEL)
		on_challenge(c, m);
	else if (m->type == CTRL_REGISTERED)
		on_registered(c, m);
	else if (m->type == CTRL_ERROR) {
		log_warnx("relay %s refused us: %s", mux_peer(mx), m->message);
		mux_close(mx, m->message);
	} else {
		log_warnx("relay %s: unexpected %s message", mux_peer(mx),
		    ctrl_type_name(m->type));
		mux_close(mx, "unexpected control message");
	}
	free(m);
}

static void
on_closed(struct mux *mx, const char *why)
{
	struct cconn *c = mux_arg(mx);

	log_warnx("tunnel connection %u to %s:%s closed: %s", c->index,
	    relay_host, relay_port, why);
	c->mux = NULL;
	c->registered = 0;
	if (started)
		redial_later(c);
	else
		c->state = CS_IDLE;
}

static const struct mux_ops client_ops = {
	.ready = on_ready,
	.ctrl = on_ctrl,
	.open = local_open,
	.connected = client_local_connected,
	.stream_end = local_stream_end,
	.closed = on_closed,
};

static char host_name[TUNNEL_NAME_MAX];

/* Before the sandbox: the host's name, the default tunnel.client.name. */
void
client_preload(void)
{
	char h[256];

	if (gethostname(h, sizeof(h)) == 0) {
		h[strcspn(h, ".")] = '\0';
		if (tunnel_name_ok(h))
			str_copy(host_name, h, sizeof(host_name));
	}
	if (host_name[0] == '\0')
		str_copy(host_name, "tunnel-client", sizeof(host_name));
}

static void
pool_stop(void)
{
	started = 0;
	health_stop();
	local_addrs_stop();
	for (unsigned i = 0; i < npool; i++) {
		struct cconn *c = &pool[i];
		ev_timer_cancel(&c->timer);
		resolve_cancel(c->lookup);
		if (c->mux)
			mux_close(c->mux, "the configuration changed");
		if (c->fd != -1) {
			ev_del(c->fd);
			close(c->fd);
		}
		memset(c, 0, sizeof(*c));
		c->fd = -1;
	}
	SSL_CTX_free(ctx);
	ctx = NULL;
}

/* The configuration into the client's settings; -1 said. */
static int
settings_load(void)
{
	const char *n = conf_str(P_TUNNEL_CLIENT_NAME), *fp =
	    conf_str(P_TUNNEL_CLIENT_FINGERPRINT);
	char err[256];

	free(proxies);
	if (tunnel_proxies_parse(conf_str(P_TUNNEL_CLIENT_PROXIES), &proxies,
	    &nproxies, err, sizeof(err)) == -1 ||
	    conf_split_hostport(conf_str(P_TUNNEL_CLIENT_RELAY), relay_host,
	    sizeof(relay_host), relay_port, sizeof(relay_port)) == -1) {
		log_warnx("tunnel client: %s", err);
		return -1;
	}
	str_copy(name, *n ? n : host_name, sizeof(name));
	pinned = *fp && tunnel_fingerprint_parse(fp, pin) == 0;
	npool = (unsigned)conf_int(P_TUNNEL_CLIENT_POOL);
	if (npool > CLIENT_POOL_MAX)
		npool = CLIENT_POOL_MAX;
	return 0;
}

static void
pool_start(void)
{
	if (settings_load() == -1)
		return;
	if ((ctx = tun_client_ctx(ca_pem, ca_len)) == NULL)
		return;
	started = 1;
	local_addrs_start(proxies, nproxies);
	health_start(proxies, nproxies, health_changed);
	log_info("tunnel client %s: %u connection%s to relay %s:%s, %zu "
	    "prox%s", name, npool, npool == 1 ? "" : "s", relay_host,
	    relay_port, nproxies, nproxies == 1 ? "y" : "ies");
	for (unsigned i = 0; i < npool; i++) {
		struct cconn *c = &pool[i];
		c->index = i;
		c->fd = -1;
		c->backoff_ms = CLIENT_BACKOFF_MIN_MS;
		ev_timer_init(&c->timer, on_timer, c);
		dial(c);
	}
}

/* What the pool depends on, as one string to compare. */
static char *
settings_text(void)
{
	char *s;

	xasprintf(&s, "%s|%s|%s|%s|%lld|%lld|%s|%s|%zu",
	    conf_str(P_TUNNEL_CLIENT_RELAY), conf_str(P_TUNNEL_CLIENT_TOKEN),
	    conf_str(P_TUNNEL_CLIENT_PROXIES),
	    conf_str(P_TUNNEL_CLIENT_FINGERPRINT),
	    (long long)conf_int(P_TUNNEL_CLIENT_INSECURE),
	    (long long)conf_int(P_TUNNEL_CLIENT_POOL),
	    conf_str(P_TUNNEL_CLIENT_NAME), conf_str(P_TUNNEL_CLIENT_CA),
	    ca_len);
	return s;
}

/* Start the pool, or restart it when what it depends on changed; a CA
 * bundle configured must have arrived first. */
void
client_configured(void)
{
	char *now;

	if (*conf_str(P_TUNNEL_CLIENT_RELAY) == '\0' ||
	    (*conf_str(P_TUNNEL_CLIENT_CA) && ca_pem == NULL)) {
		if (running)
			pool_stop();
		free(running);
		running = NULL;
		return;
	}
	now = settings_text();
	if (running && strcmp(now, running) == 0) {
		free(now);
		return;
	}
	if (running)
		pool_stop();
	free(running);
	running = now;
	pool_start();
}

/* master -> tunneld: the CA bundle of tunnel.client.ca. */
void
client_set_ca(const char *pem, size_t len)
{
	free(ca_pem);
	ca_pem = xmalloc(len);
	memcpy(ca_pem, pem, len);
	ca_len = len;
	free(running);		/* a new bundle: a new pool */
	running = NULL;
	if (started)
		pool_stop();
	client_configured();
}

static const char *
cstate_name(enum cstate s)
{
	static const char *n[] = { "down", "dialling", "dialling",
	    "handshake", "up" };

	return n[s];
}

/* The client's side of the status document: its connections. */
char *
client_status_json(void)
{
	json_t *conns = json_array(), *o;
	char *s;

	for (unsigned i = 0; i < npool; i++) {
		const struct cconn *c = &pool[i];
		const struct mux_stats *st = c->mux ? mux_stats(c->mux) : NULL;
		json_array_append_new(conns, json_pack("{s:i, s:s, s:I, s:I, "
		    "s:I, s:I}", "index", (int)i, "state", cstate_name(c->state),
		    "uptime", (json_int_t)(c->state == CS_UP ? (now_ms() -
		    c->up_ms) / 1000 : 0), "streams", (json_int_t)(c->mux ?
		    mux_nstreams(c->mux) : 0), "bytes_in", (json_int_t)(st ?
		    st->bytes_in : 0), "bytes_out", (json_int_t)(st ?
		    st->bytes_out : 0)));
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "role", "client", "version",
	    TUNNEL_VERSION, "name", name, "relay", conf_str(
	    P_TUNNEL_CLIENT_RELAY), "connections", conns);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("the client's status document does not build");
	json_decref(o);
	return s;
}

int
client_running(void)
{
	return started;
}
