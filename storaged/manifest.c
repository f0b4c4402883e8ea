/*
 * manifest.c - manifest requests.  GET answers from the index and the body
 * cache; PUT validates the manifest (parser, referenced blobs and child
 * manifests present in the repository, digest of the exact bytes), stores it
 * as a blob, links the revision and moves the tag; DELETE removes a revision
 * with the tags pointing at it, or one tag.  A PUT body larger than a frame
 * arrives as a descriptor: a memfd is read at once, a pipe in the loop.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "index.h"
#include "log.h"
#include "oci.h"
#include "regerr.h"
#include "store.h"
#include "storaged.h"
#include "util.h"

#define MREADS_MAX	64		/* pipe-fed PUTs in flight at once */

/* A reference: a tag, or a digest (a tag never holds ':'). */
struct mref {
	int		 is_digest;
	struct digest	 d;
	const char	*tag;
};

/* A PUT whose body is still arriving through a pipe. */
struct mread {
	struct mread	*next;
	struct link	*l;
	uint32_t	 id;
	char		*repo, *ref, *ctype;
	int		 fd;
	char		*buf;
	size_t		 len, want;
};

static struct mread *mreads;
static size_t nmreads;

/* Parse the reference in m; answers the error itself.  Tags that are not
 * valid get bad_tag (TAG_INVALID on PUT, MANIFEST_UNKNOWN otherwise). */
static int
req_ref(struct link *l, const struct msg *m, struct mref *r, int bad_tag)
{
	const char *s = msg_str(m, A_REF);

	memset(r, 0, sizeof(*r));
	if (s != NULL && strchr(s, ':') != NULL) {
		r->is_digest = 1;
		return req_digest(l, m, A_REF, &r->d);
	}
	if (s == NULL || !oci_tag_valid(s)) {
		link_reply_err(l, m->id, bad_tag, "invalid tag");
		return -1;
	}
	r->tag = s;
	return 0;
}

/* The revision ref names in repo, or NULL. */
static struct minfo *
resolve(const char *repo, const struct mref *ref)
{
	struct repo *r;
	struct itag *t;

	if ((r = repo_find(repo)) == NULL)
		return NULL;
	if (ref->is_digest)
		return repo_rev(r, &ref->d);
	if ((t = repo_tag(r, ref->tag)) == NULL)
		return NULL;
	return repo_rev(r, &t->d);
}

/* M_MANIFEST{digest, mediatype, size[, body][, fd][, ref = subject]}. */
static void
reply_manifest(struct link *l, uint32_t id, const struct digest *d,
    const char *mt, uint64_t size, const char *body, int fd,
    const struct digest *subject)
{
	char s[DIGEST_STRMAX];
	struct msgb mb;

	if (digest_format(d, s, sizeof(s)) == -1)
		fatalx("digest does not format");
	msgb_init(&mb, M_MANIFEST);
	msgb_str(&mb, A_DIGEST, s);
	msgb_str(&mb, A_MEDIATYPE, mt);
	msgb_u64(&mb, A_SIZE, size);
	if (body != NULL)
		msgb_bytes(&mb, A_BODY, body, (size_t)size);
	if (fd != -1)
		msgb_fd(&mb, A_FD, fd);
	if (subject != NULL) {
		if (digest_format(subject, s, sizeof(s)) == -1)
			fatalx("digest does not format");
		msgb_str(&mb, A_REF, s);
	}
	link_reply(l, id, &mb);
}

/* The body of mi from the cache, else from disk (then cached). */
static const char *
body_of(struct minfo *mi)
{
	char p[STORE_PATHMAX];
	const char *body;
	char *b;
	size_t len;

	if ((body = cache_get(mi)) != NULL)
		return body;
	if (path_blob_data(p, sizeof(p), &mi->d) == -1 ||
	    (b = store_read_file(p, OCI_MANIFEST_MAX, &len)) == NULL)
		return NULL;
	if (len != mi->size) {
		free(b);
		errno = EIO;
		return NULL;
	}
	cache_put(mi, b, len);
	free(b);
	/* a body over the cache budget is not kept: read it per request */
	return cache_get(mi);
}

