/*
 * scan.c - gcd's read of the store, on a thread: every repository under
 * repositories/ (names nest), its revision, tag and layer links with their
 * modification times, the manifests its revisions name (parsed with
 * lib/oci.c), and every blob with its size and age.  Anything it cannot
 * read or parse stops the run (err): a mark that missed a manifest would
 * sweep what it uses.  Every name is looked up relative to its
 * directory's descriptor (a path from the store root walked all of its
 * components again for each of 200,000 files).  Two threads share the
 * work: one reads the blobs, then joins the other in the repositories,
 * each taking the next name at the top of repositories/ (a name's whole
 * tree) until none is left; their repositories are put together after.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcbatch.h"
#include "gcd.h"
#include "oci.h"
#include "thread.h"
#include "util.h"

#define V2		"docker/registry/v2"
#define LINK_MAX	(DIGEST_STRMAX + 16)
#define WALK_DEPTH	130		/* a name has at most 128 components */
#define DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static const char *const algs[] = { "sha256", "sha512" };

/* Record the first failure; later ones add nothing. */
static void
scan_fail(struct gscan *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err[0])
		return;
	va_start(ap, fmt);
	(void)vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/* Open directory name under dirfd (where names it, for errors); NULL and
 * no error if it is not there. */
static DIR *
dir_openat(struct gscan *s, int dirfd, const char *where, const char *name)
{
	DIR *d;
	int fd;

	if ((fd = openat(dirfd, name, DIR_FLAGS)) == -1) {
		if (errno != ENOENT)
			scan_fail(s, "%s/%s: %s", where, name, strerror(errno));
		return NULL;
	}
	if ((d = fdopendir(fd)) == NULL) {
		scan_fail(s, "%s/%s: %s", where, name, strerror(errno));
		close(fd);
	}
	return d;
}

/* The digest link file name under dirfd holds and its mtime: 0, or -1 if
 * it is missing (ENOENT) or, with err set, unreadable or not a digest. */
static int
link_readat(struct gscan *s, int dirfd, const char *where, const char *name,
    struct digest *d, int64_t *mt)
{
	char buf[LINK_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		if (errno != ENOENT)
			scan_fail(s, "%s/%s: %s", where, name, strerror(errno));
		return -1;
	}
	n = fstat(fd, &st) == 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	close(fd);
	if (n < 0)
		return scan_fail(s, "%s/%s: %s", where, name,
		    strerror(errno)), -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (digest_parse(buf, d) != 0)
		return scan_fail(s, "%s/%s: not a digest", where, name), -1;
	*mt = (int64_t)st.st_mtime;
	return 0;
}

/* A link file's mtime: 0, or -1 if it is missing (ENOENT) or, with err
 * set, not a regular file or not readable. */
static int
link_mtimeat(struct gscan *s, int dirfd, const char *where, const char *name,
    int64_t *mt)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			scan_fail(s, "%s/%s: %s", where, name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return -1;
	*mt = (int64_t)st.st_mtime;
	return 0;
}

/* A regular file of at most max bytes under dirfd, malloc'd; NULL with
 * errno. */
