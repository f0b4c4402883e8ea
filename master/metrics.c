/*
 * metrics.c - the scrape and readiness answers master gives the worker
 * that serves the metrics listener: httpd, or tunneld on a host without
 * httpd (metrics_server; that worker parses HTTP, master only knows the
 * workers).
 *
 * A scrape asks every running worker for its part (M_METRICS_GET) and
 * waits at most SCRAPE_WAIT_MS: a worker that does not answer in time, or
 * whose part fails mtext_check against the names that worker may use, is
 * left out with a log line and regmaster_worker_metrics_ok 0, so one
 * broken or hung worker can neither break the page nor hold it.  The page
 * goes back in a memfd: it is not bounded by one message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "master.h"
#include "mtext.h"
#include "util.h"

#define SCRAPE_WAIT_MS	1000
#define PROBE_WAIT_MS	1000
#define ASKS_MAX	8	/* scrapes and readiness checks at once */
#define PART_MAX	(16u << 20)	/* the largest part a worker may send */

/* The names each worker's part may hold (master's own: regmaster_worker_). */
static const char *const httpd_names[] = { "registry_http_",
    "registry_cache_",
    "registry_blob_", NULL };
static const char *const storaged_names[] = { "registry_store_", NULL };
static const char *const authd_names[] = { "registry_auth_", NULL };
static const char *const tunneld_names[] = { "regmaster_tunnel_", NULL };
static const char *const gcd_names[] = { "registry_gc_",
    "registry_storage_", NULL };
static const char *const *const worker_names[PROC_MAX] = {
	[PROC_HTTPD] = httpd_names, [PROC_STORAGED] = storaged_names,
	[PROC_AUTHD] = authd_names, [PROC_TUNNELD] = tunneld_names,
	[PROC_GCD] = gcd_names,
};

struct ask;

struct part {
	struct ask	*ask;
	int		 id;		/* PROC_* */
	int		 pending;
	uint32_t	 req;
	int		 ok;
	struct buf	 text;		/* the pieces so far */
};

/* One request of the metrics server's in progress: the answer goes back
 * on its link if that is still the same process's. */
struct ask {
	struct link	*from;
	int		 from_worker;	/* PROC_* */
	pid_t		 from_pid;
	uint32_t	 from_id;
	int		 pending;	/* parts (scrape) or the probe (ready) */
	struct part	 part[PROC_MAX];
	struct ev_timer	 timer;
	struct ask	*waiter;	/* scrapes the same page answers */
};

static int nasks;
/* The scrape being gathered: those that come meanwhile wait for its page
 * (and a worker never sees two piece sequences at once). */
static struct ask *gathering;

static struct ask *
ask_new(struct link *l, struct msg *m, void (*expire)(void *))
{
	struct ask *a;

	if (nasks >= ASKS_MAX) {
		link_reply_err(l, m->id, 503, "too many scrapes and readiness "
		    "checks at once");
		return NULL;
	}
	nasks++;
	a = xcalloc(1, sizeof(*a));
	a->from = l;
	a->from_worker = link_peer(l);
	a->from_pid = workers[a->from_worker].pid;
	a->from_id = m->id;
	ev_timer_init(&a->timer, expire, a);
	for (int i = 0; i < PROC_MAX; i++) {
		a->part[i].ask = a;
		a->part[i].id = i;
		buf_init(&a->part[i].text);
	}
	return a;
}

static void
ask_free(struct ask *a)
{
	ev_timer_cancel(&a->timer);
	for (int i = 0; i < PROC_MAX; i++)
		buf_free(&a->part[i].text);
	free(a);
	nasks--;
}

/* The link the server asked on, if it is still that process's; else
 * NULL. */
static struct link *
ask_link(const struct ask *a)
{
	const struct worker *h = &workers[a->from_worker];

	return h->link == a->from && h->pid == a->from_pid ? a->from : NULL;
}

/* A configured worker is up while it runs and answered its last ping. */
static int
worker_up(const struct worker *w)
{
	return w->state == WS_RUNNING && w->link != NULL && w->answered &&
	    w->ping_out <= 1;
}

