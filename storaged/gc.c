/*
 * gc.c - storaged's side of a collection.  gcd marks from what it reads of
 * the store and asks storaged to sweep; storaged is the one writer, so it
 * is where a sweep and a push meet.  From M_GC_BEGIN until M_GC_END (or
 * gcd's link closes) it remembers every blob a commit, a mount or a
 * checked manifest PUT uses, and refuses to sweep those, a blob younger
 * than gc.grace, or a manifest blob any repository still links.  Every
 * check, and the rename that takes a swept blob out of the store, happen
 * in the loop, the same loop where a PUT's references are checked and a
 * commit begins, so one of the two always sees the other; only freeing
 * what was taken out is left to a thread.
 */
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "dset.h"
#include "ev.h"
#include "gcbatch.h"
#include "index.h"
#include "log.h"
#include "pulls.h"
#include "regerr.h"
#include "store.h"
#include "storaged.h"
#include "task.h"
#include "util.h"

/* A sync waiting for its write; the link may go away meanwhile. */
struct gsync {
	struct link	*l;
	uint32_t	 id;
};
static struct gsync *syncing;

static struct dset kept;
static struct dset swept;		/* blobs this run took out */
static struct link *running;		/* gcd's link while a run is on */

void
gc_remember(const struct digest *d)
{
	if (running != NULL)
		(void)dset_add(&kept, d);
}

/* A manifest PUT: itself, its config, layers or children, its subject. */
void
gc_remember_manifest(const struct digest *d, const struct oci_manifest *pm)
{
	if (running == NULL)
		return;
	gc_remember(d);
	if (pm->has_config)
		gc_remember(&pm->config.digest);
	for (size_t i = 0; i < pm->nrefs; i++)
		gc_remember(&pm->refs[i].digest);
	if (pm->has_subject)
		gc_remember(&pm->subject.digest);
}

int
gc_remembered(const struct digest *d)
{
	return running != NULL && dset_get(&kept, d) != NULL;
}

/* M_GC_BEGIN: remember from now on, and what is in flight already. */
void
gc_begin(struct link *l, struct msg *m)
{
	if (!index_built()) {
		link_reply_err(l, m->id, RE_UNAVAILABLE, "index still building");
		return;
	}
	dset_clear(&kept);
	dset_clear(&swept);
	running = l;
	/* gcd's next batch is no request to yield to (sweep_slice) */
	ev_quiet(link_fd(l));
	manifest_gc_inflight();
	upload_gc_inflight();
	log_info("gc: mark begins");
	link_reply_done(l, m->id);
}

