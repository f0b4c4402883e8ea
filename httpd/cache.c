/*
 * cache.c - the pull-through cache's routing (which names an upstream
 * serves, lib/conf_cache), pushes refused or forwarded (forward.c), and
 * manifests: served from the store when it holds them (by digest always;
 * by tag until the upstream's ttl, then a HEAD compares the upstream's
 * digest), else fetched with the upstream's exact bytes, checked against
 * its digest, stored through storaged (a manifest PUT into PREFIX + NAME)
 * and answered.  When the upstream fails, a stored copy is served anyway
 * (stale, logged, counted); only what was never cached fails, with an OCI
 * error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cache_int.h"
#include "conf.h"
#include "forward.h"
#include "log.h"
#include "mtext.h"
#include "regerr.h"
#include "util.h"

#define FRESH_SLOTS	4096
#define ACCEPT_ALL	MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " \
			MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST

struct cache_counters cache_stats;

/* When a tag was last confirmed with its upstream; a collision only
 * costs a HEAD. */
static struct {
	char		 key[CACHE_NAME_MAX + API_REF_MAX];
	uint64_t	 at_ms;
} fresh[FRESH_SLOTS];

static void stored_lookup(struct conn *);
static void upstream_manifest(struct conn *);

void
cache_configure(void)
{
	upstream_configure();
}

static unsigned
fresh_slot(const char *repo, const char *tag, char *key, size_t len)
{
	unsigned h = 2166136261u;

	(void)snprintf(key, len, "%s:%s", repo, tag);
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % FRESH_SLOTS;
}

static void
fresh_mark(const struct creq *q, const char *tag)
{
	char key[sizeof(fresh[0].key)];
	unsigned i = fresh_slot(q->store, tag, key, sizeof(key));

	memcpy(fresh[i].key, key, sizeof(key));
	fresh[i].at_ms = ev_now();
}

static int
fresh_is(const struct creq *q, const char *tag)
{
	char key[sizeof(fresh[0].key)];
	unsigned i = fresh_slot(q->store, tag, key, sizeof(key));
	uint64_t ttl = upstream_at(q->upi)->ttl * 1000;

	return ttl > 0 && strcmp(fresh[i].key, key) == 0 &&
	    ev_now() - fresh[i].at_ms < ttl;
}

void
cache_tag_pushed(const char *store, const char *tag)
{
	char key[sizeof(fresh[0].key)];
	unsigned i = fresh_slot(store, tag, key, sizeof(key));

	if (strcmp(fresh[i].key, key) == 0)
		fresh[i].key[0] = '\0';	/* ev_now() may be below a ttl */
}

/* The upstream failed and nothing is cached: 404 if it said so, 504 for
 * silence, else 502; the reason goes to the log. */
void
cache_upstream_error(struct conn *c, const char *why, int status)
{
	int blob = c->api->route == R_BLOB;

	cache_stats.errors++;
	log_warnx("cache: %s/%s: %s", c->api->repo, c->api->ref, why);
	if (status == 404)
		api_error(c, blob ? RE_BLOB_UNKNOWN : RE_MANIFEST_UNKNOWN,
		    "not found upstream");
	else
		api_error_status(c, strstr(why, "no answer") ? 504 : 502,
		    "UNAVAILABLE", "the upstream registry did not serve it "
		    "and this cache holds no copy", NULL);
}

void
cache_ask_store(struct conn *c, int type, const char *repo, link_reply_cb cb)
{
	struct msgb mb;

	msgb_init(&mb, type);
	msgb_str(&mb, A_REPO, repo);
	if (type == M_MANIFEST_GET)
		msgb_str(&mb, A_REF, c->api->ref);
	else
		msgb_str(&mb, A_DIGEST, c->api->digest);
	api_send(c, &mb, cb);
}

/* Not found in the store (or the repository does not exist yet). */
static int
store_lacks(const struct msg *m)
{
	uint64_t e = m->type == M_ERR ? msg_u64(m, A_CODE, 0) : 0;

	return e == RE_MANIFEST_UNKNOWN || e == RE_NAME_UNKNOWN ||
	    e == RE_BLOB_UNKNOWN;
}

/* The stored manifest again, served (after a revalidation). */
static void
on_stored_again(struct link *l, struct msg *m, void *arg)
{
	api_on_manifest(l, m, arg);
}

static void
stored_serve(struct conn *c)
{
	cache_ask_store(c, M_MANIFEST_GET, c->api->cache->store,
	    on_stored_again);
}

