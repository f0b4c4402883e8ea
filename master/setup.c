/*
 * setup.c - what must exist before the workers can start: their system
 * users, the run directory with its empty chroot, the store and the auth
 * directory with the right owners, and the worker programs.  `check` runs
 * the same code without fixing anything.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "util.h"

static const int user_param[PROC_MAX] = {
	0, P_U_HTTPD, P_U_STORAGED, P_U_AUTHD, P_U_TUNNELD, P_U_GCD
};

const char *
worker_user(int id)
{
	return conf_str(user_param[id]);
}

/* The chroot of each worker, DESIGN.md's table. */
const char *
worker_chroot(int id)
{
	static char empty[1100];

	switch (id) {
	case PROC_STORAGED:
	case PROC_GCD:
		return conf_str(P_STORAGE_ROOT);
	case PROC_AUTHD:
		return conf_str(P_AUTH_DIR);
	default:
		if (snprintf(empty, sizeof(empty), "%s/empty",
		    conf_str(P_RUN_DIR)) >= (int)sizeof(empty))
			fatalx("run_dir too long");
		return empty;
	}
}

/* gcd reads the store through storaged's group. */
const char *
worker_group_of(int id)
{
	return id == PROC_GCD ? worker_user(PROC_STORAGED) : NULL;
}

/* Installed layout is DIR/NAME; a build tree (REGMASTER_LIBEXECDIR) is
 * DIR/NAME/NAME. */
int
worker_path(int id, char *out, size_t outlen)
{
	const char *dir = getenv("REGMASTER_LIBEXECDIR");
	const char *name = proc_name(id);
	int n;

	if (dir && *dir) {
		n = snprintf(out, outlen, "%s/%s/%s", dir, name, name);
		if (n > 0 && (size_t)n < outlen && access(out, X_OK) == 0)
			return 0;
	} else
		dir = conf_str(P_LIBEXEC_DIR);
	n = snprintf(out, outlen, "%s/%s", dir, name);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

static int
problem(int verbose, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
problem(int verbose, const char *fmt, ...)
{
	va_list ap;

	if (verbose) {
		fprintf(stderr, "regmaster: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	return 1;
}

static int
user_create(const char *user)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		execl("/usr/sbin/useradd", "useradd", "--system",
		    "--no-create-home", "--home-dir", "/nonexistent",
		    "--shell", "/usr/sbin/nologin", "--user-group",
		    "--comment", "regmaster worker", user, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	log_info("created system user %s", user);
	return 0;
}

static int
check_users(int fix, int verbose)
{
	int bad = 0;

	for (int i = 1; i < PROC_MAX; i++) {
		const char *u = worker_user(i);
		if (getpwnam(u) != NULL)
			continue;
		if (fix && user_create(u) == 0)
			continue;
		bad += problem(verbose, "%suser %s does not exist%s",
		    fix ? "cannot create " : "", u,
		    fix ? "" : " (start creates it)");
		if (!fix)
			bad--;		/* start will create it: not an error */
	}
	return bad;
}

/* Make dir if missing; as root, give it to owner (or root) with mode. */
static int
check_dir(const char *dir, const char *owner, mode_t mode, int fix,
    int verbose)
{
	struct passwd *pw = owner ? getpwnam(owner) : NULL;
	struct stat st;

	if (stat(dir, &st) == -1) {
		if (errno != ENOENT)
			return problem(verbose, "%s: %s", dir, strerror(errno));
		if (!fix)
			return 0;	/* start creates it */
		if (mkdir(dir, mode) == -1 && errno != EEXIST)
			return problem(verbose, "cannot create %s: %s", dir,
			    strerror(errno));
		if (stat(dir, &st) == -1)
			return problem(verbose, "%s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return problem(verbose, "%s is not a directory", dir);
	if (geteuid() != 0 || !fix)
		return 0;
	if (chown(dir, pw ? pw->pw_uid : 0, pw ? pw->pw_gid : 0) == -1 ||
	    chmod(dir, mode) == -1)
		return problem(verbose, "cannot set owner of %s: %s", dir,
		    strerror(errno));
	return 0;
}

static uid_t store_uid;
static gid_t store_gid;
static unsigned long store_fixed;

static int
store_chown_one(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	if (st->st_uid == store_uid && st->st_gid == store_gid)
		return 0;
	if (lchown(path, store_uid, store_gid) == -1)
		return -1;
	store_fixed++;
	return 0;
}

/* A store written by someone else (a registry:2 deployment, a restore from
 * backup) becomes storaged's, once, so it can be served and written. */
static int
store_take_ownership(int fix, int verbose)
{
	const char *root = conf_str(P_STORAGE_ROOT);
	struct passwd *pw = getpwnam(worker_user(PROC_STORAGED));

	if (!fix || geteuid() != 0 || pw == NULL)
		return 0;
	store_uid = pw->pw_uid;
	store_gid = pw->pw_gid;
	store_fixed = 0;
	/*
	 * Walk every start, not only the first: a registry:2 run as root in
	 * between (or a restore) adds entries storaged could not write.  The
	 * walk costs a stat per entry, about 0.1 s per 100,000 when cached.
	 */
	if (nftw(root, store_chown_one, 32, FTW_PHYS | FTW_MOUNT) == -1)
		return problem(verbose, "cannot give %s to %s: %s", root,
		    worker_user(PROC_STORAGED), strerror(errno));
	if (store_fixed > 1)
		log_info("gave %lu entries of %s to %s", store_fixed, root,
		    worker_user(PROC_STORAGED));
	return 0;
}

static int
check_programs(int verbose)
{
	char path[1024];
	int bad = 0;

	for (int i = 1; i < PROC_MAX; i++) {
		if (!workers[i].enabled)
			continue;
		if (worker_path(i, path, sizeof(path)) == -1 ||
		    access(path, X_OK) == -1)
			bad += problem(verbose, "worker program %s: %s", path,
			    strerror(errno));
	}
	return bad;
}

/* Check (and with fix, create) everything the workers need; 0 when fine. */
int
setup_check(int fix, int verbose)
{
	int root = geteuid() == 0, bad = 0;

	if (root)
		bad += check_users(fix, verbose);
	bad += check_dir(conf_str(P_RUN_DIR), NULL, 0755, fix, verbose);
	bad += check_dir(worker_chroot(PROC_HTTPD), NULL, 0755, fix, verbose);
	bad += check_dir(conf_str(P_STORAGE_ROOT),
	    root ? worker_user(PROC_STORAGED) : NULL, 0750, fix, verbose);
	bad += store_take_ownership(fix, verbose);
	bad += check_dir(conf_str(P_AUTH_DIR), NULL, 0755, fix, verbose);
	bad += check_programs(verbose);
	return bad;
}
