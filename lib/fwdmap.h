/*
 * fwdmap.h - names and addresses an edge rewrites when it forwards a push
 * to its upstream (cache.push = "forward"): the Location an upstream
 * answers with, mapped back to the edge (the client's next request must
 * come back here, under the name it used), and a mount's ?from= mapped to
 * the upstream's name.  Both read what a remote peer or a client sent, so
 * both refuse rather than guess.
 */
#ifndef RM_FWDMAP_H
#define RM_FWDMAP_H

#include <stddef.h>

#include "conf_cache.h"

#define FWD_LOCATION_MAX	4096	/* a Location we rewrite */

/*
 * The upstream u's Location loc ("/v2/NAME/..." or "http(s)://HOST/v2/
 * NAME/..." of u's own scheme, host and port) as the edge's path "/v2/" +
 * u->prefix + NAME + the rest (query kept) into out, and PREFIX + NAME into
 * name.  0 rewritten; 1 when loc is an absolute URL of another host (it is
 * passed on as it is: the client goes there); -1 when loc is malformed, too
 * long, not below /v2/, or its name is not a valid repository name.
 */
int	 fwd_location_map(const char *loc, const struct cache_upstream *u,
	    char *out, size_t outlen, char *name, size_t namelen);

/*
 * The query of a forwarded request with its "from" parameter (a mount's
 * source) replaced by from_remote, escaped; with from_remote NULL (the
 * source is not the same upstream's) "mount" and "from" are dropped, and
 * the upstream starts a plain upload.  Other parameters pass as they are.
 * -1 when out is too small.
 */
int	 fwd_query_map(const char *query, const char *from_remote, char *out,
	    size_t outlen);

#endif
