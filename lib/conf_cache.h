/*
 * conf_cache.h - the pull-through cache's configuration: the upstream
 * registries (cache.upstreams), which repository names each serves, and
 * the push policy.  Master checks the canonical text when it reads the
 * file; httpd parses the same text with the same code, so they agree.
 *
 * Routing a repository name N (the name a client asked for):
 * - the upstream with the longest non-empty prefix P that N starts with
 *   serves it, fetched as N without P; with P = "docker.io/" a one-word
 *   rest R is fetched as "library/R" (Docker Hub's rule for official
 *   images).
 * - else the catch-all upstream (prefix = "") serves it, fetched as N:
 *   such a host owns no names of its own (an edge).
 * - else, when an upstream has mirror = true, N is served from the store
 *   if the host holds it, and otherwise fetched from that upstream as N
 *   docker's registry-mirrors sends "library/nginx" with no prefix.
 * - else N is the host's own: never fetched.
 * The copy is stored in repository P + (the name fetched), so
 * "docker.io/nginx", "docker.io/library/nginx" and a mirror's
 * "library/nginx" share "docker.io/library/nginx".
 */
#ifndef RM_CONF_CACHE_H
#define RM_CONF_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_UPSTREAMS_MAX	32
#define CACHE_PREFIX_MAX	128
#define CACHE_HOST_MAX		256
#define CACHE_CRED_MAX		256
#define CACHE_NAME_MAX		256	/* a repository name, as storaged's */

enum cache_push { CACHE_PUSH_REFUSE, CACHE_PUSH_FORWARD };

struct cache_upstream {
	char		 prefix[CACHE_PREFIX_MAX];	/* "" or ends in '/' */
	char		 url[CACHE_HOST_MAX + 16];	/* as configured */
	int		 tls;				/* https:// */
	char		 host[CACHE_HOST_MAX];		/* no brackets */
	char		 port[8];
	char		 username[CACHE_CRED_MAX];
	char		 password[CACHE_CRED_MAX];
	char		 ca[1024];			/* "" : system bundle */
	uint64_t	 ttl;				/* seconds */
	int		 mirror;
};

/* The canonical text of cache.upstreams into a new array (n may be 0). */
int	 cache_upstreams_parse(const char *, struct cache_upstream **out,
	    size_t *n, char *err, size_t errlen);
int	 cache_upstreams_check(const char *, char *err, size_t errlen);
/* "http://host[:port]" or "https://host[:port]" (a trailing '/' allowed,
 * no other path) into u's tls, host and port; -1 if it is not that. */
int	 cache_url_parse(const char *, struct cache_upstream *u);
struct conf;
/* What the cache's keys say together; -1 with err. */
int	 cache_cross_check(const struct conf *, char *err, size_t errlen);
/* "refuse" or "forward": the mode, or -1. */
int	 cache_push_parse(const char *);

/*
 * Which upstream serves repository name, and as what name: the index
 * into ups (or -1: the host's own), the name to ask the upstream for in
 * remote[remlen] and the repository the copy is stored in, store[stlen].
 * For a mirror (see above) *mirror_only is set: the host's own
 * repository of that name goes first.  -1 also when a name would not fit.
 */
int	 cache_route(const struct cache_upstream *ups, size_t n,
	    const char *name, char *remote, size_t remlen, char *store,
	    size_t stlen, int *mirror_only);

#endif
