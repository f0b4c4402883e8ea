/* test_tframe.c - unit tests for lib/tframe.c: every frame type round
 * trips, every prefix of a frame asks for more, and each rule of the
 * header and payload refuses what breaks it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tframe.h"
#include "unit.h"

static uint8_t buf[TF_FRAME_MAX + 16];

/* A raw header, for frames tframe_header would refuse to make. */
static void
raw(uint8_t type, uint8_t flags, uint16_t resv, uint32_t stream, uint32_t len)
{
	buf[0] = type;
	buf[1] = flags;
	buf[2] = (uint8_t)(resv >> 8);
	buf[3] = (uint8_t)resv;
	for (int i = 0; i < 4; i++) {
		buf[4 + i] = (uint8_t)(stream >> (24 - 8 * i));
		buf[8 + i] = (uint8_t)(len >> (24 - 8 * i));
	}
}

/* tframe_parse of the first n bytes of buf must be refused. */
static void
refused(size_t n, const char *what)
{
	struct tframe f;
	const char *err;

	ck_assert_msg(tframe_parse(buf, n, &f, &err) == -1, "%s accepted",
	    what);
	ck_assert_ptr_nonnull(err);
}

/* Every strict prefix of a whole frame of n bytes wants more; all of it
 * decodes to n. */
static void
prefixes_wait(size_t n, struct tframe *f)
{
	const char *err;

	for (size_t i = 0; i < n; i++)
		ck_assert_msg(tframe_parse(buf, i, f, &err) == 0,
		    "prefix %zu of %zu: %s", i, n, err ? err : "decoded");
	ck_assert_int_eq(tframe_parse(buf, n, f, &err), (long)n);
	ck_assert_ptr_null(err);
}

START_TEST(data_round_trip)
{
	struct tframe f;
	const char *err;

	tframe_header(buf, TF_DATA, TF_F_ZLIB, 7, TF_DATA_MAX);
	memset(buf + TF_HDR, 'x', TF_DATA_MAX);
	ck_assert_int_eq(tframe_parse(buf, TF_FRAME_MAX + 3, &f, &err),
	    TF_FRAME_MAX);
	ck_assert_int_eq(f.type, TF_DATA);
	ck_assert_uint_eq(f.flags, TF_F_ZLIB);
	ck_assert_uint_eq(f.stream, 7);
	ck_assert_uint_eq(f.len, TF_DATA_MAX);
	ck_assert_ptr_eq(f.payload, buf + TF_HDR);
	tframe_header(buf, TF_DATA, 0, 0xffffffffu, 5);
	memcpy(buf + TF_HDR, "hello", 5);
	prefixes_wait(TF_HDR + 5, &f);
	ck_assert_uint_eq(f.stream, 0xffffffffu);
	ck_assert_mem_eq(f.payload, "hello", 5);
}
END_TEST

START_TEST(small_frames)
{
	struct tframe f;

	prefixes_wait(tframe_window(buf, 3, TF_WINDOW_MAX), &f);
	ck_assert_int_eq(f.type, TF_WINDOW);
	ck_assert_uint_eq(f.value, TF_WINDOW_MAX);
	prefixes_wait(tframe_ping(buf, 1, 0x0102030405060708ull), &f);
	ck_assert_int_eq(f.type, TF_PING);
	ck_assert_uint_eq(f.flags, TF_F_ACK);
	ck_assert(f.ping == 0x0102030405060708ull);
	prefixes_wait(tframe_close(buf, 9, 1, 42), &f);
	ck_assert_uint_eq(f.flags, TF_F_RST);
	ck_assert_uint_eq(f.value, 42);
	ck_assert_uint_eq(tframe_close(buf, 9, 0, 0), TF_HDR);
	prefixes_wait(TF_HDR, &f);
	ck_assert_uint_eq(f.len, 0);
	ck_assert_uint_eq(f.value, 0);
	tframe_header(buf, TF_OPEN, 0, 1, 0);
	prefixes_wait(TF_HDR, &f);
	tframe_header(buf, TF_CTRL, 0, 0, 3);
	memcpy(buf + TF_HDR, "{}\n", 3);
	prefixes_wait(TF_HDR + 3, &f);
	ck_assert_str_eq(tframe_type_name(f.type), "CTRL");
}
END_TEST

/* Two frames back to back: the first's size says where the next starts. */
START_TEST(back_to_back)
{
	struct tframe f;
	const char *err;
	size_t n = tframe_ping(buf, 0, 1);
	long k;

	n += tframe_window(buf + n, 5, 100);
	k = tframe_parse(buf, n, &f, &err);
	ck_assert_int_eq(k, TF_HDR + 8);
	ck_assert_int_eq(tframe_parse(buf + k, n - (size_t)k, &f, &err),
	    TF_HDR + 4);
	ck_assert_uint_eq(f.value, 100);
}
END_TEST

START_TEST(header_rules)
{
	raw(TF_NTYPES, 0, 0, 1, 1);
	refused(1, "an unknown type, from its first byte");
	raw(TF_DATA, TF_F_ACK, 0, 1, 1);
	refused(2, "DATA with ACK, from its second byte");
	raw(TF_DATA, 0, 1, 1, 1);
	refused(4, "reserved bytes set");
	raw(TF_DATA, 0, 0, 0, 1);
	refused(TF_HDR, "DATA on stream 0");
	raw(TF_DATA, 0, 0, 1, 0);
	refused(TF_HDR, "empty DATA");
	raw(TF_DATA, 0, 0, 1, TF_DATA_MAX + 1);
	refused(TF_HDR, "DATA over the maximum");
	raw(TF_DATA, 0, 0, 1, 0xffffffffu);
	refused(TF_HDR, "a 4 GiB length");
	raw(TF_PING, 0, 0, 1, 8);
	refused(TF_HDR, "PING on a stream");
	raw(TF_PING, 0, 0, 0, 4);
	refused(TF_HDR, "short PING");
	raw(TF_CTRL, 0, 0, 0, TF_CTRL_MAX + 1);
	refused(TF_HDR, "CTRL over the maximum");
	raw(TF_CLOSE, 0, 0, 1, 2);
	refused(TF_HDR, "CLOSE with a 2-byte code");
	raw(TF_OPEN, 0, 0, 1, TF_OPEN_MAX + 1);
	refused(TF_HDR, "OPEN over the maximum");
	raw(TF_WINDOW, 0, 0, 1, 8);
	refused(TF_HDR, "WINDOW of 8 bytes");
}
END_TEST

START_TEST(window_range)
{
	raw(TF_WINDOW, 0, 0, 1, 4);
	memset(buf + TF_HDR, 0, 4);
	refused(TF_HDR + 4, "a zero increment");
	memset(buf + TF_HDR, 0xff, 4);
	refused(TF_HDR + 4, "an increment past 2^31-1");
}
END_TEST

/* The encoder refuses to make what the decoder refuses. */
START_TEST(encoder_refuses)
{
	tframe_header(buf, TF_PING, 0, 3, 8);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("tframe");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, data_round_trip);
	tcase_add_test(tc, small_frames);
	tcase_add_test(tc, back_to_back);
	tcase_add_test(tc, header_rules);
	tcase_add_test(tc, window_range);
	tcase_add_exit_test(tc, encoder_refuses, 1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
