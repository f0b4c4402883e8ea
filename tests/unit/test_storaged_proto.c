/*
 * test_storaged_proto.c - end-to-end tests of the storaged worker: each test
 * starts the built storaged/storaged on a fresh store directory, plays
 * master (configuration, a peer socket) and httpd (requests, pipes, memfds)
 * over real socketpairs, and checks the answers and the files on disk.
 * STORAGED_BENCH=1 adds throughput measurements.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* pipe2, memfd_create, asprintf */
#endif
#include <sys/mman.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "digest.h"
#include "msg.h"
#include "mtext.h"
#include "oci.h"
#include "proc.h"
#include "regerr.h"
#include "worker_driver.h"
#include "unit.h"

#define REPO	"team/app"
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

struct sd {
	struct wdrv	 w;		/* the process, its control channel and
					   httpd's link */
	char		 dir[PATH_MAX];
};

/* More configuration for the next sd_start: name, value pairs. */
static const char *extra_conf[4][2];

static uint64_t
errcode(const struct msg *m)
{
	return m->type == M_ERR ? msg_u64(m, A_CODE, 0) : 0;
}

/* Configure storage.delete (and fsync) and wait until it took effect. */
static void
configure(struct sd *s, int del)
{
	wd_conf_set(&s->w, "storage.root", s->dir);
	wd_conf_set(&s->w, "storage.delete", del ? "true" : "false");
	wd_conf_set(&s->w, "storage.fsync", getenv("STORAGED_NOFSYNC") ? "false" :
	    "true");
	if (getenv("STORAGED_DEBUG"))
		wd_conf_set(&s->w, "log_level", "debug");
	for (size_t i = 0; i < nitems(extra_conf) && extra_conf[i][0]; i++)
		wd_conf_set(&s->w, extra_conf[i][0], extra_conf[i][1]);
	wd_conf_end(&s->w);
	wd_ping(&s->w);
}

/* Start storaged on dir (made if NULL) with storage.delete del. */
static void
sd_start(struct sd *s, const char *dir, int del)
{

	if (dir == NULL) {
		const char *base = getenv("STORAGED_TESTDIR");
		(void)snprintf(s->dir, sizeof(s->dir), "%s/sdtest.XXXXXX",
		    base ? base : "/tmp");
		ck_assert_ptr_nonnull(mkdtemp(s->dir));
	} else if (dir != s->dir)
		(void)snprintf(s->dir, sizeof(s->dir), "%s", dir);
	/* as root, storaged must drop to a user, and chroots into the store */
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");
		ck_assert_ptr_nonnull(pw);
		ck_assert_int_eq(chown(s->dir, pw->pw_uid, pw->pw_gid), 0);
	}
	wd_spawn(&s->w, "storaged", s->dir);
	configure(s, del);
	wd_peer(&s->w, PROC_HTTPD);
}

static void
sd_stop(struct sd *s, int sig)
{
	wd_stop(&s->w, sig);
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void
sd_finish(struct sd *s)
{
	sd_stop(s, SIGTERM);
	if (!getenv("STORAGED_KEEP"))
		nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- request helpers --- */

static void
dstr(const void *p, size_t len, enum digest_alg alg, char *out)
{
	struct digest d;

	digest_buf(alg, p, len, &d);
	ck_assert_int_eq(digest_format(&d, out, DIGEST_STRMAX), 0);
}

static struct msg *
req2(struct sd *s, int type, const char *repo, int attr, const char *v)
{
	struct msgb mb;

	msgb_init(&mb, type);
	if (repo)
		msgb_str(&mb, A_REPO, repo);
	if (attr)
		msgb_str(&mb, attr, v);
	return wd_call(&s->w, &mb);
}

/* Start an upload; its uuid in uuid. */
static void
up_start(struct sd *s, const char *repo, char *uuid)
{
	struct msg *m = req2(s, M_UPLOAD_START, repo, 0, NULL);

	ck_assert_int_eq(m->type, M_UPLOAD);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 1), 0);
	snprintf(uuid, 64, "%s", msg_str(m, A_UUID));
}

/* Write all of p to fd (blocking). */
static void
write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, c, len);
		if (n == -1 && errno == EPIPE)
			return;		/* storaged refused it; the reply says why */
		ck_assert_int_gt(n, 0);
		c += n;
		len -= (size_t)n;
	}
}

/* M_UPLOAD_WRITE of p through a pipe; length announced if withlen. */
static struct msg *
up_write(struct sd *s, const char *repo, const char *uuid, uint64_t off,
    const void *p, size_t len, int withlen, uint64_t announced)
{
	struct msgb mb;
	uint32_t id = ++s->w.nextid;
	int pp[2];

	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	msgb_init(&mb, M_UPLOAD_WRITE);
	msgb_str(&mb, A_REPO, repo);
	msgb_str(&mb, A_UUID, uuid);
	msgb_u64(&mb, A_OFFSET, off);
	if (withlen)
		msgb_u64(&mb, A_LENGTH, announced);
	msgb_fd(&mb, A_FD, pp[0]);
	wd_send(s->w.fd, &mb, id);
	write_all(pp[1], p, len);
	close(pp[1]);
	do
		wd_recv(s->w.fd);
	while (wd_rep.id != id);
	return &wd_rep;
}

static struct msg *
up_simple(struct sd *s, int type, const char *repo, const char *uuid,
    const char *digest)
{
	struct msgb mb;

	msgb_init(&mb, type);
	msgb_str(&mb, A_REPO, repo);
	msgb_str(&mb, A_UUID, uuid);
	if (digest)
		msgb_str(&mb, A_DIGEST, digest);
	return wd_call(&s->w, &mb);
}

/* Upload p as a blob of repo in one write; its digest in dg. */
static void
push_blob(struct sd *s, const char *repo, const void *p, size_t len, char *dg)
{
	char uuid[64];
	struct msg *m;

	dstr(p, len, DIGEST_SHA256, dg);
	up_start(s, repo, uuid);
	m = up_write(s, repo, uuid, 0, p, len, 1, len);
	ck_assert_int_eq(m->type, M_UPLOAD);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), len);
	m = up_simple(s, M_UPLOAD_COMMIT, repo, uuid, dg);
	ck_assert_msg(m->type == M_BLOB, "commit: %d %s", (int)errcode(m),
	    msg_str(m, A_TEXT) ? msg_str(m, A_TEXT) : "");
	ck_assert_str_eq(msg_str(m, A_DIGEST), dg);
}

static struct msg *
mput(struct sd *s, const char *repo, const char *ref, const char *ct,
    const char *body)
{
	struct msgb mb;

	msgb_init(&mb, M_MANIFEST_PUT);
	msgb_str(&mb, A_REPO, repo);
	msgb_str(&mb, A_REF, ref);
	msgb_str(&mb, A_MEDIATYPE, ct);
	msgb_u64(&mb, A_SIZE, strlen(body));
	msgb_bytes(&mb, A_BODY, body, strlen(body));
	return wd_call(&s->w, &mb);
}

static struct msg *
mref(struct sd *s, int type, const char *repo, const char *ref)
{
	return req2(s, type, repo, A_REF, ref);
}

/* An image manifest body with config cfg and layers (NULL-terminated). */
static char *
image_json(const char *cfgmt, const char *cfg, size_t cfgsize,
    const char *const *layers, const size_t *sizes, const char *extra)
{
	char *p = NULL, *q;

	if (asprintf(&p, "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST
	    "\",\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
	    "\"layers\":[", cfgmt, cfg, cfgsize) < 0)
		abort();
	for (int i = 0; layers && layers[i]; i++) {
		if (asprintf(&q, "%s%s{\"mediaType\":\"application/vnd.oci."
		    "image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}", p,
		    i ? "," : "", layers[i], sizes[i]) < 0)
			abort();
		free(p);
		p = q;
	}
	if (asprintf(&q, "%s]%s}", p, extra ? extra : "") < 0)
		abort();
	free(p);
	return q;
}

/* Push a config and a layer, then an image manifest as tag; digest in dg. */
static char *
push_image(struct sd *s, const char *repo, const char *tag, const char *seed,
    char *dg)
{
	char cfgd[DIGEST_STRMAX], layd[DIGEST_STRMAX], cfg[128], lay[128];
	const char *layers[2] = { layd, NULL };
	size_t sizes[1];
	struct msg *m;
	char *body;

	snprintf(cfg, sizeof(cfg), "{\"config\":\"%s\"}", seed);
	snprintf(lay, sizeof(lay), "layer of %s", seed);
	push_blob(s, repo, cfg, strlen(cfg), cfgd);
	push_blob(s, repo, lay, strlen(lay), layd);
	sizes[0] = strlen(lay);
	body = image_json("application/vnd.oci.image.config.v1+json", cfgd,
	    strlen(cfg), layers, sizes, NULL);
	m = mput(s, repo, tag, MT_OCI_MANIFEST, body);
	ck_assert_msg(m->type == M_MANIFEST, "put: %d %s", (int)errcode(m),
	    msg_str(m, A_TEXT) ? msg_str(m, A_TEXT) : "");
	dstr(body, strlen(body), DIGEST_SHA256, dg);
	ck_assert_str_eq(msg_str(m, A_DIGEST), dg);
	return body;
}

