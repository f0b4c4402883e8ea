/*
 * store.c - the Distribution 2.x directory layout on disk.  Paths are built
 * only from re-validated names, tags, digests and uuids, so none can leave
 * the store.  Content reaches a final path only by rename from a synced
 * temporary file, so a crash leaves either the old state or the new one.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "gcbatch.h"
#include "log.h"
#include "oci.h"
#include "store.h"
#include "util.h"

#define DIR_MODE	0750	/* gcd reads the store through our group */
#define FILE_MODE	0640
#define LINK_MAX_BYTES	256
#define RMTREE_DEPTH	300	/* a repo name has at most 128 components */

static int rootfd = -1;
/* Task threads (task.c) write the store too: the name counter is atomic,
 * and storage.fsync is read from a copy the loop refreshes, never from the
 * configuration a reload may replace under them. */
static atomic_ulong tmpseq;
static atomic_int fsync_on = 1;

/* Descriptor of the store root, for *at() calls. */
int
store_rootfd(void)
{
	return rootfd;
}

/* 1 if commits must be made durable (storage.fsync). */
int
store_fsync_on(void)
{
	return atomic_load(&fsync_on);
}

/* Take storage.fsync from the configuration (in the loop, at each load). */
void
store_configure(void)
{
	atomic_store(&fsync_on, conf_bool(P_STORAGE_FSYNC));
}

/* 1 if deletes are allowed (storage.delete). */
int
store_delete_on(void)
{
	return conf_bool(P_STORAGE_DELETE);
}

/* Open the root and make the top directories; leftovers of a crash in the
 * scratch directory are removed, since only this process writes there. */
