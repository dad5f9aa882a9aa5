/*
 * test_journal.c: the journal's native protocol as daemon/journal.c sends
 * it, read back from a real datagram socket bound here the way journald
 * reads it: plain fields, a value with newlines and any bytes in the
 * length form, and an entry too big for a datagram in a sealed memfd.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"

struct sink {
	char	 dir[32], path[64];
	int	 fd;
};

static int
setup(void **state)
{
	struct sink		*s;
	struct sockaddr_un	 sun;

	s = calloc(1, sizeof(*s));
	assert_non_null(s);
	snprintf(s->dir, sizeof(s->dir), "/tmp/rtw-journal-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/socket", s->dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->path);
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(s->fd, -1);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sun,
	    sizeof(sun)), 0);
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct sink	*s = *state;

	close(s->fd);
	unlink(s->path);
	rmdir(s->dir);
	free(s);
	return 0;
}

/* One entry as journald gets it: the datagram, or the memfd it carries. */
static char *
receive(struct sink *s, size_t *len, int *via_memfd)
{
	static char	 dgram[1 << 16];
	struct msghdr	 mh;
	struct cmsghdr	*cm;
	struct iovec	 iov = { dgram, sizeof(dgram) };
	struct stat	 st;
	union {
		struct cmsghdr	 align;
		char		 space[CMSG_SPACE(sizeof(int))];
	} ctl;
	ssize_t		 n;
	char		*buf;
	int		 fd, seals;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.space;
	mh.msg_controllen = sizeof(ctl.space);
	n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	assert_true(n >= 0);
	cm = CMSG_FIRSTHDR(&mh);
	*via_memfd = cm != NULL;
	if (cm == NULL) {
		*len = (size_t)n;
		buf = malloc((size_t)n + 1);
		memcpy(buf, dgram, (size_t)n);
		return buf;
	}
	assert_int_equal(n, 0);
	assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	/* journald refuses a memfd that is not sealed. */
	seals = fcntl(fd, F_GET_SEALS);
	assert_int_equal(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE),
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	assert_int_equal(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	buf = malloc(*len + 1);
	assert_int_equal(pread(fd, buf, *len, 0), (ssize_t)*len);
	close(fd);
	return buf;
}

static struct iovec
field(char *s, size_t n)
{
	struct iovec	 v = { s, n };

	return v;
}

static void
test_plain_fields(void **state)
{
	struct sink	*s = *state;
	struct iovec	 f[3];
	const char	*want = "MESSAGE=incident 12 opened\nPRIORITY=3\n"
			    "SYSTEM=mail\n";
	char		*got;
	size_t		 len;
	int		 memfd;

	f[0] = field("MESSAGE=incident 12 opened", 26);
	f[1] = field("PRIORITY=3", 10);
	f[2] = field("SYSTEM=mail", 11);
	assert_int_equal(journal_sendv_to(s->path, f, 3), 0);
	got = receive(s, &len, &memfd);
	assert_false(memfd);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
	free(got);
}

/* "MESSAGE\n", 64-bit little-endian length, the bytes, "\n". */
static void
test_newline_and_binary_value(void **state)
{
	struct sink		*s = *state;
	static char		 msg[] = "MESSAGE=two\nlines\0and a NUL";
	struct iovec		 f[2];
	char			*got;
	size_t			 len, vlen = sizeof(msg) - 1 - 8;
	int			 memfd, i;

	f[0] = field(msg, sizeof(msg) - 1);
	f[1] = field("PRIORITY=6", 10);
	assert_int_equal(journal_sendv_to(s->path, f, 2), 0);
	got = receive(s, &len, &memfd);
	assert_int_equal(len, 8 + 8 + vlen + 1 + 11);
	assert_memory_equal(got, "MESSAGE\n", 8);
	for (i = 0; i < 8; i++)
		assert_int_equal((unsigned char)got[8 + i],
		    i == 0 ? vlen : 0);
	assert_memory_equal(got + 16, msg + 8, vlen);
	assert_memory_equal(got + 16 + vlen, "\nPRIORITY=6\n", 12);
	free(got);
}

/* Bigger than the socket takes in one datagram: by memfd. */
static void
test_big_entry_by_memfd(void **state)
{
	struct sink	*s = *state;
	struct iovec	 f[2];
	size_t		 n = 4 << 20, len;
	char		*big, *got;
	int		 memfd;

	big = malloc(n);
	memcpy(big, "MESSAGE=", 8);
	memset(big + 8, 'x', n - 8);
	f[0] = field(big, n);
	f[1] = field("PRIORITY=4", 10);
	assert_int_equal(journal_sendv_to(s->path, f, 2), 0);
	got = receive(s, &len, &memfd);
	assert_true(memfd);
	assert_int_equal(len, n + 1 + 11);
	assert_memory_equal(got, big, n);
	assert_memory_equal(got + n, "\nPRIORITY=4\n", 12);
	free(got);
	free(big);
}

static void
test_no_journal(void **state)
{
	struct iovec	 f[1];

	(void)state;
	f[0] = field("MESSAGE=x", 9);
	assert_int_equal(journal_sendv_to("/nonexistent/socket", f, 1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_newline_and_binary_value,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_entry_by_memfd, setup,
		    teardown),
		cmocka_unit_test(test_no_journal),
	};

	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
