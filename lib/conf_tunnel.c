/*
 * conf_tunnel.c - parsing and checking the tunnel's configuration: port
 * ranges, proxies, and the keys that only make sense together.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_cache.h"
#include "conf_tunnel.h"
#include "util.h"

/* One "LOW-HIGH" or "PORT" item into lo/hi; -1 if it is neither. */
static int
range_parse(char *item, uint16_t *lo, uint16_t *hi)
{
	char *dash;
	uint64_t a, b;

	item += strspn(item, " ");
	for (size_t n = strlen(item); n > 0 && item[n - 1] == ' '; n--)
		item[n - 1] = '\0';
	if ((dash = strchr(item, '-')) != NULL)
		*dash++ = '\0';
	if (parse_u64(item, 65535, &a) == -1 || a == 0)
		return -1;
	b = a;
	if (dash && (parse_u64(dash, 65535, &b) == -1 || b < a))
		return -1;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int
tunnel_ports_parse(const char *text, struct tunnel_ports *out, char *err,
    size_t errlen)
{
	struct tunnel_ports tmp;
	char *copy, *cur, *item;
	int r = 0;

	if (out == NULL)
		out = &tmp;
	out->n = 0;
	if (*text == '\0')
		return 0;
	cur = copy = xstrdup(text);
	while (r == 0 && (item = strsep(&cur, ",")) != NULL) {
		if (out->n == TUNNEL_RANGES_MAX)
			r = (snprintf(err, errlen, "more than %d port ranges",
			    TUNNEL_RANGES_MAX), -1);
		else if (range_parse(item, &out->r[out->n].lo,
		    &out->r[out->n].hi) == -1)
			r = (snprintf(err, errlen, "'%s' is not LOW-HIGH or a "
			    "port (1-65535, low not above high)", text), -1);
		else
			out->n++;
	}
	free(copy);
	return r;
}

int
tunnel_port_allowed(const struct tunnel_ports *p, unsigned port)
{
	for (size_t i = 0; i < p->n; i++)
		if (port >= p->r[i].lo && port <= p->r[i].hi)
			return 1;
	return 0;
}

int
tunnel_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < TUNNEL_NAME_MAX && strspn(s, "abcdefghijklmnopq"
	    "rstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int
tunnel_health_ok(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, "none") == 0 || strcmp(s, "tcp") == 0)
		return 1;
	if (n >= TUNNEL_HEALTH_MAX || strncmp(s, "http:/", 6) != 0)
		return 0;
	for (const char *p = s + 5; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return 0;
	return 1;
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

int
tunnel_fingerprint_parse(const char *s, uint8_t out[32])
{
	size_t i = 0;

	if (strncasecmp(s, "sha256:", 7) != 0)
		return -1;
	for (s += 7; i < 32; i++) {
		if (i > 0 && *s == ':')
			s++;
		if (!isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]))
			return -1;
		out[i] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
		s += 2;
	}
	return *s == '\0' ? 0 : -1;
}

/* "host:port" with a port 1-65535. */
static int
hostport_ok(const char *s)
{
	char host[256], port[16];
	uint64_t pn;

	return conf_split_hostport(s, host, sizeof(host), port,
	    sizeof(port)) == 0 && parse_u64(port, 65535, &pn) == 0 && pn > 0;
}

/* One line of canonical text (every field there: conf_rules checked). */
static int
proxy_parse(char *line, void *elem, char *err, size_t errlen)
{
	struct tunnel_proxy *p = elem;
	char *f[8];
	uint64_t u;

	for (int i = 0; i < 8; i++)
		if ((f[i] = strsep(&line, "\t")) == NULL)
			return snprintf(err, errlen, "a proxy lacks fields"),
			    -1;
	memset(p, 0, sizeof(*p));
	if (!tunnel_name_ok(f[0]) || !tunnel_name_ok(f[3]))
		return snprintf(err, errlen, "proxy '%s', group '%s': names "
		    "are 1-63 of letters, digits, '.', '_' and '-'", f[0],
		    f[3]), -1;
	if (!hostport_ok(f[1]) || strlen(f[1]) >= sizeof(p->local))
		return snprintf(err, errlen, "proxy %s: local '%s' is not "
		    "host:port", f[0], f[1]), -1;
	if (!tunnel_health_ok(f[7]))
		return snprintf(err, errlen, "proxy %s: health '%s' is not "
		    "none, tcp or http:/PATH", f[0], f[7]), -1;
	str_copy(p->name, f[0], sizeof(p->name));
	str_copy(p->local, f[1], sizeof(p->local));
	p->remote_port = parse_u64(f[2], 65535, &u) == 0 && u > 0 ?
	    (unsigned)u : 0;
	str_copy(p->group, f[3], sizeof(p->group));
	p->weight = parse_u64(f[4], 1000, &u) == 0 && u > 0 ? (unsigned)u : 0;
	p->compression = strcmp(f[5], "true") == 0;
	p->proxy_protocol = strcmp(f[6], "true") == 0;
	str_copy(p->health, f[7], sizeof(p->health));
	if (p->remote_port == 0 || p->weight == 0)
		return snprintf(err, errlen, "proxy %s: remote_port 1-65535, "
		    "weight 1-1000", f[0]), -1;
	return 0;
}

/* No two proxies of one client share a name or a remote port. */
static int
proxies_distinct(const struct tunnel_proxy *ps, size_t n, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			if (strcmp(ps[i].name, ps[j].name) == 0)
				return snprintf(err, errlen, "two proxies are "
				    "named %s", ps[i].name), -1;
			if (ps[i].remote_port == ps[j].remote_port)
				return snprintf(err, errlen, "proxies %s and %s "
				    "both claim remote_port %u", ps[j].name,
				    ps[i].name, ps[i].remote_port), -1;
		}
	return 0;
}

