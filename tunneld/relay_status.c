/*
 * relay_status.c - the relay's status document, one JSON object that the
 * status page, `regmaster status` (through master) and metrics all show:
 *
 * {"role":"relay","version","uptime","ports","streams","bytes_in",
 *  "bytes_out","visitors_total","visitors_refused",
 *  "clients":[{"name","address","version","uptime","connections",
 *   "reconnects","streams","bytes_in","bytes_out"}],
 *  "groups":[{"group","port","members":[{"client","proxy","weight",
 *   "healthy","streams","visitors"}]}]}
 *
 * Bytes are stream bytes: "in" from the clients (toward visitors), "out"
 * to them; uptimes in seconds.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "log.h"
#include "msg.h"
#include "relay.h"
#include "tunneld.h"
#include "util.h"

static json_t *
client_json(const struct rclient *c, uint64_t *streams, uint64_t *in,
    uint64_t *out)
{
	uint64_t st = 0, bi = c->bytes_in, bo = c->bytes_out;
	struct rconn *rc;

	LIST_FOREACH(rc, &c->conns, entry) {
		st += mux_nstreams(rc->mux);
		bi += mux_stats(rc->mux)->bytes_in;
		bo += mux_stats(rc->mux)->bytes_out;
	}
	*streams += st;
	*in += bi - c->bytes_in;
	*out += bo - c->bytes_out;
	return json_pack("{s:s, s:s, s:s, s:I, s:i, s:I, s:I, s:I, s:I}",
	    "name", c->name, "address", c->address, "version", c->version,
	    "uptime", (json_int_t)(c->nconns ? (now_ms() - c->since_ms) /
	    1000 : 0), "connections", (int)c->nconns, "reconnects",
	    (json_int_t)c->reconnects, "streams", (json_int_t)st, "bytes_in",
	    (json_int_t)bi, "bytes_out", (json_int_t)bo);
}

static json_t *
group_json(const struct rgroup *g)
{
	json_t *members = json_array();

	for (size_t i = 0; i < g->n; i++) {
		const struct rmember *mb = g->m[i];
		json_array_append_new(members, json_pack("{s:s, s:s, s:i, s:b, "
		    "s:I, s:I}", "client", mb->client ? mb->client->name : "",
		    "proxy", mb->proxy, "weight", (int)mb->weight, "healthy",
		    mb->healthy, "streams", (json_int_t)mb->streams,
		    "visitors", (json_int_t)mb->visitors));
	}
	return json_pack("{s:s, s:i, s:b, s:o}", "group", g->name, "port",
	    (int)g->port, "listening", g->lfd != -1, "members", members);
}

json_t *
relay_status_doc(void)
{
	json_t *clients = json_array(), *groups = json_array(), *o;
	uint64_t streams = 0, in = relay_bytes_in, out = relay_bytes_out;

	for (size_t i = 0; i < RELAY_CLIENTS_MAX; i++)
		if (relay_clients[i])
			json_array_append_new(clients, client_json(
			    relay_clients[i], &streams, &in, &out));
	for (size_t i = 0; i < RELAY_GROUPS_MAX; i++)
		if (relay_groups[i])
			json_array_append_new(groups, group_json(
			    relay_groups[i]));
	o = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:o, "
	    "s:o}",
	    "role", "relay", "version", TUNNEL_VERSION, "uptime",
	    (json_int_t)(relay_started_ms ? (now_ms() - relay_started_ms) /
	    1000 : 0), "ports", conf_str(P_TUNNEL_RELAY_PORTS), "streams",
	    (json_int_t)streams, "bytes_in", (json_int_t)in, "bytes_out",
	    (json_int_t)out, "visitors_total",
	    (json_int_t)relay_visitors_total, "visitors_refused",
	    (json_int_t)relay_visitors_refused, "clients", clients, "groups",
	    groups);
	if (o == NULL)
		fatalx("the status document does not build");
	return o;
}

char *
relay_status_json(void)
{
	json_t *o = relay_status_doc();
	char *s;

	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		fatalx("the status document does not format");
	return s;
}

/* master -> tunneld: the document, for `regmaster status`: the relay's,
 * or the client's on a host that is no relay. */
void
relay_status_request(struct link *l, struct msg *m, int relay)
{
	char *s = relay ? relay_status_json() : client_status_json();
	size_t len = strlen(s);
	struct msgb mb;

	if (len > msg_attr_defs[A_BODY].max) {
		link_reply_err(l, m->id, 0, "the status document is too large "
		    "for a message");
		free(s);
		return;
	}
	msgb_init(&mb, M_STATUS);
	msgb_bytes(&mb, A_BODY, s, len);
	link_reply(l, m->id, &mb);
	free(s);
}