/* Contents of a file under the store, NUL-terminated; NULL if absent. */
static char *
slurp(struct sd *s, const char *rel)
{
	char p[PATH_MAX * 2];
	struct stat st;
	char *b;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", s->dir, rel);
	if ((fd = open(p, O_RDONLY)) == -1)
		return NULL;
	ck_assert_int_eq(fstat(fd, &st), 0);
	b = calloc(1, (size_t)st.st_size + 1);
	ck_assert_int_eq(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	return b;
}

/* Read a reply's body: inline A_BODY, or the whole memfd/blob in A_FD. */
static char *
reply_body(struct msg *m, size_t *len)
{
	struct stat st;
	char *b;
	int fd = msg_take_fd(m, A_FD);

	if (fd == -1) {
		*len = m->v[A_BODY].len;
		b = malloc(*len + 1);
		memcpy(b, m->v[A_BODY].p, *len);
		b[*len] = '\0';
		return b;
	}
	ck_assert_int_eq(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	b = malloc(*len + 1);
	ck_assert_int_eq(pread(fd, b, *len, 0), (ssize_t)*len);
	b[*len] = '\0';
	close(fd);
	return b;
}

/* --- tests --- */

START_TEST(upload_monolithic)
{
	static const char data[] = "hello, storaged";
	char dg[DIGEST_STRMAX], path[PATH_MAX + 512], buf[64];
	struct sd s;
	struct msg *m;
	char *link;
	int fd;

	sd_start(&s, NULL, 1);
	push_blob(&s, REPO, data, strlen(data), dg);
	/* layout: blob data and the repo's layer link */
	snprintf(path, sizeof(path), "docker/registry/v2/blobs/sha256/%.2s/%s/"
	    "data", dg + 7, dg + 7);
	link = slurp(&s, path);
	ck_assert_ptr_nonnull(link);
	ck_assert_str_eq(link, data);
	free(link);
	snprintf(path, sizeof(path), "docker/registry/v2/repositories/" REPO
	    "/_layers/sha256/%s/link", dg + 7);
	link = slurp(&s, path);
	ck_assert_ptr_nonnull(link);
	ck_assert_str_eq(link, dg);
	free(link);
	/* stat and open */
	m = req2(&s, M_BLOB_STAT, REPO, A_DIGEST, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	ck_assert_uint_eq(msg_u64(m, A_SIZE, 0), strlen(data));
	m = req2(&s, M_BLOB_OPEN, REPO, A_DIGEST, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	fd = msg_take_fd(m, A_FD);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), (ssize_t)strlen(data));
	ck_assert_int_eq(write(fd, "x", 1), -1);	/* read-only */
	close(fd);
	/* not linked in another repo; bad input */
	m = req2(&s, M_BLOB_STAT, "other", A_DIGEST, dg);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UNKNOWN);
	m = req2(&s, M_BLOB_STAT, "Bad/Name", A_DIGEST, dg);
	ck_assert_uint_eq(errcode(m), RE_NAME_INVALID);
	m = req2(&s, M_BLOB_STAT, REPO, A_DIGEST, "sha256:abc");
	ck_assert_uint_eq(errcode(m), RE_DIGEST_INVALID);
	m = req2(&s, M_BLOB_STAT, REPO, A_DIGEST, "sha384:abc");
	ck_assert_uint_eq(errcode(m), RE_UNSUPPORTED);
	m = req2(&s, M_BLOB_STAT, "../etc", A_DIGEST, dg);
	ck_assert_uint_eq(errcode(m), RE_NAME_INVALID);
	/* the upload directory is gone */
	snprintf(path, sizeof(path), "%s/docker/registry/v2/repositories/"
	    REPO "/_uploads", s.dir);
	ck_assert_int_eq(rmdir(path), 0);	/* empty */
	sd_finish(&s);
}
END_TEST

START_TEST(upload_wrong_digest)
{
	static const char data[] = "some bytes";
	char dg[DIGEST_STRMAX], bad[DIGEST_STRMAX], uuid[64];
	struct sd s;
	struct msg *m;

	sd_start(&s, NULL, 1);
	dstr(data, strlen(data), DIGEST_SHA256, dg);
	dstr("other", 5, DIGEST_SHA256, bad);
	up_start(&s, REPO, uuid);
	m = up_write(&s, REPO, uuid, UINT64_MAX, data, strlen(data), 0, 0);
	ck_assert_int_eq(m->type, M_UPLOAD);
	m = up_simple(&s, M_UPLOAD_COMMIT, REPO, uuid, bad);
	ck_assert_uint_eq(errcode(m), RE_DIGEST_INVALID);
	m = up_simple(&s, M_UPLOAD_COMMIT, REPO, uuid, "sha256:zz");
	ck_assert_uint_eq(errcode(m), RE_DIGEST_INVALID);
	/* kept: status still answers, and the right digest commits */
	m = up_simple(&s, M_UPLOAD_STATUS, REPO, uuid, NULL);
	ck_assert_int_eq(m->type, M_UPLOAD);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), strlen(data));
	m = up_simple(&s, M_UPLOAD_COMMIT, REPO, uuid, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	/* the session is gone now */
	m = up_simple(&s, M_UPLOAD_STATUS, REPO, uuid, NULL);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UPLOAD_UNKNOWN);
	m = up_simple(&s, M_UPLOAD_STATUS, REPO, "../../x", NULL);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UPLOAD_UNKNOWN);
	sd_finish(&s);
}
END_TEST

START_TEST(upload_chunks)
{
	char dg[DIGEST_STRMAX], dg512[DIGEST_STRMAX], uuid[64], *all;
	struct sd s;
	struct msg *m;
	size_t i, n = 3 * 1024 * 1024 + 17;

	all = malloc(n);
	for (i = 0; i < n; i++)
		all[i] = (char)(i * 7 + i / 4096);
	dstr(all, n, DIGEST_SHA256, dg);
	dstr(all, n, DIGEST_SHA512, dg512);
	sd_start(&s, NULL, 1);
	up_start(&s, REPO, uuid);
	m = up_write(&s, REPO, uuid, 0, all, 1000000, 1, 1000000);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), 1000000);
	/* wrong offset: RANGE_INVALID, nothing changes */
	m = up_write(&s, REPO, uuid, 5, all, 10, 1, 10);
	ck_assert_uint_eq(errcode(m), RE_RANGE_INVALID);
	/* wrong length (short and long): SIZE_INVALID, rolled back */
	m = up_write(&s, REPO, uuid, 1000000, all + 1000000, 100, 1, 200);
	ck_assert_uint_eq(errcode(m), RE_SIZE_INVALID);
	m = up_write(&s, REPO, uuid, 1000000, all + 1000000, 300, 1, 200);
	ck_assert_uint_eq(errcode(m), RE_SIZE_INVALID);
	m = up_simple(&s, M_UPLOAD_STATUS, REPO, uuid, NULL);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), 1000000);
	m = up_write(&s, REPO, uuid, 1000000, all + 1000000, 2000000, 1,
	    2000000);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), 3000000);
	m = up_write(&s, REPO, uuid, UINT64_MAX, all + 3000000, n - 3000000,
	    0, 0);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), n);
	/* sha512 is accepted (the data is hashed again at commit) */
	m = up_simple(&s, M_UPLOAD_COMMIT, REPO, uuid, dg512);
	ck_assert_int_eq(m->type, M_BLOB);
	ck_assert_str_eq(msg_str(m, A_DIGEST), dg512);
	m = req2(&s, M_BLOB_STAT, REPO, A_DIGEST, dg512);
	ck_assert_uint_eq(msg_u64(m, A_SIZE, 0), n);
	m = req2(&s, M_BLOB_STAT, REPO, A_DIGEST, dg);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UNKNOWN);
	free(all);
	sd_finish(&s);
}
END_TEST

START_TEST(upload_busy_and_cancel)
{
	char uuid[64];
	struct msgb mb;
	struct sd s;
	struct msg *m;
	int pp[2];

	sd_start(&s, NULL, 1);
	up_start(&s, REPO, uuid);
	/* a write that stays open ... */
	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	msgb_init(&mb, M_UPLOAD_WRITE);
	msgb_str(&mb, A_REPO, REPO);
	msgb_str(&mb, A_UUID, uuid);
	msgb_u64(&mb, A_OFFSET, 0);
	msgb_fd(&mb, A_FD, pp[0]);
	wd_send(s.w.fd, &mb, 1000);
	write_all(pp[1], "abc", 3);
	/* ... makes a second one and a commit BLOB_UPLOAD_INVALID */
	m = up_write(&s, REPO, uuid, UINT64_MAX, "x", 1, 0, 0);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UPLOAD_INVALID);
	m = up_simple(&s, M_UPLOAD_COMMIT, REPO, uuid,
	    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_uint_eq(errcode(m), RE_BLOB_UPLOAD_INVALID);
	/* cancel: the open write is answered, the session is gone */
	m = up_simple(&s, M_UPLOAD_CANCEL, REPO, uuid, NULL);
	if (m->id == 1000) {
		ck_assert_uint_eq(errcode(m), RE_BLOB_UPLOAD_UNKNOWN);
		wd_recv(s.w.fd);
	}
	ck_assert_int_eq(wd_rep.type, M_DONE);
	close(pp[1]);
	m = up_simple(&s, M_UPLOAD_STATUS, REPO, uuid, NULL);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UPLOAD_UNKNOWN);
	m = up_simple(&s, M_UPLOAD_CANCEL, REPO, uuid, NULL);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UPLOAD_UNKNOWN);
	m = up_write(&s, REPO, "00000000-0000-4000-8000-000000000000", 0, "x",
	    1, 0, 0);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UPLOAD_UNKNOWN);
	sd_finish(&s);
}
END_TEST

/* Send an M_UPLOAD_WRITE that httpd will confirm (a chunked body) with
 * request id id; the write end of its pipe is returned. */
static int
up_write_confirmed(struct sd *s, const char *uuid, uint32_t id)
{
	struct msgb mb;
	int pp[2];

	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	msgb_init(&mb, M_UPLOAD_WRITE);
	msgb_str(&mb, A_REPO, REPO);
	msgb_str(&mb, A_UUID, uuid);
	msgb_u64(&mb, A_OFFSET, UINT64_MAX);
	msgb_u64(&mb, A_FLAGS, UPLOAD_F_CONFIRM);
	msgb_fd(&mb, A_FD, pp[0]);
	wd_send(s->w.fd, &mb, id);
	return pp[1];
}

/* M_UPLOAD_END for write id: clean with len bytes, or (len < 0) failed. */
static void
up_end(struct sd *s, const char *uuid, uint32_t id, int64_t len)
{
	struct msgb mb;

	msgb_init(&mb, M_UPLOAD_END);
	msgb_str(&mb, A_REPO, REPO);
	msgb_str(&mb, A_UUID, uuid);
	msgb_u64(&mb, A_REQID, id);
	if (len >= 0)
		msgb_u64(&mb, A_LENGTH, (uint64_t)len);
	wd_send(s->w.fd, &mb, 0);
}

/* The reply to request id (others are dropped). */
static struct msg *
reply_to(struct sd *s, uint32_t id)
{
	do
		wd_recv(s->w.fd);
	while (wd_rep.id != id);
	return &wd_rep;
}

static uint64_t
up_offset(struct sd *s, const char *uuid)
{
	struct msg *m = up_simple(s, M_UPLOAD_STATUS, REPO, uuid, NULL);

	ck_assert_int_eq(m->type, M_UPLOAD);
	return msg_u64(m, A_OFFSET, UINT64_MAX);
}

/* A confirmed (chunked) write keeps its bytes only when M_UPLOAD_END says
 * the body ended whole, with as many bytes as arrived; otherwise the
 * upload is back where it was, hash included, and commits as if the failed
 * writes never happened. */
START_TEST(upload_confirmed_end)
{
	char uuid[64], dg[DIGEST_STRMAX];
	struct sd s;
	struct msg *m;
	int fd;

	dstr("abcdefgh", 8, DIGEST_SHA256, dg);
	sd_start(&s, NULL, 1);
	up_start(&s, REPO, uuid);
	m = up_write(&s, REPO, uuid, 0, "abc", 3, 1, 3);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), 3);
	/* the body failed after some bytes (malformed chunk, cut off) */
	fd = up_write_confirmed(&s, uuid, 501);
	write_all(fd, "XXXXX", 5);
	close(fd);
	up_end(&s, uuid, 501, -1);
	ck_assert_uint_eq(errcode(reply_to(&s, 501)), RE_BLOB_UPLOAD_INVALID);
	ck_assert_uint_eq(up_offset(&s, uuid), 3);
	/* the failure is told while the body still flows */
	fd = up_write_confirmed(&s, uuid, 502);
	write_all(fd, "YYYY", 4);
	up_end(&s, uuid, 502, -1);
	ck_assert_uint_eq(errcode(reply_to(&s, 502)), RE_BLOB_UPLOAD_INVALID);
	close(fd);
	ck_assert_uint_eq(up_offset(&s, uuid), 3);
	/* httpd saw another length than arrived */
	fd = up_write_confirmed(&s, uuid, 503);
	write_all(fd, "ZZZZZ", 5);
	close(fd);
	up_end(&s, uuid, 503, 4);
	ck_assert_uint_eq(errcode(reply_to(&s, 503)), RE_SIZE_INVALID);
	ck_assert_uint_eq(up_offset(&s, uuid), 3);
	/* an END for another write changes nothing; the clean end may come
	 * before the pipe is drained */
	fd = up_write_confirmed(&s, uuid, 504);
	up_end(&s, uuid, 9999, -1);
	up_end(&s, uuid, 504, 5);
	write_all(fd, "defgh", 5);
	close(fd);
	m = reply_to(&s, 504);
	ck_assert_int_eq(m->type, M_UPLOAD);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), 8);
	/* an END for a write that is over is ignored */
	up_end(&s, uuid, 504, -1);
	ck_assert_uint_eq(up_offset(&s, uuid), 8);
	m = up_simple(&s, M_UPLOAD_COMMIT, REPO, uuid, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	sd_finish(&s);
}
END_TEST

