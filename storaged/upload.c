/*
 * upload.c - blob upload sessions.  The session lives on disk as
 * _uploads/<uuid>/{data,startedat} (Distribution's layout; the size of data
 * is the upload offset, so nothing else has to agree with it).  In memory a
 * session keeps a running hash; bodies arrive through a pipe that a
 * copier thread drains into the data file (copier.c), so neither a slow
 * client nor a slow disk holds up the others.  A commit whose
 * hash is not current (storaged restarted, another algorithm was asked
 * for) hashes the data in steps between other work.
 *
 * A request's bytes count only once its whole body arrived: a body cut
 * short, malformed (httpd says so with M_UPLOAD_END) or abandoned with its
 * link is truncated away and the hash put back as it was.
 *
 * Every open session is known here (those found on disk are counted when
 * their repository is first scanned), so that sessions are bounded per
 * client address and per repository, and a timer removes the idle ones:
 * those no byte was written to for storage.upload_expiry (asking for the
 * status is no progress), and with no request writing or committing.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "copier.h"
#include "ev.h"
#include "index.h"
#include "log.h"
#include "regerr.h"
#include "store.h"
#include "storaged.h"
#include "task.h"
#include "ucount.h"
#include "util.h"

#define CHUNK		(256 * 1024)
#define HASH_STEP	(8 * 1024 * 1024)	/* per loop turn in a commit */
#define HASHERS_MAX	1024		/* idle sessions keeping a running hash */
#define EXPIRE_BUDGET	256		/* sessions removed per sweep step */
#define SWEEP_MORE_MS	10		/* pause between steps of a long sweep */
#define SCAN_STEP	64		/* repositories scanned per step */
#define SCAN_WAIT_MS	100		/* until the index knows every name */

struct uwrite;
struct ujob;
struct ucommit;

