/*
 * store_owner.c - giving entries of the store that someone else wrote (a
 * registry:2 run as root in between, a restore from backup) to storaged's
 * user, without ever walking the whole store on the start path.  Start
 * fixes the store's fixed top directories (constant cost); the rest is
 * repaired on demand, when a write of storaged fails with EACCES and
 * storaged asks over its repair channel (store_repair.c): the components
 * of that one path, and the subtree of its deepest existing directory when
 * that is one repository's _manifests, _layers or _uploads part, one
 * blob's directory or the scratch directory, never a directory as wide as
 * the store.  `check` walks the whole store read-only and counts what is not
 * storaged's.
 *
 * Root walks a tree that storaged's user may change while it walks: a
 * directory swapped for a symlink (renameat2 RENAME_EXCHANGE) would turn a
 * chown of a full path onto a file outside the store.  So no walk ever
 * resolves a path: it holds one descriptor per directory level, opens each
 * child relative to its parent with O_NOFOLLOW, checks the inode it opened
 * and changes owners through that descriptor.  A name that vanished or
 * turned into something else meanwhile is skipped (the next repair gets
 * it).  Symlinks are never ours (storaged makes none) and stay as they are.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "util.h"

/*
 * A repository name of 255 characters has at most 128 components, below a
 * handful of fixed levels; deeper is not a store we wrote.  Each level holds
 * one descriptor, so this bounds the descriptors too.
 */
#define WALK_MAX_DEPTH	160
#define REPORT_SHOWN	5	/* paths `check` names before it only counts */

/* The fixed directories every write goes through, relative to the root. */
#define V2		"docker/registry/v2"
static const char *const top_dirs[] = {
	V2 "/blobs", V2 "/repositories", V2 "/regmaster-tmp"
};

struct walk {
	uid_t		 uid;
	gid_t		 gid;
	dev_t		 dev;		/* the store's filesystem: no crossing */
	int		 fix;		/* 0: only count (check) */
	unsigned long	 left;		/* entries it may still visit */
	unsigned long	 seen;
	unsigned long	 fixed;
	unsigned long	 wrong;		/* not storaged's (check) */
	unsigned long	 linked;	/* hard-linked entries left alone */
	unsigned long	 deep;		/* directories past WALK_MAX_DEPTH */
	char		 path[PATH_MAX];	/* for messages only, never opened */
	char		 shown[REPORT_SHOWN][PATH_MAX];	/* check's examples */
	struct stat	 shown_st[REPORT_SHOWN];
};

static void walk_dir(struct walk *, int, int);

static int
owned(const struct walk *wk, const struct stat *st)
{
	return st->st_uid == wk->uid && st->st_gid == wk->gid;
}

/* Append name to wk->path for messages; returns the old length. */
static size_t
path_push(struct walk *wk, const char *name)
{
	size_t len = strlen(wk->path);

	snprintf(wk->path + len, sizeof(wk->path) - len, "/%s", name);
	return len;
}

/* An entry that is not storaged's: `check` counts it and names the first
 * few; 1 when the walk may change it. */
static int
wrong_owner(struct walk *wk, const struct stat *st)
{
	if (wk->fix)
		return 1;
	if (wk->wrong < REPORT_SHOWN) {
		memcpy(wk->shown[wk->wrong], wk->path, sizeof(wk->path));
		wk->shown_st[wk->wrong] = *st;
	}
	wk->wrong++;
	return 0;
}

/* Give one non-directory entry of dfd to storaged: the inode checked is the
 * inode changed, and a hard link (to a file elsewhere?) is never changed. */
