/*
 * store_repair.c - storaged's repair channel: a socketpair of its own,
 * handed over once at each spawn (as root only: a user cannot change
 * owners), on which storaged asks, synchronously, that the entries in the
 * way of a write that failed with EACCES or EPERM be given back to it
 * (store_owner.c does the walk).  storaged is not trusted: the path is
 * validated there, and the entries visited are paid from a budget that
 * refills at a bounded rate, so a storaged that asks without end cannot
 * keep master walking its store.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "regerr.h"
#include "util.h"

#define REPAIR_WALK_MAX	100000	/* entries one repair may visit */
#define REPAIR_BURST	400000	/* entries repairs may visit in a burst */
#define REPAIR_RATE	40000	/* entries per second, after that */
#define REPAIR_COST_MIN	64	/* what a repair costs that visits less */

static struct link *repair_link;
static uint64_t budget = REPAIR_BURST, budget_ms;

static const struct link_accept repair_accept[] = {
	{ PROC_STORAGED, M_STORE_REPAIR, 0 },
	{ 0, 0, 0 }
};

/* The entries repairs may visit now. */
static uint64_t
budget_now(void)
{
	uint64_t now = now_ms();

	if (budget_ms != 0 && now > budget_ms)
		budget += (now - budget_ms) * REPAIR_RATE / 1000;
	if (budget > REPAIR_BURST)
		budget = REPAIR_BURST;
	budget_ms = now;
	return budget;
}

/* M_STORE_REPAIR{A_PATH}: M_DONE{A_COUNT entries changed} or M_ERR. */
static void
on_repair(struct link *l, struct msg *m, void *arg)
{
	const char *rel = msg_str(m, A_PATH), *root = conf_str(P_STORAGE_ROOT);
	const char *user = worker_user(PROC_STORAGED);
	uint64_t avail = budget_now(), cost;
	unsigned long seen;
	struct msgb mb;
	long n;

	if (avail < REPAIR_COST_MIN) {
		log_warnx("storaged asks for repairs faster than they may "
		    "run: refused %s", rel);
		link_reply_err(l, m->id, RE_TOOMANYREQUESTS, "repair budget "
		    "spent");
		return;
	}
	n = store_owner_repair(root, user, rel, avail < REPAIR_WALK_MAX ?
	    (unsigned long)avail : REPAIR_WALK_MAX, &seen);
	cost = seen > REPAIR_COST_MIN ? seen : REPAIR_COST_MIN;
	budget = cost > budget ? 0 : budget - cost;
	if (n == -1) {
		log_warnx("storaged asked to repair %s: %s", rel,
		    errno == EINVAL ? "not a path of the store" :
		    strerror(errno));
		link_reply_err(l, m->id, errno == EINVAL ? RE_NAME_INVALID :
		    RE_INTERNAL, NULL);
		return;
	}
	if (n > 0)
		log_info("gave %ld entries at %s/%s to %s", n, root, rel, user);
	msgb_init(&mb, M_DONE);
	msgb_u64(&mb, A_COUNT, (uint64_t)n);
	link_reply(l, m->id, &mb);
}

static void
on_repair_close(struct link *l, void *arg)
{
	if (repair_link == l)
		repair_link = NULL;
	link_free(l);
}

/* storaged w was just spawned: a fresh channel, its end handed over before
 * its configuration (whose arrival opens the store). */
void
repair_channel_open(struct worker *w)
{
	struct msgb mb;
	int sv[2];

	repair_channel_close();
	if (geteuid() != 0)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	repair_link = link_new(sv[0], PROC_STORAGED, repair_accept, on_repair,
	    on_repair_close, NULL);
	msgb_init(&mb, M_REPAIR_FD);
	msgb_fd(&mb, A_FD, sv[1]);
	link_notify(w->link, &mb);
}

/* storaged is gone: so is its channel. */
void
repair_channel_close(void)
{
	struct link *l = repair_link;

	repair_link = NULL;
	if (l != NULL)
		link_free(l);
}
