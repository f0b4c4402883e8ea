/*
 * ctrl.c - parsing and formatting the tunnel's control messages (see
 * ctrl.h).  The input is at most TF_CTRL_MAX bytes (the frame codec saw to
 * it); jansson parses it, then every value is checked against its bounds
 * before it is copied into the fixed structure.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctrl.h"
#include "tframe.h"
#include "util.h"

static const char *type_names[] = {
	[CTRL_CHALLENGE] = "challenge", [CTRL_AUTH] = "auth",
	[CTRL_ERROR] = "error", [CTRL_REGISTER] = "register",
	[CTRL_REGISTERED] = "registered", [CTRL_HEALTH] = "health",
};

/* The keys each type has, "type" first. */
static const char *const type_keys[][6] = {
	[CTRL_CHALLENGE] = { "type", "nonce", "version" },
	[CTRL_AUTH] = { "type", "mac", "name", "version", "conn" },
	[CTRL_ERROR] = { "type", "message" },
	[CTRL_REGISTER] = { "type", "proxies" },
	[CTRL_REGISTERED] = { "type", "results" },
	[CTRL_HEALTH] = { "type", "proxy", "healthy" },
};
static const char *const proxy_keys[] = { "name", "group", "remote_port",
	"weight", "compression", "proxy_protocol", "health", NULL };
static const char *const result_keys[] = { "name", "ok", "error", NULL };

const char *
ctrl_type_name(enum ctrl_type t)
{
	return t >= CTRL_CHALLENGE && t <= CTRL_HEALTH ? type_names[t] :
	    "unknown";
}

static int
fail(char *err, size_t errlen, const char *what, const char *key)
{
	snprintf(err, errlen, "%s%s%s", key ? key : "", key ? ": " : "", what);
	return -1;
}

/* o has only keys of the NULL-ended list (at most 6). */
static int
keys_only(json_t *o, const char *const *keys, size_t nkeys, char *err,
    size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		size_t i = 0;
		while (i < nkeys && keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (i == nkeys || keys[i] == NULL)
			return fail(err, errlen, "unknown key", k);
	}
	return 0;
}

/* A string of printable characters, shorter than max. */
static int
get_text(json_t *o, const char *key, char *out, size_t max, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return fail(err, errlen, "missing or not a string", key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n >= max || strlen(s) != n)
		return fail(err, errlen, "too long or holds a NUL", key);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(err, errlen, "a control character", key);
	memcpy(out, s, n + 1);
	return 0;
}

static int
get_name(json_t *o, const char *key, char *out, char *err, size_t errlen)
{
	if (get_text(o, key, out, TUNNEL_NAME_MAX, err, errlen) == -1)
		return -1;
	return tunnel_name_ok(out) ? 0 : fail(err, errlen, "not a name "
	    "(1-63 of letters, digits, '.', '_', '-')", key);
}

/* 64 hex digits into out[32]. */
static int
get_hex32(json_t *o, const char *key, uint8_t *out, char *err,
    size_t errlen)
{
	char hex[66];

	if (get_text(o, key, hex, sizeof(hex), err, errlen) == -1)
		return -1;
	if (strlen(hex) != 64)
		return fail(err, errlen, "not 64 hex digits", key);
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &v) != 1)
			return fail(err, errlen, "not 64 hex digits", key);
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int
get_uint(json_t *o, const char *key, unsigned min, unsigned max,
    unsigned *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	if (!json_is_integer(v))
		return fail(err, errlen, "missing or not an integer", key);
	i = json_integer_value(v);
	if (i < (json_int_t)min || i > (json_int_t)max)
		return fail(err, errlen, "out of range", key);
	*out = (unsigned)i;
	return 0;
}

static int
get_bool(json_t *o, const char *key, int *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return fail(err, errlen, "missing or not a boolean", key);
	*out = json_is_true(v);
	return 0;
}

static int
proxy_get(json_t *o, struct ctrl_proxy *p, char *err, size_t errlen)
{
	if (!json_is_object(o))
		return fail(err, errlen, "a proxy is not an object", NULL);
	if (keys_only(o, proxy_keys, 7, err, errlen) == -1 ||
	    get_name(o, "name", p->name, err, errlen) == -1 ||
	    get_name(o, "group", p->group, err, errlen) == -1 ||
	    get_uint(o, "remote_port", 1, 65535, &p->remote_port, err,
	    errlen) == -1 ||
	    get_uint(o, "weight", 1, 1000, &p->weight, err, errlen) == -1 ||
	    get_bool(o, "compression", &p->compression, err, errlen) == -1 ||
	    get_bool(o, "proxy_protocol", &p->proxy_protocol, err,
	    errlen) == -1 ||
	    get_text(o, "health", p->health, sizeof(p->health), err,
	    errlen) == -1)
		return -1;
	return tunnel_health_ok(p->health) ? 0 : fail(err, errlen,
	    "not none, tcp or http:/PATH", "health");
}

static int
result_get(json_t *o, struct ctrl_result *r, char *err, size_t errlen)
{
	if (!json_is_object(o))
		return fail(err, errlen, "a result is not an object", NULL);
	if (keys_only(o, result_keys, 3, err, errlen) == -1 ||
	    get_name(o, "name", r->name, err, errlen) == -1 ||
	    get_bool(o, "ok", &r->ok, err, errlen) == -1)
		return -1;
	r->error[0] = '\0';
	if (!r->ok || json_object_get(o, "error"))
		return get_text(o, "error", r->error, sizeof(r->error), err,
		    errlen);
	return 0;
}

