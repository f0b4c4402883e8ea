/*
 * list.c - the listing requests, answered from the index: a repository's
 * tags and the catalog (lexical order, paged by "last" and "count"), and
 * the referrers of a manifest (an OCI index of the manifests whose subject
 * it is, optionally only those of one artifactType), in pages bounded in
 * descriptors and bytes and paged by the last digest, so that no answer
 * grows with what clients pushed.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drepo.h"
#include "ev.h"
#include "index.h"
#include "log.h"
#include "oci.h"
#include "regerr.h"
#include "store.h"
#include "storaged.h"
#include "util.h"

#define REFERRERS_PAGE_MAX	100		/* descriptors of one page */
#define REFERRERS_PAGE_BYTES	(1024u * 1024)	/* JSON of one page, about */
/* A catalog page past the names walk's position waits this long at most
 * for it, this many at a time; then UNAVAILABLE (httpd: 503 with
 * Retry-After). */
#define CATALOG_WAIT_MS		5000
#define CATALOG_WAITERS		256

/* A referrers page being gathered. */
struct refpage {
	struct oci_desc	 descs[REFERRERS_PAGE_MAX];
	char		*owned[REFERRERS_PAGE_MAX];	/* read from blobs */
	size_t		 n, max, bytes;
};

/* How many entries a page may hold: count, or all when it is absent. */
static size_t
page_count(const struct msg *m)
{
	uint64_t c = msg_u64(m, A_COUNT, UINT64_MAX);

	return c > SIZE_MAX ? SIZE_MAX : (size_t)c;
}

