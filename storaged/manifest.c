/*
 * manifest.c - manifest requests.  GET answers from the index and the body
 * cache; PUT validates the manifest (parser, referenced blobs and child
 * manifests present in the repository, digest of the exact bytes), stores it
 * as a blob, links the revision and moves the tag; DELETE removes a revision
 * with the tags pointing at it, or one tag.  A PUT body larger than a frame
 * arrives as a descriptor: a memfd is read at once, a pipe in the loop.
 * The work that takes time leaves the loop (task.c): a PUT is parsed and
 * hashed on a thread, checked against the index in the loop, then written
 * (fsync, rename) by the writer queue, which also removes what a DELETE
 * removes; each change reaches the index and is answered when its disk
 * work is done, in the order the writer did it, so the last PUT of a tag
 * answered is the one that holds, on disk as in the index.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ev.h"
#include "index.h"
#include "log.h"
#include "oci.h"
#include "pulls.h"
#include "regerr.h"
#include "store.h"
#include "storaged.h"
#include "task.h"
#include "util.h"

#define MREADS_MAX	64		/* pipe-fed PUTs in flight at once */
#define MPUTS_MAX	256		/* PUTs past their body at once */
/* Bodies up to this size are parsed and hashed in the loop: that costs
 * less than the trip to a thread and back. */
#define PARSE_INLINE_MAX (64 * 1024)

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

/* A PUT past its body: parsed and hashed on a thread, its references
 * checked in the loop, written by the writer queue, then indexed and
 * answered.  l is NULL once the link is gone: the work goes on (what
 * reaches the disk reaches the index too), only the answer is dropped. */
struct mput {
	LIST_ENTRY(mput) entry;
	struct link	*l;
	uint32_t	 id;
	char		*repo, *tag, *ctype;
	struct mref	 ref;			/* ref.tag is tag */
	char		*body;
	size_t		 len;
	int		 prc;			/* the parse: 0 ok */
	char		 err[256];
	struct oci_manifest pm;
	struct digest	 d;			/* of the body */
	int		 werr;			/* the write: 0 ok, or errno */
	int		 checked;		/* its references were found */
	int		 cached;		/* MANIFEST_F_CACHED */
};

/* A DELETE whose removal the writer queue does: the tags (all those
 * pointing at the revision, for a DELETE by digest, listed when its turn
 * comes), then the revision link. */
struct mdel {
	LIST_ENTRY(mdel) entry;
	struct link	*l;
	uint32_t	 id;
	char		*repo;
	struct mref	 ref;
	char		*tag;
	char		**tags;
	size_t		 ntags, ndone;		/* removed from disk */
	int		 gone;			/* nothing left to remove */
	int		 werr;
	int		 gc;			/* gcd's: only if unused */
	int		 refused;		/* gcd's, and in use */
	struct digest	 want;			/* gcd's tag: names this */
};

