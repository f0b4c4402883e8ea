/*
 * metrics_cost.c - what httpd's counting costs one request, measured on the
 * code itself (httpd/metrics.c linked in): the begin, route and end calls
 * of a manifest GET in a loop, with counting off (no metrics listener: the
 * calls return at once) and on.  wrk on a shared machine cannot resolve a
 * difference this small; this can.  Not a test; see bench/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "conn.h"
#include "metrics.h"
#include "worker.h"

/* What metrics.c calls on the metrics listener only: never here. */
void conn_respond(struct conn *c, int s, const char *t, const void *b,
    size_t l) { abort(); }
void conn_respond_fd(struct conn *c, int s, const char *t, int fd,
    uint64_t o, uint64_t l) { abort(); }
void conn_header(struct conn *c, const char *n, const char *f, ...)
{ abort(); }
void conn_wait(struct conn *c, struct link *l, uint32_t id) { abort(); }
void conn_wait_done(struct conn *c) { abort(); }
struct link *worker_master(void) { abort(); }

static double
loop_ns(struct conn *c, long n)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		metrics_request_begin(c);
		metrics_route_is(c, R_MANIFEST);
		c->responded = 1;
		metrics_request_end(c);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	static struct conn c;
	double off, on;

	c.req.method = HTTP_M_GET;
	c.status = 200;
	off = loop_ns(&c, n);
	metrics_counting();
	on = loop_ns(&c, n);
	printf("counting a request: %.1f ns with it on, %.1f ns off "
	    "(%ld requests each)\n", on, off, n);
	return 0;
}
