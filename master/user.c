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

/* What one verb works on: the file, its lock, and its bytes. */
struct user_file {
	const char	*path;
	int		 lockfd;
	char		*data;		/* the file as read, NUL-terminated */
	size_t		 len;
	struct htpasswd	 ht;		/* its users, for list and lookups */
};

/* Say how the user verbs are called; exit status 2. */
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

/* How user_edit changes the lines of one name. */
enum user_op { OP_ADD, OP_REPLACE, OP_DELETE };

/* Forget what was read. */
static void
user_file_clear(struct user_file *uf)
{
	free(uf->data);
	uf->data = NULL;
	uf->len = 0;
	htpasswd_clear(&uf->ht);
}

/* A line of n bytes at p is one of name's ("name:..."). */
static int
line_is(const char *p, size_t n, const char *name)
{
	size_t len = strlen(name);

	return n > len && memcmp(p, name, len) == 0 && p[len] == ':';
}

/* Lines of name in the file, whatever their hash (bcrypt or not). */
static size_t
user_count(const struct user_file *uf, const char *name)
{
	const char *p = uf->data, *end = uf->data + uf->len, *nl;
	size_t found = 0;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		found += line_is(p, (size_t)(nl - p), name);
	}
	return found;
}

/*
 * The file's text with name's lines changed: OP_ADD appends line,
 * OP_REPLACE puts it in place of name's first line, OP_DELETE drops all
 * of name's.  Every other line is kept byte for byte: comments, a CRLF,
 * an MD5 line authd ignores but Apache reads.
 */
static char *
user_edit(const struct user_file *uf, const char *name, const char *line,
    enum user_op op, size_t *outlen)
{
	const char *p = uf->data, *end = uf->data + uf->len, *nl;
	size_t o = 0, n, found = 0, linelen = line ? strlen(line) : 0;
	char *out = xmalloc(uf->len + linelen + 3);

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p) + (nl < end);	/* with its newline */
		if (!line_is(p, (size_t)(nl - p), name) || op == OP_ADD) {
			memcpy(out + o, p, n);
			o += n;
		} else if (op == OP_REPLACE && found++ == 0) {
			memcpy(out + o, line, linelen);
			o += linelen;
			out[o++] = '\n';
		}
	}
	if (op == OP_ADD) {
		if (o > 0 && out[o - 1] != '\n')
			out[o++] = '\n';
		memcpy(out + o, line, linelen);
		o += linelen;
		out[o++] = '\n';
	}
	*outlen = o;
	return out;
}

/* Read the file (a missing one is empty) and its users; with warn, say
 * which lines authd will ignore. */
static int
user_load(struct user_file *uf, int warn)
{
	size_t skipped = 0, first_bad = 0;
	char err[256];

	user_file_clear(uf);
	if (file_read_all(uf->path, HTPASSWD_MAX_FILE, &uf->data, &uf->len)
	    == -1) {
		if (errno == ENOENT) {
			uf->data = xstrdup("");
			return 0;
		}
		fprintf(stderr, "regmaster: %s: %s\n", uf->path,
		    errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
		return -1;
	}
	if (htpasswd_parse(uf->data, uf->len, &uf->ht, &skipped, &first_bad,
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "regmaster: %s: %s\n", uf->path, err);
		return -1;
	}
	if (warn && skipped > 0)
		fprintf(stderr, "regmaster: warning: %s:%zu: %zu line%s authd "
		    "ignores (not name:bcrypt, or a name repeated); kept as "
		    "they are\n", uf->path, first_bad, skipped,
		    skipped == 1 ? "" : "s");
	return 0;
}

/* The group the file gets: authd's as root (it reads the file as that
 * user), ours otherwise ((gid_t)-1); -1 said. */
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
		fprintf(stderr, "regmaster: no user %s, whose group reads "
		    "auth.htpasswd, and it cannot be created\n",
		    worker_user(PROC_AUTHD));
		return -1;
	}
	*gid = pw->pw_gid;
	return 0;
}

/* Put the edited text in place of the file, mode 0640. */
static int
user_store(struct user_file *uf, const char *name, const char *line,
    enum user_op op)
{
	char *text, err[1400];
	size_t len;
	gid_t gid;
	int rc;

	if (user_file_group(&gid) == -1)
		return -1;
	text = user_edit(uf, name, line, op, &len);
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

/* A name that can be a user's (and so never matches a longer line
 * part, as "alice:$2y" would); said if not. */
static int
user_name_ok(const char *name)
{
	if (htpasswd_name_valid(name))
		return 1;
	fprintf(stderr, "regmaster: '%s' is not a valid user name (1 to %d "
	    "bytes, no ':' or control characters)\n", name,
	    HTPASSWD_NAME_MAX);
	return 0;
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
	if (!user_name_ok(argv[i]))
		return 2;
	*name = argv[i];
	return 0;
}

/* add (want 0: must not exist) or passwd (want 1: must exist) name. */
static int
user_set(struct user_file *uf, int argc, char **argv, int want)
{
	const char *name = NULL;
	char hash[HTPASSWD_HASH_MAX + 1], line[HTPASSWD_NAME_MAX + 2 +
	    HTPASSWD_HASH_MAX];
	int cost, rc;

	if ((rc = user_args(argc, argv, &cost, &name)) != 0)
		return rc;
	/* a first look before the prompt, which may take long: not locked */
	if (user_load(uf, 0) == -1)
		return 1;
	if ((user_count(uf, name) > 0) != want)
		goto exists;
	if (password_hash(name, cost, hash, sizeof(hash)) == -1)
		return 1;
	snprintf(line, sizeof(line), "%s:%s", name, hash);
	if (user_lock(uf) == -1 || user_load(uf, 1) == -1)
		return 1;
	if ((user_count(uf, name) > 0) != want)
		goto exists;
	return user_store(uf, name, line, want ? OP_REPLACE : OP_ADD) == -1 ?
	    1 : 0;
exists:
	if (want)
		fprintf(stderr, "regmaster: no user %s in %s\n", name,
		    uf->path);
	else
		fprintf(stderr, "regmaster: user %s exists in %s (user passwd "
		    "changes the password)\n", name, uf->path);
	return 1;
}

/* del name: every line of it. */
static int
user_del(struct user_file *uf, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return user_usage();
	if (!user_name_ok(argv[1]))
		return 2;
	if (user_lock(uf) == -1 || user_load(uf, 1) == -1)
		return 1;
	if (user_count(uf, argv[1]) == 0) {
		fprintf(stderr, "regmaster: no user %s in %s\n", argv[1],
		    uf->path);
		return 1;
	}
	return user_store(uf, argv[1], NULL, OP_DELETE) == -1 ? 1 : 0;
}

/* list every user authd knows, or say whether one is (exit 1 if not). */
static int
user_list(struct user_file *uf, int argc, char **argv)
{
	if (argc > 2)
		return user_usage();
	if (argc == 2 && !user_name_ok(argv[1]))
		return 2;
	if (user_load(uf, 1) == -1)
		return 1;
	if (argc == 2) {
		if (htpasswd_find(&uf->ht, argv[1]) == NULL) {
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
	struct user_file uf = { NULL, -1, NULL, 0, { NULL, 0 } };
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
