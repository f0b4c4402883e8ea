/*
 * relay.c - the relay role: tunnel clients connect with TLS to the
 * "relay" listeners master opened, get a challenge, prove the token with
 * an HMAC bound to their TLS connection, then register their proxies
 * (relay_reg.c) and carry the visitors' streams.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "conf.h"
#include "log.h"
#include "relay.h"
#include "tunneld.h"
#include "util.h"

#define RELAY_LISTENERS_MAX	16

static SSL_CTX *ctx;
static int lfds[RELAY_LISTENERS_MAX], nlfds, listening;
static size_t pending;			/* not yet authenticated */
uint64_t relay_started_ms, relay_visitors_total;
uint64_t relay_bytes_in, relay_bytes_out;

static void relay_accept(int fd, int events, void *arg);

static void
listeners_start(void)
{
	if (listening || ctx == NULL)
		return;
	for (int i = 0; i < nlfds; i++)
		ev_add(lfds[i], EV_READ, relay_accept, NULL);
	listening = 1;
}

void
relay_listener(int fd)
{
	if (nlfds == RELAY_LISTENERS_MAX) {
		log_warnx("more than %d relay listeners", RELAY_LISTENERS_MAX);
		close(fd);
		return;
	}
	lfds[nlfds++] = fd;
	if (listening)
		ev_add(fd, EV_READ, relay_accept, NULL);
	listeners_start();
}

/* A new certificate serves new connections; open ones keep theirs. */
void
relay_set_ctx(SSL_CTX *c)
{
	SSL_CTX_free(ctx);
	ctx = c;
	listeners_start();
}

void
relay_configured(void)
{
	if (relay_started_ms == 0)
		relay_started_ms = now_ms();
}

/* An error to the peer, then the end of its connection. */
static void
refuse(struct rconn *rc, const char *text)
{
	struct ctrl_msg *m = xcalloc(1, sizeof(*m));
	size_t len;
	char *json;

	m->type = CTRL_ERROR;
	str_copy(m->message, text, sizeof(m->message));
	if ((json = ctrl_format(m, &len)) != NULL)
		mux_send_ctrl(rc->mux, json, len);
	free(json);
	free(m);
	mux_close_after_flush(rc->mux, text);
}

static void
auth_timeout(void *arg)
{
	struct rconn *rc = arg;

	log_warnx("tunnel connection from %s: no authentication within "
	    "%d s: closed", mux_peer(rc->mux), TUNNEL_AUTH_MS / 1000);
	mux_close(rc->mux, "no authentication in time");
}

static int
on_ready(struct mux *mx)
{
	struct rconn *rc = mux_arg(mx);
	struct ctrl_msg *m = xcalloc(1, sizeof(*m));
	size_t len;
	char *json;

	m->type = CTRL_CHALLENGE;
	if (RAND_bytes(rc->nonce, sizeof(rc->nonce)) != 1)
		fatalx("no random bytes for a challenge");
	memcpy(m->nonce, rc->nonce, sizeof(m->nonce));
	str_copy(m->version, TUNNEL_VERSION, sizeof(m->version));
	json = ctrl_format(m, &len);
	free(m);
	if (json == NULL)
		fatalx("challenge does not format");
	mux_send_ctrl(mx, json, len);
	free(json);
	return 0;
}

/* The client joins under its name: one more of its pool. */
static void
attach(struct rconn *rc, struct rclient *c, const struct ctrl_msg *m)
{
	rc->client = c;
	rc->index = m->conn;
	ev_timer_cancel(&rc->auth_timer);
	pending--;
	if (c->nconns++ == 0)
		c->since_ms = now_ms();
	if (c->slots_seen & (1u << m->conn))
		c->reconnects++;
	c->slots_seen |= 1u << m->conn;
	c->last_seen_ms = now_ms();
	str_copy(c->version, m->version, sizeof(c->version));
	str_copy(c->address, mux_peer(rc->mux), sizeof(c->address));
	LIST_INSERT_HEAD(&c->conns, rc, entry);
	mux_set_authed(rc->mux);
	log_info("tunnel client %s (version %s) connected from %s, "
	    "connection %u", c->name, c->version, c->address, m->conn);
}

