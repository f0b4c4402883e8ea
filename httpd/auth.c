/*
 * auth.c - the gate in front of the API routes when auth.htpasswd is set:
 * what the request needs (ACL_* bits on its repository), who asks (Basic
 * credentials, a token, a verified client certificate, or nobody), and the
 * answer: the route runs, or 401 with the challenge clients follow, 403,
 * 429 or 503.  Tokens are verified here with authd's public key; passwords
 * are authd's to check, and its answers are remembered (auth_cache.c).
 * Without auth.htpasswd the gate is not there: open, as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "acl.h"
#include "api.h"
#include "auth.h"
#include "conf.h"
#include "ev.h"
#include "httpd.h"
#include "jwt.h"
#include "log.h"
#include "ossl.h"
#include "regerr.h"
#include "util.h"

/* "repository" scope words of the bits a route needs */
#define SCOPE_MAX	(OCI_NAME_MAX + 64)

static int enabled, token_mode;
static uint64_t ttl_ms;
static char *realm, *token_realm, *service;	/* quotable copies */
static EVP_PKEY *token_key;
static char token_kid[JWT_NAME_MAX];

static void gate_done(struct conn *, int code, unsigned grant, uint64_t wait);

/* A copy of a configured string fit for a quoted header parameter (a
 * header value is at most 2 KiB: a longer one is refused, not cut). */
static char *
quotable(int p)
{
	char *s;

	if (strlen(conf_str(p)) > 512) {
		log_warnx("%s is longer than 512 bytes: using \"regmaster\"",
		    conf_params[p].name);
		return xstrdup("regmaster");
	}
	s = xstrdup(conf_str(p));

	for (char *q = s; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '"' ||
		    *q == '\\')
			*q = '_';
	return s;
}

void
auth_configure(void)
{
	enabled = conf_str(P_AUTH_HTPASSWD)[0] != '\0';
	token_mode = enabled && conf_bool(P_AUTH_TOKEN);
	ttl_ms = (uint64_t)conf_int(P_AUTH_CACHE_TTL) * 1000;
	free(realm);
	free(token_realm);
	free(service);
	realm = quotable(P_AUTH_REALM);
	token_realm = quotable(P_AUTH_TOKEN_REALM);
	service = quotable(P_AUTH_SERVICE);
	/* rules or users may have changed with the configuration */
	cache_flush();
	audit_configure();
}

int
auth_on(void)
{
	return enabled;
}

int
auth_token_on(void)
{
	return token_mode;
}

void
auth_flush(void)
{
	cache_flush();
}

/* M_TOKEN_KEY: the public key tokens are verified with, and its kid. */
void
auth_token_key(struct msg *m)
{
	const struct msg_val *v = &m->v[A_BODY];
	EVP_PKEY *k;
	BIO *b;

	ossl_need();
	if ((b = BIO_new_mem_buf(v->p, (int)v->len)) == NULL)
		fatalx("BIO_new_mem_buf");
	k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL || str_copy(token_kid, msg_str(m, A_NAME),
	    sizeof(token_kid)) == -1) {
		log_warnx("authd sent an unusable token key");
		EVP_PKEY_free(k);
		return;
	}
	EVP_PKEY_free(token_key);
	token_key = k;
	cache_flush();
	log_debug("token key %s", token_kid);
}

/* ------------------------------------------------------------ challenges */

/* The Host the client asked, if it is a plain host[:port]. */
static const char *
host_of(const struct conn *c)
{
	const char *h = http_header_get(&c->req, "Host");

	if (h == NULL || *h == '\0' || strlen(h) > 255 || strspn(h,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    ".-:[]") != strlen(h))
		return "localhost";
	return h;
}

/* scope="..." for what the request needs, "" when it names nothing. */
static void
scope_of(const struct conn *c, char *out, size_t len)
{
	const struct auth_req *a = &c->api->auth;
	char words[64];

	out[0] = '\0';
	if (a->base)
		return;
	if (a->repo == NULL) {
		snprintf(out, len, ",scope=\"registry:catalog:*\"");
		return;
	}
	acl_actions_text(a->need, words, sizeof(words));
	snprintf(out, len, ",scope=\"repository:%s:%s\"", a->repo, words);
}

void
auth_basic_challenge(struct conn *c)
{
	conn_header(c, "WWW-Authenticate", "Basic realm=\"%s\"", realm);
}