/* A write whose link goes before the body was confirmed is undone. */
START_TEST(upload_confirmed_link_death)
{
	char uuid[64];
	struct msgb mb;
	struct sd s;
	int fd, link[2];

	sd_start(&s, NULL, 1);
	up_start(&s, REPO, uuid);
	(void)up_write(&s, REPO, uuid, 0, "abc", 3, 1, 3);
	fd = up_write_confirmed(&s, uuid, 601);
	write_all(fd, "partial", 7);
	close(fd);
	usleep(100 * 1000);
	close(s.w.fd);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    link), 0);
	msgb_init(&mb, M_PEER);
	msgb_u64(&mb, A_PEER, PROC_HTTPD);
	msgb_fd(&mb, A_FD, link[1]);
	wd_send(s.w.ctl, &mb, ++s.w.nextid);
	s.w.fd = link[0];
	usleep(100 * 1000);
	ck_assert_uint_eq(up_offset(&s, uuid), 3);
	sd_finish(&s);
}
END_TEST

/* M_UPLOAD_START from addr; the reply. */
static struct msg *
up_start_from(struct sd *s, const char *repo, const char *addr)
{
	struct msgb mb;

	msgb_init(&mb, M_UPLOAD_START);
	msgb_str(&mb, A_REPO, repo);
	msgb_str(&mb, A_ADDR, addr);
	return wd_call(&s->w, &mb);
}

/* Sessions are bounded per address and per repository; a cancelled one
 * frees its slot; after a restart the sessions on disk still count. */
START_TEST(upload_quotas)
{
	char uuid[64];
	struct sd s;
	struct msg *m;

	extra_conf[0][0] = "storage.max_uploads_per_address";
	extra_conf[0][1] = "2";
	extra_conf[1][0] = "storage.max_uploads_per_repository";
	extra_conf[1][1] = "3";
	sd_start(&s, NULL, 1);
	ck_assert_int_eq(up_start_from(&s, REPO, "10.0.0.1")->type, M_UPLOAD);
	snprintf(uuid, sizeof(uuid), "%s", msg_str(&wd_rep, A_UUID));
	ck_assert_int_eq(up_start_from(&s, REPO, "10.0.0.1")->type, M_UPLOAD);
	m = up_start_from(&s, "other/repo", "10.0.0.1");
	ck_assert_uint_eq(errcode(m), RE_TOOMANYREQUESTS);
	ck_assert_ptr_nonnull(strstr(msg_str(m, A_TEXT), "address"));
	ck_assert_int_eq(up_start_from(&s, REPO, "10.0.0.2")->type, M_UPLOAD);
	m = up_start_from(&s, REPO, "10.0.0.3");
	ck_assert_uint_eq(errcode(m), RE_TOOMANYREQUESTS);
	ck_assert_ptr_nonnull(strstr(msg_str(m, A_TEXT), "repository"));
	ck_assert_int_eq(up_start_from(&s, "other/repo", "10.0.0.3")->type,
	    M_UPLOAD);
	m = up_simple(&s, M_UPLOAD_CANCEL, REPO, uuid, NULL);
	ck_assert_int_eq(m->type, M_DONE);
	ck_assert_int_eq(up_start_from(&s, REPO, "10.0.0.1")->type, M_UPLOAD);
	ck_assert_uint_eq(errcode(up_start_from(&s, REPO, "10.0.0.4")),
	    RE_TOOMANYREQUESTS);
	ck_assert_uint_eq(errcode(up_start_from(&s, REPO, "bad addr")),
	    RE_INTERNAL);
	sd_stop(&s, SIGKILL);
	sd_start(&s, s.dir, 1);
	ck_assert_uint_eq(errcode(up_start_from(&s, REPO, "10.0.0.9")),
	    RE_TOOMANYREQUESTS);
	ck_assert_int_eq(up_start_from(&s, "new/repo", "10.0.0.1")->type,
	    M_UPLOAD);
	memset(extra_conf, 0, sizeof(extra_conf));
	sd_finish(&s);
}
END_TEST

/* A session idle past storage.upload_expiry is removed, files and all. */
START_TEST(upload_expiry)
{
	char uuid[64], p[PATH_MAX + 256];
	struct stat st;
	struct sd s;
	int i;

	extra_conf[0][0] = "storage.upload_expiry";
	extra_conf[0][1] = "1s";
	sd_start(&s, NULL, 1);
	up_start(&s, REPO, uuid);
	(void)up_write(&s, REPO, uuid, 0, "abc", 3, 1, 3);
	snprintf(p, sizeof(p), "%s/docker/registry/v2/repositories/" REPO
	    "/_uploads/%s", s.dir, uuid);
	ck_assert_int_eq(stat(p, &st), 0);
	for (i = 0; i < 100; i++) {
		if (errcode(up_simple(&s, M_UPLOAD_STATUS, REPO, uuid, NULL)) ==
		    RE_BLOB_UPLOAD_UNKNOWN)
			break;
		usleep(100 * 1000);
	}
	ck_assert_int_lt(i, 100);
	ck_assert_int_eq(stat(p, &st), -1);
	memset(extra_conf, 0, sizeof(extra_conf));
	sd_finish(&s);
}
END_TEST

START_TEST(upload_survives_restart)
{
	static const char a[] = "first chunk, ", b[] = "second chunk";
	char dg[DIGEST_STRMAX], uuid[64], all[64];
	struct sd s;
	struct msg *m;
	char *sa;

	snprintf(all, sizeof(all), "%s%s", a, b);
	dstr(all, strlen(all), DIGEST_SHA256, dg);
	sd_start(&s, NULL, 1);
	up_start(&s, REPO, uuid);
	m = up_write(&s, REPO, uuid, 0, a, strlen(a), 1, strlen(a));
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), strlen(a));
	/* Distribution's startedat: RFC 3339 */
	{
		char p[256];
		snprintf(p, sizeof(p), "docker/registry/v2/repositories/" REPO
		    "/_uploads/%s/startedat", uuid);
		sa = slurp(&s, p);
		ck_assert_ptr_nonnull(sa);
		ck_assert_int_eq(strlen(sa), 20);
		ck_assert_int_eq(sa[10], 'T');
		ck_assert_int_eq(sa[19], 'Z');
		free(sa);
	}
	sd_stop(&s, SIGKILL);
	sd_start(&s, s.dir, 1);
	m = up_simple(&s, M_UPLOAD_STATUS, REPO, uuid, NULL);
	ck_assert_int_eq(m->type, M_UPLOAD);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), strlen(a));
	m = up_write(&s, REPO, uuid, strlen(a), b, strlen(b), 1, strlen(b));
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), strlen(all));
	m = up_simple(&s, M_UPLOAD_COMMIT, REPO, uuid, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	ck_assert_uint_eq(msg_u64(m, A_SIZE, 0), strlen(all));
	sd_finish(&s);
}
END_TEST

START_TEST(mount)
{
	char dg[DIGEST_STRMAX];
	struct msgb mb;
	struct sd s;
	struct msg *m;

	sd_start(&s, NULL, 1);
	push_blob(&s, "src", "mount me", 8, dg);
	msgb_init(&mb, M_BLOB_MOUNT);
	msgb_str(&mb, A_REPO, "dst");
	msgb_str(&mb, A_DIGEST, dg);
	msgb_str(&mb, A_FROM, "src");
	m = wd_call(&s.w, &mb);
	ck_assert_int_eq(m->type, M_BLOB);
	ck_assert_uint_eq(msg_u64(m, A_SIZE, 0), 8);
	m = req2(&s, M_BLOB_STAT, "dst", A_DIGEST, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	/* from a repo that does not link it */
	msgb_init(&mb, M_BLOB_MOUNT);
	msgb_str(&mb, A_REPO, "dst2");
	msgb_str(&mb, A_DIGEST, dg);
	msgb_str(&mb, A_FROM, "nothere");
	m = wd_call(&s.w, &mb);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UNKNOWN);
	msgb_init(&mb, M_BLOB_MOUNT);
	msgb_str(&mb, A_REPO, "dst2");
	msgb_str(&mb, A_DIGEST, dg);
	msgb_str(&mb, A_FROM, "../src");
	m = wd_call(&s.w, &mb);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UNKNOWN);
	/* without from: the data exists somewhere */
	m = req2(&s, M_BLOB_MOUNT, "dst3", A_DIGEST, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	m = req2(&s, M_BLOB_MOUNT, "dst3", A_DIGEST,
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000");
	ck_assert_uint_eq(errcode(m), RE_BLOB_UNKNOWN);
	/* blob delete unlinks from one repo only */
	m = req2(&s, M_BLOB_DELETE, "dst", A_DIGEST, dg);
	ck_assert_int_eq(m->type, M_DONE);
	m = req2(&s, M_BLOB_STAT, "dst", A_DIGEST, dg);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UNKNOWN);
	m = req2(&s, M_BLOB_DELETE, "dst", A_DIGEST, dg);
	ck_assert_uint_eq(errcode(m), RE_BLOB_UNKNOWN);
	m = req2(&s, M_BLOB_STAT, "src", A_DIGEST, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	sd_finish(&s);
}
END_TEST

START_TEST(manifest_put_get_delete)
{
	char dg[DIGEST_STRMAX], dg2[DIGEST_STRMAX], p[512];
	struct sd s;
	struct msg *m;
	char *body, *body2, *got, *link;
	size_t len;

	sd_start(&s, NULL, 1);
	body = push_image(&s, REPO, "v1", "one", dg);
	/* by tag and by digest */
	m = mref(&s, M_MANIFEST_GET, REPO, "v1");
	ck_assert_int_eq(m->type, M_MANIFEST);
	ck_assert_str_eq(msg_str(m, A_DIGEST), dg);
	ck_assert_str_eq(msg_str(m, A_MEDIATYPE), MT_OCI_MANIFEST);
	got = reply_body(m, &len);
	ck_assert_str_eq(got, body);
	free(got);
	m = mref(&s, M_MANIFEST_GET, REPO, dg);
	ck_assert_int_eq(m->type, M_MANIFEST);
	ck_assert_uint_eq(msg_u64(m, A_SIZE, 0), strlen(body));
	m = mref(&s, M_MANIFEST_GET, REPO, "v2");
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_UNKNOWN);
	m = mref(&s, M_MANIFEST_GET, "nosuch", "v1");
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_UNKNOWN);
	/* layout */
	snprintf(p, sizeof(p), "docker/registry/v2/repositories/" REPO
	    "/_manifests/tags/v1/current/link");
	link = slurp(&s, p);
	ck_assert_str_eq(link, dg);
	free(link);
	snprintf(p, sizeof(p), "docker/registry/v2/repositories/" REPO
	    "/_manifests/tags/v1/index/sha256/%s/link", dg + 7);
	link = slurp(&s, p);
	ck_assert_str_eq(link, dg);
	free(link);
	snprintf(p, sizeof(p), "docker/registry/v2/repositories/" REPO
	    "/_manifests/revisions/sha256/%s/link", dg + 7);
	link = slurp(&s, p);
	ck_assert_str_eq(link, dg);
	free(link);
	/* put by digest, same bytes under another tag */
	m = mput(&s, REPO, dg, MT_OCI_MANIFEST, body);
	ck_assert_int_eq(m->type, M_MANIFEST);
	m = mput(&s, REPO, "latest", "", body);
	ck_assert_int_eq(m->type, M_MANIFEST);
	ck_assert_str_eq(msg_str(m, A_MEDIATYPE), MT_OCI_MANIFEST);
	/* a second image moves "latest" */
	body2 = push_image(&s, REPO, "latest", "two", dg2);
	m = mref(&s, M_MANIFEST_GET, REPO, "latest");
	ck_assert_str_eq(msg_str(m, A_DIGEST), dg2);
	/* delete by tag removes the tag only */
	m = mref(&s, M_MANIFEST_DELETE, REPO, "latest");
	ck_assert_int_eq(m->type, M_DONE);
	m = mref(&s, M_MANIFEST_GET, REPO, "latest");
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_UNKNOWN);
	m = mref(&s, M_MANIFEST_GET, REPO, dg2);
	ck_assert_int_eq(m->type, M_MANIFEST);
	/* delete by digest removes the revision and its tags */
	m = mput(&s, REPO, "again", "", body);
	m = mref(&s, M_MANIFEST_DELETE, REPO, dg);
	ck_assert_int_eq(m->type, M_DONE);
	m = mref(&s, M_MANIFEST_GET, REPO, dg);
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_UNKNOWN);
	m = mref(&s, M_MANIFEST_GET, REPO, "v1");
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_UNKNOWN);
	m = mref(&s, M_MANIFEST_GET, REPO, "again");
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_UNKNOWN);
	m = mref(&s, M_MANIFEST_DELETE, REPO, dg);
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_UNKNOWN);
	snprintf(p, sizeof(p), "docker/registry/v2/repositories/" REPO
	    "/_manifests/tags/v1/current/link");
	ck_assert_ptr_null(slurp(&s, p));
	/* the blob itself stays (garbage collection removes it) */
	m = req2(&s, M_TAGS_LIST, REPO, 0, NULL);
	ck_assert_int_eq(m->type, M_LIST);
	got = reply_body(m, &len);
	ck_assert_str_eq(got, "{\"name\":\"" REPO "\",\"tags\":[]}");
	free(got);
	/* restart: the index is rebuilt from disk */
	sd_stop(&s, SIGKILL);
	sd_start(&s, s.dir, 1);
	m = mref(&s, M_MANIFEST_GET, REPO, dg2);
	ck_assert_int_eq(m->type, M_MANIFEST);
	got = reply_body(m, &len);
	ck_assert_str_eq(got, body2);
	free(got);
	m = mref(&s, M_MANIFEST_GET, REPO, dg);
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_UNKNOWN);
	free(body);
	free(body2);
	sd_finish(&s);
}
END_TEST