/* The upstream failed; a stored copy is served stale. */
static void
serve_stale(struct conn *c, const char *why)
{
	cache_stats.stale++;
	log_warnx("cache: %s:%s served stale: %s", c->api->cache->store,
	    c->api->ref, why);
	stored_serve(c);
}

/* The revalidating HEAD's head: its status and digest noted. */
static int
rv_head(struct upreq *u, const struct http_request *h, void *arg)
{
	struct creq *q = ((struct conn *)arg)->api->cache;
	const char *d = http_header_get(h, "Docker-Content-Digest");

	q->up_status = h->status;
	if (d == NULL || str_copy(q->up_digest, d, sizeof(q->up_digest)))
		q->up_digest[0] = '\0';
	return 0;
}

static int
no_body(struct upreq *u, const char *p, size_t n, void *arg)
{
	return 0;
}

/* The HEAD's verdict: the same digest (fresh again), another (fetch
 * it), or no answer (stale). */
static void
rv_done(struct upreq *u, const char *why, void *arg)
{
	struct conn *c = arg;
	struct creq *q = c->api->cache;

	q->up = NULL;
	if (why == NULL && q->up_status != 200)
		why = q->up_status == 429 ? "429 too many requests" :
		    "the upstream's HEAD failed";
	if (why != NULL) {
		serve_stale(c, why);
		return;
	}
	if (strcmp(q->up_digest, q->known) == 0) {
		fresh_mark(q, c->api->ref);
		stored_serve(c);
		return;
	}
	log_info("cache: %s:%s moved upstream to %s", q->store, c->api->ref,
	    q->up_digest[0] ? q->up_digest : "(no digest)");
	upstream_manifest(c);
}

static const struct up_ops rv_ops = { rv_head, no_body, rv_done, NULL };

/* "/v2/NAME/manifests/REF" and the pull scope of NAME. */
static void
manifest_target(const struct conn *c, const char *kind, char *path,
    size_t plen, char *scope, size_t slen)
{
	const struct creq *q = c->api->cache;

	(void)snprintf(path, plen, "/v2/%s/%s/%s", q->remote, kind,
	    kind[0] == 'm' ? c->api->ref : c->api->digest);
	(void)snprintf(scope, slen, "repository:%s:pull", q->remote);
}

/* A stored tag past its ttl: ask the upstream for its digest. */
static void
revalidate(struct conn *c, const char *digest)
{
	struct creq *q = c->api->cache;
	char path[600], scope[400];

	str_copy(q->known, digest ? digest : "", sizeof(q->known));
	manifest_target(c, "manifests", path, sizeof(path), scope,
	    sizeof(scope));
	q->up = upstream_start(q->upi, "HEAD", path, ACCEPT_ALL, scope, 0,
	    &rv_ops, c);
}

/* The store's answer for the cached name. */
static void
on_stored_manifest(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	struct creq *q = c->api->cache;
	int tag = strchr(c->api->ref, ':') == NULL;

	if (m != NULL && store_lacks(m)) {
		conn_wait_done(c);
		upstream_manifest(c);
		return;
	}
	if (m == NULL || m->type != M_MANIFEST || !tag ||
	    fresh_is(q, c->api->ref)) {
		api_on_manifest(l, m, c);
		return;
	}
	conn_wait_done(c);
	revalidate(c, msg_str(m, A_DIGEST));
}

static void
stored_lookup(struct conn *c)
{
	cache_ask_store(c, M_MANIFEST_GET, c->api->cache->store,
	    on_stored_manifest);
}

/* A mirror's name: the host's own repository first. */
static void
on_own_manifest(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;

	if (m != NULL && store_lacks(m)) {
		conn_wait_done(c);
		stored_lookup(c);
		return;
	}
	api_on_manifest(l, m, c);
}

static int
mf_head(struct upreq *u, const struct http_request *h, void *arg)
{
	struct creq *q = ((struct conn *)arg)->api->cache;
	const char *d = http_header_get(h, "Docker-Content-Digest"),
	    *ct = http_header_get(h, "Content-Type");

	q->up_status = h->status;
	if (d == NULL || str_copy(q->up_digest, d, sizeof(q->up_digest)))
		q->up_digest[0] = '\0';
	if (ct == NULL || !api_header_safe(ct) ||
	    str_copy(q->ctype, ct, sizeof(q->ctype)) == -1)
		q->ctype[0] = '\0';
	return 0;
}

static int
mf_data(struct upreq *u, const char *p, size_t n, void *arg)
{
	buf_append(&((struct conn *)arg)->api->cache->body, p, n);
	return 0;
}

/* The body's digest (the reference's algorithm, else sha256) into out;
 * -1 if it is not the one the reference or the upstream's header names. */
