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
/* Drop it; no callback comes. */
void	 upstream_cancel(struct upreq *);

#endif
