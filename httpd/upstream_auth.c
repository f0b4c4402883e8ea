/*
 * upstream_auth.c - how httpd authenticates to an upstream, as docker's
 * clients do: a token kept for the scope, else Basic when the upstream has
 * credentials, else anonymous; a 401 with a Bearer challenge fetches a
 * token from the realm it names (with Basic credentials, if any) and the
 * request starts again, once.  Also redirects (a registry sends blobs to
 * its storage): followed for GET and HEAD, without our Authorization when
 * the host changes (it is the registry's, and a signed URL refuses one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "ev.h"
#include "log.h"
#include "upstream_int.h"
#include "util.h"

#define TOKENS_MAX	64

struct token {
	size_t		 upi;
	char		 scope[WWWAUTH_PARAM_MAX];
	char		 token[WWWAUTH_TOKEN_MAX];
	uint64_t	 expires_ms;
};

static struct token tokens[TOKENS_MAX];

/* A live token of upstream upi for scope, or NULL. */
static const char *
token_find(size_t upi, const char *scope)
{
	for (size_t i = 0; i < TOKENS_MAX; i++)
		if (tokens[i].expires_ms > ev_now() && tokens[i].upi == upi &&
		    strcmp(tokens[i].scope, scope) == 0)
			return tokens[i].token;
	return NULL;
}

/* Keep a token until 10 s before it expires, in the slot that expires
 * first. */
static void
token_keep(size_t upi, const char *scope, const char *tok, uint64_t ttl)
{
	struct token *t = &tokens[0];

	for (size_t i = 0; i < TOKENS_MAX; i++)
		if (tokens[i].expires_ms < t->expires_ms)
			t = &tokens[i];
	explicit_bzero(t, sizeof(*t));
	t->upi = upi;
	str_copy(t->scope, scope, sizeof(t->scope));
	str_copy(t->token, tok, sizeof(t->token));
	t->expires_ms = ev_now() + (ttl > 20 ? ttl - 10 : ttl) * 1000;
}

/* "Basic base64(user:password)" of upstream upi into out, or "". */
static void
basic_authz(size_t upi, char *out, size_t len)
{
	const struct cache_upstream *u = upstream_at(upi);
	char pair[2 * CACHE_CRED_MAX + 2];
	int n;

	out[0] = '\0';
	if (u->username[0] == '\0')
		return;
	n = snprintf(pair, sizeof(pair), "%s:%s", u->username, u->password);
	if (len > 6 && b64_encode(pair, (size_t)n, out + 6, len - 6, 0) > 0)
		memcpy(out, "Basic ", 6);
	else
		out[0] = '\0';
	explicit_bzero(pair, sizeof(pair));
}

void
up_authorize(struct upreq *r)
{
	const char *tok;

	if (!r->token_req && (tok = token_find(r->upi, r->scope)) != NULL)
		(void)snprintf(r->authz, sizeof(r->authz), "Bearer %s", tok);
	else
		basic_authz(r->upi, r->authz, sizeof(r->authz));
}