static struct mread *mreads;
static size_t nmreads;
static LIST_HEAD(, mput) mputs = LIST_HEAD_INITIALIZER(mputs);
static LIST_HEAD(, mdel) mdels = LIST_HEAD_INITIALIZER(mdels);
static size_t nmputs, nmdels;
/* Manifest changes reach the disk one at a time, in the loop's order. */
static struct taskq writer = TASKQ_INITIALIZER(writer);

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
	struct digest d;
	struct repo *r;
	struct itag *t;

	if ((r = repo_find(repo)) == NULL)
		return NULL;
	if (ref->is_digest)
		return repo_rev(r, &ref->d);
	if ((t = repo_tag(r, ref->tag)) == NULL)
		return NULL;
	tag_digest(t, &d);
	return repo_rev(r, &d);
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
	struct digest d;
	const char *body;
	char *b;
	size_t len;

	if ((body = cache_get(mi)) != NULL)
		return body;
	minfo_digest(mi, &d);
	if (path_blob_data(p, sizeof(p), &d) == -1 ||
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
	struct digest d;
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
	minfo_digest(mi, &d);
	pulls_note(repo, &d, time(NULL));
	if (mi->size <= INLINE_MAX) {
		if ((body = body_of(mi)) == NULL) {
			reply_internal(l, m->id, "read manifest blob");
			return;
		}
		reply_manifest(l, m->id, &d, mi->mediatype, mi->size, body,
		    -1, NULL);
		return;
	}
	if ((fd = store_blob_open(&d, &size)) == -1) {
		reply_internal(l, m->id, "open manifest blob");
		return;
	}
	reply_manifest(l, m->id, &d, mi->mediatype, size, NULL, fd, NULL);
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

/* Forget a PUT. */
static void
put_free(struct mput *mp)
{
	LIST_REMOVE(mp, entry);
	nmputs--;
	oci_manifest_free(&mp->pm);
	free(mp->repo);
	free(mp->tag);
	free(mp->ctype);
	free(mp->body);
	free(mp);
}

/* Answer a PUT with an error (if its link is still there) and forget it. */
static void
put_fail(struct mput *mp, int code, const char *text)
{
	if (mp->l != NULL)
		link_reply_err(mp->l, mp->id, code, text);
	put_free(mp);
}

/* Writer thread: the blob, the revision and the tag links. */
static void
put_write(void *arg)
{
	struct mput *mp = arg;

	mp->werr = 0;
	if (put_disk(mp->repo, &mp->ref, &mp->d, mp->body, mp->len) == -1)
		mp->werr = errno ? errno : EIO;
}

/* In the loop: the manifest is on disk; index it, then answer. */
static void
put_written(void *arg)
{
	struct mput *mp = arg;
	const struct oci_manifest *pm = &mp->pm;

	if (mp->werr != 0) {
		errno = mp->werr;
		log_warn("%s: store manifest %s", mp->repo, mp->d.hex);
		put_fail(mp, RE_INTERNAL, "store manifest");
		return;
	}
	put_index(mp->repo, &mp->ref, &mp->d, pm, mp->body, mp->len);
	log_debug("%s: manifest %s%s%s", mp->repo, mp->d.hex,
	    mp->tag ? " as " : "", mp->tag ? mp->tag : "");
	if (mp->l != NULL)
		reply_manifest(mp->l, mp->id, &mp->d, pm->mediatype, mp->len,
		    NULL, -1, pm->has_subject ? &pm->subject.digest : NULL);
	put_free(mp);
}

/* Task thread: parse, validate and hash the body. */
static void
put_parse(void *arg)
{
	struct mput *mp = arg;

	mp->prc = oci_manifest_parse(mp->body, mp->len, *mp->ctype ?
	    mp->ctype : NULL, &mp->pm, mp->err, sizeof(mp->err));
	if (mp->prc == 0)
		digest_buf(mp->ref.is_digest ? mp->ref.d.alg : DIGEST_SHA256,
		    mp->body, mp->len, &mp->d);
}

/* In the loop: the body is parsed; check it against the reference and the
 * repository, then queue the write. */
static void
put_checked(void *arg)
{
	char text[300], dg[DIGEST_STRMAX];
	struct mput *mp = arg;
	struct digest missing;

	if (mp->prc != 0) {
		put_fail(mp, RE_MANIFEST_INVALID, mp->err);
		return;
	}
	if (mp->ref.is_digest && !digest_equal(&mp->d, &mp->ref.d)) {
		put_fail(mp, RE_DIGEST_INVALID,
		    "manifest digest does not match the reference");
		return;
	}
	if (!mp->cached && refs_missing(mp->repo, &mp->pm, &missing) == -1) {
		(void)digest_format(&missing, dg, sizeof(dg));
		(void)snprintf(text, sizeof(text), "%s not found in %s", dg,
		    mp->repo);
		put_fail(mp, RE_MANIFEST_BLOB_UNKNOWN, text);
		return;
	}
	mp->checked = 1;
	gc_remember_manifest(&mp->d, &mp->pm);
	task_run(&writer, NULL, put_write, put_written, mp);
}

/* Validate and store a complete body (taken: malloc'd, freed here). */
static void
put_body(struct link *l, uint32_t id, const char *repo, const struct mref *ref,
    const char *ctype, char *body, size_t len, unsigned flags)
{
	struct mput *mp;

	if (nmputs >= MPUTS_MAX) {
		free(body);
		link_reply_err(l, id, RE_UNAVAILABLE, "too many manifest "
		    "uploads in progress");
		return;
	}
	mp = xcalloc(1, sizeof(*mp));
	mp->l = l;
	mp->id = id;
	mp->repo = xstrdup(repo);
	mp->ctype = xstrdup(ctype);
	mp->ref = *ref;
	if (!ref->is_digest)
		mp->ref.tag = mp->tag = xstrdup(ref->tag);
	mp->body = body;
	mp->len = len;
	mp->cached = (flags & MANIFEST_F_CACHED) != 0;
	LIST_INSERT_HEAD(&mputs, mp, entry);
	nmputs++;
	if (len > PARSE_INLINE_MAX) {
		task_run(NULL, NULL, put_parse, put_checked, mp);
		return;
	}
	put_parse(mp);
	put_checked(mp);
}

/* put_body for a request whose strings live in the message. */
static void
put_msg(struct link *l, struct msg *m, const char *repo,
    const struct mref *ref, char *body, size_t len)
{
	put_body(l, m->id, repo, ref, msg_str(m, A_MEDIATYPE), body, len,
	    (unsigned)msg_u64(m, A_FLAGS, 0));
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
	put_body(r->l, r->id, r->repo, &ref, r->ctype, r->buf, r->len, 0);
	r->buf = NULL;
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
	char *body;
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
	body = xmalloc(size ? (size_t)size : 1);
	if (size > 0)
		memcpy(body, m->v[A_BODY].p, (size_t)size);
	put_msg(l, m, repo, &ref, body, (size_t)size);
	return;
fail:
	if (fd != -1)
		close(fd);
}

/* --- DELETE --- */

/* Forget a DELETE. */
static void
del_free(struct mdel *md)
{
	size_t i;

	LIST_REMOVE(md, entry);
	nmdels--;
	for (i = 0; i < md->ntags; i++)
		free(md->tags[i]);
	free(md->tags);
	free(md->tag);
	free(md->repo);
	free(md);
}

static void	gc_prepare(struct mdel *, struct repo *);

/* In the loop, when the writer gets to it: what there is to remove now
 * that every change queued before it is in the index. */
static void
del_prepare(void *arg)
{
	struct mdel *md = arg;
	struct repo *r = repo_find(md->repo);
	struct digest td;
	size_t i;

	if (md->gc) {
		gc_prepare(md, r);
		return;
	}
	if (r == NULL || (md->ref.is_digest ? repo_rev(r, &md->ref.d) == NULL :
	    repo_tag(r, md->tag) == NULL)) {
		md->gone = 1;
		return;
	}
	if (!md->ref.is_digest) {
		md->tags = xcalloc(1, sizeof(*md->tags));
		md->tags[md->ntags++] = xstrdup(md->tag);
		return;
	}
	md->tags = xcalloc(r->ntags ? r->ntags : 1, sizeof(*md->tags));
	for (i = 0; i < r->ntags; i++) {
		tag_digest(&r->tags[i], &td);
		if (digest_equal(&td, &md->ref.d))
			md->tags[md->ntags++] = xstrdup(r->tags[i].name);
	}
}

/* Writer thread: remove the tags, then (by digest) the revision link, so
 * a crash never leaves a tag whose revision is gone. */
static void
del_write(void *arg)
{
	struct mdel *md = arg;
	char p[STORE_PATHMAX];

	md->werr = 0;
	if (md->gone)
		return;
	for (; md->ndone < md->ntags; md->ndone++) {
		if (path_tag_dir(p, sizeof(p), md->repo,
		    md->tags[md->ndone]) == -1) {
			md->werr = EINVAL;
			return;
		}
		if (store_remove_tree(p) == -1 && errno != ENOENT) {
			md->werr = errno;
			return;
		}
	}
	if (!md->ref.is_digest)
		return;
	if (path_rev_link(p, sizeof(p), md->repo, &md->ref.d) == -1)
		md->werr = EINVAL;
	else if (store_link_remove(p) == -1 && errno != ENOENT)
		md->werr = errno;
}

/* In the loop: take out of the index what left the disk, then answer. */
static void
del_done(void *arg)
{
	struct mdel *md = arg;
	struct repo *r = repo_find(md->repo);
	size_t i;

	for (i = 0; r && i < md->ndone; i++)
		repo_del_tag(r, md->tags[i]);
	if (r && md->werr == 0 && !md->gone && md->ref.is_digest)
		repo_del_rev(r, &md->ref.d);
	if (md->werr != 0) {
		errno = md->werr;
		log_warn("%s: delete manifest", md->repo);
		if (md->l)
			link_reply_err(md->l, md->id, RE_INTERNAL,
			    "delete manifest");
	} else if (md->l && md->refused)
		link_reply_err(md->l, md->id, RE_DENIED, "in use");
	else if (md->l && md->gone)
		link_reply_err(md->l, md->id, RE_MANIFEST_UNKNOWN, NULL);
	else if (md->l) {
		log_debug("%s: deleted %s%s", md->repo, md->tag ? md->tag :
		    "", md->tag ? "" : md->ref.d.hex);
		link_reply_done(md->l, md->id);
	}
	del_free(md);
}

/* 1 if repo's revision link to d was written, or d pulled, within
 * gc.grace: a client may be fetching what it names. */
static int
rev_young(const char *repo, const struct digest *d)
{
	char p[STORE_PATHMAX];
	struct stat st;

	if (time(NULL) - pulls_pending(repo, d) < (time_t)conf_int(P_GC_GRACE))
		return 1;
	if (path_rev_link(p, sizeof(p), repo, d) == -1 ||
	    fstatat(store_rootfd(), p, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	return time(NULL) - st.st_mtime < (time_t)conf_int(P_GC_GRACE);
}

/* gcd's delete, when the writer gets to it: a tag only if it still names
 * what gcd saw; a revision only if no tag names it and nothing since the
 * mark began needs it.  A revision leaves the index at once, so a PUT
 * checked from now on no longer finds it as a child or subject. */
static void
gc_prepare(struct mdel *md, struct repo *r)
{
	struct minfo *mi;
	struct itag *t;
	struct digest td;

	if (r == NULL || (mi = repo_rev(r, &md->want)) == NULL) {
		md->gone = 1;
		return;
	}
	if (md->tag != NULL) {
		if ((t = repo_tag(r, md->tag)) != NULL)
			tag_digest(t, &td);
		if (t == NULL || !digest_equal(&td, &md->want) ||
		    gc_remembered(&md->want)) {
			md->gone = md->refused = 1;
			return;
		}
		md->tags = xcalloc(1, sizeof(*md->tags));
		md->tags[md->ntags++] = xstrdup(md->tag);
		return;
	}
	for (size_t i = 0; i < r->ntags; i++) {
		tag_digest(&r->tags[i], &td);
		if (digest_equal(&td, &md->want))
			md->refused = 1;
	}
	if (md->refused || gc_remembered(&md->want) ||
	    rev_young(md->repo, &md->want)) {
		md->gone = md->refused = 1;
		return;
	}
	repo_del_rev(r, &md->want);
}

/* M_GC_MANIFEST from gcd: a tag (A_REF) that still names A_DIGEST, or
 * the untagged revision A_DIGEST; deletes need not be enabled. */
void
manifest_gc(struct link *l, struct msg *m)
{
	const char *repo, *tag = msg_str(m, A_REF);
	struct digest d;
	struct mdel *md;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_digest(l, m, A_DIGEST, &d) == -1)
		return;
	if (tag != NULL && !oci_tag_valid(tag)) {
		link_reply_err(l, m->id, RE_TAG_INVALID, "invalid tag");
		return;
	}
	md = xcalloc(1, sizeof(*md));
	md->l = l;
	md->id = m->id;
	md->repo = xstrdup(repo);
	md->gc = 1;
	md->want = d;
	md->ref.is_digest = tag == NULL;
	md->ref.d = d;
	if (tag != NULL)
		md->ref.tag = md->tag = xstrdup(tag);
	LIST_INSERT_HEAD(&mdels, md, entry);
	nmdels++;
	task_run(&writer, del_prepare, del_write, del_done, md);
}

/* A collection begins: the PUTs past their check may reach the disk after
 * gcd read the repository, so their references count as used. */
void
manifest_gc_inflight(void)
{
	struct mput *mp;

	LIST_FOREACH(mp, &mputs, entry)
		if (mp->checked)
			gc_remember_manifest(&mp->d, &mp->pm);
}

/* M_MANIFEST_DELETE: a revision and its tags, or one tag. */
void
manifest_delete(struct link *l, struct msg *m)
{
	const char *repo;
	struct mref ref;
	struct repo *r;
	struct mdel *md;

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
	md = xcalloc(1, sizeof(*md));
	md->l = l;
	md->id = m->id;
	md->repo = xstrdup(repo);
	md->ref = ref;
	if (!ref.is_digest)
		md->ref.tag = md->tag = xstrdup(ref.tag);
	LIST_INSERT_HEAD(&mdels, md, entry);
	nmdels++;
	task_run(&writer, del_prepare, del_write, del_done, md);
}

/* Forget the PUTs of a link that is going away; the ones past their body
 * go on without an answer. */
void
manifest_link_gone(struct link *l)
{
	struct mread *r, *next;
	struct mput *mp;
	struct mdel *md;

	for (r = mreads; r; r = next) {
		next = r->next;
		if (r->l == l)
			mread_free(r);
	}
	LIST_FOREACH(mp, &mputs, entry)
		if (mp->l == l)
			mp->l = NULL;
	LIST_FOREACH(md, &mdels, entry)
		if (md->l == l)
			md->l = NULL;
}

/* PUTs and DELETEs in flight (stop waits for them). */
size_t
manifest_busy(void)
{
	return nmreads + nmputs + nmdels;
}
