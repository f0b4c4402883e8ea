/*
 * authd.c - the authentication worker: passwords, ACLs and tokens live here,
 * away from the network.  This stage answers master's health checks and
 * accepts its peer sockets; the verbs come with the auth issue.
 */
#include <unistd.h>

#include "ca.h"
#include "link.h"
#include "log.h"
#include "proc.h"
#include "worker.h"

static struct link *httpd;

static void
httpd_request(struct link *l, struct msg *m, void *arg)
{
	link_reply_err(l, m->id, 0, "not implemented");
}

static void
httpd_close(struct link *l, void *arg)
{
	if (l == httpd)
		httpd = NULL;
	link_free(l);
}

/* A new socket to httpd replaces the old one. */
static void
authd_peer(int peer, int fd)
{
	if (peer != PROC_HTTPD) {
		log_warnx("unexpected peer %s", proc_name(peer));
		close(fd);
		return;
	}
	if (httpd)
		link_free(httpd);
	httpd = link_new(fd, peer, NULL, httpd_request, httpd_close, NULL);
}

static const struct link_accept authd_accept[] = {
	{ PROC_MASTER, M_TLS_KEY, 0 },
	{ 0, 0, 0 }
};

static void
authd_master_request(struct link *l, struct msg *m)
{
	if (m->type == M_TLS_KEY)
		ca_key(l, m);
}

static const struct worker_ops authd_ops = {
	.id = PROC_AUTHD,
	.accept = authd_accept,
	.peer = authd_peer,
	.peer_ca = ca_peer,
	.request = authd_master_request,
	.preload = ca_preload,
};

int
main(int argc, char **argv)
{
	worker_main(argc, argv, &authd_ops);
}