static int
manifest_digest(struct conn *c, char *out, size_t len)
{
	struct creq *q = c->api->cache;
	struct digest want, got;

	if (q->up_digest[0] && digest_parse(q->up_digest, &want) == 0) {
		digest_buf(want.alg, q->body.data, q->body.len, &got);
		if (!digest_equal(&want, &got))
			return -1;
	}
	if (strchr(c->api->ref, ':') != NULL) {
		if (digest_parse(c->api->ref, &want) != 0)
			return -1;
		digest_buf(want.alg, q->body.data, q->body.len, &got);
		if (!digest_equal(&want, &got))
			return -1;
	} else
		digest_buf(DIGEST_SHA256, q->body.data, q->body.len, &got);
	return digest_format(&got, out, len);
}

/* Answer with the upstream's bytes (stored or not). */
static void
manifest_respond(struct conn *c)
{
	struct creq *q = c->api->cache;

	if (c->req.method == HTTP_M_GET)
		audit_note(c, "pull", 200, q->up_digest, q->body.len);
	conn_header(c, "Docker-Content-Digest", "%s", q->up_digest);
	conn_header(c, "ETag", "\"%s\"", q->up_digest);
	conn_respond(c, 200, q->ctype[0] ? q->ctype : NULL, q->body.data,
	    q->body.len);
}

/* storaged stored the copy (or said why not: it is served anyway). */
static void
on_cached_put(struct link *l, struct msg *m, void *arg)
{
	struct conn *c = arg;
	struct creq *q = c->api->cache;

	conn_wait_done(c);
	if (m != NULL && m->type == M_MANIFEST) {
		if (strchr(c->api->ref, ':') == NULL)
			fresh_mark(q, c->api->ref);
	} else
		log_warnx("cache: %s:%s not stored: %s", q->store, c->api->ref,
		    m == NULL ? "storaged went away" : msg_str(m, A_TEXT) ?
		    msg_str(m, A_TEXT) : "refused");
	manifest_respond(c);
}

/* Store the checked copy in PREFIX + NAME, as a push would. */
static void
manifest_store(struct conn *c)
{
	struct creq *q = c->api->cache;
	struct msgb mb;
	int fd = -1;

	if (q->body.len > API_INLINE_MAX &&
	    (fd = api_body_memfd(q->body.data, q->body.len)) == -1) {
		log_warn("memfd");
		manifest_respond(c);
		return;
	}
	msgb_init(&mb, M_MANIFEST_PUT);
	msgb_str(&mb, A_REPO, q->store);
	msgb_str(&mb, A_REF, c->api->ref);
	msgb_str(&mb, A_MEDIATYPE, q->ctype);
	msgb_u64(&mb, A_SIZE, q->body.len);
	msgb_u64(&mb, A_FLAGS, MANIFEST_F_CACHED);
	if (fd == -1)
		msgb_bytes(&mb, A_BODY, q->body.data, q->body.len);
	else
		msgb_fd(&mb, A_FD, fd);
	api_send(c, &mb, on_cached_put);
}

/* The upstream's manifest is in (or not): check, store, answer. */
static void
mf_done(struct upreq *u, const char *why, void *arg)
{
	struct conn *c = arg;
	struct creq *q = c->api->cache;
	char detail[64];

	q->up = NULL;
	if (why == NULL && q->up_status != 200) {
		(void)snprintf(detail, sizeof(detail), "the upstream answered "
		    "%d", q->up_status);
		why = detail;
	}
	if (why == NULL && (q->body.len == 0 || manifest_digest(c,
	    q->up_digest, sizeof(q->up_digest)) == -1)) {
		cache_stats.mismatches++;
		why = "the upstream's manifest does not match its digest";
		q->up_status = 502;
	}
	if (why != NULL && q->known[0] != '\0')
		serve_stale(c, why);
	else if (why != NULL)
		cache_upstream_error(c, why, q->up_status);
	else
		manifest_store(c);
}

static const struct up_ops mf_ops = { mf_head, mf_data, mf_done, NULL };

static void
upstream_manifest(struct conn *c)
{
	struct creq *q = c->api->cache;
	char path[600], scope[400];

	buf_reset(&q->body);
	manifest_target(c, "manifests", path, sizeof(path), scope,
	    sizeof(scope));
	q->up = upstream_start(q->upi, "GET", path, ACCEPT_ALL, scope,
	    OCI_MANIFEST_MAX, &mf_ops, c);
}

