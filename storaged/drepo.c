/*
 * drepo.c - reading the index's metadata from disk, on the builder's
 * threads or in the loop: the walk of repositories/ for the names, and one
 * repository's tag links, revision links and manifest blobs.  Nothing here
 * touches the index; the loop merges what it returns.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drepo.h"
#include "index.h"
#include "log.h"
#include "oci.h"
#include "store.h"
#include "util.h"

#define WALK_DEPTH	130		/* a name has at most 128 components */

/* A growing array of names (the walk's output). */
struct names {
	struct dname	*v;
	size_t		 n, cap;
};

/* Open a directory under dirfd without following a symlink. */
static DIR *
dir_openat(int dirfd, const char *path)
{
	DIR *d;
	int fd;

	if ((fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

/* 1 for the "." and ".." entries. */
static int
dotname(const char *s)
{
	return strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

/* Bit 1: entry is _manifests, _layers or _uploads; bit 2: _manifests. */
static int
repo_marker(const char *s)
{
	if (strcmp(s, "_manifests") == 0)
		return 3;
	return strcmp(s, "_layers") == 0 || strcmp(s, "_uploads") == 0;
}

static void
names_add(struct names *ns, const char *name, int has_manifests)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 256;
		ns->v = xreallocarray(ns->v, ns->cap, sizeof(*ns->v));
	}
	ns->v[ns->n].name = xstrdup(name);
	ns->v[ns->n++].has_manifests = has_manifests;
}

/* Visit repositories/<name>: record it if it holds _manifests, _layers or
 * _uploads, and descend into children that may continue a name. */
static void
walk(struct names *ns, DIR *dir, const char *name, int depth)
{
	char child[OCI_NAME_MAX + 2];
	int marks = 0;
	struct dirent *de;
	DIR *sub;

	while ((de = readdir(dir)) != NULL) {
		if (dotname(de->d_name) || !dirent_is_dir(dir, de))
			continue;
		if (de->d_name[0] == '_') {
			marks |= repo_marker(de->d_name);
			continue;
		}
		if (depth >= WALK_DEPTH || snprintf(child, sizeof(child),
		    "%s%s%s", name, *name ? "/" : "", de->d_name) >=
		    (int)sizeof(child) ||
		    (sub = dir_openat(dirfd(dir), de->d_name)) == NULL)
			continue;
		walk(ns, sub, child, depth + 1);
		closedir(sub);
	}
	if ((marks & 1) && *name && oci_name_valid(name))
		names_add(ns, name, (marks & 2) != 0);
}

/* qsort order of names: strcmp. */
static int
dname_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dname *)a)->name,
	    ((const struct dname *)b)->name);
}

struct dname *
drepo_names(size_t *n)
{
	struct names ns = { NULL, 0, 0 };
	DIR *top;

	if ((top = dir_openat(store_rootfd(), STORE_REPOS)) != NULL) {
		walk(&ns, top, "", 0);
		closedir(top);
	}
	if (ns.n > 1)
		qsort(ns.v, ns.n, sizeof(*ns.v), dname_cmp);
	*n = ns.n;
	return ns.v;
}

void
drepo_names_free(struct dname *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* What the walk would find at repositories/<name>, one component at a
 * time so that no symlink is followed. */
int
drepo_exists(const char *name, int *has_manifests)
{
	char comp[OCI_NAME_MAX + 1], *p, *save = NULL;
	struct dirent *de;
	int fd, marks = 0;
	DIR *d;

	if (!oci_name_valid(name) || str_copy(comp, name, sizeof(comp)) ==
	    -1 || (fd = openat(store_rootfd(), STORE_REPOS, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	for (p = strtok_r(comp, "/", &save); p; p = strtok_r(NULL, "/",
	    &save)) {
		int next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(fd);
		if ((fd = next) == -1)
			return 0;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] == '_' && dirent_is_dir(d, de))
			marks |= repo_marker(de->d_name);
	closedir(d);
	*has_manifests = (marks & 2) != 0;
	return marks & 1;
}

/* qsort order of tags: strcmp of names. */
static int
dtag_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dtag *)a)->name,
	    ((const struct dtag *)b)->name);
}