/* 401 with the challenge of the configured scheme; error for Bearer. */
static void
unauthorized(struct conn *c, const char *error, const char *detail)
{
	char scope[SCOPE_MAX + 32], err[48] = "";

	if (!token_mode)
		auth_basic_challenge(c);
	else {
		scope_of(c, scope, sizeof(scope));
		if (error)
			snprintf(err, sizeof(err), ",error=\"%s\"", error);
		if (token_realm[0])
			conn_header(c, "WWW-Authenticate", "Bearer realm=\"%s\","
			    "service=\"%s\"%s%s", token_realm, service, scope,
			    err);
		else
			conn_header(c, "WWW-Authenticate", "Bearer realm=\"%s://"
			    "%s/token\",service=\"%s\"%s%s", c->tls ? "https" :
			    "http", host_of(c), service, scope, err);
	}
	/* a client's first GET /v2/ without credentials is how the flow
	 * starts, not a refusal worth a record */
	if (!c->api->auth.base || c->api->auth.kind != 'A')
		audit_note(c, "denied", 401, NULL, 0);
	api_error(c, RE_UNAUTHORIZED, detail);
}

/* ------------------------------------------------------------ checks */

/* The cache's name for what is checked: "/" (GET /v2/) and "" (the
 * catalog) are no repository's name. */
static const char *
repo_key(const struct auth_req *a)
{
	return a->base ? "/" : a->repo ? a->repo : "";
}

/* The ACL_* bits a token's access claim gives for the check. */
static unsigned
claims_grant(const struct jwt_claims *cl, const struct auth_req *a)
{
	unsigned g = 0;

	for (size_t i = 0; i < cl->naccess; i++) {
		const struct jwt_access *x = &cl->access[i];
		int registry = strcmp(x->type, "registry") == 0;
		if (a->base)
			g |= x->actions;
		else if (a->repo == NULL && registry &&
		    strcmp(x->name, "catalog") == 0)
			g |= x->actions & ACL_CATALOG;
		else if (a->repo && !registry && strcmp(x->name, a->repo) == 0)
			g |= x->actions & ~(unsigned)ACL_CATALOG;
	}
	return g;
}

/* A token: known from the cache, else verified with authd's key. */
static void
check_bearer(struct conn *c, const struct authhdr *h)
{
	static struct jwt_claims cl;
	struct auth_req *a = &c->api->auth;
	int64_t now = time(NULL);
	unsigned grant, asked;
	const char *user;
	char err[128];
	int renew;

	a->bearer = 1;
	cache_key(&a->key, 'T', h->token, NULL, repo_key(a));
	/* a token's expiry is its own: never served stale */
	if (cache_get(&a->key, ev_now(), &grant, &asked, &user, 0,
	    &renew) != 1) {
		if (token_key == NULL) {
			a->next(c, 503, 0, 0);
			return;
		}
		if (jwt_verify(token_key, token_kid, h->token, h->token_len,
		    conf_str(P_AUTH_ISSUER), conf_str(P_AUTH_SERVICE), now, &cl,
		    err, sizeof(err)) != 0) {
			log_debug("%s: token refused: %s", c->addr, err);
			a->next(c, 401, 0, 0);
			return;
		}
		grant = claims_grant(&cl, a);
		user = cl.sub;
		cache_put(&a->key, ev_now() + (uint64_t)(cl.exp - now) * 1000,
		    ACL_ALL, grant, user);
	}
	a->authed = 1;
	(void)str_copy(a->user, user, sizeof(a->user));
	a->next(c, 0, grant, 0);
}

/* authd's answer to M_AUTH_CHECK: remember a grant it lets us keep. */
static void
on_check(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	struct auth_req *a = &c->api->auth;
	uint64_t code, t;
	unsigned grant;
	const char *user;

	conn_wait_done(c);
	if (m == NULL || m->type != M_AUTH) {
		if (m)
			log_warnx("authd answered %s", msg_type_name(m->type));
		a->next(c, 503, 0, 0);
		return;
	}
	if ((code = msg_u64(m, A_CODE, 500)) != 0) {
		a->next(c, code == 401 || code == 429 ? (int)code : 503, 0,
		    msg_u64(m, A_TIME, 1));
		return;
	}
	grant = (unsigned)msg_u64(m, A_GRANT, 0) & ACL_ALL;
	if ((user = msg_str(m, A_USER)) == NULL)
		user = a->user;
	t = msg_u64(m, A_TIME, 0) * 1000;
	if (t > ttl_ms)
		t = ttl_ms;
	if (t > 0 && a->gen == cache_generation())
		cache_put(&a->key, ev_now() + t, a->asked, grant, user);
	a->authed = a->kind != 'A';
	if (user != a->user)
		(void)str_copy(a->user, user, sizeof(a->user));
	a->next(c, 0, grant, 0);
}