static void
cache_manifest(struct conn *c)
{
	struct creq *q = c->api->cache;

	if (api_manifest_ref(c, RE_MANIFEST_UNKNOWN) == -1)
		return;
	if (q->mirror_first)
		cache_ask_store(c, M_MANIFEST_GET, c->api->repo,
		    on_own_manifest);
	else
		stored_lookup(c);
}

/* A push, or a deletion: what a cache refuses (cache.push = refuse). */
static int
is_push(const struct conn *c)
{
	enum api_route rt = c->api->route;

	return rt == R_UPLOAD_START || rt == R_UPLOAD ||
	    (rt == R_MANIFEST && c->req.method != HTTP_M_GET &&
	    c->req.method != HTTP_M_HEAD) ||
	    (rt == R_BLOB && c->req.method == HTTP_M_DELETE);
}

static void
refuse_push(struct conn *c, size_t upi)
{
	char detail[1024];

	cache_stats.refused++;
	(void)snprintf(detail, sizeof(detail), "%s is a cache of %s: pushes "
	    "and deletions are refused here (cache.push = \"refuse\")",
	    c->api->repo, upstream_at(upi)->url);
	api_error(c, RE_DENIED, detail);
}

int
cache_request(struct conn *c)
{
	struct api_req *r = c->api;
	char remote[CACHE_NAME_MAX], store[CACHE_NAME_MAX];
	int i, mirror;

	if (r->route == R_BASE && forward_base(c))
		return 1;
	if (upstream_count() == 0 || r->route == R_BASE ||
	    r->route == R_CATALOG || (i = cache_route(upstream_at(0),
	    upstream_count(), r->repo, remote, sizeof(remote), store,
	    sizeof(store), &mirror)) < 0)
		return 0;
	/* forwarding, a blob's HEAD is how a push checks what it need not
	 * send: the upstream answers it, for the client's credentials */
	if (is_push(c) || (forward_on() && r->route == R_BLOB &&
	    c->req.method == HTTP_M_HEAD && !mirror)) {
		if (mirror)
			return 0;	/* the host's own name */
		if (forward_on())
			forward_request(c, (size_t)i, remote, store);
		else
			refuse_push(c, (size_t)i);
		return 1;
	}
	/* a push to the host's own name checks its blobs with HEAD: under a
	 * mirror's name that asks the host's repository alone */
	if (mirror && r->route == R_BLOB && c->req.method == HTTP_M_HEAD)
		return 0;
	if (r->route == R_TAGS || r->route == R_REFERRERS) {
		if (!mirror && str_copy(r->repo, store, sizeof(r->repo)) == -1)
			return api_error(c, RE_NAME_INVALID, NULL), 1;
		return 0;
	}
	r->cache = xcalloc(1, sizeof(*r->cache));
	r->cache->c = c;
	r->cache->upi = (size_t)i;
	r->cache->mirror_first = mirror;
	memcpy(r->cache->remote, remote, sizeof(remote));
	memcpy(r->cache->store, store, sizeof(store));
	buf_init(&r->cache->body);
	if (r->route == R_MANIFEST)
		cache_manifest(c);
	else
		cache_blob(c);
	return 1;
}

void
cache_conn_closed(struct conn *c)
{
	struct creq *q = c->api ? c->api->cache : NULL;

	forward_conn_closed(c);
	if (q == NULL)
		return;
	c->api->cache = NULL;
	if (q->up != NULL)
		upstream_cancel(q->up);
	if (q->f != NULL)
		cache_blob_left(q);
	buf_free(&q->body);
	free(q);
}

void
cache_metrics(struct buf *b)
{
	if (upstream_count() == 0)
		return;
	mtext_single(b, "registry_cache_upstream_fetches_total", MT_COUNTER,
	    "blob fetches started from an upstream", cache_stats.fetches);
	mtext_single(b, "registry_cache_upstream_bytes_total", MT_COUNTER,
	    "blob bytes received from upstreams", cache_stats.bytes);
	mtext_single(b, "registry_cache_digest_mismatches_total", MT_COUNTER,
	    "upstream content whose digest did not match (discarded)",
	    cache_stats.mismatches);
	mtext_single(b, "registry_cache_stale_served_total", MT_COUNTER,
	    "cached manifests served because the upstream failed",
	    cache_stats.stale);
	mtext_single(b, "registry_cache_upstream_errors_total", MT_COUNTER,
	    "requests that failed because the upstream did and nothing was "
	    "cached", cache_stats.errors);
	mtext_single(b, "registry_cache_pushes_refused_total", MT_COUNTER,
	    "pushes and deletions refused on cached names",
	    cache_stats.refused);
	forward_metrics(b);
}
