/*
 * test_authd_proto.c - end-to-end tests of the authd worker: each test
 * starts the built authd/authd in a fresh auth directory, plays master
 * (configuration, the audit file, a peer socket) and httpd (checks, tokens,
 * audit records) over real socketpairs, and checks the answers, the token
 * and the audit file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "acl.h"
#include "htpasswd.h"
#include "jwt.h"
#include "proc.h"
#include "worker_driver.h"
#include "unit.h"

#define SERVICE	"regmaster"
#define ISSUER	"regmaster"
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Personal namespaces, pulls of library/ for everyone, the catalog for
 * alice alone. */
static const char rules[] =
    "*\t{user}/*\tpull,push\n"
    "anonymous\tlibrary/*\tpull\n"
    "alice\t*\tcatalog";

struct ad {
	struct wdrv	 w;
	char		 dir[PATH_MAX - 32];
	char		 htpasswd[PATH_MAX];
	char		 audit[PATH_MAX];
	EVP_PKEY	*pub;		/* from M_TOKEN_KEY */
	char		 kid[64];
	unsigned	 flushes;	/* M_AUTH_FLUSH seen */
};

struct ans {
	uint64_t	 code, grant, time;
	int		 has_user;
	char		 user[256];
	char		 token[JWT_MAX + 1];
};

static struct ad *cur;
/* More configuration for the next ad_start: name, value pairs. */
static const char *extra_conf[4][2];
/* "alice:hash\n..." made once (bcrypt at cost 10 is slow). */
static char users_alice_bob[512];

static void
on_notify(struct msg *m)
{
	BIO *b;

	if (m->type == M_AUTH_FLUSH)
		cur->flushes++;
	if (m->type != M_TOKEN_KEY)
		return;
	b = BIO_new_mem_buf(m->v[A_BODY].p, (int)m->v[A_BODY].len);
	ck_assert_ptr_nonnull(b);
	EVP_PKEY_free(cur->pub);
	cur->pub = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	ck_assert_ptr_nonnull(cur->pub);
	snprintf(cur->kid, sizeof(cur->kid), "%s", msg_str(m, A_NAME));
}

static void
write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_ptr_nonnull(f = fopen(tmp, "w"));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(tmp, 0644), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

static void
user_line(char *out, size_t len, const char *name, const char *pw)
{
	char hash[128];
	size_t n = strlen(out);

	ck_assert_int_eq(htpasswd_hash(pw, 10, hash, sizeof(hash)), 0);
	snprintf(out + n, len - n, "%s:%s\n", name, hash);
}

static void
send_audit_fd(struct ad *a, int with_fd)
{
	struct msgb mb;
	int fd;

	msgb_init(&mb, M_AUDIT_FD);
	if (with_fd) {
		fd = open(a->audit, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0644);
		ck_assert_int_ge(fd, 0);
		msgb_fd(&mb, A_FD, fd);
	}
	wd_send(a->w.ctl, &mb, ++a->w.nextid);
}

/* The whole configuration, as master sends it at start and on reload. */
static void
ad_configure(struct ad *a, int with_users, const char *rule_text)
{
	wd_conf_set(&a->w, "auth.dir", a->dir);
	wd_conf_set(&a->w, "auth.htpasswd", with_users ? a->htpasswd : "");
	wd_conf_set(&a->w, "auth.rules", rule_text);
	wd_conf_set(&a->w, "auth.max_failures", "3");
	wd_conf_set(&a->w, "auth.failure_window", "2s");
	if (getenv("AUTHD_DEBUG"))
		wd_conf_set(&a->w, "log_level", "debug");
	for (size_t i = 0; i < nitems(extra_conf) && extra_conf[i][0]; i++)
		wd_conf_set(&a->w, extra_conf[i][0], extra_conf[i][1]);
	wd_conf_end(&a->w);
	wd_ping(&a->w);
}

