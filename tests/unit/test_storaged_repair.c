/*
 * test_storaged_repair.c - storaged's side of the repair channel, driven
 * as master would drive it: a write that fails for want of permission
 * asks master once (M_STORE_REPAIR naming the store path), is retried
 * after M_DONE with a count, and fails cleanly when master refuses or
 * changed nothing.  Root only: a user cannot leave entries another's.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "proc.h"
#include "regerr.h"
#include "worker_driver.h"
#include "unit.h"

#define REPO_DIR	"docker/registry/v2/repositories/r"

struct rs {
	struct wdrv	 w;
	int		 rep;		/* master's end of the repair channel */
	char		 dir[PATH_MAX];
	char		 repo[PATH_MAX];
};

/* storaged on a fresh store, its repair channel handed over first, and a
 * repository of root's in it (what a registry:2 run as root leaves). */
static void
rs_start(struct rs *s)
{
	struct passwd *pw = getpwnam("nobody");
	struct msgb mb;
	int sv[2];

	ck_assert_ptr_nonnull(pw);
	snprintf(s->dir, sizeof(s->dir), "/tmp/sdrepair.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	ck_assert_int_eq(chown(s->dir, pw->pw_uid, pw->pw_gid), 0);
	wd_spawn(&s->w, "storaged", s->dir);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	msgb_init(&mb, M_REPAIR_FD);
	msgb_fd(&mb, A_FD, sv[1]);
	wd_send(s->w.ctl, &mb, ++s->w.nextid);
	s->rep = sv[0];
	wd_conf_set(&s->w, "storage.root", s->dir);
	wd_conf_end(&s->w);
	wd_ping(&s->w);
	wd_peer(&s->w, PROC_HTTPD);
	snprintf(s->repo, sizeof(s->repo), "%s/" REPO_DIR, s->dir);
	ck_assert_int_eq(mkdir(s->repo, 0755), 0);
}

static void
rs_stop(struct rs *s)
{
	char cmd[PATH_MAX + 16];

	wd_stop(&s->w, SIGTERM);
	close(s->rep);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Send M_UPLOAD_START for r without waiting; its id. */
static uint32_t
upload_start(struct rs *s)
{
	struct msgb mb;
	uint32_t id = ++s->w.nextid;

	msgb_init(&mb, M_UPLOAD_START);
	msgb_str(&mb, A_REPO, "r");
	wd_send(s->w.fd, &mb, id);
	return id;
}

/* Receive storaged's request on the repair channel: its id. */
static uint32_t
repair_asked(struct rs *s)
{
	ck_assert_int_eq(wd_recv_wait(s->rep, 5000), 1);
	ck_assert_int_eq(wd_rep.type, M_STORE_REPAIR);
	ck_assert_msg(strncmp(msg_str(&wd_rep, A_PATH), REPO_DIR "/_uploads/",
	    strlen(REPO_DIR "/_uploads/")) == 0, "asked for %s",
	    msg_str(&wd_rep, A_PATH));
	return wd_rep.id;
}

/* Answer request id as master: M_DONE{count}, or M_ERR when count < 0. */
static void
repair_answer(struct rs *s, uint32_t id, long count)
{
	struct msgb mb;

	if (count >= 0) {
		msgb_init(&mb, M_DONE);
		msgb_u64(&mb, A_COUNT, (uint64_t)count);
	} else {
		msgb_init(&mb, M_ERR);
		msgb_u64(&mb, A_CODE, RE_TOOMANYREQUESTS);
	}
	msgb_finish(&mb, id, MSG_F_REPLY);
	ck_assert_int_eq(msg_sendfd(s->rep, mb.b.data, mb.b.len, NULL, 0),
	    (ssize_t)mb.b.len);
	msgb_free(&mb);
}

/* The reply to request id on httpd's link. */
static struct msg *
reply_to(struct rs *s, uint32_t id)
{
	do
		wd_recv(s->w.fd);
	while (wd_rep.id != id || !(wd_rep.flags & MSG_F_REPLY));
	return &wd_rep;
}

START_TEST(repaired_and_retried)
{
	struct passwd *pw = getpwnam("nobody");
	struct rs s;
	uint32_t id, rid;

	rs_start(&s);
	id = upload_start(&s);
	rid = repair_asked(&s);
	/* what master does: the repository becomes storaged's */
	ck_assert_int_eq(chown(s.repo, pw->pw_uid, pw->pw_gid), 0);
	repair_answer(&s, rid, 1);
	ck_assert_int_eq(reply_to(&s, id)->type, M_UPLOAD);
	/* writable now: the next upload asks nothing */
	id = upload_start(&s);
	ck_assert_int_eq(reply_to(&s, id)->type, M_UPLOAD);
	ck_assert_int_eq(wd_recv_wait(s.rep, 200), 0);
	rs_stop(&s);
}
END_TEST

/* Refused, or nothing changed: the write fails once, no retry, no loop. */
START_TEST(refused_fails_cleanly)
{
	static const long answers[] = { -1, 0 };
	struct rs s;
	uint32_t id;

	rs_start(&s);
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		id = upload_start(&s);
		repair_answer(&s, repair_asked(&s), answers[i]);
		ck_assert_int_eq(reply_to(&s, id)->type, M_ERR);
		ck_assert_int_eq(wd_recv_wait(s.rep, 200), 0);
	}
	wd_ping(&s.w);		/* and storaged is still there */
	rs_stop(&s);
}
END_TEST

static Suite *
repair_suite(void)
{
	Suite *s = suite_create("storaged_repair");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	if (geteuid() == 0 && getpwnam("nobody") != NULL) {
		tcase_add_test(tc, repaired_and_retried);
		tcase_add_test(tc, refused_fails_cleanly);
	}
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(repair_suite());
}
