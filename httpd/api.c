/*
 * api.c - the OCI Distribution API (v1.1) on top of conn.c: decoding and
 * routing request paths (repository names hold slashes, so routes are
 * recognised from the right), method checks, the /v2/ base endpoint, and
 * the helpers the endpoint files (api_blob.c, api_manifest.c) share for
 * asking storaged and turning its answers and errors into responses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "conf.h"
#include "conn.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "regerr.h"
#include "util.h"

#define M(x)	(1u << (x))

/* Methods each route answers; also the Allow header of a 405. */
static const unsigned route_methods[] = {
	[R_BASE] = M(HTTP_M_GET) | M(HTTP_M_HEAD),
	[R_CATALOG] = M(HTTP_M_GET) | M(HTTP_M_HEAD),
	[R_TAGS] = M(HTTP_M_GET) | M(HTTP_M_HEAD),
	[R_MANIFEST] = M(HTTP_M_GET) | M(HTTP_M_HEAD) | M(HTTP_M_PUT) |
	    M(HTTP_M_DELETE),
	[R_BLOB] = M(HTTP_M_GET) | M(HTTP_M_HEAD) | M(HTTP_M_DELETE),
	[R_UPLOAD_START] = M(HTTP_M_POST),
	[R_UPLOAD] = M(HTTP_M_GET) | M(HTTP_M_PATCH) | M(HTTP_M_PUT) |
	    M(HTTP_M_DELETE),
	[R_REFERRERS] = M(HTTP_M_GET) | M(HTTP_M_HEAD),
};

static void allow_text(unsigned, char *, size_t);

/* A registry error from lib/regerr.h; 503s tell the client when to retry. */
void
api_error(struct conn *c, int e, const char *detail)
{
	if (e <= RE_NONE || e >= RE_MAX)
		e = RE_INTERNAL;
	if (e == RE_UNAVAILABLE || e == RE_TOOMANYREQUESTS)
		conn_header(c, "Retry-After", "1");
	conn_respond_error(c, e, detail);
}

/* An error whose status or code regerr.h has no entry for. */
void
api_error_status(struct conn *c, int status, const char *code,
    const char *message, const char *detail)
{
	char *body = oci_error_json(code, message, detail);

	conn_respond(c, status, "application/json", body, strlen(body));
	free(body);
}

/* storaged is down or went away: 503, retry soon. */
void
api_unavailable(struct conn *c)
{
	api_error(c, RE_UNAVAILABLE, "storage is not available");
}

/* Ask storaged; cb gets the answer with c as its argument. */
void
api_send(struct conn *c, struct msgb *mb, link_reply_cb cb)
{
	struct link *st = httpd_storaged();

	if (st == NULL) {
		msgb_free(mb);
		api_unavailable(c);
		return;
	}
	conn_wait(c, st, link_request(st, mb, cb, c));
}

/*
 * First thing of every reply callback: 1 if m is the expected answer,
 * else the error is answered (503 when storaged went away) and 0 returned.
 */
int
api_reply_ok(struct conn *c, struct msg *m, int type)
{
	uint64_t e;

	conn_wait_done(c);
	if (m == NULL) {
		api_unavailable(c);
		return 0;
	}
	if (m->type == type)
		return 1;
	if (m->type == M_ERR) {
		e = msg_u64(m, A_CODE, RE_INTERNAL);
		api_error(c, e < RE_MAX ? (int)e : RE_INTERNAL,
		    msg_str(m, A_TEXT));
		return 0;
	}
	log_warnx("storaged answered %s, expected %s",
	    msg_type_name(m->type), msg_type_name(type));
	api_error(c, RE_INTERNAL, NULL);
	return 0;
}

/* Parse a digest into its canonical text; on failure answer and -1. */
int
api_parse_digest(struct conn *c, const char *s, char *out, size_t len)
{
	struct digest d;
	int rc;

	if ((rc = digest_parse(s, &d)) == -2) {
		api_error_status(c, 400, "UNSUPPORTED",
		    "digest algorithm not supported", s);
		return -1;
	}
	if (rc == -1 || digest_format(&d, out, len) == -1) {
		api_error(c, RE_DIGEST_INVALID, "invalid digest");
		return -1;
	}
	return 0;
}