int
tunnel_proxies_parse(const char *text, struct tunnel_proxy **out, size_t *n,
    char *err, size_t errlen)
{
	void *v;

	*out = NULL;
	if (conf_list_parse(text, sizeof(**out), TUNNEL_PROXIES_MAX,
	    "proxies", proxy_parse, &v, n, err, errlen) == -1)
		return -1;
	*out = v;
	if (proxies_distinct(*out, *n, err, errlen) == 0)
		return 0;
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

int
tunnel_proxies_check(const char *text, char *err, size_t errlen)
{
	struct tunnel_proxy *ps;
	size_t n;

	if (tunnel_proxies_parse(text, &ps, &n, err, errlen) == -1)
		return -1;
	free(ps);
	return 0;
}

/* A bcrypt hash ("$2y$NN$" and 53 more), never a clear password: the
 * status page verifies with lib/htpasswd, which takes bcrypt alone. */
static int
looks_hashed(const char *s)
{
	return strlen(s) == 60 && s[0] == '$' && s[1] == '2' &&
	    strchr("aby", s[2]) != NULL && s[3] == '$' && s[6] == '$' &&
	    strchr(s, ':') == NULL;
}

static int
relay_check(const struct conf *c, char *err, size_t errlen)
{
	const char *user = c->v[P_TUNNEL_RELAY_STATUS_USER].s,
	    *pw = c->v[P_TUNNEL_RELAY_STATUS_PASSWORD].s,
	    *file = c->v[P_TUNNEL_RELAY_STATUS_HTPASSWD].s;
	int relay = c->v[P_TUNNEL_RELAY_LISTEN].nlist > 0;

	if (relay && c->v[P_TUNNEL_RELAY_TOKEN].s[0] == '\0')
		return snprintf(err, errlen, "tunnel.relay.listen needs "
		    "tunnel.relay.token"), -1;
	if (relay && c->v[P_TUNNEL_RELAY_PORTS].s[0] == '\0')
		return snprintf(err, errlen, "tunnel.relay.ports is empty: "
		    "clients could claim no port"), -1;
	if ((*user != '\0') != (*pw != '\0'))
		return snprintf(err, errlen, "tunnel.relay.status_user and "
		    "status_password go together"), -1;
	if (*pw && !looks_hashed(pw))
		return snprintf(err, errlen, "tunnel.relay.status_password is "
		    "not a bcrypt hash (make one with htpasswd -nB USER)"), -1;
	if (c->v[P_TUNNEL_RELAY_STATUS_LISTEN].nlist > 0 && *pw == '\0' &&
	    *file == '\0')
		return snprintf(err, errlen, "tunnel.relay.status_listen needs "
		    "status_user and status_password, or status_htpasswd: "
		    "there is no default password"), -1;
	if (c->v[P_TUNNEL_RELAY_STATUS_LISTEN].nlist > 0 && !relay)
		return snprintf(err, errlen, "tunnel.relay.status_listen needs "
		    "tunnel.relay.listen"), -1;
	return 0;
}

static int
client_check(const struct conf *c, char *err, size_t errlen)
{
	const char *relay = c->v[P_TUNNEL_CLIENT_RELAY].s,
	    *fp = c->v[P_TUNNEL_CLIENT_FINGERPRINT].s;
	uint8_t pin[32];

	if (*fp && tunnel_fingerprint_parse(fp, pin) == -1)
		return snprintf(err, errlen, "tunnel.client.fingerprint '%s' "
		    "is not sha256:HEX (64 hex digits)", fp), -1;
	if (*relay == '\0') {
		if (c->v[P_TUNNEL_CLIENT_PROXIES].s[0] != '\0')
			return snprintf(err, errlen, "tunnel.client.proxies "
			    "needs tunnel.client.relay"), -1;
		return 0;
	}
	if (!hostport_ok(relay))
		return snprintf(err, errlen, "tunnel.client.relay '%s' is not "
		    "host:port", relay), -1;
	if (c->v[P_TUNNEL_CLIENT_TOKEN].s[0] == '\0')
		return snprintf(err, errlen, "tunnel.client.relay needs "
		    "tunnel.client.token"), -1;
	if (c->v[P_TUNNEL_CLIENT_CA].s[0] == '\0' && *fp == '\0' &&
	    !c->v[P_TUNNEL_CLIENT_INSECURE].i)
		return snprintf(err, errlen, "tunnel.client.relay needs "
		    "tunnel.client.ca or tunnel.client.fingerprint to verify "
		    "the relay (or insecure = true, for tests only)"), -1;
	if (c->v[P_TUNNEL_CLIENT_PROXIES].s[0] == '\0')
		return snprintf(err, errlen, "tunnel.client.proxies is empty: "
		    "the client would publish nothing"), -1;
	return 0;
}

int
conf_cross_check(const struct conf *c, char *err, size_t errlen)
{
	int tunnel = c->v[P_TUNNEL_RELAY_LISTEN].nlist > 0 ||
	    c->v[P_TUNNEL_CLIENT_RELAY].s[0] != '\0';

	if (relay_check(c, err, errlen) == -1 ||
	    client_check(c, err, errlen) == -1 ||
	    cache_cross_check(c, err, errlen) == -1)
		return -1;
	if (tunnel && !c->v[P_W_TUNNELD].i)
		return snprintf(err, errlen, "tunnel.relay.listen or "
		    "tunnel.client.relay needs workers.tunneld = true"), -1;
	return 0;
}