/* M_MANIFEST_GET: by tag or digest, from the index and the cache. */
void
manifest_get(struct link *l, struct msg *m)
{
	const char *repo, *body;
	struct minfo *mi;
	struct mref ref;
	uint64_t size;
	int fd;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_ref(l, m, &ref, RE_MANIFEST_UNKNOWN) == -1)
		return;
	if ((mi = resolve(repo, &ref)) == NULL) {
		link_reply_err(l, m->id, RE_MANIFEST_UNKNOWN, NULL);
		return;
	}
	if (mi->size <= INLINE_MAX) {
		if ((body = body_of(mi)) == NULL) {
			reply_internal(l, m->id, "read manifest blob");
			return;
		}
		reply_manifest(l, m->id, &mi->d, mi->mediatype, mi->size, body,
		    -1, NULL);
		return;
	}
	if ((fd = store_blob_open(&mi->d, &size)) == -1) {
		reply_internal(l, m->id, "open manifest blob");
		return;
	}
	reply_manifest(l, m->id, &mi->d, mi->mediatype, size, NULL, fd, NULL);
}

/* --- PUT --- */

/* The first blob or child manifest pm needs that repo lacks, in missing;
 * 0 if none is missing. */
static int
refs_missing(const char *repo, const struct oci_manifest *pm,
    struct digest *missing)
{
	struct repo *r = repo_find(repo);
	uint64_t size;
	size_t i;

	if (pm->kind == OCI_KIND_INDEX) {
		for (i = 0; i < pm->nrefs; i++)
			if (r == NULL || repo_rev(r, &pm->refs[i].digest) ==
			    NULL)
				return *missing = pm->refs[i].digest, -1;
		return 0;
	}
	if (pm->has_config &&
	    store_layer_stat(repo, &pm->config.digest, &size) == -1)
		return *missing = pm->config.digest, -1;
	for (i = 0; i < pm->nrefs; i++) {
		/* foreign layers with urls live elsewhere, by design */
		if (oci_layer_external(&pm->refs[i]))
			continue;
		if (store_layer_stat(repo, &pm->refs[i].digest, &size) == -1)
			return *missing = pm->refs[i].digest, -1;
	}
	return 0;
}

/* Write the blob, the revision link and the tag links, in an order where a
 * crash between any two leaves no link to something missing. */
static int
put_disk(const char *repo, const struct mref *ref, const struct digest *d,
    const char *body, size_t len)
{
	char p[STORE_PATHMAX];

	if (store_blob_put(d, body, len) == -1)
		return -1;
	if (path_rev_link(p, sizeof(p), repo, d) == -1 ||
	    store_link_write(p, d) == -1)
		return -1;
	if (ref->is_digest)
		return 0;
	if (path_tag_index(p, sizeof(p), repo, ref->tag, d) == -1 ||
	    store_link_write(p, d) == -1)
		return -1;
	if (path_tag_current(p, sizeof(p), repo, ref->tag) == -1 ||
	    store_link_write(p, d) == -1)
		return -1;
	return 0;
}

/* Bring the index in step with a stored manifest. */
static void
put_index(const char *repo, const struct mref *ref, const struct digest *d,
    const struct oci_manifest *pm, const char *body, size_t len)
{
	struct repo *r = repo_get(repo);
	struct minfo *mi = minfo_new(d, len, pm);

	r->has_manifests = 1;
	repo_add_rev(r, mi);
	if (!ref->is_digest)
		repo_set_tag(r, ref->tag, d);
	cache_put(mi, body, len);
}

