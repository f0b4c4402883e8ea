/*
 * relay_metrics.c - the relay's figures for a scrape, read from the same
 * status document the status page and `regmaster status` show, so that
 * the three never disagree.
 */
#include <jansson.h>

#include "buf.h"
#include "log.h"
#include "mtext.h"
#include "status.h"
#include "tunneld.h"
#include "util.h"

static void status_page_metrics(struct buf *);

static double
doc_number(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	return json_is_integer(v) ? (double)json_integer_value(v) : 0;
}

/* worker_ops.metrics on a relay. */
void
relay_metrics(struct buf *b)
{
	static const struct {
		const char *name, *key, *help;
		enum mtext_type type;
	} f[] = {
		{ "regmaster_tunnel_streams", "streams", "visitor streams "
		    "open through the relay", MT_GAUGE },
		{ "regmaster_tunnel_bytes_in_total", "bytes_in", "stream bytes "
		    "from the tunnel clients toward visitors", MT_COUNTER },
		{ "regmaster_tunnel_bytes_out_total", "bytes_out", "stream "
		    "bytes from visitors to the tunnel clients", MT_COUNTER },
		{ "regmaster_tunnel_visitors_total", "visitors_total",
		    "visitor connections accepted", MT_COUNTER },
		{ "regmaster_tunnel_visitors_refused_total", "visitors_refused",
		    "visitor connections closed at once: their address had "
		    "tunnel.relay.visitors_per_address open", MT_COUNTER },
	};
	json_t *doc = relay_status_doc();

	mtext_family(b, "regmaster_tunnel_clients", MT_GAUGE,
	    "tunnel clients connected to the relay");
	mtext_sample(b, "regmaster_tunnel_clients", NULL, 0,
	    (double)json_array_size(json_object_get(doc, "clients")));
	for (size_t i = 0; i < nitems(f); i++) {
		mtext_family(b, f[i].name, f[i].type, f[i].help);
		mtext_sample(b, f[i].name, NULL, 0, doc_number(doc, f[i].key));
	}
	json_decref(doc);
	status_page_metrics(b);
}

/* The status page's refusals before a bcrypt (status_auth.c). */
static void
status_page_metrics(struct buf *b)
{
	struct mlabel l = { "reason", "budget" };

	mtext_family(b, "regmaster_tunnel_status_auth_refused_total",
	    MT_COUNTER, "status page requests refused before a password "
	    "check: past the bcrypt budget (429) or with the checks full (503)");
	mtext_count(b, "regmaster_tunnel_status_auth_refused_total", &l, 1,
	    status_auth_limited());
	l.value = "busy";
	mtext_count(b, "regmaster_tunnel_status_auth_refused_total", &l, 1,
	    status_auth_busy());
}
