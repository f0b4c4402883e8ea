/* test_msg.c - the message protocol: every type round-trips; broken frames
 * (truncated, oversized, unknown type, wrong descriptors, missing or extra
 * fields) are refused; links carry requests, replies and descriptors. */
#include <sys/socket.h>

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "link.h"
#include "msg.h"
#include "proc.h"
#include "unit.h"

/* Fill every field of type t with a value of its kind. */
static void
build_full(struct msgb *mb, int t)
{
	const struct msg_def *d = &msg_defs[t];

	msgb_init(mb, t);
	for (int i = 0; i < MSG_MAXFIELDS && d->fields[i].attr; i++) {
		int a = d->fields[i].attr;
		switch (msg_attr_defs[a].kind) {
		case MK_U64:
			msgb_u64(mb, a, 1000u + (unsigned)a);
			break;
		case MK_STR:
			msgb_str(mb, a, msg_attr_defs[a].name);
			break;
		case MK_BYTES:
			msgb_bytes(mb, a, "\0\1\2binary", 9);
			break;
		case MK_FD:
			msgb_fd(mb, a, open("/dev/null", O_RDONLY));
			break;
		}
	}
	msgb_finish(mb, 77, d->is_reply ? MSG_F_REPLY : 0);
}

START_TEST(every_type_round_trips)
{
	for (int t = M_INVALID + 1; t < M_MAX; t++) {
		const struct msg_def *d = &msg_defs[t];
		struct msgb mb;
		struct msg m;
		const char *err = NULL;

		build_full(&mb, t);
		ck_assert_msg(msg_decode(mb.b.data, mb.b.len, mb.fds, mb.nfds,
		    &m, &err) == 0, "%s: %s", d->name, err);
		ck_assert_int_eq(m.type, t);
		ck_assert_uint_eq(m.id, 77);
		for (int i = 0; i < MSG_MAXFIELDS && d->fields[i].attr; i++) {
			int a = d->fields[i].attr;
			ck_assert(msg_has(&m, a));
			if (msg_attr_defs[a].kind == MK_U64)
				ck_assert_uint_eq(msg_u64(&m, a, 0),
				    1000u + (unsigned)a);
			if (msg_attr_defs[a].kind == MK_STR)
				ck_assert_str_eq(msg_str(&m, a),
				    msg_attr_defs[a].name);
			if (msg_attr_defs[a].kind == MK_BYTES)
				ck_assert(m.v[a].len == 9 &&
				    memcmp(m.v[a].p, "\0\1\2binary", 9) == 0);
		}
		msgb_free(&mb);
	}
}
END_TEST

static struct msgb
sample(void)
{
	struct msgb mb;

	msgb_init(&mb, M_BLOB_STAT);
	msgb_str(&mb, A_REPO, "library/alpine");
	msgb_str(&mb, A_DIGEST, "sha256:00");
	msgb_finish(&mb, 5, 0);
	return mb;
}

static int
decode(const void *p, size_t len, const int *fds, int nfds)
{
	struct msg m;
	const char *err;

	return msg_decode(p, len, fds, nfds, &m, &err);
}

START_TEST(truncated_frames_rejected)
{
	struct msgb mb = sample();

	for (size_t n = 0; n < mb.b.len; n++)
		ck_assert_int_eq(decode(mb.b.data, n, NULL, 0), -1);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), 0);
	msgb_free(&mb);
}
END_TEST

START_TEST(length_field_must_match)
{
	struct msgb mb = sample();
	uint32_t len = (uint32_t)mb.b.len + 1;

	memcpy(mb.b.data, &len, 4);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	msgb_free(&mb);
}
END_TEST

START_TEST(oversized_frame_rejected)
{
	size_t n = MSG_MAXFRAME + 1;
	char *p = calloc(1, n);
	uint32_t len = (uint32_t)n;
	uint16_t t = M_PING;

	memcpy(p, &len, 4);
	memcpy(p + 4, &t, 2);
	ck_assert_int_eq(decode(p, n, NULL, 0), -1);
	free(p);
}
END_TEST

START_TEST(unknown_type_rejected)
{
	struct msgb mb = sample();
	uint16_t t = M_MAX;

	memcpy(mb.b.data + 4, &t, 2);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	t = 0;
	memcpy(mb.b.data + 4, &t, 2);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	msgb_free(&mb);
}
END_TEST

START_TEST(reply_flag_must_match_type)
{
	struct msgb mb = sample();
	uint16_t f = MSG_F_REPLY;

	memcpy(mb.b.data + 6, &f, 2);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	f = 0x80;
	memcpy(mb.b.data + 6, &f, 2);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	msgb_free(&mb);
}
END_TEST

START_TEST(descriptors_must_match_fields)
{
	struct msgb mb;
	int fds[2] = { 100, 101 };

	/* a descriptor the message does not claim */
	mb = sample();
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, fds, 1), -1);
	msgb_free(&mb);
	/* a descriptor field without a descriptor */
	msgb_init(&mb, M_PEER);
	msgb_u64(&mb, A_PEER, PROC_HTTPD);
	msgb_fd(&mb, A_FD, open("/dev/null", O_RDONLY));
	msgb_finish(&mb, 1, 0);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, fds, 2), -1);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, fds, 1), 0);
	msgb_free(&mb);
}
END_TEST

/* Append a raw field to a finished frame and fix its length. */
static void
append_raw(struct msgb *mb, uint16_t attr, const void *p, uint32_t len)
{
	uint32_t total;

	buf_append(&mb->b, &attr, 2);
	buf_append(&mb->b, &len, 4);
	buf_append(&mb->b, p, len);
	total = (uint32_t)mb->b.len;
	memcpy(mb->b.data, &total, 4);
}

