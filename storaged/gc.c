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
	running = l;
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
 * pulls and pushes are served between slices.  Taking a blob out is one
 * rename of its directory into the batch's own directory in the scratch
 * directory, in the loop where the check is: from then on a PUT, a mount
 * or a commit finds it absent.  Unlinking what was moved (freeing the
 * data) is done on a thread.  Each batch has its own directory there, so
 * the loop's renames never wait for the lock of the directory the thread
 * empties (with one shared directory the two took turns, and it grew to
 * every entry of a run).
 *
 * When the loop has requests to answer (its turn found descriptors
 * ready), the batches in flight together take one slice a millisecond at
 * most: a sweep shares the loop with every manifest GET, and at full
 * speed it took more than half of a loop that pulls kept busy.  An idle
 * loop sweeps a slice a turn.
 */
#define SWEEP_SLICE	16
#define SWEEP_PAUSE_MS	1
#define TRASH_NICE	19

struct trash {
	char		 dir[STORE_PATHMAX];	/* "": not made yet */
	const char	*leaf;		/* the one file each holds */
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
static struct taskq sweepq = TASKQ_INITIALIZER(sweepq);

/* The thread (a task's own, gone after it): unlink what the slices moved
 * away, then their directory.  At the lowest priority: an unlink and an
 * rmdir cost about 60 us of CPU a blob, seconds for a big run, and the
 * pulls storaged and httpd serve meanwhile come first; the swept blobs
 * are out of the store already, only their space waits. */
static void
trash_run(void *arg)
{
	struct trash *t = arg;
	char name[32], p[64];
	int fd;

	(void)setpriority(PRIO_PROCESS, 0, TRASH_NICE);
	if ((fd = openat(store_rootfd(), t->dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		t->failed = t->n;
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		(void)snprintf(name, sizeof(name), "%zu", i);
		(void)snprintf(p, sizeof(p), "%s/%s", name, t->leaf);
		(void)unlinkat(fd, p, 0);
		if (unlinkat(fd, name, AT_REMOVEDIR) == -1 &&
		    store_rmtree_at(fd, name, 0) == -1)
			t->failed++;
	}
	close(fd);
	(void)unlinkat(store_rootfd(), t->dir, AT_REMOVEDIR);
}

static void
trash_done(void *arg)
{
	struct trash *t = arg;

	if (t->failed)
		log_warnx("gc: %zu of %zu swept entries stay in the scratch "
		    "directory until the next start", t->failed, t->n);
	free(t);
}

/* Take path's directory (the blob's, or the layer link's) out, into
 * the batch's directory under its number. */
static enum gcb_result
sweep_detach(struct sweep *sw, const char *dir)
{
	struct trash *t = sw->trash;
	char to[STORE_PATHMAX];

	if (t->dir[0] == '\0' && store_scratch_dir(t->dir, sizeof(t->dir)) ==
	    -1) {
		log_warn("gc: scratch directory");
		t->dir[0] = '\0';
		return GCB_FAILED;
	}
	if (snprintf(to, sizeof(to), "%s/%zu", t->dir, t->n) >=
	    (int)sizeof(to))
		return GCB_FAILED;
	if (store_detach_to(dir, to) == -1) {
		if (errno == ENOENT)
			return GCB_ABSENT;
		log_warn("gc: sweep %s", dir);
		return GCB_FAILED;
	}
	t->n++;
	return GCB_SWEPT;
}

/* One digest of a batch: a blob, or repo's layer link to a swept one. */
static void
sweep_one(struct sweep *sw, const struct digest *d)
{
	char p[STORE_PATHMAX], *slash;
	enum gcb_result r;
	const char *why;
	uint64_t size = 0;

	if (sw->repo == NULL) {
		if ((why = blob_in_use(d, &size)) != NULL)
			r = *why ? GCB_REFUSED : GCB_ABSENT;
		else if (path_blob_dir(p, sizeof(p), d) == -1)
			r = GCB_FAILED;
		else
			r = sweep_detach(sw, p);
	} else if (gc_remembered(d) || store_blob_stat(d, &size) == 0)
		r = GCB_REFUSED;
	else if (path_layer_link(p, sizeof(p), sw->repo, d) == -1 ||
	    (slash = strrchr(p, '/')) == NULL)
		r = GCB_FAILED;
	else {
		*slash = '\0';
		r = sweep_detach(sw, p);
	}
	gcb_result_add(&sw->results, r, r == GCB_SWEPT ? size : 0);
}

/* The batch is through (or stopped): answer, hand the moved to a thread. */
static void
sweep_finish(struct sweep *sw)
{
	struct msgb mb;

	if (sw->trash->dir[0] != '\0')
		task_run(&sweepq, NULL, trash_run, trash_done, sw->trash);
	else
		trash_done(sw->trash);
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
	sw->trash->leaf = repo ? "link" : "data";
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
	running = NULL;
	dset_clear(&kept);
}

/* M_GC_END: forget; pushes need no remembering until the next run.
 * What the sweeps took out is freed on its threads meanwhile; it is out
 * of the store already.  Not synced: a crash before the disk has the
 * renames brings a swept blob back as garbage for the next run (or leaves
 * it in the scratch directory, emptied at start), and a sync of the store
 * would flush every dirty page of its filesystem. */
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