/* master's own figures, one series per configured worker. */
static void
own_figures(struct buf *b, const struct ask *a)
{
	struct mlabel l = { "worker", NULL };
	int i;

	mtext_family(b, "regmaster_worker_up", MT_GAUGE, "1 while the worker "
	    "runs and answered master's last health check");
	for (i = 1; i < PROC_MAX; i++)
		if (workers[i].enabled) {
			l.value = proc_name(i);
			mtext_sample(b, "regmaster_worker_up", &l, 1,
			    worker_up(&workers[i]));
		}
	mtext_family(b, "regmaster_worker_restarts_total", MT_COUNTER,
	    "times master restarted the worker since it started");
	for (i = 1; i < PROC_MAX; i++)
		if (workers[i].enabled) {
			l.value = proc_name(i);
			mtext_count(b, "regmaster_worker_restarts_total", &l, 1,
			    workers[i].restarts);
		}
	mtext_family(b, "regmaster_worker_metrics_ok", MT_GAUGE, "1 if the "
	    "worker's figures are on this page (it answered in time and its "
	    "part passed the check)");
	for (i = 1; i < PROC_MAX; i++)
		if (workers[i].enabled) {
			l.value = proc_name(i);
			mtext_sample(b, "regmaster_worker_metrics_ok", &l, 1,
			    a->part[i].ok);
		}
}

/* The page to one scrape (fd: the page's memfd, or -1). */
static void
scrape_answer(struct ask *a, int fd, size_t len)
{
	struct link *l = ask_link(a);
	struct msgb mb;
	int dfd;

	if (l == NULL)
		return;		/* it went away meanwhile: nobody to answer */
	if (fd == -1 || (dfd = dup(fd)) == -1) {
		link_reply_err(l, a->from_id, 503, "no memory for the page");
		return;
	}
	msgb_init(&mb, M_SCRAPE_PAGE);
	msgb_fd(&mb, A_FD, dfd);
	msgb_u64(&mb, A_SIZE, len);
	link_reply(l, a->from_id, &mb);
}

/* Every part is in (or the wait is over): the page, as a memfd, to this
 * scrape and every one that waited for it. */
static void
scrape_finish(struct ask *a)
{
	struct buf page;
	struct ask *w;
	int fd;

	buf_init(&page);
	for (int i = 1; i < PROC_MAX; i++)
		if (a->part[i].ok)
			buf_append(&page, a->part[i].text.data,
			    a->part[i].text.len);
	own_figures(&page, a);
	if ((fd = memfd_with("metrics", page.data, page.len)) == -1)
		log_warn("memfd for the metrics page");
	gathering = NULL;
	while (a != NULL) {
		w = a->waiter;
		scrape_answer(a, fd, page.len);
		ask_free(a);
		a = w;
	}
	if (fd != -1)
		close(fd);
	buf_free(&page);
}

static void on_part(struct link *, struct msg *, void *);

/* One piece of a part: 1 if more is due (asked for), 0 if the part is
 * whole, -1 if it is broken (said why). */
static int
part_piece(struct link *l, struct part *p, struct msg *m)
{
	const struct msg_val *v = &m->v[A_BODY];
	uint64_t total = msg_u64(m, A_SIZE, v->len);
	struct msgb mb;

	if (total > PART_MAX || v->len > total - p->text.len ||
	    (v->len == 0 && p->text.len < total)) {
		log_warnx("%s's metrics are dropped: %llu bytes announced, "
		    "pieces do not add up or exceed %u", proc_name(p->id),
		    (unsigned long long)total, PART_MAX);
		return -1;
	}
	buf_append(&p->text, v->p, v->len);
	if (p->text.len == total)
		return 0;
	msgb_init(&mb, M_METRICS_GET);
	msgb_u64(&mb, A_OFFSET, p->text.len);
	p->req = link_request(l, &mb, on_part, p);
	return 1;
}

/* A worker's part: kept only if it is whole, well formed and its own. */
static void
on_part(struct link *l, struct msg *m, void *arg)
{
	struct part *p = arg;
	char err[256];
	int r;

	if (m == NULL)
		log_warnx("%s went away during a scrape", proc_name(p->id));
	else if (m->type != M_METRICS)
		log_warnx("%s has no metrics: %s", proc_name(p->id),
		    msg_str(m, A_TEXT) ? msg_str(m, A_TEXT) : "no reason");
	else if ((r = part_piece(l, p, m)) == 1)
		return;		/* still pending: the next piece */
	else if (r == 0 && mtext_check(p->text.data ? p->text.data : "",
	    p->text.len, worker_names[p->id], err, sizeof(err)) == -1)
		log_warnx("%s's metrics are dropped: %s", proc_name(p->id),
		    err);
	else if (r == 0)
		p->ok = 1;
	p->pending = 0;
	if (--p->ask->pending == 0)
		scrape_finish(p->ask);
}

