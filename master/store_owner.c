/*
 * store_owner.c - giving a store written by someone else (a registry:2 run
 * as root in between, a restore from backup) to storaged's user at start.
 *
 * Root walks a tree that storaged's user may change while it walks: a
 * directory swapped for a symlink (renameat2 RENAME_EXCHANGE) would turn a
 * chown of a full path onto a file outside the store.  So the walk never
 * resolves a path: it holds one descriptor per directory level, opens each
 * child relative to its parent with O_NOFOLLOW, checks the inode it opened
 * and changes owners through that descriptor.  A name that vanished or
 * turned into something else meanwhile is skipped (the next start gets it).
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

/*
 * A repository name of 255 characters has at most 128 components, below a
 * handful of fixed levels; deeper is not a store we wrote.  Each level holds
 * one descriptor, so this bounds the descriptors too.
 */
#define WALK_MAX_DEPTH	160

struct walk {
	uid_t		 uid;
	gid_t		 gid;
	dev_t		 dev;		/* the store's filesystem: no crossing */
	unsigned long	 fixed;
	unsigned long	 linked;	/* hard-linked entries left alone */
	unsigned long	 deep;		/* directories past WALK_MAX_DEPTH */
	char		 path[PATH_MAX];	/* for messages only, never opened */
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

/* Give one non-directory entry of dfd to storaged: the inode checked is the
 * inode changed, and a hard link (to a file elsewhere?) is never changed. */
static void
walk_entry(struct walk *wk, int dfd, const char *name)
{
	struct stat st;
	size_t len;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    owned(wk, &st))
		return;		/* vanished, or nothing to do */
	if ((fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	len = path_push(wk, name);
	if (fstat(fd, &st) == -1 || owned(wk, &st) || S_ISDIR(st.st_mode))
		;		/* changed meanwhile: the next start sees it */
	else if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		log_warnx("%s has %lu hard links: not giving it to storaged",
		    wk->path, (unsigned long)st.st_nlink);
		wk->linked++;
	} else if (fchownat(fd, "", wk->uid, wk->gid,
	    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("chown %s", wk->path);
	else
		wk->fixed++;
	wk->path[len] = '\0';
	close(fd);
}

/* Open directory name of dfd, if it still is one on the store's filesystem,
 * give it to storaged and walk it. */
static void
walk_subdir(struct walk *wk, int dfd, const char *name, int depth)
{
	struct stat st;
	size_t len;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return;		/* vanished, or swapped for a symlink */
	len = path_push(wk, name);
	if (fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_dev != wk->dev) {
		close(fd);	/* a mount point: not the store's */
		goto out;
	}
	if (!owned(wk, &st)) {
		if (fchown(fd, wk->uid, wk->gid) == -1)
			log_warn("chown %s", wk->path);
		else
			wk->fixed++;
	}
	if (depth >= WALK_MAX_DEPTH) {
		wk->deep++;
		close(fd);
		goto out;
	}
	walk_dir(wk, fd, depth + 1);
out:
	wk->path[len] = '\0';
}

/* Walk the directory open on fd (closes it). */
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
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
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

/*
 * Every entry of the store becomes storaged's, every start: a registry:2
 * run as root in between adds entries storaged could not write.  Returns 1
 * when the store cannot be opened, else 0 (single entries are logged).
 */
int
store_take_ownership(const char *root, const char *user, int verbose)
{
	struct passwd *pw = getpwnam(user);
	static struct walk wk;	/* PATH_MAX of messages: not on the stack */
	struct stat st;
	int fd;

	if (pw == NULL)
		return 0;	/* check_users said so already */
	memset(&wk, 0, sizeof(wk));
	wk.uid = pw->pw_uid;
	wk.gid = pw->pw_gid;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (verbose)
			fprintf(stderr, "regmaster: cannot give %s to %s: %s\n",
			    root, user, strerror(errno));
		if (fd != -1)
			close(fd);
		return 1;
	}
	wk.dev = st.st_dev;
	snprintf(wk.path, sizeof(wk.path), "%s", root);
	walk_dir(&wk, fd, 0);
	if (wk.fixed > 0)
		log_info("gave %lu entries of %s to %s", wk.fixed, root, user);
	if (wk.linked > 0)
		log_warnx("left %lu hard-linked entries of %s as they were",
		    wk.linked, root);
	if (wk.deep > 0)
		log_warnx("%lu directories of %s nest deeper than %d levels: "
		    "not walked", wk.deep, root, WALK_MAX_DEPTH);
	return 0;
}