/* The tags of b: every valid tag whose current link is a digest. */
static void
read_tags(struct drepo *b)
{
	char p[STORE_PATHMAX];
	struct dirent *de;
	struct digest d;
	size_t cap = 0;
	DIR *dir;

	if (path_repo(p, sizeof(p), b->name, "_manifests/tags") == -1 ||
	    (dir = dir_openat(store_rootfd(), p)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (!oci_tag_valid(de->d_name) ||
		    path_tag_current(p, sizeof(p), b->name, de->d_name) == -1 ||
		    store_link_read(p, &d) == -1)
			continue;
		if (b->ntags == cap) {
			cap = cap ? cap * 2 : 8;
			b->tags = xreallocarray(b->tags, cap, sizeof(*b->tags));
		}
		b->tags[b->ntags].name = xstrdup(de->d_name);
		b->tags[b->ntags++].d = d;
		b->bytes += sizeof(*b->tags) + strlen(de->d_name);
	}
	closedir(dir);
	/* readdir order is arbitrary: sort once */
	if (b->ntags > 1)
		qsort(b->tags, b->ntags, sizeof(*b->tags), dtag_cmp);
}

/* The facts of blob f->d: parsed when it is a manifest, else served as
 * is; -1 if the blob is missing. */
static int
read_facts(struct dfacts *f, int bodies)
{
	char path[STORE_PATHMAX], mt[OCI_MEDIATYPE_MAX + 1];
	struct oci_manifest pm;
	char *body;
	size_t len;

	if (path_blob_data(path, sizeof(path), &f->d) == -1 ||
	    store_blob_stat(&f->d, &f->size) == -1)
		return -1;
	memset(&pm, 0, sizeof(pm));
	if (f->size > OCI_MANIFEST_MAX ||
	    (body = store_read_file(path, OCI_MANIFEST_MAX, &len)) == NULL) {
		f->mediatype = xstrdup("application/octet-stream");
		return 0;
	}
	f->size = len;
	if (minfo_parse_stored(body, len, &pm, mt, sizeof(mt)) == -1) {
		log_info("stored manifest %s is %s, served as is", f->d.hex,
		    mt);
		f->mediatype = xstrdup(mt);
	} else {
		f->mediatype = xstrdup(pm.mediatype);
		f->artifact_type = pm.artifact_type ?
		    xstrdup(pm.artifact_type) : NULL;
		/* long ones stay in the blob (ANNOT_INDEX_MAX) */
		if (pm.annotations_json &&
		    strlen(pm.annotations_json) > ANNOT_INDEX_MAX)
			f->annot_big = 1;
		else if (pm.annotations_json)
			f->annotations = xstrdup(pm.annotations_json);
		if ((f->has_subject = pm.has_subject))
			f->subject = pm.subject.digest;
		oci_manifest_free(&pm);
	}
	if (bodies && len <= CACHE_ITEM_MAX) {
		f->body = body;
		return 0;
	}
	free(body);
	return 0;
}

/* qsort order of revisions: by digest. */
static int
dfacts_cmp(const void *a, const void *b)
{
	return digest_cmp(&((const struct dfacts *)a)->d,
	    &((const struct dfacts *)b)->d);
}

/* The revisions of one algorithm directory of b. */
static void
read_revs_alg(struct drepo *b, enum digest_alg alg, size_t *cap, int bodies,
    int (*known)(const struct digest *))
{
	char p[STORE_PATHMAX], s[300];
	struct digest d, ld;
	struct dirent *de;
	struct dfacts *f;
	DIR *dir;

	if (path_repo(p, sizeof(p), b->name, alg == DIGEST_SHA256 ?
	    "_manifests/revisions/sha256" : "_manifests/revisions/sha512") ==
	    -1 || (dir = dir_openat(store_rootfd(), p)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (dotname(de->d_name) || strlen(de->d_name) > 128)
			continue;
		(void)snprintf(s, sizeof(s), "%s:%s", digest_algname(alg),
		    de->d_name);
		if (digest_parse(s, &d) != 0 ||
		    path_rev_link(p, sizeof(p), b->name, &d) == -1 ||
		    store_link_read(p, &ld) == -1 || !digest_equal(&d, &ld))
			continue;
		if (b->nrevs == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			b->revs = xreallocarray(b->revs, *cap, sizeof(*b->revs));
		}
		f = memset(&b->revs[b->nrevs], 0, sizeof(*f));
		f->d = d;
		if (known && known(&d))
			f->known = 1;
		else if (read_facts(f, bodies) == -1) {
			log_info("%s: revision %s has no blob, ignored",
			    b->name, s);
			continue;
		}
		b->nrevs++;
		b->bytes += sizeof(*f) + (f->body ? f->size : 0);
	}
	closedir(dir);
}

struct drepo *
drepo_read(const char *name, int bodies, int (*known)(const struct digest *))
{
	struct drepo *b = xcalloc(1, sizeof(*b));
	size_t cap = 0;

	b->name = xstrdup(name);
	read_revs_alg(b, DIGEST_SHA256, &cap, bodies, known);
	read_revs_alg(b, DIGEST_SHA512, &cap, bodies, known);
	if (b->nrevs > 1)
		qsort(b->revs, b->nrevs, sizeof(*b->revs), dfacts_cmp);
	read_tags(b);
	return b;
}

void
drepo_free(struct drepo *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->ntags; i++)
		free(b->tags[i].name);
	for (i = 0; i < b->nrevs; i++) {
		free(b->revs[i].mediatype);
		free(b->revs[i].artifact_type);
		free(b->revs[i].annotations);
		free(b->revs[i].body);
	}
	free(b->tags);
	free(b->revs);
	free(b->name);
	free(b);
}