START_TEST(manifest_rejects)
{
	char dg[DIGEST_STRMAX], cfgd[DIGEST_STRMAX], idx[1024], wrong[DIGEST_STRMAX];
	const char *layers[2] = {
	    "sha256:1111111111111111111111111111111111111111111111111111111111111111",
	    NULL };
	size_t sizes[1] = { 5 };
	struct sd s;
	struct msg *m;
	char *body;

	sd_start(&s, NULL, 1);
	push_blob(&s, REPO, "{}", 2, cfgd);
	/* a layer that is not in the repository */
	body = image_json("application/vnd.oci.image.config.v1+json", cfgd, 2,
	    layers, sizes, NULL);
	m = mput(&s, REPO, "t", MT_OCI_MANIFEST, body);
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_BLOB_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(msg_str(m, A_TEXT), layers[0]));
	free(body);
	/* ... unless it is foreign */
	body = image_json("application/vnd.oci.image.config.v1+json", cfgd, 2,
	    NULL, NULL, NULL);
	{
		char *f;
		if (asprintf(&f, "{\"schemaVersion\":2,\"mediaType\":\""
		    MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\":\"application/"
		    "vnd.docker.container.image.v1+json\",\"digest\":\"%s\","
		    "\"size\":2},\"layers\":[{\"mediaType\":\"application/vnd."
		    "docker.image.rootfs.foreign.diff.tar.gzip\",\"digest\":\"%s\","
		    "\"size\":5,\"urls\":[\"https://example.com/x\"]}]}", cfgd,
		    layers[0]) < 0)
			abort();
		m = mput(&s, REPO, "foreign", MT_DOCKER_MANIFEST, f);
		ck_assert_int_eq(m->type, M_MANIFEST);
		ck_assert_str_eq(msg_str(m, A_MEDIATYPE), MT_DOCKER_MANIFEST);
		free(f);
	}
	/* config not in this repo */
	m = mput(&s, "other", "t", MT_OCI_MANIFEST, body);
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_BLOB_UNKNOWN);
	/* digest reference must match */
	dstr(body, strlen(body), DIGEST_SHA256, dg);
	dstr("x", 1, DIGEST_SHA256, wrong);
	m = mput(&s, REPO, wrong, MT_OCI_MANIFEST, body);
	ck_assert_uint_eq(errcode(m), RE_DIGEST_INVALID);
	m = mput(&s, REPO, dg, MT_OCI_MANIFEST, body);
	ck_assert_int_eq(m->type, M_MANIFEST);
	/* bad tag, bad JSON, schema1, content type mismatch */
	m = mput(&s, REPO, "-bad", MT_OCI_MANIFEST, body);
	ck_assert_uint_eq(errcode(m), RE_TAG_INVALID);
	m = mput(&s, REPO, "t", MT_OCI_MANIFEST, "{not json");
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_INVALID);
	m = mput(&s, REPO, "t", "", "{\"schemaVersion\":1,\"name\":\"x\"}");
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_INVALID);
	ck_assert_ptr_nonnull(strstr(msg_str(m, A_TEXT), "schema1"));
	m = mput(&s, REPO, "t", MT_OCI_INDEX, body);
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_INVALID);
	m = mput(&s, "Bad", "t", MT_OCI_MANIFEST, body);
	ck_assert_uint_eq(errcode(m), RE_NAME_INVALID);
	/* an index needs its children in this repository */
	snprintf(idx, sizeof(idx), "{\"schemaVersion\":2,\"mediaType\":\""
	    MT_OCI_INDEX "\",\"manifests\":[{\"mediaType\":\"" MT_OCI_MANIFEST
	    "\",\"digest\":\"%s\",\"size\":%zu}]}", wrong, strlen(body));
	m = mput(&s, REPO, "idx", MT_OCI_INDEX, idx);
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_BLOB_UNKNOWN);
	snprintf(idx, sizeof(idx), "{\"schemaVersion\":2,\"mediaType\":\""
	    MT_OCI_INDEX "\",\"manifests\":[{\"mediaType\":\"" MT_OCI_MANIFEST
	    "\",\"digest\":\"%s\",\"size\":%zu}]}", dg, strlen(body));
	m = mput(&s, REPO, "idx", MT_OCI_INDEX, idx);
	ck_assert_int_eq(m->type, M_MANIFEST);
	ck_assert_str_eq(msg_str(m, A_MEDIATYPE), MT_OCI_INDEX);
	free(body);
	sd_finish(&s);
}
END_TEST

/* A manifest PUT whose body comes as a descriptor (memfd or pipe). */
static struct msg *
mput_fd(struct sd *s, const char *repo, const char *ref, const char *body,
    int use_pipe)
{
	size_t len = strlen(body);
	uint32_t id = ++s->w.nextid;
	struct msgb mb;
	int fd, pp[2];

	if (use_pipe) {
		ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
		fd = pp[0];
	} else {
		fd = memfd_create("m", MFD_CLOEXEC);
		write_all(fd, body, len);	/* offset left at the end */
	}
	msgb_init(&mb, M_MANIFEST_PUT);
	msgb_str(&mb, A_REPO, repo);
	msgb_str(&mb, A_REF, ref);
	msgb_str(&mb, A_MEDIATYPE, "");
	msgb_u64(&mb, A_SIZE, len);
	msgb_fd(&mb, A_FD, fd);
	wd_send(s->w.fd, &mb, id);
	if (use_pipe) {
		write_all(pp[1], body, len);
		close(pp[1]);
	}
	do
		wd_recv(s->w.fd);
	while (wd_rep.id != id);
	return &wd_rep;
}

START_TEST(manifest_large)
{
	char cfgd[DIGEST_STRMAX], dg[DIGEST_STRMAX], ann[256];
	struct sd s;
	struct msg *m;
	char *body, *extra, *got;
	size_t len, i, n = 0;

	sd_start(&s, NULL, 1);
	push_blob(&s, REPO, "{}", 2, cfgd);
	/* > 100 KiB: annotations make it large */
	extra = malloc(400 * 1024);
	n = (size_t)sprintf(extra, ",\"annotations\":{");
	for (i = 0; i < 6000; i++) {
		snprintf(ann, sizeof(ann), "%s\"key.%zu\":\"value %zu\"",
		    i ? "," : "", i, i);
		strcpy(extra + n, ann);
		n += strlen(ann);
	}
	strcpy(extra + n, "}");
	body = image_json("application/vnd.oci.image.config.v1+json", cfgd, 2,
	    NULL, NULL, extra);
	ck_assert_int_gt(strlen(body), 100 * 1024);
	dstr(body, strlen(body), DIGEST_SHA256, dg);
	m = mput_fd(&s, REPO, "big", body, 0);
	ck_assert_msg(m->type == M_MANIFEST, "%d %s", (int)errcode(m),
	    msg_str(m, A_TEXT));
	ck_assert_str_eq(msg_str(m, A_DIGEST), dg);
	m = mput_fd(&s, REPO, "big2", body, 1);
	ck_assert_int_eq(m->type, M_MANIFEST);
	m = mref(&s, M_MANIFEST_GET, REPO, "big2");
	ck_assert_int_eq(m->type, M_MANIFEST);
	ck_assert(!msg_has(m, A_BODY));
	got = reply_body(m, &len);
	ck_assert_uint_eq(len, strlen(body));
	ck_assert(memcmp(got, body, len) == 0);
	free(got);
	free(body);
	free(extra);
	sd_finish(&s);
}
END_TEST

/* Fetch a list reply's body and last. */
static char *
list_of(struct sd *s, int type, const char *repo, const char *last,
    int64_t count, char *lastout)
{
	struct msgb mb;
	struct msg *m;
	size_t len;

	msgb_init(&mb, type);
	if (repo)
		msgb_str(&mb, A_REPO, repo);
	if (last)
		msgb_str(&mb, A_LAST, last);
	if (count >= 0)
		msgb_u64(&mb, A_COUNT, (uint64_t)count);
	m = wd_call(&s->w, &mb);
	ck_assert_msg(m->type == M_LIST, "list: %d", (int)errcode(m));
	lastout[0] = '\0';
	if (msg_str(m, A_LAST))
		snprintf(lastout, 256, "%s", msg_str(m, A_LAST));
	return reply_body(m, &len);
}

