/*
 * owner.c - asking master to give back what is in the way of a write.
 * Entries another program wrote as root (a registry:2 run in between)
 * make storaged's writes fail with EACCES; master no longer walks the
 * whole store at each start, so the write that meets one asks master over
 * the repair channel, synchronously and with a bounded wait as httpd asks
 * authd to sign, and is retried once.  Task and copier threads write too:
 * one request at a time.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "store.h"
#include "util.h"

/* master walks at most a bounded part of the store per repair (its own
 * limit), a few seconds on a cold disk */
#define REPAIR_TIMEOUT_MS	20000

static pthread_mutex_t repair_mu = PTHREAD_MUTEX_INITIALIZER;
static int repair_fd = -1;
static uint32_t repair_seq;

/* master's end of the channel arrived (once, before the configuration). */
void
store_repair_channel(int fd)
{
	pthread_mutex_lock(&repair_mu);
	if (repair_fd != -1)
		close(repair_fd);
	repair_fd = fd;
	pthread_mutex_unlock(&repair_mu);
}

/* Send M_STORE_REPAIR{path}; its id, 0 if it could not go. */
static uint32_t
repair_send(const char *path)
{
	struct msgb mb;
	uint32_t id = ++repair_seq ? repair_seq : ++repair_seq;
	ssize_t n;

	msgb_init(&mb, M_STORE_REPAIR);
	msgb_str(&mb, A_PATH, path);
	msgb_finish(&mb, id, 0);
	n = msg_sendfd(repair_fd, mb.b.data, mb.b.len, NULL, 0);
	msgb_free(&mb);
	return n == -1 ? 0 : id;
}

/* master's answer to request id within the deadline: the number of entries
 * it changed, or -1. */
static long
repair_wait(uint32_t id)
{
	static char frame[MSG_MAXFRAME];
	struct msg m;

	if (msg_wait_reply(repair_fd, id, REPAIR_TIMEOUT_MS, frame, &m) == -1 ||
	    m.type != M_DONE)
		return -1;	/* refused: master logs why */
	return (long)msg_u64(&m, A_COUNT, 0);
}

/*
 * A write under path (a directory, or the file) failed: if it was for want
 * of permission and master gave storaged something in the way, 1 (retry
 * the write once); else 0, errno as it was.
 */
int
store_repair(const char *path)
{
	int saved = errno;
	uint32_t id;
	long n = -1;
	int asked;

	if (saved != EACCES && saved != EPERM)
		return 0;
	pthread_mutex_lock(&repair_mu);
	if ((asked = repair_fd != -1) && (id = repair_send(path)) != 0)
		n = repair_wait(id);
	pthread_mutex_unlock(&repair_mu);
	if (n > 0)
		log_info("master gave %ld entries at %s back to storaged", n,
		    path);
	else if (asked)
		log_warnx("%s: %s, and master repaired nothing", path,
		    strerror(saved));
	errno = saved;
	return n > 0;
}
