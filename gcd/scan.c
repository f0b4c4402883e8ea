/*
 * scan.c - gcd's read of the store, on a thread: every repository under
 * repositories/ (names nest), its revision, tag and layer links with their
 * modification times, the manifests its revisions name (parsed with
 * lib/oci.c), and every blob with its size and age.  Anything it cannot
 * read or parse stops the run (err): a mark that missed a manifest would
 * sweep what it uses.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcd.h"
#include "oci.h"
#include "util.h"

#define V2		"docker/registry/v2"
#define LINK_MAX	(DIGEST_STRMAX + 16)
#define WALK_DEPTH	130		/* a name has at most 128 components */

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

/* Open directory path; NULL and no error if it is not there. */
static DIR *
dir_open(struct gscan *s, const char *path)
{
	DIR *d;
	int fd;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			scan_fail(s, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((d = fdopendir(fd)) == NULL) {
		scan_fail(s, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return d;
}

/* The digest a link file holds and the link's mtime: 0, or -1 if it is
 * missing (ENOENT) or, with err set, unreadable or not a digest. */
static int
link_read(struct gscan *s, const char *path, struct digest *d, int64_t *mt)
{
	char buf[LINK_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			scan_fail(s, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = fstat(fd, &st) == 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	close(fd);
	if (n < 0)
		return scan_fail(s, "%s: %s", path, strerror(errno)), -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (digest_parse(buf, d) != 0)
		return scan_fail(s, "%s: not a digest", path), -1;
	*mt = (int64_t)st.st_mtime;
	return 0;
}

/* A link file's mtime: 0, or -1 if it is missing (ENOENT) or, with err
 * set, not a regular file or not readable. */
static int
link_mtime(struct gscan *s, const char *path, int64_t *mt)
{
	struct stat st;

	if (lstat(path, &st) == -1) {
		if (errno != ENOENT)
			scan_fail(s, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return -1;
	*mt = (int64_t)st.st_mtime;
	return 0;
}

/* A regular file of at most max bytes, malloc'd; NULL with errno. */
static char *
body_read(const char *path, size_t max, size_t *len)
{
	struct stat st;
	char *p = NULL;
	ssize_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
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
 * dangling link serves nothing either). */
static void
manifest_read(struct gscan *s, struct gman *m)
{
	char path[512], err[256];
	struct oci_manifest pm;
	size_t len, k = 0;
	char *body;

	(void)snprintf(path, sizeof(path), V2 "/blobs/%s/%.2s/%s/data",
	    digest_algname(m->d.alg), m->d.hex, m->d.hex);
	if ((body = body_read(path, OCI_MANIFEST_MAX, &len)) == NULL) {
		if (errno != ENOENT)
			scan_fail(s, "%s: %s", path, strerror(errno));
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

/* Each <dir>/<alg>/<hex>/link: the revisions or the layers of a repo. */
static void
digest_links(struct gscan *s, const char *dir, void (*add)(void *,
    const struct digest *, int64_t), void *arg)
{
	char path[1024];
	struct digest d, ld;
	struct dirent *de;
	int64_t mt;
	DIR *ad;

	for (size_t a = 0; a < nitems(algs); a++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, algs[a]);
		if ((ad = dir_open(s, path)) == NULL)
			continue;
		while ((de = readdir(ad)) != NULL) {
			if (de->d_name[0] == '.' || snprintf(path, sizeof(path),
			    "%s:%s", algs[a], de->d_name) >= (int)sizeof(path) ||
			    digest_parse(path, &d) != 0)
				continue;
			(void)snprintf(path, sizeof(path), "%s/%s/%s/link", dir,
			    algs[a], de->d_name);
			/* a layer link's content is not read: its mtime is all
			 * the plan wants (storaged checks before it unlinks) */
			if (add == add_layer ? link_mtime(s, path, &mt) == 0 :
			    link_read(s, path, &ld, &mt) == 0 &&
			    digest_equal(&d, &ld))
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
	r->layers[r->nlayers++].mtime = mt;
}

/* The tags: _manifests/tags/<tag>/current/link. */
static void
tags_read(struct gscan *s, struct grepo *r, const char *dir)
{
	char path[1024];
	struct dirent *de;
	struct gtag t;
	DIR *td;

	(void)snprintf(path, sizeof(path), "%s/_manifests/tags", dir);
	if ((td = dir_open(s, path)) == NULL)
		return;
	while ((de = readdir(td)) != NULL) {
		if (!oci_tag_valid(de->d_name))
			continue;
		(void)snprintf(path, sizeof(path), "%s/_manifests/tags/%s/"
		    "current/link", dir, de->d_name);
		memset(&t, 0, sizeof(t));
		if (link_read(s, path, &t.d, &t.mtime) == -1)
			continue;
		t.name = xstrdup(de->d_name);
		r->tags = xreallocarray(r->tags, r->ntags + 1, sizeof(*r->tags));
		r->tags[r->ntags++] = t;
	}
	closedir(td);
}

/* Read repository name at dir. */
static void
repo_read(struct gscan *s, const char *name, const char *dir)
{
	char path[1024];
	struct grepo *r;

	s->repos = xreallocarray(s->repos, s->nrepos + 1, sizeof(*s->repos));
	r = &s->repos[s->nrepos++];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	(void)snprintf(path, sizeof(path), "%s/_manifests/revisions", dir);
	digest_links(s, path, add_rev, r);
	(void)snprintf(path, sizeof(path), "%s/_layers", dir);
	digest_links(s, path, add_layer, r);
	tags_read(s, r, dir);
	if (r->nrevs > 1)
		qsort(r->revs, r->nrevs, sizeof(*r->revs), gman_cmp);
	for (size_t i = 0; i < r->nrevs && !s->err[0]; i++)
		manifest_read(s, &r->revs[i]);
}

/* Visit repositories/<name>: a repository if it holds _manifests or
 * _layers; children that may continue a name are visited too. */
static void
walk(struct gscan *s, const char *name, const char *dir, int depth)
{
	char child[OCI_NAME_MAX + 2], cdir[1024];
	struct dirent *de;
	int is_repo = 0;
	DIR *d;

	if ((d = dir_open(s, dir)) == NULL)
		return;
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
		    (int)sizeof(child) || snprintf(cdir, sizeof(cdir), "%s/%s",
		    dir, de->d_name) >= (int)sizeof(cdir))
			continue;
		walk(s, child, cdir, depth + 1);
	}
	closedir(d);
	if (is_repo && *name && oci_name_valid(name) && !s->err[0])
		repo_read(s, name, dir);
}

/* One blob directory blobs/<alg>/<xx>/<hex>: its data's size and age. */
static void
blob_read(struct gscan *s, const char *alg, const char *xx, const char *hex)
{
	char path[512];
	struct digest d;
	struct stat st;
	struct gblob *b;

	if (snprintf(path, sizeof(path), "%s:%s", alg, hex) >=
	    (int)sizeof(path) || digest_parse(path, &d) != 0 ||
	    strncmp(hex, xx, 2) != 0)
		return;
	(void)snprintf(path, sizeof(path), V2 "/blobs/%s/%s/%s/data", alg, xx,
	    hex);
	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
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

/* Every blob under blobs/. */
static void
blobs_read(struct gscan *s)
{
	char path[512];
	struct dirent *x, *h;
	DIR *ad, *xd;

	for (size_t a = 0; a < nitems(algs) && !s->err[0]; a++) {
		(void)snprintf(path, sizeof(path), V2 "/blobs/%s", algs[a]);
		if ((ad = dir_open(s, path)) == NULL)
			continue;
		while ((x = readdir(ad)) != NULL && !s->err[0]) {
			if (strlen(x->d_name) != 2)
				continue;
			(void)snprintf(path, sizeof(path), V2 "/blobs/%s/%s",
			    algs[a], x->d_name);
			if ((xd = dir_open(s, path)) == NULL)
				continue;
			while ((h = readdir(xd)) != NULL)
				blob_read(s, algs[a], x->d_name, h->d_name);
			closedir(xd);
		}
		closedir(ad);
	}
}

void
scan_store(struct gscan *s)
{
	memset(s, 0, sizeof(*s));
	walk(s, "", V2 "/repositories", 0);
	if (!s->err[0])
		blobs_read(s);
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
