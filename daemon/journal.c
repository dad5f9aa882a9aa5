/*
 * journal.c: log lines as native journal entries.
 *
 * syslog() would reach the journal too, but as text only; sent natively a
 * line carries SYSTEM=, INCIDENT= and LEVEL= when it is about one, so
 * that "journalctl -u rtowatchd SYSTEM=mail" finds a system's history.
 * Only the daemon does this: log.c calls it through its sink.
 *
 * The protocol is journald's native one (systemd.io/JOURNAL_NATIVE_PROTOCOL),
 * spoken here rather than through libsystemd, which would map itself and
 * five compression and crypto libraries for this one call (issue 20).
 * An entry is one datagram of fields: "NAME=value\n", or for a value with
 * a newline in it "NAME\n", its length as 64-bit little-endian, the bytes
 * and "\n".  An entry too big for a datagram goes in a sealed memfd whose
 * descriptor is the datagram's only content.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

static char	 journal_ident[64];
static int	 journal_fd = -1;

int
journal_wanted(void)
{
	return getenv("JOURNAL_STREAM") != NULL ||
	    getenv("INVOCATION_ID") != NULL;
}

/* The entry of fields F (each "NAME=value") in the native form, in *LEN. */
static char *
journal_encode(const struct iovec *f, int n, size_t *len)
{
	const char	*p, *eq;
	char		*buf, *o;
	size_t		 size = 0, name, vlen;
	uint64_t	 le;
	int		 i, b;

	for (i = 0; i < n; i++)
		size += f[i].iov_len + 1 + 8;	/* at most: length form */
	if ((buf = malloc(size == 0 ? 1 : size)) == NULL)
		return NULL;
	o = buf;
	for (i = 0; i < n; i++) {
		p = f[i].iov_base;
		if ((eq = memchr(p, '=', f[i].iov_len)) == NULL)
			continue;	/* not a field: journald drops it too */
		name = (size_t)(eq - p);
		vlen = f[i].iov_len - name - 1;
		if (memchr(eq + 1, '\n', vlen) == NULL) {
			memcpy(o, p, f[i].iov_len);
			o += f[i].iov_len;
		} else {
			memcpy(o, p, name);
			o += name;
			*o++ = '\n';
			le = (uint64_t)vlen;
			for (b = 0; b < 8; b++)
				*o++ = (char)(le >> (8 * b) & 0xff);
			memcpy(o, eq + 1, vlen);
			o += vlen;
		}
		*o++ = '\n';
	}
	*len = (size_t)(o - buf);
	return buf;
}

/*
 * BUF in a sealed memfd, whose descriptor goes to journald instead: for
 * an entry bigger than a datagram may be (the socket's send buffer).
 */
static int
journal_send_memfd(int fd, struct sockaddr_un *sun, socklen_t sunlen,
    const char *buf, size_t len)
{
	struct msghdr	 mh;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	 align;
		char		 space[CMSG_SPACE(sizeof(int))];
	} ctl;
	ssize_t		 w;
	size_t		 off;
	int		 mfd, rc = -1;

	if ((mfd = memfd_create("rtowatchd-journal", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(mfd, buf + off, len - off)) <= 0)
			goto out;
	/* journald takes only a descriptor no one can change any more. */
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1)
		goto out;
	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_name = sun;
	mh.msg_namelen = sunlen;
	mh.msg_control = ctl.space;
	mh.msg_controllen = sizeof(ctl.space);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != -1)
		rc = 0;
out:
	close(mfd);
	return rc;
}

int
journal_sendv_to(const char *path, const struct iovec *fields, int n)
{
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;
	char			*buf;
	size_t			 len;
	int			 rc = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	sunlen = (socklen_t)sizeof(sun);
	if (journal_fd == -1 && (journal_fd = socket(AF_UNIX,
	    SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if ((buf = journal_encode(fields, n, &len)) == NULL)
		return -1;
	if (sendto(journal_fd, buf, len, MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, sunlen) != -1)
		rc = 0;
	else if (errno == EMSGSIZE || errno == ENOBUFS)
		rc = journal_send_memfd(journal_fd, &sun, sunlen, buf, len);
	free(buf);
	return rc;
}

static void
journal_write(int pri, const char *msg, const struct log_fields *f)
{
	char		 prio[32], ident[96], sys[512], inc[48], lvl[32];
	char		*text;
	struct iovec	 iov[6];
	int		 n = 0;

	if (asprintf(&text, "MESSAGE=%s", msg) == -1)
		return;
	iov[n].iov_base = text;
	iov[n++].iov_len = strlen(text);
	snprintf(prio, sizeof(prio), "PRIORITY=%d", pri);
	iov[n].iov_base = prio;
	iov[n++].iov_len = strlen(prio);
	snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", journal_ident);
	iov[n].iov_base = ident;
	iov[n++].iov_len = strlen(ident);
	if (f->system != NULL) {
		snprintf(sys, sizeof(sys), "SYSTEM=%s", f->system);
		iov[n].iov_base = sys;
		iov[n++].iov_len = strlen(sys);
	}
	if (f->incident > 0) {
		snprintf(inc, sizeof(inc), "INCIDENT=%lld", f->incident);
		iov[n].iov_base = inc;
		iov[n++].iov_len = strlen(inc);
	}
	if (f->level > 0) {
		snprintf(lvl, sizeof(lvl), "LEVEL=%d", f->level);
		iov[n].iov_base = lvl;
		iov[n++].iov_len = strlen(lvl);
	}
	/* No journald after all: the line still goes somewhere. */
	if (journal_sendv_to(JOURNAL_SOCKET, iov, n) == -1)
		syslog(pri, "%s", msg);
	free(text);
}

void
journal_init(const char *ident)
{
	snprintf(journal_ident, sizeof(journal_ident), "%s", ident);
	log_set_sink(journal_write);
}
