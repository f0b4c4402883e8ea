/*
 * forward.h - pushes on an edge forwarded to its upstream (cache.push =
 * "forward"): the client's request, credentials and body go to the
 * upstream as they came, its answer comes back with Location mapped to
 * the edge's names, so the client's next request returns here.
 */
#ifndef RM_HTTPD_FORWARD_H
#define RM_HTTPD_FORWARD_H

#include <stddef.h>

struct buf;
struct conn;

int	 forward_on(void);		/* cache.push = "forward" */
/* GET or HEAD /v2/ on a forwarding edge: 1 if it goes to the upstream
 * (the catch-all, else the only one), whose challenge the client then
 * follows; 0 when it is answered here. */
int	 forward_base(struct conn *);
/* Forward c's request for a name of upstream upi, asked there as
 * remote and cached as store; the answer comes in its time. */
void	 forward_request(struct conn *, size_t upi, const char *remote,
	    const char *store);
void	 forward_conn_closed(struct conn *);
void	 forward_metrics(struct buf *);

#endif
