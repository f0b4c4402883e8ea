/*
 * copier.c - upload bodies copied pipe -> data file on threads.  Writes into
 * the page cache block when the disk falls behind (the kernel throttles
 * dirtiers), for tens or hundreds of milliseconds; done in the event loop
 * that would stall every manifest and tag lookup behind one big push.  A
 * copier thread touches nothing but its own struct, the two descriptors and
 * the hasher it was given; it ends by queueing itself on a done list and
 * waking the loop through an eventfd, and the loop joins it and calls back.
 */
#include <sys/eventfd.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "copier.h"
#include "digest.h"
#include "ev.h"
#include "log.h"
#include "task.h"
#include "util.h"

#define COPY_BUF	(256 * 1024)
#define WRITEBACK_EVERY	(8 * 1024 * 1024)	/* so the commit's fsync is short */
#define COPIERS_MAX	256		/* past this, uploads are refused */
#define COPIER_STACK	(256 * 1024)	/* hashing and pwrite need little */

struct copier {
	struct copier	*next;		/* on the done list */
	LIST_ENTRY(copier) live;	/* on copiers */
	pthread_t	 thread;
	struct copy_spec spec;
	struct copy_result res;
	copier_done_cb	 done;
	void		*arg;
	int		 stopfd;	/* eventfd: stop now */
	atomic_int	 stop;
	char		*buf;
};

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static struct copier *done_list;	/* ended, not yet joined */
static int donefd = -1;			/* eventfd: something is on done_list */
/* every copier not yet freed (stopped at exit) */
static LIST_HEAD(, copier) copiers = LIST_HEAD_INITIALIZER(copiers);
static size_t running;

/* pwrite(2) all of p at off or fail. */
static int
pwrite_all(int fd, const char *p, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = pwrite(fd, p, len, (off_t)off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Wait until the pipe has bytes; -1 when told to stop or poll fails. */
static int
copy_wait(struct copier *c)
{
	struct pollfd pfd[2] = {
		{ c->spec.pipefd, POLLIN, 0 }, { c->stopfd, POLLIN, 0 }
	};

	while (!atomic_load(&c->stop)) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			c->res.status = COPY_READ_ERR;
			c->res.err = errno;
			return -1;
		}
		if (pfd[0].revents)
			return 0;
	}
	return -1;
}

/* Append one buffer: limit, write, hash, writeback. */
static int
copy_chunk(struct copier *c, size_t n, uint64_t *synced)
{
	const struct copy_spec *s = &c->spec;
	struct copy_result *r = &c->res;

	if (s->limit != UINT64_MAX && r->copied + n > s->limit) {
		r->status = COPY_TOO_LONG;
		return -1;
	}
	if (pwrite_all(s->datafd, c->buf, n, s->off + r->copied) == -1) {
		r->status = COPY_WRITE_ERR;
		r->err = errno;
		return -1;
	}
	if (s->h)
		hasher_update(s->h, c->buf, n);
	r->copied += n;
	if (s->writeback && r->copied - *synced >= WRITEBACK_EVERY) {
		(void)sync_file_range(s->datafd, (off_t)(s->off + *synced),
		    (off_t)(r->copied - *synced), SYNC_FILE_RANGE_WRITE);
		*synced = r->copied;
	}
	return 0;
}

/* Copy until the pipe ends, something fails, or we are stopped. */
static void
copy_run(struct copier *c)
{
	uint64_t synced = 0;
	ssize_t n;

	for (;;) {
		if (atomic_load(&c->stop))
			return;
		n = read(c->spec.pipefd, c->buf, COPY_BUF);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (copy_wait(c) == -1)
				return;
			continue;
		}
		if (n == -1) {
			c->res.status = COPY_READ_ERR;
			c->res.err = errno;
			return;
		}
		if (n == 0) {
			c->res.status = COPY_EOF;
			return;
		}
		if (copy_chunk(c, (size_t)n, &synced) == -1)
			return;
	}
}

static void *
copier_main(void *arg)
{
	struct copier *c = arg;

	copy_run(c);
	pthread_mutex_lock(&done_lock);
	c->next = done_list;
	done_list = c;
	pthread_mutex_unlock(&done_lock);
	(void)eventfd_write(donefd, 1);
	return NULL;
}

/* Take c off the done list if it is there. */
static void
done_unlink(struct copier *c)
{
	struct copier **pp;

	pthread_mutex_lock(&done_lock);
	for (pp = &done_list; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&done_lock);
}

static void
copier_free(struct copier *c)
{
	LIST_REMOVE(c, live);
	close(c->stopfd);
	free(c->buf);
	free(c);
	running--;
}

/* One ended copy at a time: a callback may stop another copier. */
static void
on_done(int fd, int events, void *arg)
{
	struct copier *c;
	eventfd_t v;

	(void)eventfd_read(donefd, &v);
	for (;;) {
		pthread_mutex_lock(&done_lock);
		if ((c = done_list) != NULL)
			done_list = c->next;
		pthread_mutex_unlock(&done_lock);
		if (c == NULL)
			return;
		pthread_join(c->thread, NULL);
		c->done(c->arg, &c->res);
		copier_free(c);
	}
}

/* Whatever way the process exits, no copier may still be inside libcrypto
 * or a write when exit's cleanup runs. Registered after OpenSSL's own
 * handler (a hasher existed before any copy), so it runs before it. */
static void
copier_stop_all(void)
{
	struct copier *c;
	struct copy_result r;

	LIST_FOREACH(c, &copiers, live)
		copier_cancel(c);
	while ((c = LIST_FIRST(&copiers)) != NULL)
		copier_stop(c, &r);
}

static int
copier_init(void)
{
	if (donefd != -1)
		return 0;
	if ((donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	ev_add(donefd, EV_READ, on_done, NULL);
	if (atexit(copier_stop_all) != 0)
		log_warnx("copier: no exit handler");
	return 0;
}

struct copier *
copier_start(const struct copy_spec *spec, copier_done_cb done, void *arg)
{
	struct copier *c;

	if (running >= COPIERS_MAX)
		return errno = EBUSY, NULL;
	if (copier_init() == -1)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->spec = *spec;
	c->res.status = COPY_STOPPED;
	c->done = done;
	c->arg = arg;
	atomic_init(&c->stop, 0);
	c->buf = xmalloc(COPY_BUF);
	if ((c->stopfd = eventfd(0, EFD_CLOEXEC)) == -1) {
		free(c->buf);
		free(c);
		return NULL;
	}
	running++;
	LIST_INSERT_HEAD(&copiers, c, live);
	/* task.c's spawn: asynchronous signals blocked, faults not */
	if (thread_spawn(&c->thread, copier_main, c, COPIER_STACK) == -1) {
		int e = errno;
		log_warn("copier: cannot start a thread");
		copier_free(c);
		return errno = e, NULL;
	}
	return c;
}

void
copier_cancel(struct copier *c)
{
	atomic_store(&c->stop, 1);
	(void)eventfd_write(c->stopfd, 1);
}

void
copier_stop(struct copier *c, struct copy_result *res)
{
	copier_cancel(c);
	pthread_join(c->thread, NULL);
	done_unlink(c);
	*res = c->res;
	copier_free(c);
}
