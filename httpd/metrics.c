/*
 * metrics.c - what httpd counts and the metrics listener.
 *
 * Counting is a few increments of plain integers of this process per
 * request (httpd is one thread, so no locks, no atomics); text is made
 * only when master asks for it on a scrape (worker_ops.metrics).  Requests
 * on the metrics listener itself are not counted: the figures describe the
 * registry's clients, not its scrapers.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "buf.h"
#include "conn.h"
#include "metrics.h"
#include "mpage.h"
#include "mtext.h"
#include "worker.h"

#define NMETHODS	(HTTP_M_OTHER + 1)
#define NCLASSES	5		/* 1xx ... 5xx */

static const double duration_le[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10
};
static const struct mhist_bounds duration_bounds = {
	duration_le, sizeof(duration_le) / sizeof(duration_le[0])
};
static const char *const route_names[MR_MAX] = {
	[MR_BASE] = "base", [MR_MANIFEST] = "manifest", [MR_BLOB] = "blob",
	[MR_BLOB_UPLOAD] = "blob_upload", [MR_TAGS] = "tags",
	[MR_CATALOG] = "catalog", [MR_REFERRERS] = "referrers",
	[MR_TOKEN] = "token", [MR_OTHER] = "other",
};
static const char *const class_names[NCLASSES] = {
	"1xx", "2xx", "3xx", "4xx", "5xx"
};

/* Requests answered: their count is the histogram's. */
static struct mhist durations[NMETHODS][MR_MAX][NCLASSES];
static uint64_t in_flight, bytes_pulled, bytes_pushed;
static int counting;		/* a metrics listener came: someone looks */

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
metrics_counting(void)
{
	counting = 1;
}

void
metrics_request_begin(struct conn *c)
{
	if (!counting || c->metrics_port)
		return;
	c->m_active = 1;
	c->m_route = MR_OTHER;
	c->m_file = 0;
	c->m_start_ns = mono_ns();
	in_flight++;
}

void
metrics_route_is(struct conn *c, int api_route)
{
	static const int of[] = {
		[R_BASE] = MR_BASE, [R_CATALOG] = MR_CATALOG,
		[R_TAGS] = MR_TAGS, [R_MANIFEST] = MR_MANIFEST,
		[R_BLOB] = MR_BLOB, [R_UPLOAD_START] = MR_BLOB_UPLOAD,
		[R_UPLOAD] = MR_BLOB_UPLOAD, [R_REFERRERS] = MR_REFERRERS,
	};

	if (api_route >= 0 && (size_t)api_route < sizeof(of) / sizeof(of[0]))
		c->m_route = of[api_route];
}

void
metrics_token_route(struct conn *c)
{
	c->m_route = MR_TOKEN;
}

/* The response went out (or the client left): count what was answered. */
void
metrics_request_end(struct conn *c)
{
	int cls;
	unsigned method;

	if (!c->m_active)
		return;
	c->m_active = 0;
	in_flight--;
	cls = c->status / 100 - 1;
	method = (unsigned)c->req.method;
	if (!c->responded || cls < 0 || cls >= NCLASSES || method >= NMETHODS)
		return;
	mhist_observe(&durations[method][c->m_route][cls], &duration_bounds,
	    (double)(mono_ns() - c->m_start_ns) / 1e9);
	if (c->m_route == MR_BLOB && c->req.method == HTTP_M_GET)
		bytes_pulled += c->m_file - c->file_left;
	else if (c->m_route == MR_BLOB_UPLOAD)
		bytes_pushed += c->body_total;
}

static uint64_t
hist_count(const struct mhist *h)
{
	uint64_t n = 0;

	for (size_t i = 0; i <= duration_bounds.n; i++)
		n += h->bucket[i];
	return n;
}

static const char *
method_label(unsigned m)
{
	const char *name = http_method_name((enum http_method)m);

	return name ? name : "OTHER";
}

/* Both families by method, route and status class: only series seen. */
static void
render_requests(struct buf *b, int histogram)
{
	struct mlabel l[3] = { { "method", NULL }, { "route", NULL },
	    { "code", NULL } };

	for (unsigned m = 0; m < NMETHODS; m++)
		for (int r = 0; r < MR_MAX; r++)
			for (int k = 0; k < NCLASSES; k++) {
				const struct mhist *h = &durations[m][r][k];
				uint64_t n = hist_count(h);
				if (n == 0)
					continue;
				l[0].value = method_label(m);
				l[1].value = route_names[r];
				l[2].value = class_names[k];
				if (histogram)
					mtext_histogram(b,
					    "registry_http_request_duration_seconds",
					    l, 3, &duration_bounds, h);
				else
					mtext_count(b,
					    "registry_http_requests_total", l, 3,
					    n);
			}
}

void
metrics_render(struct buf *b)
{
	mtext_family(b, "registry_http_requests_total", MT_COUNTER,
	    "HTTP requests answered, by method, route and status class");
	render_requests(b, 0);
	mtext_family(b, "registry_http_request_duration_seconds",
	    MT_HISTOGRAM, "time from a request's head to its response's "
	    "last byte, by method, route and status class");
	render_requests(b, 1);
	mtext_family(b, "registry_http_in_flight_requests", MT_GAUGE,
	    "requests being answered now");
	mtext_sample(b, "registry_http_in_flight_requests", NULL, 0,
	    (double)in_flight);
	mtext_single(b, "registry_blob_bytes_pulled_total", MT_COUNTER,
	    "blob bytes sent to clients (GET of a blob)", bytes_pulled);
	mtext_single(b, "registry_blob_bytes_pushed_total", MT_COUNTER,
	    "blob bytes received from clients (upload bodies)", bytes_pushed);
}

static void
serve_answer(struct conn *c, const struct mpage_answer *a)
{
	if (a->fd != -1)
		conn_respond_fd(c, a->status, a->ctype, a->fd, 0, a->size);
	else
		conn_respond(c, a->status, a->ctype, a->text, a->size);
}

/* master's answer to /metrics or /readyz. */
static void
on_master_page(struct conn *c, enum mpage page, struct msg *m)
{
	struct mpage_answer a;

	conn_wait_done(c);
	mpage_answer(page, m, &a);
	serve_answer(c, &a);
}

static void
on_scrape_page(struct link *l, struct msg *m, void *arg)
{
	on_master_page(arg, MPAGE_METRICS, m);
}

static void
on_ready(struct link *l, struct msg *m, void *arg)
{
	on_master_page(arg, MPAGE_READYZ, m);
}

void
metrics_serve(struct conn *c)
{
	enum mpage page = mpage_route(c->req.path);
	struct mpage_answer a;

	if (c->req.method != HTTP_M_GET && c->req.method != HTTP_M_HEAD) {
		conn_header(c, "Allow", "GET, HEAD");
		conn_respond(c, 405, MPAGE_TEXT_CTYPE, "method not allowed\n",
		    strlen("method not allowed\n"));
	} else if (page == MPAGE_METRICS || page == MPAGE_READYZ)
		conn_wait(c, worker_master(), mpage_ask(page, page ==
		    MPAGE_METRICS ? on_scrape_page : on_ready, c));
	else {
		mpage_answer(page, NULL, &a);
		serve_answer(c, &a);
	}
}