/* Why blob d may not go (NULL: it may), its data's size in *size. */
static const char *
blob_in_use(const struct digest *d, uint64_t *size)
{
	char p[STORE_PATHMAX];
	struct minfo *mi;
	struct stat st;

	if (gc_remembered(d))
		return "used since the mark began";
	if ((mi = minfo_find(d)) != NULL && mi->refs > 0)
		return "a manifest a repository links";
	if (path_blob_data(p, sizeof(p), d) == -1 ||
	    fstatat(store_rootfd(), p, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return "";
	if (time(NULL) - st.st_mtime < (time_t)conf_int(P_GC_GRACE))
		return "younger than gc.grace";
	*size = (uint64_t)st.st_size;
	return NULL;
}

/*
 * A sweep request: a batch of digests (lib/gcbatch.h), checked and taken
 * out of the store SWEEP_SLICE at a time, one slice a loop turn, so that
 * pulls and pushes are served between slices.  Taking a blob (a layer
 * link) out is one rename of its directory within its parent
 * (store_swept_take), in the loop where the check is: from then on a PUT,
 * a mount or a commit finds it absent, and a commit makes a new
 * directory.  Freeing what was taken out (an unlink and an rmdir, which
 * cost ten times the rename where the filesystem discards freed blocks)
 * is left to a thread, once the run is over.
 *
 * When the loop has requests to answer (its turn found descriptors
 * ready other than gcd's link), the batches in flight together take one
 * slice a millisecond at most: a sweep shares the loop with every
 * manifest GET, and at full speed it took more than half of a loop that
 * pulls kept busy.  An idle loop sweeps a slice a turn.
 */
#define SWEEP_SLICE	16
#define SWEEP_PAUSE_MS	1
#define TRASH_NICE	19

/* What a batch took out, for the thread to free (lib/gcbatch.h entries). */
struct trash {
	STAILQ_ENTRY(trash) entry;
	char		*repo;		/* layer links of repo; NULL: blobs */
	struct buf	 taken;
	size_t		 n, failed;
};

struct sweep {
	LIST_ENTRY(sweep) entry;
	struct link	*l;		/* NULL once the link went */
	uint32_t	 id;
	char		*repo;		/* layer links of repo; NULL: blobs */
	struct digest	*ds;
	size_t		 n, i;
	struct buf	 results;
	struct trash	*trash;
	struct ev_timer	 timer;
};

static LIST_HEAD(, sweep) sweeps = LIST_HEAD_INITIALIZER(sweeps);
/* Four threads free, a batch at a time each: each waits for the disk's
 * discards most of the time, and four overlap those waits (after a run
 * that swept 62,555 entries, one thread took 13.2 s, two 6.0, four 3.7). */
static struct taskq sweepq[4] = {
	TASKQ_INITIALIZER(sweepq[0]), TASKQ_INITIALIZER(sweepq[1]),
	TASKQ_INITIALIZER(sweepq[2]), TASKQ_INITIALIZER(sweepq[3])
};
static unsigned sweepq_next;
/* Freed once the run ends: a thread freeing while the loop renames
 * stalls it (ext4 discards the freed blocks with a journal handle open,
 * and the loop's next rename waits for that transaction). */
static STAILQ_HEAD(, trash) held = STAILQ_HEAD_INITIALIZER(held);
/* The batches given to the thread and not freed yet, what they freed, and
 * when the last run ended: logged when the last is done (when the space
 * is back). */
static struct {
	size_t		 batches, entries, failed;
	uint64_t	 since;
} freeing;

/* The directory d's blob (repo NULL) or repo's layer link to d is in. */
static int
swept_dir(char *p, size_t len, const char *repo, const struct digest *d)
{
	char *slash;

	if (repo == NULL)
		return path_blob_dir(p, len, d);
	if (path_layer_link(p, len, repo, d) == -1 ||
	    (slash = strrchr(p, '/')) == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

/* The thread (a task's own, gone after it): free what the slices took
 * out.  At the lowest priority: an unlink and an rmdir cost about 60 us
 * of CPU a blob and more waiting for the disk, seconds for a big run,
 * and the pulls storaged and httpd serve meanwhile come first; the swept
 * blobs are out of the store already, only their space waits. */
static void
trash_run(void *arg)
{
	struct trash *t = arg;
	char p[STORE_PATHMAX];
	struct digest d;
	size_t off = 0;

	(void)setpriority(PRIO_PROCESS, 0, TRASH_NICE);
	while (gcb_next(buf_head(&t->taken), buf_avail(&t->taken), &off,
	    &d) == 1)
		if (swept_dir(p, sizeof(p), t->repo, &d) == -1 ||
		    store_swept_free(p) == -1)
			t->failed++;
}

static void
trash_free(struct trash *t)
{
	buf_free(&t->taken);
	free(t->repo);
	free(t);
}

static void
trash_done(void *arg)
{
	struct trash *t = arg;

	if (t->failed)
		log_warnx("gc: %zu of %zu swept entries could not be freed; "
		    "the next collection tries again", t->failed, t->n);
	freeing.entries += t->n - t->failed;
	freeing.failed += t->failed;
	if (--freeing.batches == 0 && running == NULL) {
		log_info("gc: what the run swept is freed: %zu entries (%zu "
		    "failed), %.1f s after it ended", freeing.entries,
		    freeing.failed, (double)(now_ms() - freeing.since) / 1000.0);
		freeing.entries = freeing.failed = 0;
	}
	trash_free(t);
}

/* Take d's blob (repo NULL) or repo's layer link to d, directory dir, out
 * of the store.  Where it is absent (absent, or dir is not there), what a
 * sweep took before a crash may be left (gcd's scan sends it): that goes
 * to the thread too, counted as swept. */
static enum gcb_result
sweep_take(struct sweep *sw, const char *dir, const struct digest *d,
    int absent, uint64_t *size)
{
	struct trash *t = sw->trash;

	if (!absent && store_swept_take(dir) == -1) {
		if (errno != ENOENT) {
			log_warn("gc: sweep %s", dir);
			return GCB_FAILED;
		}
		absent = 1;
	}
	if (absent && store_swept_left(dir, size) == -1)
		return GCB_ABSENT;
	gcb_add(&t->taken, d);
	t->n++;
	if (sw->repo == NULL)
		(void)dset_add(&swept, d);
	return GCB_SWEPT;
}

/* One digest of a batch: a blob, or repo's layer link to a blob this run
 * swept.  A link to any other blob stays; only a leftover of its may go. */
static void
sweep_one(struct sweep *sw, const struct digest *d)
{
	char p[STORE_PATHMAX];
	enum gcb_result r;
	const char *why = NULL;
	uint64_t size = 0;
	int keep = 0;

	if (sw->repo == NULL)
		why = blob_in_use(d, &size);
	else
		keep = gc_remembered(d) || dset_get(&swept, d) == NULL;
	if (why != NULL && *why)
		r = GCB_REFUSED;
	else if (swept_dir(p, sizeof(p), sw->repo, d) == -1)
		r = GCB_FAILED;
	else if ((r = sweep_take(sw, p, d, why != NULL || keep, &size)) ==
	    GCB_ABSENT && keep)
		r = GCB_REFUSED;
	gcb_result_add(&sw->results, r, r == GCB_SWEPT && !sw->repo ? size :
	    0);
}

static void
trash_start(struct trash *t)
{
	task_run(&sweepq[sweepq_next++ % nitems(sweepq)], NULL, trash_run,
	    trash_done, t);
}

/* The batch is through (or stopped): answer, hand what it took out to a
 * thread. */
static void
sweep_finish(struct sweep *sw)
{
	struct msgb mb;

	if (sw->trash->n == 0)
		trash_free(sw->trash);
	else {
		freeing.batches++;
		if (running != NULL)
			STAILQ_INSERT_TAIL(&held, sw->trash, entry);
		else
			trash_start(sw->trash);
	}
	if (sw->l != NULL) {
		msgb_init(&mb, M_GC_SWEPT);
		msgb_bytes(&mb, A_BODY, buf_head(&sw->results),
		    buf_avail(&sw->results));
		link_reply(sw->l, sw->id, &mb);
	}
	LIST_REMOVE(sw, entry);
	ev_timer_cancel(&sw->timer);
	buf_free(&sw->results);
	free(sw->ds);
	free(sw->repo);
	free(sw);
}

static uint64_t sweep_next_ms;		/* a busy loop's next slice */

/* One slice; the rest on a later turn.  A run that ended (or whose gcd
 * went) refuses what is left: nothing is remembered any more. */
static void
sweep_slice(void *arg)
{
	struct sweep *sw = arg;
	size_t end = sw->i + SWEEP_SLICE < sw->n ? sw->i + SWEEP_SLICE : sw->n;
	uint64_t now = ev_now();

	if (ev_ready() > 0 && now < sweep_next_ms && sw->i > 0) {
		ev_timer_arm(&sw->timer, sweep_next_ms - now);
		return;
	}
	sweep_next_ms = ev_ready() > 0 ? now + SWEEP_PAUSE_MS : 0;
	for (; sw->i < sw->n && (sw->l == NULL || running != sw->l); sw->i++)
		gcb_result_add(&sw->results, GCB_REFUSED, 0);
	for (; sw->i < end; sw->i++)
		sweep_one(sw, &sw->ds[sw->i]);
	if (sw->i < sw->n)
		ev_timer_arm(&sw->timer, 0);
	else
		sweep_finish(sw);
}

/* Start a batch of repo's layer links (repo) or of blobs (NULL). */
static void
sweep_start(struct link *l, struct msg *m, const char *repo)
{
	const struct msg_val *body = &m->v[A_BODY];
	struct sweep *sw;
	int n;

	if (running != l) {
		link_reply_err(l, m->id, RE_DENIED, "no collection begun");
		return;
	}
	sw = xcalloc(1, sizeof(*sw));
	sw->ds = xcalloc(GCB_MAX, sizeof(*sw->ds));
	if ((n = gcb_parse(body->p, body->len, sw->ds, GCB_MAX)) == -1) {
		free(sw->ds);
		free(sw);
		link_reply_err(l, m->id, RE_DIGEST_INVALID, "malformed batch");
		return;
	}
	sw->l = l;
	sw->id = m->id;
	sw->n = (size_t)n;
	sw->repo = repo ? xstrdup(repo) : NULL;
	sw->trash = xcalloc(1, sizeof(*sw->trash));
	sw->trash->repo = repo ? xstrdup(repo) : NULL;
	buf_init(&sw->trash->taken);
	buf_init(&sw->results);
	ev_timer_init(&sw->timer, sweep_slice, sw);
	LIST_INSERT_HEAD(&sweeps, sw, entry);
	sweep_slice(sw);
}

/* M_GC_SWEEP: blobs, each unless it is in use. */
void
gc_sweep(struct link *l, struct msg *m)
{
	sweep_start(l, m, NULL);
}

/* M_GC_UNLINK: a repository's layer links to blobs that are gone. */
void
gc_unlink(struct link *l, struct msg *m)
{
	const char *repo;

	if (req_repo(l, m, A_REPO, &repo) == -1)
		return;
	sweep_start(l, m, repo);
}

/* M_GC_UPLOADS: the sessions idle longer than A_TIME seconds. */
void
gc_uploads(struct link *l, struct msg *m)
{
	uint64_t age = msg_u64(m, A_TIME, 0);
	struct msgb mb;

	if (age < 60 || age > (uint64_t)INT32_MAX) {
		link_reply_err(l, m->id, RE_DENIED, "age out of range");
		return;
	}
	msgb_init(&mb, M_DONE);
	msgb_u64(&mb, A_COUNT, upload_expire_idle((time_t)age));
	link_reply(l, m->id, &mb);
}

/* Forget: a sweep still in its slices refuses the rest. */
static void
run_stop(void)
{
	struct trash *t;

	running = NULL;
	dset_clear(&kept);
	dset_clear(&swept);
	freeing.since = now_ms();
	while ((t = STAILQ_FIRST(&held)) != NULL) {
		STAILQ_REMOVE_HEAD(&held, entry);
		trash_start(t);
	}
}

/* M_GC_END: forget; pushes need no remembering until the next run.
 * What the sweeps took out is freed on its threads meanwhile; it is out
 * of the store already.  Not synced: a crash before the disk has the
 * renames brings a swept blob back as garbage for the next run (or leaves
 * its swept directory, freed by the next run: sweep_take), and a sync of the
 * store would flush every dirty page of its filesystem. */
void
gc_end(struct link *l, struct msg *m)
{
	if (running == l) {
		run_stop();
		log_info("gc: run ends");
	}
	link_reply_done(l, m->id);
}

void
gc_link_gone(struct link *l)
{
	struct sweep *sw;

	LIST_FOREACH(sw, &sweeps, entry)
		if (sw->l == l)
			sw->l = NULL;
	if (running == l)
		run_stop();
	if (syncing != NULL && syncing->l == l)
		syncing->l = NULL;
}

static void
sync_done(void *arg)
{
	struct gsync *s = arg;

	if (s->l != NULL)
		link_reply_done(s->l, s->id);
	if (syncing == s)
		syncing = NULL;
	free(s);
}

/* M_GC_SYNC: the last pull times reach the disk before gcd reads it. */
void
gc_sync(struct link *l, struct msg *m)
{
	struct gsync *s;

	if (syncing != NULL) {
		link_reply_err(l, m->id, RE_UNAVAILABLE, "a sync is running");
		return;
	}
	s = syncing = xcalloc(1, sizeof(*s));
	s->l = l;
	s->id = m->id;
	pulls_flush(sync_done, s);
}
