/*
 * token.c - Docker token auth's endpoint, served when auth.token is on:
 * GET /token?service=&scope=...&account=&offline_token= with optional
 * Basic credentials, and the OAuth2 form (POST, grant_type=password).
 * authd checks the credentials and signs a token for what the rules grant
 * of the scopes asked; here requests are bounded and answers shaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "auth.h"
#include "httpd.h"
#include "log.h"
#include "regerr.h"
#include "util.h"

#define SCOPE_ONE_MAX	1024		/* one scope parameter */
#define SCOPES_MAX	8192		/* A_SCOPE: all of them, one a line */
#define FORM_MAX	(16 * 1024)	/* an OAuth2 form body */

/* What one token request asks, from the query or the form. */
struct token_ask {
	char	 scopes[SCOPES_MAX];
	size_t	 nscopes;
	char	 service[256];
	int	 offline;
	struct authhdr cred;		/* Basic, or the form's */
};

static void
token_bad(struct conn *c, const char *detail)
{
	api_error_status(c, 400, "UNSUPPORTED", "invalid token request",
	    detail);
}

/* Append one scope (spaces separate several, as OAuth2 has it). */
static int
scope_add(struct token_ask *t, const char *s)
{
	size_t have = strlen(t->scopes), n;

	for (; *s; s += n) {
		s += strspn(s, " ");
		if ((n = strcspn(s, " ")) == 0)
			break;
		if (have + n + 2 > sizeof(t->scopes))
			return -1;
		if (have)
			t->scopes[have++] = '\n';
		memcpy(t->scopes + have, s, n);
		t->scopes[have += n] = '\0';
		t->nscopes++;
	}
	return 0;
}

/* Every scope= of a query or form: -1 when one is malformed or they are
 * too many. */
static int
scopes_parse(struct token_ask *t, const char *q)
{
	char seg[SCOPE_ONE_MAX * 3 + 8], v[SCOPE_ONE_MAX];
	size_t n;

	for (; *q; q += n + (q[n] == '&')) {
		n = strcspn(q, "&");
		if (n >= sizeof(seg))
			return -1;
		memcpy(seg, q, n);
		seg[n] = '\0';
		switch (http_query_get(seg, "scope", v, sizeof(v))) {
		case -1:
			return -1;
		case 1:
			if (scope_add(t, v) == -1)
				return -1;
		}
	}
	return 0;
}

/* service, offline_token and the scopes of q: NULL, or what is wrong. */
static const char *
ask_parse(struct token_ask *t, const char *q)
{
	char off[8], account[AUTHHDR_USER_MAX + 1];

	if (http_query_get(q, "service", t->service, sizeof(t->service)) == -1 ||
	    http_query_get(q, "account", account, sizeof(account)) == -1)
		return "service or account is malformed";
	if (scopes_parse(t, q) == -1)
		return "a scope is malformed, or there are too many";
	t->offline = http_query_get(q, "offline_token", off, sizeof(off)) == 1 &&
	    strcmp(off, "true") == 0;
	return NULL;
}

/* The token is good base64url: it goes into JSON as it is. */
static int
token_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
	    "pqrstuvwxyz0123456789-_.") == n;
}

static void
token_respond(struct conn *c, const char *tok, uint64_t ttl)
{
	char when[32], *body;
	time_t now = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (c->api->auth.oauth)
		n = xasprintf(&body, "{\"access_token\":\"%s\",\"token_type\":"
		    "\"Bearer\",\"expires_in\":%llu,\"issued_at\":\"%s\"}", tok,
		    (unsigned long long)ttl, when);
	else
		n = xasprintf(&body, "{\"token\":\"%s\",\"access_token\":\"%s\","
		    "\"expires_in\":%llu,\"issued_at\":\"%s\"}", tok, tok,
		    (unsigned long long)ttl, when);
	conn_header(c, "Cache-Control", "no-store");
	conn_respond(c, 200, "application/json", body, (size_t)n);
	free(body);
}

