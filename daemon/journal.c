/*
 * journal.c: log lines as native journal entries.
 *
 * syslog() would reach the journal too, but as text only; sent natively a
 * line carries SYSTEM=, INCIDENT= and LEVEL= when it is about one, so
 * that "journalctl -u rtowatchd SYSTEM=mail" finds a system's history.
 * Only the daemon links libsystemd: log.c calls this through its sink.
 */
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "journal.h"
#include "log.h"

static char	 journal_ident[64];

int
journal_wanted(void)
{
	return getenv("JOURNAL_STREAM") != NULL ||
	    getenv("INVOCATION_ID") != NULL;
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
	if (sd_journal_sendv(iov, n) < 0)
		syslog(pri, "%s", msg);
	free(text);
}

void
journal_init(const char *ident)
{
	snprintf(journal_ident, sizeof(journal_ident), "%s", ident);
	log_set_sink(journal_write);
}
