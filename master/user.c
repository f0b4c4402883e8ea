/*
 * user.c - `regmaster user add|del|passwd|list`: edits auth.htpasswd, the
 * bcrypt password file only authd reads.  Every edit holds an flock on
 * FILE.lock, so two admins (or scripts) adding users at once both land,
 * and replaces the file atomically (files.c), so authd, which notices
 * edits by itself, never reads half a file.  Passwords come from the
 * terminal without echo or from standard input, never from argv (which
 * every user sees in ps).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "htpasswd.h"
#include "master.h"
#include "util.h"

#define USER_COST_DEFAULT	10
#define USER_PASSWORD_MAX	72	/* bcrypt reads no further */
#define USER_INPUT_MAX		4096	/* a longer line is refused too */

/* What one verb works on: the file, its lock, and our copy of its users. */
struct user_file {
	const char	*path;
	int		 lockfd;
	struct htpasswd	 ht;		/* every string our own malloc */
};

static int
user_usage(void)
{
	fprintf(stderr,
	    "usage: regmaster [-c file] user add [--cost N] NAME\n"
	    "       regmaster [-c file] user passwd [--cost N] NAME\n"
	    "       regmaster [-c file] user del NAME\n"
	    "       regmaster [-c file] user list [NAME]\n");
	return 2;
}

/* Free our copy of the users. */
static void
user_file_clear(struct user_file *uf)
{
	for (size_t i = 0; i < uf->ht.n; i++) {
		free(uf->ht.e[i].name);
		free(uf->ht.e[i].hash);
	}
	free(uf->ht.e);
	uf->ht.e = NULL;
	uf->ht.n = 0;
}

/* Append a copy of name:hash. */
static void
user_append(struct htpasswd *ht, const char *name, const char *hash)
{
	ht->e = xreallocarray(ht->e, ht->n + 1, sizeof(*ht->e));
	ht->e[ht->n].name = xstrdup(name);
	ht->e[ht->n].hash = xstrdup(hash);
	ht->n++;
}

