/*
 * index.c - the in-memory metadata index: built once at start by walking
 * repositories/, then kept in step by every change storaged makes (it is the
 * store's only writer).  Sorted arrays make tag lists, the catalog and their
 * paging a binary search plus a copy; manifest facts live in a hash table
 * keyed by digest, with an LRU list for the cached bodies.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "index.h"
#include "log.h"
#include "oci.h"
#include "store.h"
#include "util.h"

#define WALK_DEPTH	130		/* a name has at most 128 components */

static struct repo **repos;
static size_t nrepos, repocap;

static struct minfo **htab;
static size_t hsize, hcount;

static struct minfo *lru_head, *lru_tail;
static size_t cached_bytes;

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

/* The repository called name, or NULL. */
struct repo *
repo_find(const char *name)
{
	size_t i = repo_bound(name, 0);

	if (i < nrepos && strcmp(repos[i]->name, name) == 0)
		return repos[i];
	return NULL;
}

/* The repository called name, created (in order) if new. */
struct repo *
repo_get(const char *name)
{
	struct repo *r;
	size_t i = repo_bound(name, 0);

	if (i < nrepos && strcmp(repos[i]->name, name) == 0)
		return repos[i];
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

/* --- revisions --- */

/* First revision index whose digest is >= d. */
static size_t
rev_bound(const struct repo *r, const struct digest *d)
{
	size_t lo = 0, hi = r->nrevs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (digest_cmp(&r->revs[mid]->d, d) < 0)
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

	if (i < r->nrevs && digest_cmp(&r->revs[i]->d, d) == 0)
		return r->revs[i];
	return NULL;
}

/* Index of the first revision of r whose digest sorts after last. */
size_t
rev_upper(const struct repo *r, const struct digest *last)
{
	size_t i = rev_bound(r, last);

	if (i < r->nrevs && digest_cmp(&r->revs[i]->d, last) == 0)
		i++;
	return i;
}

/* Link m into r (a no-op if it is there); the repo holds a reference. */
void
repo_add_rev(struct repo *r, struct minfo *m)
{
	size_t i = rev_bound(r, &m->d);

	if (i < r->nrevs && digest_cmp(&r->revs[i]->d, &m->d) == 0)
		return;
	if (r->nrevs == r->revcap) {
		r->revcap = r->revcap ? r->revcap * 2 : 8;
		r->revs = xreallocarray(r->revs, r->revcap, sizeof(*r->revs));
	}
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

	if (i >= r->nrevs || digest_cmp(&r->revs[i]->d, d) != 0)
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
		r->tags[i].d = *d;
		return;
	}
	if (r->ntags == r->tagcap) {
		r->tagcap = r->tagcap ? r->tagcap * 2 : 8;
		r->tags = xreallocarray(r->tags, r->tagcap, sizeof(*r->tags));
	}
	memmove(r->tags + i + 1, r->tags + i, (r->ntags - i) *
	    sizeof(*r->tags));
	r->tags[i].name = xstrdup(tag);
	r->tags[i].d = *d;
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

/* --- manifest facts --- */

/* FNV-1a of the hex digest: the bucket of a manifest's facts. */
static size_t
dhash(const struct digest *d)
{
	size_t h = 1469598103934665603ull;

	for (const char *p = d->hex; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h ^ (size_t)d->alg;
}

/* The facts of manifest d, or NULL. */
struct minfo *
minfo_find(const struct digest *d)
{
	struct minfo *m;

	if (hsize == 0)
		return NULL;
	for (m = htab[dhash(d) & (hsize - 1)]; m; m = m->hnext)
		if (digest_equal(&m->d, d))
			return m;
	return NULL;
}

/* Double the table when it gets as full as it is wide. */
static void
htab_grow(void)
{
	struct minfo **old = htab, *m, *next;
	size_t oldsize = hsize, i;

	hsize = hsize ? hsize * 2 : 1024;
	htab = xcalloc(hsize, sizeof(*htab));
	for (i = 0; i < oldsize; i++) {
		for (m = old[i]; m; m = next) {
			next = m->hnext;
			m->hnext = htab[dhash(&m->d) & (hsize - 1)];
			htab[dhash(&m->d) & (hsize - 1)] = m;
		}
	}
	free(old);
}

/* A new, unreferenced entry for the manifest d described by pm (or only
 * its media type in pm->mediatype when pm->nrefs etc. are unknown). */
struct minfo *
minfo_new(const struct digest *d, uint64_t size, const struct oci_manifest *pm)
{
	struct minfo *m;
	size_t b;

	if ((m = minfo_find(d)) != NULL)
		return m;
	if (hcount >= hsize)
		htab_grow();
	m = xcalloc(1, sizeof(*m));
	m->d = *d;
	m->size = size;
	m->mediatype = xstrdup(pm->mediatype);
	if (pm->artifact_type)
		m->artifact_type = xstrdup(pm->artifact_type);
	if (pm->annotations_json &&
	    strlen(pm->annotations_json) <= ANNOT_INDEX_MAX)
		m->annotations = xstrdup(pm->annotations_json);
	else if (pm->annotations_json)
		m->annot_big = 1;
	if ((m->has_subject = pm->has_subject))
		m->subject = pm->subject.digest;
	b = dhash(d) & (hsize - 1);
	m->hnext = htab[b];
	htab[b] = m;
	hcount++;
	return m;
}

static void lru_unlink(struct minfo *);

/* Drop an entry no repository links any more. */
void
minfo_forget(struct minfo *m)
{
	struct minfo **pp;

	if (m->refs != 0)
		fatalx("forgetting a linked manifest");
	for (pp = &htab[dhash(&m->d) & (hsize - 1)]; *pp; pp = &(*pp)->hnext)
		if (*pp == m) {
			*pp = m->hnext;
			break;
		}
	hcount--;
	if (m->body)
		lru_unlink(m);
	free(m->mediatype);
	free(m->artifact_type);
	free(m->annotations);
	free(m);
}

/* 1 if the JSON text nests at most OCI_JSON_DEPTH_MAX deep, so jansson's
 * recursive parser is safe on a blob we did not validate ourselves. */
static int
json_depth_ok(const char *s, size_t len)
{
	int depth = 0, instr = 0;

	for (size_t i = 0; i < len; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
		} else if (s[i] == '"')
			instr = 1;
		else if ((s[i] == '[' || s[i] == '{') &&
		    ++depth > OCI_JSON_DEPTH_MAX)
			return 0;
		else if ((s[i] == ']' || s[i] == '}') && depth > 0)
			depth--;
	}
	return 1;
}

/* Media type of a stored body the parser refuses (Docker schema1 from an
 * old registry, an unknown type): its mediaType, else by its look. */
static void
mediatype_guess(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *root, *j;

	(void)str_copy(out, "application/octet-stream", outlen);
	if (!json_depth_ok(body, len) ||
	    (root = json_loadb(body, len, 0, NULL)) == NULL)
		return;
	if (json_is_string(j = json_object_get(root, "mediaType")) &&
	    oci_mediatype_valid(json_string_value(j)))
		(void)str_copy(out, json_string_value(j), outlen);
	else if (json_integer_value(json_object_get(root,
	    "schemaVersion")) == 1)
		(void)str_copy(out, json_object_get(root, "signatures") ?
		    MT_DOCKER_SCHEMA1_SIGNED : MT_DOCKER_SCHEMA1, outlen);
	json_decref(root);
}

/* Parse a stored body; on failure guess its media type into mtfallback. */
int
minfo_parse_stored(const char *body, size_t len, struct oci_manifest *m,
    char *mtfallback, size_t mtlen)
{
	char err[256];

	if (oci_manifest_parse(body, len, NULL, m, err, sizeof(err)) == 0)
		return 0;
	mediatype_guess(body, len, mtfallback, mtlen);
	return -1;
}

/* Facts of the manifest blob d, read and parsed from disk when not known
 * yet; NULL if the blob is missing. */
struct minfo *
minfo_load(const struct digest *d)
{
	struct oci_manifest pm;
	struct minfo *m;
	char path[STORE_PATHMAX];
	char *body;
	size_t len;
	uint64_t size;

	if ((m = minfo_find(d)) != NULL)
		return m;
	if (path_blob_data(path, sizeof(path), d) == -1 ||
	    store_blob_stat(d, &size) == -1)
		return NULL;
	memset(&pm, 0, sizeof(pm));
	if (size > OCI_MANIFEST_MAX ||
	    (body = store_read_file(path, OCI_MANIFEST_MAX, &len)) == NULL) {
		(void)str_copy(pm.mediatype, "application/octet-stream",
		    sizeof(pm.mediatype));
		return minfo_new(d, size, &pm);
	}
	if (minfo_parse_stored(body, len, &pm, pm.mediatype,
	    sizeof(pm.mediatype)) == -1)
		log_info("stored manifest %s is %s, served as is", d->hex,
		    pm.mediatype);
	m = minfo_new(d, len, &pm);
	oci_manifest_free(&pm);
	cache_put(m, body, len);
	free(body);
	return m;
}

/* --- body cache --- */

/* Drop m's cached body and take it off the LRU list. */
static void
lru_unlink(struct minfo *m)
{
	if (m->lru_prev)
		m->lru_prev->lru_next = m->lru_next;
	else
		lru_head = m->lru_next;
	if (m->lru_next)
		m->lru_next->lru_prev = m->lru_prev;
	else
		lru_tail = m->lru_prev;
	m->lru_prev = m->lru_next = NULL;
	cached_bytes -= m->size;
	free(m->body);
	m->body = NULL;
}

/* Make m the most recently used cached body. */
static void
lru_push_front(struct minfo *m)
{
	m->lru_prev = NULL;
	m->lru_next = lru_head;
	if (lru_head)
		lru_head->lru_prev = m;
	lru_head = m;
	if (lru_tail == NULL)
		lru_tail = m;
}

/* The cached body of m (size m->size), NULL if not cached. */
const char *
cache_get(struct minfo *m)
{
	if (m->body == NULL)
		return NULL;
	if (lru_head != m) {
		/* move to the front without freeing */
		m->lru_prev->lru_next = m->lru_next;
		if (m->lru_next)
			m->lru_next->lru_prev = m->lru_prev;
		else
			lru_tail = m->lru_prev;
		lru_push_front(m);
	}
	return m->body;
}

/* Keep a copy of body, evicting the least recently used beyond budget. */
void
cache_put(struct minfo *m, const char *body, size_t len)
{
	if (m->body != NULL || len != m->size || len > CACHE_ITEM_MAX)
		return;
	while (lru_tail && cached_bytes + len > CACHE_BUDGET)
		lru_unlink(lru_tail);
	m->body = xmalloc(len ? len : 1);
	memcpy(m->body, body, len);
	cached_bytes += len;
	lru_push_front(m);
}

/* Bytes of manifest bodies cached now. */
size_t
cache_used(void)
{
	return cached_bytes;
}

/* --- start-up walk --- */

/* Open a directory under the root without following symlinks. */
static DIR *
dir_open(const char *path)
{
	DIR *d;
	int fd;

	if ((fd = openat(store_rootfd(), path, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

/* 1 if entry de of d is a directory (not a symlink to one). */
static int
is_dir(DIR *d, struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

/* 1 for the "." and ".." entries. */
static int
dotname(const char *s)
{
	return strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

/* Load the revisions of one algorithm directory of repo r. */
static void
load_revs_alg(struct repo *r, enum digest_alg alg, const char *dirpath)
{
	char link[STORE_PATHMAX], s[300];
	struct digest d, ld;
	struct dirent *de;
	struct minfo *m;
	DIR *dir;

	if ((dir = dir_open(dirpath)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (dotname(de->d_name) || strlen(de->d_name) > 128)
			continue;
		(void)snprintf(s, sizeof(s), "%s:%s", digest_algname(alg),
		    de->d_name);
		if (digest_parse(s, &d) != 0 ||
		    path_rev_link(link, sizeof(link), r->name, &d) == -1 ||
		    store_link_read(link, &ld) == -1 || !digest_equal(&d, &ld))
			continue;
		if ((m = minfo_load(&d)) == NULL) {
			log_info("%s: revision %s has no blob, ignored",
			    r->name, s);
			continue;
		}
		/* append now, sort once in load_revs */
		if (r->nrevs == r->revcap) {
			r->revcap = r->revcap ? r->revcap * 2 : 8;
			r->revs = xreallocarray(r->revs, r->revcap,
			    sizeof(*r->revs));
		}
		r->revs[r->nrevs++] = m;
		m->refs++;
	}
	closedir(dir);
}

/* qsort order of revisions: by digest. */
static int
rev_cmp(const void *a, const void *b)
{
	return digest_cmp(&(*(struct minfo *const *)a)->d,
	    &(*(struct minfo *const *)b)->d);
}

/* Load the sha256 and sha512 revisions of r, then sort them once. */
static void
load_revs(struct repo *r)
{
	char p[STORE_PATHMAX];

	if (path_repo(p, sizeof(p), r->name,
	    "_manifests/revisions/sha256") == 0)
		load_revs_alg(r, DIGEST_SHA256, p);
	if (path_repo(p, sizeof(p), r->name,
	    "_manifests/revisions/sha512") == 0)
		load_revs_alg(r, DIGEST_SHA512, p);
	if (r->nrevs > 1)
		qsort(r->revs, r->nrevs, sizeof(*r->revs), rev_cmp);
}

/* qsort order of tags: strcmp of names. */
static int
tag_cmp(const void *a, const void *b)
{
	return strcmp(((const struct itag *)a)->name,
	    ((const struct itag *)b)->name);
}

/* Load the tags of r: every valid tag whose current link is a digest. */
static void
load_tags(struct repo *r)
{
	char p[STORE_PATHMAX];
	struct dirent *de;
	struct digest d;
	DIR *dir;

	if (path_repo(p, sizeof(p), r->name, "_manifests/tags") == -1 ||
	    (dir = dir_open(p)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (!oci_tag_valid(de->d_name) ||
		    path_tag_current(p, sizeof(p), r->name, de->d_name) == -1 ||
		    store_link_read(p, &d) == -1)
			continue;
		/* append now, sort once: readdir order is arbitrary */
		if (r->ntags == r->tagcap) {
			r->tagcap = r->tagcap ? r->tagcap * 2 : 8;
			r->tags = xreallocarray(r->tags, r->tagcap,
			    sizeof(*r->tags));
		}
		r->tags[r->ntags].name = xstrdup(de->d_name);
		r->tags[r->ntags++].d = d;
	}
	closedir(dir);
	if (r->ntags > 1)
		qsort(r->tags, r->ntags, sizeof(*r->tags), tag_cmp);
}

/* Add a repository at the end; index_build sorts once when the walk is
 * done, since readdir order is arbitrary and sorted inserts would be
 * quadratic on a large store. */
static struct repo *
repo_append(const char *name)
{
	struct repo *r;

	if (nrepos == repocap) {
		repocap = repocap ? repocap * 2 : 64;
		repos = xreallocarray(repos, repocap, sizeof(*repos));
	}
	r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(name);
	repos[nrepos++] = r;
	return r;
}

/* qsort order of repositories: strcmp of names. */
static int
repo_cmp(const void *a, const void *b)
{
	return strcmp((*(struct repo *const *)a)->name,
	    (*(struct repo *const *)b)->name);
}

/* Visit repositories/<name>: record it if it holds _manifests, _layers or
 * _uploads, and descend into children that may continue a name. */
static void
walk(const char *name, int depth)
{
	char p[STORE_PATHMAX], child[OCI_NAME_MAX + 2];
	int is_repo = 0, has_manifests = 0;
	struct dirent *de;
	struct repo *r;
	DIR *dir;

	if (depth > WALK_DEPTH || snprintf(p, sizeof(p), "%s%s%s",
	    STORE_REPOS, *name ? "/" : "", name) >= (int)sizeof(p) ||
	    (dir = dir_open(p)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (dotname(de->d_name) || !is_dir(dir, de))
			continue;
		if (de->d_name[0] == '_') {
			is_repo |= strcmp(de->d_name, "_manifests") == 0 ||
			    strcmp(de->d_name, "_layers") == 0 ||
			    strcmp(de->d_name, "_uploads") == 0;
			has_manifests |= strcmp(de->d_name, "_manifests") == 0;
			continue;
		}
		if (snprintf(child, sizeof(child), "%s%s%s", name,
		    *name ? "/" : "", de->d_name) < (int)sizeof(child))
			walk(child, depth + 1);
	}
	closedir(dir);
	if (!is_repo || !*name || !oci_name_valid(name))
		return;
	r = repo_append(name);
	r->has_manifests = has_manifests;
	if (has_manifests) {
		load_revs(r);
		load_tags(r);
	}
}

/* Build the index from disk (once, before the first request). */
void
index_build(void)
{
	size_t i, ntags = 0;
	uint64_t t0 = now_ms();

	if (nrepos != 0)
		fatalx("index built twice");
	walk("", 0);
	if (nrepos > 1)
		qsort(repos, nrepos, sizeof(*repos), repo_cmp);
	for (i = 0; i < nrepos; i++)
		ntags += repos[i]->ntags;
	log_info("index: %zu repositories, %zu manifests, %zu tags, "
	    "%zu KiB of manifests cached, built in %llu ms", nrepos, hcount,
	    ntags, cached_bytes / 1024, (unsigned long long)(now_ms() - t0));
}

/* Free everything (tests, leak checks). */
void
index_free(void)
{
	size_t i, j;

	for (i = 0; i < nrepos; i++) {
		struct repo *r = repos[i];
		while (r->nrevs > 0)
			repo_del_rev(r, &r->revs[r->nrevs - 1]->d);
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
	for (i = 0; i < hsize; i++)
		while (htab[i]) {
			struct minfo *m = htab[i];
			m->refs = 0;
			minfo_forget(m);
		}
	free(htab);
	htab = NULL;
	hsize = hcount = 0;
}
