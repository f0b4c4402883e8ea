/*
 * build.c - the index built in the background, so storaged answers from
 * its first second whatever the store's size (index.c loads a repository
 * the builder has not delivered yet on demand).  Loader 0 first walks
 * repositories/ for the names, in name order, publishing them in batches
 * as it goes (the catalog serves the pages it has passed); every loader
 * takes the next published name, reads that repository's links and
 * manifest blobs (drepo.c: the store read only, never the index) and
 * queues the result.
 * The queue is bounded in entries and bytes, so a slow loop only slows
 * the loaders; an eventfd wakes the loop, which merges a batch per wakeup
 * so that requests are served in between.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drepo.h"
#include "ev.h"
#include "index.h"
#include "log.h"
#include "storaged.h"
#include "thread.h"
#include "util.h"

/* Reads in parallel keep the disk's queue full on a cold store: at 20,000
 * manifests 17 s with 1 loader, 12 s with 2, 6 s with 4 (kill -9, cold). */
#define LOADERS		4
#define LOADERS_MAX	4
#define QUEUE_ITEMS	64
#define QUEUE_BYTES	(16u * 1024 * 1024)
#define DRAIN_BATCH	32		/* repositories merged per wakeup */
#define LOADER_STACK	(512 * 1024)	/* the walk recurses per component */

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* room in the queue, names out */
	struct drepo	*head, *tail;	/* delivered, not merged */
	size_t		 n, bytes;
	struct dname	*names;		/* the walk's, in order, so far */
	size_t		 nnames, namecap;
	int		 published;	/* the walk ended: every name is out */
	size_t		 next;		/* next name to load */
	int		 ended;		/* loaders done */
	atomic_int	 stop;
	atomic_int	 bodies;	/* the cache has room: send them */
	/* the loop's own */
	int		 efd;
	int		 nloaders;
	size_t		 nmerged;	/* names in the table */
	int		 merged_names;	/* all of them */
	int		 built;
	pthread_t	 t[LOADERS_MAX];
	uint64_t	 t0;
} B = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, .efd = -1 };

/* Queue b for the loop, waiting while the queue is full. */
static void
push(struct drepo *b)
{
	int wake;

	pthread_mutex_lock(&B.lock);
	while (!atomic_load(&B.stop) && B.n > 0 && (B.n >= QUEUE_ITEMS ||
	    B.bytes + b->bytes > QUEUE_BYTES))
		pthread_cond_wait(&B.cond, &B.lock);
	if (atomic_load(&B.stop)) {
		pthread_mutex_unlock(&B.lock);
		drepo_free(b);
		return;
	}
	if (B.tail)
		B.tail->next = b;
	else
		B.head = b;
	B.tail = b;
	wake = B.n++ == 0;
	B.bytes += b->bytes;
	pthread_mutex_unlock(&B.lock);
	if (wake)
		(void)eventfd_write(B.efd, 1);
}

/* The names walk publishes what it found this often, so that the loop
 * and the loaders follow it closely, without taking the lock per name. */
#define NAMES_BATCH	256
#define NAMES_BATCH_MS	20

/* The walk's names not published yet. */
struct nbatch {
	struct dname	 v[NAMES_BATCH];
	size_t		 n;
	uint64_t	 t;		/* last published */
	unsigned	 delay_us;	/* tests: a slow walk */
};

/* Hand the batch to the loop and the loaders. */
static void
names_publish(struct nbatch *nb, int done)
{
	pthread_mutex_lock(&B.lock);
	if (B.nnames + nb->n > B.namecap) {
		while (B.nnames + nb->n > B.namecap)
			B.namecap = B.namecap ? B.namecap * 2 : 1024;
		B.names = xreallocarray(B.names, B.namecap, sizeof(*B.names));
	}
	if (nb->n > 0)	/* an empty batch may have no array yet */
		memcpy(B.names + B.nnames, nb->v, nb->n * sizeof(*nb->v));
	B.nnames += nb->n;
	B.published = done;
	pthread_cond_broadcast(&B.cond);
	pthread_mutex_unlock(&B.lock);
	nb->n = 0;
	nb->t = now_ms();
	(void)eventfd_write(B.efd, 1);
}

/* The walk's callback: one more name, in order. */
static void
names_emit(void *arg, const char *name, int has_manifests)
{
	struct nbatch *nb = arg;

	if (nb->delay_us)
		(void)usleep(nb->delay_us);
	nb->v[nb->n].name = xstrdup(name);
	nb->v[nb->n++].has_manifests = has_manifests;
	if (nb->n == NAMES_BATCH || now_ms() - nb->t >= NAMES_BATCH_MS)
		names_publish(nb, 0);
}

/* Tests only (lib.sh tags every process it starts with
 * REGMASTER_TEST_TAG): microseconds the names walk waits per name, so
 * that a test can watch the catalog while the walk goes on. */
static unsigned
names_test_delay(void)
{
	const char *s = getenv("REGMASTER_TEST_NAMES_DELAY_US");
	unsigned long v;
	char *end;

	if (getenv("REGMASTER_TEST_TAG") == NULL || s == NULL)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || end == s || v > 1000000) {
		log_warnx("REGMASTER_TEST_NAMES_DELAY_US=%s ignored", s);
		return 0;
	}
	return (unsigned)v;
}

/* Loader 0's first phase: every name, for the loop and the loaders. */
static void
names_phase(void)
{
	struct nbatch *nb = xcalloc(1, sizeof(*nb));

	nb->t = now_ms();
	nb->delay_us = names_test_delay();
	drepo_names_walk(names_emit, nb);
	names_publish(nb, 1);
	free(nb);
}

