/*
 * relay_reg.c - what the relay's clients registered: clients by name,
 * groups (a public port each, opened by master on request), their members
 * (one client's proxy, with its weight and health), and the visitors that
 * arrive on the public ports, each handed to a member picked by smooth
 * weighted round-robin and to the least busy of that client's connections.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_tunnel.h"
#include "link.h"
#include "log.h"
#include "relay.h"
#include "tframe.h"
#include "tunneld.h"
#include "util.h"
#include "worker.h"

struct rclient *relay_clients[RELAY_CLIENTS_MAX];
struct rgroup *relay_groups[RELAY_GROUPS_MAX];

static void visitor_accept(int fd, int events, void *arg);

/* The client of this name, remembered or new; NULL when the table is
 * full of present clients. */
struct rclient *
reg_client(const char *name)
{
	struct rclient **slot = NULL, *c;

	for (size_t i = 0; i < RELAY_CLIENTS_MAX; i++) {
		c = relay_clients[i];
		if (c && strcmp(c->name, name) == 0)
			return c;
		if (c == NULL && slot == NULL)
			slot = &relay_clients[i];
		else if (c && c->nconns == 0 && (slot == NULL || (*slot &&
		    c->last_seen_ms < (*slot)->last_seen_ms)))
			slot = &relay_clients[i];	/* the oldest absent */
	}
	if (slot == NULL)
		return NULL;
	free(*slot);
	c = *slot = xcalloc(1, sizeof(*c));
	str_copy(c->name, name, sizeof(c->name));
	LIST_INIT(&c->conns);
	return c;
}

static struct rgroup *
group_by(const char *name, unsigned port)
{
	for (size_t i = 0; i < RELAY_GROUPS_MAX; i++) {
		struct rgroup *g = relay_groups[i];
		if (g && ((name && strcmp(g->name, name) == 0) ||
		    (!name && g->port == port)))
			return g;
	}
	return NULL;
}

static void
group_free(struct rgroup *g)
{
	for (size_t i = 0; i < RELAY_GROUPS_MAX; i++)
		if (relay_groups[i] == g)
			relay_groups[i] = NULL;
	if (g->lfd != -1) {
		ev_del(g->lfd);
		close(g->lfd);
		log_info("group %s: no members left, port %u closed", g->name,
		    g->port);
	}
	free(g);
}

/* Master's answer to our claim of the group's port. */
static void
on_bound(struct link *l, struct msg *m, void *arg)
{
	unsigned port = (unsigned)(uintptr_t)arg;
	struct rgroup *g = group_by(NULL, port);
	int fd = m && m->type == M_BOUND ? msg_take_fd(m, A_FD) : -1;

	if (m && m->type == M_ERR)
		log_warnx("public port %u: %s", port, msg_str(m, A_TEXT) ?
		    msg_str(m, A_TEXT) : "refused by master");
	if (g == NULL || g->lfd != -1) {	/* gone meanwhile */
		if (fd != -1)
			close(fd);
		return;
	}
	if (fd == -1)
		return;		/* visitors cannot come; members stay */
	g->lfd = fd;
	ev_add(fd, EV_READ, visitor_accept, g);
	log_info("group %s: visitors accepted on port %u", g->name, port);
}

/* A new group, its port asked of master; NULL when there is no room. */
static struct rgroup *
group_new(const char *name, unsigned port)
{
	struct msgb mb;
	struct rgroup *g;

	for (size_t i = 0; i < RELAY_GROUPS_MAX; i++) {
		if (relay_groups[i] != NULL)
			continue;
		g = relay_groups[i] = xcalloc(1, sizeof(*g));
		str_copy(g->name, name, sizeof(g->name));
		g->port = port;
		g->lfd = -1;
		msgb_init(&mb, M_TUNNEL_BIND);
		msgb_u64(&mb, A_CODE, port);
		link_request(worker_master(), &mb, on_bound,
		    (void *)(uintptr_t)port);
		return g;
	}
	return NULL;
}

static struct rmember *
member_find(struct rgroup *g, const struct rclient *c, size_t *idx)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->m[i]->client == c) {
			if (idx)
				*idx = i;
			return g->m[i];
		}
	return NULL;
}

/* Take member i out of its group at once (its share goes to the others);
 * its streams keep it until they end. */
