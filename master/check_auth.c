/*
 * check_auth.c - what `regmaster check` says about the files of users and
 * auditing: auth.htpasswd is inside auth.dir (authd's chroot), readable
 * and parses; audit.file can be opened for appending by master.
 */
#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htpasswd.h"
#include "master.h"
#include "util.h"

/* Warn when the password file is open to every user, or closed to authd's
 * (started as root, authd re-reads it as its own user). */
static void
htpasswd_mode(const char *path)
{
	struct passwd *pw;
	struct stat st;

	if (stat(path, &st) == -1)
		return;
	if (st.st_mode & S_IROTH)
		fprintf(stderr, "regmaster: warning: %s is readable by every "
		    "user (regmaster user add|passwd|del make it 0640)\n",
		    path);
	if (geteuid() != 0 ||
	    (pw = getpwnam(worker_user(PROC_AUTHD))) == NULL)
		return;
	if (!(st.st_mode & S_IROTH) &&
	    !(st.st_uid == pw->pw_uid && (st.st_mode & S_IRUSR)) &&
	    !(st.st_gid == pw->pw_gid && (st.st_mode & S_IRGRP)))
		fprintf(stderr, "regmaster: warning: %s: authd's user %s cannot "
		    "read it (regmaster user add|passwd|del give it authd's "
		    "group)\n", path, pw->pw_name);
}

/* auth.htpasswd: where authd can see it, readable, parseable. */
static int
check_htpasswd(void)
{
	const char *path = conf_str(P_AUTH_HTPASSWD);
	struct htpasswd ht = { NULL, 0 };
	size_t len, skipped = 0, first_bad = 0;
	char *data, err[256];

	if (*path == '\0')
		return 0;
	if (path_below(path, conf_str(P_AUTH_DIR)) == NULL) {
		fprintf(stderr, "regmaster: auth.htpasswd %s is not inside "
		    "auth.dir %s, authd's chroot\n", path, conf_str(P_AUTH_DIR));
		return 1;
	}
	if (file_read_all(path, HTPASSWD_MAX_FILE, &data, &len) == -1) {
		fprintf(stderr, "regmaster: auth.htpasswd %s: %s\n", path,
		    errno == ENOENT ? "does not exist (regmaster user add NAME "
		    "creates it)" : errno == EFBIG ? "larger than 16 MiB" :
		    errno == EINVAL ? "not a regular file" : strerror(errno));
		return 1;
	}
	if (htpasswd_parse(data, len, &ht, &skipped, &first_bad, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "regmaster: %s: %s\n", path, err);
		free(data);
		return 1;
	}
	free(data);
	if (skipped > 0)
		fprintf(stderr, "regmaster: warning: %s:%zu: %zu line%s authd "
		    "ignores (not name:bcrypt, or a name repeated)\n", path,
		    first_bad, skipped, skipped == 1 ? "" : "s");
	if (ht.n == 0)
		fprintf(stderr, "regmaster: warning: %s has no users: nobody "
		    "can log in\n", path);
	htpasswd_clear(&ht);
	htpasswd_mode(path);
	return 0;
}

/* audit.file: a regular file master may append to, or one it may create. */
static int
check_audit(void)
{
	const char *path = conf_str(P_AUDIT_FILE);
	struct stat st;
	char *copy, *dir;
	int exists, bad = 0;

	if (*path == '\0')
		return 0;
	exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "regmaster: audit.file %s is not a regular "
		    "file\n", path);
		return 1;
	}
	if (exists) {
		if (access(path, W_OK) == 0)
			return 0;
		fprintf(stderr, "regmaster: audit.file %s: %s\n", path,
		    strerror(errno));
		return 1;
	}
	copy = xstrdup(path);
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK) == -1) {
		fprintf(stderr, "regmaster: audit.file %s: its directory %s: "
		    "%s\n", path, dir, strerror(errno));
		bad = 1;
	}
	free(copy);
	return bad;
}

/* The user and audit files the configuration names; problems found. */
int
check_auth_files(void)
{
	return check_htpasswd() + check_audit();
}
