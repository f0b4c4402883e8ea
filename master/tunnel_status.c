/*
 * tunnel_status.c - the tunnel's lines of `regmaster status`: master asks
 * tunneld for its status document (M_TUNNEL_STATUS) and prints its
 * figures, one line per relay, client, group and member, as key=value
 * fields like the worker lines.  The answer waits for tunneld at most
 * STATUS_WAIT_MS; without one, status says so and shows the rest.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "log.h"
#include "master.h"
#include "util.h"

#define STATUS_WAIT_MS	1500

struct status_query {
	struct buf	 out;
	void		(*done)(struct buf *, void *);
	void		*arg;
	uint32_t	 id;
	struct ev_timer	 timer;
};

static json_int_t
num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void
groups_text(json_t *groups, struct buf *out)
{
	size_t i, j;
	json_t *g, *mb;

	json_array_foreach(groups, i, g) {
		json_t *members = json_object_get(g, "members");
		buf_printf(out, "tunnel group %s port=%lld members=%zu\n",
		    str(g, "group"), (long long)num(g, "port"),
		    json_array_size(members));
		json_array_foreach(members, j, mb)
			buf_printf(out, "tunnel member %s client=%s proxy=%s "
			    "weight=%lld healthy=%s streams=%lld visitors=%lld\n",
			    str(g, "group"), str(mb, "client"), str(mb, "proxy"),
			    (long long)num(mb, "weight"), json_is_true(
			    json_object_get(mb, "healthy")) ? "yes" : "no",
			    (long long)num(mb, "streams"),
			    (long long)num(mb, "visitors"));
	}
}

/* A client's connections to its relay. */
static void
client_text(json_t *o, struct buf *out)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(o, "connections"), i, c)
		buf_printf(out, "tunnel connection %lld name=%s relay=%s "
		    "state=%s uptime=%llds streams=%lld bytes_in=%lld "
		    "bytes_out=%lld\n", (long long)num(c, "index"),
		    str(o, "name"), str(o, "relay"), str(c, "state"),
		    (long long)num(c, "uptime"), (long long)num(c, "streams"),
		    (long long)num(c, "bytes_in"), (long long)num(c,
		    "bytes_out"));
}

/* The document's figures as lines; a document that is not one is said. */
static void
figures_text(const char *json, size_t len, struct buf *out)
{
	json_t *o = json_loadb(json, len, 0, NULL), *c;
	size_t i;

	if (!json_is_object(o)) {
		buf_puts(out, "tunnel: tunneld's status does not parse\n");
		json_decref(o);
		return;
	}
	if (strcmp(str(o, "role"), "client") == 0) {
		client_text(o, out);
		json_decref(o);
		return;
	}
	buf_printf(out, "tunnel relay uptime=%llds ports=%s streams=%lld "
	    "bytes_in=%lld bytes_out=%lld visitors_total=%lld "
	    "visitors_refused=%lld clients=%zu\n",
	    (long long)num(o, "uptime"), str(o, "ports"),
	    (long long)num(o, "streams"), (long long)num(o, "bytes_in"),
	    (long long)num(o, "bytes_out"), (long long)num(o,
	    "visitors_total"), (long long)num(o, "visitors_refused"),
	    json_array_size(json_object_get(o, "clients")));
	json_array_foreach(json_object_get(o, "clients"), i, c)
		buf_printf(out, "tunnel client %s address=%s version=%s "
		    "uptime=%llds connections=%lld reconnects=%lld streams=%lld "
		    "bytes_in=%lld bytes_out=%lld\n", str(c, "name"),
		    str(c, "address"), str(c, "version"),
		    (long long)num(c, "uptime"), (long long)num(c,
		    "connections"), (long long)num(c, "reconnects"),
		    (long long)num(c, "streams"), (long long)num(c, "bytes_in"),
		    (long long)num(c, "bytes_out"));
	groups_text(json_object_get(o, "groups"), out);
	json_decref(o);
}

static void
query_end(struct status_query *q)
{
	ev_timer_cancel(&q->timer);
	q->done(&q->out, q->arg);
	buf_free(&q->out);
	free(q);
}

static void
on_status(struct link *l, struct msg *m, void *arg)
{
	struct status_query *q = arg;

	if (m && m->type == M_STATUS)
		figures_text(m->v[A_BODY].p, m->v[A_BODY].len, &q->out);
	else if (m == NULL || msg_str(m, A_TEXT) == NULL ||
	    strcmp(msg_str(m, A_TEXT), "no tunnel runs") != 0)
		buf_puts(&q->out, "tunnel: tunneld did not answer\n");
	query_end(q);
}

static void
on_timeout(void *arg)
{
	struct status_query *q = arg;

	if (workers[PROC_TUNNELD].link)
		link_forget(workers[PROC_TUNNELD].link, q->id);
	buf_puts(&q->out, "tunnel: tunneld did not answer in time\n");
	query_end(q);
}

/* out (taken) and the tunnel's lines after it go to done, now or when
 * tunneld answers. */
void
tunnel_status(struct buf *out, void (*done)(struct buf *, void *),
    void *arg)
{
	struct status_query *q = xcalloc(1, sizeof(*q));
	struct msgb mb;

	q->out = *out;
	q->done = done;
	q->arg = arg;
	if (!workers[PROC_TUNNELD].enabled || workers[PROC_TUNNELD].link ==
	    NULL || !tunnel_enabled()) {
		q->done(&q->out, q->arg);
		buf_free(&q->out);
		free(q);
		return;
	}
	ev_timer_init(&q->timer, on_timeout, q);
	ev_timer_arm(&q->timer, STATUS_WAIT_MS);
	msgb_init(&mb, M_TUNNEL_STATUS);
	q->id = link_request(workers[PROC_TUNNELD].link, &mb, on_status, q);
}