/* M_AUTH_CHECK of the client's credentials for a->asked. */
static void
check_msg(struct msgb *mb, struct conn *c, const struct authhdr *h)
{
	struct auth_req *a = &c->api->auth;

	msgb_init(mb, M_AUTH_CHECK);
	msgb_str(mb, A_ADDR, c->addr);
	if (a->kind == 'B') {
		msgb_str(mb, A_USER, h->user);
		msgb_str(mb, A_SECRET, h->pass);
	} else if (a->kind == 'C') {
		msgb_str(mb, A_USER, c->cert_user);
		msgb_u64(mb, A_FLAGS, AUTH_F_CERT);
	}
	if (a->repo && !a->base)
		msgb_str(mb, A_REPO, a->repo);
	msgb_u64(mb, A_WANT, a->asked);
}

/* A renewal in the background: what its answer updates. */
struct renewal {
	struct auth_key	 key;
	unsigned	 asked, gen;
};

static void
on_renew(struct link *l, struct msg *m, void *arg)
{
	struct renewal *rn = arg;
	uint64_t t;

	if (m == NULL || m->type != M_AUTH || msg_u64(m, A_CODE, 500) != 0) {
		/* refused: the password changed; else let a later one try */
		cache_unclaim(&rn->key, m && m->type == M_AUTH &&
		    msg_u64(m, A_CODE, 0) == 401);
	} else if ((t = msg_u64(m, A_TIME, 0) * 1000) > 0 &&
	    rn->gen == cache_generation())
		cache_put(&rn->key, ev_now() + (t > ttl_ms ? ttl_ms : t),
		    rn->asked, (unsigned)msg_u64(m, A_GRANT, 0) & ACL_ALL,
		    msg_str(m, A_USER));
	else
		cache_unclaim(&rn->key, 1);
	free(rn);
}

/* The entry the request used has expired: renew it, nobody waiting. */
static void
renew(struct conn *c, const struct authhdr *h)
{
	struct auth_req *a = &c->api->auth;
	struct link *ad = httpd_authd();
	struct renewal *rn;
	struct msgb mb;

	if (ad == NULL) {
		cache_unclaim(&a->key, 0);
		return;
	}
	rn = xmalloc(sizeof(*rn));
	rn->key = a->key;
	rn->asked = a->asked;
	rn->gen = cache_generation();
	check_msg(&mb, c, h);
	(void)link_request(ad, &mb, on_renew, rn);
}

/* Ask authd whether the client may do a->asked. */
static void
ask_authd(struct conn *c, const struct authhdr *h)
{
	struct auth_req *a = &c->api->auth;
	struct link *ad = httpd_authd();
	struct msgb mb;

	if (ad == NULL) {
		a->next(c, 503, 0, 0);
		return;
	}
	check_msg(&mb, c, h);
	a->gen = cache_generation();
	conn_wait(c, ad, link_request(ad, &mb, on_check, c));
}

/* Basic credentials, a client certificate, or nobody: the cache, or
 * authd when it does not know (or knows less than is needed). */
static void
check_authd(struct conn *c, const struct authhdr *h)
{
	struct auth_req *a = &c->api->auth;
	const char *u = NULL, *p = NULL, *user;
	unsigned grant, asked;
	int rc, again;

	a->kind = 'A';
	if (h->kind == AH_BASIC) {
		a->kind = 'B';
		u = h->user;
		p = h->pass;
	} else if (c->cert_user[0]) {
		a->kind = 'C';
		u = c->cert_user;
	}
	(void)str_copy(a->user, u ? u : "", sizeof(a->user));
	a->asked = a->need;
	cache_key(&a->key, a->kind, u, p, repo_key(a));
	rc = cache_get(&a->key, ev_now(), &grant, &asked, &user,
	    httpd_authd() != NULL, &again);
	if (rc && (a->need & ~asked) == 0) {
		a->authed = a->kind != 'A';
		(void)str_copy(a->user, user, sizeof(a->user));
		if (again) {
			a->asked = asked;
			renew(c, h);
		}
		a->next(c, 0, grant, 0);
		return;
	}
	if (again)
		cache_unclaim(&a->key, 0);
	if (rc)
		a->asked |= asked;
	ask_authd(c, h);
}