/* The page of max names after last of the sorted tag names all[0..n). */
static void
tags_reply(struct link *l, uint32_t id, const char *repo, char **all,
    size_t n, const char *last, size_t max)
{
	size_t lo = 0, hi = n, k;

	while (last && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(all[mid], last) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	k = n - lo < max ? n - lo : max;
	reply_list(l, id, oci_tags_json(repo, all + lo, k),
	    k > 0 && lo + k < n ? all[lo + k - 1] : NULL);
}

/* tags/list of a repository the index has not loaded yet: its tags only
 * (their links, not the revisions and manifests a load reads), the same
 * list the load gives; the index stays as it is. */
static void
tags_list_disk(struct link *l, uint32_t id, const char *repo,
    const char *last, size_t max)
{
	struct drepo *b = drepo_read_tags(repo);
	char **all = xcalloc(b->ntags ? b->ntags : 1, sizeof(*all));

	for (size_t i = 0; i < b->ntags; i++)
		all[i] = b->tags[i].name;
	tags_reply(l, id, repo, all, b->ntags, last, max);
	free(all);
	drepo_free(b);
}

/* M_TAGS_LIST: a page of a repository's tags, in strcmp order. */
void
tags_list(struct link *l, struct msg *m)
{
	const char *repo, *last = msg_str(m, A_LAST);
	size_t start, n, max = page_count(m), i;
	struct repo *r;
	char **names;

	if (req_repo(l, m, A_REPO, &repo) == -1)
		return;
	if ((r = repo_lookup(repo)) == NULL || !r->has_manifests) {
		link_reply_err(l, m->id, RE_NAME_UNKNOWN, NULL);
		return;
	}
	if (!r->loaded) {
		tags_list_disk(l, m->id, repo, last, max);
		return;
	}
	start = last ? tag_upper(r, last) : 0;
	n = r->ntags - start < max ? r->ntags - start : max;
	names = xcalloc(n ? n : 1, sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = r->tags[start + i].name;
	reply_list(l, m->id, oci_tags_json(repo, names, n),
	    n > 0 && start + n < r->ntags ? names[n - 1] : NULL);
	free(names);
}

/* A page of the repositories that hold manifests, after last. */
static void
catalog_page(struct link *l, uint32_t id, const char *last, size_t max)
{
	size_t i, n = 0, cap = 64;
	char **names = xcalloc(cap, sizeof(*names));
	int more = 0;

	for (i = last ? repo_upper(last) : 0; i < repo_count(); i++) {
		struct repo *r = repo_at(i);
		if (!r->has_manifests)
			continue;
		if (n == max) {
			more = 1;
			break;
		}
		if (n == cap) {
			cap *= 2;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = r->name;
	}
	reply_list(l, id, oci_catalog_json(names, n),
	    more && n > 0 ? names[n - 1] : NULL);
	free(names);
}

/* A catalog request waiting for the index's names. */
struct catwait {
	TAILQ_ENTRY(catwait) entry;
	struct link	*l;
	uint32_t	 id;
	char		*last;		/* NULL if none */
	size_t		 max;
	uint64_t	 deadline;
};

static TAILQ_HEAD(, catwait) catwaits = TAILQ_HEAD_INITIALIZER(catwaits);
static size_t ncatwaits;
static struct ev_timer catwait_timer;

/* Forget a waiting request. */
static void
catwait_free(struct catwait *w)
{
	TAILQ_REMOVE(&catwaits, w, entry);
	ncatwaits--;
	free(w->last);
	free(w);
}

/* No request waits any more: no timer either. */
static void
catwait_idle(void)
{
	if (ncatwaits == 0 && catwait_timer.cb && ev_timer_armed(&catwait_timer))
		ev_timer_cancel(&catwait_timer);
}

/* Waited CATALOG_WAIT_MS: answer unavailable (httpd adds Retry-After). */
static void
catwait_expire(void *arg)
{
	struct catwait *w;

	while ((w = TAILQ_FIRST(&catwaits)) != NULL &&
	    w->deadline <= now_ms()) {
		link_reply_err(w->l, w->id, RE_UNAVAILABLE,
		    "the repository list is being read, try again");
		catwait_free(w);
	}
	if (w != NULL)
		ev_timer_arm(&catwait_timer, w->deadline - now_ms());
}

/* 1 if the page of max names after last can be answered now: it and the
 * name after it (which decides the Link to the next page) lie where the
 * table is final, or the table is complete.  The same page, the same
 * bytes as once every name is known. */
static int
catalog_page_known(const char *last, size_t max)
{
	size_t i = last ? repo_upper(last) : 0, end, n = 0;

	if (index_names_ready())
		return 1;
	end = index_names_known_end();
	if (end <= i || end - i <= max)
		return 0;	/* fewer than max + 1 entries there */
	for (; i < end; i++)
		if (repo_at(i)->has_manifests && n++ == max)
			return 1;
	return 0;
}

/* The table knows more names: answer the waiting requests it completes,
 * all of them once it is complete. */
void
catalog_names_more(void)
{
	struct catwait *w, *next;

	for (w = TAILQ_FIRST(&catwaits); w; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (!catalog_page_known(w->last, w->max))
			continue;
		catalog_page(w->l, w->id, w->last, w->max);
		catwait_free(w);
	}
	catwait_idle();
}

/* Drop the waiting requests of a link that goes away. */
void
catalog_link_gone(struct link *l)
{
	struct catwait *w, *next;

	for (w = TAILQ_FIRST(&catwaits); w; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->l == l)
			catwait_free(w);
	}
	catwait_idle();
}

/* M_CATALOG: a page of the repositories that hold manifests; a page the
 * names walk has not passed yet waits for it (bounded in time and number)
 * rather than list too few. */
void
catalog(struct link *l, struct msg *m)
{
	const char *last = msg_str(m, A_LAST);
	struct catwait *w;

	if (catalog_page_known(last, page_count(m))) {
		catalog_page(l, m->id, last, page_count(m));
		return;
	}
	if (ncatwaits >= CATALOG_WAITERS) {
		link_reply_err(l, m->id, RE_UNAVAILABLE,
		    "the repository list is being read, try again");
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->l = l;
	w->id = m->id;
	w->last = last ? xstrdup(last) : NULL;
	w->max = page_count(m);
	w->deadline = now_ms() + CATALOG_WAIT_MS;
	if (catwait_timer.cb == NULL)
		ev_timer_init(&catwait_timer, catwait_expire, NULL);
	if (ncatwaits++ == 0)
		ev_timer_arm(&catwait_timer, CATALOG_WAIT_MS);
	TAILQ_INSERT_TAIL(&catwaits, w, entry);
}

/* Descriptor of revision mi for the referrers index (borrowed strings). */
static void
desc_of(const struct minfo *mi, struct oci_desc *d)
{
	memset(d, 0, sizeof(*d));
	(void)str_copy(d->mediatype, mi->mediatype, sizeof(d->mediatype));
	minfo_digest(mi, &d->digest);
	d->size = (int64_t)mi->size;
	/* borrowed: desc_of's caller never frees them */
	d->artifact_type = (char *)(uintptr_t)mi->artifact_type;
	d->annotations_json = (char *)(uintptr_t)minfo_annotations(mi);
}

/* 1 if mi is a referrer of d that passes the artifactType filter. */
static int
ref_match(const struct minfo *mi, const struct digest *d, const char *filter)
{
	if (!minfo_subject_is(mi, d))
		return 0;
	return filter == NULL || *filter == '\0' || (mi->artifact_type &&
	    strcmp(mi->artifact_type, filter) == 0);
}

/* The annotations of mi as its blob holds them (malloc'd), for those too
 * long to keep in the index; NULL if the blob cannot be read. */
static char *
annotations_from_blob(const struct minfo *mi)
{
	char p[STORE_PATHMAX], mt[OCI_MEDIATYPE_MAX + 1];
	struct oci_manifest pm;
	struct digest d;
	char *body, *a = NULL;
	size_t len;

	minfo_digest(mi, &d);
	if (path_blob_data(p, sizeof(p), &d) == -1 ||
	    (body = store_read_file(p, OCI_MANIFEST_MAX, &len)) == NULL) {
		log_warn("referrers: read manifest %s", d.hex);
		return NULL;
	}
	if (minfo_parse_stored(body, len, &pm, mt, sizeof(mt)) == 0) {
		a = pm.annotations_json;
		pm.annotations_json = NULL;
		oci_manifest_free(&pm);
	}
	free(body);
	return a;
}

/* Add mi to the page; -1 when it belongs on the next one.  A page always
 * takes one descriptor, then only as long as its bytes stay in bound (a
 * descriptor whose annotations live in the blob counts the blob's size,
 * which bounds both the answer and the reading done for it). */
static int
page_add(struct refpage *pg, const struct minfo *mi)
{
	size_t cost = 512;

	if (mi->artifact_type)
		cost += strlen(mi->artifact_type);
	if (mi->annot_big)
		cost += (size_t)mi->size;
	else if (minfo_annotations(mi))
		cost += strlen(minfo_annotations(mi));
	if (pg->n == pg->max ||
	    (pg->n > 0 && pg->bytes + cost > REFERRERS_PAGE_BYTES))
		return -1;
	desc_of(mi, &pg->descs[pg->n]);
	if (mi->annot_big) {
		pg->owned[pg->n] = annotations_from_blob(mi);
		pg->descs[pg->n].annotations_json = pg->owned[pg->n];
	}
	pg->bytes += cost;
	pg->n++;
	return 0;
}

/* How many descriptors a referrers page may hold: 1..REFERRERS_PAGE_MAX. */
static size_t
ref_page_max(const struct msg *m)
{
	size_t n = page_count(m);

	return n == 0 ? 1 : n > REFERRERS_PAGE_MAX ? REFERRERS_PAGE_MAX : n;
}

/* M_REFERRERS: a page of the manifests of repo whose subject is digest,
 * in digest order after A_LAST; A_LAST of the answer starts the next. */
void
referrers(struct link *l, struct msg *m)
{
	const char *repo, *filter = msg_str(m, A_FILTER);
	char next[DIGEST_STRMAX];
	struct digest d, last;
	struct refpage *pg;
	struct repo *r;
	size_t i;
	int more = 0;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_digest(l, m, A_DIGEST, &d) == -1 ||
	    (msg_has(m, A_LAST) && req_digest(l, m, A_LAST, &last) == -1))
		return;
	pg = xcalloc(1, sizeof(*pg));
	pg->max = ref_page_max(m);
	r = repo_find(repo);
	i = r && msg_has(m, A_LAST) ? rev_upper(r, &last) : 0;
	for (; r && i < r->nrevs; i++) {
		if (!ref_match(r->revs[i], &d, filter))
			continue;
		if (page_add(pg, r->revs[i]) == -1) {
			more = 1;
			break;
		}
	}
	if (more && digest_format(&pg->descs[pg->n - 1].digest, next,
	    sizeof(next)) == -1)
		fatalx("digest does not format");
	reply_list(l, m->id, oci_referrers_json(pg->descs, pg->n),
	    more ? next : NULL);
	for (i = 0; i < pg->n; i++)
		free(pg->owned[i]);
	free(pg);
}
