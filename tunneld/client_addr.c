/*
 * client_addr.c - the addresses of the proxies' local services, looked up
 * off the loop (lib/resolve) and kept: a visitor's stream and a health
 * probe dial the address already known, so neither waits for a lookup,
 * and a name that stops resolving for a while keeps its last address.
 * Each is looked up again every LOCAL_TTL_MS (a service that moves is
 * followed), and every LOCAL_RETRY_MS while none is known yet.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "log.h"
#include "resolve.h"
#include "util.h"

#define LOCAL_TTL_MS	30000
#define LOCAL_RETRY_MS	2000

struct laddr {
	const struct tunnel_proxy *px;
	char		 host[256], port[16];
	struct sockaddr_storage ss;
	socklen_t	 len;		/* 0: none known yet */
	int		 failing;	/* the last lookup failed: said once */
	struct resolve	*lookup;
	struct ev_timer	 timer;
};

static struct laddr addrs[TUNNEL_PROXIES_MAX];
static size_t naddrs;

static void
on_answer(const struct addrinfo *res, int err, void *arg)
{
	struct laddr *a = arg;

	a->lookup = NULL;
	if (err != 0) {
		if (!a->failing)
			log_warnx("proxy %s: local %s: %s%s", a->px->name,
			    a->px->local, gai_strerror(err), a->len ?
			    " (its last address kept)" : "");
		a->failing = 1;
		ev_timer_arm(&a->timer, a->len ? LOCAL_TTL_MS : LOCAL_RETRY_MS);
		return;
	}
	if (a->failing)
		log_info("proxy %s: local %s resolves again", a->px->name,
		    a->px->local);
	a->failing = 0;
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	ev_timer_arm(&a->timer, LOCAL_TTL_MS);
}

static void
on_timer(void *arg)
{
	struct laddr *a = arg;

	a->lookup = resolve_start(a->host, a->port, SOCK_STREAM, on_answer, a);
}

void
local_addrs_start(const struct tunnel_proxy *px, size_t n)
{
	naddrs = 0;
	for (size_t i = 0; i < n && i < nitems(addrs); i++) {
		struct laddr *a = &addrs[naddrs++];
		memset(a, 0, sizeof(*a));
		a->px = &px[i];
		ev_timer_init(&a->timer, on_timer, a);
		if (conf_split_hostport(px[i].local, a->host, sizeof(a->host),
		    a->port, sizeof(a->port)) == -1) {
			log_warnx("proxy %s: local %s is not host:port",
			    px[i].name, px[i].local);
			continue;	/* master checked it: not reached */
		}
		on_timer(a);
	}
}

void
local_addrs_stop(void)
{
	for (size_t i = 0; i < naddrs; i++) {
		resolve_cancel(addrs[i].lookup);
		ev_timer_cancel(&addrs[i].timer);
	}
	naddrs = 0;
}

int
local_dial(const struct tunnel_proxy *px)
{
	const struct laddr *a = NULL;
	int fd, on = 1;

	for (size_t i = 0; i < naddrs && a == NULL; i++)
		if (addrs[i].px == px)
			a = &addrs[i];
	if (a == NULL || a->len == 0) {
		errno = EHOSTUNREACH;	/* no address known (yet) */
		return -1;
	}
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}
