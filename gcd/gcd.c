/*
 * gcd.c - the garbage collector: marks what manifests reference and asks
 * storaged to sweep the rest.  This stage keeps its link to storaged and
 * answers master's health checks; collection comes with its own issue.
 */
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "proc.h"
#include "worker.h"

static struct link *storaged;

static void
storaged_close(struct link *l, void *arg)
{
	if (l == storaged)
		storaged = NULL;
	link_free(l);
}

static void
gcd_peer(int peer, int fd)
{
	if (peer != PROC_STORAGED) {
		log_warnx("unexpected peer %s", proc_name(peer));
		close(fd);
		return;
	}
	if (storaged)
		link_free(storaged);
	storaged = link_new(fd, peer, NULL, NULL, storaged_close, NULL);
}

static const struct worker_ops gcd_ops = {
	.id = PROC_GCD,
	.peer = gcd_peer,
};

int
main(int argc, char **argv)
{
	worker_main(argc, argv, &gcd_ops);
}
