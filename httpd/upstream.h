/*
 * upstream.h - httpd's client of upstream registries (the pull-through
 * cache, cache.upstreams): HTTP/1.1, idle connections kept for the next
 * exchange with the same host (a few, for a while), TLS
 * verified against the upstream's CA store, names looked up off the loop
 * (lib/resolve), anonymous, Basic, or the Bearer flow its WWW-Authenticate
 * challenge asks for (tokens kept until they expire), redirects followed.
 * Everything the upstream sends is bounded: the head by lib/http's
 * limits, bodies by the caller's maximum, silences by a stall timeout.
 */
#ifndef RM_HTTPD_UPSTREAM_H
#define RM_HTTPD_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "conf_cache.h"
#include "http.h"

/* the longest path (with its query) a request to an upstream may have */
#define UPSTREAM_PATH_MAX	4096

struct buf;
struct msg;
struct upreq;

struct up_ops {
	/* The final response head: 0 reads its body, -1 drops the exchange
	 * (done is not called then, and the upreq is gone). */
	int	(*head)(struct upreq *, const struct http_request *, void *);
	/* Body bytes; 1 pauses reading until upstream_resume, -1 drops the
	 * exchange (as head's -1).  NULL and n: n bytes were read straight
	 * onto the end of sink's buffer. */
	int	(*data)(struct upreq *, const char *, size_t, void *);
	/* The body is complete (why NULL) or the exchange failed (why says
	 * it, for a log line); the upreq is freed when done returns. */
	void	(*done)(struct upreq *, const char *why, void *);
	/* Or NULL: the buffer a body of known length is read into where it
	 * can be, saving a copy of every byte through the exchange's own. */
	struct buf *(*sink)(struct upreq *, void *);
};

/* A forwarded request's body: bytes appended to out; 1 when they are all
 * there, 0 for more later (none appended: wait for upstream_send_more),
 * -1 drops the exchange (as head's -1). */
typedef int (*up_body_fn)(struct upreq *, struct buf *out, void *);

/* Parse cache.upstreams (at every configuration). */
void	 upstream_configure(void);
size_t	 upstream_count(void);
const struct cache_upstream *upstream_at(size_t i);
/* M_CACHE_CA from master: upstream A_KEYID's CA bundle, a descriptor. */
void	 upstream_ca(struct msg *);

/* Ask upstream upi: method GET or HEAD, path "/v2/...", Accept (or NULL),
 * the token scope ("repository:NAME:pull"), bodies up to body_max. */
struct upreq *upstream_start(size_t upi, const char *method,
	    const char *path, const char *accept, const char *scope,
	    uint64_t body_max, const struct up_ops *, void *arg);
void	 upstream_resume(struct upreq *);
/*
 * Forward a client's request (cache.push = "forward"): method, path with
 * its query, the client's header lines (headers[0..hlen), "Name:
 * value\r\n" each, checked by the caller) and its body.  Nothing of ours
 * is added: no credentials, no token fetched, no redirect followed; every
 * final response head, a 401 or a 3xx too, goes to ops->head as it came.
 * A write that fails in the body ends the sending, not the exchange: the
 * upstream may have answered early (a 401) and closed.
 */
struct upreq *upstream_forward(size_t upi, const char *method,
	    const char *path, const char *headers, size_t hlen,
	    up_body_fn body, uint64_t body_max, const struct up_ops *,
	    void *arg);
/* The body has more (it answered 0 with none). */
void	 upstream_send_more(struct upreq *);
/* Drop it; no callback comes. */
void	 upstream_cancel(struct upreq *);

#endif
