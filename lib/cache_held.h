/*
 * cache_held.h - which repositories of the store hold a pull-through
 * cache's copies (their names start with an upstream's prefix; every
 * name, with a catch-all upstream), for the workers that treat them
 * apart from the host's own: storaged records when their manifests are
 * pulled, gcd evicts them by cache.max_size.  Those workers get
 * cache.upstreams without the credentials (cache_upstreams_redact).
 */
#ifndef RM_CACHE_HELD_H
#define RM_CACHE_HELD_H

#include <stddef.h>

struct cache_upstream;

/* 1 if repository name holds cached copies. */
int	 cache_held(const struct cache_upstream *, size_t n, const char *name);
/* The canonical text of cache.upstreams with every username and password
 * emptied (malloc'd): what a worker that only routes names needs. */
char	*cache_upstreams_redact(const char *text);

#endif