static char *
body_readat(int dirfd, const char *path, size_t max, size_t *len)
{
	struct stat st;
	char *p = NULL;
	ssize_t n = 0;
	int fd;

	if ((fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max) {
		close(fd);
		return errno = EFBIG, NULL;
	}
	p = xmalloc((size_t)st.st_size + 1);
	*len = 0;
	while (*len < (size_t)st.st_size && (n = read(fd, p + *len,
	    (size_t)st.st_size - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	if (n < 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* What revision m's manifest names; a missing blob names nothing (a
 * dangling link serves nothing either).  root: the v2 directory. */
static void
manifest_read(struct gscan *s, int root, struct gman *m)
{
	char path[512], err[256];
	struct oci_manifest pm;
	size_t len, k = 0;
	char *body;

	(void)snprintf(path, sizeof(path), "blobs/%s/%.2s/%s/data",
	    digest_algname(m->d.alg), m->d.hex, m->d.hex);
	if ((body = body_readat(root, path, OCI_MANIFEST_MAX, &len)) == NULL) {
		if (errno != ENOENT)
			scan_fail(s, V2 "/%s: %s", path, strerror(errno));
		return;
	}
	if (oci_manifest_parse(body, len, NULL, &pm, err, sizeof(err)) != 0) {
		scan_fail(s, "manifest %s: %s", m->d.hex, err);
		free(body);
		return;
	}
	free(body);
	m->is_index = pm.kind == OCI_KIND_INDEX;
	m->refs = xcalloc(pm.nrefs + 1, sizeof(*m->refs));
	if (pm.has_config)
		m->refs[k++] = pm.config.digest;
	for (size_t i = 0; i < pm.nrefs; i++)
		m->refs[k++] = pm.refs[i].digest;
	m->nrefs = k;
	if ((m->has_subject = pm.has_subject))
		m->subject = pm.subject.digest;
	oci_manifest_free(&pm);
}

/* qsort order of revisions: by algorithm, then hex. */
static int
gman_cmp(const void *a, const void *b)
{
	const struct gman *x = a, *y = b;

	if (x->d.alg != y->d.alg)
		return x->d.alg < y->d.alg ? -1 : 1;
	return strcmp(x->d.hex, y->d.hex);
}

static void	add_layer(void *, const struct digest *, int64_t);

/* A layer link directory a sweep took out and a crash left
 * (GC_SWEPT_PREFIX<hex>) is listed to be freed. */
static void
layer_left(struct grepo *r, enum digest_alg alg, const char *name)
{
	const char *hex = gc_swept_hex(name);
	struct digest d;

	if (hex == NULL || digest_from_hex(alg, hex, &d) != 0)
		return;
	add_layer(r, &d, 0);
	r->layers[r->nlayers - 1].left = 1;
}

/* Each <sub>/<alg>/<hex>/link under repository r's directory repofd: its
 * revisions or its layers. */
static void
digest_links(struct gscan *s, int repofd, const struct grepo *r,
    const char *sub, void (*add)(void *, const struct digest *, int64_t),
    void *arg)
{
	char path[1024];
	struct digest d, ld;
	struct dirent *de;
	int64_t mt;
	DIR *ad;

	for (size_t a = 0; a < nitems(algs); a++) {
		(void)snprintf(path, sizeof(path), "%s/%s", sub, algs[a]);
		if ((ad = dir_openat(s, repofd, r->name, path)) == NULL)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s/%s", r->name, sub,
		    algs[a]);
		while ((de = readdir(ad)) != NULL) {
			char link[DIGEST_STRMAX + 8];
			if (add == add_layer)
				layer_left(arg, (enum digest_alg)a, de->d_name);
			if (digest_from_hex((enum digest_alg)a, de->d_name,
			    &d) != 0)
				continue;
			(void)snprintf(link, sizeof(link), "%s/link", d.hex);
			/* a layer link's content is not read: its mtime is all
			 * the plan wants (storaged checks before it unlinks) */
			if (add == add_layer ? link_mtimeat(s, dirfd(ad), path,
			    link, &mt) == 0 : link_readat(s, dirfd(ad), path,
			    link, &ld, &mt) == 0 && digest_equal(&d, &ld))
				add(arg, &d, mt);
		}
		closedir(ad);
	}
}

static void
add_rev(void *arg, const struct digest *d, int64_t mt)
{
	struct grepo *r = arg;

	r->revs = xreallocarray(r->revs, r->nrevs + 1, sizeof(*r->revs));
	memset(&r->revs[r->nrevs], 0, sizeof(*r->revs));
	r->revs[r->nrevs].d = *d;
	r->revs[r->nrevs++].mtime = mt;
}

static void
add_layer(void *arg, const struct digest *d, int64_t mt)
{
	struct grepo *r = arg;

	r->layers = xreallocarray(r->layers, r->nlayers + 1,
	    sizeof(*r->layers));
	r->layers[r->nlayers].d = *d;
	r->layers[r->nlayers].left = 0;
	r->layers[r->nlayers++].mtime = mt;
}

/* The tags: _manifests/tags/<tag>/current/link. */
static void
tags_read(struct gscan *s, struct grepo *r, int repofd)
{
	char path[NAME_MAX + 16], where[OCI_NAME_MAX + 32];
	struct dirent *de;
	struct gtag t;
	DIR *td;

	if ((td = dir_openat(s, repofd, r->name, "_manifests/tags")) == NULL)
		return;
	(void)snprintf(where, sizeof(where), "%s/_manifests/tags", r->name);
	while ((de = readdir(td)) != NULL) {
		if (!oci_tag_valid(de->d_name))
			continue;
		(void)snprintf(path, sizeof(path), "%s/current/link",
		    de->d_name);
		memset(&t, 0, sizeof(t));
		if (link_readat(s, dirfd(td), where, path, &t.d, &t.mtime) == -1)
			continue;
		t.name = xstrdup(de->d_name);
		r->tags = xreallocarray(r->tags, r->ntags + 1, sizeof(*r->tags));
		r->tags[r->ntags++] = t;
	}
	closedir(td);
}

/* Read repository name, whose directory is repofd. */
static void
repo_read(struct gscan *s, int root, const char *name, int repofd)
{
	struct grepo *r;

	s->repos = xreallocarray(s->repos, s->nrepos + 1, sizeof(*s->repos));
	r = &s->repos[s->nrepos++];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	digest_links(s, repofd, r, "_manifests/revisions", add_rev, r);
	digest_links(s, repofd, r, "_layers", add_layer, r);
	tags_read(s, r, repofd);
	if (r->nrevs > 1)
		qsort(r->revs, r->nrevs, sizeof(*r->revs), gman_cmp);
	for (size_t i = 0; i < r->nrevs && !s->err[0]; i++)
		manifest_read(s, root, &r->revs[i]);
}

/* Visit repositories/<name>, directory d: a repository if it holds
 * _manifests or _layers; children that may continue a name are visited
 * too.  Closes d. */
static void
walk(struct gscan *s, int root, const char *name, DIR *d, int depth)
{
	char child[OCI_NAME_MAX + 2];
	struct dirent *de;
	int is_repo = 0;
	DIR *cd;

	while ((de = readdir(d)) != NULL && !s->err[0]) {
		if (de->d_name[0] == '.' || !dirent_is_dir(d, de))
			continue;
		if (de->d_name[0] == '_') {
			is_repo |= strcmp(de->d_name, "_manifests") == 0 ||
			    strcmp(de->d_name, "_layers") == 0;
			continue;
		}
		if (depth >= WALK_DEPTH || snprintf(child, sizeof(child),
		    "%s%s%s", name, *name ? "/" : "", de->d_name) >=
		    (int)sizeof(child))
			continue;
		if ((cd = dir_openat(s, dirfd(d), *name ? name :
		    V2 "/repositories", de->d_name)) != NULL)
			walk(s, root, child, cd, depth + 1);
	}
	if (is_repo && *name && oci_name_valid(name) && !s->err[0])
		repo_read(s, root, name, dirfd(d));
	closedir(d);
}

/* One blob directory <hex> of blobs/<alg>/<xx> (directory xd): its
 * data's size and age.  A directory a sweep took out (GC_SWEPT_PREFIX<hex>)
 * that a crash left is read as a blob too: no manifest can use it, so it
 * is swept (freed) again. */
static void
blob_read(struct gscan *s, enum digest_alg alg, const char *xx, DIR *xd,
    const char *name)
{
	const char *hex = gc_swept_hex(name);
	char path[NAME_MAX + 8];
	struct digest d;
	struct stat st;
	struct gblob *b;

	if (hex == NULL)
		hex = name;
	if (digest_from_hex(alg, hex, &d) != 0 || strncmp(hex, xx, 2) != 0)
		return;
	(void)snprintf(path, sizeof(path), "%s/data", name);
	if (fstatat(dirfd(xd), path, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode))
		return;		/* no data: nothing to free */
	if ((s->nblobs & (s->nblobs - 1)) == 0)
		s->blobs = xreallocarray(s->blobs, s->nblobs ? s->nblobs * 2 :
		    1, sizeof(*s->blobs));
	b = &s->blobs[s->nblobs++];
	memset(b, 0, sizeof(*b));
	b->d = d;
	b->size = (uint64_t)st.st_size;
	b->mtime = (int64_t)st.st_mtime;
}

/* Every blob under blobs/ of the v2 directory root. */
static void
blobs_read(struct gscan *s, int root)
{
	char where[64];
	struct dirent *x, *h;
	DIR *ad, *xd;

	for (size_t a = 0; a < nitems(algs) && !s->err[0]; a++) {
		(void)snprintf(where, sizeof(where), "blobs/%s", algs[a]);
		if ((ad = dir_openat(s, root, V2, where)) == NULL)
			continue;
		(void)snprintf(where, sizeof(where), V2 "/blobs/%s", algs[a]);
		while ((x = readdir(ad)) != NULL && !s->err[0]) {
			if (strlen(x->d_name) != 2)
				continue;
			if ((xd = dir_openat(s, dirfd(ad), where,
			    x->d_name)) == NULL)
				continue;
			while ((h = readdir(xd)) != NULL)
				blob_read(s, (enum digest_alg)a, x->d_name, xd,
				    h->d_name);
			closedir(xd);
		}
		closedir(ad);
	}
}

/* The names at the top of repositories/, taken one at a time by both
 * threads. */
struct tops {
	int		 fd;		/* repositories/ */
	char		**names;
	size_t		 n;
	atomic_size_t	 next;
};

/* The names of directory d that may start a repository name; closes d. */
static void
tops_list(struct tops *t, DIR *d)
{
	struct dirent *de;

	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_name[0] == '_' ||
		    !dirent_is_dir(d, de))
			continue;
		if ((t->n & (t->n - 1)) == 0)
			t->names = xreallocarray(t->names, t->n ? t->n * 2 : 1,
			    sizeof(*t->names));
		t->names[t->n++] = xstrdup(de->d_name);
	}
	t->fd = dup(dirfd(d));
	closedir(d);
}

/* Walk the next top name's tree, until there is none (or an error). */
static void
tops_walk(struct gscan *s, int root, struct tops *t)
{
	size_t i;
	DIR *cd;

	while (!s->err[0] && (i = atomic_fetch_add(&t->next, 1)) < t->n)
		if ((cd = dir_openat(s, t->fd, V2 "/repositories",
		    t->names[i])) != NULL)
			walk(s, root, t->names[i], cd, 1);
}

/* The second thread's part of a scan. */
struct bscan {
	struct gscan	 s;
	int		 root;
	struct tops	*tops;
};

static void *
blobs_main(void *arg)
{
	struct bscan *b = arg;

	blobs_read(&b->s, b->root);
	tops_walk(&b->s, b->root, b->tops);
	return NULL;
}

/* Put the second thread's findings into s (the first error wins). */
static void
scan_merge(struct gscan *s, struct gscan *o)
{
	if (!s->err[0] && o->err[0])
		memcpy(s->err, o->err, sizeof(s->err));
	s->blobs = o->blobs;
	s->nblobs = o->nblobs;
	s->repos = xreallocarray(s->repos, s->nrepos + o->nrepos + 1,
	    sizeof(*s->repos));
	if (o->nrepos > 0)
		memcpy(s->repos + s->nrepos, o->repos, o->nrepos *
		    sizeof(*o->repos));
	s->nrepos += o->nrepos;
	free(o->repos);
}

void
scan_store(struct gscan *s)
{
	struct tops t = { .fd = -1 };
	struct bscan b;
	pthread_t th;
	DIR *d;

	memset(s, 0, sizeof(*s));
	memset(&b, 0, sizeof(b));
	if ((b.root = open(V2, DIR_FLAGS)) == -1) {
		if (errno != ENOENT)
			scan_fail(s, V2 ": %s", strerror(errno));
		return;
	}
	if ((d = dir_openat(s, b.root, V2, "repositories")) != NULL)
		tops_list(&t, d);
	b.tops = &t;
	if (thread_spawn(&th, blobs_main, &b, 0) == 0) {
		tops_walk(s, b.root, &t);
		(void)pthread_join(th, NULL);
	} else if (!s->err[0])
		blobs_main(&b);
	scan_merge(s, &b.s);
	for (size_t i = 0; i < t.n; i++)
		free(t.names[i]);
	free(t.names);
	if (t.fd != -1)
		close(t.fd);
	close(b.root);
}

void
scan_free(struct gscan *s)
{
	for (size_t i = 0; i < s->nrepos; i++) {
		struct grepo *r = &s->repos[i];
		for (size_t k = 0; k < r->nrevs; k++)
			free(r->revs[k].refs);
		for (size_t k = 0; k < r->ntags; k++)
			free(r->tags[k].name);
		free(r->revs);
		free(r->tags);
		free(r->layers);
		free(r->name);
	}
	free(s->repos);
	free(s->blobs);
	memset(s, 0, sizeof(*s));
}