static void
member_remove(struct rgroup *g, size_t i)
{
	struct rmember *mb = g->m[i];

	mb->client = NULL;
	mb->group = NULL;
	if (mb->streams == 0)
		free(mb);
	g->m[i] = g->m[g->n - 1];
	g->w[i] = g->w[g->n - 1];
	g->n--;
	if (g->n == 0)
		group_free(g);
}

/* Why proxy p of client c cannot have its port, or NULL: it can. */
static const char *
claim_refusal(const struct ctrl_proxy *p, const struct rclient *c,
    char *why, size_t len)
{
	struct tunnel_ports ports;
	struct rgroup *byport = group_by(NULL, p->remote_port),
	    *byname = group_by(p->group, 0);
	char err[128];

	if (tunnel_ports_parse(conf_str(P_TUNNEL_RELAY_PORTS), &ports, err,
	    sizeof(err)) == -1 || !tunnel_port_allowed(&ports, p->remote_port))
		snprintf(why, len, "port %u is outside the relay's ports (%s)",
		    p->remote_port, conf_str(P_TUNNEL_RELAY_PORTS));
	else if (byport && strcmp(byport->name, p->group) != 0)
		snprintf(why, len, "port %u is held by group %s", p->remote_port,
		    byport->name);
	else if (byname && byname->port != p->remote_port)
		snprintf(why, len, "group %s is on port %u, not %u", p->group,
		    byname->port, p->remote_port);
	else if (byname && byname->n == RELAY_MEMBERS_MAX &&
	    !member_find(byname, c, NULL))
		snprintf(why, len, "group %s has %d members already", p->group,
		    RELAY_MEMBERS_MAX);
	else
		return NULL;
	return why;
}

/* Proxy p of c joins its group (made if new) or updates its member. */
static int
member_join(struct rclient *c, const struct ctrl_proxy *p)
{
	struct rgroup *g = group_by(p->group, 0);
	struct rmember *mb;

	if (g == NULL && (g = group_new(p->group, p->remote_port)) == NULL)
		return -1;
	if ((mb = member_find(g, c, NULL)) == NULL) {
		mb = g->m[g->n] = xcalloc(1, sizeof(*mb));
		memset(&g->w[g->n], 0, sizeof(g->w[g->n]));
		g->n++;
		mb->group = g;
		mb->client = c;
		mb->healthy = 1;
		log_info("group %s (port %u): client %s joins with proxy %s, "
		    "weight %u", g->name, g->port, c->name, p->name, p->weight);
	}
	str_copy(mb->proxy, p->name, sizeof(mb->proxy));
	mb->weight = p->weight;
	mb->compression = p->compression;
	return 0;
}

/* Groups c is in that its new registration does not name: left. */
static void
members_prune(struct rclient *c, const struct ctrl_msg *m, const int *ok)
{
	for (size_t i = 0; i < RELAY_GROUPS_MAX; i++) {
		struct rgroup *g = relay_groups[i];
		size_t idx, k;
		if (g == NULL || member_find(g, c, &idx) == NULL)
			continue;
		for (k = 0; k < m->n; k++)
			if (ok[k] && strcmp(m->proxies[k].group, g->name) == 0)
				break;
		if (k == m->n)
			member_remove(g, idx);
	}
}

static void
send_results(struct rconn *rc, struct ctrl_msg *out)
{
	size_t len;
	char *json;

	out->type = CTRL_REGISTERED;
	if ((json = ctrl_format(out, &len)) == NULL)
		fatalx("registration results do not format");
	mux_send_ctrl(rc->mux, json, len);
	free(json);
}

/* A client's proxies, as one of its connections says (each says the
 * same): claims are checked, refused ones answered with the reason. */
void
reg_register(struct rconn *rc, const struct ctrl_msg *m)
{
	struct rclient *c = rc->client;
	struct ctrl_msg *out = xcalloc(1, sizeof(*out));
	int ok[TUNNEL_PROXIES_MAX];

	for (size_t i = 0; i < m->n; i++) {
		const struct ctrl_proxy *p = &m->proxies[i];
		struct ctrl_result *r = &out->results[i];
		const char *why = claim_refusal(p, c, r->error,
		    sizeof(r->error));
		str_copy(r->name, p->name, sizeof(r->name));
		if (why == NULL && member_join(c, p) == -1) {
			str_copy(r->error, "the relay has no room for another "
			    "group", sizeof(r->error));
			why = r->error;
		}
		ok[i] = r->ok = why == NULL;
		if (why && rc->index == 0)
			log_warnx("tunnel client %s: proxy %s refused: %s",
			    c->name, p->name, why);
	}
	out->n = m->n;
	members_prune(c, m, ok);
	send_results(rc, out);
	free(out);
}

