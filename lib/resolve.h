/* resolve.h - name lookups that never block the event loop. */
#ifndef RM_RESOLVE_H
#define RM_RESOLVE_H

#include <netdb.h>

/*
 * Look host:port up (getaddrinfo, AF_UNSPEC, the given socktype, a
 * numeric port): a numeric host is answered without a thread, a name on
 * a small pool of lookup threads.  done(res, err, arg) always comes
 * later, from the loop, never from inside resolve_start: err is 0 and
 * res the addresses (freed by resolve.c when done returns: copy what is
 * kept), or err a getaddrinfo code (EAI_AGAIN when the lookup queue is
 * full) and res NULL.  resolve_cancel, for a requester that goes away
 * first: done is never called and arg is not touched again; a lookup
 * already running on a thread is let finish and its answer dropped.
 * The handle is gone once done has been called or after the cancel.
 */
struct resolve;
typedef void (*resolve_fn)(const struct addrinfo *res, int err, void *arg);

#define RESOLVE_HOST_MAX	253	/* a DNS name's longest text */
#define RESOLVE_QUEUE		64	/* lookups waiting or running */

struct resolve *resolve_start(const char *host, const char *port,
	    int socktype, resolve_fn done, void *arg);
void	 resolve_cancel(struct resolve *);

#endif
