/*
 * gc.c - storaged's side of a collection.  gcd marks from what it reads of
 * the store and asks storaged to sweep; storaged is the one writer, so it
 * is where a sweep and a push meet.  From M_GC_BEGIN until M_GC_END (or
 * gcd's link closes) it remembers every blob a commit, a mount or a
 * checked manifest PUT uses, and refuses to sweep those, a blob younger
 * than gc.grace, or a manifest blob any repository still links.  Every
 * check and the removal happen in the loop, the same loop where a PUT's
 * references are checked and a commit begins, so one of the two always
 * sees the other.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "dset.h"
#include "index.h"
#include "log.h"
#include "pulls.h"
#include "regerr.h"
#include "store.h"
#include "storaged.h"
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

/* Unlink path and then its directory, without the rename and fsync a
 * client's delete gets: a sweep a crash undoes leaves garbage that the next
 * run sweeps, and each fsync would cost a collection a disk flush per
 * blob.  What is in the way (a store another user wrote) is repaired
 * once, as every other write of storaged's.  0, or -1 with errno (ENOENT:
 * it was not there). */
static int
sweep_file(const char *path)
{
	char dir[STORE_PATHMAX];
	char *slash;

	if (unlinkat(store_rootfd(), path, 0) == -1 && (!store_repair(path) ||
	    unlinkat(store_rootfd(), path, 0) == -1))
		return -1;
	if (str_copy(dir, path, sizeof(dir)) == 0 &&
	    (slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if (unlinkat(store_rootfd(), dir, AT_REMOVEDIR) == -1 &&
		    store_repair(dir))
			(void)unlinkat(store_rootfd(), dir, AT_REMOVEDIR);
	}
	return 0;
}

/* M_GC_BLOB: sweep one blob's data, unless it is in use. */
void
gc_blob(struct link *l, struct msg *m)
{
	char p[STORE_PATHMAX];
	const char *why;
	struct digest d;
	struct msgb mb;
	uint64_t size = 0;

	if (req_digest(l, m, A_DIGEST, &d) == -1)
		return;
	if (running != l) {
		link_reply_err(l, m->id, RE_DENIED, "no collection begun");
		return;
	}
	if ((why = blob_in_use(&d, &size)) != NULL) {
		if (*why == '\0')
			link_reply_err(l, m->id, RE_BLOB_UNKNOWN, NULL);
		else
			link_reply_err(l, m->id, RE_DENIED, why);
		return;
	}
	if (path_blob_data(p, sizeof(p), &d) == -1 ||
	    (sweep_file(p) == -1 && errno != ENOENT)) {
		reply_internal(l, m->id, "remove blob");
		return;
	}
	log_debug("gc: swept blob %s (%llu bytes)", d.hex,
	    (unsigned long long)size);
	msgb_init(&mb, M_DONE);
	msgb_u64(&mb, A_COUNT, size);
	link_reply(l, m->id, &mb);
}

/* M_GC_UNLINK: a repository's layer link to a blob that is gone. */
void
gc_unlink(struct link *l, struct msg *m)
{
	char p[STORE_PATHMAX];
	const char *repo;
	struct digest d;
	uint64_t size;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_digest(l, m, A_DIGEST, &d) == -1)
		return;
	if (running != l || gc_remembered(&d) ||
	    store_blob_stat(&d, &size) == 0) {
		link_reply_err(l, m->id, RE_DENIED, "blob in use");
		return;
	}
	if (path_layer_link(p, sizeof(p), repo, &d) == -1 ||
	    (sweep_file(p) == -1 && errno != ENOENT)) {
		reply_internal(l, m->id, "remove layer link");
		return;
	}
	link_reply_done(l, m->id);
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

/* M_GC_END: forget; pushes need no remembering until the next run. */
void
gc_end(struct link *l, struct msg *m)
{
	if (running == l) {
		running = NULL;
		dset_clear(&kept);
		log_info("gc: run ends");
	}
	link_reply_done(l, m->id);
}

void
gc_link_gone(struct link *l)
{
	if (running == l) {
		running = NULL;
		dset_clear(&kept);
	}
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
