/* SPDX-License-Identifier: MIT */
/* The control socket framing (agent/common/control.c), over socketpairs and a
 * listening socket: round trips, bounds, truncation, timeouts. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "control.h"

static int sp[2];

static void setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
}

static void teardown(void)
{
	close(sp[0]);
	close(sp[1]);
}

static void put(const void *b, size_t n)
{
	ck_assert_int_eq(write(sp[0], b, n), (ssize_t)n);
}

START_TEST(test_roundtrip)
{
	static const struct {
		uint8_t type;
		const char *payload;
	} cases[] = {
		{ CONTROL_PUSH, "\x0a\x02\x08\x01" }, { CONTROL_STATUS, "" }, { CONTROL_OK, "applied: ok" },
		{ CONTROL_FAIL, "rejected: vlan_id 5000: allowed 1..4094" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sr_err err = { "" };
		uint8_t type, *buf;
		size_t len, n = strlen(cases[i].payload);

		ck_assert_int_eq(control_send(sp[0], cases[i].type, cases[i].payload, n, 1000, &err), 0);
		ck_assert_int_eq(control_recv(sp[1], 64, 1000, &type, &buf, &len, &err), 0);
		ck_assert_uint_eq(type, cases[i].type);
		ck_assert_uint_eq(len, n);
		ck_assert_mem_eq(buf, cases[i].payload, n);
		ck_assert_int_eq(buf[n], 0);
		free(buf);
	}
}
END_TEST

START_TEST(test_wire_format)
{
	struct sr_err err = { "" };
	uint8_t got[8];

	ck_assert_int_eq(control_send(sp[0], CONTROL_PUSH, "abc", 3, 1000, &err), 0);
	ck_assert_int_eq(read(sp[1], got, sizeof(got)), 8);
	ck_assert_mem_eq(got, "\x00\x00\x00\x04" "Pabc", 8);
}
END_TEST

/* Malformed frames: {bytes written, then close?, max, expected error}. */
START_TEST(test_bad_frames)
{
	static const struct {
		const char *bytes;
		size_t n;
		size_t max;
		int want;
		const char *msg;
	} cases[] = {
		{ "\x00\x00\x00\x00P", 5, 16, -EBADMSG, "frame length 0" },
		{ "\xff\xff\xff\xffP", 5, 16 << 20, -EMSGSIZE, "allowed 0..16777216" },
		{ "\x00\x00\x00\x12P", 5, 16, -EMSGSIZE, "message of 17 bytes: allowed 0..16" },
		{ "\x00\x00\x00\x05Pab", 7, 16, -ECONNRESET, "closed before a whole message" },
		{ "\x00\x00", 2, 16, -ECONNRESET, "closed before a whole message" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sr_err err = { "" };
		uint8_t type, *buf = NULL;
		size_t len;

		teardown();
		setup();
		put(cases[i].bytes, cases[i].n);
		shutdown(sp[0], SHUT_WR);
		ck_assert_int_eq(control_recv(sp[1], cases[i].max, 1000, &type, &buf, &len, &err),
				 cases[i].want);
		ck_assert_msg(strstr(err.msg, cases[i].msg), "case %zu: %s", i, err.msg);
		ck_assert_ptr_null(buf);
	}
}
END_TEST

START_TEST(test_timeout)
{
	struct sr_err err = { "" };
	uint8_t type, *buf = NULL;
	size_t len;

	/* A client that sends half a header and then nothing. */
	put("\x00\x00", 2);
	ck_assert_int_eq(control_recv(sp[1], 16, 200, &type, &buf, &len, &err), -ETIMEDOUT);
	ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(test_listen_connect)
{
	char dir[] = "/tmp/sr-ctrl-XXXXXX", path[64];
	struct sr_err err = { "" };
	struct stat st;
	int l, c, l2;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	ck_assert_int_lt(control_connect(path, &err), 0);
	ck_assert_msg(strstr(err.msg, "is sriov-agent running?"), "%s", err.msg);
	l = control_listen(path, &err);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* A second listener on a live socket is refused. */
	ck_assert_int_eq(control_listen(path, &err), -EADDRINUSE);
	c = control_connect(path, &err);
	ck_assert_int_ge(c, 0);
	close(c);
	close(l);
	/* A stale socket file is replaced. */
	l2 = control_listen(path, &err);
	ck_assert_msg(l2 >= 0, "%s", err.msg);
	close(l2);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("framing");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_wire_format);
	tcase_add_test(tc, test_bad_frames);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_listen_connect);
	suite_add_tcase(s, tc);
	return sr_check_run(s);
}
