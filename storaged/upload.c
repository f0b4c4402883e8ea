/*
 * upload.c - blob upload sessions.  The session lives on disk as
 * _uploads/<uuid>/{data,startedat} (Distribution's layout; the size of data
 * is the upload offset, so nothing else has to agree with it).  In memory a
 * session keeps a running hash; bodies arrive through a pipe that a
 * copier thread drains into the data file (copier.c), so neither a slow
 * client nor a slow disk holds up the others.  A commit whose
 * hash is not current (storaged restarted, a chunk was rolled back, another
 * algorithm was asked for) hashes the data in steps between other work.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "copier.h"
#include "ev.h"
#include "index.h"
#include "log.h"
#include "regerr.h"
#include "store.h"
#include "storaged.h"
#include "task.h"
#include "util.h"

#define CHUNK		(256 * 1024)
#define HASH_STEP	(8 * 1024 * 1024)	/* per loop turn in a commit */
#define UPLOADS_IN_MEMORY 1024		/* idle sessions beyond are dropped */

struct uwrite;
struct ujob;
struct ucommit;

struct upload {
	struct upload	*prev, *next;	/* most recently used first */
	char		*repo;
	char		 uuid[UUID_LEN + 1];
	uint64_t	 size;		/* of the data file */
	struct hasher	*h;		/* covers [0, hashed); NULL if none */
	enum digest_alg	 halg;
	uint64_t	 hashed;
	struct uwrite	*w;		/* a write in progress */
	struct ujob	*job;		/* a commit hashing the rest */
	struct ucommit	*committing;	/* a commit's disk work in flight */
};

/* A PATCH/PUT body being copied from a pipe into data. */
struct uwrite {
	struct upload	*u;
	struct link	*l;
	uint32_t	 id;
	int		 pipefd;
	int		 datafd;
	uint64_t	 start;
	uint64_t	 length;	/* announced, or UINT64_MAX */
	int		 hashing;	/* the copier feeds u->h */
	struct copier	*c;		/* NULL once it ended */
};

/* A commit waiting for the hash to catch up with the data. */
struct ujob {
	struct upload	*u;
	struct link	*l;
	uint32_t	 id;
	struct digest	 want;
	int		 datafd;
	struct ev_timer	 timer;
};

static struct upload *head, *tail;
static size_t nuploads;
static char iobuf[CHUNK];

/* Put u at the head of the list of sessions. */
static void
list_push(struct upload *u)
{
	u->prev = NULL;
	u->next = head;
	if (head)
		head->prev = u;
	head = u;
	if (tail == NULL)
		tail = u;
}

/* Take u off the list of sessions. */
static void
list_unlink(struct upload *u)
{
	if (u->prev)
		u->prev->next = u->next;
	else
		head = u->next;
	if (u->next)
		u->next->prev = u->prev;
	else
		tail = u->prev;
	u->prev = u->next = NULL;
}

static void	commit_finish(struct upload *, struct link *, uint32_t,
		    const struct digest *);

/* Forget a session's memory (not its files). */
static void
upload_drop(struct upload *u)
{
	if (u->w || u->job || u->committing)
		fatalx("dropping a busy upload");
	list_unlink(u);
	nuploads--;
	hasher_free(u->h);
	free(u->repo);
	free(u);
}

/* Drop idle sessions beyond the bound; their hash is rebuilt if needed. */
static void
upload_trim(void)
{
	struct upload *u, *prev;

	for (u = tail; u && u != head && nuploads > UPLOADS_IN_MEMORY;
	    u = prev) {
		prev = u->prev;
		if (!u->w && !u->job && !u->committing)
			upload_drop(u);
	}
}

/* A session in memory; a fresh (empty) one gets a sha256 hasher at once. */
static struct upload *
upload_new(const char *repo, const char *uuid, uint64_t size)
{
	struct upload *u = xcalloc(1, sizeof(*u));

	u->repo = xstrdup(repo);
	memcpy(u->uuid, uuid, UUID_LEN + 1);
	u->size = size;
	if (size == 0) {
		u->h = hasher_new(DIGEST_SHA256);
		u->halg = DIGEST_SHA256;
	}
	list_push(u);
	nuploads++;
	upload_trim();
	return u;
}

/* The session repo/uuid, from memory or else from disk; NULL if unknown. */
static struct upload *
upload_find(const char *repo, const char *uuid)
{
	char p[STORE_PATHMAX];
	struct upload *u;
	struct stat st;

	for (u = head; u; u = u->next) {
		if (strcmp(u->uuid, uuid) == 0 && strcmp(u->repo, repo) == 0) {
			list_unlink(u);
			list_push(u);
			return u;
		}
	}
	if (path_upload(p, sizeof(p), repo, uuid, "data") == -1 ||
	    fstatat(store_rootfd(), p, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode))
		return NULL;
	return upload_new(repo, uuid, (uint64_t)st.st_size);
}

