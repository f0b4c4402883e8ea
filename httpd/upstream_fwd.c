/*
 * upstream_fwd.c - a client's request forwarded to an upstream as it came
 * (cache.push = "forward", httpd/forward.c): the client's own headers and
 * body, and the upstream's answer handed back untouched by the
 * authentication and redirect handling of the cache's own requests.
 */
#include <string.h>

#include "log.h"
#include "upstream_int.h"
#include "util.h"

struct upreq *
upstream_forward(size_t upi, const char *method, const char *path,
    const char *headers, size_t hlen, up_body_fn body, uint64_t body_max,
    const struct up_ops *ops, void *arg)
{
	const struct cache_upstream *u = upstream_at(upi);
	struct upreq *r = up_new(upi, method, ops, arg);

	r->fwd = 1;
	r->body = body;
	r->t.tls = u->tls;
	str_copy(r->t.host, u->host, sizeof(r->t.host));
	str_copy(r->t.port, u->port, sizeof(r->t.port));
	if (str_copy(r->t.path, path, sizeof(r->t.path)) == -1)
		fatalx("forwarded path too long");	/* the caller checks */
	if (hlen > 0)
		buf_append(&r->fwd_hdrs, headers, hlen);
	r->body_max = body_max;
	/* a body already sent cannot be sent again: never a pooled
	 * connection that may turn out dead, never a redial */
	r->fresh_only = 1;
	up_dial(r);
	return r;
}
