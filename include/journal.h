/*
 * journal.h: the daemon's log lines as journal entries with fields.
 */
#ifndef RTOWATCH_JOURNAL_H
#define RTOWATCH_JOURNAL_H

#include <sys/uio.h>

/* Under systemd (JOURNAL_STREAM or INVOCATION_ID set). */
int	journal_wanted(void);
/* From now on, log lines outside the foreground go to the journal. */
void	journal_init(const char *ident);
/*
 * One entry of N fields ("NAME=value", any bytes in the value) to the
 * journal socket at PATH, in journald's native protocol; -1 if it could
 * not be sent.  The daemon's lines go to /run/systemd/journal/socket.
 */
int	journal_sendv_to(const char *, const struct iovec *, int);

#endif