int
up_url_parse(const char *url, struct up_target *t)
{
	struct cache_upstream u;
	const char *slash, *rest = strstr(url, "://");
	char base[CACHE_HOST_MAX + 16];
	size_t n;

	if (rest == NULL)
		return -1;
	slash = strchr(rest + 3, '/');
	n = slash ? (size_t)(slash - url) : strlen(url);
	if (n >= sizeof(base))
		return -1;
	memcpy(base, url, n);
	base[n] = '\0';
	memset(&u, 0, sizeof(u));
	if (cache_url_parse(base, &u) == -1 ||
	    str_copy(t->path, slash ? slash : "/", sizeof(t->path)) == -1)
		return -1;
	for (const char *p = t->path; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return -1;
	t->tls = u.tls;
	str_copy(t->host, u.host, sizeof(t->host));
	str_copy(t->port, u.port, sizeof(t->port));
	return 0;
}

static int	token_head(struct upreq *, const struct http_request *, void *);
static int	token_data(struct upreq *, const char *, size_t, void *);
static void	token_done(struct upreq *, const char *, void *);
static const struct up_ops token_ops = { token_head, token_data,
	token_done, NULL };

/* A token request's head: 200 or the exchange fails. */
static int
token_head(struct upreq *t, const struct http_request *h, void *arg)
{
	struct upreq *r = arg;

	if (h->status == 200) {
		/* the head buffer also got the body bytes that came with the
		 * head; token_data appends the whole body after the head */
		t->head.len = t->head.off + h->head_len;
		return 0;
	}
	r->child = NULL;	/* t is freed by the caller */
	up_fail(r, "%s: the token service answered %d (credentials?)",
	    r->t.host, h->status);
	return -1;
}

static int
token_data(struct upreq *t, const char *p, size_t n, void *arg)
{
	buf_append(&t->head, p, n);	/* the head is parsed: reuse it */
	return 0;
}

/* The token answer is in: keep the token, start the request again. */
static void
token_done(struct upreq *t, const char *why, void *arg)
{
	struct upreq *r = arg;
	char tok[WWWAUTH_TOKEN_MAX];
	uint64_t ttl;
	size_t off = t->resp.head_len;

	r->child = NULL;
	if (why != NULL) {
		up_fail(r, "token: %s", why);
		return;
	}
	if (wwwauth_token_parse(t->head.data + off, t->head.len - off, tok,
	    sizeof(tok), &ttl) == -1) {
		up_fail(r, "%s: the token service's answer is not a token",
		    t->t.host);
		return;
	}
	token_keep(r->upi, r->scope, tok, ttl);
	explicit_bzero(tok, sizeof(tok));
	r->auth_round = 1;
	up_authorize(r);
	up_dial(r);
}

/* A Bearer challenge: ask its realm for a token of r's scope. */
static int
up_fetch_token(struct upreq *r, const struct wwwauth *w)
{
	char svc[3 * WWWAUTH_PARAM_MAX], scope[3 * WWWAUTH_PARAM_MAX];
	struct upreq *t = up_new(r->upi, "GET", &token_ops, r);
	size_t pl;

	t->token_req = 1;
	t->body_max = WWWAUTH_BODY_MAX;
	if (up_url_parse(w->realm, &t->t) == -1 ||
	    http_query_escape(w->service, "-._~", svc, sizeof(svc)) == -1 ||
	    http_query_escape(w->scope[0] ? w->scope : r->scope, "-._~",
	    scope, sizeof(scope)) == -1 || (pl = strlen(t->t.path)) + strlen(svc) +
	    strlen(scope) + 20 >= sizeof(t->t.path)) {
		up_free(t);
		return -1;
	}
	(void)snprintf(t->t.path + pl, sizeof(t->t.path) - pl,
	    "%sservice=%s&scope=%s", strchr(t->t.path, '?') ? "&" : "?",
	    svc, scope);
	up_authorize(t);
	r->child = t;
	up_disconnect(r);
	up_dial(t);
	return 0;
}

/* A 3xx with a Location: the same request there. */
static int
up_redirect(struct upreq *r, const char *loc)
{
	struct up_target t = r->t;

	if (++r->redirects > UP_REDIRECTS)
		return up_fail(r, "%s: more than %d redirects", r->t.host,
		    UP_REDIRECTS), 1;
	if (loc[0] == '/') {
		if (str_copy(t.path, loc, sizeof(t.path)) == -1)
			return up_fail(r, "%s: redirect too long", r->t.host),
			    1;
	} else if (up_url_parse(loc, &t) == -1)
		return up_fail(r, "%s: bad redirect", r->t.host), 1;
	if (r->t.tls && !t.tls)
		return up_fail(r, "%s: a redirect from https to http refused",
		    r->t.host), 1;
	if (strcmp(t.host, r->t.host) != 0 || strcmp(t.port, r->t.port) != 0)
		r->authz[0] = '\0';
	r->t = t;
	up_dial(r);
	return 1;
}

int
up_intercept(struct upreq *r)
{
	const char *v;
	struct wwwauth w;
	int s = r->resp.status;

	if (r->fwd)
		return 0;	/* the client follows what it gets */
	if ((s == 301 || s == 302 || s == 303 || s == 307 || s == 308) &&
	    (v = http_header_get(&r->resp, "Location")) != NULL)
		return up_redirect(r, v);
	if (s != 401 || r->auth_round || r->token_req)
		return 0;
	if ((v = http_header_get(&r->resp, "WWW-Authenticate")) == NULL ||
	    wwwauth_parse(v, &w) == -1)
		return up_fail(r, "%s: 401 without a challenge we read",
		    r->t.host), 1;
	if (w.scheme != WA_BEARER)
		return 0;	/* Basic was sent, if we have credentials */
	if (up_fetch_token(r, &w) == -1)
		return up_fail(r, "%s: a Bearer challenge we cannot follow "
		    "(realm %s)", r->t.host, w.realm), 1;
	return 1;
}
