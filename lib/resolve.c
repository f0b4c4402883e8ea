/*
 * resolve.c - getaddrinfo off the event loop.  A name can take seconds
 * (a DNS server that does not answer: the resolver's timeouts and
 * retries), and a worker's loop carries every connection it has, so
 * names go to a small pool of threads.  A numeric host cannot block and
 * is answered at once, but still through the loop (a zero timer), so
 * that done never runs inside the caller's resolve_start.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "pool.h"
#include "resolve.h"
#include "util.h"

#define RESOLVE_THREADS	2
#define RESOLVE_STACK	(256 * 1024)	/* glibc's NSS code uses alloca */
#define RESOLVE_PORT_MAX 5		/* "65535" */

struct resolve {
	char		 host[RESOLVE_HOST_MAX + 1];
	char		 port[RESOLVE_PORT_MAX + 1];
	int		 socktype;
	resolve_fn	 done;
	void		*arg;
	struct addrinfo	*res;		/* the thread's answer */
	int		 err;
	int		 on_pool;	/* the pool owns the handle until done */
	int		 cancelled;	/* loop only, like on_pool */
	struct ev_timer	 timer;		/* a numeric or refused answer */
};

static struct pool *lookups;

static void
resolve_free(struct resolve *r)
{
	if (r->res)
		freeaddrinfo(r->res);
	free(r);
}

static void
deliver(struct resolve *r)
{
	if (!r->cancelled)
		r->done(r->err ? NULL : r->res, r->err, r->arg);
	resolve_free(r);
}

static void
on_timer(void *arg)
{
	deliver(arg);
}

/* On a lookup thread: touches nothing but r's name and answer. */
static void
lookup_run(void *arg)
{
	struct resolve *r = arg;
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = r->socktype;
	hints.ai_flags = AI_NUMERICSERV;
	r->err = getaddrinfo(r->host, r->port, &hints, &r->res);
	if (r->err == EAI_SYSTEM && errno == 0)
		r->err = EAI_FAIL;
}

static void
lookup_done(void *arg)
{
	deliver(arg);
}

/* 0 and the addresses for a numeric host, EAI_NONAME for a name. */
static int
numeric(struct resolve *r)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = r->socktype;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	return getaddrinfo(r->host, r->port, &hints, &r->res);
}

struct resolve *
resolve_start(const char *host, const char *port, int socktype,
    resolve_fn done, void *arg)
{
	struct resolve *r = xcalloc(1, sizeof(*r));

	r->socktype = socktype;
	r->done = done;
	r->arg = arg;
	ev_timer_init(&r->timer, on_timer, r);
	if (host == NULL || *host == '\0' || port == NULL ||
	    str_copy(r->host, host, sizeof(r->host)) == -1 ||
	    str_copy(r->port, port, sizeof(r->port)) == -1)
		r->err = EAI_NONAME;	/* no lookup finds it */
	else if ((r->err = numeric(r)) == EAI_NONAME) {
		if (lookups == NULL)
			lookups = pool_new("resolve", RESOLVE_THREADS,
			    RESOLVE_QUEUE, RESOLVE_STACK);
		r->err = 0;
		if (pool_submit(lookups, lookup_run, lookup_done, r) == 0) {
			r->on_pool = 1;
			return r;
		}
		r->err = EAI_AGAIN;	/* the queue is full: try later */
	}
	ev_timer_arm(&r->timer, 0);
	return r;
}

void
resolve_cancel(struct resolve *r)
{
	if (r == NULL)
		return;
	if (r->on_pool) {
		r->cancelled = 1;	/* lookup_done frees it */
		return;
	}
	ev_timer_cancel(&r->timer);
	resolve_free(r);
}
