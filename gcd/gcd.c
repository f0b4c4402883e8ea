/*
 * gcd.c - the garbage collector: marks what manifests reference and asks
 * storaged to sweep the rest (run.c), on gc.interval and when master asks
 * (`regmaster gc [--dry-run]`); its figures for a scrape, and the storage
 * usage of the last run for master's status.  gcd only reads the store.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ev.h"
#include "gcd.h"
#include "link.h"
#include "log.h"
#include "msgtypes.h"
#include "mtext.h"
#include "proc.h"
#include "util.h"
#include "worker.h"

#define RETRY_MS	10000		/* storaged not ready: try again */
/*
 * How much nicer than the workers that serve gcd runs.  A scan is a few
 * seconds of CPU on two threads, on the cores httpd and storaged answer
 * pulls on; at nice 10 (a weight of 110 against 1024) gcd gets about a
 * tenth of a core they want and all of one they leave idle.  Not
 * SCHED_IDLE: under a steady load a run would never end, and storaged
 * remembers every push until it does.  Not SCHED_BATCH alone: it gives
 * up wakeup preemption but keeps the same share.
 */
#define GCD_NICE	10

static struct link *storaged;
static struct ev_timer sched_timer;

/* Figures since start, for the metrics. */
static uint64_t runs, failures, blobs_deleted, bytes_freed, mans_deleted;
static uint64_t images_evicted, cache_held_bytes;
static struct mhist durations;
static const double dur_le[] = { 0.1, 0.5, 1, 5, 15, 60, 300, 1800 };
static const struct mhist_bounds dur_bounds = { dur_le, nitems(dur_le) };

/* A master request waiting for its run. */
struct gwait {
	struct link	*l;
	uint32_t	 id;
};

static void
storaged_close(struct link *l, void *arg)
{
	if (l == storaged) {
		storaged = NULL;
		run_storaged(NULL);
	}
	link_free(l);
}

static void
gcd_peer(int peer, int fd)
{
	if (peer != PROC_STORAGED) {
		log_warnx("unexpected peer %s", proc_name(peer));
		close(fd);
		return;
	}
	if (storaged)
		link_free(storaged);
	storaged = link_new(fd, peer, NULL, NULL, storaged_close, NULL);
	run_storaged(storaged);
}

/* The next scheduled run in gc.interval (0: none). */
static void
sched_arm(uint64_t ms)
{
	ev_timer_cancel(&sched_timer);
	if (conf_int(P_GC_INTERVAL) > 0)
		ev_timer_arm(&sched_timer, ms ? ms :
		    (uint64_t)conf_int(P_GC_INTERVAL) * 1000);
}

/* Every run ends here: count it, tell master the usage, answer. */
static void
run_done(const struct gsummary *s, void *arg)
{
	struct gwait *w = arg;
	struct msgb mb;
	struct buf b;

	runs++;
	failures += s->err[0] != 0;
	if (!s->dry_run) {
		blobs_deleted += s->blobs;
		bytes_freed += s->bytes;
		mans_deleted += s->manifests;
		images_evicted += s->ev.images;
	}
	if (!s->err[0])
		cache_held_bytes = s->ev.after;
	mhist_observe(&durations, &dur_bounds, s->seconds);
	buf_init(&b);
	if (!s->err[0] && worker_master() != NULL) {
		run_usage_text(&b);
		msgb_init(&mb, M_GC_USAGE);
		msgb_bytes(&mb, A_BODY, buf_head(&b), buf_avail(&b));
		link_notify(worker_master(), &mb);
		buf_reset(&b);
	}
	if (w != NULL && w->l != NULL) {
		run_summary_text(s, &b);
		buf_puts(&b, "\n");
		msgb_init(&mb, M_STATUS);
		msgb_bytes(&mb, A_BODY, buf_head(&b), buf_avail(&b));
		link_reply(w->l, w->id, &mb);
	}
	buf_free(&b);
	free(w);
	sched_arm(0);
}

/* gc.interval elapsed: collect, unless one runs or storaged is away. */
static void
on_schedule(void *arg)
{
	if (storaged == NULL || run_busy()) {
		sched_arm(RETRY_MS);
		return;
	}
	(void)run_start(0, run_done, NULL);
}

/* master -> gcd: M_GC_RUN, answered when the run is over. */
static void
gcd_request(struct link *l, struct msg *m)
{
	struct gwait *w;

	if (m->type != M_GC_RUN)
		fatalx("accepted %s without a handler", msg_type_name(m->type));
	if (storaged == NULL) {
		link_reply_err(l, m->id, 0, "storaged is not connected");
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->l = l;
	w->id = m->id;
	if (run_start((msg_u64(m, A_FLAGS, 0) & GC_F_DRY_RUN) != 0, run_done,
	    w) == -1) {
		free(w);
		link_reply_err(l, m->id, 0, "a collection is running");
	}
}

static void
gcd_configured(int first)
{
	if (first)
		ev_timer_init(&sched_timer, on_schedule, NULL);
	if (!run_busy())
		sched_arm(0);
}

/* Before the privilege drop (an unprivileged process may only lower its
 * priority anyway): the threads the runs start inherit it. */
static void
gcd_preload(void)
{
	errno = 0;
	if (nice(GCD_NICE) == -1 && errno != 0)
		log_warn("nice");
}

static void
gcd_metrics(struct buf *b)
{
	mtext_single(b, "registry_gc_runs_total", MT_COUNTER,
	    "garbage collections run (dry runs too)", runs);
	mtext_single(b, "registry_gc_failures_total", MT_COUNTER,
	    "garbage collections that stopped on an error", failures);
	mtext_single(b, "registry_gc_blobs_deleted_total", MT_COUNTER,
	    "blobs garbage collection deleted", blobs_deleted);
	mtext_single(b, "registry_gc_bytes_freed_total", MT_COUNTER,
	    "bytes of blob data garbage collection deleted", bytes_freed);
	mtext_single(b, "registry_gc_manifests_deleted_total", MT_COUNTER,
	    "manifests garbage collection and retention deleted", mans_deleted);
	mtext_single(b, "registry_gc_cache_evictions_total", MT_COUNTER,
	    "cached images garbage collection evicted by cache.max_size",
	    images_evicted);
	mtext_single(b, "registry_storage_cache_bytes", MT_GAUGE, "bytes the "
	    "cached repositories alone hold (as the last gc planned it)",
	    cache_held_bytes);
	mtext_family(b, "registry_gc_duration_seconds", MT_HISTOGRAM,
	    "duration of garbage collections");
	mtext_histogram(b, "registry_gc_duration_seconds", NULL, 0,
	    &dur_bounds, &durations);
	run_usage_metrics(b);
}

static const struct link_accept gcd_accept[] = {
	{ PROC_MASTER, M_GC_RUN, 0 },
	{ 0, 0, 0 }
};

static const struct worker_ops gcd_ops = {
	.id = PROC_GCD,
	.accept = gcd_accept,
	.request = gcd_request,
	.configured = gcd_configured,
	.peer = gcd_peer,
	.preload = gcd_preload,
	.metrics = gcd_metrics,
};

int
main(int argc, char **argv)
{
	worker_main(argc, argv, &gcd_ops);
}