/* The answer to our challenge: the token's HMAC, compared in constant
 * time; a wrong one is said on both ends. */
static void
on_auth(struct rconn *rc, const struct ctrl_msg *m)
{
	uint8_t want[CTRL_MAC];
	struct rclient *c;

	if (tun_mac(mux_ssl(rc->mux), conf_str(P_TUNNEL_RELAY_TOKEN),
	    rc->nonce, want) == -1) {
		mux_close(rc->mux, "no TLS exporter value");
		return;
	}
	if (CRYPTO_memcmp(want, m->mac, sizeof(want)) != 0) {
		log_warnx("tunnel client %s from %s: wrong token: refused",
		    m->name, mux_peer(rc->mux));
		refuse(rc, "authentication failed: wrong token");
		return;
	}
	if ((c = reg_client(m->name)) == NULL) {
		log_warnx("tunnel client %s from %s: %d clients already: "
		    "refused", m->name, mux_peer(rc->mux), RELAY_CLIENTS_MAX);
		refuse(rc, "the relay has too many clients");
		return;
	}
	attach(rc, c, m);
}

static void
on_ctrl(struct mux *mx, const uint8_t *p, size_t len)
{
	struct rconn *rc = mux_arg(mx);
	struct ctrl_msg *m = xmalloc(sizeof(*m));
	char err[256];

	if (ctrl_parse(p, len, m, err, sizeof(err)) == -1) {
		log_warnx("tunnel connection from %s: bad control message: %s",
		    mux_peer(mx), err);
		mux_close(mx, "bad control message");
	} else if (m->type == CTRL_ERROR)
		log_warnx("tunnel connection from %s: the client says: %s",
		    mux_peer(mx), m->message);
	else if (rc->client == NULL && m->type == CTRL_AUTH)
		on_auth(rc, m);
	else if (rc->client && m->type == CTRL_REGISTER)
		reg_register(rc, m);
	else if (rc->client && m->type == CTRL_HEALTH)
		reg_health(rc, m);
	else {
		log_warnx("tunnel connection from %s: unexpected %s message",
		    mux_peer(mx), ctrl_type_name(m->type));
		mux_close(mx, "unexpected control message");
	}
	free(m);
}

static void
on_stream_end(struct mux *mx, struct mstream *s)
{
	reg_stream_end(s);
}

static void
on_closed(struct mux *mx, const char *why)
{
	struct rconn *rc = mux_arg(mx);
	const struct mux_stats *st = mux_stats(mx);
	struct rclient *c = rc->client;

	ev_timer_cancel(&rc->auth_timer);
	relay_bytes_in += st->bytes_in;
	relay_bytes_out += st->bytes_out;
	if (c == NULL) {
		pending--;
		log_info("tunnel connection from %s closed before "
		    "authentication: %s", mux_peer(mx), why);
	} else {
		LIST_REMOVE(rc, entry);
		c->bytes_in += st->bytes_in;
		c->bytes_out += st->bytes_out;
		c->last_seen_ms = now_ms();
		log_info("tunnel client %s: connection %u from %s closed: %s",
		    c->name, rc->index, mux_peer(mx), why);
		if (--c->nconns == 0)
			reg_client_left(c);
	}
	free(rc);
}

static const struct mux_ops relay_ops = {
	.ready = on_ready,
	.ctrl = on_ctrl,
	.stream_end = on_stream_end,
	.closed = on_closed,
};

static void
relay_accept(int lfd, int events, void *arg)
{
	struct rconn *rc;
	SSL *ssl;
	int fd, on = 1;

	for (int i = 0; i < RELAY_ACCEPT_BURST; i++) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept on the relay listener");
			return;
		}
		if (pending >= RELAY_PENDING_MAX || (ssl = SSL_new(ctx)) ==
		    NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		rc = xcalloc(1, sizeof(*rc));
		pending++;
		ev_timer_init(&rc->auth_timer, auth_timeout, rc);
		rc->mux = mux_new(fd, ssl, 1, &relay_ops, rc);
		ev_timer_arm(&rc->auth_timer, TUNNEL_AUTH_MS);
	}
}