/* The wait is over: those that did not answer are left out. */
static void
scrape_expire(void *arg)
{
	struct ask *a = arg;

	for (int i = 1; i < PROC_MAX; i++) {
		struct part *p = &a->part[i];
		if (!p->pending)
			continue;
		log_warnx("%s did not send its metrics within %d ms",
		    proc_name(i), SCRAPE_WAIT_MS);
		if (workers[i].link)
			link_forget(workers[i].link, p->req);
		p->pending = 0;
	}
	scrape_finish(a);
}

/* metrics server -> master: M_SCRAPE, a GET /metrics on the metrics
 * listener. */
void
metrics_scrape_request(struct link *l, struct msg *m)
{
	struct ask *a;
	struct msgb mb;

	if ((a = ask_new(l, m, scrape_expire)) == NULL)
		return;
	if (gathering != NULL) {
		a->waiter = gathering->waiter;
		gathering->waiter = a;
		return;
	}
	gathering = a;
	a->pending = 1;		/* until every request is out */
	for (int i = 1; i < PROC_MAX; i++) {
		struct part *p = &a->part[i];
		if (workers[i].link == NULL || workers[i].pid <= 0)
			continue;
		p->pending = 1;
		a->pending++;
		msgb_init(&mb, M_METRICS_GET);
		p->req = link_request(workers[i].link, &mb, on_part, p);
	}
	ev_timer_arm(&a->timer, SCRAPE_WAIT_MS);
	if (--a->pending == 0)
		scrape_finish(a);
}

/* Which configured worker is not ready, or NULL. */
static const char *
not_ready(char *why, size_t len)
{
	for (int i = 1; i < PROC_MAX; i++) {
		const struct worker *w = &workers[i];
		if (!w->enabled || worker_up(w))
			continue;
		snprintf(why, len, "%s is %s", proc_name(i), w->link == NULL ?
		    "not running" : "not answering its health check");
		return why;
	}
	return NULL;
}

static void
ready_answer(struct ask *a, const char *why)
{
	struct link *l = ask_link(a);

	if (l != NULL && why == NULL)
		link_reply_done(l, a->from_id);
	else if (l != NULL)
		link_reply_err(l, a->from_id, 503, why);
	ask_free(a);
}

static void
on_probe(struct link *l, struct msg *m, void *arg)
{
	struct ask *a = arg;
	char why[1100];

	a->pending = 0;
	if (m != NULL && m->type == M_DONE) {
		ready_answer(a, NULL);
		return;
	}
	snprintf(why, sizeof(why), "storaged: the store is not writable: %s",
	    m == NULL ? "storaged went away" : msg_str(m, A_TEXT) ?
	    msg_str(m, A_TEXT) : "no reason given");
	ready_answer(a, why);
}

static void
probe_expire(void *arg)
{
	struct ask *a = arg;

	if (workers[PROC_STORAGED].link)
		link_forget(workers[PROC_STORAGED].link, a->part[0].req);
	ready_answer(a, "storaged did not answer the write probe in time");
}

/* metrics server -> master: M_READY_GET, a GET /readyz: every configured worker
 * answered its last health check, and storaged can write the store. */
void
metrics_ready_request(struct link *l, struct msg *m)
{
	struct worker *st = &workers[PROC_STORAGED];
	char why[300];
	struct ask *a;
	struct msgb mb;

	if ((a = ask_new(l, m, probe_expire)) == NULL)
		return;
	if (not_ready(why, sizeof(why)) != NULL) {
		ready_answer(a, why);
		return;
	}
	if (!st->enabled || st->link == NULL) {
		ready_answer(a, NULL);
		return;
	}
	a->pending = 1;
	msgb_init(&mb, M_STORE_PROBE);
	a->part[0].req = link_request(st->link, &mb, on_probe, a);
	ev_timer_arm(&a->timer, PROBE_WAIT_MS);
}

/* Who serves metrics.listen: httpd, or on a host that runs none (a relay
 * runs master and tunneld alone) tunneld; PROC_MASTER: nobody. */
int
metrics_server(void)
{
	if (workers[PROC_HTTPD].enabled)
		return PROC_HTTPD;
	if (workers[PROC_TUNNELD].enabled)
		return PROC_TUNNELD;
	return PROC_MASTER;
}