/* Who is asking, then a->next with the answer. */
static void
auth_check(struct conn *c)
{
	struct auth_req *a = &c->api->auth;
	struct authhdr h;

	a->authed = a->bearer = 0;
	switch (authhdr_parse(http_header_get(&c->req, "Authorization"), &h)) {
	case AH_MALFORMED:
		a->next(c, 401, 0, 0);
		break;
	case AH_BEARER:
		check_bearer(c, &h);
		break;
	default:
		check_authd(c, &h);
		break;
	}
	authhdr_clear(&h);
}

/* ------------------------------------------------------------ the gate */

/* The ACL_* bits the route needs, on which repository. */
static void
gate_need(struct conn *c, struct auth_req *a)
{
	struct api_req *r = c->api;
	int del = c->req.method == HTTP_M_DELETE;

	a->repo = r->repo;
	switch (r->route) {
	case R_BASE:
		a->base = 1;
		a->repo = NULL;
		a->need = 0;
		break;
	case R_CATALOG:
		a->repo = NULL;
		a->need = ACL_CATALOG;
		break;
	case R_UPLOAD_START:
	case R_UPLOAD:
		/* registry:2 asks for both, as a push reads back too */
		a->need = ACL_PUSH | ACL_PULL;
		break;
	case R_MANIFEST:
		a->need = del ? ACL_DELETE : c->req.method == HTTP_M_PUT ?
		    ACL_PUSH | ACL_PULL : ACL_PULL;
		break;
	case R_BLOB:
		a->need = del ? ACL_DELETE : ACL_PULL;
		break;
	default:
		a->need = ACL_PULL;
		break;
	}
}

/* The check of ?from= of a mount is done: mount only with pull there. */
static void
mount_done(struct conn *c, int code, unsigned grant, uint64_t wait)
{
	struct auth_req *a = &c->api->auth;

	a->mount_ok = code == 0 && (grant & ACL_PULL);
	a->repo = c->api->repo;
	api_route(c);
}

/* A mount from another repository: 1 if its check was started. */
static int
mount_check(struct conn *c)
{
	struct auth_req *a = &c->api->auth;
	char mount[8];

	if (c->api->route != R_UPLOAD_START || http_query_get(c->req.query,
	    "mount", mount, sizeof(mount)) == 0 || http_query_get(c->req.query,
	    "from", a->from, sizeof(a->from)) != 1 || !oci_name_valid(a->from))
		return 0;
	a->repo = a->from;
	a->need = ACL_PULL;
	a->next = mount_done;
	auth_check(c);
	return 1;
}

static void
too_many(struct conn *c, uint64_t wait)
{
	conn_header(c, "Retry-After", "%llu", (unsigned long long)(wait ?
	    wait : 1));
	audit_note(c, "denied", 429, NULL, 0);
	conn_respond_error(c, RE_TOOMANYREQUESTS, "too many failed logins");
}

/* The request's own check is answered: run the route, or refuse. */
static void
gate_done(struct conn *c, int code, unsigned grant, uint64_t wait)
{
	struct auth_req *a = &c->api->auth;

	if (code == 429) {
		too_many(c, wait);
		return;
	}
	if (code == 401) {
		unauthorized(c, a->bearer ? "invalid_token" : NULL,
		    "invalid credentials");
		return;
	}
	if (code != 0) {
		api_error(c, RE_UNAVAILABLE, "authentication is not available");
		return;
	}
	/* GET /v2/ wants a known user even where anonymous may pull, as
	 * registry:2 and Docker Hub answer: `docker login` takes a 200 there
	 * for accepted credentials, and anonymous pulls go on past the 401 */
	if (a->base ? !a->authed : (grant & a->need) != a->need) {
		if (!a->authed || a->bearer) {
			unauthorized(c, a->bearer ? "insufficient_scope" :
			    NULL, "authentication required");
			return;
		}
		audit_note(c, "denied", 403, NULL, 0);
		api_error(c, RE_DENIED, NULL);
		return;
	}
	if (!mount_check(c))
		api_route(c);
}

void
auth_gate(struct conn *c)
{
	struct auth_req *a = &c->api->auth;

	if (!enabled) {
		api_route(c);
		return;
	}
	gate_need(c, a);
	a->next = gate_done;
	auth_check(c);
}