/* Validate and store a complete body. */
static void
put_body(struct link *l, uint32_t id, const char *repo, const struct mref *ref,
    const char *ctype, const char *body, size_t len)
{
	char err[256], text[300], dg[DIGEST_STRMAX];
	struct oci_manifest pm;
	struct digest d, missing;

	if (oci_manifest_parse(body, len, *ctype ? ctype : NULL, &pm, err,
	    sizeof(err)) != 0) {
		link_reply_err(l, id, RE_MANIFEST_INVALID, err);
		return;
	}
	digest_buf(ref->is_digest ? ref->d.alg : DIGEST_SHA256, body, len, &d);
	if (ref->is_digest && !digest_equal(&d, &ref->d)) {
		link_reply_err(l, id, RE_DIGEST_INVALID,
		    "manifest digest does not match the reference");
		goto out;
	}
	if (refs_missing(repo, &pm, &missing) == -1) {
		(void)digest_format(&missing, dg, sizeof(dg));
		(void)snprintf(text, sizeof(text), "%s not found in %s", dg,
		    repo);
		link_reply_err(l, id, RE_MANIFEST_BLOB_UNKNOWN, text);
		goto out;
	}
	if (put_disk(repo, ref, &d, body, len) == -1) {
		reply_internal(l, id, "store manifest");
		goto out;
	}
	put_index(repo, ref, &d, &pm, body, len);
	log_debug("%s: manifest %s%s%s", repo, d.hex, ref->tag ? " as " : "",
	    ref->tag ? ref->tag : "");
	reply_manifest(l, id, &d, pm.mediatype, len, NULL, -1,
	    pm.has_subject ? &pm.subject.digest : NULL);
out:
	oci_manifest_free(&pm);
}

/* put_body for a request whose strings live in the message. */
static void
put_msg(struct link *l, struct msg *m, const char *repo,
    const struct mref *ref, const char *body, size_t len)
{
	put_body(l, m->id, repo, ref, msg_str(m, A_MEDIATYPE), body, len);
}