/* authd's answer: the token, or why not. */
static void
on_token(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	const char *tok;
	uint64_t code;

	conn_wait_done(c);
	if (m == NULL || m->type != M_TOKEN) {
		api_error(c, RE_UNAVAILABLE, "authentication is not available");
		return;
	}
	switch ((code = msg_u64(m, A_CODE, 500))) {
	case 0:
		if ((tok = msg_str(m, A_VALUE)) == NULL || !token_ok(tok)) {
			log_warnx("authd sent a malformed token");
			api_error(c, RE_INTERNAL, NULL);
			return;
		}
		token_respond(c, tok, msg_u64(m, A_TIME, 0));
		return;
	case 401:
		auth_basic_challenge(c);
		api_error(c, RE_UNAUTHORIZED, "invalid credentials");
		return;
	case 429:
		conn_header(c, "Retry-After", "%llu",
		    (unsigned long long)msg_u64(m, A_TIME, 1));
		conn_respond_error(c, RE_TOOMANYREQUESTS, "too many failed "
		    "logins");
		return;
	case 400:	/* another service, or scopes authd will not take */
		token_bad(c, "a service or scope authd does not issue for");
		return;
	default:
		api_error(c, RE_UNAVAILABLE, "authentication is not available");
	}
}

/* Send what t asks to authd. */
static void
token_issue(struct conn *c, struct token_ask *t)
{
	struct link *ad = httpd_authd();
	uint64_t flags = t->offline ? AUTH_F_OFFLINE : 0;
	struct msgb mb;

	if (ad == NULL) {
		api_error(c, RE_UNAVAILABLE, "authentication is not available");
		return;
	}
	msgb_init(&mb, M_TOKEN_ISSUE);
	msgb_str(&mb, A_ADDR, c->addr);
	if (t->cred.kind == AH_BASIC) {
		msgb_str(&mb, A_USER, t->cred.user);
		msgb_str(&mb, A_SECRET, t->cred.pass);
	} else if (c->cert_user[0]) {
		msgb_str(&mb, A_USER, c->cert_user);
		flags |= AUTH_F_CERT;
	}
	if (t->nscopes)
		msgb_str(&mb, A_SCOPE, t->scopes);
	if (t->service[0])
		msgb_str(&mb, A_NAME, t->service);
	if (flags)
		msgb_u64(&mb, A_FLAGS, flags);
	conn_wait(c, ad, link_request(ad, &mb, on_token, c));
}

/* The OAuth2 form arrived: grant_type=password with username/password. */
static void
on_form(struct conn *c, int err)
{
	struct token_ask t = { .nscopes = 0 };
	const char *f, *bad = NULL;
	char grant[32];

	if (err != 0) {
		token_bad(c, "unreadable form");
		return;
	}
	buf_append(&c->body, "", 1);
	f = buf_head(&c->body);
	t.cred.kind = AH_BASIC;
	if (http_query_get(f, "grant_type", grant, sizeof(grant)) != 1 ||
	    strcmp(grant, "password") != 0)
		bad = "only grant_type=password is served";
	else if (http_query_get(f, "username", t.cred.user,
	    sizeof(t.cred.user)) != 1 || t.cred.user[0] == '\0' ||
	    strchr(t.cred.user, ':') || http_query_get(f, "password",
	    t.cred.pass, sizeof(t.cred.pass)) != 1)
		bad = "username and password are required";
	else
		bad = ask_parse(&t, f);
	/* the password is in t now, or nowhere */
	explicit_bzero(buf_head(&c->body), buf_avail(&c->body));
	if (bad)
		token_bad(c, bad);
	else {
		c->api->auth.oauth = 1;
		token_issue(c, &t);
	}
	authhdr_clear(&t.cred);
}

/* GET or POST /token */
void
token_request(struct conn *c)
{
	struct token_ask t = { .nscopes = 0 };
	const char *bad;

	if (!auth_token_on()) {
		api_error(c, RE_NAME_UNKNOWN, "no such endpoint");
		return;
	}
	if (c->req.method == HTTP_M_POST) {
		conn_body_to_mem(c, FORM_MAX, on_form);
		return;
	}
	if (c->req.method != HTTP_M_GET) {
		conn_header(c, "Allow", "GET, POST");
		api_error(c, RE_UNSUPPORTED, "method not allowed here");
		return;
	}
	if (authhdr_parse(http_header_get(&c->req, "Authorization"),
	    &t.cred) == AH_MALFORMED) {
		auth_basic_challenge(c);
		api_error(c, RE_UNAUTHORIZED, "malformed credentials");
		return;
	}
	if ((bad = ask_parse(&t, c->req.query)) != NULL)
		token_bad(c, bad);
	else
		token_issue(c, &t);
	authhdr_clear(&t.cred);
}
