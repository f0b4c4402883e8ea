/*
 * pulls.c - the last pull times of cached manifests: a chained hash table
 * of (repository, digest) -> time, emptied into a batch at each write.
 * It holds only what was pulled since the last write, so its size is
 * bounded by the distinct manifests pulled in one interval (and by
 * PULLS_MAX: a full table is written at once).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cache_held.h"
#include "conf.h"
#include "conf_cache.h"
#include "ev.h"
#include "log.h"
#include "pulls.h"
#include "store.h"
#include "task.h"
#include "util.h"

#define PULLS_MAX	(1u << 20)	/* entries before a write is forced */
#define BUCKETS_MIN	256

struct pull {
	struct pull	*next;
	uint64_t	 h;
	time_t		 t;
	struct digest	 d;
	char		 name[];
};

static struct pull **tab;
static size_t nb, npulls;
static struct cache_upstream *ups;
static size_t nups;
static struct ev_timer flush_timer;
static int timer_ready;
/* Writes reach the disk in order: a sync answers after every earlier one. */
static struct taskq writes = TASKQ_INITIALIZER(writes);

/* FNV-1a of the name, then of the digest's hex. */
static uint64_t
pull_hash(const char *repo, const struct digest *d)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = repo; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	h = (h ^ '@') * 1099511628211ULL;
	for (const char *p = d->hex; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	return h ^ d->alg;
}

static struct pull *
pull_find(const char *repo, const struct digest *d, uint64_t h)
{
	struct pull *p;

	if (nb == 0)
		return NULL;
	for (p = tab[h & (nb - 1)]; p; p = p->next)
		if (p->h == h && digest_equal(&p->d, d) &&
		    strcmp(p->name, repo) == 0)
			return p;
	return NULL;
}

/* Twice the buckets, once the table holds as many entries. */
static void
tab_grow(void)
{
	size_t nnb = nb ? nb * 2 : BUCKETS_MIN;
	struct pull **nt = xcalloc(nnb, sizeof(*nt)), *p, *next;

	for (size_t i = 0; i < nb; i++)
		for (p = tab[i]; p; p = next) {
			next = p->next;
			p->next = nt[p->h & (nnb - 1)];
			nt[p->h & (nnb - 1)] = p;
		}
	free(tab);
	tab = nt;
	nb = nnb;
}

void
pulls_note(const char *repo, const struct digest *d, time_t now)
{
	uint64_t h;
	struct pull *p;
	size_t len;

	if (nups == 0 || !cache_held(ups, nups, repo))
		return;
	h = pull_hash(repo, d);
	if ((p = pull_find(repo, d, h)) != NULL) {
		p->t = now;
		return;
	}
	if (npulls >= nb)
		tab_grow();
	len = strlen(repo) + 1;
	p = xmalloc(sizeof(*p) + len);
	memcpy(p->name, repo, len);
	p->h = h;
	p->t = now;
	p->d = *d;
	p->next = tab[h & (nb - 1)];
	tab[h & (nb - 1)] = p;
	if (++npulls >= PULLS_MAX)
		pulls_flush(NULL, NULL);
}

time_t
pulls_pending(const char *repo, const struct digest *d)
{
	struct pull *p = pull_find(repo, d, pull_hash(repo, d));

	return p ? p->t : 0;
}

size_t
pulls_count(void)
{
	return npulls;
}

struct pbatch *
pulls_take(void)
{
	struct pbatch *b = xcalloc(1, sizeof(*b));
	char path[STORE_PATHMAX];
	struct pull *p, *next;

	b->v = xcalloc(npulls ? npulls : 1, sizeof(*b->v));
	for (size_t i = 0; i < nb; i++) {
		for (p = tab[i]; p; p = next) {
			next = p->next;
			if (path_rev_link(path, sizeof(path), p->name,
			    &p->d) == 0) {
				b->v[b->n].path = xstrdup(path);
				b->v[b->n++].t = p->t;
			}
			free(p);
		}
		tab[i] = NULL;
	}
	npulls = 0;
	return b;
}

void
pulls_batch_free(struct pbatch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].path);
	free(b->v);
	free(b);
}

/* Count one failure, keeping the first one's errno. */
static void
apply_failed(struct pbatch *b)
{
	if (b->failed++ == 0)
		b->err = errno;
}

void
pulls_apply(int rootfd, struct pbatch *b)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, 0 } };
	struct stat st;

	for (size_t i = 0; i < b->n; i++) {
		ts[1].tv_sec = b->v[i].t;
		if (fstatat(rootfd, b->v[i].path, &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno != ENOENT)	/* ENOENT: deleted since */
				apply_failed(b);
			continue;
		}
		if (st.st_mtime >= b->v[i].t)
			continue;	/* pushed again since: newer */
		if (utimensat(rootfd, b->v[i].path, ts,
		    AT_SYMLINK_NOFOLLOW) == -1 && errno != ENOENT)
			apply_failed(b);
	}
}

static void
flush_run(void *arg)
{
	pulls_apply(store_rootfd(), arg);
}

static void
flush_done(void *arg)
{
	struct pbatch *b = arg;

	if (b->failed) {
		errno = b->err;
		log_warn("last pull times: %zu of %zu revision links not "
		    "updated", b->failed, b->n);
	}
	if (b->done)
		b->done(b->arg);
	pulls_batch_free(b);
}

void
pulls_flush(void (*done)(void *), void *arg)
{
	struct pbatch *b = pulls_take();

	b->done = done;
	b->arg = arg;
	task_run(&writes, NULL, flush_run, flush_done, b);
}

static void
on_flush_timer(void *arg)
{
	if (npulls > 0)
		pulls_flush(NULL, NULL);
	ev_timer_cancel(&flush_timer);
	ev_timer_arm(&flush_timer, (uint64_t)conf_int(P_CACHE_PULL_INTERVAL) *
	    1000);
}

void
pulls_configure(void)
{
	char err[256];

	free(ups);
	ups = NULL;
	nups = 0;
	if (cache_upstreams_parse(conf_str(P_CACHE_UPSTREAMS), &ups, &nups,
	    err, sizeof(err)) == -1)
		log_warnx("cache.upstreams: %s", err);	/* master checked it */
	if (!timer_ready) {
		ev_timer_init(&flush_timer, on_flush_timer, NULL);
		timer_ready = 1;
	}
	ev_timer_arm(&flush_timer, (uint64_t)conf_int(P_CACHE_PULL_INTERVAL) *
	    1000);
}
