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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drepo.h"
#include "index.h"
#include "log.h"
#include "oci.h"
#include "store.h"
#include "thread.h"
#include "util.h"

#define WALK_DEPTH	130		/* a name has at most 128 components */

/*
 * The names walk emits names in strcmp order, so that the catalog can
 * serve the pages before the walk's position while it goes on.  Under a
 * directory named P, the name P/c sorts before every other name that
 * starts with P/c, but the names below c (P/c/...) may sort after a
 * sibling's (P/c-d < P/c/x, as '-' < '/').  So each child c gives two
 * keys, "c" (the repository P/c itself) and "c/" (the names below it),
 * visited in strcmp order of the keys: every name under a key sorts after
 * every name under the keys before it.
 */

struct wchild;

/* The subdirectories of a directory, not starting with '_'. */
struct wdir {
	struct wchild	*v;
	size_t		 n, cap;
};

struct wchild {
	char		*name;
	struct wdir	 kids;		/* read with the key "c" */
	int		 read;
};

/* One key of a directory's walk: child c, itself (sub 0) or below (1). */
struct wkey {
	struct wchild	*c;
	int		 sub;
};

struct walk {
	drepo_emit_fn	 emit;
	void		*arg;
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
wdir_free(struct wdir *w)
{
	for (size_t i = 0; i < w->n; i++) {
		wdir_free(&w->v[i].kids);
		free(w->v[i].name);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/* List d: its repository markers (repo_marker bits), its other
 * subdirectories into w (names too long to continue a name skipped). */
static int
wdir_read(DIR *d, struct wdir *w)
{
	struct dirent *de;
	int marks = 0;

	while ((de = readdir(d)) != NULL) {
		if (dotname(de->d_name) || !dirent_is_dir(d, de))
			continue;
		if (de->d_name[0] == '_') {
			marks |= repo_marker(de->d_name);
			continue;
		}
		if (strlen(de->d_name) > OCI_NAME_MAX)
			continue;
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 8;
			w->v = xreallocarray(w->v, w->cap, sizeof(*w->v));
		}
		memset(&w->v[w->n], 0, sizeof(w->v[w->n]));
		w->v[w->n++].name = xstrdup(de->d_name);
	}
	return marks;
}

/* strcmp order of the keys: a child's name, "/" appended for sub. */
static int
wkey_cmp(const void *pa, const void *pb)
{
	const struct wkey *ka = pa, *kb = pb;
	const unsigned char *a = (const unsigned char *)ka->c->name;
	const unsigned char *b = (const unsigned char *)kb->c->name;
	int ca, cb;

	while (*a && *a == *b)
		a++, b++;
	ca = *a ? *a : ka->sub ? '/' : 0;
	cb = *b ? *b : kb->sub ? '/' : 0;
	return ca - cb;
}

static void walk_dir(struct walk *, int, const char *, struct wdir *, int);

/* Key "c": read the child, emit P/c if it is a repository. */
static void
walk_self(struct walk *w, int fd, const char *full, struct wchild *c)
{
	DIR *d;
	int marks;

	c->read = 1;
	if ((d = dir_openat(fd, c->name)) == NULL)
		return;
	marks = wdir_read(d, &c->kids);
	closedir(d);
	if ((marks & 1) && oci_name_valid(full))
		w->emit(w->arg, full, (marks & 2) != 0);
}

/* Key "c/": the names below the child, then forget its listing. */
static void
walk_below(struct walk *w, int fd, const char *full, struct wchild *c,
    int depth)
{
	int sub;

	if (c->kids.n > 0 && depth < WALK_DEPTH && (sub = openat(fd, c->name,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		walk_dir(w, sub, full, &c->kids, depth + 1);
		close(sub);
	}
	wdir_free(&c->kids);
}

/* The children of directory fd (named prefix), in key order. */
static void
walk_dir(struct walk *w, int fd, const char *prefix, struct wdir *kids,
    int depth)
{
	char full[OCI_NAME_MAX + 2];
	struct wkey *keys;
	size_t i, n = kids->n * 2;

	if (n == 0)
		return;
	keys = xcalloc(n, sizeof(*keys));
	for (i = 0; i < n; i++) {
		keys[i].c = &kids->v[i / 2];
		keys[i].sub = i % 2;
	}
	qsort(keys, n, sizeof(*keys), wkey_cmp);
	for (i = 0; i < n; i++) {
		struct wchild *c = keys[i].c;
		if (snprintf(full, sizeof(full), "%s%s%s", prefix,
		    *prefix ? "/" : "", c->name) >= (int)sizeof(full))
			continue;
		if (!keys[i].sub)
			walk_self(w, fd, full, c);
		else if (c->read)
			walk_below(w, fd, full, c, depth);
	}
	free(keys);
}

void
drepo_names_walk(drepo_emit_fn emit, void *arg)
{
	struct walk w = { emit, arg };
	struct wdir top = { NULL, 0, 0 };
	DIR *d;

	if ((d = dir_openat(store_rootfd(), STORE_REPOS)) == NULL)
		return;
	(void)wdir_read(d, &top);
	walk_dir(&w, dirfd(d), "", &top, 0);
	closedir(d);
	wdir_free(&top);
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

/* The valid tag names under _manifests/tags of name. */
static char **
tag_dirs(const char *name, size_t *n)
{
	char p[STORE_PATHMAX];
	char **v = NULL;
	struct dirent *de;
	size_t cap = 0;
	DIR *dir;

	*n = 0;
	if (path_repo(p, sizeof(p), name, "_manifests/tags") == -1 ||
	    (dir = dir_openat(store_rootfd(), p)) == NULL)
		return NULL;
	while ((de = readdir(dir)) != NULL) {
		if (!oci_tag_valid(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[(*n)++] = xstrdup(de->d_name);
	}
	closedir(dir);
	return v;
}

/* Links of many tags are read by this many threads: cold, each read
 * waits on the disk, and parallel reads keep its queue full (1,000 tags
 * of an evicted store: 300-400 ms alone, 100-115 ms with 4). */
#define TAG_READERS	4
#define TAG_PARALLEL	64		/* fewer tags: no threads */
#define TAG_STACK	(128 * 1024)

/* One reader's share of the links: entries from, from + step, ... */
struct tagjob {
	const char	*repo;
	char		**v;
	struct digest	*d;
	char		*ok;
	size_t		 n, from, step;
	pthread_t	 t;
};

static void *
tagjob_main(void *arg)
{
	struct tagjob *j = arg;
	char p[STORE_PATHMAX];

	for (size_t i = j->from; i < j->n; i += j->step)
		j->ok[i] = path_tag_current(p, sizeof(p), j->repo,
		    j->v[i]) == 0 && store_link_read(p, &j->d[i]) == 0;
	return NULL;
}

/* Read the current link of each of the n tags v into d, ok[i] set when it
 * is one: by TAG_READERS threads when there are many (this one included,
 * which also does the share of a thread that did not start). */
static void
read_tag_links(const char *repo, char **v, size_t n,
    struct digest *d, char *ok)
{
	struct tagjob j[TAG_READERS];
	size_t k, nj = n >= TAG_PARALLEL ? TAG_READERS : 1;
	int started[TAG_READERS] = { 0 };

	for (k = 0; k < nj; k++) {
		j[k] = (struct tagjob){ repo, v, d, ok, n, k, nj, 0 };
		if (k > 0 && thread_spawn(&j[k].t, tagjob_main, &j[k],
		    TAG_STACK) == 0)
			started[k] = 1;
	}
	for (k = 0; k < nj; k++)
		if (!started[k])
			(void)tagjob_main(&j[k]);
	for (k = 1; k < nj; k++)
		if (started[k])
			pthread_join(j[k].t, NULL);
}

/* The tags of b: every valid tag whose current link is a digest. */
static void
read_tags(struct drepo *b)
{
	char **v;
	struct digest *d;
	size_t i, n;
	char *ok;

	if ((v = tag_dirs(b->name, &n)) == NULL)
		return;
	d = xcalloc(n, sizeof(*d));
	ok = xcalloc(n, 1);
	read_tag_links(b->name, v, n, d, ok);
	b->tags = xcalloc(n, sizeof(*b->tags));
	for (i = 0; i < n; i++) {
		if (!ok[i]) {
			free(v[i]);
			continue;
		}
		b->tags[b->ntags].name = v[i];
		b->tags[b->ntags++].d = d[i];
		b->bytes += sizeof(*b->tags) + strlen(v[i]);
	}
	free(ok);
	free(d);
	free(v);
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

struct drepo *
drepo_read_tags(const char *name)
{
	struct drepo *b = xcalloc(1, sizeof(*b));

	b->name = xstrdup(name);
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