/* Forget a pipe-fed PUT: stop watching, close, free. */
static void
mread_free(struct mread *r)
{
	struct mread **pp;

	for (pp = &mreads; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	nmreads--;
	ev_del(r->fd);
	close(r->fd);
	free(r->repo);
	free(r->ref);
	free(r->ctype);
	free(r->buf);
	free(r);
}

/* The pipe-fed body is complete (or failed): finish the PUT. */
static void
mread_done(struct mread *r)
{
	struct mref ref;

	memset(&ref, 0, sizeof(ref));
	if (strchr(r->ref, ':') != NULL) {
		ref.is_digest = 1;
		if (digest_parse(r->ref, &ref.d) != 0)
			fatalx("reference changed while the body arrived");
	} else
		ref.tag = r->ref;
	put_body(r->l, r->id, r->repo, &ref, r->ctype, r->buf, r->len);
	mread_free(r);
}

/* The manifest pipe is readable: take what is there, up to the size. */
static void
on_mread(int fd, int events, void *arg)
{
	struct mread *r = arg;
	ssize_t n;

	for (;;) {
		n = read(fd, r->buf + r->len, r->want - r->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			link_reply_err(r->l, r->id, RE_SIZE_INVALID,
			    "manifest body shorter than its size");
			mread_free(r);
			return;
		}
		r->len += (size_t)n;
		if (r->len == r->want) {
			mread_done(r);
			return;
		}
	}
}

/* Read size bytes of a memfd (or any regular file) from its start. */
static char *
read_regular(int fd, size_t size)
{
	char *buf = xmalloc(size ? size : 1);
	size_t got = 0;
	ssize_t n;

	while (got < size) {
		n = pread(fd, buf + got, size - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	return buf;
}

/* The body comes as a descriptor: a memfd now, a pipe in the loop. */
static void
put_fd(struct link *l, struct msg *m, const char *repo,
    const struct mref *ref, int fd, size_t size)
{
	struct mread *r;
	struct stat st;
	char *buf;

	if (fstat(fd, &st) == -1) {
		close(fd);
		reply_internal(l, m->id, "fstat manifest body");
		return;
	}
	if (S_ISREG(st.st_mode)) {
		if ((buf = read_regular(fd, size)) == NULL)
			link_reply_err(l, m->id, RE_SIZE_INVALID,
			    "manifest body shorter than its size");
		else
			put_msg(l, m, repo, ref, buf, size);
		free(buf);
		close(fd);
		return;
	}
	if (nmreads >= MREADS_MAX || fd_set_nonblock(fd) == -1) {
		close(fd);
		link_reply_err(l, m->id, RE_UNAVAILABLE, "too many manifest "
		    "uploads in progress");
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->l = l;
	r->id = m->id;
	r->repo = xstrdup(repo);
	r->ref = xstrdup(msg_str(m, A_REF));
	r->ctype = xstrdup(msg_str(m, A_MEDIATYPE));
	r->fd = fd;
	r->want = size;
	r->buf = xmalloc(size ? size : 1);
	r->next = mreads;
	mreads = r;
	nmreads++;
	ev_add(fd, EV_READ, on_mread, r);
}

/* M_MANIFEST_PUT: body inline or as a descriptor, then validate and store. */
void
manifest_put(struct link *l, struct msg *m)
{
	uint64_t size = msg_u64(m, A_SIZE, 0);
	const char *repo;
	struct mref ref;
	int fd = msg_take_fd(m, A_FD);

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_ref(l, m, &ref, RE_TAG_INVALID) == -1)
		goto fail;
	if (size > OCI_MANIFEST_MAX) {
		link_reply_err(l, m->id, RE_TOO_LARGE, "manifest larger than "
		    "4 MiB");
		goto fail;
	}
	if (fd != -1) {
		put_fd(l, m, repo, &ref, fd, (size_t)size);
		return;
	}
	if (m->v[A_BODY].len != size) {
		link_reply_err(l, m->id, RE_SIZE_INVALID, "manifest body "
		    "length differs from its size");
		return;
	}
	put_msg(l, m, repo, &ref, m->v[A_BODY].present ? m->v[A_BODY].p : "",
	    (size_t)size);
	return;
fail:
	if (fd != -1)
		close(fd);
}

/* --- DELETE --- */

/* Remove one tag from disk and index. */
static int
tag_remove(struct repo *r, const char *tag)
{
	char p[STORE_PATHMAX];

	if (path_tag_dir(p, sizeof(p), r->name, tag) == -1)
		return errno = EINVAL, -1;
	if (store_remove_tree(p) == -1 && errno != ENOENT)
		return -1;
	repo_del_tag(r, tag);
	return 0;
}

/* Remove revision d and every tag pointing at it: tags first, so a crash
 * never leaves a tag whose revision is gone. */
static int
rev_remove(struct repo *r, const struct digest *d)
{
	char p[STORE_PATHMAX];
	size_t i;

	for (i = r->ntags; i-- > 0;)
		if (digest_equal(&r->tags[i].d, d) &&
		    tag_remove(r, r->tags[i].name) == -1)
			return -1;
	if (path_rev_link(p, sizeof(p), r->name, d) == -1)
		return errno = EINVAL, -1;
	if (store_link_remove(p) == -1 && errno != ENOENT)
		return -1;
	repo_del_rev(r, d);
	return 0;
}

/* M_MANIFEST_DELETE: a revision and its tags, or one tag. */
void
manifest_delete(struct link *l, struct msg *m)
{
	const char *repo;
	struct mref ref;
	struct repo *r;
	int rc;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_ref(l, m, &ref, RE_MANIFEST_UNKNOWN) == -1)
		return;
	if (!store_delete_on()) {
		link_reply_err(l, m->id, RE_UNSUPPORTED, "deletes are disabled");
		return;
	}
	r = repo_find(repo);
	if (r == NULL || (ref.is_digest ? repo_rev(r, &ref.d) == NULL :
	    repo_tag(r, ref.tag) == NULL)) {
		link_reply_err(l, m->id, RE_MANIFEST_UNKNOWN, NULL);
		return;
	}
	rc = ref.is_digest ? rev_remove(r, &ref.d) : tag_remove(r, ref.tag);
	if (rc == -1) {
		reply_internal(l, m->id, "delete manifest");
		return;
	}
	log_debug("%s: deleted %s", repo, msg_str(m, A_REF));
	link_reply_done(l, m->id);
}

/* Forget the PUTs of a link that is going away. */
void
manifest_link_gone(struct link *l)
{
	struct mread *r, *next;

	for (r = mreads; r; r = next) {
		next = r->next;
		if (r->l == l)
			mread_free(r);
	}
}

/* Pipe-fed PUTs in flight (stop waits for them). */
size_t
manifest_busy(void)
{
	return nmreads;
}