/* Validate repo and uuid and find the session; answers the error itself. */
static struct upload *
req_upload(struct link *l, struct msg *m)
{
	const char *repo, *uuid = msg_str(m, A_UUID);
	struct upload *u;

	if (req_repo(l, m, A_REPO, &repo) == -1)
		return NULL;
	if (uuid == NULL || !uuid_valid(uuid) ||
	    (u = upload_find(repo, uuid)) == NULL) {
		link_reply_err(l, m->id, RE_BLOB_UPLOAD_UNKNOWN, NULL);
		return NULL;
	}
	return u;
}

/* M_UPLOAD{uuid, offset = size of the data}. */
static void
reply_upload(struct link *l, uint32_t id, const struct upload *u)
{
	struct msgb mb;

	msgb_init(&mb, M_UPLOAD);
	msgb_str(&mb, A_UUID, u->uuid);
	msgb_u64(&mb, A_OFFSET, u->size);
	link_reply(l, id, &mb);
}

/* Create a file under the root holding s (not content: no fsync). */
static int
small_file(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd;

	if ((fd = openat(store_rootfd(), path, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0640)) == -1)
		return -1;
	if (len && write(fd, s, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* RFC 3339 UTC time, as Distribution writes startedat. */
static void
rfc3339_now(char *out, size_t len)
{
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	(void)strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* M_UPLOAD_START: _uploads/<uuid>/{data,startedat}. */
void
upload_start(struct link *l, struct msg *m)
{
	char dir[STORE_PATHMAX], data[STORE_PATHMAX], sa[STORE_PATHMAX];
	char uuid[UUID_LEN + 1], now[64];
	const char *repo;

	if (req_repo(l, m, A_REPO, &repo) == -1)
		return;
	uuid_new(uuid);
	if (path_upload(dir, sizeof(dir), repo, uuid, NULL) == -1 ||
	    path_upload(data, sizeof(data), repo, uuid, "data") == -1 ||
	    path_upload(sa, sizeof(sa), repo, uuid, "startedat") == -1) {
		link_reply_err(l, m->id, RE_NAME_INVALID, "name too long");
		return;
	}
	rfc3339_now(now, sizeof(now));
	if (store_mkdirs(dir) == -1 || small_file(data, "") == -1 ||
	    small_file(sa, now) == -1) {
		reply_internal(l, m->id, "create upload");
		(void)store_remove_tree(dir);
		return;
	}
	(void)repo_get(repo);
	reply_upload(l, m->id, upload_new(repo, uuid, 0));
}

/* M_UPLOAD_STATUS: the current offset. */
void
upload_status(struct link *l, struct msg *m)
{
	struct upload *u;

	if ((u = req_upload(l, m)) != NULL)
		reply_upload(l, m->id, u);
}

/* --- writes --- */

/* What the copier wrote is now the session's: data size and hash. */
static void
write_account(struct uwrite *w, const struct copy_result *r)
{
	w->u->size = w->start + r->copied;
	if (w->hashing)
		w->u->hashed = w->u->size;
}

static void	on_copied(void *, const struct copy_result *);

/* Stop a write: no answer (the caller gave one or the link is gone). The
 * whole chunks copied so far stay, and the data size is the offset; a copy
 * that had ended on its own is settled as its callback would have, with
 * nobody to answer (a failed body is rolled back). */
static void
write_end(struct uwrite *w)
{
	struct copier *c = w->c;
	struct copy_result r;

	if (c) {
		w->c = NULL;
		copier_stop(c, &r);
		if (r.status != COPY_STOPPED) {
			w->l = NULL;
			on_copied(w, &r);	/* ends in write_end again */
			return;
		}
		write_account(w, &r);
		if (ftruncate(w->datafd, (off_t)w->u->size) == -1)
			log_warn("upload %s: truncate to %llu", w->u->uuid,
			    (unsigned long long)w->u->size);
	}
	close(w->pipefd);
	close(w->datafd);
	w->u->w = NULL;
	free(w);
}

/* Roll the data back to where this write started and answer code. */
static void
write_fail(struct uwrite *w, int code, const char *text)
{
	struct upload *u = w->u;

	if (code == RE_INTERNAL)
		log_warn("upload %s: %s", u->uuid, text);
	u->size = w->start;
	if (ftruncate(w->datafd, (off_t)w->start) == -1) {
		struct stat st;
		log_warn("truncate upload %s back", u->uuid);
		if (fstat(w->datafd, &st) == -1)
			fatal("fstat upload %s", u->uuid);
		u->size = (uint64_t)st.st_size;
	}
	if (u->hashed > u->size) {
		/* the hash cannot be rolled back: rebuilt at commit */
		hasher_free(u->h);
		u->h = NULL;
		u->hashed = 0;
	}
	if (w->l)
		link_reply_err(w->l, w->id, code, text);
	write_end(w);
}

/* The body ended: check the announced length and answer. */
static void
write_done(struct uwrite *w)
{
	struct upload *u = w->u;

	if (w->length != UINT64_MAX && u->size - w->start != w->length) {
		write_fail(w, RE_SIZE_INVALID, "body length differs from "
		    "Content-Length");
		return;
	}
	if (w->l)
		reply_upload(w->l, w->id, u);
	write_end(w);
}

/* The copier ended: account for its bytes and answer. */
static void
on_copied(void *arg, const struct copy_result *r)
{
	struct uwrite *w = arg;

	w->c = NULL;
	write_account(w, r);
	switch (r->status) {
	case COPY_STOPPED:	/* never a callback's: write_end keeps them */
		write_end(w);
		break;
	case COPY_EOF:
		write_done(w);
		break;
	case COPY_TOO_LONG:
		write_fail(w, RE_SIZE_INVALID, "body longer than Content-Length");
		break;
	case COPY_READ_ERR:
		errno = r->err;
		write_fail(w, RE_INTERNAL, "read upload body");
		break;
	case COPY_WRITE_ERR:
		errno = r->err;
		write_fail(w, RE_INTERNAL, "write upload data");
		break;
	}
}

/* Check the offset, the descriptor and the session are fit for a write. */
static int
write_check(struct link *l, struct msg *m, struct upload *u, int fd)
{
	uint64_t off = msg_u64(m, A_OFFSET, 0);
	struct stat st;

	if (u->w || u->job || u->committing) {
		link_reply_err(l, m->id, RE_BLOB_UPLOAD_INVALID,
		    "another request on this upload is in progress");
		return -1;
	}
	if (off != UINT64_MAX && off != u->size) {
		link_reply_err(l, m->id, RE_RANGE_INVALID, NULL);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !(S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)) || fd_set_nonblock(fd) == -1) {
		errno = EINVAL;
		reply_internal(l, m->id, "upload body is not a pipe");
		return -1;
	}
	return 0;
}

/* Hand the body to a copier thread; answer at once if none can be had. */
static void
write_begin(struct uwrite *w)
{
	struct upload *u = w->u;
	struct copy_spec spec = {
		.pipefd = w->pipefd, .datafd = w->datafd, .off = w->start,
		.limit = w->length, .writeback = store_fsync_on(),
	};

	w->hashing = u->h != NULL && u->hashed == u->size;
	spec.h = w->hashing ? u->h : NULL;
	u->w = w;
	if ((w->c = copier_start(&spec, on_copied, w)) != NULL)
		return;
	if (errno == EBUSY)
		link_reply_err(w->l, w->id, RE_TOOMANYREQUESTS,
		    "too many uploads at once");
	else
		reply_internal(w->l, w->id, "start upload copier");
	write_end(w);
}

/* M_UPLOAD_WRITE: a copier thread moves the pipe's bytes to the data file. */
void
upload_write(struct link *l, struct msg *m)
{
	char p[STORE_PATHMAX];
	struct uwrite *w;
	struct upload *u;
	int fd = msg_take_fd(m, A_FD), datafd;

	if ((u = req_upload(l, m)) == NULL || write_check(l, m, u, fd) == -1) {
		close(fd);
		return;
	}
	if (path_upload(p, sizeof(p), u->repo, u->uuid, "data") == -1 ||
	    (datafd = openat(store_rootfd(), p, O_WRONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		close(fd);
		reply_internal(l, m->id, "open upload data");
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->u = u;
	w->l = l;
	w->id = m->id;
	w->pipefd = fd;
	w->datafd = datafd;
	w->start = u->size;
	w->length = msg_has(m, A_LENGTH) ? msg_u64(m, A_LENGTH, 0) :
	    UINT64_MAX;
	write_begin(w);
}

/* --- commit and cancel --- */

/* Stop a commit's hashing job (the hash keeps what it covered). */
static void
job_end(struct ujob *j)
{
	ev_timer_cancel(&j->timer);
	close(j->datafd);
	j->u->job = NULL;
	free(j);
}

/* Hash the next step of data; finish the commit when caught up. */
static void
job_step(void *arg)
{
	struct ujob *j = arg;
	struct upload *u = j->u;
	uint64_t stop = u->hashed + HASH_STEP;
	struct link *l = j->l;
	uint32_t id = j->id;
	struct digest want = j->want;
	ssize_t n;

	while (u->hashed < u->size && u->hashed < stop) {
		size_t want_n = sizeof(iobuf);
		if (u->size - u->hashed < want_n)
			want_n = (size_t)(u->size - u->hashed);
		n = pread(j->datafd, iobuf, want_n, (off_t)u->hashed);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			job_end(j);
			reply_internal(l, id, "read upload data");
			return;
		}
		hasher_update(u->h, iobuf, (size_t)n);
		u->hashed += (uint64_t)n;
	}
	if (u->hashed < u->size) {
		ev_timer_arm(&j->timer, 1);
		return;
	}
	job_end(j);
	commit_finish(u, l, id, &want);
}

/* Hash data from u->hashed to the end between other work, then commit. */
static void
job_start(struct upload *u, struct link *l, uint32_t id,
    const struct digest *want)
{
	char p[STORE_PATHMAX];
	struct ujob *j;
	int fd;

	if (path_upload(p, sizeof(p), u->repo, u->uuid, "data") == -1 ||
	    (fd = openat(store_rootfd(), p, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		reply_internal(l, id, "open upload data");
		return;
	}
	log_debug("upload %s: hashing %llu bytes before commit", u->uuid,
	    (unsigned long long)(u->size - u->hashed));
	j = xcalloc(1, sizeof(*j));
	j->u = u;
	j->l = l;
	j->id = id;
	j->want = *want;
	j->datafd = fd;
	ev_timer_init(&j->timer, job_step, j);
	u->job = j;
	ev_timer_arm(&j->timer, 0);
}

/* A verified commit whose disk work (fsync, rename, link, removal of the
 * upload directory) runs on a task thread (task.c), off the loop. */
struct ucommit {
	struct upload	*u;		/* the thread never touches it */
	struct link	*l;		/* NULL once the link is gone */
	uint32_t	 id;
	char		 data[STORE_PATHMAX], dir[STORE_PATHMAX];
	char		 blobdir[STORE_PATHMAX], blob[STORE_PATHMAX];
	char		 link[STORE_PATHMAX];
	struct digest	 d;
	uint64_t	 size;
	const char	*failed;	/* what failed, or NULL */
	int		 moved;		/* the blob is in place */
	int		 err;
};

/* Task thread: make the data durable, move it to its blob path (if the blob
 * is already there, ours goes with the upload directory), link it in the
 * repository, remove the upload directory. */
static void
commit_disk(void *arg)
{
	struct ucommit *c = arg;
	int fd, rc = 0;

	if (store_fsync_on()) {
		if ((fd = openat(store_rootfd(), c->data, O_RDONLY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			rc = -1;
		else {
			rc = fsync(fd);
			close(fd);
		}
	}
	if (rc == -1 || store_mkdirs(c->blobdir) == -1 ||
	    store_move_noreplace(c->data, c->blob) == -1) {
		c->failed = "move upload into place";
		c->err = errno;
		return;
	}
	c->moved = 1;
	if (store_link_write(c->link, &c->d) == -1) {
		c->failed = "link committed blob";
		c->err = errno;
		return;
	}
	if (store_remove_tree(c->dir) == -1)
		c->err = errno;		/* logged in the loop */
}

/* In the loop: the commit is on disk (or failed); answer, drop the session. */
static void
commit_done(void *arg)
{
	struct ucommit *c = arg;
	struct upload *u = c->u;

	u->committing = NULL;
	if (c->failed) {
		errno = c->err;
		log_warn("upload %s: %s", u->uuid, c->failed);
		if (c->l)
			link_reply_err(c->l, c->id, RE_INTERNAL, c->failed);
		if (c->moved)		/* its data is gone: so is the session */
			upload_drop(u);
		free(c);
		return;
	}
	if (c->err != 0) {
		errno = c->err;
		log_warn("remove upload %s", u->uuid);
	}
	(void)repo_get(u->repo);
	log_debug("%s: committed %s (%llu bytes)", u->repo, c->d.hex,
	    (unsigned long long)c->size);
	if (c->l)
		reply_blob(c->l, c->id, &c->d, c->size, -1);
	upload_drop(u);
	free(c);
}

/* The hash covers all data: check it, then move, link and clean up on a
 * task thread. */
static void
commit_finish(struct upload *u, struct link *l, uint32_t id,
    const struct digest *want)
{
	struct ucommit *c;
	struct digest got;

	hasher_peek(u->h, &got);
	if (!digest_equal(&got, want)) {
		link_reply_err(l, id, RE_DIGEST_INVALID, NULL);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	if (path_upload(c->data, sizeof(c->data), u->repo, u->uuid,
	    "data") == -1 || path_upload(c->dir, sizeof(c->dir), u->repo,
	    u->uuid, NULL) == -1 || path_blob_dir(c->blobdir,
	    sizeof(c->blobdir), want) == -1 || path_blob_data(c->blob,
	    sizeof(c->blob), want) == -1 || path_layer_link(c->link,
	    sizeof(c->link), u->repo, want) == -1) {
		free(c);
		errno = EINVAL;
		reply_internal(l, id, "move upload into place");
		return;
	}
	c->u = u;
	c->l = l;
	c->id = id;
	c->d = *want;
	c->size = u->size;
	u->committing = c;
	task_run(NULL, NULL, commit_disk, commit_done, c);
}

/* M_UPLOAD_COMMIT: hash what is not hashed yet, verify, move, link. */
void
upload_commit(struct link *l, struct msg *m)
{
	struct upload *u;
	struct digest d;

	if ((u = req_upload(l, m)) == NULL ||
	    req_digest(l, m, A_DIGEST, &d) == -1)
		return;
	if (u->w || u->job || u->committing) {
		link_reply_err(l, m->id, RE_BLOB_UPLOAD_INVALID,
		    "another request on this upload is in progress");
		return;
	}
	if (u->h == NULL || u->halg != d.alg) {
		hasher_free(u->h);
		u->h = hasher_new(d.alg);
		u->halg = d.alg;
		u->hashed = 0;
	}
	if (u->hashed == u->size)
		commit_finish(u, l, m->id, &d);
	else
		job_start(u, l, m->id, &d);
}

/* M_UPLOAD_CANCEL: stop what is in flight and remove the session. */
void
upload_cancel(struct link *l, struct msg *m)
{
	char dir[STORE_PATHMAX];
	struct upload *u;

	if ((u = req_upload(l, m)) == NULL)
		return;
	if (u->committing) {
		link_reply_err(l, m->id, RE_BLOB_UPLOAD_INVALID,
		    "the upload is being committed");
		return;
	}
	if (u->w) {
		if (u->w->l)
			link_reply_err(u->w->l, u->w->id,
			    RE_BLOB_UPLOAD_UNKNOWN, "upload cancelled");
		write_end(u->w);
	}
	if (u->job) {
		if (u->job->l)
			link_reply_err(u->job->l, u->job->id,
			    RE_BLOB_UPLOAD_UNKNOWN, "upload cancelled");
		job_end(u->job);
	}
	if (path_upload(dir, sizeof(dir), u->repo, u->uuid, NULL) == -1 ||
	    store_remove_tree(dir) == -1) {
		reply_internal(l, m->id, "remove upload");
		return;
	}
	upload_drop(u);
	link_reply_done(l, m->id);
}

/* The link l is going away: stop its writes where they are (the data file
 * keeps every byte written, and its size is the offset) and its commits
 * (the hash keeps what it covered). */
void
upload_link_gone(struct link *l)
{
	struct upload *u;

	/* all copies stop at once, then each is waited for */
	for (u = head; u; u = u->next)
		if (u->w && u->w->l == l && u->w->c)
			copier_cancel(u->w->c);
	for (u = head; u; u = u->next) {
		if (u->w && u->w->l == l)
			write_end(u->w);
		if (u->job && u->job->l == l)
			job_end(u->job);
		if (u->committing && u->committing->l == l)
			u->committing->l = NULL;	/* it goes on, unanswered */
	}
}

/* Writes and commits in flight (stop waits for them). */
size_t
upload_busy(void)
{
	struct upload *u;
	size_t n = 0;

	for (u = head; u; u = u->next)
		n +=  (u->w != NULL) + (u->job != NULL) +
		    (u->committing != NULL);
	return n;
}

/* Free every session's memory (tests, leak checks). */
void
upload_free_all(void)
{
	struct upload *u;

	for (u = head; u; u = u->next)
		if (u->w && u->w->c)
			copier_cancel(u->w->c);
	while ((u = head) != NULL) {
		if (u->w)
			write_end(u->w);
		if (u->job)
			job_end(u->job);
		/* we exit next: a commit's task is joined, never called back */
		u->committing = NULL;
		upload_drop(u);
	}
}
