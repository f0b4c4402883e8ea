/*
 * metrics.h - httpd's figures (plain counters of this process, rendered
 * only when master gathers them for a scrape) and the metrics listener's
 * three pages: /metrics (the whole page, from master), /healthz, /readyz.
 */
#ifndef RM_HTTPD_METRICS_H
#define RM_HTTPD_METRICS_H

struct buf;
struct conn;

/* What the route label says: the API's kinds, never a path, so that the
 * number of series stays bounded whatever clients ask for. */
enum metrics_route {
	MR_BASE, MR_MANIFEST, MR_BLOB, MR_BLOB_UPLOAD, MR_TAGS, MR_CATALOG,
	MR_REFERRERS, MR_TOKEN, MR_OTHER, MR_MAX
};

/* A metrics listener arrived: count from now on (with metrics.listen
 * empty nobody can look, and httpd does not count at all). */
void	 metrics_counting(void);
/* A request head was parsed (conn.c); the response is out or the
 * connection closed (conn.c); the API recognised its route (api.c). */
void	 metrics_request_begin(struct conn *);
void	 metrics_request_end(struct conn *);
void	 metrics_route_is(struct conn *, int api_route);
void	 metrics_token_route(struct conn *);
/* A request on the metrics listener (api.c hands it over). */
void	 metrics_serve(struct conn *);
/* worker_ops.metrics */
void	 metrics_render(struct buf *);

#endif