static void
walk_entry(struct walk *wk, int dfd, const char *name)
{
	struct stat st;
	size_t len;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    owned(wk, &st) || S_ISLNK(st.st_mode))
		return;		/* vanished, nothing to do, or not ours */
	len = path_push(wk, name);
	if (!wrong_owner(wk, &st) ||
	    (fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		goto out;
	if (fstat(fd, &st) == -1 || owned(wk, &st) || S_ISDIR(st.st_mode) ||
	    S_ISLNK(st.st_mode))
		;		/* changed meanwhile: a later repair sees it */
	else if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		log_warnx("%s has %lu hard links: not giving it to storaged",
		    wk->path, (unsigned long)st.st_nlink);
		wk->linked++;
	} else if (fchownat(fd, "", wk->uid, wk->gid,
	    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("chown %s", wk->path);
	else
		wk->fixed++;
	close(fd);
out:
	wk->path[len] = '\0';
}

/* Open directory name of dfd if it still is one on the store's filesystem,
 * and give it to storaged; its descriptor, or -1. */
static int
dir_take(struct walk *wk, int dfd, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;	/* vanished, or swapped for a symlink */
	if (fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_dev != wk->dev) {
		close(fd);	/* a mount point: not the store's */
		return errno = EXDEV, -1;
	}
	if (!owned(wk, &st) && wrong_owner(wk, &st)) {
		if (fchown(fd, wk->uid, wk->gid) == -1)
			log_warn("chown %s", wk->path);
		else
			wk->fixed++;
	}
	return fd;
}

/* Give directory name of dfd to storaged and walk it. */
static void
walk_subdir(struct walk *wk, int dfd, const char *name, int depth)
{
	size_t len = path_push(wk, name);
	int fd;

	if ((fd = dir_take(wk, dfd, name)) == -1)
		;
	else if (depth >= WALK_MAX_DEPTH) {
		wk->deep++;
		close(fd);
	} else
		walk_dir(wk, fd, depth + 1);
	wk->path[len] = '\0';
}

/* Walk the directory open on fd (closes it), as long as wk->left lasts. */
static void
walk_dir(struct walk *wk, int fd, int depth)
{
	struct dirent *de;
	struct stat st;
	int isdir;
	DIR *d;

	if ((d = fdopendir(fd)) == NULL) {
		log_warn("%s", wk->path);
		close(fd);
		return;
	}
	while (wk->left > 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		wk->left--;
		wk->seen++;
		/* d_type is a hint only: each step checks what it opened */
		isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;
			isdir = S_ISDIR(st.st_mode);
		}
		if (isdir)
			walk_subdir(wk, dirfd(d), de->d_name, depth);
		else
			walk_entry(wk, dirfd(d), de->d_name);
	}
	closedir(d);
}

/* Open the store root for a walk as user; its descriptor, or -1. */
static int
walk_begin(struct walk *wk, const char *root, const char *user, int fix)
{
	struct passwd *pw = getpwnam(user);
	struct stat st;
	int fd;

	memset(wk, 0, sizeof(*wk));
	if (pw == NULL)
		return errno = ENOENT, -1;	/* check_users says so */
	wk->uid = pw->pw_uid;
	wk->gid = pw->pw_gid;
	wk->fix = fix;
	wk->left = ULONG_MAX;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	wk->dev = st.st_dev;
	snprintf(wk->path, sizeof(wk->path), "%s", root);
	return fd;
}

/* What a walk left alone, said once at its end. */
static void
walk_end(const struct walk *wk, const char *root)
{
	if (wk->linked > 0)
		log_warnx("left %lu hard-linked entries of %s as they were",
		    wk->linked, root);
	if (wk->deep > 0)
		log_warnx("%lu directories of %s nest deeper than %d levels: "
		    "not walked", wk->deep, root, WALK_MAX_DEPTH);
}

/* A path of storaged's, split into at most max components in comp; their
 * count, or -1 unless it is a plain relative path below V2 (no "..", no
 * "." and no empty component, only the characters the store's names use). */
static int
rel_split(char *rel, char **comp, int max)
{
	size_t len = strlen(rel);
	int n = 0;

	if (len == 0 || len >= STORE_REL_MAX || strncmp(rel, V2 "/",
	    sizeof(V2)) != 0 || strspn(rel, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != len)
		return -1;
	for (char *s = rel, *slash; s != NULL; s = slash) {
		if ((slash = strchr(s, '/')) != NULL)
			*slash++ = '\0';
		if (*s == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
		    n == max)
			return -1;
		comp[n++] = s;
	}
	return n;
}

/*
 * How many leading components a directory of this path needs before its
 * subtree is one unit that a repair may walk: a blob's directory
 * (blobs/<alg>/<xx>/<hex>), a repository's _manifests, _layers or _uploads
 * (no component of a repository name starts with '_'), the scratch
 * directory (what storaged is removing).  Wider directories (the store, blobs/<alg>, a
 * namespace of repositories) are only given back themselves.
 */
static int
unit_depth(char **comp, int n)
{
	if (n < 4)
		return INT_MAX;
	if (strcmp(comp[3], "blobs") == 0)
		return 7;
	if (strcmp(comp[3], "regmaster-tmp") == 0)
		return 4;	/* its whole subtree: what is being removed */
	if (strcmp(comp[3], "repositories") != 0)
		return INT_MAX;
	for (int i = 5; i < n; i++)
		if (comp[i][0] == '_')
			return i + 1;
	return INT_MAX;
}

/* Walk from the root fd (taken) down comp[0..n-1], giving each component
 * to storaged; the descriptor of the deepest directory reached, its number
 * of components in *depth.  A last component that is a file is given too. */
static int
path_take(struct walk *wk, int fd, char **comp, int n, int *depth)
{
	int i, next;

	for (i = 0; i < n; i++) {
		size_t len = path_push(wk, comp[i]);
		if ((next = dir_take(wk, fd, comp[i])) == -1) {
			if (errno == ENOTDIR && i == n - 1) {
				wk->path[len] = '\0';
				walk_entry(wk, fd, comp[i]);
			}
			wk->path[len] = '\0';
			break;
		}
		close(fd);
		fd = next;
	}
	*depth = i;
	return fd;
}

/* At start: the root's fixed top directories are storaged's (constant
 * cost; what lies below is repaired on demand).  1 if the root cannot be
 * opened, else 0. */
int
store_owner_start(const char *root, const char *user, int verbose)
{
	static struct walk wk;	/* PATH_MAX of messages: not on the stack */
	char rel[STORE_REL_MAX], *comp[8];
	unsigned long fixed = 0;
	int fd, n, depth;

	if (getpwnam(user) == NULL)
		return 0;	/* check_users said so already */
	for (size_t i = 0; i < nitems(top_dirs); i++) {
		if ((fd = walk_begin(&wk, root, user, 1)) == -1) {
			if (verbose)
				fprintf(stderr, "regmaster: cannot give %s to "
				    "%s: %s\n", root, user, strerror(errno));
			return 1;
		}
		snprintf(rel, sizeof(rel), "%s", top_dirs[i]);
		n = rel_split(rel, comp, (int)nitems(comp));
		close(path_take(&wk, fd, comp, n, &depth));
		fixed += wk.fixed;
	}
	if (fixed > 0)
		log_info("gave %lu top directories of %s to %s", fixed, root,
		    user);
	return 0;
}

/*
 * storaged's write under rel failed with EACCES or EPERM: give rel's
 * components to storaged, and the subtree of its deepest existing
 * directory when that is one unit (unit_depth), visiting at most max
 * entries (*seen says how many).  The number of entries changed, or -1:
 * EINVAL rel is not a store path, else the root cannot be opened.
 */
long
store_owner_repair(const char *root, const char *user, const char *rel,
    unsigned long max, unsigned long *seen)
{
	static struct walk wk;
	char buf[STORE_REL_MAX], *comp[WALK_MAX_DEPTH];
	int fd, n, depth;

	*seen = 0;
	if (strlen(rel) >= sizeof(buf))
		return errno = EINVAL, -1;
	memcpy(buf, rel, strlen(rel) + 1);
	if ((n = rel_split(buf, comp, WALK_MAX_DEPTH)) == -1)
		return errno = EINVAL, -1;
	if ((fd = walk_begin(&wk, root, user, 1)) == -1)
		return -1;
	fd = path_take(&wk, fd, comp, n, &depth);
	wk.seen = (unsigned long)depth;
	wk.left = max;
	if (depth >= unit_depth(comp, n))
		walk_dir(&wk, fd, depth);
	else
		close(fd);
	if (wk.left == 0)
		log_warnx("repair of %s/%s stopped after %lu entries", root,
		    rel, max);
	walk_end(&wk, root);
	*seen = wk.seen;
	return (long)wk.fixed;
}

/* For `check`: say how many entries of the store are not user's, naming
 * the first few, after a read-only walk of it all; their number. */
unsigned long
store_owner_report(const char *root, const char *user, const char *hint)
{
	static struct walk wk;
	int fd;

	if ((fd = walk_begin(&wk, root, user, 0)) == -1)
		return 0;	/* setup_check says why */
	walk_dir(&wk, fd, 0);
	walk_end(&wk, root);
	if (wk.wrong == 0)
		return 0;
	fprintf(stderr, "regmaster: %lu entries of %s are not %s's: storaged "
	    "cannot write them; %s, e.g.:\n", wk.wrong, root, user, hint);
	for (unsigned long i = 0; i < wk.wrong && i < REPORT_SHOWN; i++)
		fprintf(stderr, "regmaster:   %s (owner %lu:%lu)\n",
		    wk.shown[i], (unsigned long)wk.shown_st[i].st_uid,
		    (unsigned long)wk.shown_st[i].st_gid);
	return wk.wrong;
}