/* The name of the next repository to read (it lives until the build
 * ends); NULL when none is left. */
static const char *
take_next(void)
{
	const char *name = NULL;

	pthread_mutex_lock(&B.lock);
	while (!atomic_load(&B.stop)) {
		if (B.next < B.nnames) {
			if (B.names[B.next++].has_manifests) {
				name = B.names[B.next - 1].name;
				break;
			}
		} else if (B.published)
			break;
		else
			pthread_cond_wait(&B.cond, &B.lock);
	}
	pthread_mutex_unlock(&B.lock);
	return name;
}

/* A loader: (loader 0: the names, then) repositories until none is left. */
static void *
loader_main(void *arg)
{
	const char *name;

	if (arg == NULL)
		names_phase();
	while ((name = take_next()) != NULL)
		push(drepo_read(name, atomic_load(&B.bodies), NULL));
	pthread_mutex_lock(&B.lock);
	B.ended++;
	pthread_mutex_unlock(&B.lock);
	(void)eventfd_write(B.efd, 1);
	return NULL;
}

/* Every loader has ended and everything is merged: join, log, tidy. */
static void
build_finish(void)
{
	for (int i = 0; i < B.nloaders; i++)
		pthread_join(B.t[i], NULL);
	ev_del(B.efd);
	close(B.efd);
	B.efd = -1;
	/* the loop allocates the index in the main arena: its in-use
	 * bytes less the cache are what the index costs */
	log_info("index: built: %zu repositories, %zu manifests, %zu tags, "
	    "%zu KiB of manifests cached, %zu KiB of heap, in %llu ms "
	    "(%d loaders)", repo_count(), minfo_count(), index_tag_count(),
	    cache_used() / 1024, mallinfo2().uordblks / 1024,
	    (unsigned long long)(now_ms() - B.t0), B.nloaders);
	drepo_names_free(B.names, B.nnames);
	B.names = NULL;
	B.nnames = 0;
	B.built = 1;
	/* what the loaders' arenas held for parsing goes back to the system */
	(void)malloc_trim(0);
}

/* 1 once every repository is merged. */
int
index_built(void)
{
	return B.built;
}

/* More names are out, in order, after those merged: into the table (which
 * is complete up to the last of them, and for good once the walk ended),
 * then the catalog requests they complete. */
static void
merge_names(struct dname *v, size_t n, int done)
{
	index_deliver_names(v, n, done);
	if (done) {
		B.merged_names = 1;
		log_info("index: %zu repository names in %llu ms", B.nnames,
		    (unsigned long long)(now_ms() - B.t0));
	}
	catalog_names_more();
}

/* Under the lock: the names published since the last merge (a copy of
 * their entries, the strings stay B.names'), *done if they are the last. */
static struct dname *
names_take(size_t *n, int *done)
{
	struct dname *v = NULL;

	*n = B.nnames - B.nmerged;
	*done = B.published && !B.merged_names;
	if (*n > 0) {
		v = xreallocarray(NULL, *n, sizeof(*v));
		memcpy(v, B.names + B.nmerged, *n * sizeof(*v));
		B.nmerged = B.nnames;
	}
	return v;
}

/* The eventfd: merge the names (first) and a batch of repositories. */
static void
on_build(int fd, int events, void *arg)
{
	struct drepo *batch, *b, *next;
	struct dname *names;
	int done, left, all_ended;
	size_t k, nn;
	eventfd_t v;

	(void)eventfd_read(fd, &v);
	pthread_mutex_lock(&B.lock);
	names = names_take(&nn, &done);
	batch = B.head;
	for (k = 0, b = NULL; k < DRAIN_BATCH && B.head; k++) {
		b = B.head;
		B.head = b->next;
		B.n--;
		B.bytes -= b->bytes;
	}
	if (b)
		b->next = NULL;
	if (B.head == NULL)
		B.tail = NULL;
	left = B.n > 0;
	all_ended = B.ended == B.nloaders;
	pthread_cond_broadcast(&B.cond);
	pthread_mutex_unlock(&B.lock);
	if (nn > 0 || done)
		merge_names(names, nn, done);
	free(names);
	for (b = k ? batch : NULL; b; b = next) {
		next = b->next;
		index_deliver(b);
		drepo_free(b);
	}
	if (cache_used() + CACHE_ITEM_MAX >= CACHE_BUDGET)
		atomic_store(&B.bodies, 0);
	if (left)
		(void)eventfd_write(fd, 1);
	else if (all_ended && B.merged_names)
		build_finish();
}

/* At exit: loaders waiting for room or names stop; the others end with
 * the process (they only read the store and their own memory). */
static void
build_stop(void)
{
	atomic_store(&B.stop, 1);
	pthread_mutex_lock(&B.lock);
	pthread_cond_broadcast(&B.cond);
	pthread_mutex_unlock(&B.lock);
}

/* Start the loaders; the loop merges what they read as it comes. */
void
index_start(void)
{
	if (B.efd != -1 || B.t0 != 0)
		fatalx("index built twice");
	B.t0 = now_ms();
	atomic_init(&B.stop, 0);
	atomic_init(&B.bodies, 1);
	if ((B.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("index: eventfd");
	ev_add(B.efd, EV_READ, on_build, NULL);
	if (atexit(build_stop) != 0)
		log_warnx("index: no exit handler");
	for (int i = 0; i < LOADERS; i++) {
		if (thread_spawn(&B.t[i], loader_main, i ? &B : NULL,
		    LOADER_STACK) == -1)
			fatal("index: cannot start a loader thread");
		B.nloaders++;
	}
}