void
store_init(void)
{
	int fd;

	store_configure();
	if (rootfd != -1)
		return;
	if ((rootfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("open store root");
	if (store_mkdirs(STORE_REPOS) == -1 || store_mkdirs(STORE_BLOBS) == -1)
		fatal("create %s", STORE_V2);
	if (store_mkdirs(STORE_TMP) == -1)
		fatal("create %s", STORE_TMP);
	if ((fd = openat(rootfd, STORE_TMP, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		fatal("open %s", STORE_TMP);
	(void)store_remove_at(fd, STORE_TMP, NULL);
	close(fd);
}

static int	pathf(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* snprintf into out; -1 if truncated. */
static int
pathf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* 1 if d holds a supported algorithm and exactly its lowercase hex. */
static int
digest_ok(const struct digest *d)
{
	size_t n;

	if (d->alg != DIGEST_SHA256 && d->alg != DIGEST_SHA512)
		return 0;
	n = strnlen(d->hex, sizeof(d->hex));
	if (n != digest_hexlen(d->alg))
		return 0;
	return strspn(d->hex, "0123456789abcdef") == n;
}

/* blobs/<alg>/<first two hex>/<hex> */
int
path_blob_dir(char *out, size_t len, const struct digest *d)
{
	if (!digest_ok(d))
		return -1;
	return pathf(out, len, STORE_BLOBS "/%s/%.2s/%s",
	    digest_algname(d->alg), d->hex, d->hex);
}

/* blobs/<alg>/<first two hex>/<hex>/data */
int
path_blob_data(char *out, size_t len, const struct digest *d)
{
	if (!digest_ok(d))
		return -1;
	return pathf(out, len, STORE_BLOBS "/%s/%.2s/%s/data",
	    digest_algname(d->alg), d->hex, d->hex);
}

/* repositories/<repo>[/sub] */
int
path_repo(char *out, size_t len, const char *repo, const char *sub)
{
	if (!oci_name_valid(repo))
		return -1;
	return pathf(out, len, STORE_REPOS "/%s%s%s", repo, sub ? "/" : "",
	    sub ? sub : "");
}

/* repositories/<repo>/_layers/<alg>/<hex>/link */
int
path_layer_link(char *out, size_t len, const char *repo,
    const struct digest *d)
{
	if (!oci_name_valid(repo) || !digest_ok(d))
		return -1;
	return pathf(out, len, STORE_REPOS "/%s/_layers/%s/%s/link", repo,
	    digest_algname(d->alg), d->hex);
}

/* repositories/<repo>/_manifests/revisions/<alg>/<hex>/link */
int
path_rev_link(char *out, size_t len, const char *repo, const struct digest *d)
{
	if (!oci_name_valid(repo) || !digest_ok(d))
		return -1;
	return pathf(out, len, STORE_REPOS "/%s/_manifests/revisions/%s/%s/link",
	    repo, digest_algname(d->alg), d->hex);
}

/* repositories/<repo>/_manifests/tags/<tag> */
int
path_tag_dir(char *out, size_t len, const char *repo, const char *tag)
{
	if (!oci_name_valid(repo) || !oci_tag_valid(tag))
		return -1;
	return pathf(out, len, STORE_REPOS "/%s/_manifests/tags/%s", repo, tag);
}

/* repositories/<repo>/_manifests/tags/<tag>/current/link */
int
path_tag_current(char *out, size_t len, const char *repo, const char *tag)
{
	if (!oci_name_valid(repo) || !oci_tag_valid(tag))
		return -1;
	return pathf(out, len, STORE_REPOS "/%s/_manifests/tags/%s/current/link",
	    repo, tag);
}

/* repositories/<repo>/_manifests/tags/<tag>/index/<alg>/<hex>/link */
int
path_tag_index(char *out, size_t len, const char *repo, const char *tag,
    const struct digest *d)
{
	if (!oci_name_valid(repo) || !oci_tag_valid(tag) || !digest_ok(d))
		return -1;
	return pathf(out, len,
	    STORE_REPOS "/%s/_manifests/tags/%s/index/%s/%s/link", repo, tag,
	    digest_algname(d->alg), d->hex);
}

/* repositories/<repo>/_uploads/<uuid>[/file] */
int
path_upload(char *out, size_t len, const char *repo, const char *uuid,
    const char *file)
{
	if (!oci_name_valid(repo) || !uuid_valid(uuid))
		return -1;
	return pathf(out, len, STORE_REPOS "/%s/_uploads/%s%s%s", repo, uuid,
	    file ? "/" : "", file ? file : "");
}

/* 1 if s is an RFC 4122 uuid in lowercase text, the only form we create
 * (Distribution's uploads look the same). */
int
uuid_valid(const char *s)
{
	size_t i;

	if (strnlen(s, UUID_LEN + 1) != UUID_LEN)
		return 0;
	for (i = 0; i < UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
			return 0;
	}
	return 1;
}

/* A random (version 4) uuid. */
void
uuid_new(char out[UUID_LEN + 1])
{
	unsigned char r[16];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(r)) {
		if ((n = getrandom(r + got, sizeof(r) - got, 0)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		got += (size_t)n;
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	(void)snprintf(out, UUID_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* fsync the directory dir (relative to the root). */
int
store_fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* fsync the directory holding path, when storage.fsync is on. */
int
store_fsync_parent(const char *path)
{
	char dir[STORE_PATHMAX];
	char *slash;

	if (!store_fsync_on())
		return 0;
	if (str_copy(dir, path, sizeof(dir)) == -1)
		return errno = ENAMETOOLONG, -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		return store_fsync_dir(".");
	*slash = '\0';
	return store_fsync_dir(dir);
}

/* mkdir -p dir; a directory we create is made durable in its parent. */
static int
mkdirs_once(const char *dir)
{
	char p[STORE_PATHMAX];
	struct stat st;
	char *s;

	if (fstatat(rootfd, dir, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
	if (str_copy(p, dir, sizeof(p)) == -1)
		return errno = ENAMETOOLONG, -1;
	for (s = p;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdirat(rootfd, p, DIR_MODE) == 0) {
			if (store_fsync_parent(p) == -1)
				return -1;
		} else if (errno != EEXIST)
			return -1;
		if (c == '\0')
			break;
		*s = c;
	}
	return 0;
}

/* mkdir -p dir, with one repair of what is in the way (store_repair). */
int
store_mkdirs(const char *dir)
{
	if (mkdirs_once(dir) == 0)
		return 0;
	return store_repair(dir) ? mkdirs_once(dir) : -1;
}

/* A fresh name in the scratch directory. */
static int
tmpname(char *out, size_t len)
{
	return pathf(out, len, STORE_TMP "/t%ld.%lu", (long)getpid(),
	    atomic_fetch_add(&tmpseq, 1) + 1);
}

/* Create an empty temporary file; its name in path; an fd for writing. */
int
store_tmpfile(char *path, size_t len)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd;

	if (tmpname(path, len) == -1)
		return errno = ENAMETOOLONG, -1;
	if ((fd = openat(rootfd, path, flags, FILE_MODE)) == -1 &&
	    store_repair(STORE_TMP))
		fd = openat(rootfd, path, flags, FILE_MODE);
	return fd;
}

/* write(2) all of p or fail. */
static int
write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, c, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write p into a synced temporary file; its name in tmp. */
static int
tmp_write(char *tmp, size_t tmplen, const void *p, size_t len)
{
	int fd, saved;

	if ((fd = store_tmpfile(tmp, tmplen)) == -1)
		return -1;
	if (write_all(fd, p, len) == -1 ||
	    (store_fsync_on() && fsync(fd) == -1)) {
		saved = errno;
		close(fd);
		unlinkat(rootfd, tmp, 0);
		return errno = saved, -1;
	}
	return close(fd);
}

/* The directory part of path in dir. */
static int
dirname_of(const char *path, char *dir, size_t len)
{
	char *slash;

	if (str_copy(dir, path, len) == -1)
		return errno = ENAMETOOLONG, -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		return errno = EINVAL, -1;
	*slash = '\0';
	return 0;
}

/* Replace path with p atomically and durably. */
int
store_write_atomic(const char *path, const void *p, size_t len)
{
	char tmp[STORE_PATHMAX], dir[STORE_PATHMAX];
	int saved;

	if (dirname_of(path, dir, sizeof(dir)) == -1 ||
	    store_mkdirs(dir) == -1)
		return -1;
	if (tmp_write(tmp, sizeof(tmp), p, len) == -1)
		return -1;
	if (renameat(rootfd, tmp, rootfd, path) == -1 && (!store_repair(dir) ||
	    renameat(rootfd, tmp, rootfd, path) == -1)) {
		saved = errno;
		unlinkat(rootfd, tmp, 0);
		return errno = saved, -1;
	}
	return store_fsync_parent(path);
}

/* Rename from to to unless to exists: 0 moved, 1 to was there (from is
 * left alone), -1 error. */
static int
move_once(const char *from, const char *to)
{
	struct stat st;

	if (renameat2(rootfd, from, rootfd, to, RENAME_NOREPLACE) == 0)
		return store_fsync_parent(to);
	if (errno == EEXIST)
		return 1;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A filesystem without RENAME_NOREPLACE: we are the only writer. */
	if (fstatat(rootfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (renameat(rootfd, from, rootfd, to) == -1)
		return -1;
	return store_fsync_parent(to);
}

/* move_once, with one repair of what is in the way at either end. */
int
store_move_noreplace(const char *from, const char *to)
{
	int rc = move_once(from, to);

	/* both asked: a miss costs master a walk of one directory */
	if (rc == -1 && (store_repair(to) | store_repair(from)))
		rc = move_once(from, to);
	return rc;
}

/* Write a link file ("sha256:<hex>", no newline) atomically. */
int
store_link_write(const char *path, const struct digest *d)
{
	char s[DIGEST_STRMAX];
	struct digest cur;

	if (digest_format(d, s, sizeof(s)) == -1)
		return errno = EINVAL, -1;
	if (store_link_read(path, &cur) == 0 && digest_equal(&cur, d))
		return 0;
	return store_write_atomic(path, s, strlen(s));
}

/* openat(path) to read, with one repair when permission was missing (a
 * restore from backup may leave files of root's that only root can read). */
static int
open_read(const char *path)
{
	const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
	int fd;

	if ((fd = openat(rootfd, path, flags)) == -1 && store_repair(path))
		fd = openat(rootfd, path, flags);
	return fd;
}

/* Read a link file into d; -1 if absent or not a digest. */
int
store_link_read(const char *path, struct digest *d)
{
	char s[LINK_MAX_BYTES + 1];
	ssize_t n;
	int fd;

	if ((fd = open_read(path)) == -1)
		return -1;
	n = read(fd, s, LINK_MAX_BYTES);
	close(fd);
	if (n <= 0)
		return -1;
	s[n] = '\0';
	/* Distribution writes no newline; be lenient about one added by hand. */
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' '))
		s[--n] = '\0';
	return digest_parse(s, d) == 0 ? 0 : -1;
}

/* Remove a link file and then its (now empty) directory; -1 if absent. */
int
store_link_remove(const char *path)
{
	char dir[STORE_PATHMAX];

	if (unlinkat(rootfd, path, 0) == -1 && (!store_repair(path) ||
	    unlinkat(rootfd, path, 0) == -1))
		return -1;
	if (dirname_of(path, dir, sizeof(dir)) == 0)
		(void)unlinkat(rootfd, dir, AT_REMOVEDIR);
	(void)store_fsync_parent(dir);
	return 0;
}

/* Remove everything inside dirfd, and name itself when name is not NULL;
 * 0, or -1 when something stayed (errno says why the first one did). */
int
store_rmtree_at(int dirfd, const char *name, int depth)
{
	struct dirent *de;
	DIR *dir;
	int fd, err = 0;

	if (depth > RMTREE_DEPTH) {
		log_warnx("directory tree too deep");
		return errno = ELOOP, -1;
	}
	if (name == NULL)
		fd = dup(dirfd);
	else
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd == -1)
		return (name == NULL || unlinkat(dirfd, name, 0) == 0 ||
		    errno == ENOENT) ? 0 : -1;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0 || ((errno == EISDIR ||
		    errno == EPERM) && store_rmtree_at(fd, de->d_name,
		    depth + 1) == 0))
			continue;
		if (err == 0)
			err = errno;
	}
	closedir(dir);
	if (name && unlinkat(dirfd, name, AT_REMOVEDIR) == -1 && err == 0)
		err = errno;
	return err ? (errno = err, -1) : 0;
}

/* store_rmtree_at(dirfd, name) where dirfd is the store's directory dir,
 * with one repair of what is in the way; what stays is logged. */
int
store_remove_at(int dirfd, const char *dir, const char *name)
{
	char p[STORE_PATHMAX];

	if (store_rmtree_at(dirfd, name, 0) == 0)
		return 0;
	if (pathf(p, sizeof(p), "%s%s%s", dir, name ? "/" : "",
	    name ? name : "") == -1)
		return -1;
	if (store_repair(p) && store_rmtree_at(dirfd, name, 0) == 0)
		return 0;
	log_warn("remove %s", p);
	return -1;
}

/* Move path (a file or a tree) to a fresh name in the scratch directory,
 * its name in tmp: gone from the store at once, removed at leisure (or at
 * the next start).  Not synced.  0, or -1 with errno. */
int
store_detach(const char *path, char *tmp, size_t len)
{
	if (tmpname(tmp, len) == -1)
		return errno = ENAMETOOLONG, -1;
	/* a directory moved needs write permission on itself too (its ..) */
	if (renameat(rootfd, path, rootfd, tmp) == -1 && (errno == ENOENT ||
	    !store_repair(path) || renameat(rootfd, path, rootfd, tmp) == -1))
		return -1;
	return 0;
}

/* Remove name (a tree) under directory dir of the store. */
static int
rmtree_in(const char *dir, const char *name)
{
	int fd, rc;

	if ((fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	rc = store_remove_at(fd, dir, name);
	close(fd);
	return rc;
}

/* Directory dir's name once a sweep took it: GC_SWEPT_PREFIX before its
 * last component. */
static int
swept_name(char *out, size_t len, const char *dir)
{
	const char *base = strrchr(dir, '/');

	if (base == NULL)
		return errno = EINVAL, -1;
	base++;
	return pathf(out, len, "%.*s" GC_SWEPT_PREFIX "%s", (int)(base - dir),
	    dir, base);
}

/*
 * A collection's sweep takes dir (a blob's, a layer link's) out of the
 * store by renaming it within its parent, to its swept name: gone at once
 * for storaged, gcd and docker-registry alike (no reader takes that name
 * for a digest).  A rename within one directory takes neither the
 * filesystem's lock for renames between directories nor any block of dir
 * itself (moved elsewhere, its ".." is rewritten, and on a store whose
 * metadata went cold that is a disk read a blob).  store_swept_free
 * removes it later, on a thread; one a crash left behind is freed by the
 * next collection (gcd's scan finds it), and one in the way is removed
 * first.  0, or -1 with errno (ENOENT: dir is not there).
 */
int
store_swept_take(const char *dir)
{
	char to[STORE_PATHMAX];

	if (swept_name(to, sizeof(to), dir) == -1)
		return -1;
	if (renameat(rootfd, dir, rootfd, to) == 0)
		return 0;
	if (errno == EEXIST || errno == ENOTEMPTY)
		(void)store_swept_free(dir);
	else if (errno == ENOENT || !store_repair(dir))
		return -1;
	return renameat(rootfd, dir, rootfd, to);
}

/* Is there a swept dir (a crash's leftover)?  Its data's size in *size
 * (0 without one). */
int
store_swept_left(const char *dir, uint64_t *size)
{
	char p[STORE_PATHMAX];
	struct stat st;

	if (swept_name(p, sizeof(p), dir) == -1 ||
	    fstatat(rootfd, p, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode))
		return -1;
	*size = 0;
	if (strlcat(p, "/data", sizeof(p)) < sizeof(p) && fstatat(rootfd, p,
	    &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		*size = (uint64_t)st.st_size;
	return 0;
}

/* Remove what store_swept_take took of dir: its one file first, then
 * itself (anything else in it too, and what only root could remove after
 * a restore: one repair).  0, or -1 with errno. */
int
store_swept_free(const char *dir)
{
	char p[STORE_PATHMAX], leaf[STORE_PATHMAX + 8];
	char *base;

	if (swept_name(p, sizeof(p), dir) == -1)
		return -1;
	for (size_t i = 0; i < 2; i++)
		if (pathf(leaf, sizeof(leaf), "%s/%s", p, i ? "link" :
		    "data") == 0)
			(void)unlinkat(rootfd, leaf, 0);
	if (unlinkat(rootfd, p, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	base = strrchr(p, '/');		/* swept_name made one */
	*base = '\0';
	return rmtree_in(p, base + 1);
}

/* Remove the tree at path: renamed away first, so it vanishes at once and a
 * crash never leaves it half removed.  0 removed, -1 absent or error. */
int
store_remove_tree(const char *path)
{
	char tmp[STORE_PATHMAX];

	if (store_detach(path, tmp, sizeof(tmp)) == -1)
		return -1;
	(void)store_fsync_parent(path);
	(void)rmtree_in(STORE_TMP, strrchr(tmp, '/') + 1);
	return 0;
}

/* Size of blob d's data if it is a regular file in the store. */
int
store_blob_stat(const struct digest *d, uint64_t *size)
{
	char p[STORE_PATHMAX];
	struct stat st;

	if (path_blob_data(p, sizeof(p), d) == -1)
		return -1;
	/* a directory only root may search (a restore): one repair */
	if (fstatat(rootfd, p, &st, AT_SYMLINK_NOFOLLOW) == -1 &&
	    (!store_repair(p) || fstatat(rootfd, p, &st,
	    AT_SYMLINK_NOFOLLOW) == -1))
		return -1;
	if (!S_ISREG(st.st_mode))
		return -1;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* A read-only descriptor of the blob's data; -1 if absent. */
int
store_blob_open(const struct digest *d, uint64_t *size)
{
	char p[STORE_PATHMAX];
	struct stat st;
	int fd;

	if (path_blob_data(p, sizeof(p), d) == -1 || (fd = open_read(p)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

/* Blob d is linked in repo's _layers and its data is present. */
int
store_layer_stat(const char *repo, const struct digest *d, uint64_t *size)
{
	char p[STORE_PATHMAX];
	struct digest ld;

	if (path_layer_link(p, sizeof(p), repo, d) == -1 ||
	    store_link_read(p, &ld) == -1 || !digest_equal(&ld, d))
		return -1;
	return store_blob_stat(d, size);
}

/* Read a whole regular file of at most max bytes (malloc'd, NUL-ended). */
char *
store_read_file(const char *path, size_t max, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	char *p;
	int fd;

	if ((fd = open_read(path)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max) {
		close(fd);
		return NULL;
	}
	p = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, p + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(p);
		return NULL;
	}
	p[got] = '\0';
	*len = got;
	return p;
}

/* Store body as the blob d (the caller verified the digest). */
int
store_blob_put(const struct digest *d, const void *body, size_t len)
{
	char tmp[STORE_PATHMAX], dir[STORE_PATHMAX], data[STORE_PATHMAX];
	uint64_t size;
	int rc;

	if (store_blob_stat(d, &size) == 0)
		return 0;
	if (path_blob_dir(dir, sizeof(dir), d) == -1 ||
	    path_blob_data(data, sizeof(data), d) == -1)
		return errno = EINVAL, -1;
	if (store_mkdirs(dir) == -1 || tmp_write(tmp, sizeof(tmp), body,
	    len) == -1)
		return -1;
	if ((rc = store_move_noreplace(tmp, data)) != 0)
		(void)unlinkat(rootfd, tmp, 0);
	return rc == -1 ? -1 : 0;
}

/* Can the store be written now (readiness)?  A scratch file made, one
 * byte written (and synced, with storage.fsync: a disk that fails syncs
 * fails commits), and removed: 0, or -1 with errno. */
int
store_write_probe(void)
{
	char path[STORE_PATHMAX];
	int fd, saved;

	if ((fd = store_tmpfile(path, sizeof(path))) == -1)
		return -1;
	if (write_all(fd, "", 1) == -1 ||
	    (store_fsync_on() && fsync(fd) == -1)) {
		saved = errno;
		close(fd);
		unlinkat(rootfd, path, 0);
		return errno = saved, -1;
	}
	close(fd);
	return unlinkat(rootfd, path, 0);
}