/* An array of at most TUNNEL_PROXIES_MAX proxies or results. */
static int
list_get(json_t *o, const char *key, struct ctrl_msg *m, char *err,
    size_t errlen)
{
	json_t *a = json_object_get(o, key), *e;
	size_t i;

	if (!json_is_array(a))
		return fail(err, errlen, "missing or not an array", key);
	if (json_array_size(a) > TUNNEL_PROXIES_MAX)
		return fail(err, errlen, "too many elements", key);
	json_array_foreach(a, i, e) {
		if ((m->type == CTRL_REGISTER ? proxy_get(e, &m->proxies[i],
		    err, errlen) : result_get(e, &m->results[i], err,
		    errlen)) == -1)
			return -1;
	}
	m->n = json_array_size(a);
	return 0;
}

static int
fields_get(json_t *o, struct ctrl_msg *m, char *err, size_t errlen)
{
	switch (m->type) {
	case CTRL_CHALLENGE:
		return get_hex32(o, "nonce", m->nonce, err, errlen) == -1 ||
		    get_text(o, "version", m->version, sizeof(m->version), err,
		    errlen) == -1 ? -1 : 0;
	case CTRL_AUTH:
		return get_hex32(o, "mac", m->mac, err, errlen) == -1 ||
		    get_name(o, "name", m->name, err, errlen) == -1 ||
		    get_text(o, "version", m->version, sizeof(m->version), err,
		    errlen) == -1 || get_uint(o, "conn", 0, CTRL_CONN_MAX - 1,
		    &m->conn, err, errlen) == -1 ? -1 : 0;
	case CTRL_ERROR:
		return get_text(o, "message", m->message, sizeof(m->message),
		    err, errlen);
	case CTRL_REGISTER:
		return list_get(o, "proxies", m, err, errlen);
	case CTRL_REGISTERED:
		return list_get(o, "results", m, err, errlen);
	case CTRL_HEALTH:
		return get_name(o, "proxy", m->name, err, errlen) == -1 ||
		    get_bool(o, "healthy", &m->healthy, err, errlen) == -1 ?
		    -1 : 0;
	}
	return -1;
}

int
ctrl_parse(const uint8_t *p, size_t len, struct ctrl_msg *m, char *err,
    size_t errlen)
{
	json_error_t je;
	json_t *o;
	char type[16];
	int r = -1;

	memset(m, 0, sizeof(*m));
	if (len > TF_CTRL_MAX)
		return fail(err, errlen, "control message too long", NULL);
	if ((o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES,
	    &je)) == NULL)
		return fail(err, errlen, "not JSON", NULL);
	if (!json_is_object(o))
		fail(err, errlen, "not an object", NULL);
	else if (get_text(o, "type", type, sizeof(type), err, errlen) == 0) {
		for (int t = CTRL_CHALLENGE; t <= CTRL_HEALTH; t++)
			if (strcmp(type, type_names[t]) == 0)
				m->type = (enum ctrl_type)t;
		if (m->type == 0)
			fail(err, errlen, "unknown type", "type");
		else if (keys_only(o, type_keys[m->type], 6, err,
		    errlen) == 0)
			r = fields_get(o, m, err, errlen);
	}
	json_decref(o);
	return r;
}

static json_t *
hex32(const uint8_t *b)
{
	char hex[65];

	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	return json_string(hex);
}

static json_t *
list_json(const struct ctrl_msg *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n && i < TUNNEL_PROXIES_MAX; i++) {
		const struct ctrl_proxy *p = &m->proxies[i];
		const struct ctrl_result *r = &m->results[i];
		if (m->type == CTRL_REGISTER)
			json_array_append_new(a, json_pack("{s:s, s:s, s:i, "
			    "s:i, s:b, s:b, s:s}", "name", p->name, "group",
			    p->group, "remote_port", (int)p->remote_port,
			    "weight", (int)p->weight, "compression",
			    p->compression, "proxy_protocol",
			    p->proxy_protocol, "health", p->health));
		else if (r->ok && r->error[0] == '\0')
			json_array_append_new(a, json_pack("{s:s, s:b}",
			    "name", r->name, "ok", 1));
		else
			json_array_append_new(a, json_pack("{s:s, s:b, s:s}",
			    "name", r->name, "ok", r->ok, "error", r->error));
	}
	return a;
}

static json_t *
msg_json(const struct ctrl_msg *m)
{
	const char *t = ctrl_type_name(m->type);

	switch (m->type) {
	case CTRL_CHALLENGE:
		return json_pack("{s:s, s:o, s:s}", "type", t, "nonce",
		    hex32(m->nonce), "version", m->version);
	case CTRL_AUTH:
		return json_pack("{s:s, s:o, s:s, s:s, s:i}", "type", t, "mac",
		    hex32(m->mac), "name", m->name, "version", m->version,
		    "conn", (int)m->conn);
	case CTRL_ERROR:
		return json_pack("{s:s, s:s}", "type", t, "message",
		    m->message);
	case CTRL_REGISTER:
		return json_pack("{s:s, s:o}", "type", t, "proxies",
		    list_json(m));
	case CTRL_REGISTERED:
		return json_pack("{s:s, s:o}", "type", t, "results",
		    list_json(m));
	case CTRL_HEALTH:
		return json_pack("{s:s, s:s, s:b}", "type", t, "proxy",
		    m->name, "healthy", m->healthy);
	}
	return NULL;
}

char *
ctrl_format(const struct ctrl_msg *m, size_t *len)
{
	struct ctrl_msg *check;
	json_t *o = msg_json(m);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL, err[128];

	json_decref(o);
	if (s == NULL)
		return NULL;
	*len = strlen(s);
	/* what we send, the peer's parser takes: checked with it */
	check = xmalloc(sizeof(*check));
	if (ctrl_parse((const uint8_t *)s, *len, check, err,
	    sizeof(err)) == -1) {
		free(s);
		s = NULL;
	}
	free(check);
	return s;
}
