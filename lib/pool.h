/* pool.h - a few threads for work that would block a worker's event loop. */
#ifndef RM_POOL_H
#define RM_POOL_H

#include <stddef.h>

/*
 * run(arg) on one of the pool's threads, then done(arg) in the loop (in
 * the order the jobs ended).  The queue is bounded: pool_submit says -1
 * when it is full, and the caller answers "busy" at once instead of
 * growing memory and latency for everyone.  The threads start at the
 * first submit, after the sandbox is on (so its filter is known to allow
 * what they do).  run touches only what arg gives it; done frees arg.
 */
struct pool;
typedef void (*pool_fn)(void *);

struct pool *pool_new(const char *name, int threads, size_t queue,
	    size_t stack);
int	 pool_submit(struct pool *, pool_fn run, pool_fn done, void *arg);
size_t	 pool_queued(const struct pool *);	/* submitted, not done */

#endif
