/*
 * index.c - the in-memory metadata index: repositories, their tags and
 * revisions, kept in step by every change storaged makes (it is the store's
 * only writer).  Sorted arrays make tag lists, the catalog and their paging
 * a binary search plus a copy.  The builder (build.c) delivers what it read
 * from disk; a repository it has not delivered yet is read in the loop the
 * first time it is named, so a delivery is merged only into a repository
 * never loaded (and so never changed) meanwhile: every write path loads
 * its repository before it changes the disk.
 */
#include <stdlib.h>
#include <string.h>

#include "drepo.h"
#include "index.h"
#include "log.h"
#include "oci.h"
#include "util.h"

static struct repo **repos;
static size_t nrepos, repocap;
static int names_ready;
static char *frontier;		/* the table is complete up to this name */

/* Order digests by algorithm, then hex. */
int
digest_cmp(const struct digest *a, const struct digest *b)
{
	if (a->alg != b->alg)
		return a->alg < b->alg ? -1 : 1;
	return strcmp(a->hex, b->hex);
}

/* --- repositories --- */

/* First index whose name is >= name (exact 0) or > name (exact 1). */
static size_t
repo_bound(const char *name, int upper)
{
	size_t lo = 0, hi = nrepos;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(repos[mid]->name, name);
		if (c < 0 || (upper && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A new repository at index i (the caller keeps the order). */
static struct repo *
repo_insert(size_t i, const char *name)
{
	struct repo *r;

	if (!oci_name_valid(name))
		fatalx("invalid repository name reached the index");
	if (nrepos == repocap) {
		repocap = repocap ? repocap * 2 : 64;
		repos = xreallocarray(repos, repocap, sizeof(*repos));
	}
	r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(name);
	memmove(repos + i + 1, repos + i, (nrepos - i) * sizeof(*repos));
	repos[i] = r;
	nrepos++;
	return r;
}

/* The entry called name, or NULL; before the names are all known, a
 * repository on disk gets its entry now (not loaded). */
struct repo *
repo_lookup(const char *name)
{
	size_t i = repo_bound(name, 0);
	struct repo *r;
	int hm;

	if (i < nrepos && strcmp(repos[i]->name, name) == 0)
		return repos[i];
	if (index_names_upto(name) || !drepo_exists(name, &hm))
		return NULL;
	r = repo_insert(i, name);
	r->has_manifests = hm;
	return r;
}

/* 1 if manifest d's facts are in the index already. */
static int
known(const struct digest *d)
{
	return minfo_find(d) != NULL;
}

static void repo_merge(struct repo *, const struct drepo *);

/* The repository called name, loaded from disk if it was not yet. */
struct repo *
repo_find(const char *name)
{
	struct repo *r;
	struct drepo *b;

	if ((r = repo_lookup(name)) == NULL || r->loaded)
		return r;
	if (r->has_manifests) {
		b = drepo_read(name, 1, known);
		repo_merge(r, b);
		drepo_free(b);
	}
	r->loaded = 1;
	return r;
}

/* The repository called name, created (in order) if new. */
struct repo *
repo_get(const char *name)
{
	struct repo *r;

	if ((r = repo_find(name)) != NULL)
		return r;
	r = repo_insert(repo_bound(name, 0), name);
	r->loaded = 1;
	return r;
}

/* Number of repositories known, with or without manifests. */
size_t
repo_count(void)
{
	return nrepos;
}

/* The i-th repository in name order. */
struct repo *
repo_at(size_t i)
{
	if (i >= nrepos)
		fatalx("repository %zu of %zu", i, nrepos);
	return repos[i];
}

/* Index of the first repository whose name sorts after last. */
size_t
repo_upper(const char *last)
{
	return repo_bound(last, 1);
}

int
index_names_ready(void)
{
	return names_ready;
}

/* --- revisions --- */

/* First revision index whose digest is >= d. */
static size_t
rev_bound(const struct repo *r, const struct digest *d)
{
	size_t lo = 0, hi = r->nrevs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (minfo_cmp_digest(r->revs[mid], d) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The revision d of repository r, or NULL. */
struct minfo *
repo_rev(const struct repo *r, const struct digest *d)
{
	size_t i = rev_bound(r, d);

	if (i < r->nrevs && minfo_cmp_digest(r->revs[i], d) == 0)
		return r->revs[i];
	return NULL;
}

/* Index of the first revision of r whose digest sorts after last. */
size_t
rev_upper(const struct repo *r, const struct digest *last)
{
	size_t i = rev_bound(r, last);

	if (i < r->nrevs && minfo_cmp_digest(r->revs[i], last) == 0)
		i++;
	return i;
}

/* Room for one more revision in r. */
static void
revs_grow(struct repo *r)
{
	if (r->nrevs == r->revcap) {
		r->revcap = r->revcap ? r->revcap * 2 : 4;
		r->revs = xreallocarray(r->revs, r->revcap, sizeof(*r->revs));
	}
}

/* Link m into r (a no-op if it is there); the repo holds a reference. */
void
repo_add_rev(struct repo *r, struct minfo *m)
{
	struct digest d;
	size_t i;

	minfo_digest(m, &d);
	i = rev_bound(r, &d);
	if (i < r->nrevs && r->revs[i] == m)
		return;
	revs_grow(r);
	memmove(r->revs + i + 1, r->revs + i, (r->nrevs - i) *
	    sizeof(*r->revs));
	r->revs[i] = m;
	r->nrevs++;
	m->refs++;
}

/* Unlink revision d from r; forget its facts when no repo links it. */
void
repo_del_rev(struct repo *r, const struct digest *d)
{
	size_t i = rev_bound(r, d);
	struct minfo *m;

	if (i >= r->nrevs || minfo_cmp_digest(r->revs[i], d) != 0)
		return;
	m = r->revs[i];
	memmove(r->revs + i, r->revs + i + 1, (r->nrevs - i - 1) *
	    sizeof(*r->revs));
	r->nrevs--;
	if (m->refs == 0)
		fatalx("manifest reference count underflow");
	if (--m->refs == 0)
		minfo_forget(m);
}

/* --- tags --- */

/* First tag index whose name is >= tag (upper 0) or > tag (upper 1). */
static size_t
tag_bound(const struct repo *r, const char *tag, int upper)
{
	size_t lo = 0, hi = r->ntags;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->tags[mid].name, tag);
		if (c < 0 || (upper && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The tag called tag in r, or NULL. */
struct itag *
repo_tag(const struct repo *r, const char *tag)
{
	size_t i = tag_bound(r, tag, 0);

	if (i < r->ntags && strcmp(r->tags[i].name, tag) == 0)
		return &r->tags[i];
	return NULL;
}

/* Point tag at d, adding it in order if new. */
void
repo_set_tag(struct repo *r, const char *tag, const struct digest *d)
{
	size_t i = tag_bound(r, tag, 0);

	if (i < r->ntags && strcmp(r->tags[i].name, tag) == 0) {
		free(r->tags[i].name);
		r->tags[i].name = tag_alloc(tag, d);
		return;
	}
	if (r->ntags == r->tagcap) {
		r->tagcap = r->tagcap ? r->tagcap * 2 : 4;
		r->tags = xreallocarray(r->tags, r->tagcap, sizeof(*r->tags));
	}
	memmove(r->tags + i + 1, r->tags + i, (r->ntags - i) *
	    sizeof(*r->tags));
	r->tags[i].name = tag_alloc(tag, d);
	r->ntags++;
}

/* Remove tag from r, if it is there. */
void
repo_del_tag(struct repo *r, const char *tag)
{
	size_t i = tag_bound(r, tag, 0);

	if (i >= r->ntags || strcmp(r->tags[i].name, tag) != 0)
		return;
	free(r->tags[i].name);
	memmove(r->tags + i, r->tags + i + 1, (r->ntags - i - 1) *
	    sizeof(*r->tags));
	r->ntags--;
}

/* Index of the first tag of r that sorts after last. */
size_t
tag_upper(const struct repo *r, const char *last)
{
	return tag_bound(r, last, 1);
}

/* --- what the disk holds, merged --- */

/* The entry for revision f: known, else made from f (its body cached). */
static struct minfo *
facts_minfo(const struct dfacts *f)
{
	struct minfo *m;

	if ((m = minfo_find(&f->d)) != NULL || f->known)
		return m;
	m = minfo_make(&f->d, f->size, f->mediatype, f->artifact_type,
	    f->annotations, f->has_subject ? &f->subject : NULL);
	m->annot_big |= f->annot_big;
	if (f->body)
		cache_put(m, f->body, (size_t)f->size);
	return m;
}

/* Fill the empty, unloaded r with what b read (both sorted already). */
static void
repo_merge(struct repo *r, const struct drepo *b)
{
	struct minfo *m;
	size_t i;

	if (r->nrevs || r->ntags)
		fatalx("merging into a loaded repository");
	r->revs = xcalloc(b->nrevs ? b->nrevs : 1, sizeof(*r->revs));
	r->revcap = b->nrevs ? b->nrevs : 1;
	for (i = 0; i < b->nrevs; i++)
		if ((m = facts_minfo(&b->revs[i])) != NULL) {
			r->revs[r->nrevs++] = m;
			m->refs++;
		}
	r->tags = xcalloc(b->ntags ? b->ntags : 1, sizeof(*r->tags));
	r->tagcap = b->ntags ? b->ntags : 1;
	for (i = 0; i < b->ntags; i++)
		r->tags[i].name = tag_alloc(b->tags[i].name, &b->tags[i].d);
	r->ntags = b->ntags;
}

/* A repository from the builder: merged unless loaded (or unknown). */
void
index_deliver(const struct drepo *b)
{
	size_t i = repo_bound(b->name, 0);
	struct repo *r;

	if (i >= nrepos || strcmp((r = repos[i])->name, b->name) != 0 ||
	    r->loaded)
		return;
	repo_merge(r, b);
	r->loaded = 1;
}

/* More names on disk, sorted, every one after those delivered before
 * (the walk goes in order): those not known yet get an entry, loaded when
 * there is nothing to load.  The table is then complete up to the last of
 * them, and for good when done. */
void
index_deliver_names(const struct dname *v, size_t n, int done)
{
	size_t i, j;
	struct repo *r;

	for (i = 0; i < n; i++) {
		/* after the frontier only what was named on demand or
		 * pushed meanwhile: few entries to move */
		j = repo_bound(v[i].name, 0);
		if (j < nrepos && strcmp(repos[j]->name, v[i].name) == 0)
			continue;
		r = repo_insert(j, v[i].name);
		r->has_manifests = v[i].has_manifests;
		r->loaded = !r->has_manifests;
	}
	if (n > 0) {
		free(frontier);
		frontier = xstrdup(v[n - 1].name);
	}
	if (done) {
		names_ready = 1;
		free(frontier);
		frontier = NULL;
	}
}

/* 1 if the table holds every repository whose name is <= name. */
int
index_names_upto(const char *name)
{
	return names_ready || (frontier && strcmp(name, frontier) <= 0);
}

/* Index of the first repository whose name sorts after the last name the
 * table is complete up to: the entries before it are final. */
size_t
index_names_known_end(void)
{
	if (names_ready)
		return nrepos;
	return frontier ? repo_upper(frontier) : 0;
}

/* Tags in every repository (the build's summary). */
size_t
index_tag_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < nrepos; i++)
		n += repos[i]->ntags;
	return n;
}

/* Free everything (tests, leak checks). */
void
index_free(void)
{
	size_t i, j;

	for (i = 0; i < nrepos; i++) {
		struct repo *r = repos[i];
		for (j = 0; j < r->ntags; j++)
			free(r->tags[j].name);
		free(r->tags);
		free(r->revs);
		free(r->name);
		free(r);
	}
	free(repos);
	repos = NULL;
	nrepos = repocap = 0;
	names_ready = 0;
	free(frontier);
	frontier = NULL;
	minfo_free_all();
}