/* authd on a fresh directory; users: the htpasswd text, NULL: open. */
static void
ad_start(struct ad *a, const char *users)
{
	const char *base = getenv("AUTHD_TESTDIR");

	memset(a, 0, sizeof(*a));
	cur = a;
	wd_other = on_notify;
	snprintf(a->dir, sizeof(a->dir), "%s/adtest.XXXXXX", base ? base :
	    "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(a->dir));
	ck_assert_int_eq(chmod(a->dir, 0755), 0);
	snprintf(a->htpasswd, sizeof(a->htpasswd), "%s/htpasswd", a->dir);
	snprintf(a->audit, sizeof(a->audit), "%s/audit.log", a->dir);
	if (users)
		write_file(a->htpasswd, users);
	wd_spawn(&a->w, "authd", a->dir);
	ad_configure(a, users != NULL, rules);
	send_audit_fd(a, 1);
	wd_peer(&a->w, PROC_HTTPD);
	if (users == NULL)		/* open: no key before a first token */
		return;
	wd_recv(a->w.fd);		/* the key comes first, unasked */
	ck_assert_int_eq(wd_rep.type, M_TOKEN_KEY);
	on_notify(&wd_rep);
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void
ad_finish(struct ad *a)
{
	int st;

	kill(a->w.pid, SIGTERM);
	ck_assert_int_eq(waitpid(a->w.pid, &st, 0), a->w.pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "authd ended with status %#x", st);
	close(a->w.fd);
	close(a->w.ctl);
	EVP_PKEY_free(a->pub);
	memset(extra_conf, 0, sizeof(extra_conf));
	if (!getenv("AUTHD_KEEP"))
		nftw(a->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
answer(struct msg *m, struct ans *r)
{
	memset(r, 0, sizeof(*r));
	r->code = msg_u64(m, A_CODE, 999);
	r->grant = msg_u64(m, A_GRANT, 0);
	r->time = msg_u64(m, A_TIME, 0);
	if ((r->has_user = msg_has(m, A_USER)))
		snprintf(r->user, sizeof(r->user), "%s", msg_str(m, A_USER));
	if (msg_has(m, A_VALUE))
		snprintf(r->token, sizeof(r->token), "%s", msg_str(m, A_VALUE));
}

/* M_AUTH_CHECK; user NULL: anonymous, secret NULL: a certificate's. */
static struct ans
check(struct ad *a, const char *addr, const char *user, const char *secret,
    const char *repo)
{
	struct msgb mb;
	struct ans r;

	msgb_init(&mb, M_AUTH_CHECK);
	msgb_str(&mb, A_ADDR, addr);
	if (user)
		msgb_str(&mb, A_USER, user);
	if (secret)
		msgb_str(&mb, A_SECRET, secret);
	else if (user)
		msgb_u64(&mb, A_FLAGS, AUTH_F_CERT);
	if (repo)
		msgb_str(&mb, A_REPO, repo);
	msgb_u64(&mb, A_WANT, ACL_PULL);
	answer(wd_call(&a->w, &mb), &r);
	ck_assert_int_eq(wd_rep.type, M_AUTH);
	return r;
}

/* check, asserting the answer's code. */
static struct ans
check_is(struct ad *a, uint64_t code, const char *addr, const char *user,
    const char *secret, const char *repo)
{
	struct ans r = check(a, addr, user, secret, repo);

	ck_assert_msg(r.code == code, "%s %s on %s: %llu, want %llu", addr,
	    user ? user : "anonymous", repo ? repo : "the catalog",
	    (unsigned long long)r.code, (unsigned long long)code);
	return r;
}

static struct ans
token(struct ad *a, const char *user, const char *secret, const char *scope,
    const char *service)
{
	struct msgb mb;
	struct ans r;

	msgb_init(&mb, M_TOKEN_ISSUE);
	msgb_str(&mb, A_ADDR, "192.0.2.1");
	if (user)
		msgb_str(&mb, A_USER, user);
	if (secret)
		msgb_str(&mb, A_SECRET, secret);
	if (scope)
		msgb_str(&mb, A_SCOPE, scope);
	if (service)
		msgb_str(&mb, A_NAME, service);
	answer(wd_call(&a->w, &mb), &r);
	ck_assert_int_eq(wd_rep.type, M_TOKEN);
	return r;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
make_users(void)
{
	if (users_alice_bob[0])
		return;
	user_line(users_alice_bob, sizeof(users_alice_bob), "alice", "wonder");
	user_line(users_alice_bob, sizeof(users_alice_bob), "bob", "builder");
}

/* --- the audit file --- */

/* The audit file's lines once it has at least n (5 s at most), each
 * checked to be one JSON object with every field; their count. */
static size_t
audit_lines(struct ad *a, size_t n, json_t **out, size_t max)
{
	static const char *fields[] = { "time", "addr", "user", "action",
	    "repo", "ref", "digest", "status", "bytes" };
	char line[8192];
	size_t got = 0;

	for (int tries = 0; tries < 100; tries++) {
		FILE *f = fopen(a->audit, "r");
		ck_assert_ptr_nonnull(f);
		for (got = 0; fgets(line, sizeof(line), f); got++) {
			json_error_t e;
			json_t *j;
			ck_assert_msg(strchr(line, '\n'), "line %zu unended",
			    got + 1);
			j = json_loads(line, 0, &e);
			ck_assert_msg(json_is_object(j), "line %zu: %s: %s",
			    got + 1, e.text, line);
			for (size_t k = 0; k < nitems(fields); k++)
				ck_assert_ptr_nonnull(json_object_get(j,
				    fields[k]));
			if (got < max)
				out[got] = j;
			else
				json_decref(j);
		}
		fclose(f);
		if (got >= n)
			return got;
		for (size_t k = 0; k < got && k < max; k++)
			json_decref(out[k]);
		usleep(50000);
	}
	ck_abort_msg("audit file has %zu lines, want %zu", got, n);
	return 0;
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "(null)";
}

static void
free_lines(json_t **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(l[i]);
}

/* --- tests --- */

/* No password file: everyone may do everything, credentials or not. */
START_TEST(open_mode)
{
	struct ad a;
	struct ans r;

	ad_start(&a, NULL);
	r = check_is(&a, 0, "192.0.2.1", NULL, NULL, "any/repo");
	ck_assert_uint_eq(r.grant, ACL_ALL);
	r = check_is(&a, 0, "192.0.2.1", "who", "ever", NULL);
	ck_assert_uint_eq(r.grant, ACL_ALL);
	ck_assert_ptr_null(a.pub);
	r = token(&a, NULL, NULL, "repository:x/y:pull,push", SERVICE);
	ck_assert_uint_eq(r.code, 0);
	ck_assert_ptr_nonnull(a.pub);	/* the key came before the token */
	ad_finish(&a);
}
END_TEST

/* Right password: granted with the rules' grant; wrong or unknown: 401;
 * anonymous: what the rules give anonymous; a certificate's user: no
 * password. */
START_TEST(passwords)
{
	struct ad a;
	struct ans r;

	make_users();
	ad_start(&a, users_alice_bob);
	r = check_is(&a, 0, "192.0.2.1", "alice", "wonder", "alice/app");
	ck_assert_int_eq(r.has_user, 1);
	ck_assert_str_eq(r.user, "alice");
	ck_assert_uint_eq(r.grant, ACL_PULL | ACL_PUSH);
	ck_assert_uint_gt(r.time, 0);
	r = check(&a, "192.0.2.1", "alice", "wonder", "bob/app");
	ck_assert_uint_eq(r.grant, 0);
	r = check(&a, "192.0.2.1", "alice", "wonder", NULL);
	ck_assert_uint_eq(r.grant, ACL_CATALOG);
	r = check_is(&a, 401, "192.0.2.2", "alice", "wrong", "alice/app");
	ck_assert_int_eq(r.has_user, 0);
	r = check_is(&a, 401, "192.0.2.3", "mallory", "x", "alice/app");
	r = check_is(&a, 0, "192.0.2.4", NULL, NULL, "library/busybox");
	ck_assert_int_eq(r.has_user, 0);
	ck_assert_uint_eq(r.grant, ACL_PULL);
	r = check(&a, "192.0.2.4", NULL, NULL, "alice/app");
	ck_assert_uint_eq(r.grant, 0);
	r = check(&a, "192.0.2.5", "bob", NULL, "bob/x");	/* mTLS */
	ck_assert_uint_eq(r.code, 0);
	ck_assert_str_eq(r.user, "bob");
	ck_assert_uint_eq(r.grant, ACL_PULL | ACL_PUSH);
	ad_finish(&a);
}
END_TEST

/* bcrypt at cost 10 once, then the cache: at least ten times faster.  An
 * unknown user costs a bcrypt too (within a factor of three). */
START_TEST(cache_speed)
{
	double t0, first, cached, unknown;
	struct ad a;
	struct ans r;

	make_users();
	ad_start(&a, users_alice_bob);
	t0 = now_s();
	r = check(&a, "192.0.2.1", "bob", "builder", "bob/x");
	first = now_s() - t0;
	ck_assert_uint_eq(r.code, 0);
	t0 = now_s();
	for (int i = 0; i < 10; i++) {
		r = check(&a, "192.0.2.1", "bob", "builder", "bob/x");
		ck_assert_uint_eq(r.code, 0);
	}
	cached = (now_s() - t0) / 10;
	t0 = now_s();
	r = check(&a, "192.0.2.9", "nobody-here", "builder", "bob/x");
	unknown = now_s() - t0;
	ck_assert_uint_eq(r.code, 401);
	fprintf(stderr, "authd: bcrypt check %.1f ms, cached %.3f ms, unknown "
	    "user %.1f ms\n", first * 1e3, cached * 1e3, unknown * 1e3);
	ck_assert_msg(first > 10 * cached, "first %.4f s, cached %.4f s",
	    first, cached);
	ck_assert_msg(unknown * 3 > first && unknown < first * 3,
	    "unknown user %.4f s vs known %.4f s", unknown, first);
	ad_finish(&a);
}
END_TEST

/* Three failures from an address: the fourth attempt, even with the right
 * password, gets 429 and a wait; after the window it works again. */
START_TEST(rate_limit)
{
	struct ad a;
	struct ans r;

	make_users();
	ad_start(&a, users_alice_bob);
	for (int i = 0; i < 3; i++) {
		r = check(&a, "198.51.100.7", "bob", "guess", "bob/x");
		ck_assert_uint_eq(r.code, 401);
	}
	r = check_is(&a, 429, "198.51.100.7", "bob", "builder", "bob/x");
	ck_assert_uint_ge(r.time, 1);
	ck_assert_uint_le(r.time, 2);
	/* a clean address is not held back by the user's count: guessers
	 * cannot lock bob out; an address that guessed once more is */
	r = check_is(&a, 0, "198.51.100.8", "bob", "builder", "bob/x");
	r = check_is(&a, 401, "198.51.100.9", "bob", "guess", "bob/x");
	r = check_is(&a, 429, "198.51.100.9", "bob", "guess2", "bob/x");
	/* a token request is the same login */
	r = token(&a, "bob", "builder", NULL, SERVICE);
	ck_assert_uint_eq(r.code, 0);
	r = token(&a, "bob", "guess", NULL, SERVICE);
	ck_assert_uint_eq(r.code, 401);
	r = token(&a, "bob", "guess", NULL, SERVICE);
	ck_assert_uint_eq(r.code, 429);
	usleep(2100 * 1000);
	r = check_is(&a, 0, "198.51.100.7", "bob", "builder", "bob/x");
	ad_finish(&a);
}
END_TEST

/* IPv6 guesses are counted per /64: stepping through the host's own /64
 * gives no fresh counter, another /64 (or an IPv4 client) is untouched. */
START_TEST(rate_limit_v6)
{
	struct ad a;

	make_users();
	ad_start(&a, users_alice_bob);
	check_is(&a, 401, "2001:db8:1:2::a", "bob", "guess", "bob/x");
	check_is(&a, 401, "2001:db8:1:2::b", "bob", "guess", "bob/x");
	check_is(&a, 401, "2001:db8:1:2:ffff::c", "bob", "guess", "bob/x");
	check_is(&a, 429, "2001:db8:1:2::d", "alice", "wonder", "alice/x");
	check_is(&a, 0, "2001:db8:1:3::a", "alice", "wonder", "alice/x");
	check_is(&a, 0, "192.0.2.20", "alice", "wonder", "alice/x");
	ad_finish(&a);
}
END_TEST

/* A user whose password is in the success cache is not locked out by a
 * guesser, from their address or another. */
START_TEST(cached_not_locked_out)
{
	struct ad a;

	make_users();
	ad_start(&a, users_alice_bob);
	check_is(&a, 0, "192.0.2.10", "alice", "wonder", "alice/app");
	for (int i = 0; i < 5; i++)
		(void)check(&a, "203.0.113.66", "alice", "guess", "alice/app");
	check_is(&a, 429, "203.0.113.66", "alice", "guess", "alice/app");
	check_is(&a, 0, "192.0.2.10", "alice", "wonder", "alice/app");
	check_is(&a, 0, "192.0.2.11", "alice", "wonder", "alice/app");
	ad_finish(&a);
}
END_TEST

/* The file edited on disk: the new password works without a restart, the
 * old one no longer (the cache was flushed), and httpd is told. */
START_TEST(htpasswd_edited)
{
	char users[512] = "";
	struct ad a;

	make_users();
	ad_start(&a, users_alice_bob);
	check_is(&a, 0, "192.0.2.1", "alice", "wonder", "alice/app");
	user_line(users, sizeof(users), "alice", "looking-glass");
	write_file(a.htpasswd, users);
	usleep(1100 * 1000);
	check_is(&a, 0, "192.0.2.1", "alice", "looking-glass", "alice/app");
	ck_assert_uint_ge(a.flushes, 1);
	check_is(&a, 401, "192.0.2.1", "alice", "wonder", "alice/app");
	/* a broken file keeps the users we had */
	write_file(a.htpasswd, "alice:$2y$10$short\n\001\002");
	usleep(1100 * 1000);
	check_is(&a, 0, "192.0.2.1", "alice", "looking-glass", "alice/app");
	ad_finish(&a);
}
END_TEST

/* Rules changed on reload: new grants at once, httpd told to forget; a
 * reload that changes nothing flushes nothing. */
START_TEST(rules_reload)
{
	struct ad a;
	struct ans r;

	make_users();
	ad_start(&a, users_alice_bob);
	r = check_is(&a, 0, "192.0.2.1", "bob", "builder", "library/x");
	ck_assert_uint_eq(r.grant, ACL_PULL);
	ad_configure(&a, 1, rules);
	r = check_is(&a, 0, "192.0.2.1", "bob", "builder", "library/x");
	ck_assert_uint_eq(a.flushes, 0);
	ad_configure(&a, 1, "bob\tlibrary/*\tpull,push,delete");
	r = check_is(&a, 0, "192.0.2.1", "bob", "builder", "library/x");
	ck_assert_uint_eq(a.flushes, 1);
	ck_assert_uint_eq(r.grant, ACL_PULL | ACL_PUSH | ACL_DELETE);
	r = check_is(&a, 0, "192.0.2.1", "bob", "builder", "bob/x");
	ck_assert_uint_eq(r.grant, 0);
	/* auth.htpasswd emptied on reload: open */
	ad_configure(&a, 0, "");
	r = check_is(&a, 0, "192.0.2.1", NULL, NULL, "bob/x");
	ck_assert_uint_eq(r.grant, ACL_ALL);
	ad_finish(&a);
}
END_TEST

/* A hash made by Apache's htpasswd -B logs in. */
START_TEST(apache_hash)
{
	char users[256] = "", line[200];
	struct ad a;
	struct ans r;
	FILE *p;

	if (system("command -v htpasswd >/dev/null 2>&1") != 0) {
		fprintf(stderr, "authd: no htpasswd (apache2-utils): "
		    "skipped\n");
		return;
	}
	ck_assert_ptr_nonnull(p = popen("htpasswd -nbB -C 10 carol "
	    "'s3cr3t pass'", "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	ck_assert_int_eq(pclose(p), 0);
	snprintf(users, sizeof(users), "%s", line);
	ad_start(&a, users);
	r = check_is(&a, 0, "192.0.2.1", "carol", "s3cr3t pass", "carol/x");
	ck_assert_uint_eq(r.grant, ACL_PULL | ACL_PUSH);
	r = check_is(&a, 401, "192.0.2.1", "carol", "s3cr3t", "carol/x");
	ad_finish(&a);
}
END_TEST

/* Verify a token with the key authd sent; its claims in c. */
static void
verify(struct ad *a, const char *tok, struct jwt_claims *c)
{
	char err[256];

	ck_assert_msg(jwt_verify(a->pub, a->kid, tok, strlen(tok), ISSUER,
	    SERVICE, (int64_t)time(NULL), c, err, sizeof(err)) == 0,
	    "verify: %s", err);
}

static unsigned
access_of(const struct jwt_claims *c, const char *type, const char *name)
{
	for (size_t i = 0; i < c->naccess; i++)
		if (strcmp(c->access[i].type, type) == 0 &&
		    strcmp(c->access[i].name, name) == 0)
			return c->access[i].actions;
	return 0;
}

/* Tokens: only granted scopes, verifiable with the public key alone, a
 * token for A does not name B, another service is refused. */
START_TEST(tokens)
{
	struct jwt_claims c;
	struct ad a;
	struct ans r;

	make_users();
	ad_start(&a, users_alice_bob);
	r = token(&a, "alice", "wonder", "repository:alice/app:pull,push\n"
	    "repository:bob/x:pull,push\nregistry:catalog:*\n"
	    "repository:alice/app:delete", SERVICE);
	ck_assert_uint_eq(r.code, 0);
	ck_assert_uint_eq(r.time, 300);
	verify(&a, r.token, &c);
	ck_assert_str_eq(c.sub, "alice");
	ck_assert_int_eq(c.exp - c.iat, 300);
	ck_assert_uint_eq(access_of(&c, "repository", "alice/app"),
	    ACL_PULL | ACL_PUSH);
	ck_assert_uint_eq(access_of(&c, "registry", "catalog"), ACL_CATALOG);
	ck_assert_uint_eq(c.naccess, 2);	/* bob/x: nothing granted */
	/* asked for A only: B is not in it */
	r = token(&a, "bob", "builder", "repository:bob/x:pull", SERVICE);
	ck_assert_uint_eq(r.code, 0);
	verify(&a, r.token, &c);
	ck_assert_uint_eq(c.naccess, 1);
	ck_assert_uint_eq(access_of(&c, "repository", "bob/x"), ACL_PULL);
	ck_assert_uint_eq(access_of(&c, "repository", "bob/y"), 0);
	/* anonymous: a token with what anonymous may do */
	r = token(&a, NULL, NULL, "repository:library/b:pull,push", SERVICE);
	ck_assert_uint_eq(r.code, 0);
	verify(&a, r.token, &c);
	ck_assert_str_eq(c.sub, "");
	ck_assert_uint_eq(access_of(&c, "repository", "library/b"), ACL_PULL);
	r = token(&a, "bob", "builder", "repository:bob/x:pull", "other");
	ck_assert_uint_eq(r.code, 400);
	r = token(&a, "bob", "builder", "repository:Bad..Name:pull", SERVICE);
	ck_assert_uint_eq(r.code, 400);
	r = token(&a, "bob", "nope", "repository:bob/x:pull", SERVICE);
	ck_assert_uint_eq(r.code, 401);
	ad_finish(&a);
}
END_TEST

/* M_AUDIT bodies from httpd: whole lines kept, a hostile body (a line
 * without its end, a huge line, bytes that are not JSON) leaves the file
 * one valid object a line. */
static void
send_audit(struct ad *a, const char *body, size_t len)
{
	struct msgb mb;

	msgb_init(&mb, M_AUDIT);
	msgb_bytes(&mb, A_BODY, body, len);
	wd_send(a->w.fd, &mb, ++a->w.nextid);
}

#define REC(action) "{\"time\":\"2026-12-02T10:00:00.000Z\",\"addr\":" \
	"\"192.0.2.1\",\"user\":\"alice\",\"action\":\"" action "\"," \
	"\"repo\":\"alice/app\",\"ref\":\"latest\",\"digest\":null," \
	"\"status\":200,\"bytes\":1234}\n"

#define FORGED "{\"time\":\"2026-01-01T00:00:00.000Z\",\"addr\":" \
	"\"192.0.2.1\",\"user\":\"alice\",\"action\":\"login\"," \
	"\"repo\":null,\"ref\":null,\"digest\":null,\"status\":200," \
	"\"bytes\":0,\"by\":\"authd\"}\n"

START_TEST(audit)
{
	static const char junk[] = "{\"a\":1}\n{broken\n\"x\"\n{\"b\":\001}\n";
	json_t *l[16];
	struct ad a;
	struct ans r;
	size_t n, hugelen = 100 * 1024;
	struct msgb mb;
	char *huge;

	make_users();
	ad_start(&a, users_alice_bob);
	r = check_is(&a, 401, "192.0.2.1", "alice", "nope", "alice/app");
	r = token(&a, "alice", "wonder", "repository:alice/app:pull", SERVICE);
	ck_assert_uint_eq(r.code, 0);
	send_audit(&a, REC("pull") REC("push"),
	    strlen(REC("pull") REC("push")));
	huge = malloc(hugelen);
	ck_assert_ptr_nonnull(huge);
	memset(huge, 'x', hugelen);
	memcpy(huge, REC("delete"), strlen(REC("delete")));
	huge[0 + strlen(REC("delete"))] = '{';
	send_audit(&a, huge, hugelen);		/* one line, then no end */
	send_audit(&a, junk, sizeof(junk) - 1);
	/* a login line httpd made up, claiming to be ours: dropped */
	send_audit(&a, FORGED, strlen(FORGED));
	send_audit(&a, REC("pull") "{\"no\":\"end\"}",
	    strlen(REC("pull")) + 12);
	free(huge);
	r = check(&a, "192.0.2.1", "alice", "wonder", "alice/app");
	n = audit_lines(&a, 7, l, nitems(l));
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq(jstr(l[0], "action"), "login_failed");
	ck_assert_str_eq(jstr(l[0], "user"), "alice");
	ck_assert_int_eq(json_integer_value(json_object_get(l[0], "status")),
	    401);
	ck_assert_str_eq(jstr(l[1], "action"), "login");
	ck_assert_str_eq(jstr(l[2], "action"), "token");
	ck_assert_str_eq(jstr(l[2], "repo"), "alice/app");
	ck_assert_str_eq(jstr(l[3], "action"), "pull");
	ck_assert_str_eq(jstr(l[4], "action"), "push");
	ck_assert_str_eq(jstr(l[5], "action"), "delete");
	ck_assert_str_eq(jstr(l[6], "action"), "pull");
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(jstr(l[i], "by"), i < 3 ? "authd" : "httpd");
	free_lines(l, n);
	/* audit.file emptied on reload: master sends no descriptor */
	send_audit_fd(&a, 0);
	/* master's link and httpd's are read in no set order: the ping's
	 * answer says the descriptor message was taken first; httpd's ping
	 * that the record was taken (and dropped) */
	wd_ping(&a.w);
	send_audit(&a, REC("pull"), strlen(REC("pull")));
	msgb_init(&mb, M_PING);
	ck_assert_int_eq(wd_call(&a.w, &mb)->type, M_PONG);
	usleep(200 * 1000);
	n = audit_lines(&a, 7, l, nitems(l));
	ck_assert_uint_eq(n, 7);
	free_lines(l, n);
	ad_finish(&a);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("authd_proto");
	TCase *tc = tcase_create("proto");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, open_mode);
	tcase_add_test(tc, passwords);
	tcase_add_test(tc, cache_speed);
	tcase_add_test(tc, rate_limit);
	tcase_add_test(tc, rate_limit_v6);
	tcase_add_test(tc, cached_not_locked_out);
	tcase_add_test(tc, htpasswd_edited);
	tcase_add_test(tc, rules_reload);
	tcase_add_test(tc, apache_hash);
	tcase_add_test(tc, tokens);
	tcase_add_test(tc, audit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
