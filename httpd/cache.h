/*
 * cache.h - the pull-through cache in httpd (cache.upstreams): requests
 * for names an upstream serves are answered from the store when it holds
 * them, else fetched from the upstream, streamed to the client and stored
 * through storaged like a push.  Why httpd dials and not a worker of its
 * own: the bytes must reach the client that waits at once, and httpd
 * holds that client's socket and already has the path into the store (an
 * upload to storaged, which verifies the digest); another process would
 * add a hop and a copy on the hot path, and httpd already is the process
 * that parses hostile input (chrooted, no store descriptor, no key).
 */
#ifndef RM_HTTPD_CACHE_H
#define RM_HTTPD_CACHE_H

struct buf;
struct conn;

void	 cache_configure(void);
/* A routed, authorised request: 1 if the cache answers it (or refused
 * it), 0 when it is the host's own (c->api->repo may now name the store
 * repository of a cached name, for listings). */
int	 cache_request(struct conn *);
void	 cache_conn_closed(struct conn *);
/* A push through this edge (forward.c) set or deleted tag of the stored
 * repository store: the next pull asks the upstream, not the ttl. */
void	 cache_tag_pushed(const char *store, const char *tag);
void	 cache_metrics(struct buf *);

#endif