/* 1 if this registry deletes at all; else answer 405 and 0. */
int
api_delete_enabled(struct conn *c)
{
	char allow[64];

	if (conf_bool(P_STORAGE_DELETE))
		return 1;
	allow_text(route_methods[c->api->route] & ~M(HTTP_M_DELETE), allow,
	    sizeof(allow));
	conn_header(c, "Allow", "%s", allow);
	api_error(c, RE_UNSUPPORTED, "deletion is disabled on this registry");
	return 0;
}

/* Query parameter key as a count capped at max; -1 answered. */
int
api_query_u64(struct conn *c, const char *key, uint64_t max, int *has,
    uint64_t *out)
{
	char v[32];
	int rc;

	*has = 0;
	rc = http_query_get(c->req.query, key, v, sizeof(v));
	if (rc == 0)
		return 0;
	if (rc == -1 || parse_u64(v, UINT64_MAX, out) == -1) {
		api_error_status(c, 400, "PAGINATION_NUMBER_INVALID",
		    "invalid number of results requested",
		    "n must be a non-negative integer");
		return -1;
	}
	if (*out > max)
		*out = max;
	*has = 1;
	return 0;
}

/* Query parameter key into out: 1 found, 0 absent, -1 answered with e. */
int
api_query_str(struct conn *c, const char *key, char *out, size_t len, int e)
{
	char detail[96];
	int rc;

	if ((rc = http_query_get(c->req.query, key, out, len)) != -1)
		return rc;
	if (snprintf(detail, sizeof(detail), "query parameter %s is invalid "
	    "or too long", key) >= (int)sizeof(detail))
		detail[0] = '\0';
	api_error(c, e, detail);
	return -1;
}

/* storaged's pong: the API is up. */
static void
on_ping(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;

	if (!api_reply_ok(c, m, M_PONG))
		return;
	conn_respond(c, 200, "application/json", "{}", 2);
}

/* GET /v2/: the API is here (and storaged answers, or 503). */
void
api_base(struct conn *c)
{
	struct msgb mb;

	msgb_init(&mb, M_PING);
	api_send(c, &mb, on_ping);
}

/* "GET, HEAD, ..." for the methods in mask. */
static void
allow_text(unsigned mask, char *out, size_t len)
{
	const char *name;
	size_t n = 0;

	out[0] = '\0';
	for (int m = 0; m < HTTP_M_OTHER; m++) {
		if (!(mask & M(m)) || (name = http_method_name(m)) == NULL)
			continue;
		if (n + strlen(name) + 3 > len)
			break;
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "",
		    name);
	}
}

/* The last '/'-separated segment of s, cut off; NULL if s has none. */
static char *
cut_last(char *s)
{
	char *slash = strrchr(s, '/');

	if (slash == NULL)
		return NULL;
	*slash = '\0';
	return slash + 1;
}

/*
 * Recognise a decoded path below /v2/ from the right: the name is what is
 * left. Sets *name and *ref (pointing into p); -1 for no route.
 */
static int
route_parse(char *p, enum api_route *route, char **name, char **ref)
{
	static const char tags[] = "/tags/list";
	size_t len = strlen(p), tl = sizeof(tags) - 1;
	char *last, *prev, *pp;

	*name = p;
	*ref = NULL;
	if (strcmp(p, "_catalog") == 0) {
		*route = R_CATALOG;
		return 0;
	}
	if (len > tl && strcmp(p + len - tl, tags) == 0) {
		p[len - tl] = '\0';
		*route = R_TAGS;
		return 0;
	}
	if ((last = cut_last(p)) == NULL || (prev = cut_last(p)) == NULL)
		return -1;
	*ref = last;
	if (strcmp(prev, "manifests") == 0)
		*route = R_MANIFEST;
	else if (strcmp(prev, "referrers") == 0)
		*route = R_REFERRERS;
	else if (strcmp(prev, "blobs") == 0)
		*route = strcmp(last, "uploads") == 0 ? R_UPLOAD_START : R_BLOB;
	else if (strcmp(prev, "uploads") == 0 && (pp = cut_last(p)) != NULL &&
	    strcmp(pp, "blobs") == 0)
		*route = *last == '\0' ? R_UPLOAD_START : R_UPLOAD;
	else
		return -1;
	if (*route != R_UPLOAD_START && *last == '\0')
		return -1;
	return 0;
}