struct upload {
	struct upload	*prev, *next;	/* most recently used first */
	struct upload	*hnext;		/* in the uuid table */
	char		*repo;
	struct ucount	*rc;		/* its repository's count */
	struct ucount	*ac;		/* its client's, NULL if unknown */
	char		 uuid[UUID_LEN + 1];
	uint64_t	 size;		/* of the data file */
	time_t		 atime;		/* last written; wall clock, like mtimes */
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
	struct hasher	*hsave;		/* u->h as it was at start, if hashing */
	int		 confirm;	/* M_UPLOAD_END tells how the body ended */
	int		 ended;		/* END came: 1 clean (endlen), -1 failed */
	uint64_t	 endlen;
	int		 drained;	/* the pipe ended before END came */
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
static struct upload **utab;		/* by uuid */
static size_t utab_size, nuploads;
static struct ucount_tab by_addr, by_repo;
static struct ev_timer sweep_timer, scan_timer;
static char scan_last[OCI_NAME_MAX + 1];
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

/* The uuid table's bucket for uuid (the uuid is random: its hex will do). */
static struct upload **
utab_bucket(const char *uuid)
{
	size_t h = 0;

	for (int i = 0; i < 8; i++)
		h = h * 16 + (size_t)(uuid[i] <= '9' ? uuid[i] - '0' :
		    uuid[i] - 'a' + 10);
	return &utab[h & (utab_size - 1)];
}

/* Add u to the uuid table, doubling it when it is full. */
static void
utab_add(struct upload *u)
{
	struct upload **old = utab, *e, *next;
	size_t oldsize = utab_size;

	if (nuploads >= utab_size) {
		utab_size = utab_size ? utab_size * 2 : 256;
		utab = xcalloc(utab_size, sizeof(*utab));
		for (size_t i = 0; i < oldsize; i++)
			for (e = old[i]; e; e = next) {
				struct upload **b = utab_bucket(e->uuid);
				next = e->hnext;
				e->hnext = *b;
				*b = e;
			}
		free(old);
	}
	u->hnext = *utab_bucket(u->uuid);
	*utab_bucket(u->uuid) = u;
}

/* Take u out of the uuid table. */
static void
utab_del(struct upload *u)
{
	struct upload **pp;

	for (pp = utab_bucket(u->uuid); *pp; pp = &(*pp)->hnext)
		if (*pp == u) {
			*pp = u->hnext;
			return;
		}
	fatalx("upload %s not in its table", u->uuid);
}

/* The session uuid if known (uuids are unique across repositories). */
static struct upload *
utab_find(const char *uuid)
{
	struct upload *u;

	if (utab_size == 0)
		return NULL;
	for (u = *utab_bucket(uuid); u; u = u->hnext)
		if (strcmp(u->uuid, uuid) == 0)
			return u;
	return NULL;
}

static void	commit_finish(struct upload *, struct link *, uint32_t,
		    const struct digest *);

/* A request writes to the session, hashes it or commits it right now. */
static int
upload_busy_now(const struct upload *u)
{
	return u->w != NULL || u->job != NULL || u->committing != NULL;
}

/* The session is over (committed, cancelled, expired): forget it and free
 * its slots (not its files). */
static void
upload_drop(struct upload *u)
{
	if (upload_busy_now(u))
		fatalx("dropping a busy upload");
	list_unlink(u);
	utab_del(u);
	nuploads--;
	ucount_dec(&by_repo, u->rc);
	if (u->ac)
		ucount_dec(&by_addr, u->ac);
	hasher_free(u->h);
	free(u->repo);
	free(u);
}

/* A session in memory, counted for its repository and client (addr, or
 * NULL when found on disk); a fresh (empty) one gets a sha256 hasher. */
static struct upload *
upload_new(const char *repo, const char *uuid, uint64_t size,
    const char *addr, time_t atime)
{
	struct upload *u = xcalloc(1, sizeof(*u));

	u->repo = xstrdup(repo);
	memcpy(u->uuid, uuid, UUID_LEN + 1);
	u->size = size;
	u->atime = atime;
	if (size == 0) {
		u->h = hasher_new(DIGEST_SHA256);
		u->halg = DIGEST_SHA256;
	}
	u->rc = ucount_get(&by_repo, repo, 1);
	u->rc->n++;
	if (addr) {
		u->ac = ucount_get(&by_addr, addr, 1);
		u->ac->n++;
	}
	list_push(u);
	utab_add(u);
	nuploads++;
	return u;
}

/* One entry of a repository's _uploads seen by a scan: counted if it is a
 * session we did not know, removed if it is a broken one long idle. */
static void
scan_entry(const char *repo, int dfd, const char *dir, const char *name,
    time_t cutoff)
{
	char data[UUID_LEN + 8];
	struct stat st;

	if (!uuid_valid(name) || utab_find(name))
		return;
	(void)snprintf(data, sizeof(data), "%.*s/data", UUID_LEN, name);
	if (fstatat(dfd, data, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode)) {
		(void)upload_new(repo, name, (uint64_t)st.st_size, NULL,
		    st.st_mtime);
		return;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_mtime < cutoff) {
		log_info("%s: removing broken upload %s", repo, name);
		(void)store_remove_at(dfd, dir, name);
	}
}

/* Count the sessions of repo that are on disk, once: after that every
 * session of it is known (a scan finds nothing new), until it has none
 * left.  The count, or NULL when repo has none. */
static struct ucount *
repo_scan(const char *repo)
{
	char p[STORE_PATHMAX];
	struct ucount *rc = ucount_get(&by_repo, repo, 0);
	struct dirent *de;
	time_t cutoff = time(NULL) - (time_t)conf_int(P_STORAGE_UPLOAD_EXPIRY);
	DIR *dir;
	int fd;

	if ((rc && rc->scanned) || path_repo(p, sizeof(p), repo,
	    "_uploads") == -1 || (fd = openat(store_rootfd(), p, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return rc;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return rc;
	}
	while ((de = readdir(dir)) != NULL)
		scan_entry(repo, dirfd(dir), p, de->d_name, cutoff);
	closedir(dir);
	if ((rc = ucount_get(&by_repo, repo, 0)) != NULL)
		rc->scanned = 1;
	return rc;
}

/* The session repo/uuid, from memory or else from disk; NULL if unknown. */
static struct upload *
upload_find(const char *repo, const char *uuid)
{
	char p[STORE_PATHMAX];
	struct upload *u;
	struct stat st;

	if ((u = utab_find(uuid)) == NULL) {
		(void)repo_scan(repo);
		u = utab_find(uuid);
	}
	if (u && strcmp(u->repo, repo) == 0) {
		list_unlink(u);
		list_push(u);
		return u;
	}
	/* another writer's session (or a uuid of another repository) */
	if (u || path_upload(p, sizeof(p), repo, uuid, "data") == -1 ||
	    fstatat(store_rootfd(), p, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode))
		return NULL;
	return upload_new(repo, uuid, (uint64_t)st.st_size, NULL, time(NULL));
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
	char hex[DIGEST_STRMAX];
	struct digest d;
	struct msgb mb;

	msgb_init(&mb, M_UPLOAD);
	msgb_str(&mb, A_UUID, u->uuid);
	msgb_u64(&mb, A_OFFSET, u->size);
	/* the digest of the data so far, when the copier hashed all of it:
	 * the cache's fetch lets its clients have a blob's last byte on
	 * this, without waiting for the commit's fsync */
	if (u->h != NULL && u->size > 0 && u->hashed == u->size) {
		hasher_peek(u->h, &d);
		if (digest_format(&d, hex, sizeof(hex)) == 0)
			msgb_str(&mb, A_DIGEST, hex);
	}
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

/* The client address httpd sent, if any; -1 (answered) if malformed. */
static int
req_addr(struct link *l, const struct msg *m, const char **addr)
{
	const char *a = msg_str(m, A_ADDR);
	size_t n;

	*addr = NULL;
	if (!msg_has(m, A_ADDR))
		return 0;
	n = a ? strlen(a) : 0;
	if (n == 0 || n >= 64 || strspn(a, "0123456789abcdefABCDEF.:%"
	    "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ_-") != n) {
		errno = EINVAL;
		reply_internal(l, m->id, "bad client address");
		return -1;
	}
	*addr = a;
	return 0;
}

/* Refuse a session past the bounds of its repository or client address:
 * 0 it may open, -1 answered 429. */
static int
quota_check(struct link *l, uint32_t id, const char *repo, const char *addr)
{
	struct ucount *rc = repo_scan(repo);
	struct ucount *ac = addr ? ucount_get(&by_addr, addr, 0) : NULL;
	unsigned nr = rc ? rc->n : 0;
	int64_t maxr = conf_int(P_STORAGE_UPLOADS_REPO);
	int64_t maxa = conf_int(P_STORAGE_UPLOADS_ADDR);
	char text[256];

	if ((int64_t)nr >= maxr)
		(void)snprintf(text, sizeof(text), "too many open upload "
		    "sessions in this repository (%lld): finish or cancel "
		    "some, or wait until idle ones expire", (long long)maxr);
	else if (ac && (int64_t)ac->n >= maxa)
		(void)snprintf(text, sizeof(text), "too many open upload "
		    "sessions from this address (%lld): finish or cancel "
		    "some, or wait until idle ones expire", (long long)maxa);
	else
		return 0;
	log_info("%s: upload refused for %s: %s", repo, addr ? addr : "?",
	    text);
	link_reply_err(l, id, RE_TOOMANYREQUESTS, text);
	return -1;
}

/* M_UPLOAD_START: _uploads/<uuid>/{data,startedat}. */
void
upload_start(struct link *l, struct msg *m)
{
	char dir[STORE_PATHMAX], data[STORE_PATHMAX], sa[STORE_PATHMAX];
	char uuid[UUID_LEN + 1], now[64];
	const char *repo, *addr;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_addr(l, m, &addr) == -1)
		return;
	uuid_new(uuid);
	if (path_upload(dir, sizeof(dir), repo, uuid, NULL) == -1 ||
	    path_upload(data, sizeof(data), repo, uuid, "data") == -1 ||
	    path_upload(sa, sizeof(sa), repo, uuid, "startedat") == -1) {
		link_reply_err(l, m->id, RE_NAME_INVALID, "name too long");
		return;
	}
	if (quota_check(l, m->id, repo, addr) == -1)
		return;
	rfc3339_now(now, sizeof(now));
	if (store_mkdirs(dir) == -1 || small_file(data, "") == -1 ||
	    small_file(sa, now) == -1) {
		reply_internal(l, m->id, "create upload");
		(void)store_remove_tree(dir);
		return;
	}
	(void)repo_get(repo);
	reply_upload(l, m->id, upload_new(repo, uuid, 0, addr, time(NULL)));
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

/* The write is settled (answered, or nobody to answer): free it. */
static void
write_end(struct uwrite *w)
{
	if (w->c)
		fatalx("upload %s: ending a write still copying", w->u->uuid);
	close(w->pipefd);
	close(w->datafd);
	hasher_free(w->hsave);
	w->u->w = NULL;
	w->u->atime = time(NULL);
	free(w);
}

/* Roll the data back to where this write started (and the hash with it),
 * answer code if someone waits, and end the write. */
static void
write_fail(struct uwrite *w, int code, const char *text)
{
	struct upload *u = w->u;

	if (code == RE_INTERNAL)
		log_warn("upload %s: %s", u->uuid, text);
	else
		log_debug("upload %s: %s; back to %llu", u->uuid, text,
		    (unsigned long long)w->start);
	u->size = w->start;
	if (ftruncate(w->datafd, (off_t)w->start) == -1) {
		struct stat st;
		log_warn("truncate upload %s back", u->uuid);
		if (fstat(w->datafd, &st) == -1)
			fatal("fstat upload %s", u->uuid);
		u->size = (uint64_t)st.st_size;
	}
	if (w->hsave) {
		hasher_free(u->h);
		u->h = w->hsave;
		w->hsave = NULL;
		u->hashed = w->start;
	} else if (u->hashed > u->size) {
		/* no state to go back to: rebuilt at commit */
		hasher_free(u->h);
		u->h = NULL;
		u->hashed = 0;
	}
	if (u->hashed > u->size)	/* truncate failed below start */
		fatalx("upload %s: hash past the data", u->uuid);
	if (w->l)
		link_reply_err(w->l, w->id, code, text);
	write_end(w);
}

/* Stop a write nobody will be answered for (its link went, the upload is
 * cancelled, storaged stops): the copy is stopped and, since its body
 * did not arrive whole, undone. */
static void
write_abort(struct uwrite *w)
{
	struct copy_result r;

	if (w->c) {
		copier_stop(w->c, &r);
		w->c = NULL;
		write_account(w, &r);
	}
	w->l = NULL;
	write_fail(w, RE_BLOB_UPLOAD_INVALID, "request abandoned");
}

/* The body ended (and httpd said how, when it must): check and answer. */
static void
write_done(struct uwrite *w)
{
	struct upload *u = w->u;

	if (w->confirm && w->ended < 0) {
		write_fail(w, RE_BLOB_UPLOAD_INVALID, "incomplete or "
		    "malformed request body");
		return;
	}
	if (w->confirm && u->size - w->start != w->endlen) {
		write_fail(w, RE_SIZE_INVALID, "body length differs from "
		    "what the client sent");
		return;
	}
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
	case COPY_STOPPED:	/* never a callback's: only copier_stop's */
		write_fail(w, RE_INTERNAL, "upload copy stopped");
		break;
	case COPY_EOF:
		if (w->confirm && !w->ended)
			w->drained = 1;	/* M_UPLOAD_END settles it */
		else
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

	if (upload_busy_now(u)) {
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
	/* what a failed body goes back to */
	w->hsave = w->hashing ? hasher_dup(u->h) : NULL;
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

/* The data file of a session for writing: another writer's (a registry:2
 * run as root) may need a repair first. */
static int
data_open(const char *p)
{
	int fd;

	if ((fd = openat(store_rootfd(), p, O_WRONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 && store_repair(p))
		fd = openat(store_rootfd(), p, O_WRONLY | O_NOFOLLOW |
		    O_CLOEXEC);
	return fd;
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
	    ((datafd = data_open(p)) == -1)) {
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
	w->confirm = (msg_u64(m, A_FLAGS, 0) & UPLOAD_F_CONFIRM) != 0;
	write_begin(w);
}

/* M_UPLOAD_END (never answered): how the body of a confirmed write
 * ended.  A failed one is stopped and undone now; a clean one is settled
 * once the pipe has been drained too. */
void
upload_end(struct link *l, struct msg *m)
{
	const char *repo = msg_str(m, A_REPO), *uuid = msg_str(m, A_UUID);
	struct copy_result r;
	struct upload *u;
	struct uwrite *w;

	if (repo == NULL || uuid == NULL || (u = utab_find(uuid)) == NULL ||
	    strcmp(u->repo, repo) != 0 || (w = u->w) == NULL || w->l != l ||
	    w->id != msg_u64(m, A_REQID, 0) || !w->confirm || w->ended) {
		/* the write was answered already (an error): nothing to do */
		log_debug("end of a write not in progress on %s",
		    uuid ? uuid : "?");
		return;
	}
	w->ended = msg_has(m, A_LENGTH) ? 1 : -1;
	w->endlen = msg_u64(m, A_LENGTH, 0);
	if (w->ended < 0 && w->c) {
		copier_stop(w->c, &r);
		w->c = NULL;
		if (r.status != COPY_STOPPED) {
			on_copied(w, &r);	/* ended on its own: settles */
			return;
		}
		write_account(w, &r);
		write_done(w);
	} else if (w->drained)
		write_done(w);
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

	if (u == NULL) {		/* its session was freed at exit */
		free(c);
		return;
	}
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
	/* from here the blob is in use: a collection must not sweep the
	 * copy the commit may find in place and keep */
	gc_remember(want);
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

/* A collection begins: the commits on their way to the disk. */
void
upload_gc_inflight(void)
{
	for (struct upload *u = head; u; u = u->next)
		if (u->committing != NULL)
			gc_remember(&u->committing->d);
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
	if (upload_busy_now(u)) {
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
		write_abort(u->w);
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

/* The link l is going away: its writes are stopped and undone (their
 * bodies did not arrive whole; the offset is the one before each) and its
 * commits stopped (the hash keeps what it covered). */
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
			write_abort(u->w);
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

/* Free every session's memory (tests, leak checks, a stop that timed
 * out: the writes still in flight are undone). */
void
upload_free_all(void)
{
	struct upload *u;

	for (u = head; u; u = u->next)
		if (u->w && u->w->c)
			copier_cancel(u->w->c);
	while ((u = head) != NULL) {
		if (u->w)
			write_abort(u->w);
		if (u->job)
			job_end(u->job);
		/* a commit still running forgets its session: if it is called
		 * back (we normally exit first), it only frees itself */
		if (u->committing)
			u->committing->u = NULL;
		u->committing = NULL;
		upload_drop(u);
	}
	ev_timer_cancel(&sweep_timer);
	ev_timer_cancel(&scan_timer);
	ucount_clear(&by_addr);
	ucount_clear(&by_repo);
	free(utab);
	utab = NULL;
	utab_size = 0;
}

/* --- expiry --- */

/* Remove an idle session's files and forget it; 0 done, -1 it is in use
 * after all (its data changed since, as another writer's would). */
static int
expire_one(struct upload *u, time_t cutoff)
{
	char p[STORE_PATHMAX];
	struct stat st;
	int fd;

	if (path_upload(p, sizeof(p), u->repo, u->uuid, "data") == 0 &&
	    fstatat(store_rootfd(), p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_mtime > cutoff) {
		u->atime = st.st_mtime;
		return -1;
	}
	/* no rename and fsync as a cancel does: an expired session that a
	 * crash brings back only expires again */
	if (path_repo(p, sizeof(p), u->repo, "_uploads") == 0 &&
	    (fd = openat(store_rootfd(), p, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) != -1) {
		(void)store_remove_at(fd, p, u->uuid);
		close(fd);
	}
	log_info("%s: upload %s expired (idle for %llds)", u->repo, u->uuid,
	    (long long)(time(NULL) - u->atime));
	upload_drop(u);
	return 0;
}

/* Idle sessions beyond HASHERS_MAX give up their running hash (least
 * recently used first; a commit rebuilds it). */
static void
trim_hashers(void)
{
	struct upload *u;
	size_t n = 0;

	for (u = head; u; u = u->next)
		n += u->h != NULL;
	for (u = tail; u && n > HASHERS_MAX; u = u->prev)
		if (u->h && !upload_busy_now(u)) {
			hasher_free(u->h);
			u->h = NULL;
			u->hashed = 0;
			n--;
		}
}

/* Milliseconds between sweeps: a quarter of the expiry, from 1 s to 1 min. */
static uint64_t
sweep_interval_ms(void)
{
	int64_t s = conf_int(P_STORAGE_UPLOAD_EXPIRY) / 4;

	return (uint64_t)(s < 1 ? 1 : s > 60 ? 60 : s) * 1000;
}

/* Remove the sessions idle past storage.upload_expiry, a bounded number
 * per step so that a mass expiry does not stall the loop. */
static void
sweep(void *arg)
{
	time_t cutoff = time(NULL) - (time_t)conf_int(P_STORAGE_UPLOAD_EXPIRY);
	struct upload *u, *prev;
	unsigned removed = 0;

	for (u = tail; u; u = prev) {
		prev = u->prev;
		if (upload_busy_now(u) || u->atime > cutoff)
			continue;
		if (expire_one(u, cutoff) == 0 && ++removed == EXPIRE_BUDGET) {
			ev_timer_arm(&sweep_timer, SWEEP_MORE_MS);
			return;
		}
	}
	trim_hashers();
	ev_timer_arm(&sweep_timer, sweep_interval_ms());
}

/* gcd's sweep of sessions idle longer than age (gc.upload_max_age): all
 * at once, the number removed. */
size_t
upload_expire_idle(time_t age)
{
	time_t cutoff = time(NULL) - age;
	struct upload *u, *prev;
	size_t removed = 0;

	for (u = tail; u; u = prev) {
		prev = u->prev;
		if (!upload_busy_now(u) && u->atime <= cutoff &&
		    expire_one(u, cutoff) == 0)
			removed++;
	}
	return removed;
}

/* Count the sessions on disk, a few repositories per step, in name order
 * (so repositories created meanwhile do not disturb the walk); a
 * repository used before its turn was scanned then. */
static void
scan_step(void *arg)
{
	size_t i = scan_last[0] ? repo_upper(scan_last) : 0;
	struct repo *r;

	if (!index_names_ready()) {
		/* the walk needs every name: wait for the builder's */
		ev_timer_arm(&scan_timer, SCAN_WAIT_MS);
		return;
	}
	for (int k = 0; k < SCAN_STEP; k++, i++) {
		if (i >= repo_count()) {
			log_info("uploads: %zu sessions open", nuploads);
			return;
		}
		r = repo_at(i);
		(void)repo_scan(r->name);
		(void)str_copy(scan_last, r->name, sizeof(scan_last));
	}
	ev_timer_arm(&scan_timer, 0);
}

/* Once the index is built: find the sessions on disk and start expiring. */
void
upload_init(void)
{
	ev_timer_init(&scan_timer, scan_step, NULL);
	ev_timer_init(&sweep_timer, sweep, NULL);
	ev_timer_arm(&scan_timer, 0);
	ev_timer_arm(&sweep_timer, sweep_interval_ms());
}

/* Upload sessions open (the metrics). */
size_t
upload_count(void)
{
	return nuploads;
}
