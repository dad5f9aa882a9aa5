/*
 * notice.c: what the engine and the clocks decide to tell people becomes
 * rows of the notifications table, one per recipient the policy names
 * for the incident's level (5.3.8).  The senders (mail, desktop) deliver
 * them from there; the engine never waits for delivery.
 */
#include <stdio.h>
#include <stdlib.h>

#include "clocks.h"
#include "store.h"
#include "util.h"

/*
 * Subject: level, incident, system and what happened.  The body says the
 * same in Traditional Chinese and English, with the detail.
 */
int
notice_queue(struct store *st, const struct policy *pol, int64_t incident,
    int level, const char *system, const char *event, const char *detail,
    int64_t now)
{
	char	*subject, *body;
	int	 r, rc = 0;

	if (level < 1 || level > POLICY_LEVELS)
		return 0;
	xasprintf(&subject, "[rtowatch] 第%d級 level %d: incident %lld, %s: "
	    "%s", level, level, (long long)incident, system, event);
	xasprintf(&body, "資安事件 %lld（%s）：%s\n"
	    "Incident %lld (%s): %s\n\n%s\n"
	    "影響等級 impact level: %d, %s\n", (long long)incident, system,
	    event, (long long)incident, system, event, detail, level,
	    policy_level_name(level));
	for (r = 0; r < pol->nrecipients && rc == 0; r++)
		if (pol->tell[level] & (1U << r))
			rc = store_notification_queue(st, incident, now,
			    pol->recipients[r], event, subject, body);
	free(subject);
	free(body);
	return rc;
}
