/*
 * upstream_pool.c - idle upstream connections kept for the next exchange.
 * A cold pull is a manifest and several blobs from one upstream in a row;
 * without reuse each of them pays a TCP and a TLS handshake (and the
 * upstream a new worker slot).  Only a connection whose response was read
 * to its last byte, with nothing after it, and that the upstream did not
 * ask to close, comes here (upstream_body.c decides); a few per upstream
 * host, each closed when it stays idle too long or the upstream closes or
 * sends anything while it idles.
 */
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ev.h"
#include "upstream_int.h"

#define POOL_PER_HOST	4	/* idle connections kept per upstream host */
#define POOL_MAX	32
#define POOL_IDLE_MS	20000	/* under the usual servers' keep-alive */

struct idle_conn {
	int		 used;
	size_t		 upi;
	int		 tls;
	char		 host[CACHE_HOST_MAX];
	char		 port[8];
	int		 fd;
	SSL		*ssl;
	uint64_t	 since_ms;
	struct ev_timer	 timer;
};

static struct idle_conn pool[POOL_MAX];

static void
idle_close(struct idle_conn *ic)
{
	ev_del(ic->fd);
	ev_timer_cancel(&ic->timer);
	if (ic->ssl != NULL)
		SSL_free(ic->ssl);
	close(ic->fd);
	ic->ssl = NULL;
	ic->fd = -1;
	ic->used = 0;
}

/* An idle connection became readable: the upstream closed it, or sent
 * what nobody asked for; either way it is not reused. */
static void
idle_readable(int fd, int events, void *arg)
{
	idle_close(arg);
}

static void
idle_expired(void *arg)
{
	idle_close(arg);
}

static int
same_target(const struct idle_conn *ic, size_t upi, const struct up_target *t)
{
	return ic->used && ic->upi == upi && ic->tls == t->tls &&
	    strcmp(ic->host, t->host) == 0 && strcmp(ic->port, t->port) == 0;
}

int
uppool_put(struct upreq *r)
{
	struct idle_conn *ic = NULL;
	int n = 0;

	for (size_t i = 0; i < POOL_MAX; i++) {
		if (same_target(&pool[i], r->upi, &r->t))
			n++;
		else if (!pool[i].used && ic == NULL)
			ic = &pool[i];
	}
	if (n >= POOL_PER_HOST || ic == NULL || r->fd == -1)
		return -1;
	ev_del(r->fd);
	ic->used = 1;
	ic->upi = r->upi;
	ic->tls = r->t.tls;
	memcpy(ic->host, r->t.host, sizeof(ic->host));
	memcpy(ic->port, r->t.port, sizeof(ic->port));
	ic->fd = r->fd;
	ic->ssl = r->ssl;
	ic->since_ms = ev_now();
	r->fd = -1;
	r->ssl = NULL;
	ev_add(ic->fd, EV_READ, idle_readable, ic);
	ev_timer_init(&ic->timer, idle_expired, ic);
	ev_timer_arm(&ic->timer, POOL_IDLE_MS);
	return 0;
}

int
uppool_take(struct upreq *r)
{
	struct idle_conn *ic = NULL;

	/* the newest: the least likely to be closed by the upstream now */
	for (size_t i = 0; i < POOL_MAX; i++)
		if (same_target(&pool[i], r->upi, &r->t) && (ic == NULL ||
		    pool[i].since_ms > ic->since_ms))
			ic = &pool[i];
	if (ic == NULL)
		return -1;
	ev_del(ic->fd);
	ev_timer_cancel(&ic->timer);
	r->fd = ic->fd;
	r->ssl = ic->ssl;
	ic->ssl = NULL;
	ic->fd = -1;
	ic->used = 0;
	return 0;
}

void
uppool_flush(void)
{
	for (size_t i = 0; i < POOL_MAX; i++)
		if (pool[i].used)
			idle_close(&pool[i]);
}
