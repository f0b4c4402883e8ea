/*
 * files.c - reading a bounded file whole and replacing one atomically, for
 * the admin verbs (user, cert) that edit what the workers read.  A reader
 * (authd, a start) must see either the old file or the new one, whole,
 * even across a crash: temporary file in the same directory, fsync,
 * rename (or link, to refuse an existing file), fsync of the directory.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "util.h"

/* Read all of path (at most max bytes) into a malloc'd, NUL-terminated
 * buffer; -1 with errno (EFBIG past max). */
int
file_read_all(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		saved = errno;
	else if (!S_ISREG(st.st_mode))
		saved = EINVAL;
	else if ((uint64_t)st.st_size > max)
		saved = EFBIG;
	else
		saved = 0;
	if (saved != 0) {
		close(fd);
		errno = saved;
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	/* the file may grow while we read: never past what we allocated */
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* fsync the directory holding path, so a rename in it survives a crash. */
static int
dir_sync(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = -1;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd == -1)
		return -1;
	if (fsync(fd) == 0 || errno == EINVAL)
		rc = 0;
	close(fd);
	return rc;
}

/* Write all of data to fd; -1 with errno. */
static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A temporary file beside path holding data with mode (and group gid
 * unless (gid_t)-1), synced; its name in tmp.  -1 with err. */
static int
temp_write(const char *path, const void *data, size_t len, mode_t mode,
    gid_t gid, char *tmp, size_t tmplen, char *err, size_t errlen)
{
	int fd, saved;

	if (snprintf(tmp, tmplen, "%s.XXXXXX", path) >= (int)tmplen) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot create a file beside %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) == -1 ||
	    (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) == -1) ||
	    write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", tmp, strerror(saved));
		return -1;
	}
	if (close(fd) == -1) {
		saved = errno;
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", tmp, strerror(saved));
		return -1;
	}
	return 0;
}

/*
 * Put data at path with mode and group gid ((gid_t)-1: ours).  With excl
 * an existing path is refused (errno EEXIST) and left as it is: the
 * temporary file is linked, not renamed, into place.  -1 with err.
 */
int
file_replace(const char *path, const void *data, size_t len, mode_t mode,
    gid_t gid, int excl, char *err, size_t errlen)
{
	char tmp[1100];
	int rc, saved;

	if (temp_write(path, data, len, mode, gid, tmp, sizeof(tmp), err,
	    errlen) == -1)
		return -1;
	rc = excl ? link(tmp, path) : rename(tmp, path);
	saved = errno;
	if (excl || rc == -1)
		unlink(tmp);
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (dir_sync(path) == -1) {
		snprintf(err, errlen, "%s: sync of its directory: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}
