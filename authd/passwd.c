/*
 * passwd.c - auth.htpasswd, the users and their bcrypt hashes.  authd runs
 * in auth.dir (its chroot as root, its working directory otherwise), so the
 * file is opened by its path below auth.dir, as `regmaster check` demands.
 * Edits are noticed without a restart: a check looks at the file at most
 * once a second and re-reads it when its inode, size or time changed.  A
 * file that cannot be read or parsed keeps the users we had, and says why
 * once per change.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "conf.h"
#include "log.h"
#include "util.h"

#define STAT_EVERY_MS	1000

static struct htpasswd users;
static char *path;			/* below auth.dir; NULL: open */
static int configured;
static struct stat seen;		/* the file read last (or failed) */
static int have_seen;
static uint64_t last_stat;
static unsigned generation;
static char dummy[HTPASSWD_DUMMY_LEN];	/* at the cost real entries have */

/* The path below auth.dir (NULL: open, "": outside it, nobody logs in);
 * 1 if it changed: the users read before are gone. */
int
passwd_configure(void)
{
	const char *full = conf_str(P_AUTH_HTPASSWD), *rel = NULL;

	last_stat = 0;			/* a reload looks at the file again */
	if (*full && (rel = path_below(full, conf_str(P_AUTH_DIR))) == NULL) {
		log_warnx("auth.htpasswd %s is not inside auth.dir %s: "
		    "nobody can log in", full, conf_str(P_AUTH_DIR));
		rel = "";
	}
	if (configured && (path == NULL ? rel == NULL :
	    rel != NULL && strcmp(path, rel) == 0))
		return 0;
	configured = 1;
	free(path);
	path = rel ? xstrdup(rel) : NULL;
	have_seen = 0;
	htpasswd_clear(&users);
	generation++;
	return 1;
}

int
passwd_open(void)
{
	return configured && path == NULL;
}

/* All of fd's bytes (a regular file of at most HTPASSWD_MAX_FILE). */
static char *
read_fd(int fd, const struct stat *st, size_t *len)
{
	char *data;
	ssize_t n;
	size_t got = 0;

	if (!S_ISREG(st->st_mode))
		return errno = EINVAL, NULL;
	if (st->st_size > HTPASSWD_MAX_FILE)
		return errno = EFBIG, NULL;
	data = xmalloc((size_t)st->st_size + 1);
	while ((n = read(fd, data + got, (size_t)st->st_size + 1 - got)) > 0)
		got += (size_t)n;
	if (n == -1 || got > (size_t)st->st_size) {
		free(data);
		/* EAGAIN: it grew while we read; the next look reads it */
		return errno = n == -1 ? errno : EAGAIN, NULL;
	}
	*len = got;
	return data;
}

/* Parse data into users; -1 (users kept) if the file is unusable. */
static int
load(const char *data, size_t len)
{
	struct htpasswd next = { NULL, 0 };
	size_t skipped = 0, first_bad = 0;
	char err[256];

	if (htpasswd_parse(data, len, &next, &skipped, &first_bad, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: %s: keeping the %zu users read before", path,
		    err, users.n);
		return -1;
	}
	if (next.n == 0 && skipped > 0) {
		/* nothing but lines we cannot read: a file damaged, not one
		 * emptied on purpose */
		log_warnx("%s:%zu: no valid line: keeping the %zu users read "
		    "before", path, first_bad, users.n);
		htpasswd_clear(&next);
		return -1;
	}
	if (skipped)
		log_warnx("%s:%zu: %zu line%s ignored (not name:bcrypt, or a "
		    "name repeated)", path, first_bad, skipped,
		    skipped == 1 ? "" : "s");
	htpasswd_clear(&users);
	users = next;
	generation++;
	if (users.n > 0)
		htpasswd_dummy(users.e[0].hash, dummy);
	log_info("%s: %zu user%s", path, users.n, users.n == 1 ? "" : "s");
	return 0;
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Open the file and, when it is not the one read last, read it. */
static int
reread(void)
{
	struct stat st;
	size_t len;
	char *data;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		if (!have_seen || seen.st_ino != 0)
			log_warn("%s: keeping the %zu users read before", path,
			    users.n);
		memset(&seen, 0, sizeof(seen));
		have_seen = 1;
		if (fd != -1)
			close(fd);
		return 0;
	}
	if (have_seen && same_file(&st, &seen)) {
		close(fd);
		return 0;
	}
	if ((data = read_fd(fd, &st, &len)) == NULL) {
		log_warn("%s: keeping the %zu users read before", path,
		    users.n);
		rc = -1;
	} else
		rc = load(data, len);
	free(data);
	close(fd);
	seen = st;
	have_seen = 1;
	return rc == 0;
}

int
passwd_refresh(void)
{
	uint64_t now = now_ms();

	if (path == NULL || *path == '\0')
		return 0;
	if (have_seen && now - last_stat < STAT_EVERY_MS)
		return 0;
	last_stat = now;
	return reread();
}

const char *
passwd_hash(const char *user)
{
	const struct htpasswd_entry *e = htpasswd_find(&users, user);

	return e ? e->hash : NULL;
}

const char *
passwd_dummy(void)
{
	if (dummy[0] == '\0')
		htpasswd_dummy(NULL, dummy);	/* cost 10 until a file says */
	return dummy;
}

unsigned
passwd_generation(void)
{
	return generation;
}