START_TEST(tags_and_catalog)
{
	static const char *tags[] = { "b", "a", "C", "a1", "_x", "z.9" };
	char dg[DIGEST_STRMAX], last[256];
	struct sd s;
	struct msg *m;
	char *body, *got;
	size_t i;

	sd_start(&s, NULL, 1);
	body = push_image(&s, "lib/one", "b", "x", dg);
	for (i = 1; i < sizeof(tags) / sizeof(*tags); i++)
		ck_assert_int_eq(mput(&s, "lib/one", tags[i], "", body)->type,
		    M_MANIFEST);
	free(push_image(&s, "lib/one/nested", "t", "y", dg));
	free(push_image(&s, "alpha", "t", "z", dg));
	{
		char d2[DIGEST_STRMAX];
		push_blob(&s, "onlyblobs", "q", 1, d2);
	}
	got = list_of(&s, M_TAGS_LIST, "lib/one", NULL, -1, last);
	ck_assert_str_eq(got, "{\"name\":\"lib/one\",\"tags\":[\"C\",\"_x\","
	    "\"a\",\"a1\",\"b\",\"z.9\"]}");
	ck_assert_str_eq(last, "");
	free(got);
	got = list_of(&s, M_TAGS_LIST, "lib/one", NULL, 2, last);
	ck_assert_str_eq(got, "{\"name\":\"lib/one\",\"tags\":[\"C\",\"_x\"]}");
	ck_assert_str_eq(last, "_x");
	free(got);
	got = list_of(&s, M_TAGS_LIST, "lib/one", "_x", 3, last);
	ck_assert_str_eq(got, "{\"name\":\"lib/one\",\"tags\":[\"a\",\"a1\","
	    "\"b\"]}");
	ck_assert_str_eq(last, "b");
	free(got);
	got = list_of(&s, M_TAGS_LIST, "lib/one", "b", 3, last);
	ck_assert_str_eq(got, "{\"name\":\"lib/one\",\"tags\":[\"z.9\"]}");
	ck_assert_str_eq(last, "");
	free(got);
	got = list_of(&s, M_TAGS_LIST, "lib/one", "aa", -1, last);
	ck_assert_str_eq(got, "{\"name\":\"lib/one\",\"tags\":[\"b\",\"z.9\"]}");
	free(got);
	got = list_of(&s, M_TAGS_LIST, "lib/one", NULL, 0, last);
	ck_assert_str_eq(got, "{\"name\":\"lib/one\",\"tags\":[]}");
	ck_assert_str_eq(last, "");
	free(got);
	m = req2(&s, M_TAGS_LIST, "nosuch", 0, NULL);
	ck_assert_uint_eq(errcode(m), RE_NAME_UNKNOWN);
	m = req2(&s, M_TAGS_LIST, "onlyblobs", 0, NULL);
	ck_assert_uint_eq(errcode(m), RE_NAME_UNKNOWN);
	/* catalog: repositories with manifests, sorted */
	got = list_of(&s, M_CATALOG, NULL, NULL, -1, last);
	ck_assert_str_eq(got, "{\"repositories\":[\"alpha\",\"lib/one\","
	    "\"lib/one/nested\"]}");
	free(got);
	got = list_of(&s, M_CATALOG, NULL, NULL, 1, last);
	ck_assert_str_eq(got, "{\"repositories\":[\"alpha\"]}");
	ck_assert_str_eq(last, "alpha");
	free(got);
	got = list_of(&s, M_CATALOG, NULL, "alpha", 2, last);
	ck_assert_str_eq(got, "{\"repositories\":[\"lib/one\","
	    "\"lib/one/nested\"]}");
	ck_assert_str_eq(last, "");
	free(got);
	/* the same after a restart */
	sd_stop(&s, SIGKILL);
	sd_start(&s, s.dir, 1);
	got = list_of(&s, M_TAGS_LIST, "lib/one", NULL, -1, last);
	ck_assert_str_eq(got, "{\"name\":\"lib/one\",\"tags\":[\"C\",\"_x\","
	    "\"a\",\"a1\",\"b\",\"z.9\"]}");
	free(got);
	got = list_of(&s, M_CATALOG, NULL, NULL, -1, last);
	ck_assert_str_eq(got, "{\"repositories\":[\"alpha\",\"lib/one\","
	    "\"lib/one/nested\"]}");
	free(got);
	free(body);
	sd_finish(&s);
}
END_TEST

START_TEST(tags_large)
{
	char dg[DIGEST_STRMAX], last[256], tag[64];
	struct sd s;
	char *body, *got;
	size_t i;
	json_t *j;

	sd_start(&s, NULL, 1);
	s.w.nextid = 0;
	body = push_image(&s, REPO, "t0", "x", dg);
	for (i = 1; i < 5000; i++) {
		snprintf(tag, sizeof(tag), "tag-with-a-longish-name-%05zu", i);
		ck_assert_int_eq(mput(&s, REPO, tag, "", body)->type,
		    M_MANIFEST);
	}
	got = list_of(&s, M_TAGS_LIST, REPO, NULL, -1, last);
	ck_assert_int_gt(strlen(got), 100 * 1024);
	ck_assert_ptr_nonnull(j = json_loads(got, 0, NULL));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "tags")), 5000);
	json_decref(j);
	free(got);
	free(body);
	sd_finish(&s);
}
END_TEST

START_TEST(referrers_filter)
{
	char subj[DIGEST_STRMAX], empty[DIGEST_STRMAX], r1[DIGEST_STRMAX];
	char r2[DIGEST_STRMAX], extra[512];
	struct sd s;
	struct msg *m;
	char *body, *b1, *b2, *got;
	json_t *j, *a;

	sd_start(&s, NULL, 1);
	body = push_image(&s, REPO, "v1", "subject", subj);
	push_blob(&s, REPO, "{}", 2, empty);
	snprintf(extra, sizeof(extra), ",\"artifactType\":\"application/"
	    "vnd.example.sbom\",\"subject\":{\"mediaType\":\"" MT_OCI_MANIFEST
	    "\",\"digest\":\"%s\",\"size\":%zu},\"annotations\":{\"org.example"
	    "\":\"one\"}", subj, strlen(body));
	b1 = image_json(MT_OCI_EMPTY, empty, 2, NULL, NULL, extra);
	snprintf(extra, sizeof(extra), ",\"subject\":{\"mediaType\":\""
	    MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu}", subj,
	    strlen(body));
	b2 = image_json("application/vnd.example.sig", empty, 2, NULL, NULL,
	    extra);
	dstr(b1, strlen(b1), DIGEST_SHA256, r1);
	dstr(b2, strlen(b2), DIGEST_SHA256, r2);
	m = mput(&s, REPO, r1, MT_OCI_MANIFEST, b1);
	ck_assert_int_eq(m->type, M_MANIFEST);
	ck_assert_str_eq(msg_str(m, A_REF), subj);
	m = mput(&s, REPO, r2, MT_OCI_MANIFEST, b2);
	ck_assert_int_eq(m->type, M_MANIFEST);
	/* the subject need not exist */
	snprintf(extra, sizeof(extra), ",\"subject\":{\"mediaType\":\""
	    MT_OCI_MANIFEST "\",\"digest\":\"sha256:%064d\",\"size\":1}", 0);
	free(b2);
	b2 = image_json("application/vnd.example.sig", empty, 2, NULL, NULL,
	    extra);
	ck_assert_int_eq(mput(&s, REPO, "dangling", "", b2)->type, M_MANIFEST);

	{
		struct msgb mb;
		size_t len;

		msgb_init(&mb, M_REFERRERS);
		msgb_str(&mb, A_REPO, REPO);
		msgb_str(&mb, A_DIGEST, subj);
		m = wd_call(&s.w, &mb);
		ck_assert_int_eq(m->type, M_LIST);
		got = reply_body(m, &len);
		ck_assert_ptr_nonnull(j = json_loads(got, 0, NULL));
		a = json_object_get(j, "manifests");
		ck_assert_uint_eq(json_array_size(a), 2);
		ck_assert_str_eq(json_string_value(json_object_get(j,
		    "mediaType")), MT_OCI_INDEX);
		json_decref(j);
		free(got);

		msgb_init(&mb, M_REFERRERS);
		msgb_str(&mb, A_REPO, REPO);
		msgb_str(&mb, A_DIGEST, subj);
		msgb_str(&mb, A_FILTER, "application/vnd.example.sbom");
		m = wd_call(&s.w, &mb);
		got = reply_body(m, &len);
		ck_assert_ptr_nonnull(j = json_loads(got, 0, NULL));
		a = json_array_get(json_object_get(j, "manifests"), 0);
		ck_assert_uint_eq(json_array_size(json_object_get(j,
		    "manifests")), 1);
		ck_assert_str_eq(json_string_value(json_object_get(a,
		    "digest")), r1);
		ck_assert_str_eq(json_string_value(json_object_get(a,
		    "artifactType")), "application/vnd.example.sbom");
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
		    a, "annotations"), "org.example")), "one");
		ck_assert_int_eq(json_integer_value(json_object_get(a, "size")),
		    (json_int_t)strlen(b1));
		json_decref(j);
		free(got);

		/* the signature without artifactType: config media type */
		msgb_init(&mb, M_REFERRERS);
		msgb_str(&mb, A_REPO, REPO);
		msgb_str(&mb, A_DIGEST, subj);
		msgb_str(&mb, A_FILTER, "application/vnd.example.sig");
		m = wd_call(&s.w, &mb);
		got = reply_body(m, &len);
		ck_assert_ptr_nonnull(strstr(got, r2));
		free(got);

		/* unknown subject, unknown repo: an empty index */
		msgb_init(&mb, M_REFERRERS);
		msgb_str(&mb, A_REPO, "nosuch");
		msgb_str(&mb, A_DIGEST, subj);
		m = wd_call(&s.w, &mb);
		ck_assert_int_eq(m->type, M_LIST);
		got = reply_body(m, &len);
		ck_assert_str_eq(got, "{\"schemaVersion\":2,\"mediaType\":\""
		    MT_OCI_INDEX "\",\"manifests\":[]}");
		free(got);
	}
	free(body);
	free(b1);
	free(b2);
	sd_finish(&s);
}
END_TEST

START_TEST(delete_disabled)
{
	char dg[DIGEST_STRMAX], bd[DIGEST_STRMAX];
	struct sd s;
	struct msg *m;
	char *body;

	sd_start(&s, NULL, 0);
	body = push_image(&s, REPO, "v1", "x", dg);
	push_blob(&s, REPO, "blob", 4, bd);
	m = mref(&s, M_MANIFEST_DELETE, REPO, dg);
	ck_assert_uint_eq(errcode(m), RE_UNSUPPORTED);
	m = mref(&s, M_MANIFEST_DELETE, REPO, "v1");
	ck_assert_uint_eq(errcode(m), RE_UNSUPPORTED);
	m = req2(&s, M_BLOB_DELETE, REPO, A_DIGEST, bd);
	ck_assert_uint_eq(errcode(m), RE_UNSUPPORTED);
	m = mref(&s, M_MANIFEST_GET, REPO, "v1");
	ck_assert_int_eq(m->type, M_MANIFEST);
	/* a reload turns deletes on */
	configure(&s, 1);
	m = mref(&s, M_MANIFEST_DELETE, REPO, "v1");
	ck_assert_int_eq(m->type, M_DONE);
	free(body);
	sd_finish(&s);
}
END_TEST

