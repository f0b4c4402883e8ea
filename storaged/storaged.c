/*
 * storaged.c - the content store worker (stage 1: links and health).
 */
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "proc.h"
#include "worker.h"

static struct link *peers[PROC_MAX];

static const struct link_accept storaged_accept[] = {
	{ PROC_HTTPD, M_PING, 0 },
	{ PROC_GCD, M_PING, 0 },
	{ 0, 0, 0 }
};

static void
peer_request(struct link *l, struct msg *m, void *arg)
{
	struct msgb mb;

	switch (m->type) {
	case M_PING:
		msgb_init(&mb, M_PONG);
		msgb_u64(&mb, A_PID, (uint64_t)getpid());
		link_reply(l, m->id, &mb);
		break;
	}
}

static void
peer_close(struct link *l, void *arg)
{
	int peer = link_peer(l);

	if (peers[peer] == l)
		peers[peer] = NULL;
	link_free(l);
}

static void
storaged_peer(int peer, int fd)
{
	if (peer != PROC_HTTPD && peer != PROC_GCD) {
		close(fd);
		return;
	}
	if (peers[peer])
		link_free(peers[peer]);
	peers[peer] = link_new(fd, peer, storaged_accept, peer_request,
	    peer_close, NULL);
}

static const struct worker_ops storaged_ops = {
	.id = PROC_STORAGED,
	.peer = storaged_peer,
};

int
main(int argc, char **argv)
{
	worker_main(argc, argv, &storaged_ops);
}
