/*
 * audit.c - the audit log: httpd's records (M_AUDIT) and our own (logins,
 * tokens, rate limits) appended to the file master opened for appending,
 * so that httpd can add history but never rewrite it.  A thread does the
 * writing: a slow disk must not slow the answers authd gives.  The queue is
 * bounded; past it records are dropped, counted and reported every few
 * seconds.  httpd's bodies are taken only as whole lines, each one JSON
 * object, so a broken or hostile httpd cannot run a line into the next or
 * break the file's one-object-a-line shape.  Every line gets a "by" field
 * of our own saying which process made it, so history a compromised httpd
 * adds can never pass for authd's (logins, tokens, rate limits).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "authd.h"
#include "log.h"
#include "thread.h"
#include "util.h"

#define AUDIT_QUEUE_MAX	(4 * 1024 * 1024)
#define REPORT_MS	10000
#define WRITER_STACK	(64 * 1024)
#define DRAIN_POLL_MS	50

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
/* under lock: the lines to write, the next descriptor, the writer's state */
static struct buf queue;
static int next_fd = -1, swap_fd, writing;

/* the loop's alone */
static int enabled, started;
static uint64_t dropped, refused, reported;
/* the writer's, read by the loop */
static atomic_ulong write_errors;
static atomic_int write_errno;

/* Write all of b; on an error drop the rest, and end a line cut short so
 * the next batch starts on a line of its own. */
static void
write_batch(int fd, const struct buf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = write(fd, b->data + off, b->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			atomic_store(&write_errno, n == 0 ? EIO : errno);
			atomic_fetch_add(&write_errors, 1);
			if (off > 0 && b->data[off - 1] != '\n')
				(void)write(fd, "\n", 1);
			return;
		}
		off += (size_t)n;
	}
}

static void *
writer_main(void *unused)
{
	struct buf batch, t;
	int fd = -1, swap;

	buf_init(&batch);
	for (;;) {
		pthread_mutex_lock(&lock);
		while (queue.len == 0 && !swap_fd)
			pthread_cond_wait(&wake, &lock);
		t = queue;
		queue = batch;
		batch = t;
		swap = swap_fd;
		writing = 1;
		pthread_mutex_unlock(&lock);
		/* what was queued before a reopen belongs to the old file */
		if (fd != -1 && batch.len)
			write_batch(fd, &batch);
		buf_reset(&batch);
		pthread_mutex_lock(&lock);
		if (swap) {
			if (fd != -1)
				close(fd);
			fd = next_fd;
			next_fd = -1;
			swap_fd = 0;
		}
		writing = 0;
		pthread_cond_broadcast(&idle);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/* Drops, refusals and write errors, said at most every REPORT_MS. */
static void
report(void)
{
	unsigned long errs = atomic_load(&write_errors);

	if ((dropped | refused | errs) == 0 || now_ms() - reported < REPORT_MS)
		return;
	reported = now_ms();
	if (dropped)
		log_warnx("audit: %llu records dropped: the disk is not "
		    "keeping up", (unsigned long long)dropped);
	if (refused)
		log_warnx("audit: %llu records refused: not one JSON object "
		    "a line, or over %d bytes", (unsigned long long)refused,
		    AUDIT_LINE_MAX);
	if (errs)
		log_warnx("audit: %lu writes failed: %s", errs,
		    strerror(atomic_load(&write_errno)));
	dropped = refused = 0;
	atomic_fetch_sub(&write_errors, errs);
}

void
audit_set_fd(int fd)
{
	pthread_t t;

	if (!started) {
		buf_init(&queue);
		if (thread_spawn(&t, writer_main, NULL, WRITER_STACK) == -1)
			fatal("audit: thread");
		pthread_detach(t);
		started = 1;
	}
	pthread_mutex_lock(&lock);
	if (swap_fd && next_fd != -1)
		close(next_fd);		/* never put in use */
	next_fd = fd;
	swap_fd = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	enabled = fd != -1;
}

/* Queue the line p (n bytes, its last one the object's closing brace,
 * no newline) with by, the process that made it, as its last field. */
static void
append(const char *p, size_t n, const char *by)
{
	char tail[32];
	int tn;

	tn = snprintf(tail, sizeof(tail), ",\"by\":\"%s\"}\n", by);
	if (tn < 0 || (size_t)tn >= sizeof(tail) || n < 2 || p[n - 1] != '}')
		fatalx("audit: line to append is not an object");
	pthread_mutex_lock(&lock);
	if (queue.len + n + (size_t)tn > AUDIT_QUEUE_MAX)
		dropped++;
	else {
		buf_append(&queue, p, n - 1);
		buf_append(&queue, tail, (size_t)tn);
		pthread_cond_signal(&wake);
	}
	pthread_mutex_unlock(&lock);
}

void
audit_event(const struct audit_rec *r)
{
	struct timespec now;
	struct buf b;

	if (!enabled)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	buf_init(&b);
	if (audit_line(&b, r, &now) == -1)
		refused++;
	else	/* audit_line ends the line in "}\n" */
		append(b.data, b.len - 1, "authd");
	buf_free(&b);
	report();
}

/* One line of httpd's (without its newline): printable ASCII, as
 * audit_line writes, one JSON object, with every field a reader expects
 * and no "by" (that one is ours to add). */
static int
line_ok(const char *p, size_t n)
{
	static const char *const fields[] = { "time", "addr", "user",
	    "action", "repo", "ref", "digest", "status", "bytes" };
	json_error_t err;
	json_t *j;
	int ok;

	if (n < 2 || n >= AUDIT_LINE_MAX || p[0] != '{' || p[n - 1] != '}')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return 0;
	j = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);
	ok = json_is_object(j);
	for (size_t i = 0; ok && i < nitems(fields); i++)
		ok = json_object_get(j, fields[i]) != NULL;
	ok = ok && json_object_get(j, "by") == NULL;
	json_decref(j);
	return ok;
}

void
audit_body(const char *body, size_t len)
{
	const char *p = body, *end = body + len, *nl;

	if (!enabled)
		return;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			refused++;	/* a line without its end */
			break;
		}
		if (line_ok(p, (size_t)(nl - p)))
			append(p, (size_t)(nl - p), "httpd");
		else
			refused++;
		p = nl + 1;
	}
	report();
}

/* At stop: give the writer until deadline to empty the queue. */
void
audit_drain(uint64_t deadline_ms)
{
	struct timespec ts;

	if (!started)
		return;
	pthread_mutex_lock(&lock);
	while ((queue.len || writing || swap_fd) && now_ms() < deadline_ms) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += DRAIN_POLL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&idle, &lock, &ts);
	}
	pthread_mutex_unlock(&lock);
}