START_TEST(link_death_mid_write)
{
	char uuid[64], dg[DIGEST_STRMAX], *data;
	struct msgb mb;
	struct sd s;
	struct msg *m;
	int pp[2];
	size_t n = 1 << 20;

	data = malloc(n);
	memset(data, 'q', n);
	dstr(data, n, DIGEST_SHA256, dg);
	sd_start(&s, NULL, 1);
	up_start(&s, REPO, uuid);
	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	msgb_init(&mb, M_UPLOAD_WRITE);
	msgb_str(&mb, A_REPO, REPO);
	msgb_str(&mb, A_UUID, uuid);
	msgb_u64(&mb, A_OFFSET, 0);
	msgb_u64(&mb, A_LENGTH, n);
	msgb_fd(&mb, A_FD, pp[0]);
	wd_send(s.w.fd, &mb, 77);
	write_all(pp[1], data, 4096);
	/* httpd dies: its link closes; master hands over a new one */
	close(s.w.fd);
	{
		int link[2];
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET |
		    SOCK_CLOEXEC, 0, link), 0);
		msgb_init(&mb, M_PEER);
		msgb_u64(&mb, A_PEER, PROC_HTTPD);
		msgb_fd(&mb, A_FD, link[1]);
		wd_send(s.w.ctl, &mb, ++s.w.nextid);
		s.w.fd = link[0];
	}
	/* the offset matches the data file; the upload carries on */
	usleep(100 * 1000);
	m = up_simple(&s, M_UPLOAD_STATUS, REPO, uuid, NULL);
	ck_assert_int_eq(m->type, M_UPLOAD);
	{
		uint64_t off = msg_u64(m, A_OFFSET, 0);
		m = up_write(&s, REPO, uuid, off, data + off, n - off, 1,
		    n - off);
		ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), n);
	}
	close(pp[1]);
	m = up_simple(&s, M_UPLOAD_COMMIT, REPO, uuid, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	free(data);
	sd_finish(&s);
}
END_TEST


/* --- interop with Docker Distribution 2.8 (docker-registry), when present --- */

#define REGISTRY_BIN	"/usr/bin/docker-registry"

static int
have_tools(void)
{
	return access(REGISTRY_BIN, X_OK) == 0 &&
	    access("/usr/bin/skopeo", X_OK) == 0 &&
	    access("/usr/bin/curl", X_OK) == 0;
}