START_TEST(fields_checked_strictly)
{
	struct msgb mb;
	uint64_t v = 1;

	mb = sample();		/* duplicate attribute */
	append_raw(&mb, A_REPO, "x", 2);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	msgb_free(&mb);
	mb = sample();		/* attribute the type does not carry */
	append_raw(&mb, A_SIZE, &v, 8);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	msgb_free(&mb);
	mb = sample();		/* unknown attribute number */
	append_raw(&mb, A_MAX + 3, &v, 8);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	msgb_free(&mb);
	msgb_init(&mb, M_UPLOAD);	/* integer of the wrong width */
	{
		uint16_t t = M_UPLOAD, f = MSG_F_REPLY;
		memcpy(mb.b.data + 4, &t, 2);
		memcpy(mb.b.data + 6, &f, 2);
	}
	append_raw(&mb, A_UUID, "u", 2);
	append_raw(&mb, A_OFFSET, &v, 4);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	msgb_free(&mb);
	msgb_init(&mb, M_BLOB_STAT);	/* required field missing */
	msgb_str(&mb, A_REPO, "a");
	mb.b.len = mb.b.len;	/* finish would abort: build header by hand */
	{
		uint32_t len = (uint32_t)mb.b.len;
		uint16_t t = M_BLOB_STAT;
		memcpy(mb.b.data, &len, 4);
		memcpy(mb.b.data + 4, &t, 2);
	}
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	msgb_free(&mb);
}
END_TEST

START_TEST(strings_need_nul_and_no_inner_nul)
{
	struct msgb mb;
	uint32_t len;
	uint16_t t = M_UPLOAD_START;

	msgb_init(&mb, M_UPLOAD_START);
	mb.b.len = MSG_HDRLEN;
	append_raw(&mb, A_REPO, "abc", 3);		/* no NUL */
	memcpy(mb.b.data + 4, &t, 2);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	mb.b.len = MSG_HDRLEN;
	append_raw(&mb, A_REPO, "a\0c", 4);		/* inner NUL */
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), -1);
	mb.b.len = MSG_HDRLEN;
	append_raw(&mb, A_REPO, "abc", 4);		/* good */
	len = (uint32_t)mb.b.len;
	memcpy(mb.b.data, &len, 4);
	ck_assert_int_eq(decode(mb.b.data, mb.b.len, NULL, 0), 0);
	msgb_free(&mb);
}
END_TEST

/* Link test: a request with a descriptor goes over a socketpair, the
 * handler answers, the reply callback sees the answer. */
static int got_reply, got_fd_ok;
static struct link *server, *client;

static void
server_request(struct link *l, struct msg *m, void *arg)
{
	struct msgb mb;
	int fd = msg_take_fd(m, A_FD);
	char c = 0;

	got_fd_ok = fd >= 0 && read(fd, &c, 1) == 1 && c == 'x';
	close(fd);
	msgb_init(&mb, M_UPLOAD);
	msgb_str(&mb, A_UUID, msg_str(m, A_UUID));
	msgb_u64(&mb, A_OFFSET, 42);
	link_reply(l, m->id, &mb);
}

static void
client_reply(struct link *l, struct msg *m, void *arg)
{
	got_reply = m && m->type == M_UPLOAD && msg_u64(m, A_OFFSET, 0) == 42;
	ev_break();
}

static const struct link_accept server_accept[] = {
	{ PROC_HTTPD, M_UPLOAD_WRITE, 0 },
	{ 0, 0, 0 }
};

static void
server_close(struct link *l, void *arg)
{
	*(int *)arg = 1;
	link_free(l);
	ev_break();
}

START_TEST(link_carries_request_reply_and_fd)
{
	int sv[2], p[2];
	struct msgb mb;

	ev_init();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	close(p[1]);
	server = link_new(sv[0], PROC_HTTPD, server_accept, server_request,
	    NULL, NULL);
	client = link_new(sv[1], PROC_STORAGED, NULL, NULL, NULL, NULL);
	msgb_init(&mb, M_UPLOAD_WRITE);
	msgb_str(&mb, A_REPO, "r");
	msgb_str(&mb, A_UUID, "u");
	msgb_u64(&mb, A_OFFSET, 0);
	msgb_fd(&mb, A_FD, p[0]);
	link_request(client, &mb, client_reply, NULL);
	ev_loop();
	ck_assert(got_fd_ok);
	ck_assert(got_reply);
	link_free(client);
	link_free(server);
}
END_TEST

START_TEST(link_refuses_unaccepted_type)
{
	int sv[2], closed = 0;
	struct msgb mb;

	ev_init();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	server = link_new(sv[0], PROC_HTTPD, server_accept, server_request,
	    server_close, &closed);
	client = link_new(sv[1], PROC_STORAGED, NULL, NULL, NULL, NULL);
	msgb_init(&mb, M_CONF_END);	/* httpd may not send this */
	link_notify(client, &mb);
	ev_loop();
	ck_assert_int_eq(closed, 1);
	link_free(client);
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, every_type_round_trips);
	tcase_add_test(tc, truncated_frames_rejected);
	tcase_add_test(tc, length_field_must_match);
	tcase_add_test(tc, oversized_frame_rejected);
	tcase_add_test(tc, unknown_type_rejected);
	tcase_add_test(tc, reply_flag_must_match_type);
	tcase_add_test(tc, descriptors_must_match_fields);
	tcase_add_test(tc, fields_checked_strictly);
	tcase_add_test(tc, strings_need_nul_and_no_inner_nul);
	tcase_add_test(tc, link_carries_request_reply_and_fd);
	tcase_add_test(tc, link_refuses_unaccepted_type);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(msg_suite());
}
