/*
 * run.c - one collection: M_GC_BEGIN to storaged (from then on it
 * remembers what pushes use; M_GC_SYNC before it, so that the last pull
 * times storaged noted are on disk), the scan on a thread, the plan, then the
 * deletes, a window of requests at a time, each phase once the previous
 * one is answered: tags, revisions, (the mark,) blobs, the layer links to
 * swept blobs, old upload sessions, M_GC_END.  A dry run reads and plans
 * the same way and sends nothing.  storaged may refuse any delete; what
 * it refuses stays and is counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cache_held.h"
#include "conf.h"
#include "conf_cache.h"
#include "dset.h"
#include "ev.h"
#include "gcbatch.h"
#include "gcd.h"
#include "log.h"
#include "msgtypes.h"
#include "mtext.h"
#include "regerr.h"
#include "retention.h"
#include "thread.h"
#include "util.h"

#define RUN_WINDOW	64		/* requests to storaged in flight */
#define RUN_BATCHES	4		/* sweep batches in flight */
#define USAGE_LINES_MAX	300		/* repositories in status: < 112 KiB */
#define PLAN_BYTES_MAX	(96 * 1024)	/* a dry run's list, in one message */
/* Repositories with samples of their own: a scrape is one message. */
#define METRIC_REPOS_MAX 200

enum phase { PH_IDLE, PH_SYNC, PH_BEGIN, PH_SCAN, PH_TAGS, PH_REVS, PH_BLOBS,
	PH_UNLINK, PH_UPLOADS, PH_END };

static struct {
	enum phase	 ph;
	int		 dry;
	struct gscan	 scan;
	struct gplan_conf pc;
	struct retention_rule *rules;
	size_t		 ri, k;		/* the next item of the phase */
	size_t		 inflight;
	int		 sent;		/* a one-message phase went */
	struct dset	 swept;
	struct cache_upstream *ups;	/* cache.upstreams, for mark_cached */
	size_t		 nups;
	int		 planned;	/* the scan thread planned the blobs */
	struct gsummary	 sum;
	struct buf	 plan;		/* a dry run's list of what goes */
	uint64_t	 plan_more;	/* lines that did not fit */
	uint64_t	 t0;
	int		 pipefd[2];
	pthread_t	 th;
	run_done_cb	 cb;
	void		*arg;
} run;

/* A sweep batch in flight: its blobs, or the repository of its links. */
struct gbatch {
	size_t		 n;
	struct gblob	*b[GCB_MAX];
	struct grepo	*r;
};

static struct link *sd;

/* The usage the last completed run saw, for status and metrics: names
 * and figures only, so that no scan outlives its run. */
struct gusage {
	char		*name;
	uint64_t	 bytes, alone;
};
static struct gusage *usage;
static size_t nusage;
static uint64_t usage_total;
static uint64_t usage_cache;		/* what cached repositories alone hold */
static int have_last;

static void	pump(void);
static void	end_after_failure(void);
static void	summary_line(const struct gsummary *, struct buf *);

void
run_storaged(struct link *l)
{
	sd = l;
}

int
run_busy(void)
{
	return run.ph != PH_IDLE;
}