void
reg_health(struct rconn *rc, const struct ctrl_msg *m)
{
	for (size_t i = 0; i < RELAY_GROUPS_MAX; i++) {
		struct rgroup *g = relay_groups[i];
		size_t idx;
		struct rmember *mb = g ? member_find(g, rc->client, &idx) :
		    NULL;
		if (mb == NULL || strcmp(mb->proxy, m->name) != 0 ||
		    mb->healthy == m->healthy)
			continue;
		mb->healthy = m->healthy;
		g->w[idx].current = 0;	/* back in line from the start */
		log_info("group %s: client %s proxy %s is %s", g->name,
		    rc->client->name, mb->proxy, mb->healthy ? "healthy" :
		    "unhealthy: skipped");
	}
}

/* The client's last connection closed: its members leave now, so new
 * visitors go to the others of their groups. */
void
reg_client_left(struct rclient *c)
{
	for (size_t i = 0; i < RELAY_GROUPS_MAX; i++) {
		struct rgroup *g = relay_groups[i];
		size_t idx;
		if (g && member_find(g, c, &idx))
			member_remove(g, idx);
	}
	log_info("tunnel client %s: no connection left", c->name);
}

/* What a visitor's stream holds: its member, its address's count. */
struct rvisit {
	struct rmember	*mb;
	struct vaddr	*va;
};

void
reg_stream_end(struct mstream *s)
{
	struct rvisit *rv = mux_stream_tag(s);
	struct rmember *mb;

	if (rv == NULL)
		return;
	mb = rv->mb;
	visitors_leave(rv->va);
	free(rv);
	if (--mb->streams == 0 && mb->group == NULL)
		free(mb);
}

/* The member of g the next visitor goes to, or NULL: none is up. */
static struct rmember *
member_pick(struct rgroup *g)
{
	long k;

	for (size_t i = 0; i < g->n; i++) {
		struct rmember *mb = g->m[i];
		g->w[i].weight = (int)mb->weight;
		g->w[i].eligible = mb->healthy && mb->client &&
		    mb->client->nconns > 0;
	}
	k = swrr_pick(g->w, g->n);
	return k < 0 ? NULL : g->m[k];
}

/* The least busy of the client's connections. */
static struct rconn *
conn_pick(struct rclient *c)
{
	struct rconn *rc, *best = NULL;

	LIST_FOREACH(rc, &c->conns, entry)
		if (best == NULL || mux_nstreams(rc->mux) <
		    mux_nstreams(best->mux))
			best = rc;
	return best;
}

/* A visitor on g's port: a stream to the picked member's client. */
static void
visitor_start(struct rgroup *g, int fd, const struct sockaddr_storage *ss)
{
	struct vaddr *va = visitors_admit(ss);
	struct rmember *mb = va ? member_pick(g) : NULL;
	struct rconn *rc = mb ? conn_pick(mb->client) : NULL;
	struct rvisit *rv;
	struct mstream *s;
	char addr[64], open[TF_OPEN_MAX];
	int n, on = 1;

	if (rc == NULL) {
		if (va)
			visitors_leave(va);
		close(fd);	/* a prompt close, never a hang */
		return;
	}
	if (addr_format((const struct sockaddr *)ss, addr, sizeof(addr)) == -1)
		str_copy(addr, "unknown", sizeof(addr));
	n = snprintf(open, sizeof(open), "%s\t%s", mb->proxy, addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if ((s = mux_stream_open(rc->mux, fd, open, (size_t)n,
	    mb->compression)) == NULL) {
		visitors_leave(va);
		return;
	}
	rv = xmalloc(sizeof(*rv));
	rv->mb = mb;
	rv->va = va;
	mux_stream_set_tag(s, rv);
	mb->streams++;
	mb->visitors++;
	g->visitors++;
	relay_visitors_total++;
}

static void
visitor_accept(int lfd, int events, void *arg)
{
	struct rgroup *g = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	for (int i = 0; i < RELAY_ACCEPT_BURST; i++) {
		sl = sizeof(ss);
		if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept on port %u", g->port);
			return;
		}
		visitor_start(g, fd, &ss);
	}
}