/* The error for a path reference too long to be what its route wants. */
static int
route_bad_ref(enum api_route route)
{
	switch (route) {
	case R_MANIFEST:
		return RE_MANIFEST_UNKNOWN;
	case R_UPLOAD:
		return RE_BLOB_UPLOAD_UNKNOWN;
	default:
		return RE_DIGEST_INVALID;
	}
}

/* Run the handler of a checked route. */
void
api_route(struct conn *c)
{
	if (cache_request(c))
		return;
	switch (c->api->route) {
	case R_BASE:
		api_base(c);
		break;
	case R_CATALOG:
		api_catalog(c);
		break;
	case R_TAGS:
		api_tags(c);
		break;
	case R_MANIFEST:
		api_manifest(c);
		break;
	case R_BLOB:
		api_blob(c);
		break;
	case R_UPLOAD_START:
		api_upload_start(c);
		break;
	case R_UPLOAD:
		api_upload(c);
		break;
	case R_REFERRERS:
		api_referrers(c);
		break;
	}
}

/* Check the method, name and reference of a recognised route, then run it. */
static void
api_checked(struct conn *c, struct api_req *r, const char *name,
    const char *ref)
{
	char allow[64];

	if (!(route_methods[r->route] & M(c->req.method))) {
		allow_text(route_methods[r->route], allow, sizeof(allow));
		conn_header(c, "Allow", "%s", allow);
		api_error(c, RE_UNSUPPORTED, "method not allowed here");
		return;
	}
	if (r->route != R_BASE && r->route != R_CATALOG &&
	    (!oci_name_valid(name) ||
	    str_copy(r->repo, name, sizeof(r->repo)) == -1)) {
		api_error(c, RE_NAME_INVALID, NULL);
		return;
	}
	if (ref && str_copy(r->ref, ref, sizeof(r->ref)) == -1) {
		api_error(c, route_bad_ref(r->route), NULL);
		return;
	}
	auth_gate(c);
}

/* A request head arrived: route it. */
void
api_dispatch(struct conn *c)
{
	char path[HTTP_MAX_TARGET + 1], *name, *ref;
	struct api_req *r;

	log_debug("%s: %s %s", c->addr, c->req.method_str, c->req.path);
	if (c->metrics_port) {
		metrics_serve(c);
		return;
	}
	if (c->api)
		api_conn_closed(c);
	c->api = r = xcalloc(1, sizeof(*r));
	if (str_copy(path, c->req.path, sizeof(path)) == -1 ||
	    http_path_decode(path) == -1) {
		api_error(c, RE_NAME_INVALID, "malformed path");
		return;
	}
	if (strcmp(path, "/token") == 0) {
		metrics_token_route(c);
		token_request(c);
		return;
	}
	if (strcmp(path, "/v2") == 0 || strcmp(path, "/v2/") == 0) {
		r->route = R_BASE;
		metrics_route_is(c, r->route);
		api_checked(c, r, NULL, NULL);
		return;
	}
	if (strncmp(path, "/v2/", 4) != 0 ||
	    route_parse(path + 4, &r->route, &name, &ref) == -1) {
		api_error(c, RE_NAME_UNKNOWN, "no such endpoint");
		return;
	}
	metrics_route_is(c, r->route);
	api_checked(c, r, name, ref);
}

/* The request is over (answered, or the client left): drop its state. */
void
api_conn_closed(struct conn *c)
{
	api_upload_closed(c);
	cache_conn_closed(c);
	free(c->api);
	c->api = NULL;
}