/* Largest first: status and the metrics show the top of the list. */
static int
usage_cmp(const void *a, const void *b)
{
	const struct gusage *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Keep the usage of the scan that ends, largest repositories first. */
static void
usage_keep(const struct gsummary *s)
{
	for (size_t i = 0; i < nusage; i++)
		free(usage[i].name);
	free(usage);
	nusage = run.scan.nrepos;
	usage = xcalloc(nusage ? nusage : 1, sizeof(*usage));
	for (size_t i = 0; i < nusage; i++) {
		usage[i].name = xstrdup(run.scan.repos[i].name);
		usage[i].bytes = run.scan.repos[i].bytes;
		usage[i].alone = run.scan.repos[i].alone;
	}
	if (nusage > 1)
		qsort(usage, nusage, sizeof(*usage), usage_cmp);
	usage_total = s->store_bytes;
	usage_cache = s->ev.after;
	have_last = 1;
}

/* The run is over (done, or stopped by err): log, answer, keep usage. */
static void
finish(void)
{
	struct gsummary *s = &run.sum;
	struct buf b;

	if (s->err[0])
		end_after_failure();
	s->seconds = (double)(now_ms() - run.t0) / 1000.0;
	for (size_t i = 0; i < run.scan.nblobs; i++)
		if (!run.scan.blobs[i].gone)
			s->store_bytes += run.scan.blobs[i].size;
	buf_init(&b);
	summary_line(s, &b);
	buf_append(&b, "", 1);
	if (s->err[0])
		log_warnx("gc: %s", b.data);
	else
		log_info("gc: %s", b.data);
	buf_free(&b);
	dset_clear(&run.swept);
	retention_free(run.rules, run.pc.nrules);
	run.rules = NULL;
	free(run.ups);
	run.ups = NULL;
	run.nups = 0;
	if (!s->err[0])
		usage_keep(s);
	scan_free(&run.scan);
	run.ph = PH_IDLE;
	if (run.cb)
		run.cb(s, run.arg);
}

/* Stop the run: nothing more is sent; answered when the window drains. */
static void
run_fail(const char *what)
{
	if (!run.sum.err[0])
		(void)snprintf(run.sum.err, sizeof(run.sum.err), "%s", what);
}

/* The answer to a sweep batch: one result a digest, in order.  A batch
 * refused whole, or an answer that does not fit it, counts as failed. */
static void
batch_answered(struct gbatch *bt, struct msg *m)
{
	const struct msg_val *v = &m->v[A_BODY];
	enum gcb_result r;
	uint64_t size;

	if (m->type != M_GC_SWEPT || v->len != bt->n * GCB_RESULT_LEN) {
		run.sum.failed += bt->n;
		return;
	}
	for (size_t i = 0; i < bt->n; i++) {
		if (gcb_result_get(v->p, v->len, i, &r, &size) == -1 ||
		    r == GCB_FAILED)
			run.sum.failed++;
		else if (r == GCB_REFUSED)
			run.sum.refused++;
		else if (r == GCB_SWEPT && bt->r != NULL)
			run.sum.links++;
		else if (r == GCB_SWEPT) {
			bt->b[i]->gone = 1;
			(void)dset_add(&run.swept, &bt->b[i]->d);
			run.sum.blobs++;
			run.sum.bytes += size;
		}
	}
}

/* A reply to a delete (or M_GC_BEGIN/END): count it, send more. */
static void
on_reply(struct link *l, struct msg *m, void *arg)
{
	int ok = m != NULL && m->type == M_DONE;
	uint64_t n = m ? msg_u64(m, A_COUNT, 0) : 0;

	run.inflight--;
	if (run.ph == PH_BLOBS || run.ph == PH_UNLINK) {
		if (m != NULL)
			batch_answered(arg, m);
		free(arg);
	}
	if (run.ph == PH_SYNC && m != NULL && !ok)
		log_warnx("gc: last pull times not written: %s",
		    msg_str(m, A_TEXT) ? msg_str(m, A_TEXT) : "refused");
	if (run.ph == PH_SYNC && m != NULL)
		;	/* the times on disk so far will do */
	else if (m == NULL)
		run_fail("storaged went away during the run");
	else if (!ok && (run.ph == PH_BEGIN || run.ph == PH_END ||
	    run.ph == PH_UPLOADS))
		run_fail(msg_str(m, A_TEXT) ? msg_str(m, A_TEXT) :
		    "storaged refused");
	else if (run.ph == PH_TAGS)
		ok ? run.sum.tags++ : (((struct gtag *)arg)->del = 0,
		    msg_u64(m, A_CODE, 0) == RE_DENIED ? run.sum.refused++ :
		    run.sum.failed++);
	else if (run.ph == PH_REVS)
		ok ? (run.sum.manifests++, ((struct gman *)arg)->gone = 1) :
		    msg_u64(m, A_CODE, 0) == RE_DENIED ? run.sum.refused++ :
		    run.sum.failed++;
	else if (run.ph == PH_UPLOADS)
		run.sum.uploads = n;
	pump();
}

/* The next tag or revision delete; 0 when there is none. */
static int
next_manifest(struct msgb *mb, void **item)
{
	for (; run.ri < run.scan.nrepos; run.ri++, run.k = 0) {
		struct grepo *r = &run.scan.repos[run.ri];
		size_t n = run.ph == PH_TAGS ? r->ntags : r->nrevs;
		for (; run.k < n; run.k++) {
			struct gtag *t = &r->tags[run.k];
			struct gman *g = &r->revs[run.k];
			char dg[DIGEST_STRMAX];
			if (run.ph == PH_TAGS ? !t->del : !g->del)
				continue;
			msgb_init(mb, M_GC_MANIFEST);
			msgb_str(mb, A_REPO, r->name);
			(void)digest_format(run.ph == PH_TAGS ? &t->d : &g->d,
			    dg, sizeof(dg));
			msgb_str(mb, A_DIGEST, dg);
			if (run.ph == PH_TAGS)
				msgb_str(mb, A_REF, t->name);
			*item = run.ph == PH_TAGS ? (void *)t : (void *)g;
			run.k++;
			return 1;
		}
	}
	return 0;
}

/* The next batch of blobs to sweep, or of a repository's layer links to
 * swept blobs; 0 when there is none. */
static int
next_batch(struct msgb *mb, void **item)
{
	struct gbatch *bt = xcalloc(1, sizeof(*bt));
	struct buf body;

	buf_init(&body);
	for (; run.ph == PH_BLOBS && run.k < run.scan.nblobs &&
	    bt->n < GCB_MAX; run.k++)
		if (run.scan.blobs[run.k].del) {
			bt->b[bt->n++] = &run.scan.blobs[run.k];
			gcb_add(&body, &run.scan.blobs[run.k].d);
		}
	for (; run.ph == PH_UNLINK && run.ri < run.scan.nrepos && bt->n == 0;
	    run.ri++, run.k = 0) {
		struct grepo *r = &run.scan.repos[run.ri];
		for (; run.k < r->nlayers && bt->n < GCB_MAX; run.k++)
			if (r->layers[run.k].left ||
			    dset_get(&run.swept, &r->layers[run.k].d)) {
				bt->n++;
				gcb_add(&body, &r->layers[run.k].d);
			}
		bt->r = r;
		if (run.k < r->nlayers)
			break;		/* the rest in the next batch */
	}
	if (bt->n == 0) {
		buf_free(&body);
		free(bt);
		return 0;
	}
	msgb_init(mb, run.ph == PH_BLOBS ? M_GC_SWEEP : M_GC_UNLINK);
	if (run.ph == PH_UNLINK)
		msgb_str(mb, A_REPO, bt->r->name);
	msgb_bytes(mb, A_BODY, buf_head(&body), buf_avail(&body));
	buf_free(&body);
	*item = bt;
	return 1;
}

/* The message of a one-message phase. */
static int
next_single(struct msgb *mb)
{
	if (run.sent)
		return 0;
	run.sent = 1;
	msgb_init(mb, run.ph == PH_SYNC ? M_GC_SYNC : run.ph == PH_BEGIN ?
	    M_GC_BEGIN : run.ph == PH_UPLOADS ? M_GC_UPLOADS : M_GC_END);
	if (run.ph == PH_UPLOADS)
		msgb_u64(mb, A_TIME, (uint64_t)conf_int(P_GC_UPLOAD_MAX_AGE));
	return 1;
}

static int
next_op(struct msgb *mb, void **item)
{
	*item = NULL;
	switch (run.ph) {
	case PH_TAGS:
	case PH_REVS:
		return next_manifest(mb, item);
	case PH_BLOBS:
	case PH_UNLINK:
		return next_batch(mb, item);
	default:
		return next_single(mb);
	}
}

static void	phase_next(void);

/* Keep the window full; when a phase is answered, go to the next. */
static void
pump(void)
{
	struct msgb mb;
	void *item;

	while (!run.sum.err[0] && sd != NULL && run.inflight < ((run.ph ==
	    PH_BLOBS || run.ph == PH_UNLINK) ? RUN_BATCHES : RUN_WINDOW) &&
	    next_op(&mb, &item)) {
		run.inflight++;
		(void)link_request(sd, &mb, on_reply, item);
	}
	if (run.inflight > 0)
		return;
	if (run.sum.err[0] || sd == NULL) {
		run_fail("no link to storaged");
		finish();
		return;
	}
	phase_next();
}

/* Which repositories hold a cache's copies. */
static void
mark_cached(struct gscan *s)
{
	for (size_t i = 0; i < s->nrepos; i++)
		s->repos[i].cached = cache_held(run.ups, run.nups,
		    s->repos[i].name);
}

/* cache.upstreams (redacted: the prefixes are all gcd needs), read in
 * the loop for the scan thread. */
static void
upstreams_read(void)
{
	char err[256];

	if (cache_upstreams_parse(conf_str(P_CACHE_UPSTREAMS), &run.ups,
	    &run.nups, err, sizeof(err)) == -1) {
		log_warnx("gc: cache.upstreams: %s", err);	/* checked */
		run.ups = NULL;
		run.nups = 0;
	}
}

/* The scan thread: read the store and plan, then wake the loop.  When
 * the plan deletes no tag or manifest, the blobs are planned here too
 * (the marks cannot change before the sweep); otherwise after the
 * deletes, from what storaged deleted. */
static void *
scan_main(void *arg)
{
	scan_store(&run.scan);
	if (!run.scan.err[0]) {
		run.pc.now = (int64_t)time(NULL);
		mark_cached(&run.scan);
		plan_manifests(&run.scan, &run.pc);
		plan_evict(&run.scan, &run.pc, &run.sum.ev);
		if ((run.planned = !plan_deletes(&run.scan)))
			plan_blobs(&run.scan, &run.pc);
	}
	(void)write(run.pipefd[1], "", 1);
	return NULL;
}

/* One line of a dry run's list, while the list fits a message. */
static void
plan_line(const char *what, const char *repo, const char *sep,
    const struct digest *d, const char *tag)
{
	char dg[DIGEST_STRMAX];

	if (buf_avail(&run.plan) > PLAN_BYTES_MAX) {
		run.plan_more++;
		return;
	}
	(void)digest_format(d, dg, sizeof(dg));
	buf_printf(&run.plan, "%s %s%s%s\n", what, repo, sep, tag ? tag : dg);
}

/* Count what a dry run would delete, as if storaged refused nothing. */
static void
dry_count(int blobs)
{
	for (size_t i = 0; i < run.scan.nrepos && !blobs; i++) {
		struct grepo *r = &run.scan.repos[i];
		for (size_t k = 0; k < r->ntags; k++)
			if (r->tags[k].del) {
				run.sum.tags++;
				plan_line("tag", r->name, ":", &r->tags[k].d,
				    r->tags[k].name);
			}
		for (size_t k = 0; k < r->nrevs; k++)
			if (r->revs[k].evict)
				plan_line("evict", r->name, "@", &r->revs[k].d,
				    NULL);
		for (size_t k = 0; k < r->nrevs; k++)
			if ((r->revs[k].gone = r->revs[k].del)) {
				run.sum.manifests++;
				plan_line("manifest", r->name, "@",
				    &r->revs[k].d, NULL);
			}
	}
	for (size_t i = 0; i < run.scan.nblobs && blobs; i++) {
		struct gblob *b = &run.scan.blobs[i];
		if (!b->del)
			continue;
		b->gone = 1;
		(void)dset_add(&run.swept, &b->d);
		plan_line("blob", "", "", &b->d, NULL);
		run.sum.blobs++;
		run.sum.bytes += b->size;
	}
	for (size_t i = 0; i < run.scan.nrepos && blobs; i++)
		for (size_t k = 0; k < run.scan.repos[i].nlayers; k++)
			run.sum.links += run.scan.repos[i].layers[k].left ||
			    dset_get(&run.swept,
			    &run.scan.repos[i].layers[k].d) != NULL;
}

/* The scan is in: plan, then delete (or count). */
static void
on_scanned(int fd, int events, void *arg)
{
	char c;

	(void)read(fd, &c, 1);
	ev_del(fd);
	close(run.pipefd[0]);
	close(run.pipefd[1]);
	(void)pthread_join(run.th, NULL);
	if (run.scan.err[0]) {
		run_fail(run.scan.err);
		pump();
		return;
	}
	if (run.sum.ev.short_)
		log_warnx("gc: the cache holds %llu bytes, over cache.max_size "
		    "%llu, but what is left was pulled within gc.grace",
		    (unsigned long long)run.sum.ev.after,
		    (unsigned long long)run.pc.max_size);
	if (run.dry) {
		dry_count(0);
		if (!run.planned)
			plan_blobs(&run.scan, &run.pc);
		dry_count(1);
		finish();
		return;
	}
	phase_next();
}

/* Start the scan thread. */
static void
scan_start(void)
{
	if (pipe2(run.pipefd, O_CLOEXEC) == -1) {
		run_fail(strerror(errno));
		pump();
		return;
	}
	if (thread_spawn(&run.th, scan_main, NULL, 0) == -1) {
		close(run.pipefd[0]);
		close(run.pipefd[1]);
		run_fail(strerror(errno));
		pump();
		return;
	}
	ev_add(run.pipefd[0], EV_READ, on_scanned, NULL);
}

/* The current phase is answered: on to the next. */
static void
phase_next(void)
{
	run.ri = run.k = 0;
	run.sent = 0;
	switch (run.ph) {
	case PH_SYNC:
		/* a dry run deletes nothing, so storaged marks nothing */
		if (!run.dry) {
			run.ph = PH_BEGIN;
			break;
		}
		/* FALLTHROUGH */
	case PH_BEGIN:
		run.ph = PH_SCAN;
		scan_start();
		return;
	case PH_SCAN:
		run.ph = PH_TAGS;
		break;
	case PH_TAGS:
		run.ph = PH_REVS;
		break;
	case PH_REVS:
		if (!run.planned)
			plan_blobs(&run.scan, &run.pc);
		run.ph = PH_BLOBS;
		break;
	case PH_BLOBS:
		run.ph = PH_UNLINK;
		break;
	case PH_UNLINK:
		run.ph = PH_UPLOADS;
		break;
	case PH_UPLOADS:
		run.ph = PH_END;
		break;
	default:
		finish();
		return;
	}
	pump();
}

int
run_start(int dry_run, run_done_cb cb, void *arg)
{
	char err[256];

	if (run.ph != PH_IDLE)
		return -1;
	memset(&run.sum, 0, sizeof(run.sum));
	buf_free(&run.plan);
	buf_init(&run.plan);
	run.plan_more = 0;
	run.dry = run.sum.dry_run = dry_run;
	run.cb = cb;
	run.arg = arg;
	run.t0 = now_ms();
	dset_init(&run.swept);
	run.planned = 0;
	upstreams_read();
	if (retention_parse(conf_str(P_RETENTION), &run.rules, &run.pc.nrules,
	    err, sizeof(err)) == -1) {
		run.rules = NULL;	/* master checked it: cannot happen */
		run.pc.nrules = 0;
		log_warnx("gc: retention: %s", err);
	}
	run.pc.rules = run.rules;
	run.pc.untagged = conf_bool(P_GC_UNTAGGED);
	run.pc.grace = conf_int(P_GC_GRACE);
	run.pc.max_size = (uint64_t)conf_int(P_CACHE_MAX_SIZE);
	log_info("gc: %srun begins", dry_run ? "dry " : "");
	if (dry_run && sd == NULL) {
		run.ph = PH_SCAN;
		scan_start();
		return 0;
	}
	run.ph = PH_SYNC;
	pump();
	return 0;
}

static void
end_answered(struct link *l, struct msg *m, void *arg)
{
}

/* After a failure past M_GC_BEGIN, storaged still remembers: end it. */
static void
end_after_failure(void)
{
	struct msgb mb;

	if (sd == NULL || run.dry || run.ph <= PH_BEGIN || run.ph == PH_END)
		return;
	msgb_init(&mb, M_GC_END);
	(void)link_request(sd, &mb, end_answered, NULL);
}

/* The counts of a run, one line (the log's). */
static void
summary_line(const struct gsummary *s, struct buf *b)
{
	if (s->err[0]) {
		buf_printf(b, "error: %s (after %.1fs)", s->err, s->seconds);
		return;
	}
	buf_printf(b, "%s%llu manifests and %llu tags deleted, %llu blobs "
	    "deleted, %llu bytes freed, %llu layer links removed, %llu "
	    "upload sessions removed, %llu refused (in use), %llu failed "
	    "(see storaged's log), %llu bytes stored, in %.3fs",
	    s->dry_run ? "dry run, would go: " : "",
	    (unsigned long long)s->manifests, (unsigned long long)s->tags,
	    (unsigned long long)s->blobs, (unsigned long long)s->bytes,
	    (unsigned long long)s->links, (unsigned long long)s->uploads,
	    (unsigned long long)s->refused, (unsigned long long)s->failed,
	    (unsigned long long)s->store_bytes, s->seconds);
	if (s->ev.before > 0 || s->ev.images > 0)
		buf_printf(b, "; cache: %llu images evicted, %llu bytes held "
		    "before, %llu after (cache.max_size %llu)",
		    (unsigned long long)s->ev.images,
		    (unsigned long long)s->ev.before,
		    (unsigned long long)s->ev.after,
		    (unsigned long long)conf_int(P_CACHE_MAX_SIZE));
}

void
run_summary_text(const struct gsummary *s, struct buf *b)
{
	if (s->dry_run && !s->err[0]) {
		buf_append(b, buf_head(&run.plan), buf_avail(&run.plan));
		if (run.plan_more)
			buf_printf(b, "(%llu more not listed)\n",
			    (unsigned long long)run.plan_more);
	}
	summary_line(s, b);
}

void
run_usage_text(struct buf *b)
{
	if (!have_last) {
		buf_puts(b, "storage: no collection has run yet\n");
		return;
	}
	buf_printf(b, "storage: %llu bytes in %zu repositories (at the last "
	    "gc)\n", (unsigned long long)usage_total, nusage);
	if (conf_str(P_CACHE_UPSTREAMS)[0] != '\0')
		buf_printf(b, "cache: %llu bytes held by cached repositories "
		    "(cache.max_size %llu; 0: no limit)\n",
		    (unsigned long long)usage_cache,
		    (unsigned long long)conf_int(P_CACHE_MAX_SIZE));
	/* bounded to fit one message, largest first */
	for (size_t i = 0; i < nusage && i < USAGE_LINES_MAX; i++)
		buf_printf(b, "repository %s bytes=%llu alone=%llu\n",
		    usage[i].name, (unsigned long long)usage[i].bytes,
		    (unsigned long long)usage[i].alone);
	if (nusage > USAGE_LINES_MAX)
		buf_printf(b, "(%zu smaller repositories not listed)\n",
		    nusage - USAGE_LINES_MAX);
}

void
run_usage_metrics(struct buf *b)
{
	if (!have_last)
		return;
	mtext_single(b, "registry_storage_size_bytes", MT_GAUGE,
	    "bytes of blob data in the store (at the last gc)", usage_total);
	mtext_family(b, "registry_storage_repository_bytes", MT_GAUGE,
	    "bytes the manifests of a repository use, shared blobs included "
	    "(at the last gc; the 200 largest repositories)");
	for (size_t i = 0; i < nusage && i < METRIC_REPOS_MAX; i++) {
		struct mlabel l = { "repository", usage[i].name };
		mtext_count(b, "registry_storage_repository_bytes", &l, 1,
		    usage[i].bytes);
	}
	mtext_family(b, "registry_storage_repository_exclusive_bytes",
	    MT_GAUGE, "bytes only this repository uses: what deleting it "
	    "frees (at the last gc)");
	for (size_t i = 0; i < nusage && i < METRIC_REPOS_MAX; i++) {
		struct mlabel l = { "repository", usage[i].name };
		mtext_count(b, "registry_storage_repository_exclusive_bytes",
		    &l, 1, usage[i].alone);
	}
}
