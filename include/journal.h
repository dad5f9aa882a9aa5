/*
 * journal.h: the daemon's log lines as journal entries with fields.
 */
#ifndef RTOWATCH_JOURNAL_H
#define RTOWATCH_JOURNAL_H

/* Under systemd (JOURNAL_STREAM or INVOCATION_ID set). */
int	journal_wanted(void);
/* From now on, log lines outside the foreground go to the journal. */
void	journal_init(const char *ident);

#endif
