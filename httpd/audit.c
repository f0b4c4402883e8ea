/*
 * audit.c - the audit records of requests (push, pull, delete, denied),
 * built where the answer is decided and handed to authd in batches: it
 * appends them to the file master opened, which httpd cannot rewrite.
 * A batch leaves every 100 ms or at 32 KiB.  While authd is away records
 * wait, up to 1 MiB; beyond that they are dropped, counted, and the count
 * logged at most once a minute.  A record costs one formatted line into
 * a buffer that stays allocated: it is on every manifest GET.
 */
#include <string.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "ev.h"
#include "httpd.h"
#include "log.h"

#define AUDIT_FLUSH_MS		100
#define AUDIT_BATCH		(32 * 1024)	/* send at once from here */
#define AUDIT_FRAME_MAX		(64 * 1024)	/* of one M_AUDIT (A_BODY) */
#define AUDIT_WAIT_MAX		(1024 * 1024)	/* held while authd is away */
#define AUDIT_DROP_LOG_MS	60000

static int on;
static struct buf pending;
static struct ev_timer flush_timer;
static int timer_ready;
static uint64_t dropped, dropped_logged_ms;

static void audit_flush(void *);

/* Records only when there is an audit log to append them to. */
void
audit_configure(void)
{
	on = conf_str(P_AUDIT_FILE)[0] != '\0';
	if (!timer_ready) {
		ev_timer_init(&flush_timer, audit_flush, NULL);
		buf_init(&pending);
		timer_ready = 1;
	}
}

/* Send up to AUDIT_FRAME_MAX bytes of whole lines; 0 when nothing left. */
static int
send_batch(struct link *ad)
{
	size_t n = buf_avail(&pending), count = 0;
	const char *p = buf_head(&pending), *nl;
	struct msgb mb;

	if (n == 0)
		return 0;
	if (n > AUDIT_FRAME_MAX) {
		/* lines are at most AUDIT_LINE_MAX: one ends in the frame */
		for (nl = p + AUDIT_FRAME_MAX - 1; *nl != '\n'; nl--)
			;
		n = (size_t)(nl - p) + 1;
	}
	for (nl = p; (nl = memchr(nl, '\n', n - (size_t)(nl - p))); nl++)
		count++;
	msgb_init(&mb, M_AUDIT);
	msgb_bytes(&mb, A_BODY, p, n);
	msgb_u64(&mb, A_COUNT, count);
	link_notify(ad, &mb);
	buf_consume(&pending, n);
	return 1;
}

static void
audit_flush(void *arg)
{
	struct link *ad = httpd_authd();

	if (ad == NULL)
		return;		/* audit_authd_up sends them */
	while (send_batch(ad))
		;
	buf_reset(&pending);
}

void
audit_authd_up(void)
{
	if (timer_ready && buf_avail(&pending))
		ev_timer_arm(&flush_timer, 0);
}

/* Over the bound: count it, and say so now and then. */
static void
audit_drop(void)
{
	dropped++;
	if (dropped_logged_ms && ev_now() - dropped_logged_ms <
	    AUDIT_DROP_LOG_MS)
		return;
	dropped_logged_ms = ev_now();
	log_warnx("audit: authd is not taking records: %llu dropped so far",
	    (unsigned long long)dropped);
}

void
audit_note(struct conn *c, const char *action, int status, const char *digest,
    uint64_t bytes)
{
	struct api_req *r = c->api;
	struct audit_rec rec;
	struct timespec now;

	if (!on)
		return;
	if (buf_avail(&pending) + AUDIT_LINE_MAX > AUDIT_WAIT_MAX) {
		audit_drop();
		return;
	}
	rec.addr = c->addr;
	rec.user = r->auth.user;
	rec.action = action;
	rec.repo = r->repo;
	/* an upload's path part is its session id, not a reference */
	rec.ref = r->route == R_UPLOAD || r->route == R_UPLOAD_START ? NULL :
	    r->ref;
	rec.digest = digest;
	rec.status = status;
	rec.bytes = bytes;
	clock_gettime(CLOCK_REALTIME, &now);
	if (audit_line(&pending, &rec, &now) == -1) {
		log_warnx("audit: a record over %d bytes dropped",
		    AUDIT_LINE_MAX);
		return;
	}
	if (buf_avail(&pending) >= AUDIT_BATCH && httpd_authd())
		audit_flush(NULL);
	else if (!ev_timer_armed(&flush_timer))
		ev_timer_arm(&flush_timer, AUDIT_FLUSH_MS);
}