/* Index of name, or -1. */
static ssize_t
user_index(const struct htpasswd *ht, const char *name)
{
	for (size_t i = 0; i < ht->n; i++)
		if (strcmp(ht->e[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/*
 * Read the file into our own copy (a missing file is an empty one).  A
 * line that is not name:bcrypt is refused, not dropped: rewriting the
 * file would lose it without a word.
 */
static int
user_load(struct user_file *uf)
{
	struct htpasswd parsed = { NULL, 0 };
	size_t len, skipped = 0, first_bad = 0;
	char *data, err[256];

	user_file_clear(uf);
	if (file_read_all(uf->path, HTPASSWD_MAX_FILE, &data, &len) == -1) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "regmaster: %s: %s\n", uf->path,
		    errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
		return -1;
	}
	if (htpasswd_parse(data, len, &parsed, &skipped, &first_bad, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "regmaster: %s: %s\n", uf->path, err);
		free(data);
		return -1;
	}
	free(data);
	if (skipped > 0) {
		fprintf(stderr, "regmaster: %s:%zu: not a name:bcrypt line "
		    "(%zu such lines); fix or remove them first, a rewrite "
		    "would drop them\n", uf->path, first_bad, skipped);
		htpasswd_clear(&parsed);
		return -1;
	}
	for (size_t i = 0; i < parsed.n; i++)
		user_append(&uf->ht, parsed.e[i].name, parsed.e[i].hash);
	htpasswd_clear(&parsed);
	return 0;
}

/* The group the file gets: authd's as root (it reads the file as that
 * user), ours otherwise; (gid_t)-1 on error, said. */
static int
user_file_group(gid_t *gid)
{
	struct passwd *pw;

	*gid = (gid_t)-1;
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(worker_user(PROC_AUTHD))) == NULL &&
	    (worker_user_ensure(PROC_AUTHD) == -1 ||
	    (pw = getpwnam(worker_user(PROC_AUTHD))) == NULL)) {
		fprintf(stderr, "regmaster: no user %s, the group authd reads "
		    "%s as, and it cannot be created\n",
		    worker_user(PROC_AUTHD), "auth.htpasswd");
		return -1;
	}
	*gid = pw->pw_gid;
	return 0;
}

/* Write our copy back in place of the file, mode 0640. */
static int
user_store(struct user_file *uf)
{
	char *text, err[1400];
	size_t len;
	gid_t gid;
	int rc;

	if (user_file_group(&gid) == -1)
		return -1;
	if ((text = htpasswd_format(&uf->ht, &len)) == NULL) {
		fprintf(stderr, "regmaster: cannot render %s\n", uf->path);
		return -1;
	}
	rc = file_replace(uf->path, text, len, 0640, gid, 0, err, sizeof(err));
	free(text);
	if (rc == -1)
		fprintf(stderr, "regmaster: %s\n", err);
	return rc;
}

/* Take the edit lock beside the file, waiting for another editor. */
static int
user_lock(struct user_file *uf)
{
	char lock[1100];

	if (snprintf(lock, sizeof(lock), "%s.lock", uf->path) >=
	    (int)sizeof(lock)) {
		fprintf(stderr, "regmaster: %s: path too long\n", uf->path);
		return -1;
	}
	uf->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (uf->lockfd == -1) {
		fprintf(stderr, "regmaster: %s: %s%s\n", lock, strerror(errno),
		    errno == ENOENT ? " (regmaster start creates auth.dir)" :
		    "");
		return -1;
	}
	while (flock(uf->lockfd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		fprintf(stderr, "regmaster: lock %s: %s\n", lock,
		    strerror(errno));
		close(uf->lockfd);
		uf->lockfd = -1;
		return -1;
	}
	return 0;
}

/* Read a password from standard input, one line; -1 said. */
static int
password_stdin(char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		if ((r = read(STDIN_FILENO, &c, 1)) == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			fprintf(stderr, "regmaster: standard input: %s\n",
			    strerror(errno));
			return -1;
		}
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= len) {
			fprintf(stderr, "regmaster: password line too long\n");
			return -1;
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		fprintf(stderr, "regmaster: a NUL byte in the password\n");
		return -1;
	}
	return 0;
}

/* Ask the terminal twice without echo; -1 said. */
static int
password_tty(const char *name, char *buf, char *again, size_t len)
{
	char prompt[300];

	snprintf(prompt, sizeof(prompt), "Password for %s: ", name);
	if (readpassphrase(prompt, buf, len, RPP_REQUIRE_TTY) == NULL ||
	    readpassphrase("Again: ", again, len, RPP_REQUIRE_TTY) == NULL) {
		fprintf(stderr, "regmaster: cannot read the password from the "
		    "terminal: %s\n", strerror(errno));
		return -1;
	}
	if (strcmp(buf, again) != 0) {
		fprintf(stderr, "regmaster: the passwords differ\n");
		return -1;
	}
	return 0;
}

/* The new password of name into hash (bcrypt at cost); -1 said. */
static int
password_hash(const char *name, int cost, char *hash, size_t hashlen)
{
	char *pw = xmalloc(USER_INPUT_MAX), *again = xmalloc(USER_INPUT_MAX);
	int rc = -1;

	if (isatty(STDIN_FILENO) ?
	    password_tty(name, pw, again, USER_INPUT_MAX) :
	    password_stdin(pw, USER_INPUT_MAX))
		goto done;
	if (*pw == '\0')
		fprintf(stderr, "regmaster: empty password refused\n");
	else if (strlen(pw) > USER_PASSWORD_MAX)
		fprintf(stderr, "regmaster: password longer than %d bytes "
		    "refused (bcrypt would ignore the rest)\n",
		    USER_PASSWORD_MAX);
	else if (htpasswd_hash(pw, cost, hash, hashlen) == -1)
		fprintf(stderr, "regmaster: bcrypt failed\n");
	else
		rc = 0;
done:
	OPENSSL_cleanse(pw, USER_INPUT_MAX);
	OPENSSL_cleanse(again, USER_INPUT_MAX);
	free(pw);
	free(again);
	return rc;
}

/* Parse [--cost N] NAME (and nothing after NAME); 2 on usage errors. */
static int
user_args(int argc, char **argv, int *cost, const char **name)
{
	uint64_t v;
	int i = 1;

	*cost = USER_COST_DEFAULT;
	if (i + 1 < argc && strcmp(argv[i], "--cost") == 0) {
		if (parse_u64(argv[i + 1], 31, &v) == -1 || v < 4) {
			fprintf(stderr, "regmaster: --cost takes 4 to 31\n");
			return 2;
		}
		*cost = (int)v;
		i += 2;
	}
	if (i + 1 < argc) {
		fprintf(stderr, "regmaster: a password is never taken from the "
		    "command line (others see it in ps): give it on the "
		    "terminal or on standard input\n");
		return 2;
	}
	if (i >= argc || argv[i][0] == '-')
		return user_usage();
	if (!htpasswd_name_valid(argv[i])) {
		fprintf(stderr, "regmaster: '%s' is not a valid user name "
		    "(1 to %d bytes, no ':' or control characters)\n", argv[i],
		    HTPASSWD_NAME_MAX);
		return 2;
	}
	*name = argv[i];
	return 0;
}

/* add (want 0: must not exist) or passwd (want 1: must exist) name. */
static int
user_set(struct user_file *uf, int argc, char **argv, int want)
{
	const char *name;
	char hash[HTPASSWD_HASH_MAX + 1];
	ssize_t i;
	int cost, rc;

	if ((rc = user_args(argc, argv, &cost, &name)) != 0)
		return rc;
	/* a first look before the prompt, which may take long: not locked */
	if (user_load(uf) == -1)
		return 1;
	if ((user_index(&uf->ht, name) >= 0) != want)
		goto exists;
	if (password_hash(name, cost, hash, sizeof(hash)) == -1)
		return 1;
	if (user_lock(uf) == -1 || user_load(uf) == -1)
		return 1;
	if (((i = user_index(&uf->ht, name)) >= 0) != want)
		goto exists;
	if (want) {
		free(uf->ht.e[i].hash);
		uf->ht.e[i].hash = xstrdup(hash);
	} else
		user_append(&uf->ht, name, hash);
	return user_store(uf) == -1 ? 1 : 0;
exists:
	if (want)
		fprintf(stderr, "regmaster: no user %s in %s\n", name,
		    uf->path);
	else
		fprintf(stderr, "regmaster: user %s exists in %s (user passwd "
		    "changes the password)\n", name, uf->path);
	return 1;
}

/* del name. */
static int
user_del(struct user_file *uf, int argc, char **argv)
{
	ssize_t i;

	if (argc != 2 || argv[1][0] == '-')
		return user_usage();
	if (user_lock(uf) == -1 || user_load(uf) == -1)
		return 1;
	if ((i = user_index(&uf->ht, argv[1])) < 0) {
		fprintf(stderr, "regmaster: no user %s in %s\n", argv[1],
		    uf->path);
		return 1;
	}
	free(uf->ht.e[i].name);
	free(uf->ht.e[i].hash);
	memmove(&uf->ht.e[i], &uf->ht.e[i + 1],
	    (uf->ht.n - (size_t)i - 1) * sizeof(*uf->ht.e));
	uf->ht.n--;
	return user_store(uf) == -1 ? 1 : 0;
}

/* list every name, or say whether one exists (exit 1 if not). */
static int
user_list(struct user_file *uf, int argc, char **argv)
{
	if (argc > 2)
		return user_usage();
	if (user_load(uf) == -1)
		return 1;
	if (argc == 2) {
		if (user_index(&uf->ht, argv[1]) < 0) {
			fprintf(stderr, "regmaster: no user %s in %s\n",
			    argv[1], uf->path);
			return 1;
		}
		printf("%s\n", argv[1]);
		return 0;
	}
	for (size_t i = 0; i < uf->ht.n; i++)
		printf("%s\n", uf->ht.e[i].name);
	return fflush(stdout) == EOF ? 1 : 0;
}

/* regmaster user VERB ...: argv[0] is "user". */
int
cmd_user(int argc, char **argv)
{
	struct user_file uf = { NULL, -1, { NULL, 0 } };
	int rc;

	argc--;
	argv++;
	if (argc < 1)
		return user_usage();
	uf.path = conf_str(P_AUTH_HTPASSWD);
	if (*uf.path == '\0') {
		fprintf(stderr, "regmaster: auth.htpasswd is not set in %s "
		    "(e.g. auth = { htpasswd = \"%s/htpasswd\"; };)\n",
		    conf_current()->path ? conf_current()->path :
		    "the configuration", conf_str(P_AUTH_DIR));
		return 1;
	}
	if (strcmp(argv[0], "add") == 0)
		rc = user_set(&uf, argc, argv, 0);
	else if (strcmp(argv[0], "passwd") == 0)
		rc = user_set(&uf, argc, argv, 1);
	else if (strcmp(argv[0], "del") == 0)
		rc = user_del(&uf, argc, argv);
	else if (strcmp(argv[0], "list") == 0)
		rc = user_list(&uf, argc, argv);
	else
		rc = user_usage();
	user_file_clear(&uf);
	if (uf.lockfd != -1)
		close(uf.lockfd);	/* drops the lock */
	return rc;
}