/* Run a shell command; its exit status. */
static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* A whole file, NUL-terminated; NULL if absent. */
static char *
file_read(const char *path, size_t *len)
{
	struct stat st;
	char *b;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	ck_assert_int_eq(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	ck_assert_int_eq(read(fd, b, (size_t)st.st_size), st.st_size);
	b[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	close(fd);
	return b;
}

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Serve root with docker-registry; its pid, the port in *port. */
static pid_t
registry_start(const char *work, const char *root, int *port)
{
	char cfg[PATH_MAX + 64], log[PATH_MAX + 64];
	FILE *f;
	pid_t pid;

	*port = free_port();
	snprintf(cfg, sizeof(cfg), "%s/registry-%d.yml", work, *port);
	snprintf(log, sizeof(log), "%s/registry-%d.log", work, *port);
	ck_assert_ptr_nonnull(f = fopen(cfg, "w"));
	fprintf(f, "version: 0.1\nlog:\n  level: warn\nstorage:\n"
	    "  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"
	    "  maintenance:\n    uploadpurging:\n      enabled: false\n"
	    "http:\n  addr: 127.0.0.1:%d\n", root, *port);
	fclose(f);
	if ((pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(REGISTRY_BIN, "docker-registry", "serve", cfg,
		    (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		if (sh("curl -sf -o /dev/null http://127.0.0.1:%d/v2/",
		    *port) == 0)
			return pid;
		usleep(100 * 1000);
	}
	ck_abort_msg("docker-registry did not come up (see %s)", log);
	return -1;
}

static void
registry_stop(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}

/* GET url into out; 0 ok. */
static int
curl_get(const char *url, const char *accept, const char *out)
{
	return sh("curl -sf -H 'Accept: %s' -o '%s' '%s'", accept, out, url);
}

#define ACCEPT_ALL	MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " \
	MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST

/* Upload the layout's blob d to repo in two chunks. */
static void
push_layout_blob(struct sd *s, const char *repo, const char *layout,
    const struct digest *d)
{
	char p[PATH_MAX + 256], dg[DIGEST_STRMAX], uuid[64];
	struct msg *m;
	size_t len, half;
	char *b;

	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", layout, d->hex);
	ck_assert_ptr_nonnull(b = file_read(p, &len));
	digest_format(d, dg, sizeof(dg));
	half = len / 2;
	up_start(s, repo, uuid);
	m = up_write(s, repo, uuid, 0, b, half, 1, half);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), half);
	m = up_write(s, repo, uuid, half, b + half, len - half, 1, len - half);
	ck_assert_uint_eq(msg_u64(m, A_OFFSET, 0), len);
	m = up_simple(s, M_UPLOAD_COMMIT, repo, uuid, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	free(b);
}

/* Push the layout's manifest d (children, config, layers first) as ref. */
static void
push_layout_manifest(struct sd *s, const char *repo, const char *layout,
    const struct digest *d, const char *ref)
{
	char p[PATH_MAX + 256], dg[DIGEST_STRMAX], err[256];
	struct oci_manifest pm;
	struct msg *m;
	size_t len, i;
	char *b;

	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", layout, d->hex);
	ck_assert_ptr_nonnull(b = file_read(p, &len));
	ck_assert_int_eq(oci_manifest_parse(b, len, NULL, &pm, err,
	    sizeof(err)), 0);
	if (pm.kind == OCI_KIND_INDEX) {
		for (i = 0; i < pm.nrefs; i++)
			push_layout_manifest(s, repo, layout,
			    &pm.refs[i].digest, NULL);
	} else {
		push_layout_blob(s, repo, layout, &pm.config.digest);
		for (i = 0; i < pm.nrefs; i++)
			push_layout_blob(s, repo, layout, &pm.refs[i].digest);
	}
	digest_format(d, dg, sizeof(dg));
	m = mput(s, repo, ref ? ref : dg, pm.mediatype, b);
	ck_assert_msg(m->type == M_MANIFEST, "put %s: %s", dg,
	    msg_str(m, A_TEXT));
	ck_assert_str_eq(msg_str(m, A_DIGEST), dg);
	oci_manifest_free(&pm);
	free(b);
}

/* The digest of a layout's top object (index.json's first manifest). */
static void
layout_top(const char *layout, struct digest *d)
{
	char p[PATH_MAX + 64];
	json_t *j;
	size_t len;
	char *b;

	snprintf(p, sizeof(p), "%s/index.json", layout);
	ck_assert_ptr_nonnull(b = file_read(p, &len));
	ck_assert_ptr_nonnull(j = json_loads(b, 0, NULL));
	ck_assert_int_eq(digest_parse(json_string_value(json_object_get(
	    json_array_get(json_object_get(j, "manifests"), 0), "digest")), d),
	    0);
	json_decref(j);
	free(b);
}

static void
mkwork(char *work, size_t len)
{
	const char *base = getenv("STORAGED_TESTDIR");

	snprintf(work, len, "%s/sdinterop.XXXXXX", base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(work));
	ck_assert_int_eq(chmod(work, 0755), 0);
	ck_assert_int_eq(sh("bash %s/tests/integration/mkimages.sh %s/img "
	    ">%s/img.txt", getenv("top_srcdir") ? getenv("top_srcdir") : ".",
	    work, work), 0);
}

/* storaged writes a store; Distribution serves it; skopeo pulls from it. */
/* master's side of a scrape and of /readyz: storaged's figures (checked as
 * master checks them; in pieces from an offset), and the write probe. */
static struct msg *
ctl_call(struct sd *s, struct msgb *mb)
{
	uint32_t id = ++s->w.nextid;

	wd_send(s->w.ctl, mb, id);
	wd_recv(s->w.ctl);
	ck_assert_uint_eq(wd_rep.id, id);
	return &wd_rep;
}

static struct msg *
metrics_at(struct sd *s, uint64_t off)
{
	struct msgb mb;

	msgb_init(&mb, M_METRICS_GET);
	if (off)
		msgb_u64(&mb, A_OFFSET, off);
	return ctl_call(s, &mb);
}

START_TEST(metrics_and_probe)
{
	const char *const names[] = { "registry_store_", NULL };
	char err[256], *text, tmp[PATH_MAX + 64];
	struct msgb mb;
	struct msg *m;
	size_t len;

	struct sd s;
	sd_start(&s, NULL, 1);
	m = metrics_at(&s, 0);
	ck_assert_int_eq(m->type, M_METRICS);
	len = m->v[A_BODY].len;
	ck_assert_uint_eq(msg_u64(m, A_SIZE, 0), len);
	text = strndup(m->v[A_BODY].p, len);
	ck_assert_int_gt(mtext_check(text, len, names, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(text, "\nregistry_store_uploads_open 0\n"));
	/* the rest from an offset, of the same render */
	m = metrics_at(&s, 10);
	ck_assert_int_eq(m->type, M_METRICS);
	ck_assert_uint_eq(m->v[A_BODY].len, len - 10);
	ck_assert_int_eq(memcmp(m->v[A_BODY].p, text + 10, len - 10), 0);
	m = metrics_at(&s, len);
	ck_assert_int_eq(m->type, M_METRICS);
	ck_assert_uint_eq(m->v[A_BODY].len, 0);
	ck_assert_int_eq(metrics_at(&s, len + 1)->type, M_ERR);
	free(text);
	msgb_init(&mb, M_STORE_PROBE);
	ck_assert_int_eq(ctl_call(&s, &mb)->type, M_DONE);
	/* a scratch directory storaged cannot write to: not ready */
	(void)snprintf(tmp, sizeof(tmp), "%s/docker/registry/v2/regmaster-tmp",
	    s.dir);
	ck_assert_int_eq(chmod(tmp, 0555), 0);
	msgb_init(&mb, M_STORE_PROBE);
	m = ctl_call(&s, &mb);
	ck_assert_int_eq(m->type, M_ERR);
	ck_assert_ptr_nonnull(strstr(msg_str(m, A_TEXT), "scratch file"));
	ck_assert_int_eq(chmod(tmp, 0755), 0);
	sd_finish(&s);
}
END_TEST

START_TEST(interop_to_distribution)
{
	char work[PATH_MAX], p[PATH_MAX * 2], url[512], dg[DIGEST_STRMAX];
	char layout[PATH_MAX + 64];
	struct digest top, ld;
	struct sd s;
	struct msg *m;
	size_t len, glen;
	char *want, *got;
	pid_t reg;
	int port;

	if (!have_tools())
		return;
	mkwork(work, sizeof(work));
	sd_start(&s, NULL, 1);
	snprintf(layout, sizeof(layout), "%s/img/multi", work);
	layout_top(layout, &top);
	push_layout_manifest(&s, "mine/multi", layout, &top, "v1");
	snprintf(layout, sizeof(layout), "%s/img/index", work);
	layout_top(layout, &ld);
	push_layout_manifest(&s, "mine/index", layout, &ld, "v1");
	snprintf(layout, sizeof(layout), "%s/img/artifact", work);
	layout_top(layout, &ld);
	push_layout_manifest(&s, "mine/multi", layout, &ld, "sbom");
	sd_stop(&s, SIGTERM);

	reg = registry_start(work, s.dir, &port);
	/* the manifest by tag: the same bytes and digest */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/mine/multi/"
	    "manifests/v1", port);
	snprintf(p, sizeof(p), "%s/got-manifest", work);
	ck_assert_int_eq(curl_get(url, ACCEPT_ALL, p), 0);
	ck_assert_ptr_nonnull(got = file_read(p, &glen));
	snprintf(p, sizeof(p), "%s/img/multi/blobs/sha256/%s", work, top.hex);
	ck_assert_ptr_nonnull(want = file_read(p, &len));
	ck_assert_uint_eq(len, glen);
	ck_assert(memcmp(want, got, len) == 0);
	free(want);
	free(got);
	/* a blob by digest */
	{
		struct oci_manifest pm;
		char err[128];
		snprintf(p, sizeof(p), "%s/img/multi/blobs/sha256/%s", work,
		    top.hex);
		want = file_read(p, &len);
		ck_assert_int_eq(oci_manifest_parse(want, len, NULL, &pm, err,
		    sizeof(err)), 0);
		free(want);
		digest_format(&pm.refs[2].digest, dg, sizeof(dg));
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/mine/multi/"
		    "blobs/%s", port, dg);
		snprintf(p, sizeof(p), "%s/got-blob", work);
		ck_assert_int_eq(curl_get(url, "*/*", p), 0);
		ck_assert_int_eq(sh("cmp -s %s %s/img/multi/blobs/sha256/%s",
		    p, work, pm.refs[2].digest.hex), 0);
		oci_manifest_free(&pm);
	}
	/* tags, catalog, and a full pull of the index with skopeo */
	snprintf(p, sizeof(p), "%s/tags", work);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/mine/multi/tags/"
	    "list", port);
	ck_assert_int_eq(curl_get(url, "*/*", p), 0);
	ck_assert_ptr_nonnull(got = file_read(p, &glen));
	/* Distribution lists tags in directory order */
	ck_assert_ptr_nonnull(strstr(got, "\"sbom\""));
	ck_assert_ptr_nonnull(strstr(got, "\"v1\""));
	free(got);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/_catalog", port);
	ck_assert_int_eq(curl_get(url, "*/*", p), 0);
	ck_assert_ptr_nonnull(got = file_read(p, &glen));
	ck_assert_str_eq(got, "{\"repositories\":[\"mine/index\","
	    "\"mine/multi\"]}\n");
	free(got);
	ck_assert_int_eq(sh("skopeo copy -q --all --src-tls-verify=false "
	    "docker://127.0.0.1:%d/mine/index:v1 dir:%s/pulled-index", port,
	    work), 0);
	ck_assert_int_eq(sh("skopeo copy -q --src-tls-verify=false "
	    "docker://127.0.0.1:%d/mine/multi:v1 oci:%s/pulled-multi:v1", port,
	    work), 0);
	/* and Distribution deletes from our layout */
	digest_format(&top, dg, sizeof(dg));
	ck_assert_int_eq(sh("curl -sf -X DELETE http://127.0.0.1:%d/v2/mine/"
	    "multi/manifests/%s", port, dg), 0);
	registry_stop(reg);
	sd_start(&s, s.dir, 1);
	m = mref(&s, M_MANIFEST_GET, "mine/multi", "v1");
	ck_assert_uint_eq(errcode(m), RE_MANIFEST_UNKNOWN);
	m = mref(&s, M_MANIFEST_GET, "mine/multi", "sbom");
	ck_assert_int_eq(m->type, M_MANIFEST);
	sd_finish(&s);
	if (!getenv("STORAGED_KEEP"))
		nftw(work, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

/* skopeo pushes into Distribution; storaged serves the store it wrote. */
START_TEST(interop_from_distribution)
{
	char work[PATH_MAX], store[PATH_MAX + 32], p[PATH_MAX + 128];
	char url[512], dg[DIGEST_STRMAX], layout[PATH_MAX + 64], last[256];
	struct digest multi, idx, art;
	struct oci_manifest pm;
	struct msgb mb;
	struct sd s;
	struct msg *m;
	size_t len, glen, i;
	char *want, *got, err[128];
	pid_t reg;
	int port;

	if (!have_tools())
		return;
	mkwork(work, sizeof(work));
	snprintf(store, sizeof(store), "%s/store", work);
	ck_assert_int_eq(mkdir(store, 0755), 0);
	reg = registry_start(work, store, &port);
	snprintf(layout, sizeof(layout), "%s/img/multi", work);
	layout_top(layout, &multi);
	ck_assert_int_eq(sh("skopeo copy -q --dest-tls-verify=false oci:%s:latest "
	    "docker://127.0.0.1:%d/dist/multi:v1", layout, port), 0);
	snprintf(layout, sizeof(layout), "%s/img/index", work);
	layout_top(layout, &idx);
	ck_assert_int_eq(sh("skopeo copy -q --all --dest-tls-verify=false "
	    "oci:%s:latest docker://127.0.0.1:%d/dist/index:v1", layout, port),
	    0);
	snprintf(layout, sizeof(layout), "%s/img/artifact", work);
	layout_top(layout, &art);
	ck_assert_int_eq(sh("skopeo copy -q --dest-tls-verify=false oci:%s:latest "
	    "docker://127.0.0.1:%d/dist/multi:sbom", layout, port), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/dist/multi/"
	    "manifests/v1", port);
	snprintf(p, sizeof(p), "%s/dist-manifest", work);
	ck_assert_int_eq(curl_get(url, ACCEPT_ALL, p), 0);
	registry_stop(reg);
	if (geteuid() == 0)
		ck_assert_int_eq(sh("chown -R nobody %s", store), 0);

	sd_start(&s, store, 1);
	/* the manifest: Distribution's bytes, the layout's digest */
	m = mref(&s, M_MANIFEST_GET, "dist/multi", "v1");
	ck_assert_int_eq(m->type, M_MANIFEST);
	digest_format(&multi, dg, sizeof(dg));
	ck_assert_str_eq(msg_str(m, A_DIGEST), dg);
	ck_assert_str_eq(msg_str(m, A_MEDIATYPE), MT_OCI_MANIFEST);
	got = reply_body(m, &glen);
	ck_assert_ptr_nonnull(want = file_read(p, &len));
	ck_assert_uint_eq(len, glen);
	ck_assert(memcmp(want, got, len) == 0);
	free(want);
	/* every blob, byte for byte */
	ck_assert_int_eq(oci_manifest_parse(got, glen, NULL, &pm, err,
	    sizeof(err)), 0);
	for (i = 0; i < pm.nrefs; i++) {
		char tmp[PATH_MAX + 64];
		int fd, out;
		ssize_t n;
		char buf[65536];

		digest_format(&pm.refs[i].digest, dg, sizeof(dg));
		m = req2(&s, M_BLOB_OPEN, "dist/multi", A_DIGEST, dg);
		ck_assert_int_eq(m->type, M_BLOB);
		fd = msg_take_fd(m, A_FD);
		snprintf(tmp, sizeof(tmp), "%s/blob-out", work);
		out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			ck_assert_int_eq(write(out, buf, (size_t)n), n);
		close(fd);
		close(out);
		ck_assert_int_eq(sh("cmp -s %s %s/img/multi/blobs/sha256/%s",
		    tmp, work, pm.refs[i].digest.hex), 0);
	}
	oci_manifest_free(&pm);
	free(got);
	/* the index and its children */
	m = mref(&s, M_MANIFEST_GET, "dist/index", "v1");
	ck_assert_int_eq(m->type, M_MANIFEST);
	digest_format(&idx, dg, sizeof(dg));
	ck_assert_str_eq(msg_str(m, A_DIGEST), dg);
	ck_assert_str_eq(msg_str(m, A_MEDIATYPE), MT_OCI_INDEX);
	got = reply_body(m, &glen);
	ck_assert_int_eq(oci_manifest_parse(got, glen, NULL, &pm, err,
	    sizeof(err)), 0);
	for (i = 0; i < pm.nrefs; i++) {
		digest_format(&pm.refs[i].digest, dg, sizeof(dg));
		m = mref(&s, M_MANIFEST_GET, "dist/index", dg);
		ck_assert_int_eq(m->type, M_MANIFEST);
	}
	oci_manifest_free(&pm);
	free(got);
	/* referrers, tags, catalog from the index built at start */
	digest_format(&multi, dg, sizeof(dg));
	msgb_init(&mb, M_REFERRERS);
	msgb_str(&mb, A_REPO, "dist/multi");
	msgb_str(&mb, A_DIGEST, dg);
	m = wd_call(&s.w, &mb);
	ck_assert_int_eq(m->type, M_LIST);
	got = reply_body(m, &glen);
	digest_format(&art, dg, sizeof(dg));
	ck_assert_msg(strstr(got, dg) != NULL, "referrers: %s", got);
	ck_assert_ptr_nonnull(strstr(got, "application/vnd.example.sbom.v1"));
	free(got);
	got = list_of(&s, M_TAGS_LIST, "dist/multi", NULL, -1, last);
	ck_assert_str_eq(got, "{\"name\":\"dist/multi\",\"tags\":[\"sbom\","
	    "\"v1\"]}");
	free(got);
	got = list_of(&s, M_CATALOG, NULL, NULL, -1, last);
	ck_assert_str_eq(got, "{\"repositories\":[\"dist/index\","
	    "\"dist/multi\"]}");
	free(got);
	/* and storaged writes into Distribution's store: a new tag */
	m = mref(&s, M_MANIFEST_GET, "dist/multi", "v1");
	got = reply_body(m, &glen);
	m = mput(&s, "dist/multi", "v2", MT_OCI_MANIFEST, got);
	ck_assert_int_eq(m->type, M_MANIFEST);
	free(got);
	sd_finish(&s);
	if (!getenv("STORAGED_KEEP"))
		nftw(work, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST


/* --- crash consistency (STORAGED_CRASH=iterations) --- */

static char crash_root[PATH_MAX];
static int crash_bad;

/* Every blob's data hashes to its name; every link names a blob that is
 * there; every tag's revision is linked. */
static int
crash_check(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	const char *rel = p + strlen(crash_root) + 1, *base = p + f->base;
	char want[DIGEST_STRMAX + 8], blob[PATH_MAX * 2], hex[130], alg[8];
	struct digest d;
	size_t len;
	char *b;

	if (flag != FTW_F || strncmp(rel, "docker/registry/v2/regmaster-tmp/",
	    33) == 0)
		return 0;	/* scratch: emptied at start */
	if (strncmp(rel, "docker/registry/v2/blobs/", 25) == 0 &&
	    strcmp(base, "data") == 0) {
		if (sscanf(rel, "docker/registry/v2/blobs/%7[a-z0-9]/%*2s/"
		    "%129[0-9a-f]/data", alg, hex) != 2)
			return 0;
		snprintf(want, sizeof(want), "%s:%s", alg, hex);
		ck_assert_int_eq(digest_parse(want, &d), 0);
		b = file_read(p, &len);
		{
			struct digest got;
			digest_buf(d.alg, b, len, &got);
			if (!digest_equal(&got, &d)) {
				fprintf(stderr, "crash: bad blob %s\n", rel);
				crash_bad++;
			}
		}
		free(b);
		return 0;
	}
	if (strcmp(base, "link") != 0 || strstr(rel, "/_uploads/"))
		return 0;
	b = file_read(p, &len);
	if (digest_parse(b, &d) != 0) {
		fprintf(stderr, "crash: bad link %s: %s\n", rel, b);
		crash_bad++;
	} else {
		snprintf(blob, sizeof(blob), "%s/docker/registry/v2/blobs/%s/"
		    "%.2s/%s/data", crash_root, digest_algname(d.alg), d.hex,
		    d.hex);
		if (access(blob, F_OK) != 0) {
			fprintf(stderr, "crash: dangling %s\n", rel);
			crash_bad++;
		}
		if (strstr(rel, "/current/link")) {
			char rev[PATH_MAX * 2];
			const char *m = strstr(p, "/_manifests/tags/");
			snprintf(rev, sizeof(rev), "%.*s/_manifests/revisions/"
			    "%s/%s/link", (int)(m - p), p,
			    digest_algname(d.alg), d.hex);
			if (access(rev, F_OK) != 0) {
				fprintf(stderr, "crash: tag without revision"
				    " %s\n", rel);
				crash_bad++;
			}
		}
	}
	free(b);
	return 0;
}

/* Keep storaged busy with pushes, deletes and chunked uploads. */
static void
crash_work(struct sd *s, unsigned seed)
{
	char dg[DIGEST_STRMAX], seedstr[32], tag[32], uuid[64];
	static char big[3 << 20];
	struct msg *m;

	for (unsigned i = 0;; i++) {
		snprintf(seedstr, sizeof(seedstr), "%u-%u", seed, i);
		snprintf(tag, sizeof(tag), "t%u", i % 7);
		free(push_image(s, "crash/app", tag, seedstr, dg));
		if (i % 3 == 0)
			mref(s, M_MANIFEST_DELETE, "crash/app", dg);
		if (i % 5 == 1)
			mref(s, M_MANIFEST_DELETE, "crash/app", tag);
		memset(big, (int)(seed + i), sizeof(big));
		snprintf(big, 32, "%u %u", seed, i);
		up_start(s, "crash/big", uuid);
		m = up_write(s, "crash/big", uuid, 0, big, sizeof(big) / 2, 1,
		    sizeof(big) / 2);
		m = up_write(s, "crash/big", uuid, UINT64_MAX, big +
		    sizeof(big) / 2, sizeof(big) / 2, 0, 0);
		dstr(big, sizeof(big), DIGEST_SHA256, dg);
		m = up_simple(s, M_UPLOAD_COMMIT, "crash/big", uuid, dg);
		ck_assert_int_eq(m->type, M_BLOB);
	}
}

START_TEST(crash_consistency)
{
	const char *env = getenv("STORAGED_CRASH");
	int iters = env ? atoi(env) : 0, st;
	jmp_buf jb;
	struct sd s;
	volatile pid_t killer;

	if (iters <= 0)
		return;
	memset(&s, 0, sizeof(s));
	for (volatile int it = 0; it < iters; it++) {
		sd_start(&s, it ? s.dir : NULL, 1);
		if ((killer = fork()) == 0) {
			srand((unsigned)getpid());
			usleep((useconds_t)(rand() % 300000));
			kill(s.w.pid, SIGKILL);
			_exit(0);
		}
		if (setjmp(jb) == 0) {
			wd_crash_jmp = &jb;
			crash_work(&s, (unsigned)it);
		}
		wd_crash_jmp = NULL;
		waitpid(killer, &st, 0);
		sd_stop(&s, SIGKILL);
		snprintf(crash_root, sizeof(crash_root), "%s", s.dir);
		nftw(s.dir, crash_check, 16, FTW_PHYS);
		ck_assert_int_eq(crash_bad, 0);
	}
	/* and the index loads: every tag answers */
	sd_start(&s, s.dir, 1);
	{
		char last[256];
		char *got = list_of(&s, M_TAGS_LIST, "crash/app", NULL, -1,
		    last);
		json_t *j = json_loads(got, 0, NULL), *t;
		size_t i;
		json_array_foreach(json_object_get(j, "tags"), i, t) {
			struct msg *m = mref(&s, M_MANIFEST_GET, "crash/app",
			    json_string_value(t));
			ck_assert_int_eq(m->type, M_MANIFEST);
		}
		fprintf(stderr, "crash: %d kills, %zu tags, store consistent\n",
		    iters, json_array_size(json_object_get(j, "tags")));
		json_decref(j);
		free(got);
	}
	sd_finish(&s);
}
END_TEST

/* --- measurements (STORAGED_BENCH=1) --- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) process pid has used. */
static double
cpu_of(pid_t pid)
{
	unsigned long ut = 0, st = 0;
	char p[64], buf[1024], *c;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (c = strrchr(buf, ')')) != NULL)
		(void)sscanf(c + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
		    "%*u %lu %lu", &ut, &st);
	fclose(f);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

START_TEST(bench)
{
	size_t total = (size_t)1 << 30, chunk = 1 << 20, i;
	char uuid[64], dg[DIGEST_STRMAX];
	struct digest d;
	struct hasher *h;
	struct msgb mb;
	struct sd s;
	struct msg *m;
	double t0, t1, c0;
	char *buf;
	int pp[2], n = 20000;

	if (!getenv("STORAGED_BENCH"))
		return;
	buf = malloc(chunk);
	for (i = 0; i < chunk; i++)
		buf[i] = (char)(i * 31 + 7);
	sd_start(&s, NULL, 1);
	h = hasher_new(DIGEST_SHA256);
	for (i = 0; i < total / chunk; i++)
		hasher_update(h, buf, chunk);
	hasher_final(h, &d);
	hasher_free(h);
	digest_format(&d, dg, sizeof(dg));
	up_start(&s, REPO, uuid);
	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	(void)fcntl(pp[1], F_SETPIPE_SZ, 1 << 20);
	c0 = cpu_of(s.w.pid);
	t0 = now_s();
	msgb_init(&mb, M_UPLOAD_WRITE);
	msgb_str(&mb, A_REPO, REPO);
	msgb_str(&mb, A_UUID, uuid);
	msgb_u64(&mb, A_OFFSET, 0);
	msgb_u64(&mb, A_LENGTH, total);
	msgb_fd(&mb, A_FD, pp[0]);
	wd_send(s.w.fd, &mb, 99999);
	for (i = 0; i < total / chunk; i++)
		write_all(pp[1], buf, chunk);
	close(pp[1]);
	wd_recv(s.w.fd);
	ck_assert_int_eq(wd_rep.type, M_UPLOAD);
	t1 = now_s();
	m = up_simple(&s, M_UPLOAD_COMMIT, REPO, uuid, dg);
	ck_assert_int_eq(m->type, M_BLOB);
	fprintf(stderr, "bench: 1 GiB through the pipe %.0f MB/s (write %.2fs,"
	    " commit incl. fsync %.2fs), storaged CPU %.2fs\n",
	    (double)total / 1e6 / (now_s() - t0), t1 - t0, now_s() - t1,
	    cpu_of(s.w.pid) - c0);
	{
		char mdg[DIGEST_STRMAX];
		free(push_image(&s, REPO, "v1", "bench", mdg));
		c0 = cpu_of(s.w.pid);
		t0 = now_s();
		for (int k = 0; k < n; k++) {
			m = mref(&s, M_MANIFEST_GET, REPO, "v1");
			ck_assert_int_eq(m->type, M_MANIFEST);
		}
		t1 = now_s();
		fprintf(stderr, "bench: manifest GET by tag %.0f round trips/s "
		    "(%.1f us each, storaged CPU %.1f us each)\n", n / (t1 - t0),
		    (t1 - t0) / n * 1e6, (cpu_of(s.w.pid) - c0) / n * 1e6);
		c0 = cpu_of(s.w.pid);
		t0 = now_s();
		for (int k = 0; k < n; k++) {
			m = req2(&s, M_BLOB_STAT, REPO, A_DIGEST, dg);
			ck_assert_int_eq(m->type, M_BLOB);
		}
		t1 = now_s();
		fprintf(stderr, "bench: blob stat %.0f round trips/s (storaged CPU "
		    "%.1f us each)\n", n / (t1 - t0),
		    (cpu_of(s.w.pid) - c0) / n * 1e6);
	}
	free(buf);
	sd_finish(&s);
}
END_TEST

/* Start on an existing store (STORAGED_BIGSTORE), time the index build,
 * lookups and listings, and show storaged's memory. */
START_TEST(bench_bigstore)
{
	const char *dir = getenv("STORAGED_BIGSTORE");
	char last[256], p[64], line[256];
	struct msgb mb;
	struct sd s;
	struct msg *m;
	double t0, t1;
	char *got;
	FILE *f;
	int n = 20000;

	if (dir == NULL)
		return;
	t0 = now_s();
	sd_start(&s, dir, 0);
	msgb_init(&mb, M_PING);
	m = wd_call(&s.w, &mb);
	ck_assert_int_eq(m->type, M_PONG);
	fprintf(stderr, "bench: start and index build %.0f ms\n",
	    (now_s() - t0) * 1000);
	t0 = now_s();
	for (int k = 0; k < n; k++) {
		snprintf(line, sizeof(line), "org%d/app%d", k % 1000 % 10,
		    k % 1000);
		snprintf(p, sizeof(p), "t%d", k % 20);
		m = mref(&s, M_MANIFEST_GET, line, p);
		ck_assert_int_eq(m->type, M_MANIFEST);
	}
	t1 = now_s();
	fprintf(stderr, "bench: manifest GET by tag, %d repos: %.0f/s\n",
	    1000, n / (t1 - t0));
	t0 = now_s();
	got = list_of(&s, M_CATALOG, NULL, NULL, -1, last);
	fprintf(stderr, "bench: full catalog (%zu bytes) %.2f ms\n",
	    strlen(got), (now_s() - t0) * 1000);
	free(got);
	t0 = now_s();
	for (int k = 0; k < 1000; k++)
		free(list_of(&s, M_CATALOG, NULL, "org5/app500", 100, last));
	fprintf(stderr, "bench: catalog page of 100 %.1f us\n",
	    (now_s() - t0) * 1000);
	snprintf(p, sizeof(p), "/proc/%d/status", (int)s.w.pid);
	if ((f = fopen(p, "r")) != NULL) {
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "VmRSS", 5) == 0 ||
			    strncmp(line, "VmHWM", 5) == 0)
				fprintf(stderr, "bench: storaged %s", line);
		fclose(f);
	}
	sd_stop(&s, SIGTERM);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("storaged_proto");
	TCase *tc = tcase_create("proto");

	tcase_set_timeout(tc, 300);	/* tags_large: 5000 fsynced PUTs on a busy disk */
	tcase_add_test(tc, upload_monolithic);
	tcase_add_test(tc, upload_wrong_digest);
	tcase_add_test(tc, upload_chunks);
	tcase_add_test(tc, upload_busy_and_cancel);
	tcase_add_test(tc, upload_survives_restart);
	tcase_add_test(tc, upload_confirmed_end);
	tcase_add_test(tc, upload_confirmed_link_death);
	tcase_add_test(tc, upload_quotas);
	tcase_add_test(tc, upload_expiry);
	tcase_add_test(tc, mount);
	tcase_add_test(tc, manifest_put_get_delete);
	tcase_add_test(tc, manifest_rejects);
	tcase_add_test(tc, manifest_large);
	tcase_add_test(tc, tags_and_catalog);
	tcase_add_test(tc, tags_large);
	tcase_add_test(tc, referrers_filter);
	tcase_add_test(tc, delete_disabled);
	tcase_add_test(tc, metrics_and_probe);
	tcase_add_test(tc, link_death_mid_write);
	tcase_add_test(tc, interop_to_distribution);
	tcase_add_test(tc, interop_from_distribution);
	tcase_add_test(tc, crash_consistency);
	tcase_add_test(tc, bench);
	tcase_add_test(tc, bench_bigstore);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return unit_run(suite());
}
