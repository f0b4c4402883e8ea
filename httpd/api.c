/*
 * api.c - the Distribution API on top of conn.c (stage 1: /v2/ only,
 * answered after a round trip to storaged so the chain is real).
 */
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "httpd.h"
#include "log.h"
#include "regerr.h"

static void
on_ping(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;

	conn_wait_done(c);
	if (m == NULL || m->type != M_PONG) {
		conn_header(c, "Retry-After", "1");
		conn_respond_error(c, RE_UNAVAILABLE, NULL);
		return;
	}
	conn_respond(c, 200, "application/json", "{}", 2);
}

static void
api_base(struct conn *c)
{
	struct link *st = httpd_storaged();
	struct msgb mb;

	if (st == NULL) {
		conn_header(c, "Retry-After", "1");
		conn_respond_error(c, RE_UNAVAILABLE, NULL);
		return;
	}
	msgb_init(&mb, M_PING);
	conn_wait(c, st, link_request(st, &mb, on_ping, c));
}

void
api_dispatch(struct conn *c)
{
	if (strcmp(c->req.path, "/v2/") == 0 || strcmp(c->req.path, "/v2") == 0)
		api_base(c);
	else
		conn_respond_error(c, RE_NAME_UNKNOWN, NULL);
}

void
api_conn_closed(struct conn *c)
{
}
