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
#include <fcntl.h>
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
	static char empty[1100], tunnel[1100], httpd[1100];

	switch (id) {
	case PROC_STORAGED:
	case PROC_GCD:
		return conf_str(P_STORAGE_ROOT);
	case PROC_AUTHD:
		return conf_str(P_AUTH_DIR);
	case PROC_TUNNELD:
		/* its own: it resolves names, so it holds copies of
		 * resolv.conf and hosts (master/resolver.c), which httpd's
		 * empty directory should not */
		if (snprintf(tunnel, sizeof(tunnel), "%s/tunneld",
		    conf_str(P_RUN_DIR)) >= (int)sizeof(tunnel))
			fatalx("run_dir too long");
		return tunnel;
	case PROC_HTTPD:
		/* a cache's httpd resolves upstream names: its own, with
		 * the resolver's files (master/cache.c) */
		if (cache_enabled()) {
			if (snprintf(httpd, sizeof(httpd), "%s/httpd",
			    conf_str(P_RUN_DIR)) >= (int)sizeof(httpd))
				fatalx("run_dir too long");
			return httpd;
		}
		/* FALLTHROUGH */
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

/* The system user of worker id exists, or is created now; -1 if not. */
int
worker_user_ensure(int id)
{
	if (getpwnam(worker_user(id)) != NULL)
		return 0;
	return user_create(worker_user(id));
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

/* Open dir itself, never a symlink in its place; with fix, create it. */
static int
dir_open(const char *dir, mode_t allow, int fix, int verbose, int *fdp)
{
	struct stat st;
	int fd;

	*fdp = -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (!fix)
			return 0;	/* start creates it */
		if (mkdir(dir, allow) == -1 && errno != EEXIST)
			return problem(verbose, "cannot create %s: %s", dir,
			    strerror(errno));
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd != -1) {
		*fdp = fd;
		return 0;
	}
	/* O_NOFOLLOW says ELOOP for a symlink, O_DIRECTORY ENOTDIR */
	if ((errno == ELOOP || errno == ENOTDIR) && lstat(dir, &st) == 0 &&
	    S_ISLNK(st.st_mode))
		return problem(verbose, "%s is a symbolic link: refusing it "
		    "(name the directory itself)", dir);
	if (errno == ENOTDIR)
		return problem(verbose, "%s is not a directory", dir);
	return problem(verbose, "%s: %s", dir, strerror(errno));
}

/*
 * Make dir if missing; as root, give it to owner (or root) and take away
 * the mode bits outside allow, adding only need.  The change goes through
 * the descriptor opened without following symlinks, so a link planted in
 * its place never turns root's chown or chmod onto another file, and an
 * operator's tighter mode (a 0700 auth dir) stays as it is.
 */
static int
check_dir(const char *dir, const char *owner, mode_t need, mode_t allow,
    int fix, int verbose)
{
	struct passwd *pw = owner ? getpwnam(owner) : NULL;
	uid_t uid = pw ? pw->pw_uid : 0;
	gid_t gid = pw ? pw->pw_gid : 0;
	struct stat st;
	mode_t mode;
	int fd, bad;

	if ((bad = dir_open(dir, allow, fix, verbose, &fd)) != 0 || fd == -1)
		return bad;
	if (fstat(fd, &st) == -1) {
		bad = problem(verbose, "%s: %s", dir, strerror(errno));
		goto done;
	}
	if (geteuid() != 0 || !fix)
		goto done;
	mode = ((st.st_mode & allow) | need) & 07777;
	if ((st.st_uid != uid || st.st_gid != gid) &&
	    fchown(fd, uid, gid) == -1)
		bad = problem(verbose, "cannot set owner of %s: %s", dir,
		    strerror(errno));
	else if ((st.st_mode & 07777) != mode && fchmod(fd, mode) == -1)
		bad = problem(verbose, "cannot set mode of %s: %s", dir,
		    strerror(errno));
	else if ((st.st_mode & 07777) != mode)
		log_info("%s: mode %04o tightened to %04o", dir,
		    (unsigned)(st.st_mode & 07777), (unsigned)mode);
done:
	close(fd);
	return bad;
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

/*
 * `check`: the entries of the store storaged's user does not own, which it
 * cannot write.  As root they are no problem: start gives each to storaged
 * when a write of storaged meets it.  As a user nothing can: 1 then.
 */
static int
check_store_owners(int root)
{
	struct passwd *pw = root ? getpwnam(worker_user(PROC_STORAGED)) :
	    getpwuid(geteuid());
	char user[256];

	/* a copy: the walk's getpwnam() reuses pw's storage */
	if (pw == NULL || str_copy(user, pw->pw_name, sizeof(user)) == -1)
		return 0;	/* check_users said so */
	if (store_owner_report(conf_str(P_STORAGE_ROOT), user, root ?
	    "start repairs them on demand (when a write of storaged meets "
	    "one)" : "only root can change their owner") == 0 || root)
		return 0;
	return 1;
}

/* Check (and with fix, create) everything the workers need; 0 when fine. */
int
setup_check(int fix, int verbose)
{
	int root = geteuid() == 0, bad = 0;

	if (root)
		bad += check_users(fix, verbose);
	/* modes: (what is there & allow) | need; the store is storaged's,
	 * with group read for gcd */
	bad += check_dir(conf_str(P_RUN_DIR), NULL, 0700, 0755, fix, verbose);
	if (bad)
		return bad;	/* no empty/ inside a run_dir refused */
	bad += check_dir(worker_chroot(PROC_HTTPD), NULL, 0, 0755, fix,
	    verbose);
	bad += check_dir(worker_chroot(PROC_TUNNELD), NULL, 0, 0755, fix,
	    verbose);
	bad += check_dir(conf_str(P_STORAGE_ROOT),
	    root ? worker_user(PROC_STORAGED) : NULL, 0750, 0750, fix,
	    verbose);
	if (bad == 0 && fix && root)
		bad += store_owner_start(conf_str(P_STORAGE_ROOT),
		    worker_user(PROC_STORAGED), verbose);
	if (bad == 0 && !fix && verbose)
		bad += check_store_owners(root);
	bad += check_dir(conf_str(P_AUTH_DIR), NULL, 0, 0755, fix, verbose);
	bad += check_programs(verbose);
	return bad;
}
